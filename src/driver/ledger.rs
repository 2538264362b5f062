//! [`Ledger`]: a Ledger over a transport, one call at a time, with the flows that take
//! several requests: standard-policy inference for signing, opening the Bitcoin app
//! (following the device through its USB re-enumeration), and the keys it already told.

use bitcoin::bip32::{DerivationPath, Fingerprint, Xpub};

use crate::driver::link::Link;
use crate::driver::prompts::Hooks;
use crate::error::{Error, Result};
use crate::protocol::ledger::btc::client::{self, Registration};
use crate::protocol::ledger::btc::merkle::Hash32;
use crate::protocol::ledger::dashboard::{self, AppInfo};
use crate::protocol::ledger::framing::LedgerCodec;
use crate::protocol::ledger::request::Request;
use crate::protocol::machine::Status;
use crate::protocol::policy::standard;
use crate::protocol::policy::WalletPolicy;
use crate::protocol::psbt::raw::RawPsbt;
use crate::protocol::psbt::signing::{SignOptions, Signed};
use crate::transport::Transport;

pub use crate::driver::prompts::DEFAULT_TIMEOUT_MS;
/// How long a device may take to come back after opening or quitting an app.
pub const REENUMERATION_TIMEOUT_MS: u32 = 10_000;

/// Fails for a Bitcoin app older than 2.1, whose protocol this client does not speak.
fn check_protocol(info: AppInfo) -> Result<AppInfo> {
    let mut parts = info
        .version
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if info.name.starts_with("Bitcoin") && (major, minor) < (2, 1) {
        return Err(Error::Unsupported(format!(
            "bitcoin app {} speaks the legacy protocol: update it to 2.1 or later",
            info.version
        )));
    }
    Ok(info)
}

/// A Ledger device running (or about to run) the Bitcoin app.
pub struct Ledger<T: Transport> {
    link: Link<T, LedgerCodec>,
    hooks: Hooks,
    /// The master fingerprint and account xpubs that signing without a policy asked
    /// for, so that the next signing sends no extra APDUs; dropped on a disconnect.
    known: Known,
}

/// What this device told the host about its keys.
#[derive(Debug, Default)]
struct Known {
    fingerprint: Option<Fingerprint>,
    xpubs: Vec<(DerivationPath, Xpub)>,
}

