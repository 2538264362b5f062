//! `hwi` (this crate's HWI) judged by HWI 3.2.0 itself (PyPI `hwi`, in
//! .tools/hwi-venv): both run with `--emulators` against the simulated Ledger (Speculos
//! socket 127.0.0.1:9999) and Trezor (UDP 127.0.0.1:21324), each served by `hwsigner
//! simulate` in a child process, and every case must print the same stdout with the
//! same exit status. Taproot signatures carry fresh randomness: there both must
//! verify, and everything else must be equal. Cases that change a device (PIN,
//! passphrase, wipe) run on a fresh simulator for each tool.
//!
//! HWI's emulator ports are fixed, so everything runs in one test function, under a
//! file lock (no other test binds these ports).
#![cfg(feature = "cli")]

#[path = "common/peers.rs"]
mod peers;

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::Duration;

use bitcoin::bip32::{DerivationPath, Xpub};
use bitcoin::psbt::Psbt;
use hwsigner::protocol::policy::WalletPolicy;
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};

const HWSIGNER: &str = env!("CARGO_BIN_EXE_hwsigner");
const OURS: &str = env!("CARGO_BIN_EXE_hwi");

fn hwi_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/hwi-venv/bin/hwi")
}

/// A `hwsigner simulate` process, killed when dropped.
struct Sim(Child);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `hwsigner simulate ARGS --json` and waits for its ready line.
fn simulate(args: &[&str]) -> Sim {
    let mut child = Command::new(HWSIGNER)
        .arg("--json")
        .arg("simulate")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("simulator"), "simulate {args:?}: {line:?}");
    Sim(child)
}

/// Holds the emulator ports for this process.
struct PortLock(#[allow(dead_code)] std::fs::File);

fn lock_ports() -> PortLock {
    use std::os::unix::io::AsRawFd;
    let f = std::fs::File::create(std::env::temp_dir().join("hwsigner-hwi-emulator-ports.lock"))
        .unwrap();
    // SAFETY: flock on a file descriptor this function owns.
    assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) }, 0);
    PortLock(f)
}

/// One tool's answer: exit status and stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    status: i32,
    stdout: String,
}

