//! [`Device`]: one API for every supported wallet, whatever the vendor and the link.
//!
//! A device is picked from what its transport says it is (USB ids, HID usage page), or
//! named explicitly for emulator sockets. Every operation takes and returns the
//! ecosystem's formats: BIP-32 paths, descriptors or BIP-388 policies, PSBTs; the
//! caller never sees a CLA byte or a protobuf type.

mod message_key;
mod provenance;

use bitcoin::bip32::{DerivationPath, Fingerprint};

use crate::driver::ledger::Ledger;
use crate::driver::prompts::{Hooks, Prompts};
use crate::driver::trezor::Trezor;
use crate::error::{Error, Result};
use crate::protocol::identify::models::ledger_model;
use crate::protocol::identify::{classify, DeviceKind};
use crate::protocol::ledger::btc::client::{policy_network, Registration};
use crate::protocol::ledger::btc::merkle::Hash32;
use crate::protocol::policy::descriptor::policy_from_descriptor;
use crate::protocol::policy::WalletPolicy;
use crate::protocol::psbt::raw::RawPsbt;

pub use crate::protocol::machine::{Passphrase, PinKind, Status};
pub use crate::protocol::psbt::signing::{SignOptions, Signed};
use crate::transport::Transport;

/// A wallet maker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Vendor {
    /// Ledger (Bitcoin app).
    Ledger,
    /// Trezor (codec v1 firmware).
    Trezor,
}

impl Vendor {
    /// `ledger` or `trezor`.
    pub fn name(self) -> &'static str {
        match self {
            Vendor::Ledger => "ledger",
            Vendor::Trezor => "trezor",
        }
    }
}

/// What a device is and runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The maker.
    pub vendor: Vendor,
    /// `Nano X`, `T`, `Safe 3`, ...
    pub model: String,
    /// Ledger: the open app (`Bitcoin`, `Bitcoin Test`, `BOLOS`); Trezor: none.
    pub app: Option<String>,
    /// Ledger: the app's version; Trezor: the firmware's.
    pub version: String,
}

/// Where an address comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressSource {
    /// An output descriptor with ranged keys (`wpkh([fpr/84'/0'/0']xpub…/0/*)`).
    Descriptor(String),
    /// A BIP-388 wallet policy, with its hmac when registered (Ledger).
    Policy(WalletPolicy, Option<Hash32>),
}

/// An address request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRequest {
    /// The descriptor or policy.
    pub source: AddressSource,
    /// Change branch instead of receive (for multipath keys).
    pub change: bool,
    /// Address index.
    pub index: u32,
    /// Show it on the device for the user to check.
    pub display: bool,
    /// Accept the device's address where the host cannot derive it to compare (a
    /// policy it cannot parse or without an address form); without this such a request
    /// fails with `invalid-input` before anything is sent.
    pub allow_unverified: bool,
}

/// One connected wallet.
#[non_exhaustive]
pub enum Device {
    /// A Ledger.
    Ledger(Ledger<Box<dyn Transport>>),
    /// A Trezor.
    Trezor(Trezor<Box<dyn Transport>>),
}

impl core::fmt::Debug for Device {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Device").field(&self.vendor()).finish()
    }
}

impl Device {
    /// The device behind `transport`, picked from its USB identity.
    ///
    /// # Errors
    /// `unsupported` for a device that is not a wallet this crate knows (or a Trezor in
    /// bootloader mode).
    pub fn open(transport: Box<dyn Transport>) -> Result<Self> {
        match classify(&transport.identity()) {
            Some(DeviceKind::Ledger) => Ok(Self::ledger(transport)),
            Some(DeviceKind::Trezor | DeviceKind::TrezorOneHid) => Ok(Self::trezor(transport)),
            Some(DeviceKind::TrezorBootloader) => {
                Err(crate::protocol::identify::bootloader_error())
            }
            None => Err(Error::Unsupported(format!(
                "{:04x}:{:04x} is not a supported wallet",
                transport.identity().vendor_id,
                transport.identity().product_id
            ))),
        }
    }

