//! The simulated Trezor Safe 7: the simulated Trezor's seed and Bitcoin logic behind
//! the Trezor Host Protocol, as the firmware speaks it.
//!
//! - codec v1 is refused with the firmware's fixed Failure InvalidProtocol packet;
//! - channels are allocated on the broadcast channel (device properties: `T3W1`,
//!   protocol 2.0, code-entry pairing); unknown channels get UNALLOCATED_CHANNEL;
//! - every data message is acknowledged, duplicates are acknowledged again and not
//!   handled twice, and the device's own messages wait for the host's ACK (or its next
//!   message); [`Safe7Sim::idle`] sends an unacknowledged one again, as the firmware's
//!   retransmission timer does;
//! - the Noise XX handshake with a masked static key ([`noise::DeviceHandshake`]); a
//!   locked device unlocks on the device when the host asks (`try_to_unlock`), else
//!   answers DEVICE_LOCKED;
//! - code-entry pairing: the user allows it (a confirmation), the device shows the
//!   6-digit code ([`Safe7Sim::pairing_code`], the UDP debug datagram `CODE????`), runs
//!   CPace and reveals its secret; credentials are HMACs over the host key and names;
//!   with a valid credential the user confirms the connection instead;
//! - sessions: ThpCreateNewSession (passphrase given, typed on the device, or none);
//!   session 0 is seedless; the Bitcoin calls go to the simulated Trezor with the
//!   session's seed.
//!
//! Faults ([`Fault::BadCrc`], [`Fault::DropAck`], [`Fault::WrongTag`],
//! [`Fault::ReplayPrevious`], [`Fault::ReplayOlder`], [`Fault::NoAnswer`],
//! [`Fault::DisconnectAfter`]) apply once to the next message they fit.

mod app;
mod link;

use std::collections::VecDeque;

use crate::error::{Error, Result};
use crate::protocol::codec::REPORT_SIZE;
use crate::protocol::thp::messages::{method, DeviceProperties};
use crate::protocol::thp::noise::{self, DeviceHandshake, Keys};
use crate::protocol::thp::packet::{ctrl, error_code, Frame, Kind, Push, Reassembler, BROADCAST};
use crate::sim::fault::{Fault, Faults};
use crate::sim::seed::Seed;
use crate::sim::trezor::{Model, TrezorSim};

pub use link::Safe7Transport;

/// One 64-byte packet.
type Packet = [u8; REPORT_SIZE];

/// The firmware's answer to any codec v1 message: Failure{code: 17} claiming 20 bytes.
const CODEC_V1_REFUSAL: [u8; 11] = [
    0x3f, 0x23, 0x23, 0x00, 0x03, 0x00, 0x00, 0x00, 0x14, 0x08, 0x11,
];

/// How often an unacknowledged message is sent again before the device gives up.
const MAX_RESENDS: u32 = 5;

/// Where a channel is.
#[derive(Debug)]
enum Phase {
    /// Waiting for the handshake initiation request.
    Handshake1,
    /// Waiting for the handshake completion request.
    Handshake2(Box<DeviceHandshake>),
    /// Encrypted, pairing (or the credential phase).
    Pairing(app::PairingState),
    /// Encrypted transport: sessions.
    Transport,
}

/// One channel on the device.
#[derive(Debug)]
struct DevChannel {
    cid: u16,
    phase: Phase,
    send_bit: bool,
    recv_bit: bool,
    /// The last data message sent, until it is acknowledged.
    unacked: Option<Frame>,
    resends: u32,
    /// Data messages waiting for the channel.
    queue: VecDeque<Frame>,
    /// Data messages sent, newest last (the last few, for the replay faults).
    sent: Vec<Frame>,
    /// Data messages sent on the channel so far.
    sent_total: u64,
    keys: Option<Keys>,
    handshake_hash: [u8; 32],
    host_static: [u8; 32],
    /// Paired through a credential (the user confirms the connection at the end).
    by_credential: bool,
    /// Sessions and their seeds.
    sessions: Vec<(u8, Seed)>,
    /// A THP-level confirmation waiting for ButtonAck.
    pending: Option<app::Pending>,
}

