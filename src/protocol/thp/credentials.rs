//! Pairing credentials: what a host keeps after pairing to reconnect without pairing
//! again, and the text form the stores write (one credential a line: the device's
//! static key, the host's static private key, the credential, in hex).
//!
//! The host private key is a secret of the host application (the device will accept
//! it as the paired host); stores keep it like a session cookie.

use bitcoin::hex::FromHex;

use crate::protocol::bytes::to_hex;
use crate::protocol::thp::noise::masked_static_key;

/// One pairing credential.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// The device's static public key (from the credential response).
    pub trezor_static: [u8; 32],
    /// The host static private key the credential was issued to.
    pub host_private: [u8; 32],
    /// The opaque credential.
    pub credential: Vec<u8>,
}

impl core::fmt::Debug for Credential {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Credential")
            .field("trezor_static", &to_hex(&self.trezor_static))
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// Whether this credential is for the device whose handshake showed `masked`
    /// with its ephemeral key `ephemeral`.
    pub fn matches(&self, masked: &[u8; 32], ephemeral: &[u8; 32]) -> bool {
        masked_static_key(&self.trezor_static, ephemeral) == *masked
    }

    /// The credential's line in a store.
    pub fn to_line(&self) -> String {
        format!(
            "{} {} {}",
            to_hex(&self.trezor_static),
            to_hex(&self.host_private),
            to_hex(&self.credential)
        )
    }

    /// A credential from its line; `None` for a line that is not one.
    pub fn from_line(line: &str) -> Option<Credential> {
        let mut parts = line.split_whitespace();
        let trezor_static = <[u8; 32]>::from_hex(parts.next()?).ok()?;
        let host_private = <[u8; 32]>::from_hex(parts.next()?).ok()?;
        let credential = Vec::<u8>::from_hex(parts.next()?).ok()?;
        if parts.next().is_some() || credential.is_empty() {
            return None;
        }
        Some(Credential {
            trezor_static,
            host_private,
            credential,
        })
    }
}

/// Parses a store's text; lines that are not credentials are skipped.
pub fn parse(text: &str) -> Vec<Credential> {
    text.lines().filter_map(Credential::from_line).collect()
}

/// The store text of `credentials`, keeping `new` and dropping older ones of the same
/// device (at most `MAX` kept, newest first).
pub fn with(credentials: &[Credential], new: &Credential) -> String {
    const MAX: usize = 32;
    let mut lines = vec![new.to_line()];
    lines.extend(
        credentials
            .iter()
            .filter(|c| c.trezor_static != new.trezor_static)
            .take(MAX - 1)
            .map(Credential::to_line),
    );
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let a = Credential {
            trezor_static: [1; 32],
            host_private: [2; 32],
            credential: vec![3, 4],
        };
        let b = Credential {
            trezor_static: [5; 32],
            host_private: [6; 32],
            credential: vec![7],
        };
        let text = with(std::slice::from_ref(&a), &b);
        assert_eq!(parse(&text), vec![b.clone(), a.clone()]);
        // A newer credential of the same device replaces the old one.
        let a2 = Credential {
            credential: vec![9],
            ..a.clone()
        };
        assert_eq!(parse(&with(&parse(&text), &a2)), vec![a2, b]);
        assert!(parse("garbage\n01 02 03\n").is_empty());
        assert!(!format!("{a:?}").contains("0202"), "no secret in debug");
    }
}
