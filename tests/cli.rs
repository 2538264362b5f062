//! The `hwsigner` command line against the simulated Ledger (Speculos socket) and
//! Trezor (UDP), each served by `hwsigner simulate` in a child process, and against the
//! simulators inside the process (`--device simulator:ledger|trezor`); `--json` output.
#![cfg(feature = "cli")]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use bitcoin::consensus::encode::deserialize_hex;
use bitcoin::Transaction;
use common::known;
use hwsigner::protocol::policy::WalletPolicy;
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_hwsigner");

/// A `hwsigner simulate` process, killed when dropped.
struct Simulator(Child);

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `hwsigner simulate VENDOR --port PORT` and waits until `ready` says it answers.
fn simulate(vendor: &str, port: u16, ready: impl Fn() -> bool) -> Simulator {
    let mut sim = Simulator(
        Command::new(BIN)
            .args(["simulate", vendor, "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    for _ in 0..100 {
        if let Some(status) = sim.0.try_wait().unwrap() {
            panic!("simulate {vendor} exited: {status}");
        }
        if ready() {
            return sim;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("simulate {vendor} never answered on port {port}");
}

fn ledger_ready(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

fn trezor_ready(port: u16) -> bool {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 64];
    socket.send_to(b"PINGPING", ("127.0.0.1", port)).is_ok()
        && matches!(socket.recv(&mut buf), Ok(8) if &buf[..8] == b"PONGPONG")
}

/// Runs the CLI with `args` (and `stdin`), returning (exit code, stdout, stderr).
fn cli(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    (
        status.code().unwrap(),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

/// Runs a command that must succeed and returns its stdout lines.
fn ok(device: &str, args: &[&str], stdin: &[u8]) -> Vec<String> {
    let mut all = vec!["--device", device];
    all.extend_from_slice(args);
    let (code, out, err) = cli(&all, stdin);
    assert_eq!(code, 0, "hwsigner {all:?}\nstdout: {out}\nstderr: {err}");
    out.lines().map(String::from).collect()
}

/// What a simulated device must answer: its known values (`common::known`).
struct Known {
    fingerprint: &'static str,
    /// The tpub at m/84'/1'/0'.
    account: &'static str,
    /// The wpkh receive address 3 of that account.
    address_3: &'static str,
    /// The BIP-137 signature of "hello" by m/84'/1'/0'/0/0.
    hello: &'static str,
}

const LEDGER: Known = Known {
    fingerprint: known::SPECULOS_FPR,
    account: known::SPECULOS_84_1_0,
    address_3: known::SPECULOS_WPKH_0_3,
    hello: known::SPECULOS_HELLO_84_1_0_0_0,
};

const TREZOR: Known = Known {
    fingerprint: known::TREZOR_FPR,
    account: known::TREZOR_84_1_0,
    address_3: known::TREZOR_WPKH_0_3,
    hello: known::TREZOR_HELLO_84_1_0_0_0,
};

/// The same calls on either simulated vendor, checked against known values.
fn check_device(device: &str, known: &Known) {
    let fingerprint = known.fingerprint;
    assert_eq!(ok(device, &["fingerprint"], b""), [fingerprint]);
    let info = ok(device, &["info"], b"");
    assert!(info.iter().any(|l| l.starts_with("vendor: ")), "{info:?}");

    let account = "m/84'/1'/0'";
    assert_eq!(ok(device, &["xpub", account], b""), [known.account]);

    let key = format!("[{fingerprint}/84'/1'/0']{}", known.account);
    let policy = WalletPolicy::new("", "wpkh(@0/**)", vec![key.clone()]).unwrap();
    let descriptor = format!("wpkh({key}/0/*)");
    assert_eq!(
        ok(
            device,
            &["address", "--descriptor", &descriptor, "--index", "3"],
            b""
        ),
        [known.address_3]
    );

    // Base64 on stdin; the signed PSBT then the final transaction on stdout.
    let psbt = common::fund::funded_psbt(&policy, 2);
    let base64 = psbt.to_string();
    let mut all = vec!["--device", device, "sign-psbt", "-", "--finalize"];
    let (code, out, err) = cli(&all, base64.as_bytes());
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("cHNidP8"), "{out}");
    let tx: Transaction = deserialize_hex(lines[1]).unwrap();
    assert_eq!(tx.input.len(), 2);
    assert!(tx.input.iter().all(|i| !i.witness.is_empty()), "{tx:?}");
    assert!(err.contains("signing 2/2"), "{err}");

    // Binary from a file, not finalized: one line.
    let file =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{fingerprint}.psbt"));
    std::fs::write(&file, psbt.serialize()).unwrap();
    all.truncate(3);
    all.push(file.to_str().unwrap());
    let (code, out, err) = cli(&all, b"");
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out.lines().count(), 1, "{out}");

    let sig = ok(device, &["sign-message", "m/84'/1'/0'/0/0", "hello"], b"");
    assert_eq!(sig, [known.hello]);
}

/// A failing command: (exit code, stderr).
fn fails(device: &str, args: &[&str], stdin: &[u8]) -> (i32, String) {
    let mut all = vec!["--device", device];
    all.extend_from_slice(args);
    let (code, out, err) = cli(&all, stdin);
    assert!(out.is_empty(), "{all:?}: {out}");
    (code, err)
}

#[test]
fn ledger_through_the_cli() {
    let port = free_tcp_port();
    let _sim = simulate("ledger", port, || ledger_ready(port));
    let device = format!("speculos:127.0.0.1:{port}");
    check_device(&device, &LEDGER);

    // A registered policy: its hmac goes back to address.
    let keys = [
        format!("[f5acc2fd/48'/1'/0'/2']{}", known::SPECULOS_48_1_0_2),
        format!("[5c9e228d/48'/1'/0'/2']{}", known::TREZOR_48_1_0_2),
    ];
    let template = "wsh(sortedmulti(2,@0/**,@1/**))";
    let mut args = vec!["register", "--name", "Multisig", "--template", template];
    for k in &keys {
        args.extend(["--key", k]);
    }
    let out = ok(&device, &args, b"");
    assert_eq!(out.len(), 2, "{out:?}");
    let hmac = out[1].strip_prefix("hmac ").unwrap();
    assert_eq!(hmac.len(), 64);
    args[0] = "address";
    args.extend(["--hmac", hmac, "--index", "1"]);
    assert_eq!(
        ok(&device, &args, b""),
        [known::TEST_POLICY_ADDRESSES_1[4].1],
        "{:?}",
        known::TEST_POLICY_ADDRESSES_1[4]
    );
}

#[test]
fn trezor_through_the_cli() {
    let port = free_udp_port();
    let _sim = simulate("trezor", port, || trezor_ready(port));
    let device = format!("trezor-udp:127.0.0.1:{port}");
    check_device(&device, &TREZOR);

    // A device error: exit 1, `error: CODE: message`.
    let key = format!("[5c9e228d/48'/1'/0'/2']{}", known::TREZOR_48_1_0_2);
    let (code, err) = fails(
        &device,
        &[
            "register",
            "--name",
            "W",
            "--template",
            "wsh(multi(1,@0/**))",
            "--key",
            &key,
        ],
        b"",
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("error: unsupported: "), "{err}");
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let port = free_tcp_port();
    let _sim = simulate("ledger", port, || ledger_ready(port));
    let device = format!("speculos:127.0.0.1:{port}");

    let (code, err) = fails(&device, &["sign-psbt", "-"], b"not a psbt");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("error: invalid-input: invalid psbt"),
        "{err}"
    );

    let (code, err) = fails(&device, &["xpub", "m/84'/x"], b"");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("invalid path"), "{err}");

    let (code, err) = fails(&device, &["frobnicate"], b"");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no command \"frobnicate\""), "{err}");

    let (code, err) = fails(&device, &["fingerprint", "--nope"], b"");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--nope"), "{err}");
    assert!(err.contains("hwsigner fingerprint --help"), "{err}");

    let (code, _, _) = cli(&[], b"");
    assert_eq!(code, 2);
    let (code, out, _) = cli(&["sign-psbt", "--help"], b"");
    assert_eq!(code, 0);
    assert!(out.contains("--finalize"), "{out}");
}

