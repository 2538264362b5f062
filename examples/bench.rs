//! The native half of `make bench` (bench/run.mjs runs it and merges its JSON).
//!
//! - `bench ledger RUNS`: hwsigner signing PSBTs of 1, 10, 50, 100 and 500 wpkh inputs
//!   and 10 tr inputs against the simulated Ledger in memory (whole APDUs, zero
//!   latency). Host time is each run's total minus the simulator's time metered around
//!   each APDU in that run (natively nothing else shares the simulator's code, so this
//!   is exact, and it follows the load of the machine run by run); the simulator alone
//!   on a replay of the recorded trace is reported beside it.
//! - `bench trezor RUNS PYTHON SCRIPT`: the simulated Trezor on UDP (as the emulator),
//!   signed with by hwsigner and then by Trezor's Python client (`SCRIPT`, run with
//!   `PYTHON`) for 1, 10, 50 and 100 wpkh inputs. The server counts messages and its
//!   own time; the Python client reads them from a control socket after each run.
//!
//! Prints one JSON object on stdout.

use std::cell::RefCell;
use std::net::UdpSocket;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::executor::block_on;
use hwsigner::device::{Device, SignOptions};
use hwsigner::protocol::psbt::raw::RawPsbt;
use hwsigner::sim::confirm::Confirm;
use hwsigner::sim::fault::Faults;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::sample::{funded_psbt, standard_policy};
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};
use hwsigner::sim::trezor::TrezorSim;
use hwsigner::transport::memory::MemoryTransport;
use hwsigner::transport::native::udp::UdpTransport;
use hwsigner::transport::{Identity, Packets};
use serde_json::{json, Value};

type Failure = Box<dyn std::error::Error>;

/// What crossed the link in one run, and the far end's own time.
#[derive(Debug, Default, Clone)]
struct Meter {
    requests: u64,
    replies: u64,
    bytes_out: u64,
    bytes_in: u64,
    sim: Duration,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[mid],
        _ => (xs[mid - 1] + xs[mid]) / 2.0,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// CPU time of the calling thread, in ms: over a socket, the host's own work without
/// the waits for the device (whose length the scheduler stretches).
fn thread_cpu_ms() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `t` is.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    if rc == 0 {
        t.tv_sec as f64 * 1e3 + t.tv_nsec as f64 / 1e6
    } else {
        f64::NAN
    }
}

/// Median, min and max.
fn spread(xs: &[f64]) -> Value {
    let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    json!({ "median": median(xs.to_vec()), "min": min, "max": max })
}

/// `runs` timed signings after one warm-up; medians of total and host time (total
/// minus the simulator's time metered inside each run), with their spread.
fn timed(
    runs: usize,
    mut sign: impl FnMut() -> Result<(), Failure>,
    meter: &dyn Fn(bool) -> Meter,
) -> Result<Value, Failure> {
    sign()?;
    let (mut total, mut host, mut sim, mut cpu) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut last = Meter::default();
    for _ in 0..runs {
        meter(true);
        let (t0, c0) = (Instant::now(), thread_cpu_ms());
        sign()?;
        let (elapsed, c1) = (t0.elapsed(), thread_cpu_ms());
        last = meter(false);
        total.push(ms(elapsed));
        sim.push(ms(last.sim));
        host.push(ms(elapsed.saturating_sub(last.sim)));
        cpu.push(c1 - c0);
    }
    Ok(json!({
        "totalMs": median(total.clone()),
        "hostMs": median(host.clone()),
        "total": spread(&total),
        "host": spread(&host),
        "hostCpuMs": median(cpu),
        "simMs": median(sim),
        "requests": last.requests,
        "replies": last.replies,
        "bytesOut": last.bytes_out,
        "bytesIn": last.bytes_in,
    }))
}

/// An APDU trace: each APDU with the simulator's reply.
type Trace = Vec<(Vec<u8>, Vec<u8>)>;

/// The simulator alone: the same (warm) simulator answers `trace` back to back, with no
/// client in between; the ms it took. Its replies must be the recorded ones.
fn replay(sim: &RefCell<SimLedger>, trace: &Trace) -> Result<f64, Failure> {
    let mut sim = sim.borrow_mut();
    let t0 = Instant::now();
    let replies: Vec<Vec<u8>> = trace.iter().map(|(apdu, _)| sim.apdu(apdu)).collect();
    let elapsed = ms(t0.elapsed());
    if replies.iter().zip(trace).any(|(r, (_, want))| r != want) {
        return Err("the replayed simulator answered otherwise than recorded".into());
    }
    Ok(elapsed)
}

