//! Which hardware wallets are plugged in (native): Ledgers and legacy Trezor Ones seen
//! through hidapi, current Trezors seen through nusb.
//!
//! FIDO, keyboard and other interfaces of the same devices are left out, so each
//! wallet appears once per protocol interface. Trezors in bootloader mode are listed
//! (product 0x53c0) so that a caller can tell the user to restart them.

use crate::error::Result;
use crate::transport::Identity;

/// The wallets seen now on hidapi and USB.
///
/// # Errors
/// The first backend's error (`transport`) when no backend could list devices; when one
/// of them works its findings are returned.
pub fn list_devices() -> Result<Vec<Identity>> {
    let mut found = Vec::new();
    let mut first_error = None;
    let mut any_ok = false;
    let backends: [fn() -> Result<Vec<Identity>>; 2] = [hid_wallets, usb_wallets];
    for backend in backends {
        match backend() {
            Ok(list) => {
                any_ok = true;
                found.extend(list);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if !any_ok => Err(e),
        _ => Ok(found),
    }
}

#[cfg(feature = "hidapi")]
fn hid_wallets() -> Result<Vec<Identity>> {
    crate::transport::native::hidapi::list_wallets()
}

#[cfg(not(feature = "hidapi"))]
fn hid_wallets() -> Result<Vec<Identity>> {
    Ok(Vec::new())
}

#[cfg(feature = "usb")]
fn usb_wallets() -> Result<Vec<Identity>> {
    crate::transport::native::usb::list_trezors()
}

#[cfg(not(feature = "usb"))]
fn usb_wallets() -> Result<Vec<Identity>> {
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::identify::classify;

    #[test]
    fn lists_only_wallets_and_never_panics_without_devices() {
        // No hardware here: either backend may fail to start in a container, but the
        // call must return, and whatever it finds must be a wallet.
        if let Ok(list) = list_devices() {
            assert!(list.iter().all(|id| classify(id).is_some()), "{list:?}");
        }
    }
}
