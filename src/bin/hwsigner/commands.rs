//! Running a checked [`Call`] on a device: one `Device` call, the result on stdout,
//! progress on stderr.

use bitcoin::hex::DisplayHex;
use futures::executor::block_on;
use hwsigner::device::{Device, Status};
use hwsigner::psbt::raw;

use crate::call::Call;
use crate::failure::Failure;

/// Prints what the device is doing on stderr.
pub fn report_statuses(device: &mut Device) {
    device.on_status(|s| match s {
        Status::OpenApp(app) => eprintln!("opening the {app} app"),
        Status::ConfirmOnDevice => eprintln!("confirm on the device"),
        Status::EnterPin => eprintln!("enter the pin on the device"),
        Status::EnterPassphrase => eprintln!("enter the passphrase on the device"),
        Status::Signing { index, total } => eprintln!("signing {index}/{total}"),
        _ => {}
    });
}

/// Runs `call` and prints its result.
///
/// # Errors
/// The device's error.
pub fn run(device: &mut Device, call: Call) -> Result<(), Failure> {
    match call {
        Call::Info => {
            let info = block_on(device.info())?;
            println!("vendor: {}", info.vendor.name());
            println!("model: {}", info.model);
            if let Some(app) = info.app {
                println!("app: {app}");
            }
            println!("version: {}", info.version);
        }
        Call::Fingerprint => println!("{}", block_on(device.master_fingerprint())?),
        Call::Xpub { path, display } => println!("{}", block_on(device.xpub(&path, display))?),
        Call::Address(request) => println!("{}", block_on(device.address(&request))?),
        Call::Register(policy) => {
            let registration = block_on(device.register_policy(&policy))?;
            println!("wallet-id {}", registration.id.to_lower_hex_string());
            println!("hmac {}", registration.hmac.to_lower_hex_string());
        }
        Call::SignPsbt(psbt, options) => {
            let signed = block_on(device.sign_psbt(&psbt, &options))?;
            println!("{}", raw::encode_base64(&signed.psbt.serialize()));
            if let Some(tx) = signed.transaction {
                println!("{}", bitcoin::consensus::encode::serialize_hex(&tx));
            }
        }
        Call::SignMessage(path, message) => {
            println!(
                "{}",
                block_on(device.sign_message(&path, message.as_bytes()))?
            )
        }
    }
    Ok(())
}
