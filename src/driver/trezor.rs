//! [`Trezor`]: a Trezor over a transport, one call at a time. It keeps the session
//! (and resumes it, so a passphrase is asked once per connection) and re-initializes
//! after a failed call; its Bitcoin calls (keys, addresses, messages, PSBT signing
//! through SignTx) are in `trezor/bitcoin_calls.rs`.
//!
//! It speaks codec v1, or the Trezor Host Protocol (Safe 7) through a
//! [`ThpLink`]: a device that answers codec v1's Initialize with Failure
//! InvalidProtocol is opened again over THP (channel, handshake, pairing or the stored
//! credential), and every call then runs unchanged inside the encrypted channel, in a
//! session opened with ThpCreateNewSession (where the passphrase is given).

mod bitcoin_calls;

use bitcoin::bip32::Fingerprint;

use crate::driver::abort::AbortHandle;
use crate::driver::credentials::CredentialStore;
use crate::driver::link::{Exchange, Link};
use crate::driver::prompts::{Hooks, Prompts};
use crate::driver::thp::{HostIdentity, ThpLink};
use crate::driver::trezor_link::TrezorLink;
use crate::error::{Error, Result};
use crate::protocol::machine::Status;
use crate::protocol::trezor::call::{unexpected, Call};
use crate::protocol::trezor::failure::is_thp_only;
use crate::protocol::trezor::features::{self, DeviceInfo};
use crate::protocol::trezor::framing::TrezorCodec;
use crate::protocol::trezor::messages::{
    self as msg, Cancel, EndSession, Features, GetFeatures, Initialize, LockDevice, Ping, Success,
};
use crate::transport::Transport;

pub use crate::driver::prompts::DEFAULT_TIMEOUT_MS;

/// What a THP link gets when the device turns out to speak THP.
#[derive(Default)]
struct ThpSettings {
    store: Option<Box<dyn CredentialStore>>,
    identity: HostIdentity,
}

/// A Trezor: One, T, Safe 3 and Safe 5 over codec v1, Safe 7 over THP.
pub struct Trezor<T: Transport> {
    link: TrezorLink<T>,
    /// THP settings kept until the device turns out to speak THP.
    thp: Box<ThpSettings>,
    /// THP sessions opened (the fingerprint cache's key).
    thp_sessions: u32,
    hooks: Hooks,
    info: Option<DeviceInfo>,
    session_id: Option<Vec<u8>>,
    interrupted: bool,
    /// Resyncs so far (each pings with its own text).
    syncs: u32,
    /// The master fingerprint of the session it was read in (it depends on the
    /// passphrase), so that each signing does not ask again.
    session_fingerprint: Option<(Vec<u8>, Fingerprint)>,
}

