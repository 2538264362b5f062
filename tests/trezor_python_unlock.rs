//! trezorlib (PyPI `trezor`, in .tools/venv) unlocks the simulated Trezor with its own
//! PIN and passphrase callbacks, over UDP: a Trezor One (matrix on the host, a wrong
//! PIN first) and a Model T (PIN and passphrase on the device).
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/peers.rs"]
mod peers;

use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;

use hwsigner::sim::seed::TREZOR_TEST_MNEMONIC;
use hwsigner::sim::trezor::{serve_socket, Model, TrezorSim};
use serde_json::Value;

/// The "all" x 12 seed with the passphrase "TREZOR": its master fingerprint, and the
/// address at m/84'/0'/0'/0/0, computed outside this crate (python `mnemonic`,
/// `cryptography`, BIP-32/BIP-84).
const FPR_TREZOR_PASSPHRASE: &str = "4b854ccf";
const ADDRESS_TREZOR_PASSPHRASE: &str = "bc1qhzaw8cqrfunca86u70wf4nvxcgf0m5whm0qxgu";

/// Serves the simulator `make` builds (in its thread: it is not `Send`) on a free port.
fn start(make: fn() -> TrezorSim) -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let _ = serve_socket(&socket, make());
    });
    port
}

fn run(port: u16, model: &str) -> Option<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".tools/venv/bin/python");
    if !peers::installed(&python, "the venv with trezor") {
        return None;
    }
    let out = Command::new(&python)
        .arg(root.join("tests/python/trezor_unlock_client.py"))
        .arg(port.to_string())
        .arg(model)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "trezorlib failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_str(stdout.trim()).unwrap())
}

#[test]
fn trezorlib_unlocks_a_simulated_trezor_one_with_its_pin_matrix_and_passphrase() {
    let sim = || {
        TrezorSim::with_test_seed()
            .unwrap()
            .with_model(Model::One)
            .with_matrix_seed(99)
            .with_pin("1234")
            .with_passphrase(TREZOR_TEST_MNEMONIC)
    };
    let Some(got) = run(start(sim), "one") else {
        return;
    };
    assert_eq!(got["model"], "1");
    assert_eq!(got["wrong_pin"], "PinInvalid");
    assert_eq!(got["pin_requests"].as_array().unwrap().len(), 2);
    assert_eq!(got["fingerprint"], FPR_TREZOR_PASSPHRASE);
    assert_eq!(got["relocked"], true);
    let standard = "bc1qannfxke2tfd4l7vhepehpvt05y83v3qsf6nfkk";
    assert_ne!(
        got["address"], standard,
        "the passphrase wallet, not the standard one"
    );
}

#[test]
fn trezorlib_unlocks_a_simulated_model_t_on_its_screen() {
    let sim = || {
        TrezorSim::with_test_seed()
            .unwrap()
            .with_pin("1234")
            .with_passphrase(TREZOR_TEST_MNEMONIC)
            .with_device_passphrase("TREZOR")
    };
    let Some(got) = run(start(sim), "t") else {
        return;
    };
    assert_eq!(got["model"], "T");
    assert_eq!(got["pin_requests"], serde_json::json!([]));
    assert_eq!(got["fingerprint"], FPR_TREZOR_PASSPHRASE);
    assert_eq!(got["address"], ADDRESS_TREZOR_PASSPHRASE);
}
