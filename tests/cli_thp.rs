//! The command line pairs with a simulated Trezor Safe 7 (`simulate trezor --model
//! safe7`): it prints a line containing `pairing code`, reads the code from stdin (a
//! pipe here; the code read off the simulator's screen on its stderr), keeps the
//! credential in its config dir, and the next run needs no code.
#![cfg(feature = "cli")]

#[path = "common/simulate.rs"]
mod simulate;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::Duration;

use simulate::simulate;

const BIN: &str = env!("CARGO_BIN_EXE_hwsigner");
const FPR: &str = "5c9e228d";

#[test]
fn the_cli_pairs_once_then_reconnects_with_its_credential() {
    let config = std::env::temp_dir().join(format!("hwsigner-cli-thp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&config);
    let sim = simulate(BIN, "trezor", &["--model", "safe7"]);
    let device = sim.device.clone();

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
    let code = sim.shows("pairing code: ").trim().to_string();
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
    let _ = std::fs::remove_dir_all(&config);
}
