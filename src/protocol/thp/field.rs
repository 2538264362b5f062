//! Arithmetic modulo p = 2^255 - 19, just enough for Elligator 2 on Curve25519 (RFC
//! 9380, `map_to_curve_elligator2_curve25519`), which CPace needs to turn the pairing
//! code into a generator. X25519 itself comes from `x25519-dalek`, whose field type is
//! private.
//!
//! Elements are five 51-bit limbs; products use 128-bit accumulators. The code is
//! straight-line: exponents are public constants, selections use masks.

/// An element of GF(2^255 - 19).
#[derive(Clone, Copy, Debug)]
pub struct Fe([u64; 5]);

const MASK: u64 = (1 << 51) - 1;

impl Fe {
    /// Zero.
    pub const ZERO: Fe = Fe([0; 5]);
    /// One.
    pub const ONE: Fe = Fe([1, 0, 0, 0, 0]);

    /// A small constant.
    pub fn from_u64(v: u64) -> Fe {
        Fe([v & MASK, v >> 51, 0, 0, 0])
    }

    /// The little-endian bytes, the top bit ignored (RFC 7748 `decodeUCoordinate`).
    pub fn from_bytes(bytes: &[u8; 32]) -> Fe {
        let mut words = [0u64; 4];
        for (w, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *w = u64::from_le_bytes(b);
        }
        let [w0, w1, w2, w3] = words;
        Fe([
            w0 & MASK,
            ((w0 >> 51) | (w1 << 13)) & MASK,
            ((w1 >> 38) | (w2 << 26)) & MASK,
            ((w2 >> 25) | (w3 << 39)) & MASK,
            (w3 >> 12) & MASK,
        ])
    }

