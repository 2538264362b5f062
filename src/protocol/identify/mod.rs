//! Which hardware wallet a USB or HID interface belongs to, from its numbers alone.
//!
//! Every transport (WebHID, WebUSB, hidapi, nusb) sees a device through a different
//! API but decides the same way: vendor and product id, then the HID usage page or the
//! USB interface class. Keeping the rules here, as pure functions, lets them be tested
//! without hardware and keeps the browser and native transports in agreement.
//!
//! Interfaces that are not the wallet's own are refused: the FIDO/U2F interface (usage
//! page 0xF1D0, which Chrome blocks for WebHID anyway) and keyboard-like interfaces.

pub mod models;
pub mod report_descriptor;

use crate::error::Error;
use crate::transport::Identity;

/// Ledger's USB vendor id.
pub const LEDGER_VENDOR_ID: u16 = 0x2c97;
/// Ledger's HID usage page (the APDU interface).
pub const LEDGER_USAGE_PAGE: u16 = 0xffa0;
/// The legacy Trezor One's USB vendor id (firmware before 1.7, HID).
pub const TREZOR_ONE_HID_VENDOR_ID: u16 = 0x534c;
/// The legacy Trezor One's USB product id.
pub const TREZOR_ONE_HID_PRODUCT_ID: u16 = 0x0001;
/// The legacy Trezor One's HID usage page.
pub const TREZOR_ONE_USAGE_PAGE: u16 = 0xff00;
/// The USB vendor id of current Trezors (WebUSB).
pub const TREZOR_VENDOR_ID: u16 = 0x1209;
/// The product id of a current Trezor running its firmware.
pub const TREZOR_PRODUCT_ID: u16 = 0x53c1;
/// The product id of a current Trezor in bootloader mode.
pub const TREZOR_BOOTLOADER_PRODUCT_ID: u16 = 0x53c0;
/// The USB interface that carries a current Trezor's messages.
pub const TREZOR_INTERFACE: u8 = 0;
/// The USB class of that interface (vendor specific).
pub const VENDOR_SPECIFIC_CLASS: u8 = 0xff;
/// The FIDO/U2F HID usage page, never a wallet's protocol interface.
pub const FIDO_USAGE_PAGE: u16 = 0xf1d0;

/// The kinds of device the crate can talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceKind {
    /// A Ledger, over HID.
    Ledger,
    /// A Trezor One with firmware before 1.7, over HID.
    TrezorOneHid,
    /// A current Trezor (One >= 1.7, T, Safe), over USB/WebUSB.
    Trezor,
    /// A current Trezor in bootloader mode: it cannot sign until restarted.
    TrezorBootloader,
}

impl DeviceKind {
    /// A lowercase name for messages.
    pub fn name(self) -> &'static str {
        match self {
            DeviceKind::Ledger => "ledger",
            DeviceKind::TrezorOneHid => "trezor one",
            DeviceKind::Trezor => "trezor",
            DeviceKind::TrezorBootloader => "trezor (bootloader)",
        }
    }

    /// True for the Trezor kinds.
    pub fn is_trezor(self) -> bool {
        !matches!(self, DeviceKind::Ledger)
    }
}

/// The error for a Trezor found in bootloader mode.
pub fn bootloader_error() -> Error {
    Error::Unsupported("the trezor is in bootloader mode: restart it normally".into())
}

/// Classifies one HID interface.
///
/// `usage_page` is `None` (or 0) where the platform does not report it; the interface
/// number then decides (a wallet's protocol interface is interface 0). `interface` is
/// `None` where unknown (WebHID), and then the interface is taken.
pub fn classify_hid(
    vendor_id: u16,
    product_id: u16,
    usage_page: Option<u16>,
    interface: Option<i32>,
) -> Option<DeviceKind> {
    let unknown_page = matches!(usage_page, None | Some(0));
    let first_interface = matches!(interface, None | Some(0));
    let page_is = |page: u16| usage_page == Some(page) || (unknown_page && first_interface);
    match (vendor_id, product_id) {
        (LEDGER_VENDOR_ID, _) if page_is(LEDGER_USAGE_PAGE) => Some(DeviceKind::Ledger),
        (TREZOR_ONE_HID_VENDOR_ID, TREZOR_ONE_HID_PRODUCT_ID) if page_is(TREZOR_ONE_USAGE_PAGE) => {
            Some(DeviceKind::TrezorOneHid)
        }
        _ => None,
    }
}

/// Classifies one USB device by its ids and the class of its interface 0 (`None`
/// where unknown). Only current Trezors are USB (not HID) devices here.
pub fn classify_usb(
    vendor_id: u16,
    product_id: u16,
    interface_class: Option<u8>,
) -> Option<DeviceKind> {
    if vendor_id != TREZOR_VENDOR_ID || interface_class.is_some_and(|c| c != VENDOR_SPECIFIC_CLASS)
    {
        return None;
    }
    match product_id {
        TREZOR_PRODUCT_ID => Some(DeviceKind::Trezor),
        TREZOR_BOOTLOADER_PRODUCT_ID => Some(DeviceKind::TrezorBootloader),
        _ => None,
    }
}