impl<T: Transport> core::fmt::Debug for Trezor<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Trezor")
            .field("identity", &self.link.transport_ref().map(|t| t.identity()))
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Trezor<T> {
    /// A Trezor over `transport`.
    pub fn new(transport: T) -> Self {
        Trezor {
            link: TrezorLink::V1(Link::new(transport, TrezorCodec)),
            thp: Box::default(),
            thp_sessions: 0,
            hooks: Hooks::default(),
            info: None,
            session_id: None,
            session_fingerprint: None,
            interrupted: false,
            syncs: 0,
        }
    }

    /// A Trezor known to speak THP (a Safe 7) over `transport`: no codec v1 probe.
    pub fn new_thp(transport: T) -> Self {
        let mut t = Trezor::new(transport);
        t.switch_to_thp();
        t
    }

    /// Whether the device speaks THP (known after the first call, or from
    /// [`Trezor::new_thp`]).
    pub fn is_thp(&self) -> bool {
        matches!(self.link, TrezorLink::Thp(_))
    }

    /// Whether the last THP connection had to pair (no stored credential fitted).
    pub fn paired_now(&self) -> bool {
        matches!(&self.link, TrezorLink::Thp(l) if l.paired_now())
    }

    /// Sets where THP pairing credentials are kept (default: a file in the user's
    /// config dir natively, memory in the browser unless the page passes a storage).
    pub fn set_credential_store(&mut self, store: Box<dyn CredentialStore>) {
        match &mut self.link {
            TrezorLink::Thp(l) => l.set_store(store),
            _ => self.thp.store = Some(store),
        }
    }

    /// Sets the host and application names a Safe 7 shows when pairing.
    pub fn set_host_identity(&mut self, identity: HostIdentity) {
        if let TrezorLink::Thp(l) = &mut self.link {
            l.set_identity(identity.clone());
        }
        self.thp.identity = identity;
    }

    fn switch_to_thp(&mut self) {
        let transport = match core::mem::replace(&mut self.link, TrezorLink::Gone) {
            TrezorLink::V1(l) => l.into_transport(),
            other => {
                self.link = other;
                return;
            }
        };
        let mut thp = ThpLink::new(transport);
        if let Some(store) = self.thp.store.take() {
            thp.set_store(store);
        }
        thp.set_identity(self.thp.identity.clone());
        self.link = TrezorLink::Thp(Box::new(thp));
        self.info = None;
        self.session_id = None;
        self.session_fingerprint = None;
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
    ///
    /// # Errors
    /// `disconnected` if switching to THP lost it (it does not).
    pub fn transport(&mut self) -> Result<&mut T> {
        self.link.transport().ok_or(Error::Disconnected)
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
        if self.link.take_dirty() {
            self.resync().await?;
        }
        let on_device = self.info.as_ref().is_some_and(|i| i.passphrase_on_device);
        let call = call.with_passphrase_on_device(on_device);
        let result = crate::driver::drive(&mut self.link, &mut self.hooks, call).await;
        if result.is_err() {
            self.interrupted = true;
        }
        result
    }

    /// Gets back in step after a reply was given up on. Codec v1 has no request ids, so
    /// a late reply would be read as the answer to the next call: whatever arrived is
    /// dropped, `Cancel` takes the device off any screen, and a `Ping` of this resync's
    /// own must come back; every message before its `Success` is dropped (bounded).
    /// THP needs none of this (its channel drops a late message by sequence bit and
    /// nonce). The session is initialized again by the next call.
    ///
    /// # Errors
    /// Transport errors; `timeout` when the device does not answer (the next call
    /// tries again); `protocol` when it never comes back in step.
    pub async fn resync(&mut self) -> Result<()> {
        self.syncs = self.syncs.wrapping_add(1);
        self.interrupted = true;
        let token = format!("hwsigner resync {}", self.syncs);
        self.link.resync(&token, self.hooks.timeout_ms).await
    }

    /// Starts the session (or resumes the one this driver had): Initialize, then
    /// Features, checked.
    ///
    /// # Errors
    /// See [`features::check`]; transport and protocol errors.
    pub async fn init(&mut self) -> Result<DeviceInfo> {
        if self.is_thp() {
            return self.init_thp().await;
        }
        let session_id = self.session_id.clone();
        let call = Call::simple(&Initialize { session_id }, |f: Features| {
            features::check(&f)
        });
        let info = match self.run(call).await {
            Err(e) if is_thp_only(&e) => {
                // A Safe 7: the same transport, spoken to in THP.
                self.switch_to_thp();
                return match self.init_thp().await {
                    Err(Error::Timeout { .. }) if matches!(&self.link, TrezorLink::Thp(l) if !l.is_open()) => {
                        Err(Error::Unsupported(
                            "the trezor refused codec v1 as a safe 7 / thp device does, and \
                             did not answer the trezor host protocol's channel allocation"
                                .into(),
                        ))
                    }
                    other => other,
                };
            }
            other => other?,
        };
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
        self.seed_ready().await?;
        if let (Some((session, f)), Some(current)) = (&self.session_fingerprint, &self.session_id) {
            if session == current {
                return Ok(*f);
            }
        }
        let f = self.master_fingerprint().await?;
        self.session_fingerprint = self.session_id.clone().map(|s| (s, f));
        Ok(f)
    }

    /// THP: opens the channel if it is not (pairing or the stored credential), then
    /// reads the features in the seedless session.
    async fn init_thp(&mut self) -> Result<DeviceInfo> {
        let TrezorLink::Thp(link) = &mut self.link else {
            return Err(Error::protocol("the trezor link is not thp"));
        };
        if !link.is_open() {
            self.session_id = None;
            self.session_fingerprint = None;
            if let Err(e) = link.open(&mut self.hooks).await {
                self.interrupted = true;
                return Err(e);
            }
        }
        let info = self
            .run(Call::simple(&GetFeatures {}, |f: Features| {
                features::check(&f)
            }))
            .await?;
        self.info = Some(info.clone());
        self.interrupted = false;
        Ok(info)
    }

    pub(super) async fn ready(&mut self) -> Result<()> {
        // A call that failed half-way may have left the device inside a workflow:
        // Initialize (resuming the session) brings it back to a known state. A THP
        // channel that broke is opened again (with the credential: no pairing).
        let closed = matches!(&self.link, TrezorLink::Thp(l) if !l.is_open());
        if self.info.is_none() || self.interrupted || closed {
            self.init().await?;
        }
        Ok(())
    }

    /// [`Trezor::ready`], and on THP a session with the seed (ThpCreateNewSession, the
    /// passphrase asked of the caller when the device has passphrases on).
    async fn seed_ready(&mut self) -> Result<()> {
        self.ready().await?;
        let TrezorLink::Thp(link) = &mut self.link else {
            return Ok(());
        };
        if link.session() != 0 {
            return Ok(());
        }
        let (passphrase, on_device) = self.info.as_ref().map_or((false, false), |i| {
            (i.passphrase_protection, i.passphrase_on_device)
        });
        if let Err(e) = link
            .new_session(&mut self.hooks, passphrase, on_device)
            .await
        {
            self.interrupted = true;
            return Err(e);
        }
        self.thp_sessions = self.thp_sessions.wrapping_add(1);
        self.session_id = Some(self.thp_sessions.to_be_bytes().to_vec());
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
        if let TrezorLink::Thp(l) = &mut self.link {
            l.forget_session();
        }
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
        if let TrezorLink::Thp(l) = &mut self.link {
            // Locked: the next call opens a new channel, unlocking on the device.
            l.close_channel();
        }
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
        self.transport()?.close().await
    }
}
