//! `--help` texts: the overview and one page per command.

/// The overview (`hwsigner --help`).
pub const OVERVIEW: &str = "\
hwsigner: talk to bitcoin hardware wallets (ledger, trezor)

usage: hwsigner [--device DEVICE] [--testnet|--mainnet] [--json]
                [--passphrase-on-device] COMMAND [ARGS]

commands:
  enumerate      list the wallets plugged in
  info           vendor, model, app and version
  fingerprint    the master key fingerprint
  xpub           the extended public key at a path
  address        an address of a descriptor or wallet policy
  register       register a wallet policy (ledger)
  sign-psbt      sign a psbt
  sign-message   sign a message (bip-137)
  sample-psbt    a psbt for the simulated wallets to sign
  summary        what a psbt does (no device): amounts, fee, change, sighash
  simulate       serve a simulated ledger or trezor on an emulator socket
  hwi            hwi 3.2.0's command line and json (as the hwi binary)

--device DEVICE (anywhere before `--`; default auto):
  auto                       the first ledger on hid, else the first trezor on usb,
                             else a trezor one on hid; with none plugged in, the
                             simulated ledger (said on stderr)
  hid | usb                  the first wallet on that link
  speculos[:HOST:PORT]       a ledger on a speculos apdu socket (127.0.0.1:9999)
  trezor-udp[:HOST:PORT]     a trezor emulator on udp (127.0.0.1:21324)
  simulator:ledger           a simulated ledger in this process (test seed,
                             fingerprint f5acc2fd)
  simulator:trezor           a simulated trezor in this process (all-all-all seed,
                             fingerprint 5c9e228d)

--testnet | --mainnet: the network. the simulated ledger runs the \"bitcoin test\"
  app (tpubs, testnet addresses) by default, the \"bitcoin\" app with --mainnet;
  sample-psbt's keys are at m/84'/1'/0' by default, m/84'/0'/0' with --mainnet.
  given, it refuses keys of the other network (xpub, tpub) in --descriptor and
  --key. without it, real wallets decide: a ledger by its open app, a trezor by
  the path (m/84'/0'/0' an xpub, m/84'/1'/0' a tpub).

pin and passphrase (trezor): when the device asks, hwsigner prints a line with
  PIN (with the keypad legend) or passphrase on stderr and reads one line from
  stdin (no echo on a terminal; a pipe works too). a trezor one's pin is typed as
  the positions of its digits on the scrambled matrix the device shows (7 8 9 is
  the top row). --passphrase-on-device: a trezor t or safe takes the passphrase on
  its own screen. give a psbt to sign as a file, not on stdin, when a pin or
  passphrase must be read from it.

