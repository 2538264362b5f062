//! After a Ledger re-enumerates (opening an app), the device that comes back must be
//! the one that left: another Ledger answering in its place is `disconnected`, and
//! nothing the host knew about the first one's keys is used for the second.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use futures::executor::block_on;
use futures::future::LocalBoxFuture;
use hwsigner::driver::ledger::Ledger;
use hwsigner::sim::ledger::{SimLedger, SimLedgerOptions};
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};
use hwsigner::transport::{Identity, Packets, Transport};
use hwsigner::Result;

type Sim = Rc<RefCell<SimLedger>>;

/// A link to `current` that comes back to `next` (if set) when it re-enumerates.
struct Swapping {
    current: Sim,
    next: Rc<RefCell<Option<Sim>>>,
    inbox: VecDeque<Vec<u8>>,
}

impl Transport for Swapping {
    fn packets(&self) -> Packets {
        Packets::Messages
    }
    fn identity(&self) -> Identity {
        Identity::default()
    }
    fn send<'a>(&'a mut self, data: &'a [u8]) -> LocalBoxFuture<'a, Result<()>> {
        let reply = self.current.borrow_mut().apdu(data);
        self.inbox.push_back(reply);
        Box::pin(async { Ok(()) })
    }
    fn recv(&mut self, _timeout_ms: u32) -> LocalBoxFuture<'_, Result<Vec<u8>>> {
        let reply = self.inbox.pop_front();
        Box::pin(async move { reply.ok_or(hwsigner::Error::Timeout { after_ms: 0 }) })
    }
    fn reconnect(&mut self, _timeout_ms: u32) -> LocalBoxFuture<'_, Result<()>> {
        if let Some(n) = self.next.borrow_mut().take() {
            self.current = n;
        }
        Box::pin(async { Ok(()) })
    }
}

fn sim(mnemonic: &str) -> Sim {
    Rc::new(RefCell::new(SimLedger::new(SimLedgerOptions {
        mnemonic: mnemonic.into(),
        ..SimLedgerOptions::default()
    })))
}

fn fingerprint(mnemonic: &str) -> bitcoin::bip32::Fingerprint {
    Seed::from_mnemonic(mnemonic, "").unwrap().fingerprint()
}

#[test]
fn another_ledger_coming_back_after_opening_the_app_is_not_taken_for_the_first() {
    let next = Rc::new(RefCell::new(None));
    let mut ledger = Ledger::new(Swapping {
        current: sim(SPECULOS_MNEMONIC),
        next: next.clone(),
        inbox: VecDeque::new(),
    });
    let first = block_on(ledger.known_fingerprint()).unwrap();
    assert_eq!(first, fingerprint(SPECULOS_MNEMONIC));
    // Back to the dashboard; opening the app re-enumerates, and a second Ledger (the
    // app already open) answers in its place.
    let quit = block_on(ledger.exchange(&[0xb0, 0xa7, 0, 0, 0])).unwrap();
    assert_eq!(quit, [0x90, 0x00]);
    *next.borrow_mut() = Some(sim(TREZOR_TEST_MNEMONIC));
    let e = block_on(ledger.open_app("Bitcoin Test")).unwrap_err();
    assert_eq!(e.code(), "disconnected", "{e}");
    // What the host knew of the first Ledger is gone: the second one's keys are used.
    assert_eq!(
        block_on(ledger.known_fingerprint()).unwrap(),
        fingerprint(TREZOR_TEST_MNEMONIC)
    );
}

#[test]
fn the_same_ledger_coming_back_keeps_what_the_host_knew() {
    let me = sim(SPECULOS_MNEMONIC);
    let next = Rc::new(RefCell::new(None));
    let mut ledger = Ledger::new(Swapping {
        current: me.clone(),
        next: next.clone(),
        inbox: VecDeque::new(),
    });
    block_on(ledger.known_fingerprint()).unwrap();
    block_on(ledger.exchange(&[0xb0, 0xa7, 0, 0, 0])).unwrap();
    *next.borrow_mut() = Some(me);
    let info = block_on(ledger.open_app("Bitcoin Test")).unwrap();
    assert_eq!(info.name, "Bitcoin Test");
}
