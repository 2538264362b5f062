//! A Trezor unplugged at any point of a PSBT signing: every exchange index gives
//! `disconnected` without a hang, and once the device is back the same `Trezor` object
//! signs again, to the very transaction a healthy run gives.
#![cfg(not(target_arch = "wasm32"))]

mod trezor_support;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use futures::executor::block_on;
use hwsigner::device::SignOptions;
use hwsigner::driver::trezor::Trezor;
use hwsigner::sim::confirm::Confirm;
use hwsigner::sim::fault::{Fault, Faults};
use hwsigner::sim::trezor::TrezorSim;
use hwsigner::transport::memory::MemoryTransport;
use hwsigner::Error;
use trezor_support::*;

/// Four inputs of every script type (legacy, nested and native segwit, taproot): the
/// host streams previous transactions and legacy inputs are signed in place.
const CASE: &str = "test_signtx_taproot::test_send_mixed";

fn device() -> (Rc<RefCell<TrezorSim>>, Trezor<MemoryTransport>) {
    let sim = Rc::new(RefCell::new(TrezorSim::new(
        seed(),
        Confirm::Approve,
        Faults::none(),
    )));
    let mut t = Trezor::new(TrezorSim::shared_transport(sim.clone()));
    t.set_timeout_ms(100);
    (sim, t)
}

fn sign(t: &mut Trezor<MemoryTransport>) -> Result<Vec<u8>, Error> {
    let c = cases(SIGN_TX)
        .into_iter()
        .find(|c| c["name"] == CASE)
        .unwrap();
    let (raw, _) = psbt_of(&c);
    block_on(t.sign_psbt(
        &raw,
        &SignOptions {
            network: Some(coin(&c).network()),
            ..Default::default()
        },
    ))
    .map(|s| s.serialized_transaction().unwrap())
}

fn sweep() -> Result<usize, String> {
    let (sim, mut t) = device();
    let healthy = sign(&mut t).map_err(|e| format!("healthy signing: {e}"))?;
    let exchanges = sim.borrow().exchanges_since_faults();
    if exchanges < 20 {
        return Err(format!("only {exchanges} exchanges in a signing"));
    }
    let mut failures = Vec::new();
    for k in 0..exchanges {
        let (sim, mut t) = device();
        sim.borrow_mut()
            .set_faults(Faults(vec![Fault::DisconnectAfter(k)]));
        match sign(&mut t) {
            Err(Error::Disconnected) => {}
            other => failures.push(format!("after {k}: expected disconnected, got {other:?}")),
        }
        // Plugged back in: the same host object signs the same transaction.
        sim.borrow_mut().set_faults(Faults::none());
        match sign(&mut t) {
            Ok(tx) if tx == healthy => {}
            Ok(_) => failures.push(format!("after {k}: the retry signed another transaction")),
            Err(e) => failures.push(format!("after {k}: the retry failed: {e}")),
        }
    }
    if failures.is_empty() {
        Ok(exchanges)
    } else {
        Err(failures.join("\n"))
    }
}

#[test]
fn a_disconnect_at_every_exchange_of_a_signing_is_disconnected_and_a_retry_signs() {
    // Hang guard: a generous bound, not a speed check.
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(sweep());
    });
    match finished.recv_timeout(Duration::from_secs(600)) {
        Ok(Ok(exchanges)) => println!("{exchanges} exchange indices swept"),
        Ok(Err(failures)) => panic!("{failures}"),
        Err(_) => panic!("the sweep hung"),
    }
}
