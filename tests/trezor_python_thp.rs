//! The Trezor Host Protocol against trezorlib 0.20.2 (PyPI `trezor`, in .tools/venv),
//! the vendor's own THP client: pointed at the simulated Safe 7 on UDP, it allocates a
//! channel, completes the handshake, pairs with the code on the simulated screen,
//! signs the SignTx vectors, and reconnects with its credential without pairing. And
//! hwsigner's own host does the same over the same UDP link.
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/peers.rs"]
mod peers;
mod trezor_support;

use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;

use futures::executor::block_on;
use hwsigner::device::SignOptions;
use hwsigner::driver::credentials::MemoryCredentials;
use hwsigner::driver::trezor::Trezor;
use hwsigner::driver::PromptFns;
use hwsigner::sim::trezor::{serve_socket, Safe7Sim};
use hwsigner::transport::native::udp::UdpTransport;
use serde_json::Value;
use trezor_support::*;

/// Serves a simulated Safe 7 on a free port (in its own thread).
fn start() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let _ = serve_socket(&socket, Safe7Sim::with_test_seed().unwrap());
    });
    port
}

/// The code on the simulated screen, read as trezorlib's callback reads it.
fn read_code(port: u16) -> String {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    s.send_to(b"CODE????", ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 64];
    let n = s.recv(&mut buf).unwrap();
    let text = std::str::from_utf8(&buf[..n]).unwrap();
    assert!(text.starts_with("CODE") && text != "CODE--", "{text}");
    text[4..].to_string()
}

#[test]
fn trezorlib_pairs_signs_and_reconnects_with_its_credential() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".tools/venv/bin/python");
    if !peers::installed(&python, "the venv with trezor") {
        return;
    }
    let port = start();
    let out = Command::new(&python)
        .arg(root.join("tests/python/trezor_thp_client.py"))
        .arg(port.to_string())
        .arg(root.join("tests/vectors/trezor"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "trezorlib failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(got["thp"], true, "{got}");
    assert_eq!(got["paired_before"], false);
    assert_eq!(got["codes"].as_array().unwrap().len(), 1);
    assert_eq!(got["codes"][0].as_str().unwrap().len(), 6);
    assert_eq!(got["model"], "Safe 7");
    assert_eq!(got["fingerprint"], FPR);
    assert_eq!(got["address"], "bc1qannfxke2tfd4l7vhepehpvt05y83v3qsf6nfkk");
    assert_eq!(got["signed"].as_array().unwrap().len(), 18, "{got}");
    assert_eq!(got["reconnected_paired"], true);
    assert_eq!(got["signed_after_reconnect"], true);
    assert_eq!(got["codes_total"], 1, "no second pairing");
}

#[test]
fn hwsigner_pairs_over_udp_and_reconnects_with_its_credential() {
    let port = start();
    let store = MemoryCredentials::new();
    let open = |store: &MemoryCredentials| {
        let transport = UdpTransport::connect(&format!("127.0.0.1:{port}")).unwrap();
        let mut t = Trezor::new(transport);
        t.set_timeout_ms(10_000);
        t.set_credential_store(Box::new(store.clone()));
        t.set_prompts(Box::new(
            PromptFns::none().with_pairing_code(move || Ok(read_code(port))),
        ));
        t
    };
    let mut t = open(&store);
    assert_eq!(block_on(t.master_fingerprint()).unwrap().to_string(), FPR);
    assert!(t.is_thp() && t.paired_now());
    let case = cases(SIGN_TX)
        .into_iter()
        .find(|c| c["name"] == "test_signtx_taproot::test_send_mixed")
        .unwrap();
    let (raw, _) = psbt_of(&case);
    let options = SignOptions {
        network: Some(coin(&case).network()),
        ..Default::default()
    };
    let signed = block_on(t.sign_psbt(&raw, &options)).unwrap();
    assert_eq!(
        to_hex(&signed.serialized_transaction().unwrap()),
        case["expected_serialized_tx"].as_str().unwrap()
    );
    drop(t);
    let mut t = open(&store);
    t.set_prompts(Box::new(PromptFns::none()));
    assert_eq!(block_on(t.master_fingerprint()).unwrap().to_string(), FPR);
    assert!(!t.paired_now());
}