fn ledger(runs: usize) -> Result<Value, Failure> {
    let seed = Seed::from_mnemonic(SPECULOS_MNEMONIC, "")?;
    let sim = Rc::new(RefCell::new(SimLedger::new(SimLedgerOptions::default())));
    let meter = Rc::new(RefCell::new(Meter::default()));
    let recording: Rc<RefCell<Option<Trace>>> = Rc::new(RefCell::new(None));
    let (s, m, rec) = (sim.clone(), meter.clone(), recording.clone());
    let link = MemoryTransport::new(Packets::Messages, Identity::default(), move |apdu| {
        let t0 = Instant::now();
        let reply = s.borrow_mut().apdu(apdu);
        if let Some(trace) = rec.borrow_mut().as_mut() {
            trace.push((apdu.to_vec(), reply.clone()));
        }
        let mut m = m.borrow_mut();
        m.sim += t0.elapsed();
        m.requests += 1;
        m.replies += 1;
        m.bytes_out += apdu.len() as u64;
        m.bytes_in += reply.len() as u64;
        Ok(vec![reply])
    });
    let mut device = Device::ledger(Box::new(link));
    let read = |reset: bool| {
        let mut m = meter.borrow_mut();
        let out = m.clone();
        if reset {
            *m = Meter::default();
        }
        out
    };
    let mut cases = Vec::new();
    for (inputs, script) in [
        (1, "wpkh"),
        (10, "wpkh"),
        (50, "wpkh"),
        (100, "wpkh"),
        (500, "wpkh"),
        (10, "tr"),
    ] {
        let policy = standard_policy(&seed, script, true)?;
        let psbt = RawPsbt::parse(&funded_psbt(&policy, inputs)?.serialize())?;
        let options = SignOptions::default();
        let mut sign = || -> Result<(), Failure> {
            let signed = block_on(device.sign_psbt(&psbt, &options))?;
            if signed.signatures.len() != inputs {
                return Err(
                    format!("{} signatures for {inputs} inputs", signed.signatures.len()).into(),
                );
            }
            Ok(())
        };
        // One signing to fill the per-connection caches, one recorded, one replay to
        // warm up; then rounds of a timed signing and a timed replay, in turn first.
        sign()?;
        *recording.borrow_mut() = Some(Vec::new());
        sign()?;
        let trace = recording.borrow_mut().take().unwrap_or_default();
        replay(&sim, &trace)?;
        let (mut total, mut alone, mut inside) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..runs {
            for step in [round % 2, 1 - round % 2] {
                if step == 0 {
                    read(true);
                    let t0 = Instant::now();
                    sign()?;
                    total.push(ms(t0.elapsed()));
                    inside.push(ms(read(false).sim));
                } else {
                    alone.push(replay(&sim, &trace)?);
                }
            }
        }
        let host: Vec<f64> = total.iter().zip(&inside).map(|(t, s)| t - s).collect();
        let last = read(false);
        cases.push(json!({
            "inputs": inputs,
            "script": script,
            "simAloneMs": spread(&alone),
            "hwsignerNative": {
                "totalMs": spread(&total),
                "hostMs": spread(&host),
                "simInRunMs": spread(&inside),
                "requests": last.requests,
                "bytesOut": last.bytes_out,
                "bytesIn": last.bytes_in,
            },
        }));
    }
    Ok(json!({ "ledgerNative": cases }))
}

