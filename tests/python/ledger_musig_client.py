"""Ledger's own Python client (ledger-bitcoin 0.4.2) runs a MuSig2 2-of-2 against two
simulated Ledgers: register the policy on both, get an address from both, round 1
(each device's public nonces, from the PSBT without nonces), round 2 (each device's
partial signatures, from the PSBT with every nonce). The PSBT fields are filled by the
client's own PSBT class (BIP-373).

Usage: ledger_musig_client.py PORT_A PORT_B < job.json > result.json
"""
import json
import sys

from ledger_bitcoin import Chain, TransportClient, WalletPolicy, createClient
from ledger_bitcoin.client_base import MusigPartialSignature, MusigPubNonce
from ledger_bitcoin.psbt import PSBT


def main() -> None:
    ports = [int(p) for p in sys.argv[1:3]]
    job = json.load(sys.stdin)
    clients = [createClient(TransportClient("tcp", server="127.0.0.1", port=p), chain=Chain.TEST) for p in ports]
    wallet = WalletPolicy(job["name"], job["template"], job["keys"])
    out = {"devices": []}
    hmacs = []
    for c in clients:
        name, version, _ = c.get_version()
        # register_wallet also checks the device's first address against the client's
        # own derivation (musig() replaced by the aggregate xpub).
        wallet_id, hmac = c.register_wallet(wallet)
        hmacs.append(hmac)
        out["devices"].append({
            "version": version,
            "wallet_id": wallet_id.hex(),
            "address": c.get_wallet_address(wallet, hmac, 0, 1, False),
        })

    def run(psbt_b64: str, kind):
        got = []
        for c, hmac in zip(clients, hmacs):
            for index, obj in c.sign_psbt(psbt_b64, wallet, hmac):
                if not isinstance(obj, kind):
                    raise RuntimeError(f"input {index}: {type(obj).__name__} where {kind.__name__} was expected")
                got.append((index, obj))
        return got

    psbt = PSBT()
    psbt.deserialize(job["psbt"])
    for index, n in run(job["psbt"], MusigPubNonce):
        psbt.inputs[index].musig2_pub_nonces[(n.participant_pubkey, n.aggregate_pubkey, n.tapleaf_hash)] = n.pubnonce
    out["round1"] = psbt.serialize()
    for index, s in run(out["round1"], MusigPartialSignature):
        psbt.inputs[index].musig2_partial_sigs[(s.participant_pubkey, s.aggregate_pubkey, s.tapleaf_hash)] = s.partial_signature
    out["round2"] = psbt.serialize()
    for c in clients:
        c.stop()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
