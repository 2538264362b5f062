//! A checked reader over untrusted bytes, and Bitcoin varints.
//!
//! Every read returns a `protocol` error naming what was being read instead of
//! panicking, so device replies can be parsed without a single index that can fail.

use crate::error::{Error, Result};

/// Reads fields from the front of a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `data`; `what` names the message in errors.
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { data, what }
    }

    fn short(&self, field: &str, need: usize) -> Error {
        Error::protocol(format!(
            "{} too short: {field} needs {need} bytes, {} left",
            self.what,
            self.data.len()
        ))
    }

    /// The next `n` bytes.
    ///
    /// # Errors
    /// `protocol` when fewer than `n` bytes are left.
    pub fn bytes(&mut self, n: usize, field: &str) -> Result<&'a [u8]> {
        if self.data.len() < n {
            return Err(self.short(field, n));
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    ///
    /// # Errors
    /// `protocol` when fewer than `N` bytes are left.
    pub fn array<const N: usize>(&mut self, field: &str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N, field)?);
        Ok(out)
    }

    /// The next byte.
    ///
    /// # Errors
    /// `protocol` at the end of the data.
    pub fn u8(&mut self, field: &str) -> Result<u8> {
        Ok(self.array::<1>(field)?[0])
    }

    /// A Bitcoin varint (1, 3, 5 or 9 bytes, little endian).
    ///
    /// # Errors
    /// `protocol` when the data ends inside it.
    pub fn varint(&mut self, field: &str) -> Result<u64> {
        Ok(match self.u8(field)? {
            0xfd => u64::from(u16::from_le_bytes(self.array(field)?)),
            0xfe => u64::from(u32::from_le_bytes(self.array(field)?)),
            0xff => u64::from_le_bytes(self.array(field)?),
            b => u64::from(b),
        })
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }

    /// True when everything was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Fails unless everything was read.
    ///
    /// # Errors
    /// `protocol` naming how many bytes are left over.
    pub fn finish(&self) -> Result<()> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(Error::protocol(format!(
                "{} has {} unexpected trailing bytes",
                self.what,
                self.data.len()
            )))
        }
    }
}

/// Appends a Bitcoin varint.
pub fn write_varint(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    use core::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_roundtrip() {
        for n in [
            0u64,
            1,
            0xfc,
            0xfd,
            0xffff,
            0x1_0000,
            0xffff_ffff,
            0x1_0000_0000,
            u64::MAX,
        ] {
            let mut buf = Vec::new();
            write_varint(&mut buf, n);
            let mut r = Reader::new(&buf, "test");
            assert_eq!(r.varint("n").unwrap(), n);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn short_reads_are_protocol_errors() {
        let mut r = Reader::new(&[0xfd, 0x01], "reply");
        let e = r.varint("count").unwrap_err();
        assert_eq!(e.code(), "protocol");
        assert_eq!(
            e.to_string(),
            "protocol error: reply too short: count needs 2 bytes, 1 left"
        );
        let mut r = Reader::new(&[1, 2, 3], "reply");
        assert_eq!(r.bytes(2, "x").unwrap(), &[1, 2]);
        assert_eq!(r.finish().unwrap_err().code(), "protocol");
        assert!(r.array::<2>("y").is_err());
    }
}