/// Serves the simulated Trezor on UDP and its counters on a control socket (any
/// datagram there is answered with the counters as JSON, which are then reset).
fn serve_trezor(meter: Arc<Mutex<Meter>>) -> Result<(u16, u16), Failure> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    let control = UdpSocket::bind("127.0.0.1:0")?;
    let ports = (socket.local_addr()?.port(), control.local_addr()?.port());
    let m = meter.clone();
    std::thread::spawn(move || -> Result<(), String> {
        let seed = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "").map_err(|e| e.to_string())?;
        let mut sim = TrezorSim::new(seed, Confirm::Approve, Faults::none());
        let mut buf = [0u8; 1024];
        loop {
            let (n, peer) = socket.recv_from(&mut buf).map_err(|e| e.to_string())?;
            let data = &buf[..n];
            if data == b"PINGPING" {
                let _ = socket.send_to(b"PONGPONG", peer);
                continue;
            }
            let t0 = Instant::now();
            let replies = sim.handle_packet(data).unwrap_or_default();
            let elapsed = t0.elapsed();
            {
                let mut m = m.lock().map_err(|e| e.to_string())?;
                m.sim += elapsed;
                m.requests += u64::from(data.starts_with(b"?##"));
                m.replies += replies.iter().filter(|p| p.starts_with(b"?##")).count() as u64;
                m.bytes_out += data.len() as u64;
                m.bytes_in += replies.iter().map(|p| p.len() as u64).sum::<u64>();
            }
            for p in replies {
                socket.send_to(&p, peer).map_err(|e| e.to_string())?;
            }
        }
    });
    std::thread::spawn(move || -> Result<(), String> {
        let mut buf = [0u8; 64];
        loop {
            let (_, peer) = control.recv_from(&mut buf).map_err(|e| e.to_string())?;
            let taken = {
                let mut m = meter.lock().map_err(|e| e.to_string())?;
                std::mem::take(&mut *m)
            };
            let body = json!({
                "requests": taken.requests,
                "replies": taken.replies,
                "bytesOut": taken.bytes_out,
                "bytesIn": taken.bytes_in,
                "simMs": ms(taken.sim),
            });
            control
                .send_to(body.to_string().as_bytes(), peer)
                .map_err(|e| e.to_string())?;
        }
    });
    Ok(ports)
}

/// The SignTx job of `psbt` for trezorlib, in the shape of tests/python/trezor_client.py.
fn trezor_job(psbt: &bitcoin::Psbt, expected_tx: &str) -> Result<Value, Failure> {
    let path_of = |d: &std::collections::BTreeMap<_, (_, bitcoin::bip32::DerivationPath)>| {
        d.values()
            .next()
            .map(|(_, p)| format!("m/{p}"))
            .ok_or("no derivation")
    };
    let mut inputs = Vec::new();
    let mut prev_txs = serde_json::Map::new();
    for (txin, input) in psbt.unsigned_tx.input.iter().zip(&psbt.inputs) {
        let utxo = input.witness_utxo.as_ref().ok_or("no utxo")?;
        let (path, script_type) = if utxo.script_pubkey.is_p2tr() {
            let (_, (_, (_, p))) = input.tap_key_origins.iter().next().ok_or("no origin")?;
            (format!("m/{p}"), "SPENDTAPROOT")
        } else {
            (path_of(&input.bip32_derivation)?, "SPENDWITNESS")
        };
        inputs.push(json!({
            "path": path,
            "prev_hash": txin.previous_output.txid.to_string(),
            "prev_index": txin.previous_output.vout,
            "amount": utxo.value.to_sat(),
            "script_type": script_type,
            "sequence": txin.sequence.0,
        }));
        // All-taproot spends need no previous transactions.
        if let Some(prev) = &input.non_witness_utxo {
            prev_txs.insert(
                txin.previous_output.txid.to_string(),
                Value::String(bitcoin::consensus::encode::serialize_hex(prev)),
            );
        }
    }
    let mut outputs = Vec::new();
    for (txout, output) in psbt.unsigned_tx.output.iter().zip(&psbt.outputs) {
        let amount = txout.value.to_sat();
        if let Some((_, (_, (_, p)))) = output.tap_key_origins.iter().next() {
            outputs.push(json!({ "path": format!("m/{p}"), "amount": amount, "script_type": "PAYTOTAPROOT" }));
        } else if output.bip32_derivation.is_empty() {
            let address =
                bitcoin::Address::from_script(&txout.script_pubkey, bitcoin::Network::Testnet)?;
            outputs.push(json!({ "address": address.to_string(), "amount": amount, "script_type": "PAYTOADDRESS" }));
        } else {
            outputs.push(json!({ "path": path_of(&output.bip32_derivation)?, "amount": amount, "script_type": "PAYTOWITNESS" }));
        }
    }
    Ok(json!({
        "coin": "Testnet",
        "version": psbt.unsigned_tx.version.0,
        "lock_time": psbt.unsigned_tx.lock_time.to_consensus_u32(),
        "inputs": inputs,
        "outputs": outputs,
        "prev_txs": prev_txs,
        "expected_serialized_tx": expected_tx,
    }))
}