    /// A Ledger over `transport` (for links without USB ids, like Speculos).
    pub fn ledger(transport: Box<dyn Transport>) -> Self {
        Device::Ledger(Ledger::new(transport))
    }

    /// A Trezor over `transport` (for links without USB ids, like the emulator).
    pub fn trezor(transport: Box<dyn Transport>) -> Self {
        Device::Trezor(Trezor::new(transport))
    }

    /// The maker.
    pub fn vendor(&self) -> Vendor {
        match self {
            Device::Ledger(_) => Vendor::Ledger,
            Device::Trezor(_) => Vendor::Trezor,
        }
    }

    /// The status callback, the PIN and passphrase handlers, the time-out and the
    /// abort handle: what the drive loop reports to and asks.
    pub fn hooks(&mut self) -> &mut Hooks {
        match self {
            Device::Ledger(l) => l.hooks(),
            Device::Trezor(t) => t.hooks(),
        }
    }

    /// Sets the callback that receives [`Status`] events.
    pub fn on_status(&mut self, callback: impl FnMut(Status) + 'static) {
        self.hooks().on_status(callback);
    }

    /// Sets the handlers that give a PIN or a passphrase when the device asks.
    pub fn set_prompts(&mut self, prompts: Box<dyn Prompts>) {
        self.hooks().set_prompts(prompts);
    }

    /// Sets how long to wait for each reply.
    pub fn set_timeout_ms(&mut self, timeout_ms: u32) {
        self.hooks().timeout_ms = timeout_ms;
    }

    /// What the device is and runs.
    ///
    /// # Errors
    /// Transport and protocol errors.
    pub async fn info(&mut self) -> Result<DeviceInfo> {
        match self {
            Device::Ledger(l) => {
                let product = l.transport().identity().product_id;
                let app = l.app_info().await?;
                Ok(DeviceInfo {
                    vendor: Vendor::Ledger,
                    model: ledger_model(product).into(),
                    app: Some(app.name),
                    version: app.version,
                })
            }
            Device::Trezor(t) => {
                let i = t.info().await?;
                let (a, b, c) = i.version;
                Ok(DeviceInfo {
                    vendor: Vendor::Trezor,
                    model: i.model,
                    app: None,
                    version: format!("{a}.{b}.{c}"),
                })
            }
        }
    }

    /// The master key fingerprint.
    ///
    /// # Errors
    /// Transport, device and protocol errors.
    pub async fn master_fingerprint(&mut self) -> Result<Fingerprint> {
        match self {
            Device::Ledger(l) => l.master_fingerprint().await,
            Device::Trezor(t) => t.master_fingerprint().await,
        }
    }

    /// The address of a descriptor or policy at an index, checked against the host's
    /// own derivation.
    ///
    /// # Errors
    /// `invalid-input` for a descriptor the device cannot show, or a policy whose
    /// address the host cannot derive (unless `allow_unverified`); `unsupported` for a
    /// policy on a Trezor; `protocol` when the device's address is not the host's.
    pub async fn address(&mut self, request: &AddressRequest) -> Result<String> {
        match self {
            Device::Ledger(l) => {
                let (policy, hmac, change) = match &request.source {
                    AddressSource::Policy(p, h) => (p.clone(), *h, request.change),
                    AddressSource::Descriptor(d) => {
                        let dp = policy_from_descriptor(d, "")?;
                        (
                            dp.policy,
                            None,
                            dp.branch.map_or(request.change, |b| b == 1),
                        )
                    }
                };
                if request.allow_unverified {
                    l.address_unverified(
                        &policy,
                        hmac.as_ref(),
                        change,
                        request.index,
                        request.display,
                    )
                    .await
                } else {
                    l.address(
                        &policy,
                        hmac.as_ref(),
                        change,
                        request.index,
                        request.display,
                    )
                    .await
                }
            }
            Device::Trezor(t) => {
                let AddressSource::Descriptor(text) = &request.source else {
                    return Err(Error::Unsupported(
                        "a trezor shows addresses of descriptors, not of wallet policies".into(),
                    ));
                };
                trezor_address(t, text, request).await
            }
        }
    }

