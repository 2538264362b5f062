//! `simulate ledger|trezor`: serves a simulated wallet on an emulator socket, so that
//! this tool (`--device speculos` / `trezor-udp`) and the vendors' clients can use it.

use std::io::Write;
use std::net::{TcpListener, UdpSocket};

use hwsigner::sim::confirm::Confirm;
use hwsigner::sim::fault::Faults;
use hwsigner::sim::ledger::serve::serve_speculos_on;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};
use hwsigner::sim::trezor::{serve_socket_showing, Model, Safe7Sim, TrezorSim};
use hwsigner::Error;

use crate::args::{Parsed, Spec};
use crate::failure::Failure;
use crate::json::Json;

pub const SIMULATE: Spec = Spec {
    switches: &["--passphrase"],
    options: &[
        "--port",
        "--host",
        "--mnemonic",
        "--model",
        "--pin",
        "--device-passphrase",
    ],
    repeated: &[],
    positionals: (1, 1),
};

/// Serves until the process is stopped; the simulated Ledger runs the "Bitcoin Test"
/// app unless `testnet` is `Some(false)` (`--mainnet`). With `json`, says where it
/// serves on stdout once bound: `{"simulator": "ledger", "device": "speculos:..."}`.
///
/// # Errors
/// A usage error for an unknown vendor or a mainnet Trezor; `invalid-input` for a bad
/// port or mnemonic; `transport` when the address cannot be bound.
pub fn run(args: &Parsed, testnet: Option<bool>, json: bool) -> Result<(), Failure> {
    let vendor = args.positional(0, "ledger or trezor", "simulate")?;
    let (default_port, default_mnemonic) = match vendor {
        "ledger" => (9999, SPECULOS_MNEMONIC),
        "trezor" => (21324, TREZOR_TEST_MNEMONIC),
        other => {
            return Err(Failure::usage(format!(
                "simulate takes ledger or trezor, not {other:?}"
            )))
        }
    };
    let port = match args.value("--port") {
        None => default_port,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| Error::invalid("port", format!("{p:?} is not a port number")))?,
    };
    let host = args.value("--host").unwrap_or("127.0.0.1");
    let addr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mnemonic = args.value("--mnemonic").unwrap_or(default_mnemonic);
    let trezor_only = ["--model", "--pin", "--device-passphrase", "--passphrase"];
    if vendor == "ledger" {
        if let Some(flag) = trezor_only
            .iter()
            .find(|f| args.value(f).is_some() || args.switch(f))
        {
            return Err(Failure::usage(format!(
                "{flag} is for the simulated trezor"
            )));
        }
        let options = SimLedgerOptions {
            mnemonic: mnemonic.to_string(),
            testnet: testnet.unwrap_or(true),
            ..SimLedgerOptions::default()
        };
        // Checked here so that a bad mnemonic is an error, not a broken simulator.
        Seed::from_mnemonic(mnemonic, "")?;
        let listener = TcpListener::bind(&addr)
            .map_err(|e| Error::Transport(format!("cannot listen on {addr}: {e}")))?;
        // With --port 0 the system picks the port: say which.
        let addr = listener.local_addr().map_or(addr, |a| a.to_string());
        eprintln!("simulated ledger on {addr} (speculos apdu socket; --device speculos:{addr})");
        ready(json, "ledger", &format!("speculos:{addr}"));
        serve_speculos_on(listener, SimLedger::new(options))?;
    } else {
        if testnet == Some(false) {
            return Err(Failure::usage("--mainnet is for the simulated ledger"));
        }
        let safe7 = matches!(args.value("--model"), Some("safe7" | "safe-7" | "7"));
        let sim = trezor(args, mnemonic)?;
        let socket = UdpSocket::bind(&addr)
            .map_err(|e| Error::Transport(format!("cannot listen on udp {addr}: {e}")))?;
        // --port 0: the port the system gave.
        let addr = socket.local_addr().map_or(addr, |a| a.to_string());
        let model = match sim.model() {
            Model::One => "trezor one",
            _ if safe7 => "trezor safe 7 (thp)",
            _ => "trezor model t",
        };
        eprintln!("simulated {model} on udp {addr} (--device trezor-udp:{addr})");
        // The emulator's debug link (21325), where HWI presses buttons; only beside
        // the emulator's own port, so that tests on free ports never race for it.
        if port == 21324 {
            let debug_addr = addr.replacen(":21324", ":21325", 1);
            std::thread::spawn(move || hwsigner::sim::trezor::serve_debug_link(&debug_addr));
        }
        ready(json, "trezor", &format!("trezor-udp:{addr}"));
        // The device's screen, for the user who has to read the pin matrix or the
        // pairing code.
        let show = |screen: &str| eprintln!("simulated {model} shows {screen}");
        if safe7 {
            let entropy = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64);
            let sim = Safe7Sim::new(sim).with_random_seed(entropy);
            serve_socket_showing(&socket, sim, show)?;
        } else {
            serve_socket_showing(&socket, sim, show)?;
        }
    }
    Ok(())
}

/// The simulated Trezor of `--model`, `--pin`, `--passphrase` and
/// `--device-passphrase`.
fn trezor(args: &Parsed, mnemonic: &str) -> Result<TrezorSim, Failure> {
    let model = match args.value("--model").unwrap_or("t") {
        "one" | "1" => Model::One,
        "t" | "T" | "safe7" | "safe-7" | "7" => Model::T,
        other => {
            return Err(Failure::usage(format!(
                "--model takes one, t or safe7, not {other:?}"
            )))
        }
    };
    // The firmware scrambles its matrix with its RNG; the clock is enough here.
    let entropy = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let mut sim = TrezorSim::new(
        Seed::from_mnemonic(mnemonic, "")?,
        Confirm::Approve,
        Faults::none(),
    )
    .with_model(model)
    .with_matrix_seed(entropy)
    .with_mnemonic(mnemonic);
    if let Some(pin) = args.value("--pin") {
        if pin.is_empty() || pin.len() > 50 || !pin.chars().all(|c| c.is_ascii_digit() && c != '0')
        {
            return Err(Error::invalid("pin", "digits 1 to 9, at most 50").into());
        }
        sim = sim.with_pin(pin);
    }
    if args.switch("--passphrase") {
        sim = sim.with_passphrase(mnemonic);
    }
    if let Some(p) = args.value("--device-passphrase") {
        sim = sim.with_device_passphrase(p);
    }
    Ok(sim)
}

/// With `--json`, the line that says the simulator is serving.
fn ready(json: bool, vendor: &str, device: &str) {
    if json {
        let line = Json::strings(&[("simulator", vendor), ("device", device)]).render();
        println!("{line}");
        let _ = std::io::stdout().flush();
    }
}
