//! [`ThpLink`]: a transport speaking the Trezor Host Protocol, as an [`Exchange`] of
//! Trezor messages. It allocates a channel, runs the Noise handshake (offering a
//! stored credential), pairs when the device does not know this host (the caller
//! types the code the device shows), stores the new credential, and then carries
//! every Trezor call encrypted in a session, with ACKs and retransmission.
//!
//! The sans-IO parts are in [`crate::protocol::thp`]; this file adds the waiting, the
//! clock (for retransmission deadlines) and the randomness (the OS natively,
//! `crypto.getRandomValues` in the browser).

use futures::future::LocalBoxFuture;

use crate::driver::abort::AbortHandle;
use crate::driver::credentials::{default_store, CredentialStore};
use crate::driver::link::Exchange;
use crate::driver::prompts::Hooks;
use crate::error::{Error, Result};
use crate::protocol::thp::channel::{allocation_request, Allocation, Channel, Packet, Received};
use crate::protocol::thp::messages::DeviceProperties;
use crate::protocol::thp::noise::{HostHandshake, Keys, STATE_UNPAIRED};
use crate::protocol::thp::packet::{ctrl, Frame, Kind};
use crate::protocol::thp::pairing::{self, CreateSession, HandshakeFacts, Pairing, PairingRandom};
use crate::protocol::thp::{app_message, parse_app_message};
use crate::protocol::trezor::call::Message;
use crate::protocol::trezor::messages::{self as msg, Cancel};
use crate::transport::{Packets, Transport};

/// How long to wait for the channel allocation response, each try.
const ALLOCATION_WAIT_MS: u32 = 2_000;
/// How many allocation requests before giving up.
const ALLOCATION_TRIES: usize = 5;
/// At most this many packets that mean nothing (duplicates, other channels, bad
/// CRCs) while waiting for one message: a device that only sends those is broken.
const MAX_IGNORED: usize = 10_000;

/// Fills `buf` with random bytes from the platform.
///
/// # Errors
/// `transport` when no randomness source is available.
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        getrandom::getrandom(buf)
            .map_err(|e| Error::Transport(format!("no randomness from the os: {e}")))
    }
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
            .map_err(|_| Error::Transport("no crypto object in this javascript context".into()))?;
        let get = js_sys::Reflect::get(&crypto, &"getRandomValues".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .ok_or_else(|| Error::Transport("crypto.getRandomValues is missing".into()))?;
        for chunk in buf.chunks_mut(65_536) {
            let array = js_sys::Uint8Array::new_with_length(chunk.len() as u32);
            get.call1(&crypto, &array)
                .map_err(|_| Error::Transport("crypto.getRandomValues failed".into()))?;
            array.copy_to(chunk);
        }
        Ok(())
    }
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    fill_random(&mut out)?;
    Ok(out)
}

/// Milliseconds on a monotonic clock (for retransmission deadlines only).
fn now_ms() -> u64 {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        static START: OnceLock<std::time::Instant> = OnceLock::new();
        START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_millis() as u64
    }
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as u64
    }
}

/// Who this host is, as the device shows it when pairing.
#[derive(Debug, Clone)]
pub struct HostIdentity {
    /// The host (computer or browser) name.
    pub host_name: String,
    /// The application name.
    pub app_name: String,
}

impl Default for HostIdentity {
    fn default() -> Self {
        HostIdentity {
            host_name: if cfg!(target_arch = "wasm32") {
                "browser".into()
            } else {
                "computer".into()
            },
            app_name: "hwsigner".into(),
        }
    }
}

struct Open {
    channel: Channel,
    keys: Keys,
}

/// A Trezor Safe 7 over a transport of 64-byte packets.
pub struct ThpLink<T> {
    transport: T,
    open: Option<Open>,
    properties: Option<DeviceProperties>,
    session: u8,
    sessions_opened: u8,
    identity: HostIdentity,
    store: Box<dyn CredentialStore>,
    paired_now: bool,
}

