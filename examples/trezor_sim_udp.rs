//! Serves the simulated Trezor on UDP like the emulator: `cargo run --example
//! trezor_sim_udp [ADDR]` (default 127.0.0.1:21324). Point trezorlib or any Trezor
//! client with a UDP transport at it.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:21324".into());
    let sim = hwsigner::sim::trezor::TrezorSim::with_test_seed()?;
    eprintln!("simulated trezor on udp {addr}");
    hwsigner::sim::trezor::serve_udp(&addr, sim)?;
    Ok(())
}