fn run(tool: &Path, args: &[String], stdin: Option<&str>) -> Answer {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    Answer {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

/// How two answers must compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Judge {
    /// Byte for byte.
    Same,
    /// `{"psbt": ..., "signed": ...}` equal but for taproot key-path signatures, which
    /// must both verify.
    Taproot,
}

struct Case {
    args: Vec<String>,
    stdin: Option<String>,
    judge: Judge,
    /// What HWI's own answer must contain, so that a case where both tools fail alike
    /// (a broken simulator) cannot pass.
    expect: Option<&'static str>,
}

fn case(args: &[&str]) -> Case {
    Case {
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin: None,
        judge: Judge::Same,
        expect: None,
    }
}

impl Case {
    fn expecting(mut self, text: &'static str) -> Case {
        self.expect = Some(text);
        self
    }
}

fn with_stdin(args: &[&str], stdin: &str) -> Case {
    Case {
        stdin: Some(stdin.to_string()),
        ..case(args)
    }
}

/// The failures so far, and how many cases ran.
#[derive(Default)]
struct Report {
    ran: usize,
    failures: Vec<String>,
}

impl Report {
    fn judge(&mut self, label: &str, c: &Case, hwi: &Answer, ours: &Answer) {
        self.ran += 1;
        let judge = c.judge;
        if let Some(text) = c.expect {
            if !hwi.stdout.contains(text) {
                self.failures.push(format!(
                    "{label}\n  HWI itself did not answer {text:?}: {}",
                    hwi.stdout.trim_end()
                ));
                return;
            }
        }
        let ok = match judge {
            Judge::Same => hwi == ours,
            Judge::Taproot => {
                hwi.status == ours.status && same_but_taproot(&hwi.stdout, &ours.stdout)
            }
        };
        if !ok {
            self.failures.push(format!(
                "{label}\n  hwi  ({}): {}\n  ours ({}): {}",
                hwi.status,
                hwi.stdout.trim_end(),
                ours.status,
                ours.stdout.trim_end()
            ));
        }
    }

    fn compare(&mut self, c: &Case) {
        let hwi = run(&hwi_path(), &c.args, c.stdin.as_deref());
        let ours = run(Path::new(OURS), &c.args, c.stdin.as_deref());
        let label = match &c.stdin {
            Some(s) => format!("{} <<< {:?}", c.args.join(" "), s),
            None => c.args.join(" "),
        };
        self.judge(&label, c, &hwi, &ours);
    }
}

/// The two `signtx` results are equal once taproot key-path signatures are blanked,
/// and each of those signatures verifies.
fn same_but_taproot(a: &str, b: &str) -> bool {
    let (Ok(a), Ok(b)) = (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) else {
        return false;
    };
    if a.get("signed") != b.get("signed") {
        return false;
    }
    let (Some(pa), Some(pb)) = (a["psbt"].as_str(), b["psbt"].as_str()) else {
        return a == b;
    };
    let blank = |text: &str| -> Option<(Vec<u8>, usize)> {
        let bytes = hwsigner::psbt::raw::decode_base64(text).ok()?;
        let mut raw = hwsigner::psbt::raw::RawPsbt::parse(&bytes).ok()?;
        let mut n = 0;
        for input in &mut raw.inputs {
            for (k, v) in input.iter_mut() {
                if k.as_slice() == [0x13] {
                    v.iter_mut().for_each(|b| *b = 0);
                    n += 1;
                }
            }
        }
        Some((raw.serialize(), n))
    };
    let (Some((ba, na)), Some((bb, nb))) = (blank(pa), blank(pb)) else {
        return false;
    };
    ba == bb && na == nb && na > 0 && taproot_signatures_verify(pa) && taproot_signatures_verify(pb)
}

/// Every taproot key-path signature in the PSBT verifies against its sighash and the
/// output key of the coin it spends.
fn taproot_signatures_verify(text: &str) -> bool {
    use bitcoin::sighash::{Prevouts, SighashCache};
    let Ok(psbt) = Psbt::from_str(text) else {
        return false;
    };
    let secp = bitcoin::secp256k1::Secp256k1::verification_only();
    let prevouts: Vec<bitcoin::TxOut> = psbt
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            input.witness_utxo.clone().unwrap_or_else(|| {
                let prev = input.non_witness_utxo.as_ref().unwrap();
                prev.output[psbt.unsigned_tx.input[i].previous_output.vout as usize].clone()
            })
        })
        .collect();
    let mut cache = SighashCache::new(&psbt.unsigned_tx);
    for (i, input) in psbt.inputs.iter().enumerate() {
        let Some(sig) = input.tap_key_sig else {
            continue;
        };
        let script = &prevouts[i].script_pubkey;
        let key = bitcoin::key::XOnlyPublicKey::from_slice(&script.as_bytes()[2..34]).unwrap();
        let sighash = cache
            .taproot_key_spend_signature_hash(i, &Prevouts::All(&prevouts), sig.sighash_type)
            .unwrap();
        let msg = bitcoin::secp256k1::Message::from_digest(sighash.to_byte_array());
        if secp.verify_schnorr(&sig.signature, &msg, &key).is_err() {
            return false;
        }
    }
    true
}

use bitcoin::hashes::Hash;

fn seed(words: &str) -> Seed {
    Seed::from_mnemonic(words, "").unwrap()
}

/// `[fpr/path]xpub` of `seed` at `path`.
fn key_info(seed: &Seed, path: &str, network: bitcoin::NetworkKind) -> String {
    let p = DerivationPath::from_str(path).unwrap();
    format!(
        "[{}/{}]{}",
        seed.fingerprint(),
        path.trim_start_matches("m/"),
        seed.xpub(&p, network).unwrap()
    )
}

