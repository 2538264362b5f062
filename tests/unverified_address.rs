//! An address the host cannot derive is not passed off as checked: without the
//! caller's opt-in the request fails with `invalid-input` before anything is sent; with
//! it, the device's word is taken, and said so on the command line.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;
use std::rc::Rc;

use futures::executor::block_on;
use hwsigner::device::{AddressRequest, AddressSource, Device};
use hwsigner::protocol::policy::WalletPolicy;
use hwsigner::transport::memory::MemoryTransport;
use hwsigner::transport::{Identity, Packets};

/// An address the host cannot check.
const CLAIMED: &str = "tb1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh";

/// A "device" that answers every APDU with `CLAIMED` and counts what it was sent.
fn liar() -> (Device, Rc<RefCell<usize>>) {
    let sent = Rc::new(RefCell::new(0));
    let count = sent.clone();
    let t = MemoryTransport::new(
        Packets::Messages,
        Identity::default(),
        move |_apdu: &[u8]| {
            *count.borrow_mut() += 1;
            let mut reply = CLAIMED.as_bytes().to_vec();
            reply.extend_from_slice(&[0x90, 0x00]);
            Ok(vec![reply])
        },
    );
    (Device::ledger(Box::new(t)), sent)
}

/// A policy the host parses but cannot turn into an address (a bare `pk()` script).
fn underivable() -> WalletPolicy {
    let seed = hwsigner::sim::seed::Seed::from_mnemonic(hwsigner::sim::seed::SPECULOS_MNEMONIC, "")
        .unwrap();
    let path: bitcoin::bip32::DerivationPath = "m/84'/1'/0'".parse().unwrap();
    let xpub = seed.xpub(&path, bitcoin::NetworkKind::Test).unwrap();
    let key = format!("[{}/84'/1'/0']{xpub}", seed.fingerprint());
    WalletPolicy::new("Bare", "pk(@0/**)", vec![key]).unwrap()
}

fn request(allow_unverified: bool) -> AddressRequest {
    AddressRequest {
        source: AddressSource::Policy(underivable(), Some([1; 32])),
        change: false,
        index: 0,
        display: false,
        allow_unverified,
    }
}

#[test]
fn an_address_the_host_cannot_derive_is_refused_unless_the_caller_takes_the_devices_word() {
    let (mut dev, sent) = liar();
    let e = block_on(dev.address(&request(false))).unwrap_err();
    assert_eq!(e.code(), "invalid-input", "{e}");
    assert!(e.to_string().contains("cannot derive its address"), "{e}");
    assert_eq!(*sent.borrow(), 0, "nothing was sent");
    assert_eq!(block_on(dev.address(&request(true))).unwrap(), CLAIMED);
    assert!(*sent.borrow() > 0);
}