/// A simulated Trezor Safe 7.
#[derive(Debug)]
pub struct Safe7Sim {
    pub(super) inner: TrezorSim,
    base_seed: Seed,
    static_private: [u8; 32],
    cred_auth_key: [u8; 32],
    rng: [u8; 32],
    rng_counter: u64,
    channels: Vec<DevChannel>,
    next_cid: u16,
    reassembler: Reassembler,
    code: Option<String>,
    packets_in: usize,
    packets_at_faults: usize,
    /// The channel state before the last data message was handled, to take its
    /// answer back ([`Safe7Sim::refuse_last`]).
    before_last: Option<Snapshot>,
    /// The session of the last application message from the host.
    last_session: u8,
}

/// What handling one message changes on a channel.
#[derive(Debug)]
struct Snapshot {
    cid: u16,
    response_nonce: u64,
    send_bit: bool,
    sent_total: u64,
}

impl Safe7Sim {
    /// A Safe 7 around `inner` (its seed, confirmations, protection and faults).
    pub fn new(inner: TrezorSim) -> Self {
        let inner = inner.with_model(Model::Safe7);
        let base_seed = inner.seed.clone();
        Safe7Sim {
            // The device's keys persist across restarts (and simulator instances), so a
            // credential stays valid.
            static_private: noise::sha256(&[b"hwsigner simulated safe 7 static key"]),
            cred_auth_key: noise::sha256(&[b"hwsigner simulated safe 7 credential key"]),
            rng: noise::sha256(&[b"hwsigner simulated safe 7 randomness"]),
            rng_counter: 0,
            base_seed,
            inner,
            channels: Vec::new(),
            next_cid: 0x1234,
            reassembler: Reassembler::new(),
            code: None,
            packets_in: 0,
            packets_at_faults: 0,
            before_last: None,
            last_session: 0,
        }
    }

    /// The default simulator (Trezor's test seed, approving everything) as a Safe 7.
    ///
    /// # Errors
    /// Never in practice.
    pub fn with_test_seed() -> Result<Self> {
        Ok(Safe7Sim::new(TrezorSim::with_test_seed()?))
    }

    /// Seeds the device's randomness (ephemeral keys, pairing secrets), so that two
    /// simulators show different codes.
    pub fn with_random_seed(mut self, seed: u64) -> Self {
        self.rng = noise::sha256(&[&self.rng, &seed.to_be_bytes()]);
        self
    }

    /// The simulated Trezor inside (seed, PIN, faults).
    pub fn inner(&mut self) -> &mut TrezorSim {
        &mut self.inner
    }

    /// The pairing code the screen shows, while it shows one.
    pub fn pairing_code(&self) -> Option<String> {
        self.code.clone()
    }

    /// The device's static public key (what its credentials name).
    pub fn static_public_key(&self) -> [u8; 32] {
        noise::public_key(self.static_private)
    }

    /// Switches misbehaviours on or off; `DisconnectAfter(k)` counts packets from here.
    pub fn set_faults(&mut self, faults: Faults) {
        self.inner.set_faults(faults);
        self.packets_at_faults = self.packets_in;
    }

    /// Power off and on: channels, sessions and the PIN entry are forgotten (the keys
    /// and so the credentials stay).
    pub fn power_off(&mut self) {
        self.inner.power_off();
        self.channels.clear();
        self.code = None;
        self.reassembler.reset();
    }

    /// Forgets the channels, as when the device drops them for lack of room.
    pub fn drop_channels(&mut self) {
        self.channels.clear();
    }

    fn random(&mut self) -> [u8; 32] {
        self.rng_counter += 1;
        noise::sha256(&[&self.rng, &self.rng_counter.to_be_bytes()])
    }

    fn fault(&mut self, fault: Fault) -> bool {
        self.inner.faults.take(fault)
    }

