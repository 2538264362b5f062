//! `simulate ledger|trezor`: serves a simulated wallet on an emulator socket, so that
//! this tool (`--device speculos` / `trezor-udp`) and the vendors' clients can use it.

use std::io::Write;
use std::net::{TcpListener, UdpSocket};

use hwsigner::sim::confirm::Confirm;
use hwsigner::sim::fault::Faults;
use hwsigner::sim::ledger::serve::serve_speculos_on;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};
use hwsigner::sim::trezor::{serve_socket, TrezorSim};
use hwsigner::Error;

use crate::args::{Parsed, Spec};
use crate::failure::Failure;
use crate::json::Json;

pub const SIMULATE: Spec = Spec {
    switches: &[],
    options: &["--port", "--host", "--mnemonic"],
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
    if vendor == "ledger" {
        let options = SimLedgerOptions {
            mnemonic: mnemonic.to_string(),
            testnet: testnet.unwrap_or(true),
            ..SimLedgerOptions::default()
        };
        // Checked here so that a bad mnemonic is an error, not a broken simulator.
        Seed::from_mnemonic(mnemonic, "")?;
        let listener = TcpListener::bind(&addr)
            .map_err(|e| Error::Transport(format!("cannot listen on {addr}: {e}")))?;
        eprintln!("simulated ledger on {addr} (speculos apdu socket; --device speculos:{addr})");
        ready(json, "ledger", &format!("speculos:{addr}"));
        serve_speculos_on(listener, SimLedger::new(options))?;
    } else {
        if testnet == Some(false) {
            return Err(Failure::usage("--mainnet is for the simulated ledger"));
        }
        let sim = TrezorSim::new(
            Seed::from_mnemonic(mnemonic, "")?,
            Confirm::Approve,
            Faults::none(),
        );
        let socket = UdpSocket::bind(&addr)
            .map_err(|e| Error::Transport(format!("cannot listen on udp {addr}: {e}")))?;
        eprintln!("simulated trezor on udp {addr} (--device trezor-udp:{addr})");
        ready(json, "trezor", &format!("trezor-udp:{addr}"));
        serve_socket(&socket, sim)?;
    }
    Ok(())
}

/// With `--json`, the line that says the simulator is serving.
fn ready(json: bool, vendor: &str, device: &str) {
    if json {
        let line = Json::strings(&[("simulator", vendor), ("device", device)]).render();
        println!("{line}");
        let _ = std::io::stdout().flush();
    }
}