--json: one json object on stdout, e.g. {\"fingerprint\":\"f5acc2fd\"}, {\"xpub\":..},
  {\"address\":..}, {\"wallet_id\":..,\"hmac\":..}, {\"psbt\":..,\"tx\":..},
  {\"signature\":..}, {\"devices\":[..]}; errors also print
  {\"error\":{\"code\":..,\"message\":..}} on stdout.

exit status: 0 ok; 1 device or user error; 2 bad input (usage, psbt, path, policy).
errors print `error: CODE: MESSAGE` on stderr. `hwsigner COMMAND --help` for more.
";

/// The help page of `command`, if it is one.
pub fn page(command: &str) -> Option<&'static str> {
    Some(match command {
        "enumerate" => {
            "\
usage: hwsigner enumerate

lists the wallets plugged in, one per line, tab-separated: vendor, model,
vendor:product ids, link (hid or usb, as for --device). prints a sentence and
exits 0 when there is none.
"
        }
        "info" => {
            "\
usage: hwsigner [--device DEVICE] info

prints `vendor: `, `model: `, `app: ` (ledger) and `version: ` lines.
"
        }
        "fingerprint" => {
            "\
usage: hwsigner [--device DEVICE] fingerprint

prints the master key fingerprint (8 hex digits).
"
        }
        "xpub" => {
            "\
usage: hwsigner [--device DEVICE] xpub PATH [--display]

prints the extended public key at PATH (m/84'/0'/0', 84h/1h/0h). a trezor gives
an xpub on mainnet paths and a tpub on test ones; a ledger, a tpub from its
\"bitcoin test\" app (the simulated ledger's, unless --mainnet) and an xpub from
\"bitcoin\". --display shows it on the device.
"
        }
        "address" => {
            "\
usage: hwsigner [--device DEVICE] address --descriptor DESCRIPTOR [OPTIONS]
       hwsigner [--device DEVICE] address --template T --key K [--key K ...]
                [--name N] [--hmac HEX] [OPTIONS]

prints an address, checked against the host's own derivation.
  --descriptor D   a ranged descriptor: wpkh([f5acc2fd/84'/1'/0']tpub.../0/*)
  --template T     a bip-388 template (wpkh(@0/**)) with its --key strings,
                   and for a registered policy its --name and --hmac (ledger)
  --index N        address index (default 0)
  --change         the change branch
  --display        show it on the device for the user to check
  --allow-unverified  take the device's address where the host cannot derive the
                   policy's to compare (refused otherwise; a warning on stderr)
"
        }
        "register" => {
            "\
usage: hwsigner [--device DEVICE] register --name N --template T --key K [--key K ...]

registers a bip-388 wallet policy after the user approves it (ledger; a trezor
answers `unsupported`). prints two lines: `wallet-id HEX` and `hmac HEX`; pass
the hmac back with --hmac to address and sign-psbt.
"
        }
        "sign-psbt" => {
            "\
usage: hwsigner [--device DEVICE] sign-psbt FILE|- [--finalize]
                [--template T --key K [--key K ...] [--name N] [--hmac HEX]]
                [--allow-non-default-sighash] [--replaces TXHEX ...]

reads a psbt (base64 or binary, v0 or v2) from FILE, or stdin for -, and signs
it. stdout: the signed psbt in base64 on one line; with --finalize, the psbt is
finalized and a second line holds the final transaction in hex. progress
(confirm on the device, signing i/n) goes to stderr. without --template the
policy is inferred from the psbt's key derivations. an input that asks for a
sighash other than all/default (none, single, anyonecanpay) is refused unless
--allow-non-default-sighash is given (a trezor signs none of them). --replaces
gives a signed transaction (hex) that this one replaces (a fee bump, a payjoin;
repeat it for several): a trezor then shows what changed rather than a new
payment; a ledger refuses it.

musig2 (a template with musig(), ledger bitcoin app 2.4+): each device signs
twice. round 1 adds its public nonces (pass the psbt from device to device);
once every participant's nonces are in, round 2 adds its partial signatures,
each verified. the last signer's --finalize aggregates them into the schnorr
signature. a device keeps its round-1 session until its round 2, so use a real
device or `hwsigner simulate ledger`, not simulator:ledger, across the calls.
"
        }
        "sign-message" => {
            "\
usage: hwsigner [--device DEVICE] sign-message PATH MESSAGE

prints the bip-137 signature (base64) of MESSAGE by the key at PATH.
"
        }
        "summary" => {
            "\
usage: hwsigner summary FILE|- [--fingerprint F] [--template T --key K [--key K ...]]

prints what a psbt (base64 or binary) does, one line per input and output, then
the fee and warnings; needs no device. an input amount is \"verified\" when its
previous transaction is in the psbt (or every input is taproot), else it is the
psbt's word; the fee is verified when every amount is. with --fingerprint (the
device's, 8 hex digits), an output is \"change\" only when its script is built
from a key with that fingerprint (or, with --template/--key, the wallet
policy's); one that only carries the fingerprint is flagged. every input's
sighash is shown (sign-psbt refuses all but all/default by default).
"
        }
        "sample-psbt" => {
            "\
usage: hwsigner [--device simulator:ledger|simulator:trezor] [--mainnet] sample-psbt
                [--inputs N] [--template T --key K [--key K ...] [--name N]]

prints a psbt (base64) that the simulated wallet signs: it spends N (default 2)
made-up coins of the wallet wpkh(@0/**) at m/84'/1'/0' of the simulator's seed
(m/84'/0'/0' with --mainnet) to a foreign address, with change back. needs no
device. then: hwsigner --device simulator:ledger sign-psbt - --finalize
with --template and --key, the coins are the policy's instead (any bip-388
policy, musig() included: the psbt then has the bip-373 participant lists).
"
        }
        "simulate" => {
            "\
usage: hwsigner [--mainnet] [--json] simulate ledger|trezor [--port N] [--host H]
                [--mnemonic M] [--model one|t|safe7] [--pin PIN] [--passphrase]
                [--device-passphrase P]

serves a simulated wallet that really signs, until stopped:
  ledger   on a speculos apdu socket (default 127.0.0.1:9999; seed fingerprint
           f5acc2fd; the \"bitcoin test\" app, or \"bitcoin\" with --mainnet)
  trezor   on udp like the trezor emulator (default 127.0.0.1:21324; the
           all-all-all seed, fingerprint 5c9e228d)
the simulated trezor is a model t (firmware 2.8.0) or, with --model one, a trezor
one (1.14.1). --pin protects it: the one asks the host for the positions on a
scrambled matrix, which it prints on stderr (\"pin matrix: 3 9 1 / 8 2 4 / 6 7 5\",
rows top to bottom); the t takes the pin on its screen. --passphrase turns
passphrase protection on; --device-passphrase is what its user types on the
device (a t only; default empty). with --model safe7 it is a trezor safe 7
speaking only the trezor host protocol (thp): a new host pairs by typing the
6-digit code it prints on stderr (\"pairing code: 123456\"); hwsigner reads it
from stdin after a line containing \"pairing code\" and keeps the credential in
its config dir (hwsigner/thp-credentials), so the next run does not pair.
then: hwsigner --device speculos:127.0.0.1:9999 fingerprint
with --json, a line {\"simulator\":..,\"device\":..} on stdout once it listens.
"
        }
        _ => return None,
    })
}
