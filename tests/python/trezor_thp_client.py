"""Trezor's own Python client (trezorlib 0.20.2, its THP client) against hwsigner's
simulated Trezor Safe 7 over UDP.

Usage: trezor_thp_client.py PORT [VECTORS_DIR]

trezorlib probes the device (codec v1 refused: THP), allocates a channel, runs the
Noise handshake, pairs by code entry (the code read off the simulated screen through
the simulator's `CODE????` datagram, as a user reads it), asks for a credential, and
signs the SignTx vectors in a session. Then it connects again with the credential:
no pairing, and signs again.

Prints one JSON object.
"""

import json
import socket
import sys
from pathlib import Path

from trezorlib import btc, messages
from trezorlib.client import AppManifest, get_client
from trezorlib.thp.client import TrezorClientThp
from trezorlib.thp.pairing import default_pairing_flow
from trezorlib.tools import parse_path
from trezorlib.transport.udp import UdpTransport

sys.path.insert(0, str(Path(__file__).resolve().parent))
from trezor_client import sign_case  # noqa: E402


def read_code(port):
    """The pairing code the simulated Safe 7 shows."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(b"CODE????", ("127.0.0.1", port))
    data, _ = s.recvfrom(64)
    assert data.startswith(b"CODE") and data != b"CODE--", data
    return data[4:].decode()


def main():
    port = int(sys.argv[1])
    here = Path(__file__).resolve()
    vectors = Path(sys.argv[2]) if len(sys.argv) > 2 else here.parents[1] / "vectors" / "trezor"
    cases = json.loads((vectors / "sign_tx.json").read_text())
    out = {}
    codes = []

    def code_entry():
        code = read_code(port)
        codes.append(code)
        return code

    app = AppManifest(app_name="hwsigner-test", host_name="judge")
    client = get_client(app, UdpTransport(f"127.0.0.1:{port}"))
    out["thp"] = isinstance(client, TrezorClientThp)
    out["channel"] = client.channel.channel_id
    out["paired_before"] = client.pairing.is_paired()
    credential = default_pairing_flow(client.pairing, code_entry_callback=code_entry, request_credential=True)
    out["codes"] = codes
    out["model"] = client.features.model
    session = client.get_session(passphrase="")
    out["fingerprint"] = session.get_root_fingerprint().hex()
    out["address"] = btc.get_address(
        session, "Bitcoin", parse_path("m/84h/0h/0h/0/0"), script_type=messages.InputScriptType.SPENDWITNESS
    )
    out["signed"] = [c["name"] for c in cases if sign_case(session, c) == c["expected_serialized_tx"]]

    # Again, with the credential: paired at once.
    app = AppManifest(app_name="hwsigner-test", host_name="judge", credentials=[credential])
    client = get_client(app, UdpTransport(f"127.0.0.1:{port}"))
    client.connect()
    out["reconnected_paired"] = client.pairing.is_paired()
    session = client.get_session(passphrase="")
    case = cases[0]
    out["signed_after_reconnect"] = sign_case(session, case) == case["expected_serialized_tx"]
    out["codes_total"] = len(codes)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
