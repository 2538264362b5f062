//! [`Trezor`]: a Trezor over a transport, one call at a time. It keeps the session
//! (and resumes it, so a passphrase is asked once per connection), re-initializes
//! after a failed call, and offers the Bitcoin calls: keys, addresses (multisig from a
//! descriptor too), messages, and PSBT signing through SignTx.

use bitcoin::bip32::{DerivationPath, Fingerprint};

use crate::driver::abort::AbortHandle;
use crate::driver::link::Link;
use crate::driver::prompts::{Hooks, Prompts};
use crate::error::{Error, Result};
use crate::protocol::machine::Status;
use crate::protocol::psbt::raw::RawPsbt;
use crate::protocol::psbt::signing::{SignOptions, Signed};
use crate::protocol::trezor::btc::keys::{self, Coin, DeviceXpub};
use crate::protocol::trezor::btc::message::{self, SignedMessage};
use crate::protocol::trezor::btc::multisig::Multisig;
use crate::protocol::trezor::btc::{descriptor, finish, plan, sign_tx};
use crate::protocol::trezor::call::{unexpected, Call};
use crate::protocol::trezor::features::{self, DeviceInfo};
use crate::protocol::trezor::framing::TrezorCodec;
use crate::protocol::trezor::messages::{
    self as msg, Cancel, EndSession, Features, GetFeatures, Initialize, LockDevice, Ping, Success,
};
use crate::transport::Transport;

pub use crate::driver::prompts::DEFAULT_TIMEOUT_MS;

/// A Trezor (One, T, Safe 3, Safe 5) speaking codec v1.
pub struct Trezor<T: Transport> {
    link: Link<T, TrezorCodec>,
    hooks: Hooks,
    info: Option<DeviceInfo>,
    session_id: Option<Vec<u8>>,
    interrupted: bool,
    /// The master fingerprint of the session it was read in (it depends on the
    /// passphrase), so that each signing does not ask again.
    session_fingerprint: Option<(Vec<u8>, Fingerprint)>,
}