#[test]
fn nothing_listening_is_a_device_error() {
    let port = free_tcp_port();
    let (code, err) = fails(&format!("speculos:127.0.0.1:{port}"), &["fingerprint"], b"");
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("error: transport: "), "{err}");
}

/// The wallets `--json enumerate` lists (it must succeed, wallets or not).
fn plugged_in() -> Vec<Value> {
    let (code, listed) = json(&["enumerate"], b"");
    assert_eq!(code, 0, "{listed}");
    listed["devices"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .clone()
}

#[test]
fn enumerate_never_fails_without_wallets() {
    let devices = plugged_in();
    if !devices.is_empty() {
        eprintln!("wallets are plugged in ({devices:?}): the empty listing is not checked");
        return;
    }
    let (code, out, err) = cli(&["enumerate"], b"");
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            0,
            "no wallet found (ledgers and trezor ones on hid, trezors on usb)\n",
            ""
        )
    );
}

#[test]
fn simulators_in_the_process() {
    check_device("simulator:ledger", &LEDGER);
    check_device("simulator:trezor", &TREZOR);

    // The simulated Ledger runs the test app unless --mainnet.
    let app = |extra: &[&str]| {
        let info = ok("simulator:ledger", &[extra, &["info"]].concat(), b"");
        info.into_iter().find(|l| l.starts_with("app: ")).unwrap()
    };
    assert_eq!(app(&[]), "app: Bitcoin Test");
    assert_eq!(app(&["--testnet"]), "app: Bitcoin Test");
    assert_eq!(app(&["--mainnet"]), "app: Bitcoin");
    let (code, err) = fails("simulator:ledger", &["--testnet", "--mainnet", "info"], b"");
    assert_eq!(code, 2, "{err}");
    // The network decides the simulated Ledger's xpubs; keys of the other one are refused.
    let xpub = ok(
        "simulator:ledger",
        &["--mainnet", "xpub", "m/84'/0'/0'"],
        b"",
    );
    assert_eq!(xpub, [known::SPECULOS_84_0_0_MAIN]);
    let descriptor = format!("wpkh([f5acc2fd/84'/1'/0']{}/0/*)", known::SPECULOS_84_1_0);
    let (code, err) = fails(
        "simulator:ledger",
        &["--mainnet", "address", "--descriptor", &descriptor],
        b"",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--mainnet"), "{err}");

    // sample-psbt: a PSBT of the simulator's wpkh wallet, testnet or mainnet.
    for (device, network) in [
        ("simulator:ledger", "--testnet"),
        ("simulator:ledger", "--mainnet"),
        ("simulator:trezor", "--testnet"),
    ] {
        let psbt = ok(device, &[network, "sample-psbt", "--inputs", "3"], b"");
        assert_eq!(psbt.len(), 1, "{psbt:?}");
        let signed = ok(
            device,
            &[network, "sign-psbt", "-", "--finalize"],
            psbt[0].as_bytes(),
        );
        let tx: Transaction = deserialize_hex(&signed[1]).unwrap();
        assert_eq!(tx.input.len(), 3, "{device} {network}");
    }
    let (code, err) = fails("speculos", &["sample-psbt"], b"");
    assert_eq!(code, 2, "{err}");
    let (code, err) = fails("simulator:ledger", &["sample-psbt", "--inputs", "0"], b"");
    assert_eq!(code, 2, "{err}");
}

#[test]
fn auto_falls_back_to_the_simulated_ledger() {
    let devices = plugged_in();
    if !devices.is_empty() {
        eprintln!("wallets are plugged in ({devices:?}): the fallback is not checked");
        return;
    }
    let (code, out, err) = cli(&["fingerprint"], b"");
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            0,
            "f5acc2fd\n",
            "no device plugged in: using the simulated Ledger (test seed)\n"
        )
    );
    // An explicit link still fails when nothing is there.
    let (code, out, err) = cli(&["--device", "hid", "fingerprint"], b"");
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (1, "", "error: disconnected: no device found\n")
    );
}