    fn properties() -> Vec<u8> {
        prost::Message::encode_to_vec(&DeviceProperties {
            internal_model: Some("T3W1".into()),
            model_variant: Some(0),
            protocol_version_major: Some(2),
            protocol_version_minor: Some(0),
            pairing_methods: vec![method::CODE_ENTRY],
        })
    }

    /// Handles one 64-byte packet from the host; returns the packets the device sends.
    ///
    /// # Errors
    /// `disconnected` once `DisconnectAfter(k)` packets were handled.
    pub fn handle_packet(&mut self, packet: &[u8]) -> Result<Vec<Vec<u8>>> {
        if let Some(k) = self.inner.faults.disconnect_after() {
            if self.packets_in.saturating_sub(self.packets_at_faults) >= k {
                return Err(Error::Disconnected);
            }
        }
        self.packets_in += 1;
        if self.inner.faults.has(Fault::NoAnswer) {
            return Ok(Vec::new());
        }
        let out = self.packet(packet);
        Ok(out.into_iter().map(|p| p.to_vec()).collect())
    }

    fn packet(&mut self, packet: &[u8]) -> Vec<Packet> {
        if packet.first() == Some(&ctrl::CODEC_V1) {
            if packet.get(1..3) != Some(b"##") {
                return Vec::new();
            }
            let mut p = [0u8; REPORT_SIZE];
            p.iter_mut()
                .zip(CODEC_V1_REFUSAL.iter())
                .for_each(|(d, s)| *d = *s);
            return vec![p];
        }
        let frame = match self.reassembler.push(packet) {
            Push::Frame(f) => f,
            Push::More | Push::Discarded(_) => {
                // An initiation packet of a channel that does not exist is refused
                // already (continuations are ignored).
                let cid = match (packet.get(1), packet.get(2)) {
                    (Some(a), Some(b)) => Some(u16::from_be_bytes([*a, *b])),
                    _ => None,
                };
                let first = packet.first().is_some_and(|c| c & ctrl::CONTINUATION == 0);
                return match cid {
                    Some(cid) if first && cid != BROADCAST && self.find(cid).is_none() => {
                        self.reassembler.reset();
                        error_packets(cid, error_code::UNALLOCATED_CHANNEL)
                    }
                    _ => Vec::new(),
                };
            }
        };
        if frame.cid == BROADCAST {
            return self.broadcast(&frame);
        }
        let Some(index) = self.find(frame.cid) else {
            return error_packets(frame.cid, error_code::UNALLOCATED_CHANNEL);
        };
        self.on_frame(index, frame)
    }

    fn find(&self, cid: u16) -> Option<usize> {
        self.channels.iter().position(|c| c.cid == cid)
    }

    fn broadcast(&mut self, frame: &Frame) -> Vec<Packet> {
        if frame.kind() != Kind::AllocationRequest || frame.payload.len() != 8 {
            return Vec::new();
        }
        let cid = self.next_cid;
        self.next_cid = if cid >= 0xffe0 { 0x0100 } else { cid + 1 };
        // At most four channels, the oldest dropped (the firmware's table is small).
        if self.channels.len() >= 4 {
            self.channels.remove(0);
        }
        self.channels.push(DevChannel {
            cid,
            phase: Phase::Handshake1,
            send_bit: false,
            recv_bit: false,
            unacked: None,
            resends: 0,
            queue: VecDeque::new(),
            sent: Vec::new(),
            sent_total: 0,
            keys: None,
            handshake_hash: [0; 32],
            host_static: [0; 32],
            by_credential: false,
            sessions: Vec::new(),
            pending: None,
        });
        let mut payload = frame.payload.clone();
        payload.extend_from_slice(&cid.to_be_bytes());
        payload.extend_from_slice(&Self::properties());
        Frame::new(ctrl::ALLOCATION_RESPONSE, BROADCAST, payload)
            .to_reports()
            .unwrap_or_default()
    }