/// A base64 PSBT spending `n` coins of the single-key `template` at `path`.
fn single_psbt(
    seed: &Seed,
    template: &str,
    path: &str,
    n: usize,
    network: bitcoin::NetworkKind,
) -> String {
    let policy = WalletPolicy::new("", template, vec![key_info(seed, path, network)]).unwrap();
    hwsigner::sim::sample::funded_psbt(&policy, n)
        .unwrap()
        .to_string()
}

/// A base64 PSBT spending a 2-of-2 `wsh(sortedmulti)` of both simulators' keys at
/// m/48'/1'/0'/2', with their xpubs in the global map (as HWI needs for a Ledger).
fn multisig_psbt(ledger: &Seed, trezor: &Seed) -> (String, String) {
    let path = "m/48'/1'/0'/2'";
    let keys = vec![
        key_info(ledger, path, bitcoin::NetworkKind::Test),
        key_info(trezor, path, bitcoin::NetworkKind::Test),
    ];
    let policy = WalletPolicy::new("", "wsh(sortedmulti(2,@0/**,@1/**))", keys.clone()).unwrap();
    let mut psbt = hwsigner::sim::sample::funded_psbt(&policy, 2).unwrap();
    for s in [ledger, trezor] {
        let p = DerivationPath::from_str(path).unwrap();
        let xpub: Xpub = s.xpub(&p, bitcoin::NetworkKind::Test).unwrap();
        psbt.xpub.insert(xpub, (s.fingerprint(), p));
    }
    let desc = format!(
        "wsh(sortedmulti(2,{}/0/5,{}/0/5))",
        keys[0].replace('\'', "h"),
        keys[1].replace('\'', "h")
    );
    (psbt.to_string(), desc)
}

/// The PIN positions of `pin` on the matrix the simulated Trezor One shows now.
fn pin_positions(pin: &str) -> String {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket.send_to(b"MATRIX??", "127.0.0.1:21324").unwrap();
    let mut buf = [0u8; 64];
    let n = socket.recv(&mut buf).unwrap();
    let text = std::str::from_utf8(&buf[..n]).unwrap();
    let digits: Vec<u8> = text
        .trim_start_matches("MATRIX")
        .bytes()
        .map(|b| b - b'0')
        .collect();
    let matrix: [u8; 9] = digits.try_into().expect("a pin matrix is shown");
    hwsigner::sim::trezor::pin_positions(pin, &matrix).unwrap()
}

/// Runs `steps` with each tool on a fresh Trezor simulator started with `sim_args`
/// (and the Ledger simulator running), comparing step by step. A `{PIN:dddd}` argument
/// becomes the positions of those digits on the matrix shown at that moment.
fn scenario(report: &mut Report, name: &str, sim_args: &[&str], steps: &[Case]) {
    let mut answers: Vec<Vec<Answer>> = Vec::new();
    for tool in [hwi_path(), PathBuf::from(OURS)] {
        let mut args = vec!["trezor"];
        args.extend_from_slice(sim_args);
        let _sim = simulate(&args);
        let mut these = Vec::new();
        for step in steps {
            let argv: Vec<String> = step
                .args
                .iter()
                .map(
                    |a| match a.strip_prefix("{PIN:").and_then(|p| p.strip_suffix('}')) {
                        Some(pin) => pin_positions(pin),
                        None => a.clone(),
                    },
                )
                .collect();
            these.push(run(&tool, &argv, step.stdin.as_deref()));
        }
        answers.push(these);
    }
    for (i, step) in steps.iter().enumerate() {
        let label = format!("[{name}] step {}: {}", i + 1, step.args.join(" "));
        report.judge(&label, step, &answers[0][i], &answers[1][i]);
    }
}

