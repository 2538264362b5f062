//! How one message becomes what a link carries, and back: the part of a link that
//! knows a vendor's framing but does no I/O.
//!
//! A link carries either 64-byte reports (USB, HID, the Trezor emulator's UDP port) or
//! whole messages (the Speculos socket, in-memory simulators); a [`Codec`] does both
//! for one vendor, so one driver serves every vendor over every link.

use crate::error::Result;

/// Size of one USB/HID report, for every vendor.
pub const REPORT_SIZE: usize = 64;

/// Reassembles one message from reports.
pub trait Reassemble {
    /// The message.
    type Message;

    /// Feeds one report; returns the message once it is complete.
    ///
    /// # Errors
    /// `protocol` for a report the framing does not allow.
    fn push(&mut self, report: &[u8]) -> Result<Option<Self::Message>>;
}

/// A vendor's framing.
pub trait Codec {
    /// One message each way.
    type Message;
    /// Reassembles replies.
    type Decoder: Reassemble<Message = Self::Message>;

    /// `message` as one whole-message frame.
    ///
    /// # Errors
    /// `invalid-input` for a message the framing cannot carry.
    fn frame(&self, message: &Self::Message) -> Result<Vec<u8>>;

    /// The message in one whole-message frame.
    ///
    /// # Errors
    /// `protocol` for a badly framed message.
    fn unframe(&self, bytes: &[u8]) -> Result<Self::Message>;

    /// `message` cut into reports.
    ///
    /// # Errors
    /// `invalid-input` for a message the framing cannot carry.
    fn reports(&self, message: &Self::Message) -> Result<Vec<[u8; REPORT_SIZE]>>;

    /// A decoder for the next reply.
    fn decoder(&self) -> Self::Decoder;

    /// What to send to stop the device waiting for the user (Trezor's Cancel), where
    /// the protocol has such a message.
    fn cancel(&self) -> Option<Self::Message> {
        None
    }
}