impl<T: Transport> core::fmt::Debug for Trezor<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Trezor")
            .field("identity", &self.link.transport_ref().identity())
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Trezor<T> {
    /// A Trezor over `transport`.
    pub fn new(transport: T) -> Self {
        Trezor {
            link: Link::new(transport, TrezorCodec),
            hooks: Hooks::default(),
            info: None,
            session_id: None,
            session_fingerprint: None,
            interrupted: false,
        }
    }

    /// Lets `handle` abort calls while they wait for the device: the driver then sends
    /// `Cancel` and the call fails with `cancelled`.
    pub fn set_abort_handle(&mut self, handle: AbortHandle) {
        self.hooks.abort = Some(handle);
    }

    /// Sets how long to wait for each reply.
    pub fn set_timeout_ms(&mut self, timeout_ms: u32) {
        self.hooks.timeout_ms = timeout_ms;
    }

    /// Sets the callback that receives [`Status`] events.
    pub fn on_status(&mut self, callback: impl FnMut(Status) + 'static) {
        self.hooks.on_status(callback);
    }

    /// Sets the PIN and passphrase handlers.
    pub fn set_prompts(&mut self, prompts: Box<dyn Prompts>) {
        self.hooks.set_prompts(prompts);
    }

    /// The status callback, prompts, time-out and abort handle of this device.
    pub fn hooks(&mut self) -> &mut Hooks {
        &mut self.hooks
    }

    fn status(&mut self, status: Status) {
        self.hooks.status(status);
    }

    /// The transport underneath.
    pub fn transport(&mut self) -> &mut T {
        self.link.transport()
    }

    /// Sends one message and returns the device's next message (type, payload).
    ///
    /// # Errors
    /// Transport errors, and `protocol` for badly framed replies.
    pub async fn exchange(&mut self, msg_type: u16, payload: &[u8]) -> Result<(u16, Vec<u8>)> {
        let timeout = self.hooks.timeout_ms;
        self.link
            .exchange(&(msg_type, payload.to_vec()), timeout, None)
            .await
    }

    /// Drives `call` to its end. A failed call marks the session for
    /// re-initialization.
    ///
    /// # Errors
    /// Whatever the exchange, the call or a handler reports.
    pub async fn run<R: 'static>(&mut self, call: Call<R>) -> Result<R> {
        let on_device = self.info.as_ref().is_some_and(|i| i.passphrase_on_device);
        let call = call.with_passphrase_on_device(on_device);
        let result = crate::driver::drive(&mut self.link, &mut self.hooks, call).await;
        if result.is_err() {
            self.interrupted = true;
        }
        result
    }

    /// Starts the session (or resumes the one this driver had): Initialize, then
    /// Features, checked.
    ///
    /// # Errors
    /// See [`features::check`]; transport and protocol errors.
    pub async fn init(&mut self) -> Result<DeviceInfo> {
        let session_id = self.session_id.clone();
        let call = Call::simple(&Initialize { session_id }, |f: Features| {
            features::check(&f)
        });
        let info = self.run(call).await?;
        if info.session_id.is_some() {
            self.session_id = info.session_id.clone();
        }
        self.info = Some(info.clone());
        self.interrupted = false;
        Ok(info)
    }

    /// Uses the session the device has now, without Initialize, as trezorlib does with
    /// a T or Safe: a passphrase the device already holds stays in use. `features` are
    /// the device's current ones (GetFeatures).
    ///
    /// # Errors
    /// See [`features::check`].
    pub fn use_current_session(&mut self, features: &Features) -> Result<DeviceInfo> {
        let info = features::check(features)?;
        self.info = Some(info.clone());
        self.interrupted = false;
        Ok(info)
    }

    /// The master fingerprint, read once per session.
    ///
    /// # Errors
    /// Transport, failure and protocol errors.
    pub async fn known_fingerprint(&mut self) -> Result<Fingerprint> {
        self.ready().await?;
        if let (Some((session, f)), Some(current)) = (&self.session_fingerprint, &self.session_id) {
            if session == current {
                return Ok(*f);
            }
        }
        let f = self.master_fingerprint().await?;
        self.session_fingerprint = self.session_id.clone().map(|s| (s, f));
        Ok(f)
    }

    pub(super) async fn ready(&mut self) -> Result<()> {
        // A call that failed half-way may have left the device inside a workflow:
        // Initialize (resuming the session) brings it back to a known state.
        if self.info.is_none() || self.interrupted {
            self.init().await?;
        }
        Ok(())
    }

    /// The device's features, without touching the session.
    ///
    /// # Errors
    /// See [`features::check`].
    pub async fn info(&mut self) -> Result<DeviceInfo> {
        self.ready().await?;
        let mut info = self
            .run(Call::simple(&GetFeatures {}, |f: Features| {
                features::check(&f)
            }))
            .await?;
        if info.session_id.is_none() {
            info.session_id = self.session_id.clone();
        }
        self.info = Some(info.clone());
        Ok(info)
    }

    /// Ping: the device answers with the same text.
    ///
    /// # Errors
    /// `protocol` when the echo differs.
    pub async fn ping(&mut self, text: &str) -> Result<()> {
        let expected = text.to_string();
        let call = Call::simple(
            &Ping {
                message: Some(text.into()),
                button_protection: None,
            },
            move |s: Success| {
                if s.message.as_deref() == Some(expected.as_str()) {
                    Ok(())
                } else {
                    Err(Error::protocol("the trezor echoed another ping text"))
                }
            },
        );
        self.run(call).await
    }

    /// Cancels what the device waits for (a confirmation screen, a PIN entry).
    ///
    /// # Errors
    /// Transport and protocol errors; a device that answers anything but the
    /// cancellation Failure.
    pub async fn cancel(&mut self) -> Result<()> {
        // The expected answer is Failure(ActionCancelled), which the call machine maps
        // to user-rejected; anything else is unexpected.
        let call: Call<()> = Call::new(msg::encode(&Cancel {}), |ty, _, _| {
            Err(unexpected(ty, "failure"))
        });
        let result = self.run(call).await;
        self.interrupted = true;
        match result {
            Err(Error::UserRejected) | Ok(()) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Ends the session on the device (forgets a cached passphrase).
    ///
    /// # Errors
    /// Transport and protocol errors.
    pub async fn end_session(&mut self) -> Result<()> {
        self.run(Call::simple(&EndSession {}, |_: Success| Ok(())))
            .await?;
        self.info = None;
        self.session_id = None;
        self.session_fingerprint = None;
        Ok(())
    }

    /// Locks the device: its PIN must be entered again, and the session's passphrase
    /// is forgotten.
    ///
    /// # Errors
    /// Transport and protocol errors.
    pub async fn lock(&mut self) -> Result<()> {
        self.run(Call::simple(&LockDevice {}, |_: Success| Ok(())))
            .await?;
        self.info = None;
        self.session_id = None;
        self.session_fingerprint = None;
        Ok(())
    }

    /// Releases the device. A session with a passphrase is ended first, so the
    /// passphrase does not outlive the connection.
    ///
    /// # Errors
    /// Transport errors.
    pub async fn close(&mut self) -> Result<()> {
        let passphrase = self.info.as_ref().is_some_and(|i| i.passphrase_protection);
        if passphrase && self.session_id.is_some() {
            // Best effort: the device may already be gone.
            let _ = self.end_session().await;
        }
        self.transport().close().await
    }

    /// The master key fingerprint.
    ///
    /// # Errors
    /// Transport, failure and protocol errors.
    pub async fn master_fingerprint(&mut self) -> Result<Fingerprint> {
        self.ready().await?;
        self.run(keys::master_fingerprint()).await
    }

    /// The xpub at `path` (xpub/tpub), the script type chosen by the path's purpose.
    ///
    /// # Errors
    /// Transport, failure and protocol errors.
    pub async fn xpub(&mut self, path: &DerivationPath, display: bool) -> Result<DeviceXpub> {
        self.xpub_with(
            path,
            Coin::from_path(path),
            keys::script_type_for(path),
            display,
        )
        .await
    }

    /// The xpub at `path` for `coin` and `script_type`.
    ///
    /// # Errors
    /// Transport, failure and protocol errors.
    pub async fn xpub_with(
        &mut self,
        path: &DerivationPath,
        coin: Coin,
        script_type: i32,
        display: bool,
    ) -> Result<DeviceXpub> {
        self.ready().await?;
        let x = self
            .run(keys::get_public_key(path, coin, script_type, display))
            .await?;
        self.status(Status::Done);
        Ok(x)
    }

    /// The single-key address at `path`, the script type chosen by its purpose.
    ///
    /// # Errors
    /// Transport, failure and protocol errors.
    pub async fn address(&mut self, path: &DerivationPath, display: bool) -> Result<String> {
        self.address_with(
            path,
            Coin::from_path(path),
            keys::script_type_for(path),
            None,
            display,
        )
        .await
    }

    /// The address at `path` for `coin` and `script_type`, multisig with `multisig`.
    ///
    /// # Errors
    /// `invalid-input` for a bad multisig; transport, failure and protocol errors.
    pub async fn address_with(
        &mut self,
        path: &DerivationPath,
        coin: Coin,
        script_type: i32,
        multisig: Option<&Multisig>,
        display: bool,
    ) -> Result<String> {
        let multisig = multisig.map(Multisig::to_message).transpose()?;
        self.ready().await?;
        let a = self
            .run(keys::get_address(
                path,
                coin,
                script_type,
                multisig,
                display,
            ))
            .await?;
        self.status(Status::Done);
        Ok(a)
    }

    /// The address `change`/`index` of a multisig `descriptor` (`sh(multi(...))`,
    /// `wsh(sortedmulti(...))`, `sh(wsh(...))` over xpubs, one of them this device's),
    /// checked against the address the host derives from the descriptor.
    ///
    /// # Errors
    /// `invalid-input` for a descriptor that is not such a multisig; `unsupported` when
    /// none of its keys is this device's; `protocol` when the device's address differs;
    /// transport and failure errors.
    pub async fn multisig_address(
        &mut self,
        descriptor: &str,
        change: bool,
        index: u32,
        display: bool,
    ) -> Result<String> {
        let fpr = self.master_fingerprint().await?;
        let probe = descriptor::multisig_address(
            descriptor,
            change,
            index,
            fpr,
            bitcoin::Network::Bitcoin,
        )?;
        let coin = match probe.multisig.xpubs.first().map(|x| x.network) {
            Some(bitcoin::NetworkKind::Test) => Coin::Testnet,
            _ => Coin::Bitcoin,
        };
        let ms = descriptor::multisig_address(descriptor, change, index, fpr, coin.network())?;
        let address = self
            .address_with(&ms.path, coin, ms.script_type, Some(&ms.multisig), display)
            .await?;
        if address != ms.address {
            return Err(Error::protocol(format!(
                "the trezor shows {address} where the descriptor gives {}",
                ms.address
            )));
        }
        Ok(address)
    }

    /// Signs `message` with the key at `path` (script type by purpose).
    ///
    /// # Errors
    /// `user-rejected`; transport, failure and protocol errors.
    pub async fn sign_message(
        &mut self,
        path: &DerivationPath,
        text: &[u8],
    ) -> Result<SignedMessage> {
        self.sign_message_with(
            path,
            Coin::from_path(path),
            keys::script_type_for(path),
            text,
        )
        .await
    }

    /// Signs `message` with the key at `path` for `coin` and `script_type`.
    ///
    /// # Errors
    /// `user-rejected`; transport, failure and protocol errors.
    pub async fn sign_message_with(
        &mut self,
        path: &DerivationPath,
        coin: Coin,
        script_type: i32,
        text: &[u8],
    ) -> Result<SignedMessage> {
        self.ready().await?;
        let s = self
            .run(message::sign_message(path, coin, script_type, text))
            .await?;
        self.status(Status::Done);
        Ok(s)
    }

    /// Signs `psbt` through SignTx and returns a new PSBT with the verified signatures
    /// and the device's serialized transaction. The caller's PSBT is only read.
    ///
    /// # Errors
    /// `unsupported` / `invalid-input` naming the input the device cannot sign or the
    /// PSBT lacks data for; `user-rejected`; `protocol` when a signature does not
    /// verify; transport errors.
    pub async fn sign_psbt(&mut self, psbt: &RawPsbt, options: &SignOptions) -> Result<Signed> {
        let view = psbt.to_bitcoin()?;
        let fingerprint = self.known_fingerprint().await?;
        let plan = plan::build(&view, fingerprint, options.network.map(Coin::from_network))?;
        let total = plan.inputs.len();
        self.status(Status::Signing { index: 0, total });
        let result = self.run(sign_tx::sign_tx(plan.clone())).await?;
        let signed = finish::finish(psbt, &view, &plan, result)?;
        self.status(Status::Done);
        Ok(signed)
    }

    /// Asks the device to verify a message signature and show the message.
    ///
    /// # Errors
    /// `device` (code 3) when the device finds the signature invalid; `user-rejected`;
    /// transport and protocol errors.
    pub async fn verify_message(
        &mut self,
        address: &str,
        signature: &[u8],
        text: &[u8],
        coin: Coin,
    ) -> Result<()> {
        self.ready().await?;
        self.run(message::verify_message(address, signature, text, coin))
            .await?;
        self.status(Status::Done);
        Ok(())
    }
}