    fn on_frame(&mut self, index: usize, frame: Frame) -> Vec<Packet> {
        let mut out = Vec::new();
        match frame.kind() {
            Kind::Ack(bit) => {
                let Some(ch) = self.channels.get_mut(index) else {
                    return out;
                };
                let expected = ch
                    .unacked
                    .as_ref()
                    .is_some_and(|f| (f.control & ctrl::SEQ_BIT != 0) == bit);
                if expected {
                    ch.unacked = None;
                    out.extend(self.flush(index));
                }
            }
            Kind::Data(kind) => {
                let seq = frame.control & ctrl::SEQ_BIT != 0;
                let drop_ack = self.fault(Fault::DropAck);
                let Some(ch) = self.channels.get_mut(index) else {
                    return out;
                };
                self.before_last = ch.keys.as_ref().map(|k| Snapshot {
                    cid: ch.cid,
                    response_nonce: k.response_nonce,
                    send_bit: ch.send_bit,
                    sent_total: ch.sent_total,
                });
                if seq != ch.recv_bit {
                    // A duplicate: acknowledged again; what answered it is sent again
                    // (the device's retransmission timer would).
                    out.extend(ack_packets(ch.cid, seq));
                    if let Some(f) = ch.unacked.clone() {
                        out.extend(f.to_reports().unwrap_or_default());
                    }
                    return out;
                }
                ch.recv_bit = !ch.recv_bit;
                if !drop_ack {
                    out.extend(ack_packets(ch.cid, seq));
                }
                // The host's new message acknowledges the device's last one.
                ch.unacked = None;
                ch.resends = 0;
                self.on_data(index, kind, frame.payload);
                let sent = self.flush(index);
                if !drop_ack {
                    out.extend(sent);
                }
            }
            _ => {}
        }
        out
    }

    /// Queues an unencrypted data message of `kind` on channel `index`.
    fn queue_data(&mut self, index: usize, kind: u8, payload: Vec<u8>) {
        if let Some(ch) = self.channels.get_mut(index) {
            let frame = Frame::new(kind, ch.cid, payload);
            ch.queue.push_back(frame);
        }
    }

    /// Queues an encrypted application message.
    fn queue_app(&mut self, index: usize, session: u8, msg_type: u16, payload: &[u8]) {
        let wrong_tag = self.inner.faults.has(Fault::WrongTag);
        let Some(ch) = self.channels.get_mut(index) else {
            return;
        };
        let Some(keys) = ch.keys.as_mut() else {
            return;
        };
        let mut sealed = keys.seal_response(&crate::protocol::thp::app_message(
            session, msg_type, payload,
        ));
        if wrong_tag {
            if let Some(last) = sealed.last_mut() {
                *last ^= 0x80;
            }
            self.inner.faults.take(Fault::WrongTag);
        }
        self.queue_data(index, ctrl::ENCRYPTED, sealed);
    }

