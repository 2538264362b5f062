"""Ledger's own Python client (ledger-bitcoin) against hwsigner's simulated Ledger.

Usage: ledger_client.py PORT < job.json > result.json

The job names the xpub path, the message to sign and the policies (with PSBTs) to
sign; the result holds what the client got, for the Rust test to check.
"""
import json
import sys

from ledger_bitcoin import Chain, TransportClient, WalletPolicy, createClient


def main() -> None:
    port = int(sys.argv[1])
    job = json.load(sys.stdin)
    client = createClient(TransportClient("tcp", server="127.0.0.1", port=port), chain=Chain.TEST)
    out = {}
    name, version, flags = client.get_version()
    out["version"] = [name, version, flags.hex()]
    out["fingerprint"] = client.get_master_fingerprint().hex()
    out["xpub"] = client.get_extended_pubkey(job["xpub_path"], display=False)
    out["message_signature"] = client.sign_message(job["message"], job["message_path"])
    out["policies"] = []
    for p in job["policies"]:
        wallet = WalletPolicy(p["name"], p["template"], p["keys"])
        result = {"name": p["label"]}
        hmac = None
        if p["register"]:
            wallet_id, hmac = client.register_wallet(wallet)
            result["wallet_id"] = wallet_id.hex()
            result["hmac"] = hmac.hex()
        result["address"] = client.get_wallet_address(wallet, hmac, 0, 1, False)
        sigs = client.sign_psbt(p["psbt"], wallet, hmac)
        result["signatures"] = [
            {
                "index": index,
                "pubkey": sig.pubkey.hex(),
                "tapleaf_hash": sig.tapleaf_hash.hex() if sig.tapleaf_hash else None,
                "signature": sig.signature.hex(),
            }
            for index, sig in sigs
        ]
        out["policies"].append(result)
    client.stop()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
