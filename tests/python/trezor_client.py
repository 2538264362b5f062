"""Trezor's own Python client (trezorlib) against hwsigner's simulated Trezor over UDP.

Usage: trezor_client.py PORT [VECTORS_DIR [PORT_ALCOHOL]]

Connects with trezorlib's UdpTransport to 127.0.0.1:PORT, reads the features, an
xpub (m/84'/0'/0'), an address and a message signature, and signs every SignTx case
of the vectors with trezorlib's btc.sign_tx; everything must equal the vectors. With
PORT_ALCOHOL (a simulator with the "alcohol woman ..." seed) it also signs the cases
of the external-input, replacement and multisig-change vectors, sending the messages
the firmware's device tests send (EXTERNAL inputs, orig_hash / orig_index, multisig
change by address_n), and checks the expected transactions or refusals.
Exits 0 when all match, 1 otherwise.
"""

import io
import json
import re
import struct
import sys
from pathlib import Path

from trezorlib import btc, messages
from trezorlib.client import get_default_client
from trezorlib.exceptions import TrezorFailure
from trezorlib.tools import b58check_decode, parse_path
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


def hd_node(xpub):
    """An xpub (any SLIP-132 version) as HDNodeType."""
    data = b58check_decode(xpub)
    return messages.HDNodeType(
        depth=data[4],
        fingerprint=int.from_bytes(data[5:9], "big"),
        child_num=int.from_bytes(data[9:13], "big"),
        chain_code=data[13:45],
        public_key=data[45:78],
    )


def multisig_of(m):
    return messages.MultisigRedeemScriptType(
        nodes=[hd_node(x) for x in m["nodes"]],
        address_n=m["address_n"],
        signatures=[b""] * len(m["nodes"]),
        m=m["m"],
    )


def flipped(value, case, index, field):
    data = bytearray.fromhex(value)
    c = case.get("corrupt")
    if c and c["input"] == index and c["field"] == field:
        data[c["byte"]] ^= 1
    return bytes(data)


def input_of(i, case=None, index=None):
    kind = getattr(messages.InputScriptType, i["script_type"])
    txi = messages.TxInputType(
        prev_hash=bytes.fromhex(i["prev_hash"]),
        prev_index=i["prev_index"],
        amount=i.get("amount"),
        script_type=kind,
        sequence=i["sequence"],
    )
    if "path" in i:
        txi.address_n = parse_path(i["path"])
    if "multisig" in i:
        txi.multisig = multisig_of(i["multisig"])
    if "script_pubkey" in i:
        txi.script_pubkey = bytes.fromhex(i["script_pubkey"])
    for field in ("script_sig", "witness", "ownership_proof"):
        if field in i:
            value = flipped(i[field], case, index, field) if case else bytes.fromhex(i[field])
            setattr(txi, field, value)
    if "orig_hash" in i:
        txi.orig_hash = bytes.fromhex(i["orig_hash"])
        txi.orig_index = i["orig_index"]
    return txi


def output_of(o):
    kind = getattr(messages.OutputScriptType, o["script_type"])
    txo = messages.TxOutputType(amount=o["amount"], script_type=kind)
    if "address" in o:
        txo.address = o["address"]
    elif "path" in o:
        txo.address_n = parse_path(o["path"])
    else:
        txo.op_return_data = bytes.fromhex(o["op_return_data"])
    if "multisig" in o:
        txo.multisig = multisig_of(o["multisig"])
    if "orig_hash" in o:
        txo.orig_hash = bytes.fromhex(o["orig_hash"])
        txo.orig_index = o["orig_index"]
    return txo


def replaced_tx(txid, r, case):
    """A replaced transaction as trezorlib streams it (TXMETA, TXORIGINPUT, TXORIGOUTPUT)."""
    inputs = []
    for k, i in enumerate(r["inputs"]):
        txi = input_of({**i, "amount": i.get("amount")})
        txi.script_sig = bytes.fromhex(i.get("script_sig", ""))
        c = case.get("corrupt_replaced")
        if c and c["txid"] == txid and c["input"] == k and txi.witness:
            w = bytearray(txi.witness)
            w[c["byte"]] ^= 1
            txi.witness = bytes(w)
        inputs.append(txi)
    return messages.TransactionType(
        version=r["version"],
        lock_time=r["lock_time"],
        inputs=inputs,
        outputs=[output_of(o) for o in r["outputs"]],
    )


def sign_feature_case(session, case):
    """Signs a case as the firmware's device test does; returns the hex or the failure."""
    inputs = [input_of(i, case, n) for n, i in enumerate(case["inputs"])]
    outputs = [output_of(o) for o in case["outputs"]]
    prev = {bytes.fromhex(h): parse_prev_tx(raw) for h, raw in case["prev_txs"].items()}
    for txid, r in case.get("replaces", {}).items():
        prev[bytes.fromhex(txid)] = replaced_tx(txid, r, case)
    try:
        _, serialized = btc.sign_tx(
            session,
            case["coin"],
            inputs,
            outputs,
            prev_txes=prev,
            version=case["version"],
            lock_time=case["lock_time"],
        )
    except TrezorFailure as e:
        return None, e
    return serialized.hex(), None


def check_feature_case(session, case):
    """None when trezorlib's run ends as the firmware's test expects, else what differs."""
    got, failure = sign_feature_case(session, case)
    want = case.get("expected_failure")
    if want:
        pattern = want["message"]
        if failure is None or not re.search(pattern, failure.message or ""):
            return f"{case['name']}: {failure or got} where {pattern!r} was expected"
        return None
    if failure is not None:
        return f"{case['name']}: {failure}"
    if got != case["expected_serialized_tx"]:
        return f"{case['name']}: {got}"
    return None


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

    if len(sys.argv) > 3:
        alcohol = get_default_client("hwsigner-test", UdpTransport(f"127.0.0.1:{int(sys.argv[3])}"))
        alcohol_session = alcohol.get_session(passphrase="")
        for name in ("sign_tx_external.json", "sign_tx_replacement.json", "sign_tx_multisig_change.json"):
            cases = load(name)
            bad = []
            for case in cases:
                s = alcohol_session if case.get("mnemonic") else session
                problem = check_feature_case(s, case)
                if problem:
                    bad.append(problem)
            failures += bad
            print(f"{name}: {len(cases) - len(bad)} of {len(cases)} as the firmware")

    if failures:
        print("FAILURES:\n" + "\n".join(failures))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