    /// Sends the next queued message if the channel is free.
    fn flush(&mut self, index: usize) -> Vec<Packet> {
        let replay_previous = self.inner.faults.has(Fault::ReplayPrevious);
        let replay_older = self.inner.faults.has(Fault::ReplayOlder);
        let bad_crc = self.inner.faults.has(Fault::BadCrc);
        let Some(ch) = self.channels.get_mut(index) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        // Transport errors go out at once, outside the sequence.
        while ch
            .queue
            .front()
            .is_some_and(|f| !matches!(f.kind(), Kind::Data(_)))
        {
            if let Some(f) = ch.queue.pop_front() {
                out.extend(f.to_reports().unwrap_or_default());
            }
        }
        if ch.unacked.is_some() {
            return out;
        }
        let Some(mut frame) = ch.queue.pop_front() else {
            return out;
        };
        frame.control = (frame.control & ctrl::DATA_MASK)
            | if ch.send_bit { ctrl::SEQ_BIT } else { 0 }
            | if ch.recv_bit { 0 } else { ctrl::ACK_BIT };
        ch.send_bit = !ch.send_bit;
        ch.unacked = Some(frame.clone());
        ch.resends = 0;
        let mut wire = frame.clone();
        let mut used = None;
        if replay_previous && frame.kind() == Kind::Data(ctrl::ENCRYPTED) {
            if let Some(prev) = ch.sent.last() {
                out.extend(prev.to_reports().unwrap_or_default());
                used = Some(Fault::ReplayPrevious);
            }
        } else if replay_older && frame.kind() == Kind::Data(ctrl::ENCRYPTED) && ch.sent.len() >= 2
        {
            if let Some(older) = ch.sent.get(ch.sent.len() - 2) {
                wire = older.clone();
                used = Some(Fault::ReplayOlder);
            }
        }
        ch.sent.push(frame);
        ch.sent_total += 1;
        if ch.sent.len() > 4 {
            ch.sent.remove(0);
        }
        let mut packets = wire.to_reports().unwrap_or_default();
        if bad_crc && used.is_none() {
            if let Some(first) = packets.first_mut() {
                // Flip a bit of the CRC (the last bytes of a one-packet message) or of
                // the payload: either way the CRC no longer fits.
                first[5] ^= 0x01;
                used = Some(Fault::BadCrc);
            }
        }
        if let Some(f) = used {
            self.inner.faults.take(f);
        }
        out.extend(packets);
        out
    }

    /// The user refused what the last message asked to confirm (the page's Reject
    /// button, after the answers were held back): the answers are taken back and
    /// Failure ActionCancelled is sent instead, on the same sequence bit and nonce.
    pub fn refuse_last(&mut self) -> Vec<Vec<u8>> {
        let Some(snap) = self.before_last.take() else {
            return Vec::new();
        };
        let Some(index) = self.find(snap.cid) else {
            return Vec::new();
        };
        let faults = self.inner.faults.clone();
        // Back to idle: the simulated Trezor forgets the flow.
        self.inner.set_faults(faults);
        self.code = None;
        let session = {
            let Some(ch) = self.channels.get_mut(index) else {
                return Vec::new();
            };
            if let Some(k) = ch.keys.as_mut() {
                k.response_nonce = snap.response_nonce;
            }
            ch.send_bit = snap.send_bit;
            ch.unacked = None;
            ch.queue.clear();
            ch.pending = None;
            // What was sent since (at most the few kept) is taken back.
            let since = usize::try_from(ch.sent_total.saturating_sub(snap.sent_total))
                .unwrap_or(usize::MAX);
            ch.sent.truncate(ch.sent.len().saturating_sub(since));
            ch.sent_total = snap.sent_total;
            // The refusal answers the host's message, on its session.
            self.last_session
        };
        let (ty, payload) = crate::protocol::trezor::messages::encode(
            &crate::protocol::trezor::messages::Failure {
                code: Some(crate::protocol::trezor::messages::failure::ACTION_CANCELLED),
                message: Some("Cancelled".into()),
            },
        );
        self.queue_app(index, session, ty, &payload);
        self.flush(index).into_iter().map(|p| p.to_vec()).collect()
    }

    /// The host waits and the device's timer fires: every unacknowledged message is
    /// sent again (at most a few times each).
    pub fn idle(&mut self) -> Vec<Vec<u8>> {
        if self.inner.faults.has(Fault::NoAnswer) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for ch in &mut self.channels {
            if ch.resends >= MAX_RESENDS {
                continue;
            }
            if let Some(f) = &ch.unacked {
                ch.resends += 1;
                out.extend(
                    f.to_reports()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|p| p.to_vec()),
                );
            }
        }
        out
    }
}

fn ack_packets(cid: u16, bit: bool) -> Vec<Packet> {
    let control = ctrl::ACK | if bit { ctrl::ACK_BIT } else { 0 };
    Frame::new(control, cid, Vec::new())
        .to_reports()
        .unwrap_or_default()
}

fn error_packets(cid: u16, code: u8) -> Vec<Packet> {
    Frame::new(ctrl::ERROR, cid, vec![code])
        .to_reports()
        .unwrap_or_default()
}