    /// The canonical little-endian bytes.
    pub fn to_bytes(self) -> [u8; 32] {
        let mut h = self.carry().0;
        // Subtract p if h >= p: q is 1 exactly then.
        let mut q = (h[0] + 19) >> 51;
        q = (h[1] + q) >> 51;
        q = (h[2] + q) >> 51;
        q = (h[3] + q) >> 51;
        q = (h[4] + q) >> 51;
        h[0] += 19 * q;
        h[1] += h[0] >> 51;
        h[0] &= MASK;
        h[2] += h[1] >> 51;
        h[1] &= MASK;
        h[3] += h[2] >> 51;
        h[2] &= MASK;
        h[4] += h[3] >> 51;
        h[3] &= MASK;
        h[4] &= MASK;
        let words = [
            h[0] | (h[1] << 51),
            (h[1] >> 13) | (h[2] << 38),
            (h[2] >> 26) | (h[3] << 25),
            (h[3] >> 39) | (h[4] << 12),
        ];
        let mut out = [0u8; 32];
        for (chunk, w) in out.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    fn carry(self) -> Fe {
        let mut h = self.0;
        for _ in 0..2 {
            let c0 = h[0] >> 51;
            h[0] &= MASK;
            h[1] += c0;
            let c1 = h[1] >> 51;
            h[1] &= MASK;
            h[2] += c1;
            let c2 = h[2] >> 51;
            h[2] &= MASK;
            h[3] += c2;
            let c3 = h[3] >> 51;
            h[3] &= MASK;
            h[4] += c3;
            let c4 = h[4] >> 51;
            h[4] &= MASK;
            h[0] += 19 * c4;
        }
        Fe(h)
    }

    /// `self + other`.
    pub fn plus(self, other: Fe) -> Fe {
        let (a, b) = (self.0, other.0);
        Fe([
            a[0] + b[0],
            a[1] + b[1],
            a[2] + b[2],
            a[3] + b[3],
            a[4] + b[4],
        ])
        .carry()
    }

    /// `self - other`.
    pub fn minus(self, other: Fe) -> Fe {
        // Add 4p (limbs of 2^53 scale) so that no limb goes negative.
        let (a, b) = (self.carry().0, other.carry().0);
        Fe([
            a[0] + 0x1f_ffff_ffff_ffb4 - b[0],
            a[1] + 0x1f_ffff_ffff_fffc - b[1],
            a[2] + 0x1f_ffff_ffff_fffc - b[2],
            a[3] + 0x1f_ffff_ffff_fffc - b[3],
            a[4] + 0x1f_ffff_ffff_fffc - b[4],
        ])
        .carry()
    }

    /// `-self`.
    pub fn negate(self) -> Fe {
        Fe::ZERO.minus(self)
    }

    /// `self * other`.
    pub fn times(self, other: Fe) -> Fe {
        let (a, b) = (self.carry().0, other.carry().0);
        let m = |x: u64, y: u64| u128::from(x) * u128::from(y);
        let b19 = [b[0] * 19, b[1] * 19, b[2] * 19, b[3] * 19, b[4] * 19];
        let r0 =
            m(a[0], b[0]) + m(a[1], b19[4]) + m(a[2], b19[3]) + m(a[3], b19[2]) + m(a[4], b19[1]);
        let r1 =
            m(a[0], b[1]) + m(a[1], b[0]) + m(a[2], b19[4]) + m(a[3], b19[3]) + m(a[4], b19[2]);
        let r2 = m(a[0], b[2]) + m(a[1], b[1]) + m(a[2], b[0]) + m(a[3], b19[4]) + m(a[4], b19[3]);
        let r3 = m(a[0], b[3]) + m(a[1], b[2]) + m(a[2], b[1]) + m(a[3], b[0]) + m(a[4], b19[4]);
        let r4 = m(a[0], b[4]) + m(a[1], b[3]) + m(a[2], b[2]) + m(a[3], b[1]) + m(a[4], b[0]);
        let mask = u128::from(MASK);
        let c = r0 >> 51;
        let r1 = r1 + c;
        let c = r1 >> 51;
        let r2 = r2 + c;
        let c = r2 >> 51;
        let r3 = r3 + c;
        let c = r3 >> 51;
        let r4 = r4 + c;
        let c = r4 >> 51;
        let h0 = (r0 & mask) as u64 + (c as u64) * 19;
        Fe([
            h0,
            (r1 & mask) as u64,
            (r2 & mask) as u64,
            (r3 & mask) as u64,
            (r4 & mask) as u64,
        ])
        .carry()
    }

    /// `self^2`.
    pub fn square(self) -> Fe {
        self.times(self)
    }

    /// `self^e` for a public exponent `e` (little-endian bytes).
    fn pow(self, e: &[u8; 32]) -> Fe {
        let mut acc = Fe::ONE;
        for byte in e.iter().rev() {
            for bit in (0..8).rev() {
                acc = acc.square();
                if (byte >> bit) & 1 == 1 {
                    acc = acc.times(self);
                }
            }
        }
        acc
    }

    /// `1 / self` (0 for 0).
    pub fn invert(self) -> Fe {
        // p - 2 = 2^255 - 21.
        let mut e = [0xffu8; 32];
        e[0] = 0xeb;
        e[31] = 0x7f;
        self.pow(&e)
    }

    /// `self^((p - 5) / 8)`.
    fn pow_p58(self) -> Fe {
        // (p - 5) / 8 = 2^252 - 3.
        let mut e = [0xffu8; 32];
        e[0] = 0xfd;
        e[31] = 0x0f;
        self.pow(&e)
    }

    /// Whether two elements are equal.
    pub fn equals(self, other: Fe) -> bool {
        let (a, b) = (self.to_bytes(), other.to_bytes());
        a.iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
    }

    /// `b` when `choose` is true, else `a`, by masks.
    fn select(a: Fe, b: Fe, choose: bool) -> Fe {
        let mask = 0u64.wrapping_sub(u64::from(choose));
        let mut out = [0u64; 5];
        for ((o, x), y) in out.iter_mut().zip(a.0).zip(b.0) {
            *o = (x & !mask) | (y & mask);
        }
        Fe(out)
    }
}

/// sqrt(-1) mod p.
const SQRT_M1: [u8; 32] = [
    0xb0, 0xa0, 0x0e, 0x4a, 0x27, 0x1b, 0xee, 0xc4, 0x78, 0xe4, 0x2f, 0xad, 0x06, 0x18, 0x43, 0x2f,
    0xa7, 0xd7, 0xfb, 0x3d, 0x99, 0x00, 0x4d, 0x2b, 0x0b, 0xdf, 0xc1, 0x4f, 0x80, 0x24, 0x83, 0x2b,
];

/// Curve25519's `A`.
const J: u64 = 486_662;

/// Elligator 2 for Curve25519 (RFC 9380 section 6.7.1, the straight-line variant of
/// appendix G.2.1): the u-coordinate of the point `r` (32 little-endian bytes) maps to.
pub fn elligator2(r: &[u8; 32]) -> [u8; 32] {
    let u = Fe::from_bytes(r);
    let c3 = Fe::from_bytes(&SQRT_M1);
    let j = Fe::from_u64(J);
    let tv1 = u.square();
    let tv1 = tv1.plus(tv1);
    let xd = tv1.plus(Fe::ONE);
    let x1n = j.negate();
    let tv2 = xd.square();
    let gxd = tv2.times(xd);
    let gx1 = j.times(tv1);
    let gx1 = gx1.times(x1n);
    let gx1 = gx1.plus(tv2);
    let gx1 = gx1.times(x1n);
    let tv3 = gxd.square();
    let tv2 = tv3.square();
    let tv3 = tv3.times(gxd);
    let tv3 = tv3.times(gx1);
    let tv2 = tv2.times(tv3);
    let y11 = tv2.pow_p58();
    let y11 = y11.times(tv3);
    let y12 = y11.times(c3);
    let tv2 = y11.square().times(gxd);
    let e1 = tv2.equals(gx1);
    let y1 = Fe::select(y12, y11, e1);
    let x2n = x1n.times(tv1);
    let tv2 = y1.square().times(gxd);
    let e3 = tv2.equals(gx1);
    let xn = Fe::select(x2n, x1n, e3);
    xn.times(xd.invert()).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(s: &str) -> [u8; 32] {
        use bitcoin::hex::FromHex;
        <[u8; 32]>::from_hex(s).unwrap()
    }

    #[test]
    fn arithmetic() {
        let a = Fe::from_u64(123_456_789);
        let b = Fe::from_u64(987_654_321);
        assert!(a.times(b).equals(Fe::from_u64(123_456_789 * 987_654_321)));
        assert!(a.minus(a).equals(Fe::ZERO));
        assert!(a.times(a.invert()).equals(Fe::ONE));
        assert!(Fe::from_bytes(&SQRT_M1).square().equals(Fe::ONE.negate()));
        // p itself reduces to 0; p - 1 stays.
        let p = hex32("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        assert_eq!(Fe::from_bytes(&p).to_bytes(), [0; 32]);
        let pm1 = hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        assert_eq!(Fe::from_bytes(&pm1).to_bytes(), pm1);
        assert!(Fe::from_bytes(&pm1).plus(Fe::ONE).equals(Fe::ZERO));
    }

    #[test]
    fn elligator2_matches_trezorlib() {
        // Vectors from trezorlib's thp/curve25519.py `elligator2`.
        for (input, output) in ELLIGATOR_VECTORS {
            assert_eq!(elligator2(&hex32(input)), hex32(output), "{input}");
        }
    }

    const ELLIGATOR_VECTORS: &[(&str, &str)] = &[
        (
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            "0100000000000000000000000000000000000000000000000000000000000000",
            "9cdb525555555555555555555555555555555555555555555555555555555555",
        ),
        (
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "1e5942dd97c756040d27755f1e5b11349cd47d796c45d07052f7e5b11541c349",
        ),
        (
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "2f69a232b3f34a8b26594e95a9a4a5934d05af6f79d8624b77cca8d266b3fd3b",
        ),
        (
            "4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a",
            "23b305f79d025b3cb633fbe7ee41fbaf832a96b935186eaf31db1e06aa89b84c",
        ),
        (
            "dbc1b4c900ffe48d575b5da5c638040125f65db0fe3e24494b76ea986457d986",
            "074ef62b9225b194fd56c260857cc36e88a771ec7a2df68f22e97eb90b073974",
        ),
        (
            "084fed08b978af4d7d196a7446a86b58009e636b611db16211b65a9aadff29c5",
            "f0f03e43ca8c9c98f913ffa45a6c6fcac82e57bd370f2f6c552212f556b52722",
        ),
        (
            "e52d9c508c502347344d8c07ad91cbd6068afc75ff6292f062a09ca381c89e71",
            "1008de80438d6c2a5b6cf8c45f9bd0b9db92432211f8e8241e5ea092ff17d663",
        ),
    ];
}
