//! Trezor's own Python client (trezorlib, in .tools/venv) against the simulated Trezor
//! served on UDP like the emulator; and this crate's UDP transport against the same.
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/peers.rs"]
mod peers;
mod trezor_support;

use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;

use futures::executor::block_on;
use hwsigner::device::SignOptions;
use hwsigner::driver::trezor::Trezor;
use hwsigner::sim::trezor::{serve_socket, TrezorSim};
use hwsigner::transport::native::udp::UdpTransport;
use trezor_support::*;

/// Starts a simulator on a free UDP port in a thread; returns the port.
fn start_sim() -> u16 {
    start_sim_with(TrezorSim::with_test_seed)
}

/// The same with the simulator `make` builds (in the thread: it is not `Send`).
fn start_sim_with(make: impl FnOnce() -> hwsigner::Result<TrezorSim> + Send + 'static) -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let _ = serve_socket(&socket, make().unwrap());
    });
    port
}

/// The seed of the firmware's multisig-change tests ("alcohol woman abuse ...").
fn alcohol_sim() -> hwsigner::Result<TrezorSim> {
    let case = cases(trezor_support::features::MULTISIG_CHANGE)
        .into_iter()
        .find(|c| c.get("mnemonic").is_some())
        .unwrap();
    Ok(TrezorSim::new(
        trezor_support::features::case_seed(&case),
        hwsigner::sim::confirm::Confirm::Approve,
        hwsigner::sim::fault::Faults::none(),
    ))
}

#[test]
fn trezorlib_gets_the_vectors_from_the_simulator_over_udp() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".tools/venv/bin/python");
    if !peers::installed(&python, "the venv with trezor") {
        return;
    }
    let port = start_sim();
    let alcohol = start_sim_with(alcohol_sim);
    let out = Command::new(&python)
        .arg(root.join("tests/python/trezor_client.py"))
        .arg(port.to_string())
        .arg(root.join("tests/vectors/trezor"))
        .arg(alcohol.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "trezorlib failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("sign_tx: 18 of 18 match"), "{stdout}");
    // External inputs, replacements and multisig change as the firmware's tests send
    // them: trezorlib's own messages end where the firmware's tests do.
    assert!(
        stdout.contains("sign_tx_external.json: 13 of 13 as the firmware"),
        "{stdout}"
    );
    assert!(
        stdout.contains("sign_tx_replacement.json: 14 of 14 as the firmware"),
        "{stdout}"
    );
    assert!(
        stdout.contains("sign_tx_multisig_change.json: 6 of 6 as the firmware"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("OK"), "{stdout}");
}

#[test]
fn the_udp_transport_signs_against_the_simulator() {
    let port = start_sim();
    let transport = UdpTransport::connect(&format!("127.0.0.1:{port}")).unwrap();
    let mut t = Trezor::new(transport);
    t.set_timeout_ms(5_000);
    let info = block_on(t.init()).unwrap();
    assert_eq!(info.vendor, "trezor.io");
    assert_eq!(block_on(t.master_fingerprint()).unwrap().to_string(), FPR);
    let case = cases(SIGN_TX)
        .into_iter()
        .find(|c| c["name"] == "test_signtx_taproot::test_send_mixed")
        .unwrap();
    let (raw, _) = psbt_of(&case);
    let signed = block_on(t.sign_psbt(
        &raw,
        &SignOptions {
            network: Some(coin(&case).network()),
            ..Default::default()
        },
    ))
    .unwrap();
    assert_eq!(
        to_hex(&signed.serialized_transaction().unwrap()),
        case["expected_serialized_tx"].as_str().unwrap()
    );
}

#[test]
fn nothing_listening_is_reported() {
    // A port nobody serves: the probe gets no PONGPONG.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    drop(socket);
    let e = UdpTransport::connect(&format!("127.0.0.1:{port}")).unwrap_err();
    assert_eq!(e.code(), "disconnected");
}
