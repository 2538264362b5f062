//! Output descriptor checksums (BIP-380): the 8 characters after `#`.

use crate::error::{Error, Result};

const INPUT_CHARSET: &str = "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
const CHECKSUM_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn poly_mod(mut c: u64, val: u64) -> u64 {
    let c0 = c >> 35;
    c = ((c & 0x7_ffff_ffff) << 5) ^ val;
    for (bit, k) in [
        0xf5_dee5_1989,
        0xa9_fdca_3312,
        0x1b_ab10_e32d,
        0x37_06b1_677a,
        0x64_4d62_6ffd,
    ]
    .into_iter()
    .enumerate()
    {
        if c0 & (1 << bit) != 0 {
            c ^= k;
        }
    }
    c
}

/// The checksum of `descriptor` (without `#`).
///
/// # Errors
/// `invalid-input` for a character descriptors cannot contain.
pub fn checksum(descriptor: &str) -> Result<String> {
    let mut c = 1u64;
    let mut cls = 0u64;
    let mut clscount = 0;
    for ch in descriptor.chars() {
        let pos = INPUT_CHARSET.find(ch).ok_or_else(|| {
            Error::invalid("descriptor", format!("character {ch:?} is not allowed"))
        })? as u64;
        c = poly_mod(c, pos & 31);
        cls = cls * 3 + (pos >> 5);
        clscount += 1;
        if clscount == 3 {
            c = poly_mod(c, cls);
            cls = 0;
            clscount = 0;
        }
    }
    if clscount > 0 {
        c = poly_mod(c, cls);
    }
    for _ in 0..8 {
        c = poly_mod(c, 0);
    }
    c ^= 1;
    Ok((0..8)
        .map(|j| {
            let digit = ((c >> (5 * (7 - j))) & 31) as usize;
            char::from(CHECKSUM_CHARSET.get(digit).copied().unwrap_or(b'q'))
        })
        .collect())
}

/// `descriptor` without its checksum, which is checked when present.
///
/// # Errors
/// `invalid-input` when the checksum does not match or is not 8 characters.
pub fn strip(descriptor: &str) -> Result<&str> {
    let Some((body, sum)) = descriptor.split_once('#') else {
        return Ok(descriptor);
    };
    if sum.len() != 8 {
        return Err(Error::invalid(
            "descriptor",
            format!("checksum {sum:?} is not 8 characters"),
        ));
    }
    let want = checksum(body)?;
    if want != sum {
        return Err(Error::invalid(
            "descriptor",
            format!("checksum {sum} does not match (expected {want})"),
        ));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bip380_vectors() {
        // BIP-380's examples.
        assert_eq!(checksum("raw(deadbeef)").unwrap(), "89f8spxm");
        assert_eq!(strip("raw(deadbeef)#89f8spxm").unwrap(), "raw(deadbeef)");
        assert!(strip("raw(deadbeef)#89f8spxn").is_err());
        assert!(strip("raw(deadbeef)#89f8spx").is_err());
        assert!(checksum("raw(dead\u{e9}beef)").is_err());
    }
}