fn trezor(runs: usize, python: &str, script: &str) -> Result<Value, Failure> {
    let meter = Arc::new(Mutex::new(Meter::default()));
    let (port, control) = serve_trezor(meter.clone())?;
    let seed = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "")?;
    let mut device = Device::trezor(Box::new(UdpTransport::connect(&format!(
        "127.0.0.1:{port}"
    ))?));
    let read = |reset: bool| {
        let Ok(mut m) = meter.lock() else {
            return Meter::default();
        };
        let out = m.clone();
        if reset {
            *m = Meter::default();
        }
        out
    };
    let mut cases = Vec::new();
    let mut jobs = Vec::new();
    for (inputs, script) in [
        (1, "wpkh"),
        (10, "wpkh"),
        (50, "wpkh"),
        (100, "wpkh"),
        (10, "tr"),
    ] {
        let policy = standard_policy(&seed, script, true)?;
        let psbt = funded_psbt(&policy, inputs)?;
        let raw = RawPsbt::parse(&psbt.serialize())?;
        let options = SignOptions::default();
        let mut signed = None;
        let result = timed(
            runs,
            || {
                signed = Some(block_on(device.sign_psbt(&raw, &options))?);
                Ok(())
            },
            &read,
        )?;
        // Outside the timing: the transaction trezorlib must reproduce.
        let (_, t) = hwsigner::device::finalize(&signed.ok_or("no signing")?.psbt)?;
        let tx = bitcoin::consensus::encode::serialize_hex(&t);
        jobs.push(json!({ "inputs": inputs, "script": script, "job": trezor_job(&psbt, &tx)? }));
        cases.push(json!({ "inputs": inputs, "script": script, "hwsignerNative": result }));
    }
    drop(device);
    let jobs_file =
        std::env::temp_dir().join(format!("hwsigner-bench-jobs-{}.json", std::process::id()));
    std::fs::write(&jobs_file, serde_json::to_vec(&jobs)?)?;
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(port.to_string())
        .arg(control.to_string())
        .arg(&jobs_file)
        .arg(runs.to_string())
        .stderr(std::process::Stdio::inherit())
        .output()?;
    let _ = std::fs::remove_file(&jobs_file);
    if !out.status.success() {
        return Err(format!("{script} failed: {}", String::from_utf8_lossy(&out.stdout)).into());
    }
    let theirs: Vec<Value> = serde_json::from_slice(&out.stdout)?;
    for (case, t) in cases.iter_mut().zip(theirs) {
        case["trezorlib"] = t["trezorlib"].clone();
    }
    Ok(json!({ "trezor": cases }))
}

/// hwsigner signing against the simulated Trezor in memory (no sockets), for the
/// host time alone.
fn trezor_memory(runs: usize) -> Result<Value, Failure> {
    let seed = Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "")?;
    let mut sim = TrezorSim::new(seed.clone(), Confirm::Approve, Faults::none());
    let meter = Rc::new(RefCell::new(Meter::default()));
    let m = meter.clone();
    let link = MemoryTransport::new(Packets::Reports64, Identity::default(), move |packet| {
        let t0 = Instant::now();
        let replies = sim.handle_packet(packet)?;
        let mut m = m.borrow_mut();
        m.sim += t0.elapsed();
        m.requests += u64::from(packet.starts_with(b"?##"));
        m.replies += replies.iter().filter(|p| p.starts_with(b"?##")).count() as u64;
        Ok(replies)
    });
    let mut device = Device::trezor(Box::new(link));
    let read = |reset: bool| {
        let mut m = meter.borrow_mut();
        let out = m.clone();
        if reset {
            *m = Meter::default();
        }
        out
    };
    let mut cases = Vec::new();
    for (inputs, script) in [
        (1, "wpkh"),
        (10, "wpkh"),
        (50, "wpkh"),
        (100, "wpkh"),
        (10, "tr"),
    ] {
        let policy = standard_policy(&seed, script, true)?;
        let raw = RawPsbt::parse(&funded_psbt(&policy, inputs)?.serialize())?;
        let options = SignOptions::default();
        let result = timed(
            runs,
            || {
                block_on(device.sign_psbt(&raw, &options))
                    .map(drop)
                    .map_err(Into::into)
            },
            &read,
        )?;
        cases.push(json!({ "inputs": inputs, "script": script, "hwsignerNative": result }));
    }
    Ok(json!({ "trezorMemory": cases }))
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    let out = match args.first().map(String::as_str) {
        Some("ledger") => ledger(runs)?,
        Some("trezor-memory") => trezor_memory(runs)?,
        Some("trezor") => match (args.get(2), args.get(3)) {
            (Some(python), Some(script)) => trezor(runs, python, script)?,
            _ => return Err("usage: bench trezor RUNS PYTHON SCRIPT".into()),
        },
        _ => return Err("usage: bench ledger RUNS | bench trezor RUNS PYTHON SCRIPT".into()),
    };
    println!("{out}");
    Ok(())
}
