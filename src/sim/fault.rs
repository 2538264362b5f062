//! Misbehaviours a test can switch on in a simulated device, to check that the host
//! answers each with the right typed error, in time, without a panic, leaving the
//! caller's data untouched.
//!
//! Link-level faults apply to the packets a simulator sends back (both vendors frame
//! 64-byte reports); device-level faults are applied by each simulator where it builds
//! the answer.

/// One misbehaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Drop packet `n` (0-based) of every reply.
    DropPacket(usize),
    /// Send packet `n` (0-based) of every reply twice.
    DuplicatePacket(usize),
    /// Answer on another channel (Ledger) / without the magic (Trezor).
    WrongChannel,
    /// Use a wrong packet tag (Ledger); send continuation packets without their `?`
    /// marker (Trezor codec v1); a wrong AES-GCM tag on the next encrypted reply
    /// (Trezor THP, once).
    WrongTag,
    /// Skip a sequence number in multi-packet replies (Ledger); send the last two
    /// packets of a multi-packet reply swapped (Trezor, whose codec has no numbers).
    WrongSequence,
    /// Claim a shorter length than the data carries.
    TruncatedLength,
    /// Claim a longer length than the data carries.
    OverlongLength,
    /// Replace the reply body with garbage (undecodable protobuf / APDU data).
    GarbageMessage,
    /// Return a signature that does not verify.
    BadSignature,
    /// Return a public key that is not the one asked for / not in the policy.
    ForeignPubkey,
    /// Sign with the right key over another digest (a sighash with a byte changed, a
    /// message with a byte changed): well-formed, but it does not verify.
    OtherSighash,
    /// Report the address of another index than the one asked for.
    WrongAddress,
    /// Answer xpubs derived from a foreign seed while reporting this device's own
    /// master fingerprint (Ledger: GET_MASTER_FINGERPRINT; Trezor: `root_fingerprint`
    /// and the parent fingerprint of `m/0'`, where hosts read it).
    WrongFingerprint,
    /// Send something the host never asked for: a client command it never committed
    /// to (Ledger); a reply of a message type the call does not expect, and in SignTx
    /// a TxRequest for an input that does not exist (Trezor).
    UnexpectedClientCommand,
    /// Never finish: YIELD (Ledger) or TxRequest (Trezor) forever.
    EndlessLoop,
    /// Stop answering (disconnect) after the `k`-th exchange.
    DisconnectAfter(usize),
    /// Answer only after the caller's time-out (never, in memory).
    NoAnswer,
    /// Answer the first request after the faults are set late, after the caller's
    /// time-out: its reply is held back and sent just before the reply to the next
    /// request, whether the faults are still on or not (a late reply the host must
    /// not take for the next one).
    LateReply,
    /// THP: the next message the device sends has a wrong CRC (once); the device sends
    /// it again while the host waits.
    BadCrc,
    /// THP: the device's ACK of the host's next message and its reply are lost (once):
    /// the host must send again, and the device answers the duplicate.
    DropAck,
    /// THP: the device sends its previous message again (a replayed packet, once)
    /// before the next reply.
    ReplayPrevious,
    /// THP: the device's next reply is replaced by its reply of two messages before
    /// (same sequence bit, a used nonce), once.
    ReplayOlder,
}

/// The faults switched on in one simulated device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults(pub Vec<Fault>);

impl Faults {
    /// None.
    pub fn none() -> Self {
        Faults(Vec::new())
    }

    /// True when `fault` is on.
    pub fn has(&self, fault: Fault) -> bool {
        self.0.contains(&fault)
    }

    /// Switches `fault` off; true when it was on (faults that happen once).
    pub fn take(&mut self, fault: Fault) -> bool {
        let before = self.0.len();
        self.0.retain(|f| *f != fault);
        self.0.len() != before
    }

    /// The `k` of `DisconnectAfter(k)`, if on.
    pub fn disconnect_after(&self) -> Option<usize> {
        self.0.iter().find_map(|f| match f {
            Fault::DisconnectAfter(k) => Some(*k),
            _ => None,
        })
    }
}