impl<T: Transport> core::fmt::Debug for ThpLink<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ThpLink")
            .field("open", &self.open.is_some())
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> ThpLink<T> {
    /// THP over `transport`, with the default credential store.
    pub fn new(transport: T) -> Self {
        ThpLink {
            transport,
            open: None,
            properties: None,
            session: 0,
            sessions_opened: 0,
            identity: HostIdentity::default(),
            store: default_store(),
            paired_now: false,
        }
    }

    /// The transport underneath.
    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The transport underneath, read-only.
    pub fn transport_ref(&self) -> &T {
        &self.transport
    }

    /// Gives the transport back.
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// Sets where pairing credentials are kept.
    pub fn set_store(&mut self, store: Box<dyn CredentialStore>) {
        self.store = store;
    }

    /// Sets the names the device shows when pairing.
    pub fn set_identity(&mut self, identity: HostIdentity) {
        self.identity = identity;
    }

    /// Whether the encrypted channel is open.
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Whether the last [`ThpLink::open`] had to pair (no valid credential).
    pub fn paired_now(&self) -> bool {
        self.paired_now
    }

    /// The session messages go to (0: the seedless one).
    pub fn session(&self) -> u8 {
        self.session
    }

    /// The device properties of the allocation response.
    pub fn properties(&self) -> Option<&DeviceProperties> {
        self.properties.as_ref()
    }

    /// Goes back to the seedless session (after EndSession).
    pub fn forget_session(&mut self) {
        self.session = 0;
    }

    /// Forgets the channel (after an error that broke it); the next
    /// [`ThpLink::open`] allocates a new one.
    pub fn close_channel(&mut self) {
        self.open = None;
        self.session = 0;
    }

    async fn transmit(&mut self, packets: Vec<Packet>) -> Result<()> {
        for p in packets {
            self.transport.send(&p).await?;
        }
        Ok(())
    }

    /// Opens the encrypted channel: allocation, handshake (with a stored credential
    /// when one belongs to this device), and pairing or the end of the credential
    /// phase; then the seedless session 0 is current.
    ///
    /// # Errors
    /// `device-locked` when the device is locked and stays so; `invalid-input` for a
    /// pairing code the device refused; `protocol` for a device that breaks the
    /// protocol; transport errors and time-outs.
    pub async fn open(&mut self, hooks: &mut Hooks) -> Result<()> {
        self.open = None;
        self.session = 0;
        self.paired_now = false;
        if self.transport.packets() != Packets::Reports64 {
            return Err(Error::Unsupported(
                "the trezor host protocol needs a link of 64-byte packets".into(),
            ));
        }
        let allocated = self.allocate(hooks.timeout_ms).await?;
        let properties: DeviceProperties = prost::Message::decode(allocated.properties.as_slice())
            .map_err(|_| Error::protocol("undecodable thp device properties"))?;
        self.properties = Some(properties.clone());
        let mut channel = Channel::new(allocated.cid);

        let (handshake, init) = HostHandshake::start(&allocated.properties, random()?, true);
        let packets = channel.send(ctrl::HANDSHAKE_INIT_REQUEST, init, now_ms())?;
        self.transmit(packets).await?;
        let response = Self::wait_data(&mut self.transport, &mut channel, hooks.timeout_ms).await?;
        expect_kind(
            &response,
            ctrl::HANDSHAKE_INIT_RESPONSE,
            "handshake initiation response",
        )?;
        let credentials = self.store.load();
        let completion = handshake.on_init_response(&response.payload, &credentials, random()?)?;
        let packets = channel.send(
            ctrl::HANDSHAKE_COMPLETION_REQUEST,
            completion.request.clone(),
            now_ms(),
        )?;
        self.transmit(packets).await?;
        let response = Self::wait_data(&mut self.transport, &mut channel, hooks.timeout_ms).await?;
        expect_kind(
            &response,
            ctrl::HANDSHAKE_COMPLETION_RESPONSE,
            "handshake completion response",
        )?;
        let (keys, state) = completion.on_completion_response(&response.payload)?;
        self.open = Some(Open { channel, keys });
        let facts = HandshakeFacts {
            handshake_hash: completion.handshake_hash,
            device_ephemeral: completion.device_ephemeral,
            masked_static: completion.masked_static,
            host_static: completion.host_static,
        };
        let result = if state == STATE_UNPAIRED {
            let pairing = Pairing::new(
                facts,
                PairingRandom {
                    challenge: random()?,
                    cpace_private: random()?,
                },
                properties.pairing_methods.clone(),
                &self.identity.host_name,
                &self.identity.app_name,
            );
            match crate::driver::drive(self, hooks, pairing).await {
                Ok(credential) => {
                    self.paired_now = true;
                    self.store.save(&credential)
                }
                Err(e) => Err(e),
            }
        } else {
            crate::driver::drive(self, hooks, pairing::end()).await
        };
        if result.is_err() {
            self.close_channel();
        }
        result
    }

    /// Opens a new session (a wallet) and makes it current: the caller is asked for
    /// the passphrase when `passphrase` is on.
    ///
    /// # Errors
    /// Whatever the call or the handler reports.
    pub async fn new_session(
        &mut self,
        hooks: &mut Hooks,
        passphrase: bool,
        on_device: bool,
    ) -> Result<()> {
        self.sessions_opened = self.sessions_opened.checked_add(1).unwrap_or(1).max(1);
        let previous = self.session;
        self.session = self.sessions_opened;
        let result =
            crate::driver::drive(self, hooks, CreateSession::new(passphrase, on_device)).await;
        if result.is_err() {
            self.session = previous;
        }
        result
    }

    async fn allocate(
        &mut self,
        timeout_ms: u32,
    ) -> Result<crate::protocol::thp::channel::Allocated> {
        let wait = timeout_ms.min(ALLOCATION_WAIT_MS);
        for _ in 0..ALLOCATION_TRIES {
            let nonce: [u8; 8] = random()?;
            self.transport.discard_pending();
            self.transmit(allocation_request(nonce)?).await?;
            let mut allocation = Allocation::default();
            for _ in 0..MAX_IGNORED {
                match self.transport.recv(wait).await {
                    Ok(packet) => {
                        if let Some(a) = allocation.on_packet(&packet, &nonce)? {
                            return Ok(a);
                        }
                    }
                    Err(Error::Timeout { .. }) => break,
                    Err(e) => return Err(e),
                }
            }
        }
        Err(Error::Timeout {
            after_ms: wait.saturating_mul(ALLOCATION_TRIES as u32),
        })
    }

    /// Waits for the next data message on `channel`, acknowledging what arrives and
    /// sending the pending message again at its deadlines.
    async fn wait_data(transport: &mut T, channel: &mut Channel, timeout_ms: u32) -> Result<Frame> {
        for _ in 0..MAX_IGNORED {
            let wait = match channel.deadline() {
                Some(d) => (d.saturating_sub(now_ms()).max(1) as u32).min(timeout_ms.max(1)),
                None => timeout_ms,
            };
            let received = transport.recv(wait).await;
            match received {
                Ok(packet) => {
                    let r = channel.on_packet(&packet, now_ms());
                    for p in channel.take_outgoing() {
                        transport.send(&p).await?;
                    }
                    if let Received::Message(frame) = r? {
                        return Ok(frame);
                    }
                }
                Err(Error::Timeout { .. }) if channel.awaiting_ack() => {
                    for p in channel.on_timeout(now_ms())? {
                        transport.send(&p).await?;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::protocol(
            "the trezor sent thousands of packets without a message",
        ))
    }

    async fn exchange_inner(
        &mut self,
        message: &Message,
        timeout_ms: u32,
        abort: Option<&AbortHandle>,
    ) -> Result<Message> {
        let session = self.session;
        let Some(open) = self.open.as_mut() else {
            return Err(Error::protocol(
                "the thp channel is not open (it broke on an earlier error)",
            ));
        };
        if !open.channel.awaiting_ack() {
            self.transport.discard_pending();
        }
        let sealed = open
            .keys
            .seal_request(&app_message(session, message.0, &message.1));
        let packets = open.channel.send(ctrl::ENCRYPTED, sealed, now_ms())?;
        for p in packets {
            self.transport.send(&p).await?;
        }
        let mut abort = abort.filter(|a| !a.requested());
        loop {
            let Some(open) = self.open.as_mut() else {
                return Err(Error::protocol("the thp channel closed"));
            };
            let frame = match abort.take() {
                None => Self::wait_data(&mut self.transport, &mut open.channel, timeout_ms).await?,
                Some(a) => {
                    let outcome = {
                        let wait =
                            Self::wait_data(&mut self.transport, &mut open.channel, timeout_ms);
                        futures::pin_mut!(wait);
                        match futures::future::select(wait, a.requested_future()).await {
                            futures::future::Either::Left((frame, _)) => Some(frame),
                            futures::future::Either::Right(_) => None,
                        }
                    };
                    match outcome {
                        Some(frame) => frame?,
                        None => {
                            // Asked to stop: Cancel on the same session (once), then
                            // read on: its answer ends the call.
                            let Some(open) = self.open.as_mut() else {
                                return Err(Error::Cancelled);
                            };
                            if !open.channel.awaiting_ack() {
                                let (ty, payload) = msg::encode(&Cancel {});
                                let sealed =
                                    open.keys.seal_request(&app_message(session, ty, &payload));
                                let packets =
                                    open.channel.send(ctrl::ENCRYPTED, sealed, now_ms())?;
                                for p in packets {
                                    self.transport.send(&p).await?;
                                }
                            }
                            continue;
                        }
                    }
                }
            };
            let Some(open) = self.open.as_mut() else {
                return Err(Error::protocol("the thp channel closed"));
            };
            if frame.kind() != Kind::Data(ctrl::ENCRYPTED) {
                return Err(Error::protocol(format!(
                    "the trezor sent control byte 0x{:02x} where an encrypted message was \
                     expected",
                    frame.control
                )));
            }
            let plain = open.keys.open_response(&frame.payload)?;
            let (got_session, ty, payload) = parse_app_message(&plain)?;
            if got_session != session {
                return Err(Error::protocol(format!(
                    "the trezor answered on session {got_session}, the call was on session \
                     {session}"
                )));
            }
            return Ok((ty, payload));
        }
    }
}

fn expect_kind(frame: &Frame, kind: u8, what: &str) -> Result<()> {
    if frame.kind() == Kind::Data(kind) {
        Ok(())
    } else {
        Err(Error::protocol(format!(
            "the trezor sent control byte 0x{:02x} where the {what} was expected",
            frame.control
        )))
    }
}

impl<T: Transport> Exchange for ThpLink<T> {
    type Message = Message;

    fn exchange<'a>(
        &'a mut self,
        message: &'a Message,
        timeout_ms: u32,
        abort: Option<&'a AbortHandle>,
    ) -> LocalBoxFuture<'a, Result<Message>> {
        Box::pin(async move {
            let result = self.exchange_inner(message, timeout_ms, abort).await;
            if result.is_err() {
                // A tag that did not verify, a dropped channel, a device that stopped
                // answering or went away: the channel's state is unknown, so it is
                // opened again on the next call (with the credential: no pairing).
                self.close_channel();
            }
            result
        })
    }

    fn cancel_message(&self) -> Option<Message> {
        Some(msg::encode(&Cancel {}))
    }
}