#[test]
fn hwi_and_ours_print_the_same_json_against_the_simulators() {
    if !peers::installed(&hwi_path(), "HWI 3.2.0 (hwi-venv)") {
        return;
    }
    let _lock = lock_ports();
    let ledger = simulate(&["ledger"]);
    let mut report = Report::default();
    let ls = seed(SPECULOS_MNEMONIC);
    let ts = seed(TREZOR_TEST_MNEMONIC);
    let test = bitcoin::NetworkKind::Test;
    let main = bitcoin::NetworkKind::Main;
    let lf = ls.fingerprint().to_string();
    let tf = ts.fingerprint().to_string();

    // Usage, help and version: no device needed.
    for c in [
        case(&[]),
        case(&["--version"]),
        case(&["-h"]),
        case(&["getkeypool", "-h"]),
        case(&["foo"]),
        case(&["--chain", "foo", "enumerate"]),
        case(&["--device", "enumerate"]),
        case(&["getxpub"]),
        case(&["getkeypool", "1"]),
        case(&["getkeypool", "--account", "x", "0", "1"]),
        case(&["getkeypool", "--keypool", "--nokeypool", "0", "1"]),
        case(&["getkeypool", "--addr-type", "wit", "--all", "0", "1"]),
        case(&["displayaddress"]),
        case(&["displayaddress", "--desc", "x", "--path", "m"]),
        case(&["getxpub", "m/0", "--expert"]),
        case(&["-t"]),
        case(&["getxpub", "m/0h"]),
        case(&["-d", "x", "getxpub", "m/0h"]),
    ] {
        report.compare(&c);
    }

    let trezor = simulate(&["trezor"]);
    let l = |rest: &[&str]| -> Vec<String> {
        let mut v = vec!["--emulators", "-t", "ledger", "--chain", "test"];
        v.extend_from_slice(rest);
        v.iter().map(|s| s.to_string()).collect()
    };
    let t = |rest: &[&str]| -> Vec<String> {
        let mut v = vec!["--emulators", "-t", "trezor", "--chain", "test"];
        v.extend_from_slice(rest);
        v.iter().map(|s| s.to_string()).collect()
    };
    let cases_for = |dev: &dyn Fn(&[&str]) -> Vec<String>| -> Vec<Case> {
        let mk = |rest: &[&str]| Case {
            args: dev(rest),
            stdin: None,
            judge: Judge::Same,
            expect: None,
        };
        vec![
            mk(&["getmasterxpub"]),
            mk(&["getmasterxpub", "--addr-type", "tap", "--account", "3"]),
            mk(&["getmasterxpub", "--addr-type", "legacy"]),
            mk(&["getxpub", "m/84h/1h/0h"]),
            mk(&["getxpub", "m/49'/1'/0'/1/7"]),
            mk(&["getxpub", "m/1h/2h"]),
            mk(&["getxpub", "m/x"]),
            mk(&["--expert", "getxpub", "m/86h/1h/0h"]),
            mk(&["signmessage", "hello", "m/84h/1h/0h/0/0"]),
            mk(&["signmessage", "h\u{e9}llo w\u{f6}rld", "m/44h/1h/0h/0/3"]),
            mk(&["signmessage", "hi", "m/x"]),
            mk(&["getkeypool", "0", "20"]),
            mk(&["getkeypool", "--all", "--nokeypool", "5", "9"]),
            mk(&["getkeypool", "--internal", "--addr-type", "sh_wit", "--account", "2", "0", "1"]),
            mk(&["getkeypool", "--path", "m/84h/1h/0h/0/*", "0", "1"]),
            mk(&["getkeypool", "--path", "m/84h/1h/0h/7h/2/*", "--addr-type", "legacy", "3", "4"]),
            mk(&["getkeypool", "--path", "84h/1h/0h/0/*", "0", "1"]),
            mk(&["getkeypool", "--path", "m/84h/1h/0h/0", "0", "1"]),
            mk(&["getkeypool", "--all", "--internal", "0", "1"]),
            mk(&["getdescriptors"]),
            mk(&["getdescriptors", "--account", "1"]),
            mk(&["displayaddress", "--path", "m/84h/1h/0h/0/0"]),
            mk(&["displayaddress", "--path", "m/49h/1h/0h/1/3", "--addr-type", "sh_wit"]),
            mk(&["displayaddress", "--path", "m/86h/1h/0h/0/1", "--addr-type", "tap"]),
            mk(&["displayaddress", "--path", "m/44h/1h/0h/0/2", "--addr-type", "legacy"]),
            mk(&["displayaddress", "--path", "m/84h/0h/0h/0/0"]),
            mk(&["displayaddress", "--desc", "wpkh(xpubNOPE/0/0)"]),
            mk(&["displayaddress", "--desc", "wpkh([00000000/84h/1h/0h]tpubDCtKfsNyRhULjZ9XMS4VKKtVcPdVDi8MKUbcSD9MJDyjRu1A2ND5MiipozyyspBT9bg8upEp7a8EAgFxNxXn1d7QkdbL52Ty5jiSLcxPt1P/0/0)"]),
            mk(&["displayaddress", "--desc", "foo(bar)"]),
            mk(&["displayaddress", "--desc", "wpkh(02aa)#deadbeef"]),
            mk(&["promptpin"]),
            mk(&["sendpin", "1234"]),
            mk(&["sendpin", "abc"]),
            mk(&["backup"]),
            mk(&["setup"]),
            mk(&["restore"]),
            mk(&["-i", "setup"]),
            mk(&["-i", "restore", "--word_count", "13"]),
        ]
    };
    for c in cases_for(&l).into_iter().chain(cases_for(&t)) {
        report.compare(&c);
    }

    // What only changes a Trezor: refused on the Ledger.
    for rest in [&["wipe"][..], &["togglepassphrase"][..]] {
        report.compare(&Case {
            args: l(rest),
            stdin: None,
            judge: Judge::Same,
            expect: Some("\"code\": -9"),
        });
    }
    // installudevrules where it cannot copy (and, without udevadm here, where it can).
    report.compare(&case(&[
        "installudevrules",
        "--location",
        "/nonexistent/dir/",
    ]));
    report.compare(&case(&[
        "installudevrules",
        "--location",
        "/nonexistent/dir",
    ]));
    let has_udevadm = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("udevadm").is_file()));
    if !has_udevadm {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hwi-udev");
        std::fs::create_dir_all(&dir).unwrap();
        report.compare(&case(&[
            "installudevrules",
            "--location",
            dir.to_str().unwrap(),
        ]));
    }

    // Descriptors as wallets (and Bitcoin Core) send them.
    for (dev_fpr, s, dev) in [(&lf, &ls, "ledger"), (&tf, &ts, "trezor")] {
        let args = |d: String| -> Case {
            Case {
                args: [
                    "--emulators",
                    "-t",
                    dev,
                    "--chain",
                    "test",
                    "displayaddress",
                    "--desc",
                ]
                .iter()
                .map(|x| x.to_string())
                .chain([d])
                .collect(),
                stdin: None,
                judge: Judge::Same,
                expect: None,
            }
        };
        let k84 = key_info(s, "m/84'/1'/0'", test).replace('\'', "h");
        let k49 = key_info(s, "m/49'/1'/0'", test).replace('\'', "h");
        let k86 = key_info(s, "m/86'/1'/0'", test).replace('\'', "h");
        let leaf = s
            .public_key(&DerivationPath::from_str("m/84'/1'/0'/0/5").unwrap())
            .unwrap();
        let core_style = format!("wpkh([{dev_fpr}/84h/1h/0h/0/5]{leaf})");
        let core_style = format!("{core_style}#{}", checksum(&core_style));
        for d in [
            format!("wpkh({k84}/0/5)"),
            format!("sh(wpkh({k49}/1/2))"),
            format!("tr({k86}/0/0)"),
            format!("pkh({k84}/0/0)"),
            core_style,
            format!(
                "wpkh({})",
                k84.split(']').nth(1).unwrap().to_string() + "/0/0"
            ),
        ] {
            report.compare(&args(d));
        }
    }
    let (ms_psbt, ms_desc) = multisig_psbt(&ls, &ts);
    for dev in ["ledger", "trezor"] {
        report.compare(
            &case(&[
                "--emulators",
                "-t",
                dev,
                "--chain",
                "test",
                "displayaddress",
                "--desc",
                &ms_desc,
            ])
            .expecting("\"address\": \"tb1q"),
        );
        report.compare(
            &case(&[
                "--emulators",
                "-t",
                dev,
                "--chain",
                "test",
                "signtx",
                &ms_psbt,
            ])
            .expecting("\"signed\": true"),
        );
    }

    // signtx: each script type, mixed, foreign and non-standard, both chains.
    for (dev, s) in [("ledger", &ls), ("trezor", &ts)] {
        let wpkh = single_psbt(s, "wpkh(@0/**)", "m/84'/1'/0'", 3, test);
        let pkh = single_psbt(s, "pkh(@0/**)", "m/44'/1'/0'", 2, test);
        let shwpkh = single_psbt(s, "sh(wpkh(@0/**))", "m/49'/1'/1'", 2, test);
        let tr = single_psbt(s, "tr(@0/**)", "m/86'/1'/0'", 2, test);
        let odd = single_psbt(s, "wpkh(@0/**)", "m/84'/1'/0'/7'", 1, test);
        let main_wpkh = single_psbt(s, "wpkh(@0/**)", "m/84'/0'/0'", 1, main);
        let foreign = single_psbt(
            if dev == "ledger" { &ts } else { &ls },
            "wpkh(@0/**)",
            "m/84'/1'/0'",
            1,
            test,
        );
        let argv = |chain: &str, p: &str| -> Vec<String> {
            ["--emulators", "-t", dev, "--chain", chain, "signtx", p]
                .iter()
                .map(|x| x.to_string())
                .collect()
        };
        let signed = Some("\"signed\": true");
        let foreign_answer = if dev == "ledger" {
            Some("\"signed\": false")
        } else {
            Some("Cannot sign external inputs")
        };
        for (p, chain, judge, expect) in [
            (&wpkh, "test", Judge::Same, signed),
            (&wpkh, "main", Judge::Same, None),
            (&pkh, "test", Judge::Same, signed),
            (&shwpkh, "test", Judge::Same, signed),
            (&tr, "test", Judge::Taproot, signed),
            (&odd, "test", Judge::Same, None),
            (
                &main_wpkh,
                "main",
                Judge::Same,
                if dev == "ledger" { None } else { signed },
            ),
            (&foreign, "test", Judge::Same, foreign_answer),
        ] {
            report.compare(&Case {
                args: argv(chain, p),
                stdin: None,
                judge,
                expect,
            });
        }
        for bad in ["notbase64!", "cHNidP8=", "AAAA", "cHNidP8"] {
            report.compare(&Case {
                args: argv("test", bad),
                stdin: None,
                judge: Judge::Same,
                expect: Some("\"error\""),
            });
        }
    }

    // Finding the device: by fingerprint, by type or model, by path, and failing.
    for c in [
        case(&["--emulators", "enumerate"]),
        case(&["enumerate"]),
        case(&["--emulators", "-f", &lf, "getmasterxpub"]),
        case(&["--emulators", "-f", &tf, "getmasterxpub"]),
        case(&["--emulators", "-f", "00000000", "getmasterxpub"]),
        case(&["--emulators", "-t", "trezor_t_simulator", "getmasterxpub"]),
        case(&[
            "--emulators",
            "-t",
            "ledger_nano_s_simulator",
            "getmasterxpub",
        ]),
        case(&["--emulators", "-t", "coldcard", "getmasterxpub"]),
        case(&["-d", "tcp:127.0.0.1:9999", "-t", "ledger", "getmasterxpub"]),
        case(&["-d", "udp:127.0.0.1:21324", "-t", "trezor", "getmasterxpub"]),
        case(&["-d", "udp:127.0.0.1:1", "-t", "trezor", "getmasterxpub"]),
        case(&["-d", "tcp:127.0.0.1:1", "-t", "ledger", "getmasterxpub"]),
        case(&["-d", "x", "-t", "nosuch", "getmasterxpub"]),
        case(&["-d", "x", "getmasterxpub"]),
    ] {
        report.compare(&c);
    }

    // Bitcoin Core's external signer, as it calls it.
    let core_psbt = single_psbt(&ls, "wpkh(@0/**)", "m/84'/1'/0'", 2, test);
    let core_desc = {
        let d = format!(
            "wpkh({}/0/1)",
            key_info(&ls, "m/84'/1'/0'", test).replace('\'', "h")
        );
        format!("{d}#{}", checksum(&d))
    };
    for c in [
        case(&["--emulators", "enumerate"]),
        case(&[
            "--emulators",
            "--fingerprint",
            &lf,
            "--chain",
            "test",
            "getdescriptors",
            "--account",
            "0",
        ])
        .expecting("\"receive\": [\"pkh(["),
        case(&[
            "--emulators",
            "--fingerprint",
            &lf,
            "--chain",
            "test",
            "displayaddress",
            "--desc",
            &core_desc,
        ])
        .expecting("\"address\": \"tb1q"),
        with_stdin(
            &[
                "--emulators",
                "--stdin",
                "--fingerprint",
                &lf,
                "--chain",
                "test",
            ],
            &format!("signtx {core_psbt}\n"),
        )
        .expecting("\"signed\": true"),
        with_stdin(
            &[
                "--emulators",
                "--stdin",
                "--fingerprint",
                &tf,
                "--chain",
                "test",
            ],
            &format!("signtx \"{core_psbt}\"\n\nignored\n"),
        ),
        with_stdin(
            &["--emulators", "--stdin"],
            "-t ledger --chain test\ngetmasterxpub --account 1\n",
        ),
        with_stdin(&["--emulators", "--stdin"], "signtx 'unclosed\n"),
        with_stdin(&["--emulators", "--stdin"], ""),
    ] {
        report.compare(&c);
    }
    drop(trezor);

    // Devices that change: PIN, passphrase, settings, wipe.
    let d = ["-d", "udp:127.0.0.1:21324", "-t", "trezor"];
    let with_d = |rest: &[&str]| -> Case {
        let mut v: Vec<&str> = d.to_vec();
        v.extend_from_slice(rest);
        case(&v)
    };
    scenario(
        &mut report,
        "trezor one, pin",
        &["--model", "one", "--pin", "1234"],
        &[
            case(&["--emulators", "enumerate"]),
            case(&["--emulators", "-t", "trezor", "getmasterxpub"]),
            with_d(&["sendpin", "1234"]),
            with_d(&["promptpin"]),
            with_d(&["sendpin", "{PIN:5678}"]).expecting("\"success\": false"),
            with_d(&["promptpin"]),
            with_d(&["sendpin", "{PIN:1234}"]).expecting("\"success\": true"),
            with_d(&["promptpin"]),
            with_d(&["sendpin", "1234"]),
            case(&["--emulators", "enumerate"]),
            case(&[
                "--emulators",
                "-t",
                "trezor",
                "--chain",
                "test",
                "getdescriptors",
            ])
            .expecting("5c9e228d/84h/1h/0h"),
        ],
    );
    scenario(
        &mut report,
        "trezor t, pin on the device",
        &["--pin", "1234"],
        &[
            case(&["--emulators", "enumerate"]).expecting("PIN requested"),
            case(&["--emulators", "enumerate"]).expecting("5c9e228d"),
            with_d(&["promptpin"]),
            case(&["--emulators", "-t", "trezor", "getmasterxpub"]),
        ],
    );
    scenario(
        &mut report,
        "trezor one, passphrase",
        &["--model", "one", "--passphrase"],
        &[
            case(&["--emulators", "enumerate"]),
            case(&["--emulators", "-p", "TREZOR", "enumerate"]).expecting("4b854ccf"),
            case(&[
                "--emulators",
                "-p",
                "TREZOR",
                "-t",
                "trezor",
                "getmasterxpub",
            ]),
            with_stdin(
                &[
                    "--emulators",
                    "--stdinpass",
                    "-t",
                    "trezor",
                    "getmasterxpub",
                ],
                "TREZOR\n",
            ),
            case(&["--emulators", "-t", "trezor", "togglepassphrase"]),
            case(&["--emulators", "-p", "TREZOR", "enumerate"]),
        ],
    );
    scenario(
        &mut report,
        "trezor t, passphrase and settings",
        &["--passphrase"],
        &[
            case(&["--emulators", "enumerate"]),
            case(&[
                "--emulators",
                "-p",
                "TREZOR",
                "-t",
                "trezor",
                "getmasterxpub",
            ]),
            case(&["--emulators", "-t", "trezor", "togglepassphrase"]),
            case(&["--emulators", "-t", "trezor", "togglepassphrase"]),
            case(&["--emulators", "enumerate"]),
        ],
    );
    scenario(
        &mut report,
        "trezor t, wipe",
        &[],
        &[
            case(&["--emulators", "-t", "trezor", "wipe"]).expecting("\"success\": true"),
            case(&["--emulators", "enumerate"]).expecting("Not initialized"),
            case(&["--emulators", "-t", "trezor", "getmasterxpub"]),
            case(&["--emulators", "-t", "trezor", "-i", "setup"]),
        ],
    );

    // The Ledger's mainnet app ("Bitcoin").
    drop(ledger);
    let mainnet = {
        let mut c = Command::new(HWSIGNER);
        c.args(["--json", "--mainnet", "simulate", "ledger"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("simulator"), "{line:?}");
        Sim(child)
    };
    let main_wpkh = single_psbt(&ls, "wpkh(@0/**)", "m/84'/0'/0'", 2, main);
    let main_tr = single_psbt(&ls, "tr(@0/**)", "m/86'/0'/0'", 1, main);
    for c in [
        case(&["--emulators", "enumerate"]),
        case(&["--emulators", "-t", "ledger", "getdescriptors"]).expecting("xpub"),
        case(&["--emulators", "-t", "ledger", "getmasterxpub"]).expecting("xpub"),
        case(&[
            "--emulators",
            "-t",
            "ledger",
            "displayaddress",
            "--path",
            "m/84h/0h/0h/0/0",
        ])
        .expecting("\"address\": \"bc1q"),
        case(&["--emulators", "-t", "ledger", "signtx", &main_wpkh]).expecting("\"signed\": true"),
        case(&[
            "--emulators",
            "-t",
            "ledger",
            "--chain",
            "test",
            "signtx",
            &main_wpkh,
        ])
        .expecting("\"signed\": false"),
        Case {
            judge: Judge::Taproot,
            ..case(&["--emulators", "-t", "ledger", "signtx", &main_tr])
                .expecting("\"signed\": true")
        },
    ] {
        report.compare(&c);
    }
    drop(mainnet);

    eprintln!(
        "hwi comparison: {} cases, {} differ",
        report.ran,
        report.failures.len()
    );
    assert!(
        report.failures.is_empty(),
        "{} of {} cases differ from HWI 3.2.0:\n{}",
        report.failures.len(),
        report.ran,
        report.failures.join("\n")
    );
}

/// A descriptor checksum computed outside the crate under test (miniscript's BIP-380
/// engine, as Bitcoin Core computes it).
fn checksum(desc: &str) -> String {
    let mut engine = miniscript::descriptor::checksum::Engine::new();
    engine.input(desc).unwrap();
    engine.checksum()
}

#[test]
fn hwsigner_hwi_is_the_hwi_binary() {
    for args in [
        vec!["--version"],
        vec!["getxpub"],
        vec!["-d", "x", "getxpub", "m/0h"],
        vec!["--chain", "nope", "enumerate"],
    ] {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let hwi = run(Path::new(OURS), &args, None);
        let mut sub = vec!["hwi".to_string()];
        sub.extend(args.iter().cloned());
        let hwsigner = run(Path::new(HWSIGNER), &sub, None);
        assert_eq!(hwi, hwsigner, "{args:?}");
        assert!(
            hwi.stdout.starts_with("hwi 3.2.0") || hwi.stdout.contains("\"code\": -"),
            "{hwi:?}"
        );
    }
}
