//! The command line pairs with a simulated Trezor Safe 7 (`simulate trezor --model
//! safe7`): it prints a line containing `pairing code`, reads the code from stdin (a
//! pipe here; the code read off the simulator's screen on its stderr), keeps the
//! credential in its config dir, and the next run needs no code.
#![cfg(feature = "cli")]

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_hwsigner");
const FPR: &str = "5c9e228d";

#[test]
fn the_cli_pairs_once_then_reconnects_with_its_credential() {
    let config = std::env::temp_dir().join(format!("hwsigner-cli-thp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&config);
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let mut sim = Command::new(BIN)
        .args([
            "--json", "simulate", "trezor", "--model", "safe7", "--port", &port,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(sim.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let device: serde_json::Value = serde_json::from_str(&ready).unwrap();
    let device = device["device"].as_str().unwrap().to_string();
    let (tx, screen) = channel();
    let stderr = sim.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });

    let mut cli = Command::new(BIN)
        .args(["--device", &device, "fingerprint"])
        .env("HWSIGNER_CONFIG_DIR", &config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The host asks on stderr; the simulated screen shows the code.
    let (ask_tx, asked) = channel();
    let cli_err = cli.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(cli_err).split(b':').map_while(Result::ok) {
            all.extend_from_slice(&line);
            all.push(b':');
            if String::from_utf8_lossy(&all).contains("enter the pairing code") {
                let _ = ask_tx.send(());
            }
        }
    });
    asked
        .recv_timeout(Duration::from_secs(60))
        .expect("the cli asks for the pairing code");
    let code = loop {
        let line = screen
            .recv_timeout(Duration::from_secs(20))
            .expect("the simulator shows the code");
        if let Some(code) = line.split("pairing code: ").nth(1) {
            break code.trim().to_string();
        }
    };
    assert_eq!(code.len(), 6);
    let mut stdin = cli.stdin.take().unwrap();
    writeln!(stdin, "{code}").unwrap();
    drop(stdin);
    let out = cli.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), FPR);
    let stored = std::fs::read_to_string(config.join("thp-credentials")).unwrap();
    assert_eq!(stored.lines().count(), 1);

    // Again: no code (stdin closed at once), the credential does it.
    let out = Command::new(BIN)
        .args(["--device", &device, "fingerprint"])
        .env("HWSIGNER_CONFIG_DIR", &config)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", out);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), FPR);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("pairing code"));
    let _ = sim.kill();
    let _ = sim.wait();
    let _ = std::fs::remove_dir_all(&config);
}
