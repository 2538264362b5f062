//! [`Trezor`]: runs calls over a transport, one at a time, keeps the session, and
//! reports what the user has to do.

use bitcoin::bip32::Fingerprint;

use crate::driver::abort::AbortHandle;
use crate::error::{Error, Result};
use crate::protocol::trezor::btc::keys::Coin;
use crate::protocol::trezor::btc::sign_tx;
use crate::protocol::trezor::call::{unexpected, Call, Event, Interaction, Step};
use crate::protocol::trezor::features::{self, DeviceInfo};
use crate::protocol::trezor::framing::{self, Decoder};
use crate::protocol::trezor::messages::{
    self as msg, Cancel, EndSession, Features, GetFeatures, Initialize, Ping, Success,
};
use crate::transport::{Packets, Transport};

/// Default time to wait for one reply: long, because a reply can wait for the user.
pub const DEFAULT_TIMEOUT_MS: u32 = 300_000;

/// What a long call is doing, for progress displays.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Waiting for the user to confirm on the device.
    ConfirmOnDevice,
    /// The PIN is being asked for.
    EnterPin,
    /// The passphrase is being asked for.
    EnterPassphrase,
    /// `index` of `total` inputs signed so far.
    Signing {
        /// Signatures received so far.
        index: usize,
        /// Inputs in the PSBT.
        total: usize,
    },
    /// The call finished.
    Done,
}

/// Options of [`Trezor::sign_psbt`].
#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    /// The coin; by default the coin type of the first input's path (0' Bitcoin, else
    /// Testnet).
    pub coin: Option<Coin>,
}

/// A Trezor (One, T, Safe 3, Safe 5) speaking codec v1.
pub struct Trezor<T: Transport> {
    transport: T,
    timeout_ms: u32,
    on_status: Option<Box<dyn FnMut(Status)>>,
    interaction: Interaction,
    info: Option<DeviceInfo>,
    session_id: Option<Vec<u8>>,
    interrupted: bool,
    abort: Option<AbortHandle>,
    /// The master fingerprint of the session it was read in (it depends on the
    /// passphrase), so that each signing does not ask again.
    session_fingerprint: Option<(Vec<u8>, Fingerprint)>,
}

