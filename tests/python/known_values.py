"""Prints the known values of tests/common/known.rs, computed by embit (not by hwsigner).

Run in a throwaway venv: `python3 -m venv /tmp/v && /tmp/v/bin/pip install embit==0.8.0 &&
/tmp/v/bin/python tests/python/known_values.py`. The tests only read the constants; this
script says where they came from and regenerates them.
"""

import base64
import hashlib

from embit import bip32, bip39
from embit.descriptor import Descriptor
from embit.networks import NETWORKS
from embit.util import secp256k1

SPECULOS = (
    "glory promote mansion idle axis finger extra february uncover one trip resource lawn "
    "turtle enact monster seven myth punch hobby comfort wild raise skin"
)
TREZOR = "all all all all all all all all all all all all"


def root(mnemonic, passphrase=""):
    return bip32.HDKey.from_seed(bip39.mnemonic_to_seed(mnemonic, passphrase))


S, T = root(SPECULOS), root(TREZOR)


def ext(r, path, net="test"):
    return r.derive(path).to_public().to_base58(version=NETWORKS[net]["xpub"])


def key(r, path):
    origin = path[2:].replace("h", "'")
    return "[%s/%s]%s" % (r.my_fingerprint.hex(), origin, ext(r, path))


def address(descriptor, index):
    return Descriptor.from_string(descriptor).derive(index).address(NETWORKS["test"])


def const(name, value):
    print('pub const %s: &str = "%s";' % (name, value))


const("SPECULOS_FPR", S.my_fingerprint.hex())
const("TREZOR_FPR", T.my_fingerprint.hex())
const("TREZOR_FPR_PASSPHRASE_TREZOR", root(TREZOR, "TREZOR").my_fingerprint.hex())
const("SPECULOS_84_1_0", ext(S, "m/84h/1h/0h"))
const("SPECULOS_86_1_0", ext(S, "m/86h/1h/0h"))
const("SPECULOS_48_1_0_2", ext(S, "m/48h/1h/0h/2h"))
const("SPECULOS_84_1_0_1_9", ext(S, "m/84h/1h/0h/1/9"))
const("SPECULOS_44_0_0_0_0_TEST", ext(S, "m/44h/0h/0h/0/0"))
const("SPECULOS_44_0_0_0_0_MAIN", ext(S, "m/44h/0h/0h/0/0", "main"))
const("SPECULOS_44_0_0_0_1_MAIN", ext(S, "m/44h/0h/0h/0/1", "main"))
const("SPECULOS_84_0_0_MAIN", ext(S, "m/84h/0h/0h", "main"))
const("TREZOR_84_1_0", ext(T, "m/84h/1h/0h"))
const("TREZOR_48_1_0_2", ext(T, "m/48h/1h/0h/2h"))

me, other = key(S, "m/84h/1h/0h"), key(T, "m/84h/1h/0h")
const("SPECULOS_WPKH_0_0", address("wpkh(%s/0/*)" % me, 0))
const("SPECULOS_WPKH_0_3", address("wpkh(%s/0/*)" % me, 3))
const("SPECULOS_WPKH_0_4", address("wpkh(%s/0/*)" % me, 4))
const("TREZOR_WPKH_0_3", address("wpkh(%s/0/*)" % other, 3))
const("TREZOR_WPKH_0_4", address("wpkh(%s/0/*)" % other, 4))

# The policies of tests/common/fund.rs `test_policies`, receive address 1.
m48, o48 = key(S, "m/48h/1h/0h/2h"), key(T, "m/48h/1h/0h/2h")
policies = [
    ("wpkh", "wpkh(%s/0/*)" % key(S, "m/84h/1h/0h")),
    ("sh(wpkh)", "sh(wpkh(%s/0/*))" % key(S, "m/49h/1h/0h")),
    ("pkh", "pkh(%s/0/*)" % key(S, "m/44h/1h/0h")),
    ("tr", "tr(%s/0/*)" % key(S, "m/86h/1h/0h")),
    ("wsh(sortedmulti)", "wsh(sortedmulti(2,%s/0/*,%s/0/*))" % (m48, o48)),
    ("miniscript", "wsh(or_d(pk(%s/0/*),and_v(v:pkh(%s/0/*),older(100))))" % (m48, o48)),
    ("tr script path", "tr(%s/0/*,pk(%s/0/*))" % (o48, m48)),
]
print("pub const TEST_POLICY_ADDRESSES_1: [(&str, &str); %d] = [" % len(policies))
for label, descriptor in policies:
    print('    ("%s", "%s"),' % (label, address(descriptor, 1)))
print("];")


def sign_message(r, path, message, header):
    """BIP-137: RFC 6979 recoverable ECDSA; header 31 (P2PKH, compressed key) or 39
    (P2WPKH): hwsigner gives both vendors' signatures the header of the path's purpose
    (84' P2WPKH, 49' P2SH-P2WPKH, others P2PKH)."""
    prefixed = b"\x18Bitcoin Signed Message:\n" + bytes([len(message)]) + message
    digest = hashlib.sha256(hashlib.sha256(prefixed).digest()).digest()
    sig = secp256k1.ecdsa_sign_recoverable(digest, r.derive(path).key.secret)
    compact, recid = secp256k1.ecdsa_recoverable_signature_serialize_compact(sig)
    return base64.b64encode(bytes([header + recid]) + compact).decode()


# Checks the method on the recorded Ledger vector (../shared/ledger-vectors/misc.json).
assert sign_message(S, "m/44h/1h/0h/0", b"hello", 31) == (
    "IL3u9GLAzgG5BdtSBqUe0Fo2Zx0UlKwSsYx2TbuVX0VULFgZYRBQCW0W7QOlsB/JgGwWNhl3eYYjXtdfyR7pM+Y="
)
const("SPECULOS_HELLO_84_1_0_0_0", sign_message(S, "m/84h/1h/0h/0/0", b"hello", 39))
const("SPECULOS_HELLO_84_1_0_1_9", sign_message(S, "m/84h/1h/0h/1/9", b"hello", 39))
const("SPECULOS_HELLO_44_0_0_0_0", sign_message(S, "m/44h/0h/0h/0/0", b"hello", 31))
const("TREZOR_HELLO_84_1_0_0_0", sign_message(T, "m/84h/1h/0h/0/0", b"hello", 39))

even = [ext(S, "m/84h/1h/%dh" % i) for i in range(0, 100, 2)]
print("pub const SPECULOS_84_1_EVEN: [&str; %d] = [" % len(even))
for x in even:
    print('    "%s",' % x)
print("];")
