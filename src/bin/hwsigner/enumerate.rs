//! `enumerate`: the wallets plugged in, one per line.

use hwsigner::protocol::identify::models::ledger_model;
use hwsigner::protocol::identify::{classify, DeviceKind};
use hwsigner::transport::{list_devices, Identity};

use crate::commands::Output;
use crate::failure::Failure;
use crate::json::Json;

/// One line per wallet: vendor, model, `vendor:product` ids and the link
/// (`--device hid` or `usb`), tab-separated; a sentence when there is none. With
/// `--json`: `{"devices": [{"vendor", "model", "id", "link"}, ...]}`.
///
/// # Errors
/// `transport` when neither hidapi nor USB can list devices.
pub fn run() -> Result<Output, Failure> {
    let found: Vec<[String; 4]> = list_devices()?.iter().filter_map(fields).collect();
    let mut text: Vec<String> = found.iter().map(|f| f.join("\t")).collect();
    if text.is_empty() {
        text.push("no wallet found (ledgers and trezor ones on hid, trezors on usb)".into());
    }
    let devices = found
        .iter()
        .map(|[vendor, model, id, link]| {
            Json::strings(&[
                ("vendor", vendor),
                ("model", model),
                ("id", id),
                ("link", link),
            ])
        })
        .collect();
    Ok(Output {
        text,
        json: Json::Object(vec![("devices", Json::Array(devices))]),
    })
}

/// Vendor, model, `vendor:product` ids and link of one listed interface, if it is a
/// wallet.
fn fields(id: &Identity) -> Option<[String; 4]> {
    let (vendor, model, link) = match classify(id)? {
        DeviceKind::Ledger => ("ledger", ledger_model(id.product_id).to_string(), "hid"),
        DeviceKind::TrezorOneHid => ("trezor", "One".to_string(), "hid"),
        DeviceKind::Trezor => ("trezor", id.product_name.clone(), "usb"),
        DeviceKind::TrezorBootloader => (
            "trezor",
            format!("{} (bootloader mode: restart it)", id.product_name),
            "usb",
        ),
        _ => return None,
    };
    Some([
        vendor.into(),
        model,
        format!("{:04x}:{:04x}", id.vendor_id, id.product_id),
        link.into(),
    ])
}

/// The line of one listed interface, if it is a wallet.
#[cfg(test)]
fn line(id: &Identity) -> Option<String> {
    fields(id).map(|f| f.join("\t"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_name_vendor_model_ids_and_link() {
        let nano_x = Identity {
            vendor_id: 0x2c97,
            product_id: 0x4015,
            usage_page: Some(0xffa0),
            product_name: "Nano X".into(),
        };
        assert_eq!(line(&nano_x).unwrap(), "ledger\tNano X\t2c97:4015\thid");
        let trezor = Identity {
            vendor_id: 0x1209,
            product_id: 0x53c1,
            usage_page: None,
            product_name: "TREZOR".into(),
        };
        assert_eq!(line(&trezor).unwrap(), "trezor\tTREZOR\t1209:53c1\tusb");
        assert_eq!(line(&Identity::default()), None);
    }
}
