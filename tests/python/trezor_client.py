"""Trezor's own Python client (trezorlib) against hwsigner's simulated Trezor over UDP.

Usage: trezor_client.py PORT [VECTORS_DIR]

Connects with trezorlib's UdpTransport to 127.0.0.1:PORT, reads the features, an
xpub (m/84'/0'/0'), an address and a message signature, and signs every SignTx case
of the vectors with trezorlib's btc.sign_tx; everything must equal the vectors.
Exits 0 when all match, 1 otherwise.
"""

import io
import json
import struct
import sys
from pathlib import Path

from trezorlib import btc, messages
from trezorlib.client import get_default_client
from trezorlib.tools import parse_path
from trezorlib.transport.udp import UdpTransport


def varint(f):
    n = f.read(1)[0]
    if n < 0xFD:
        return n
    size = {0xFD: 2, 0xFE: 4, 0xFF: 8}[n]
    return int.from_bytes(f.read(size), "little")


def parse_prev_tx(raw_hex):
    """A non-witness serialized transaction as trezorlib's TransactionType."""
    f = io.BytesIO(bytes.fromhex(raw_hex))
    version = struct.unpack("<I", f.read(4))[0]
    inputs = []
    for _ in range(varint(f)):
        prev_hash = f.read(32)[::-1]
        prev_index = struct.unpack("<I", f.read(4))[0]
        script_sig = f.read(varint(f))
        sequence = struct.unpack("<I", f.read(4))[0]
        inputs.append(
            messages.TxInputType(
                prev_hash=prev_hash,
                prev_index=prev_index,
                script_sig=script_sig,
                sequence=sequence,
            )
        )
    outputs = []
    for _ in range(varint(f)):
        amount = struct.unpack("<Q", f.read(8))[0]
        script = f.read(varint(f))
        outputs.append(messages.TxOutputBinType(amount=amount, script_pubkey=script))
    lock_time = struct.unpack("<I", f.read(4))[0]
    assert not f.read(), "trailing bytes in a previous transaction"
    return messages.TransactionType(
        version=version, inputs=inputs, bin_outputs=outputs, lock_time=lock_time
    )


def sign_case(session, case):
    inputs = [
        messages.TxInputType(
            address_n=parse_path(i["path"]),
            prev_hash=bytes.fromhex(i["prev_hash"]),
            prev_index=i["prev_index"],
            amount=i["amount"],
            script_type=getattr(messages.InputScriptType, i["script_type"]),
            sequence=i["sequence"],
        )
        for i in case["inputs"]
    ]
    outputs = []
    for o in case["outputs"]:
        kind = getattr(messages.OutputScriptType, o["script_type"])
        if "address" in o:
            outputs.append(messages.TxOutputType(address=o["address"], amount=o["amount"], script_type=kind))
        elif "path" in o:
            outputs.append(messages.TxOutputType(address_n=parse_path(o["path"]), amount=o["amount"], script_type=kind))
        else:
            outputs.append(
                messages.TxOutputType(
                    op_return_data=bytes.fromhex(o["op_return_data"]), amount=o["amount"], script_type=kind
                )
            )
    prev = {bytes.fromhex(h): parse_prev_tx(raw) for h, raw in case["prev_txs"].items()}
    _, serialized = btc.sign_tx(
        session,
        case["coin"],
        inputs,
        outputs,
        prev_txes=prev,
        version=case["version"],
        lock_time=case["lock_time"],
    )
    return serialized.hex()


def main():
    port = int(sys.argv[1])
    here = Path(__file__).resolve()
    vectors = Path(sys.argv[2]) if len(sys.argv) > 2 else here.parents[1] / "vectors" / "trezor"
    load = lambda name: json.loads((vectors / name).read_text())
    failures = []

    transport = UdpTransport(f"127.0.0.1:{port}")
    client = get_default_client("hwsigner-test", transport)
    session = client.get_session(passphrase="")
    features = client.features
    if features.vendor != "trezor.io" or not features.initialized:
        failures.append(f"features: {features.vendor} initialized={features.initialized}")
    print(f"features: {features.vendor} model {features.model} {features.major_version}.{features.minor_version}.{features.patch_version}")

    want = next(
        c for c in load("public_keys.json")
        if c.get("path") == "m/84'/0'/0'" and c.get("script_type") == "SPENDWITNESS" and c.get("ignore_xpub_magic")
    )
    node = btc.get_public_node(
        session, parse_path("m/84h/0h/0h"), coin_name="Bitcoin",
        script_type=messages.InputScriptType.SPENDWITNESS, ignore_xpub_magic=True,
    )
    if node.xpub != want["xpub"] or node.descriptor != want.get("descriptor"):
        failures.append(f"xpub: {node.xpub} {node.descriptor}")
    print(f"xpub m/84'/0'/0': {node.xpub}")

    want = next(c for c in load("addresses.json") if c["path"] == "m/84'/0'/0'/0/0")
    address = btc.get_address(
        session, "Bitcoin", parse_path("m/84h/0h/0h/0/0"), script_type=messages.InputScriptType.SPENDWITNESS
    )
    if address != want["address"]:
        failures.append(f"address: {address} != {want['address']}")
    print(f"address m/84'/0'/0'/0/0: {address}")

    want = load("sign_message.json")[0]
    sig = btc.sign_message(session, want["coin"], parse_path(want["path"]), bytes.fromhex(want["message_hex"]))
    if sig.signature.hex() != want["signature_hex"] or sig.address != want["address"]:
        failures.append(f"message signature: {sig.signature.hex()}")
    print(f"message signature: {sig.signature.hex()[:20]}...")

    cases = load("sign_tx.json")
    for case in cases:
        got = sign_case(session, case)
        if got != case["expected_serialized_tx"]:
            failures.append(f"{case['name']}: {got}")
    print(f"sign_tx: {len(cases) - sum(1 for f in failures if f.startswith('test_'))} of {len(cases)} match")

    if failures:
        print("FAILURES:\n" + "\n".join(failures))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
