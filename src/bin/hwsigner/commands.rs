//! Running a checked [`Call`] on a device: one `Device` call, its [`Output`] for
//! stdout, progress on stderr; and `sample-psbt`, which needs no device.

use bitcoin::hex::DisplayHex;
use futures::executor::block_on;
use hwsigner::device::{Device, Status, Vendor};
use hwsigner::protocol::psbt::raw;
use hwsigner::sim::sample;
use hwsigner::sim::seed::{Seed, SPECULOS_MNEMONIC, TREZOR_TEST_MNEMONIC};

use crate::call::Call;
use crate::failure::Failure;
use crate::json::Json;

/// Prints what the device is doing on stderr.
pub fn report_statuses(device: &mut Device) {
    device.on_status(|s| match s {
        Status::OpenApp(app) => eprintln!("opening the {app} app"),
        Status::ConfirmOnDevice => eprintln!("confirm on the device"),
        Status::EnterPinOnDevice => eprintln!("enter the pin on the device"),
        Status::EnterPassphraseOnDevice => eprintln!("enter the passphrase on the device"),
        Status::Signing { index, total } => eprintln!("signing {index}/{total}"),
        _ => {}
    });
}

/// A command's result: lines of text, or one JSON object with `--json`.
#[derive(Debug)]
pub struct Output {
    /// The lines printed without `--json`.
    pub text: Vec<String>,
    /// The object printed with `--json`.
    pub json: Json,
}

impl Output {
    /// One line of text that is also the one field of the object.
    pub fn single(key: &'static str, value: String) -> Self {
        Output {
            json: Json::Object(vec![(key, value.clone().into())]),
            text: vec![value],
        }
    }

    /// Prints it on stdout.
    pub fn print(&self, json: bool) {
        if json {
            println!("{}", self.json.render());
        } else {
            for line in &self.text {
                println!("{line}");
            }
        }
    }
}

/// Runs `call` and returns its result.
///
/// # Errors
/// The device's error.
pub fn run(device: &mut Device, call: Call) -> Result<Output, Failure> {
    Ok(match call {
        Call::Info => {
            let info = block_on(device.info())?;
            let mut text = vec![
                format!("vendor: {}", info.vendor.name()),
                format!("model: {}", info.model),
            ];
            if let Some(app) = &info.app {
                text.push(format!("app: {app}"));
            }
            text.push(format!("version: {}", info.version));
            Output {
                text,
                json: Json::Object(vec![
                    ("vendor", info.vendor.name().into()),
                    ("model", info.model.into()),
                    ("app", info.app.into()),
                    ("version", info.version.into()),
                ]),
            }
        }
        Call::Fingerprint => Output::single(
            "fingerprint",
            block_on(device.master_fingerprint())?.to_string(),
        ),
        Call::Xpub { path, display } => {
            Output::single("xpub", block_on(device.xpub(&path, display))?.to_string())
        }
        Call::Address(request) => {
            let address = block_on(device.address(&request))?;
            if request.allow_unverified && !host_derives(&request) {
                eprintln!("warning: the host cannot derive this address: it is the device's word");
            }
            Output::single("address", address)
        }
        Call::Register(policy) => {
            let registration = block_on(device.register_policy(&policy))?;
            let id = registration.id.to_lower_hex_string();
            let hmac = registration.hmac.to_lower_hex_string();
            Output {
                text: vec![format!("wallet-id {id}"), format!("hmac {hmac}")],
                json: Json::strings(&[("wallet_id", &id), ("hmac", &hmac)]),
            }
        }
        Call::SignPsbt(psbt, options) => {
            let signed = block_on(device.sign_psbt(&psbt, &options))?;
            if options.finalize && signed.transaction.is_none() {
                eprintln!("not finalized yet: a musig2 session waits for the other participants");
            }
            let psbt = raw::encode_base64(&signed.psbt.serialize());
            let mut text = vec![psbt.clone()];
            let mut json = vec![("psbt", Json::from(psbt))];
            if let Some(tx) = signed.transaction {
                let hex = bitcoin::consensus::encode::serialize_hex(&tx);
                text.push(hex.clone());
                json.push(("tx", hex.into()));
            }
            Output {
                text,
                json: Json::Object(json),
            }
        }
        Call::SignMessage(path, message) => Output::single(
            "signature",
            block_on(device.sign_message(&path, message.as_bytes()))?,
        ),
    })
}

/// True when the host derives the address of `request` itself (and so has compared
/// the device's with it).
fn host_derives(request: &hwsigner::device::AddressRequest) -> bool {
    use hwsigner::device::AddressSource;
    use hwsigner::protocol::ledger::btc::client::policy_network;
    use hwsigner::protocol::policy::{derive_address, descriptor::policy_from_descriptor};
    let (policy, change) = match &request.source {
        AddressSource::Policy(p, _) => (p.clone(), request.change),
        AddressSource::Descriptor(d) => match policy_from_descriptor(d, "") {
            Ok(dp) => (dp.policy, dp.branch.map_or(request.change, |b| b == 1)),
            Err(_) => return false,
        },
        _ => return false,
    };
    derive_address(&policy, change, request.index, policy_network(&policy)).is_ok()
}

/// `sample-psbt`: a PSBT spending `inputs` made-up coins of `policy`, or of the
/// standard wpkh policy of a simulated wallet's seed (m/84'/1'/0' on testnet,
/// m/84'/0'/0' on mainnet).
///
/// # Errors
/// `invalid-input` for 0 inputs or a policy without receive and change branches.
pub fn sample_psbt(
    vendor: Vendor,
    testnet: bool,
    inputs: usize,
    policy: Option<hwsigner::policy::WalletPolicy>,
) -> Result<Output, Failure> {
    if let Some(policy) = policy {
        let psbt = sample::funded_psbt(&policy, inputs)?;
        return Ok(Output::single(
            "psbt",
            raw::encode_base64(&psbt.serialize()),
        ));
    }
    let mnemonic = match vendor {
        Vendor::Ledger => SPECULOS_MNEMONIC,
        Vendor::Trezor => TREZOR_TEST_MNEMONIC,
        other => {
            return Err(
                hwsigner::Error::Unsupported(format!("no simulated {}", other.name())).into(),
            )
        }
    };
    let seed = Seed::from_mnemonic(mnemonic, "")?;
    let policy = sample::wpkh_policy(&seed, testnet)?;
    let psbt = sample::funded_psbt(&policy, inputs)?;
    Ok(Output::single(
        "psbt",
        raw::encode_base64(&psbt.serialize()),
    ))
}
