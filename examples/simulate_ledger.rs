//! Serves a simulated Ledger ("Bitcoin Test" app, Speculos' default seed) on the
//! Speculos APDU socket, so that Ledger's own clients and HWI-style tools can talk to it.
//!
//! `cargo run --example simulate_ledger -- [--port 9999] [--mainnet] [--mnemonic "..."]`

use hwsigner::sim::ledger::serve::serve_speculos;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};

fn main() {
    let mut options = SimLedgerOptions::default();
    let mut port = 9999u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            "--mainnet" => options.testnet = false,
            "--mnemonic" => options.mnemonic = args.next().unwrap_or_default(),
            other => {
                eprintln!("unknown argument {other:?}");
                std::process::exit(2);
            }
        }
    }
    let addr = format!("127.0.0.1:{port}");
    eprintln!("simulated ledger on {addr} (speculos apdu socket)");
    if let Err(e) = serve_speculos(&addr, SimLedger::new(options)) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
