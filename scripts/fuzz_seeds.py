#!/usr/bin/env python3
"""Writes seed corpora for the fuzz targets into fuzz/corpus/<target>/ from the test
vectors (tests/vectors) and a few built-in inputs. Usage: fuzz_seeds.py [vectors dir]."""
import ast, base64, hashlib, json, os, struct, sys

shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "vectors")
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus")

def put(target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)

def load(rel):
    try:
        with open(os.path.join(shared, rel)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return []

def listish(v):
    if isinstance(v, list):
        return v
    try:
        return ast.literal_eval(v)
    except (ValueError, SyntaxError):
        try:
            return json.loads(v)
        except ValueError:
            return []

def ledger_frames(msg):
    data, out, seq = struct.pack(">H", len(msg)) + msg, b"", 0
    while True:
        chunk, data = data[:59], data[59:]
        out += (struct.pack(">HBH", 0x0101, 5, seq) + chunk).ljust(64, b"\0")
        seq += 1
        if not data:
            return out

def trezor_packets(ty, payload):
    data, out, first = struct.pack(">HI", ty, len(payload)) + payload, b"", True
    while True:
        head = b"?##" if first else b"?"
        chunk, data = data[: 64 - len(head)], data[64 - len(head):]
        out += (head + chunk).ljust(64, b"\0")
        first = False
        if not data:
            return out

def lp(records):
    return b"".join(bytes([min(len(r), 255)]) + r[:255] for r in records)

replies, commands = [], []
for f in ["sign_psbt.json", "register_wallet.json", "get_extended_pubkey.json",
          "get_wallet_address.json", "misc.json"]:
    for v in load("ledger/" + f):
        for line in listish(v.get("exchanges", "[]")):
            try:
                b = bytes.fromhex(line[3:].strip())
            except ValueError:
                continue
            (replies if line.startswith("<=") else commands).append(b)
        policy, keys = v.get("policy"), listish(v.get("keys", "[]"))
        if policy:
            put("policy", "\n".join([policy] + keys).encode())
            desc = policy
            for i in reversed(range(len(keys))):
                k = keys[i][:-3] if keys[i].endswith("/**") else keys[i]
                desc = desc.replace("@%d/**" % i, k + "/<0;1>/*").replace("@%d" % i, k)
            put("policy", desc.encode())
        if v.get("psbt"):
            try:
                put("psbt", base64.b64decode(v["psbt"]))
            except ValueError:
                pass
for r in replies[:400]:
    put("apdu_response", r)
    put("ledger_framing", ledger_frames(r))
    if r.endswith(b"\xe0\x00"):
        put("interpreter", lp([r[:-2]]))
for c in commands[:400]:
    put("sim_ledger", lp([c]))
put("sim_ledger", lp(commands[:20]))

for v in load("trezor/sign_tx.json"):
    prev = v.get("prev_txs")
    prev = listish(prev) if isinstance(prev, str) else (prev or {})
    for raw in list(prev.values() if isinstance(prev, dict) else [])[:5]:
        try:
            b = bytes.fromhex(raw)
        except (ValueError, TypeError):
            continue
        put("trezor_framing", trezor_packets(21, b[:2000]))
        put("trezor_messages", b[:2000])
    try:
        put("psbt", bytes.fromhex(v.get("expected_serialized_tx", "")))
    except ValueError:
        pass

for p in ["m/84'/0'/0'/0/0", "m/48h/1h/0h/2h", "44'/0'/0'", "m", "m/2147483647'/1/2/3/4/5/6/7/8/9"]:
    put("path", p.encode())
put("hid_report_descriptor", bytes.fromhex("06a0ff0901a1010903150026ff007508954081080904150026ff0075089540910" "8c0"))
put("hid_report_descriptor", bytes.fromhex("06d0f10901a101092075081500" "26ff00954081020921954091" "02c0"))
put("merkle_proof", bytes.fromhex("00050003") + bytes(32 * 4))
put("trezor_framing", trezor_packets(17, b""))
put("sim_trezor", trezor_packets(0, b"") + trezor_packets(11, bytes.fromhex("0880808080081000")))
put("trezor_messages", b"\x00" + lp([b"\x00\x1e" + bytes.fromhex("0a04626331710a")]))
put("trezor_messages", b"\x02" + lp([b"\x00\x1a\x08\x01", b"\x00\x0c" + bytes.fromhex("0a0c08001000180020002a020000")]))