impl<T: Transport> core::fmt::Debug for Trezor<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Trezor")
            .field("identity", &self.transport.identity())
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Trezor<T> {
    /// A Trezor over `transport`.
    pub fn new(transport: T) -> Self {
        Trezor {
            transport,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            on_status: None,
            interaction: Interaction::none(),
            info: None,
            session_id: None,
            session_fingerprint: None,
            interrupted: false,
            abort: None,
        }
    }

    /// Lets `handle` abort calls while they wait for the device: the driver then sends
    /// `Cancel` and the call fails with `cancelled`.
    pub fn set_abort_handle(&mut self, handle: AbortHandle) {
        self.abort = Some(handle);
    }

    /// Waits for the next report or message; on an abort request, sends `Cancel` first
    /// and then waits for the device's answer to it.
    async fn recv_or_cancel(&mut self) -> Result<Vec<u8>> {
        let Some(abort) = self.abort.clone().filter(|a| !a.requested()) else {
            return self.transport.recv(self.timeout_ms).await;
        };
        let outcome = {
            let recv = self.transport.recv(self.timeout_ms);
            futures::pin_mut!(recv);
            match futures::future::select(recv, abort.requested_future()).await {
                futures::future::Either::Left((r, _)) => Some(r),
                futures::future::Either::Right(_) => None,
            }
        };
        match outcome {
            Some(r) => r,
            None => {
                let (cancel_type, cancel) = msg::encode(&Cancel {});
                match self.transport.packets() {
                    Packets::Messages => {
                        self.transport
                            .send(&framing::encode_message(cancel_type, &cancel)?)
                            .await?
                    }
                    Packets::Reports64 => {
                        for packet in framing::encode(cancel_type, &cancel)? {
                            self.transport.send(&packet).await?;
                        }
                    }
                }
                self.transport.recv(self.timeout_ms).await
            }
        }
    }

    /// Sets how long to wait for each reply.
    pub fn set_timeout_ms(&mut self, timeout_ms: u32) {
        self.timeout_ms = timeout_ms;
    }

    /// Sets the callback that receives [`Status`] events.
    pub fn on_status(&mut self, callback: impl FnMut(Status) + 'static) {
        self.on_status = Some(Box::new(callback));
    }

    /// Sets the PIN and passphrase callbacks.
    pub fn set_interaction(&mut self, interaction: Interaction) {
        self.interaction = interaction;
    }

    pub(super) fn status(&mut self, status: Status) {
        if let Some(cb) = self.on_status.as_mut() {
            cb(status);
        }
    }

    /// The transport underneath.
    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Sends one message and returns the device's next message (type, payload).
    ///
    /// # Errors
    /// Transport errors, and `protocol` for badly framed replies.
    pub async fn exchange(&mut self, msg_type: u16, payload: &[u8]) -> Result<(u16, Vec<u8>)> {
        match self.transport.packets() {
            Packets::Messages => {
                self.transport.discard_pending();
                let m = framing::encode_message(msg_type, payload)?;
                self.transport.send(&m).await?;
                let reply = self.recv_or_cancel().await?;
                framing::decode_message(&reply)
            }
            Packets::Reports64 => {
                // Packets left from a reply that went wrong (a duplicate, the rest of
                // a message whose start was bad) must not be read as this reply.
                self.transport.discard_pending();
                for packet in framing::encode(msg_type, payload)? {
                    self.transport.send(&packet).await?;
                }
                let mut decoder = Decoder::new();
                loop {
                    let report = self.recv_or_cancel().await?;
                    if let Some(reply) = decoder.push(&report)? {
                        return Ok(reply);
                    }
                }
            }
        }
    }

    /// Drives `call` to its end.
    ///
    /// # Errors
    /// Whatever the exchange or the call reports.
    pub async fn run<R: 'static>(&mut self, call: Call<R>) -> Result<R> {
        self.drive(call, None).await
    }

    /// Drives `call`, reporting signing progress from `progress` (signatures so far of
    /// `total`). A failed call marks the session for re-initialization.
    pub(super) async fn drive<R: 'static>(
        &mut self,
        call: Call<R>,
        progress: Option<(&sign_tx::Progress, usize)>,
    ) -> Result<R> {
        let result = self.drive_inner(call, progress).await;
        if result.is_err() {
            self.interrupted = true;
        }
        match &self.abort {
            Some(a) if a.requested() && result.is_err() => Err(Error::Cancelled),
            _ => result,
        }
    }

    async fn drive_inner<R: 'static>(
        &mut self,
        mut call: Call<R>,
        progress: Option<(&sign_tx::Progress, usize)>,
    ) -> Result<R> {
        let (mut ty, mut payload) = call.start();
        let mut seen = 0;
        loop {
            let (rty, reply) = self.exchange(ty, &payload).await?;
            let step = call.on_message(rty, &reply, &mut self.interaction)?;
            if let Some((progress, total)) = progress {
                let now = *progress.borrow();
                if now != seen {
                    seen = now;
                    self.status(Status::Signing {
                        index: now.min(total),
                        total,
                    });
                }
            }
            match step {
                Step::Send {
                    msg_type,
                    payload: next,
                    event,
                } => {
                    match event {
                        Some(Event::ConfirmOnDevice { .. }) => self.status(Status::ConfirmOnDevice),
                        Some(Event::Pin) => self.status(Status::EnterPin),
                        Some(Event::Passphrase) => self.status(Status::EnterPassphrase),
                        _ => {}
                    }
                    ty = msg_type;
                    payload = next;
                }
                Step::Done(result) => return Ok(result),
            }
        }
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
        let call: Call<()> = Call::new(msg::encode(&Cancel {}), |ty, _| {
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

    /// Releases the device.
    ///
    /// # Errors
    /// Transport errors.
    pub async fn close(&mut self) -> Result<()> {
        self.transport.close().await
    }
}
