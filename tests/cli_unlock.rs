//! The command line unlocks a simulated Trezor One with a PIN and a passphrase, read
//! from stdin as trezorctl does (a pipe here), and a model T with the passphrase typed
//! on the device; a wrong PIN is the typed error and the next right one works.
#![cfg(feature = "cli")]

#[path = "common/simulate.rs"]
mod simulate;

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use simulate::{simulate, Simulated};

use hwsigner::sim::trezor::pin_positions;

const BIN: &str = env!("CARGO_BIN_EXE_hwsigner");
/// The "all" x 12 seed's master fingerprints, computed outside this crate (python
/// `mnemonic` + `cryptography`).
const FPR: &str = "5c9e228d";
const FPR_TREZOR_PASSPHRASE: &str = "4b854ccf";

/// The next PIN matrix the simulator shows, in reading order.
fn matrix(sim: &Simulated) -> [u8; 9] {
    let digits: Vec<u8> = sim
        .shows("pin matrix: ")
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| d as u8)
        .collect();
    digits.try_into().unwrap()
}

fn trezor(args: &[&str]) -> Simulated {
    simulate(BIN, "trezor", args)
}

/// Runs `hwsigner` against the simulator; `answer` is called with what the cli wrote
/// on stderr since the last answer each time it asks something, and gives the line to
/// type.
fn cli(
    sim: &Simulated,
    args: &[&str],
    mut answer: impl FnMut(&str) -> String,
) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(["--device", &sim.device])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = String::new();
    let mut answered = 0;
    let mut buf = [0u8; 256];
    loop {
        let n = stderr.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        if seen.ends_with(": ") {
            let line = answer(&seen[answered..]);
            answered = seen.len();
            writeln!(stdin, "{line}").unwrap();
        }
    }
    drop(stdin);
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let code = child.wait().unwrap().code().unwrap();
    (code, stdout.trim().to_string(), seen)
}

#[test]
fn the_cli_unlocks_a_power_cycled_trezor_one_from_stdin() {
    let sim = trezor(&["--model", "one", "--pin", "1234", "--passphrase"]);
    let mut asked = Vec::new();
    let (code, out, err) = cli(&sim, &["fingerprint"], |stderr| {
        let last = stderr.lines().last().unwrap_or_default().to_string();
        asked.push(last.clone());
        if last.contains("PIN") {
            assert!(stderr.contains("7 8 9"), "the legend: {stderr}");
            pin_positions("1234", &matrix(&sim)).unwrap()
        } else {
            assert!(last.contains("passphrase"), "{stderr}");
            "TREZOR".into()
        }
    });
    assert_eq!((code, out.as_str()), (0, FPR_TREZOR_PASSPHRASE), "{err}");
    assert_eq!(asked.len(), 2, "{asked:?}");

    // A wrong pin: the typed error, exit 1, asked once.
    let sim = trezor(&["--model", "one", "--pin", "1234"]);
    let mut asked = 0;
    let (code, _, err) = cli(&sim, &["fingerprint"], |_| {
        asked += 1;
        pin_positions("4321", &matrix(&sim)).unwrap()
    });
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("wrong-pin"), "{err}");
    assert_eq!(asked, 1);
    // The next right one works (after the firmware's delay).
    let (code, out, err) = cli(&sim, &["--json", "fingerprint"], |_| {
        pin_positions("1234", &matrix(&sim)).unwrap()
    });
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("{{\"fingerprint\":\"{FPR}\"}}"));
}

#[test]
fn the_cli_lets_a_model_t_take_the_passphrase_on_the_device() {
    let sim = trezor(&[
        "--pin",
        "1234",
        "--passphrase",
        "--device-passphrase",
        "TREZOR",
    ]);
    let (code, out, err) = cli(&sim, &["--passphrase-on-device", "fingerprint"], |s| {
        panic!("nothing is typed on the host: {s}")
    });
    assert_eq!((code, out.as_str()), (0, FPR_TREZOR_PASSPHRASE), "{err}");
    assert!(err.contains("enter the pin on the device"), "{err}");
    assert!(err.contains("enter the passphrase on the device"), "{err}");
}

#[test]
fn without_an_answer_on_stdin_the_call_ends_clearly() {
    let sim = trezor(&["--model", "one", "--pin", "1234"]);
    let out = Command::new(BIN)
        .args(["--device", &sim.device, "fingerprint"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PIN"), "{err}");
    assert!(err.contains("cancelled"), "{err}");
}