    /// Registers a wallet policy (Ledger); Trezor has no such thing.
    ///
    /// # Errors
    /// `unsupported` on a Trezor; `user-rejected` when declined.
    pub async fn register_policy(&mut self, policy: &WalletPolicy) -> Result<Registration> {
        match self {
            Device::Ledger(l) => l.register_policy(policy).await,
            Device::Trezor(_) => Err(Error::Unsupported(
                "trezor has no wallet policy registration".into(),
            )),
        }
    }

    /// Signs `psbt`: returns a new PSBT with the verified signatures (finalized and
    /// extracted when asked). The caller's PSBT is never modified.
    ///
    /// With MuSig2, finalizing waits for every participant's partial signature: while a
    /// session is under way the signed PSBT comes back as it is (no transaction), so a
    /// device's one-time round-2 partial signatures are never lost to a failed finalize.
    ///
    /// # Errors
    /// `invalid-input` for a PSBT the device cannot sign, or one with an input asking
    /// for a sighash other than ALL / DEFAULT (unless allowed); `user-rejected`;
    /// `protocol` when a signature does not verify; transport errors.
    pub async fn sign_psbt(&mut self, psbt: &RawPsbt, options: &SignOptions) -> Result<Signed> {
        crate::protocol::psbt::sighash::check(&psbt.view()?, options.allow_non_default_sighash)?;
        let mut signed = match self {
            Device::Ledger(l) => l.sign_psbt(psbt, options).await?,
            Device::Trezor(t) => t.sign_psbt(psbt, options).await?,
        };
        #[cfg(feature = "musig")]
        let pending = options.finalize && crate::protocol::musig::pending(&signed.psbt)?;
        #[cfg(not(feature = "musig"))]
        let pending = false;
        if !options.finalize || pending {
            signed.transaction = None;
            return Ok(signed);
        }
        let (psbt, transaction) = finalize(&signed.psbt)?;
        signed.psbt = psbt;
        signed.transaction = Some(transaction);
        Ok(signed)
    }

    /// Signs `message` with the key at `path` (BIP-137), returning base64. The
    /// signature is checked to be by the key at `path` (Trezor: by the address it
    /// reports; Ledger: by the device's public key at `path`).
    ///
    /// # Errors
    /// `user-rejected`; `protocol` when the signature is not by that key over this
    /// message; transport, device and protocol errors.
    pub async fn sign_message(&mut self, path: &DerivationPath, message: &[u8]) -> Result<String> {
        match self {
            Device::Ledger(l) => {
                // The Ledger answers a bare signature: check it against the key the
                // device has at `path` (asked after signing, so the user sees the
                // message first and a refusal stays a refusal). Off the standard paths
                // the app gives no key without showing it (0x6a82, not supported):
                // there the signature is only checked to recover a key.
                let signature = l.sign_message(path, message).await?;
                match l.xpub(path, false).await {
                    Ok(x) => message_key::check(&signature, message, &x.public_key, path)?,
                    Err(Error::Device { code: 0x6a82, .. }) => {}
                    Err(e) => return Err(e),
                }
                Ok(signature)
            }
            Device::Trezor(t) => Ok(t.sign_message(path, message).await?.base64()),
        }
    }

    /// Locks the device (Trezor: LockDevice; the PIN is asked again and the passphrase
    /// forgotten).
    ///
    /// # Errors
    /// `unsupported` on a Ledger, which only locks itself; transport errors.
    pub async fn lock(&mut self) -> Result<()> {
        match self {
            Device::Trezor(t) => t.lock().await,
            Device::Ledger(_) => Err(Error::Unsupported(
                "a ledger locks itself; the host cannot lock it".into(),
            )),
        }
    }

