"""Trezor's own Python client (trezorlib) timed against hwsigner's simulated Trezor.

Usage: trezorlib_bench.py PORT CONTROL_PORT JOBS_JSON RUNS

examples/bench.rs serves the simulator on UDP PORT and its counters on CONTROL_PORT
(any datagram there is answered with the messages, bytes and simulator time since the
last ask, as JSON). For each job (a SignTx in the shape of tests/python/trezor_client.py)
this signs once to warm up, then RUNS times, each checked against the transaction
hwsigner produced. Prints a JSON list: [{inputs, trezorlib: {...medians}}].
"""

import json
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))

from trezor_client import sign_case  # noqa: E402
from trezorlib.client import get_default_client  # noqa: E402
from trezorlib.transport.udp import UdpTransport  # noqa: E402


def counters(control):
    control.send(b"?")
    return json.loads(control.recv(4096))


def main():
    port, control_port, jobs_file, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    jobs = json.loads(Path(jobs_file).read_text())
    control = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    control.connect(("127.0.0.1", control_port))
    control.settimeout(5)
    client = get_default_client("hwsigner-bench", UdpTransport(f"127.0.0.1:{port}"))
    session = client.get_session(passphrase="")
    out = []
    for entry in jobs:
        job = entry["job"]
        if sign_case(session, job) != job["expected_serialized_tx"]:
            raise SystemExit(f"{entry['inputs']} inputs: trezorlib's transaction differs from hwsigner's")
        total, host, sim, cpu = [], [], [], []
        for _ in range(runs):
            counters(control)
            t0, c0 = time.perf_counter(), time.thread_time()
            tx = sign_case(session, job)
            elapsed, c1 = (time.perf_counter() - t0) * 1e3, time.thread_time()
            cpu.append((c1 - c0) * 1e3)
            c = counters(control)
            if tx != job["expected_serialized_tx"]:
                raise SystemExit(f"{entry['inputs']} inputs: a run gave another transaction")
            total.append(elapsed)
            sim.append(c["simMs"])
            host.append(elapsed - c["simMs"])
        out.append({
            "inputs": entry["inputs"],
            "script": entry["script"],
            "trezorlib": {
                "totalMs": statistics.median(total),
                "hostMs": statistics.median(host),
                "hostCpuMs": statistics.median(cpu),
                "simMs": statistics.median(sim),
                "requests": c["requests"],
                "replies": c["replies"],
                "bytesOut": c["bytesOut"],
                "bytesIn": c["bytesIn"],
            },
        })
    print(json.dumps(out))


if __name__ == "__main__":
    main()