impl<T: Transport> core::fmt::Debug for Ledger<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ledger")
            .field("identity", &self.link.transport_ref().identity())
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Ledger<T> {
    /// A Ledger over `transport`.
    pub fn new(transport: T) -> Self {
        Ledger {
            link: Link::new(transport, LedgerCodec::default()),
            hooks: Hooks::default(),
            known: Known::default(),
        }
    }

    /// Sets how long to wait for each reply.
    pub fn set_timeout_ms(&mut self, timeout_ms: u32) {
        self.hooks.timeout_ms = timeout_ms;
    }

    /// The status callback, prompts, time-out and abort handle of this device.
    pub fn hooks(&mut self) -> &mut Hooks {
        &mut self.hooks
    }

    /// Sets the callback that receives [`Status`] events.
    pub fn on_status(&mut self, callback: impl FnMut(Status) + 'static) {
        self.hooks.on_status(callback);
    }

    fn status(&mut self, status: Status) {
        self.hooks.status(status);
    }

    /// The transport underneath.
    pub fn transport(&mut self) -> &mut T {
        self.link.transport()
    }

    /// Sends one APDU and returns the raw reply (data and status word).
    ///
    /// # Errors
    /// Transport errors, and `protocol` for badly framed replies.
    pub async fn exchange(&mut self, apdu: &[u8]) -> Result<Vec<u8>> {
        let reply = self
            .link
            .exchange(&apdu.to_vec(), self.hooks.timeout_ms, None)
            .await;
        self.forget_on_disconnect(&reply);
        reply
    }

    /// Whatever comes back after a disconnect may be another device.
    fn forget_on_disconnect<R>(&mut self, result: &Result<R>) {
        if matches!(result, Err(Error::Disconnected)) {
            self.known = Known::default();
        }
    }

    /// Drives `request` to its end, first getting back in step if a reply was given up
    /// on (see [`Ledger::resync`]).
    ///
    /// # Errors
    /// Whatever the exchange or the request reports.
    pub async fn run<R>(&mut self, request: Request<R>) -> Result<R> {
        if self.link.take_dirty() {
            self.resync().await?;
        }
        let result = crate::driver::drive(&mut self.link, &mut self.hooks, request).await;
        self.forget_on_disconnect(&result);
        result
    }

    /// Gets back in step after a reply was given up on. A late reply would pass the
    /// channel and sequence checks of the old channel, so the link moves to a new
    /// channel (the device answers on the channel it is asked on) and whatever arrived
    /// is dropped (a Speculos socket reconnects). A command the app left waiting for a
    /// client command's answer ends at the next command (0xb007): a harmless one
    /// (GET_MASTER_FINGERPRINT) takes that, whatever it answers.
    ///
    /// # Errors
    /// Transport errors, and `timeout` when the device is still busy (the next call
    /// tries again).
    pub async fn resync(&mut self) -> Result<()> {
        self.link.transport().resync().await?;
        let codec = self.link.codec_mut();
        codec.channel = match codec.channel.wrapping_add(1) {
            0 => 1,
            c => c,
        };
        let sync = client::get_master_fingerprint();
        match crate::driver::drive(&mut self.link, &mut self.hooks, sync).await {
            Err(e @ (Error::Timeout { .. } | Error::Disconnected | Error::Transport(_))) => {
                self.link.mark_dirty();
                Err(e)
            }
            _ => Ok(()),
        }
    }

    /// The open app and its version (`BOLOS` for the dashboard).
    ///
    /// # Errors
    /// Transport and protocol errors.
    pub async fn app_info(&mut self) -> Result<AppInfo> {
        self.run(dashboard::get_app_and_version()).await
    }

    /// Makes sure the app `name` runs: quits another app, opens `name` from the
    /// dashboard (the user confirms), and follows the device through its USB
    /// re-enumeration, so the next call works without reconnecting.
    ///
    /// # Errors
    /// `user-rejected` when the user declines, `app-not-open` when the app is not
    /// installed, `disconnected` when the device does not come back, or when another
    /// Ledger (another master fingerprint) came back in its place.
    pub async fn open_app(&mut self, name: &str) -> Result<AppInfo> {
        let mut info = self.app_info().await?;
        if info.name == name {
            return check_protocol(info);
        }
        self.status(Status::OpenApp(name.to_string()));
        if !info.is_dashboard() {
            self.run(dashboard::quit_app()).await?;
            self.transport().reconnect(REENUMERATION_TIMEOUT_MS).await?;
        }
        self.status(Status::ConfirmOnDevice);
        match self.run(dashboard::open_app(name)?).await {
            Ok(()) => {}
            Err(Error::Device { code: 0x6807, .. }) => {
                return Err(Error::AppNotOpen {
                    detail: format!("the app {name:?} is not installed"),
                })
            }
            Err(e) => return Err(e),
        }
        self.transport().reconnect(REENUMERATION_TIMEOUT_MS).await?;
        info = self.app_info().await?;
        self.status(Status::Done);
        if info.name != name {
            return Err(Error::AppNotOpen {
                detail: format!("{:?} is open instead of {name:?}", info.name),
            });
        }
        self.check_same_device().await?;
        Ok(info)
    }

    /// The master key fingerprint.
    ///
    /// # Errors
    /// Transport, status-word and protocol errors.
    pub async fn master_fingerprint(&mut self) -> Result<Fingerprint> {
        self.run(client::get_master_fingerprint()).await
    }

    /// The xpub at `path`, optionally shown on the device for the user to check.
    ///
    /// # Errors
    /// `invalid-input` for a path deeper than 8; transport, status-word and protocol
    /// errors.
    pub async fn xpub(&mut self, path: &DerivationPath, display: bool) -> Result<Xpub> {
        if display {
            self.status(Status::ConfirmOnDevice);
        }
        let xpub = self
            .run(client::get_extended_pubkey(path, display)?)
            .await?;
        if display {
            self.status(Status::Done);
        }
        Ok(xpub)
    }

    /// Registers `policy` on the device (the user reviews it) and returns its id and hmac.
    ///
    /// # Errors
    /// `user-rejected` when declined; transport, status-word and protocol errors.
    pub async fn register_policy(&mut self, policy: &WalletPolicy) -> Result<Registration> {
        self.status(Status::ConfirmOnDevice);
        let r = self.run(client::register_wallet(policy)).await?;
        self.status(Status::Done);
        Ok(r)
    }

    /// The address of `policy` at `change`/`index`, checked against the host's own
    /// derivation.
    ///
    /// # Errors
    /// `invalid-input` when the host cannot derive the policy's address (nothing is
    /// sent; see [`Ledger::address_unverified`]); `protocol` when the device's address
    /// differs from the host's; transport and status-word errors.
    pub async fn address(
        &mut self,
        policy: &WalletPolicy,
        hmac: Option<&Hash32>,
        change: bool,
        index: u32,
        display: bool,
    ) -> Result<String> {
        let request = client::get_wallet_address(policy, hmac, change, index, display)?;
        self.run_address(request, display).await
    }

    /// As [`Ledger::address`], but where the host cannot derive the policy's address
    /// the device's is taken on its word.
    ///
    /// # Errors
    /// `protocol` when the host derives another address; transport and status-word
    /// errors.
    pub async fn address_unverified(
        &mut self,
        policy: &WalletPolicy,
        hmac: Option<&Hash32>,
        change: bool,
        index: u32,
        display: bool,
    ) -> Result<String> {
        let request = client::get_wallet_address_unverified(policy, hmac, change, index, display);
        self.run_address(request, display).await
    }

    async fn run_address(&mut self, request: Request<String>, display: bool) -> Result<String> {
        if display {
            self.status(Status::ConfirmOnDevice);
        }
        let a = self.run(request).await?;
        if display {
            self.status(Status::Done);
        }
        Ok(a)
    }

    /// Signs `psbt` and returns a new PSBT with the verified signatures. The caller's
    /// PSBT is only read, so it is unchanged whatever happens.
    ///
    /// # Errors
    /// `invalid-input` when no policy is given and none can be inferred, or an input
    /// asks for a sighash other than ALL / DEFAULT and that is not allowed;
    /// `unsupported` for `replaces` (the app is not told of replaced transactions);
    /// `user-rejected`; `protocol` when a signature does not verify; transport errors.
    pub async fn sign_psbt(&mut self, psbt: &RawPsbt, options: &SignOptions) -> Result<Signed> {
        if !options.replaces.is_empty() {
            return Err(Error::Unsupported(
                "the ledger bitcoin app cannot be shown the transactions a psbt replaces \
                 (replaces): sign it without them"
                    .into(),
            ));
        }
        let total = psbt.inputs.len();
        let view = psbt.view()?;
        crate::protocol::psbt::sighash::check(&view, options.allow_non_default_sighash)?;
        if let Some(i) =
            (0..total).find(|i| crate::protocol::psbt::signature::spent_output(&view, *i).is_none())
        {
            return Err(Error::invalid(
                format!("input {i}"),
                "no utxo: the psbt needs its witness_utxo or non_witness_utxo (matching the previous txid)",
            ));
        }
        let policies: Vec<(WalletPolicy, Option<Hash32>)> = match &options.policy {
            Some(p) => vec![p.clone()],
            None => {
                let fingerprint = self.known_fingerprint().await?;
                let mut policies = Vec::new();
                for account in standard::accounts_in(&view, fingerprint)? {
                    let xpub = self.known_xpub(&account.path()).await?;
                    policies.push((account.policy(fingerprint, &xpub)?, None));
                }
                policies
            }
        };
        self.status(Status::ConfirmOnDevice);
        self.status(Status::Signing { index: 0, total });
        let mut current = Signed {
            psbt: psbt.clone(),
            signatures: Vec::new(),
            transaction: None,
        };
        for (policy, hmac) in &policies {
            let done_before = current.signatures.len();
            let request = client::sign_psbt(&current.psbt, policy, hmac.as_ref())?
                .with_progress(total, done_before);
            let signed = self.run(request).await?;
            current.psbt = signed.psbt;
            current.signatures.extend(signed.signatures);
        }
        self.status(Status::Done);
        Ok(current)
    }

    /// After a re-enumeration, the device that came back must be the one that left: a
    /// Ledger has no serial number to tell (every one reports the same), so the master
    /// fingerprint is asked again when one is known. On a mismatch what is known about
    /// the keys is dropped, and the call fails with `disconnected`: the device the
    /// caller had is gone, and another one answers in its place.
    async fn check_same_device(&mut self) -> Result<()> {
        let Some(known) = self.known.fingerprint else {
            return Ok(());
        };
        match self.master_fingerprint().await {
            Ok(f) if f == known => Ok(()),
            Ok(other) => {
                self.known = Known {
                    fingerprint: Some(other),
                    ..Known::default()
                };
                Err(Error::Disconnected)
            }
            Err(e) => {
                self.known = Known::default();
                Err(e)
            }
        }
    }

    /// The master fingerprint, asked once per connection.
    ///
    /// # Errors
    /// Transport, status-word and protocol errors.
    pub async fn known_fingerprint(&mut self) -> Result<Fingerprint> {
        if let Some(f) = self.known.fingerprint {
            return Ok(f);
        }
        let f = self.master_fingerprint().await?;
        self.known.fingerprint = Some(f);
        Ok(f)
    }

    /// The xpub at `path` (not shown), asked once per connection.
    async fn known_xpub(&mut self, path: &DerivationPath) -> Result<Xpub> {
        if let Some((_, x)) = self.known.xpubs.iter().find(|(p, _)| p == path) {
            return Ok(*x);
        }
        let x = self.xpub(path, false).await?;
        self.known.xpubs.push((path.clone(), x));
        Ok(x)
    }

    /// Signs `message` with the key at `path` (BIP-137), returning base64.
    ///
    /// # Errors
    /// `user-rejected`; transport, status-word and protocol errors.
    pub async fn sign_message(&mut self, path: &DerivationPath, message: &[u8]) -> Result<String> {
        self.status(Status::ConfirmOnDevice);
        let sig = self.run(client::sign_message(path, message)?).await?;
        self.status(Status::Done);
        Ok(sig)
    }

    /// Releases the device.
    ///
    /// # Errors
    /// Transport errors.
    pub async fn close(&mut self) -> Result<()> {
        self.transport().close().await
    }
}
