//! CRC-32-IEEE (polynomial 0x04C11DB7, reflected 0xEDB88320), the checksum of every THP
//! transport payload; the same as zlib's `crc32`.

/// The lookup table, built at compile time (`i` < 256 indexes it).
#[allow(clippy::indexing_slicing)]
const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// The CRC-32 of the concatenated `parts`.
pub fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for part in parts {
        for byte in part.iter() {
            let index = ((crc ^ u32::from(*byte)) & 0xff) as u8;
            crc = TABLE.get(usize::from(index)).copied().unwrap_or(0) ^ (crc >> 8);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_zlib() {
        // zlib.crc32(b"123456789") and zlib.crc32(b"") .
        assert_eq!(crc32(&[b"123456789"]), 0xcbf4_3926);
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xcbf4_3926);
        assert_eq!(crc32(&[]), 0);
        // An ACK on channel 0x1234: header 20 12 34 00 04, no data (computed by zlib).
        assert_eq!(crc32(&[&[0x20, 0x12, 0x34, 0x00, 0x04]]), 0xd9fc_ce58);
    }
}