/// Classifies what a transport reports about its device: a HID identity when a usage
/// page is known or the ids are HID-only, else a USB one.
pub fn classify(identity: &Identity) -> Option<DeviceKind> {
    classify_usb(identity.vendor_id, identity.product_id, None).or_else(|| {
        classify_hid(
            identity.vendor_id,
            identity.product_id,
            identity.usage_page,
            None,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_only_on_its_usage_page_or_first_interface() {
        let kind = Some(DeviceKind::Ledger);
        assert_eq!(classify_hid(0x2c97, 0x4015, Some(0xffa0), Some(0)), kind);
        assert_eq!(classify_hid(0x2c97, 0x4015, Some(0xffa0), Some(2)), kind);
        assert_eq!(classify_hid(0x2c97, 0x0001, None, None), kind);
        assert_eq!(classify_hid(0x2c97, 0x5011, Some(0), Some(0)), kind);
        assert_eq!(classify_hid(0x2c97, 0x5011, Some(0), Some(1)), None);
        assert_eq!(
            classify_hid(0x2c97, 0x4015, Some(FIDO_USAGE_PAGE), Some(1)),
            None
        );
        assert_eq!(classify_hid(0x2c97, 0x4015, Some(0x0001), Some(0)), None);
    }

    #[test]
    fn legacy_trezor_one_over_hid() {
        let kind = Some(DeviceKind::TrezorOneHid);
        assert_eq!(classify_hid(0x534c, 0x0001, Some(0xff00), Some(0)), kind);
        assert_eq!(classify_hid(0x534c, 0x0001, None, None), kind);
        assert_eq!(classify_hid(0x534c, 0x0001, Some(0), Some(0)), kind);
        // Its U2F interface, and other products of the vendor, are not it.
        assert_eq!(
            classify_hid(0x534c, 0x0001, Some(FIDO_USAGE_PAGE), Some(1)),
            None
        );
        assert_eq!(classify_hid(0x534c, 0x0001, Some(0), Some(1)), None);
        assert_eq!(classify_hid(0x534c, 0x0002, Some(0xff00), Some(0)), None);
        // A ledger usage page on a trezor id is not a ledger.
        assert_eq!(classify_hid(0x534c, 0x0001, Some(0xffa0), Some(0)), None);
    }

    #[test]
    fn current_trezors_are_never_hid_wallets() {
        // Their only HID interface is FIDO.
        assert_eq!(
            classify_hid(0x1209, 0x53c1, Some(FIDO_USAGE_PAGE), Some(1)),
            None
        );
        assert_eq!(classify_hid(0x1209, 0x53c1, None, None), None);
    }

    #[test]
    fn current_trezors_over_usb() {
        assert_eq!(
            classify_usb(0x1209, 0x53c1, Some(0xff)),
            Some(DeviceKind::Trezor)
        );
        assert_eq!(classify_usb(0x1209, 0x53c1, None), Some(DeviceKind::Trezor));
        assert_eq!(
            classify_usb(0x1209, 0x53c0, Some(0xff)),
            Some(DeviceKind::TrezorBootloader)
        );
        // A HID (0x03) interface 0, another product of the vendor id, another vendor.
        assert_eq!(classify_usb(0x1209, 0x53c1, Some(0x03)), None);
        assert_eq!(classify_usb(0x1209, 0x1234, Some(0xff)), None);
        assert_eq!(classify_usb(0x2c97, 0x53c1, Some(0xff)), None);
    }

    #[test]
    fn identities_from_any_transport() {
        let id = |vendor_id, product_id, usage_page| Identity {
            vendor_id,
            product_id,
            usage_page,
            product_name: String::new(),
        };
        assert_eq!(
            classify(&id(0x2c97, 0x4015, Some(0xffa0))),
            Some(DeviceKind::Ledger)
        );
        assert_eq!(
            classify(&id(0x534c, 0x0001, Some(0xff00))),
            Some(DeviceKind::TrezorOneHid)
        );
        assert_eq!(
            classify(&id(0x1209, 0x53c1, None)),
            Some(DeviceKind::Trezor)
        );
        assert_eq!(
            classify(&id(0x1209, 0x53c0, None)),
            Some(DeviceKind::TrezorBootloader)
        );
        assert_eq!(classify(&id(0, 0, None)), None);
        assert!(DeviceKind::TrezorOneHid.is_trezor());
        assert!(!DeviceKind::Ledger.is_trezor());
        assert_eq!(
            bootloader_error().to_string(),
            "unsupported: the trezor is in bootloader mode: restart it normally"
        );
    }
}