/// Runs a command with `--json`: (exit code, the one object on stdout).
fn json(args: &[&str], stdin: &[u8]) -> (i32, Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, out, err) = cli(&all, stdin);
    assert_eq!(
        out.lines().count(),
        1,
        "{all:?}\nstdout: {out}\nstderr: {err}"
    );
    let value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    (code, value)
}

/// A `--json` command that must succeed on `device`.
fn json_ok(device: &str, args: &[&str], stdin: &[u8]) -> Value {
    let mut all = vec!["--device", device];
    all.extend_from_slice(args);
    let (code, value) = json(&all, stdin);
    assert_eq!(code, 0, "{all:?}: {value}");
    value
}

#[test]
fn json_output() {
    let d = "simulator:ledger";
    assert_eq!(
        json_ok(d, &["fingerprint"], b""),
        serde_json::json!({"fingerprint": "f5acc2fd"})
    );
    assert_eq!(
        json_ok(d, &["info"], b""),
        serde_json::json!({"vendor": "ledger", "model": "Nano S Plus", "app": "Bitcoin Test", "version": "2.4.6"})
    );
    let info = json_ok("simulator:trezor", &["info"], b"");
    assert_eq!(
        (&info["vendor"], &info["app"]),
        (&"trezor".into(), &Value::Null)
    );

    assert_eq!(
        json_ok(d, &["xpub", "m/84'/1'/0'"], b""),
        serde_json::json!({ "xpub": known::SPECULOS_84_1_0 })
    );

    let key = format!("[f5acc2fd/84'/1'/0']{}", known::SPECULOS_84_1_0);
    let descriptor = format!("wpkh({key}/0/*)");
    assert_eq!(
        json_ok(
            d,
            &["address", "--descriptor", &descriptor, "--index", "3"],
            b""
        ),
        serde_json::json!({ "address": known::SPECULOS_WPKH_0_3 })
    );

    let registered = json_ok(
        d,
        &[
            "register",
            "--name",
            "W",
            "--template",
            "wpkh(@0/**)",
            "--key",
            &key,
        ],
        b"",
    );
    for field in ["wallet_id", "hmac"] {
        assert_eq!(
            registered[field].as_str().unwrap().len(),
            64,
            "{registered}"
        );
    }

    let sample = json_ok(d, &["sample-psbt"], b"");
    let psbt = sample["psbt"].as_str().unwrap();
    let signed = json_ok(d, &["sign-psbt", "-", "--finalize"], psbt.as_bytes());
    assert!(
        signed["psbt"].as_str().unwrap().starts_with("cHNidP8"),
        "{signed}"
    );
    let tx: Transaction = deserialize_hex(signed["tx"].as_str().unwrap()).unwrap();
    assert_eq!(tx.input.len(), 2);
    let unfinalized = json_ok(d, &["sign-psbt", "-"], psbt.as_bytes());
    assert!(unfinalized.get("tx").is_none(), "{unfinalized}");

    assert_eq!(
        json_ok(d, &["sign-message", "m/84'/1'/0'/0/0", "hello"], b""),
        serde_json::json!({ "signature": known::SPECULOS_HELLO_84_1_0_0_0 })
    );

    // Errors: the object on stdout, the exit code as without --json.
    let (code, e) = json(&["--device", d, "sign-psbt", "-"], b"not a psbt");
    assert_eq!(code, 2);
    assert_eq!(e["error"]["code"], "invalid-input", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid psbt"),
        "{e}"
    );
    let (code, e) = json(&["frobnicate"], b"");
    assert_eq!((code, &e["error"]["code"]), (2, &"usage".into()), "{e}");
    let (code, e) = json(
        &[
            "--device",
            "simulator:trezor",
            "register",
            "--name",
            "W",
            "--template",
            "wpkh(@0/**)",
            "--key",
            &key,
        ],
        b"",
    );
    assert_eq!(
        (code, &e["error"]["code"]),
        (1, &"unsupported".into()),
        "{e}"
    );

    // enumerate: the list (see `plugged_in`), empty without wallets.
    let devices = plugged_in();
    for d in &devices {
        let fields: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(fields, ["id", "link", "model", "vendor"], "{d}");
    }
}

