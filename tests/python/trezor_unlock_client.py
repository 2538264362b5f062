"""Trezor's own Python client (trezorlib) unlocks hwsigner's simulated Trezor with its
own PIN and passphrase callbacks, over UDP.

Usage: trezor_unlock_client.py PORT one|t

- one: a Trezor One with PIN 1234 and passphrase protection. The PIN callback reads the
  scrambled matrix off the simulated screen (the simulator's `MATRIX??` datagram) and
  answers the positions, first of a wrong PIN (trezorlib must raise PinException), then
  of the right one; the passphrase callback answers "TREZOR".
- t: a Model T with PIN 1234 (entered on the device) and passphrase protection, whose
  user types "TREZOR" on the device: trezorlib picks on-device entry by itself.

Prints one JSON object: {"model", "wrong_pin", "fingerprint", "address", "relocked"}.
"""

import json
import socket
import sys

from trezorlib import btc, exceptions, messages
from trezorlib.client import get_default_client, get_default_session
from trezorlib.tools import parse_path
from trezorlib.transport.udp import UdpTransport


def read_matrix(port):
    """The PIN matrix the simulated device shows, in reading order."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(b"MATRIX??", ("127.0.0.1", port))
    data, _ = s.recvfrom(64)
    assert data.startswith(b"MATRIX") and data != b"MATRIX--", data
    return [int(c) for c in data[6:].decode()]


def positions(pin, matrix):
    """The keypad positions (7 8 9 top row) of the PIN's digits on the matrix."""
    out = ""
    for digit in pin:
        cell = matrix.index(int(digit))
        row, col = divmod(cell, 3)
        out += str(7 - 3 * row + col)
    return out


def main():
    port, model = int(sys.argv[1]), sys.argv[2]
    pins = ["4321", "1234"] if model == "one" else []
    asked = []

    def pin_callback(request):
        asked.append(request.type)
        return positions(pins.pop(0), read_matrix(port))

    client = get_default_client("hwsigner-test", UdpTransport(f"127.0.0.1:{port}"), pin_callback=pin_callback)
    out = {"model": client.features.model}
    if model == "one":
        try:
            client.ensure_unlocked()
            out["wrong_pin"] = "accepted"
        except exceptions.PinException as e:
            out["wrong_pin"] = messages.FailureType(e.args[0]).name
    client.ensure_unlocked()
    session = get_default_session(client, passphrase_callback=lambda: "TREZOR")
    out["fingerprint"] = session.get_root_fingerprint().hex()
    out["address"] = btc.get_address(
        session, "Bitcoin", parse_path("m/84h/0h/0h/0/0"), script_type=messages.InputScriptType.SPENDWITNESS
    )
    out["pin_requests"] = asked
    # Locked again: the next session asks for the PIN again (on the one).
    client.lock()
    out["relocked"] = client.features.unlocked is False
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