    /// Releases the device (a Trezor's passphrase session is ended first).
    ///
    /// # Errors
    /// Transport errors.
    pub async fn close(&mut self) -> Result<()> {
        match self {
            Device::Ledger(l) => l.close().await,
            Device::Trezor(t) => t.close().await,
        }
    }

    /// The Ledger inside, for Ledger-only calls (opening an app).
    pub fn as_ledger(&mut self) -> Option<&mut Ledger<Box<dyn Transport>>> {
        match self {
            Device::Ledger(l) => Some(l),
            Device::Trezor(_) => None,
        }
    }

    /// The Trezor inside, for Trezor-only calls (PIN, passphrase, coin).
    pub fn as_trezor(&mut self) -> Option<&mut Trezor<Box<dyn Transport>>> {
        match self {
            Device::Trezor(t) => Some(t),
            Device::Ledger(_) => None,
        }
    }
}

/// A Trezor address of a single-key or multisig descriptor, checked against the host.
async fn trezor_address(
    t: &mut Trezor<Box<dyn Transport>>,
    text: &str,
    request: &AddressRequest,
) -> Result<String> {
    let dp = policy_from_descriptor(text, "")?;
    let change = dp.branch.map_or(request.change, |b| b == 1);
    if dp.policy.keys.len() > 1 || text.contains("multi(") {
        return t
            .multisig_address(text, change, request.index, request.display)
            .await;
    }
    let key = match crate::protocol::policy::forms::Form::parse(text)? {
        Some(form) => form.keys().first().cloned(),
        None => None,
    }
    .ok_or_else(|| {
        Error::invalid(
            "descriptor",
            "a trezor shows single-key (pkh, sh(wpkh), wpkh, tr) and multisig addresses",
        )
    })?;
    let origin = key.origin.map(|(_, p)| p).ok_or_else(|| {
        Error::invalid(
            "descriptor",
            "the key needs its origin ([fingerprint/path]xpub…)",
        )
    })?;
    let path = origin.extend([
        bitcoin::bip32::ChildNumber::Normal {
            index: u32::from(change),
        },
        bitcoin::bip32::ChildNumber::Normal {
            index: request.index,
        },
    ]);
    let expected = crate::protocol::policy::derive_address(
        &dp.policy,
        change,
        request.index,
        policy_network(&dp.policy),
    )?;
    let got = t.address(&path, request.display).await?;
    if got != expected {
        return Err(Error::protocol(format!(
            "the device shows address {got}, the host derives {expected}"
        )));
    }
    Ok(got)
}

/// Finalizes a signed PSBT and extracts its transaction: the standard forms always,
/// other scripts with the `miniscript` add-on (see
/// [`crate::protocol::psbt::finalize::finalize`]). MuSig2 partial signatures (BIP-373)
/// are aggregated first, into Schnorr signatures checked against their sighash (see
/// [`crate::protocol::musig::aggregate`]; the `musig` add-on).
///
/// # Errors
/// `invalid-input` when the PSBT cannot be finalized (missing signatures, partial
/// signatures of only some MuSig2 participants), naming why; `unsupported` for MuSig2
/// partial signatures without the `musig` add-on.
pub fn finalize(psbt: &RawPsbt) -> Result<(RawPsbt, bitcoin::Transaction)> {
    #[cfg(feature = "musig")]
    {
        crate::protocol::psbt::finalize::finalize(&crate::protocol::musig::aggregate(psbt)?)
    }
    #[cfg(not(feature = "musig"))]
    {
        use crate::protocol::musig::fields;
        if psbt
            .inputs
            .iter()
            .any(|m| fields::has(m, fields::IN_PARTIAL_SIG))
        {
            return Err(crate::protocol::musig::unsupported());
        }
        crate::protocol::psbt::finalize::finalize(psbt)
    }
}