#[test]
fn simulate_says_where_it_serves_in_json() {
    let port = free_tcp_port();
    let mut sim = Simulator(
        Command::new(BIN)
            .args(["--json", "simulate", "ledger", "--port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(sim.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap();
    let device = format!("speculos:127.0.0.1:{port}");
    assert_eq!(
        ready,
        serde_json::json!({"simulator": "ledger", "device": device})
    );
    assert_eq!(ok(&device, &["fingerprint"], b""), ["f5acc2fd"]);
}

#[test]
fn summary_says_what_is_certain_and_what_is_claimed() {
    let (code, sample, _) = cli(&["sample-psbt"], b"");
    assert_eq!(code, 0);
    let psbt = hwsigner::protocol::psbt::raw::decode(sample.trim().as_bytes()).unwrap();
    let mut p = psbt.to_bitcoin().unwrap();
    // A false change label on the foreign output, and input 1 without its previous
    // transaction.
    p.outputs[0] = p.outputs[1].clone();
    p.inputs[1].non_witness_utxo = None;
    let hostile = bitcoin::base64::Engine::encode(
        &bitcoin::base64::engine::general_purpose::STANDARD,
        p.serialize(),
    );
    let (code, out, err) = cli(
        &["summary", "-", "--fingerprint", "f5acc2fd"],
        hostile.as_bytes(),
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].contains("(verified)") && lines[0].ends_with("sighash ALL"),
        "{out}"
    );
    assert!(lines[1].contains("(unverified)"), "{out}");
    assert!(
        lines[2].ends_with("(claims change: not the device's key)"),
        "{out}"
    );
    assert!(lines[3].ends_with("(change)"), "{out}");
    assert_eq!(lines[4], "fee: 1000 sat (unverified)");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("warning: output 0 claims")),
        "{out}"
    );
    let (code, v) = json(
        &["summary", "-", "--fingerprint", "f5acc2fd"],
        hostile.as_bytes(),
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["fee_verified"], Value::Bool(false));
    assert_eq!(v["inputs"][1]["verified"], Value::Bool(false));
    assert_eq!(v["outputs"][0]["change"], Value::Bool(false));
    assert_eq!(v["outputs"][0]["claims_change"], Value::Bool(true));
    assert_eq!(v["outputs"][1]["change"], Value::Bool(true));
    // A sighash other than ALL is refused unless allowed.
    let mut p = psbt.to_bitcoin().unwrap();
    p.inputs[0].sighash_type = Some(bitcoin::EcdsaSighashType::None.into());
    let none = p.serialize();
    let (code, _, err) = cli(&["--device", "simulator:ledger", "sign-psbt", "-"], &none);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("invalid-input") && err.contains("sighash NONE"),
        "{err}"
    );
    ok(
        "simulator:ledger",
        &["sign-psbt", "-", "--allow-non-default-sighash"],
        &none,
    );
}

#[test]
fn an_address_the_host_cannot_check_is_refused_unless_allowed() {
    let seed = Seed::from_mnemonic(SPECULOS_MNEMONIC, "").unwrap();
    let key = common::fund::key_info(&seed, "m/84'/1'/0'");
    let args = [
        "--device",
        "simulator:ledger",
        "address",
        "--template",
        "pk(@0/**)",
        "--key",
        key.as_str(),
    ];
    let (code, out, err) = cli(&args, b"");
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("invalid-input") && err.contains("cannot derive its address"),
        "{err}"
    );
}
