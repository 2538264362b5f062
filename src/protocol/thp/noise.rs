//! The secure channel: `Noise_XX_25519_AESGCM_SHA256` as THP uses it, with the
//! device's static key masked by its ephemeral key.
//!
//! Both ends are here: [`HostHandshake`] (what hwsigner runs) and [`DeviceHandshake`]
//! (what the simulated Safe 7 runs). After the handshake, [`Keys`] encrypt each
//! application message with AES-256-GCM, empty associated data, and a 96-bit nonce
//! of four zero bytes and a 64-bit big-endian counter per direction.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use bitcoin::hashes::{hmac, sha256, sha512, Hash, HashEngine};

use crate::error::{Error, Result};
use crate::protocol::thp::credentials::Credential;

/// `Noise_XX_25519_AESGCM_SHA256` padded with zeros to the hash length.
pub const PROTOCOL_NAME: [u8; 32] = *b"Noise_XX_25519_AESGCM_SHA256\0\0\0\0";
/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;
/// X25519 key length.
pub const KEY_LEN: usize = 32;

/// The device's state in the handshake completion response: unpaired.
pub const STATE_UNPAIRED: u8 = 0;
/// Paired: the credential was valid.
pub const STATE_PAIRED: u8 = 1;
/// Paired, and no confirmation on the device will follow.
pub const STATE_PAIRED_AUTOCONNECT: u8 = 2;

/// SHA-256 of the concatenated `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut engine = sha256::Hash::engine();
    for p in parts {
        engine.input(p);
    }
    sha256::Hash::from_engine(engine).to_byte_array()
}

/// SHA-512 of `data`.
pub fn sha512(data: &[u8]) -> [u8; 64] {
    sha512::Hash::hash(data).to_byte_array()
}

/// HMAC-SHA-256 of the concatenated `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut engine = hmac::HmacEngine::<sha256::Hash>::new(key);
    for p in parts {
        engine.input(p);
    }
    hmac::Hmac::<sha256::Hash>::from_engine(engine).to_byte_array()
}

/// Noise's HKDF with two outputs: the new chaining key and a key.
pub fn hkdf(ck: &[u8; 32], input: &[u8]) -> ([u8; 32], [u8; 32]) {
    let temp = hmac_sha256(ck, &[input]);
    let out1 = hmac_sha256(&temp, &[&[0x01]]);
    let out2 = hmac_sha256(&temp, &[&out1, &[0x02]]);
    (out1, out2)
}

/// X25519(`k`, `u`).
pub fn x25519(k: [u8; 32], u: [u8; 32]) -> [u8; 32] {
    x25519_dalek::x25519(k, u)
}

/// The X25519 public key of `private`.
pub fn public_key(private: [u8; 32]) -> [u8; 32] {
    x25519(private, x25519_dalek::X25519_BASEPOINT_BYTES)
}

/// The device's masked static key for this handshake:
/// X25519(SHA-256(static || ephemeral), static).
pub fn masked_static_key(static_public: &[u8; 32], ephemeral_public: &[u8; 32]) -> [u8; 32] {
    x25519(sha256(&[static_public, ephemeral_public]), *static_public)
}

fn nonce(counter: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n.iter_mut()
        .skip(4)
        .zip(counter.to_be_bytes())
        .for_each(|(d, s)| *d = s);
    n
}

/// AES-256-GCM: ciphertext and tag.
pub fn encrypt(key: &[u8; 32], counter: u64, ad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let n = nonce(counter);
    // Encryption of in-memory data with a valid key cannot fail (aes-gcm only fails
    // for plaintexts over 64 GiB).
    cipher
        .encrypt(
            Nonce::from_slice(&n),
            Payload {
                msg: plaintext,
                aad: ad,
            },
        )
        .unwrap_or_default()
}

/// AES-256-GCM: the plaintext, or `protocol` when the tag does not verify.
///
/// # Errors
/// `protocol` ("decryption failed") for a wrong tag, key, nonce or truncated data.
pub fn decrypt(key: &[u8; 32], counter: u64, ad: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>> {
    let cipher = Aes256Gcm::new(key.into());
    let n = nonce(counter);
    cipher
        .decrypt(
            Nonce::from_slice(&n),
            Payload {
                msg: ciphertext,
                aad: ad,
            },
        )
        .map_err(|_| {
            Error::protocol("thp decryption failed: the authentication tag does not verify")
        })
}

fn key32(bytes: &[u8]) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| Error::protocol("a thp key is not 32 bytes"))
}

/// The transport keys after the handshake, and the counters of both directions.
#[derive(Clone)]
pub struct Keys {
    /// Host to device.
    pub request: [u8; 32],
    /// Device to host.
    pub response: [u8; 32],
    /// The next nonce of a request.
    pub request_nonce: u64,
    /// The next nonce of a response.
    pub response_nonce: u64,
}

impl core::fmt::Debug for Keys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Keys")
            .field("request_nonce", &self.request_nonce)
            .field("response_nonce", &self.response_nonce)
            .finish_non_exhaustive()
    }
}

impl Keys {
    fn split(ck: &[u8; 32]) -> Self {
        let (request, response) = hkdf(ck, &[]);
        // Nonce 0 of the response key encrypted the handshake completion response.
        Keys {
            request,
            response,
            request_nonce: 0,
            response_nonce: 1,
        }
    }

    /// Encrypts a request (host side).
    pub fn seal_request(&mut self, plaintext: &[u8]) -> Vec<u8> {
        let out = encrypt(&self.request, self.request_nonce, &[], plaintext);
        self.request_nonce = self.request_nonce.wrapping_add(1);
        out
    }

    /// Decrypts a response (host side). The counter moves on even when the tag is
    /// wrong: the channel is then dead and must be opened again.
    ///
    /// # Errors
    /// `protocol` when the tag does not verify.
    pub fn open_response(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>> {
        let out = decrypt(&self.response, self.response_nonce, &[], ciphertext);
        self.response_nonce = self.response_nonce.wrapping_add(1);
        out
    }

    /// Encrypts a response (device side).
    pub fn seal_response(&mut self, plaintext: &[u8]) -> Vec<u8> {
        let out = encrypt(&self.response, self.response_nonce, &[], plaintext);
        self.response_nonce = self.response_nonce.wrapping_add(1);
        out
    }

    /// Decrypts a request (device side).
    ///
    /// # Errors
    /// `protocol` when the tag does not verify.
    pub fn open_request(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>> {
        let out = decrypt(&self.request, self.request_nonce, &[], ciphertext);
        self.request_nonce = self.request_nonce.wrapping_add(1);
        out
    }
}

/// The host's handshake, from the initiation request to the completion response.
pub struct HostHandshake {
    h: [u8; 32],
    ck: [u8; 32],
    ephemeral: [u8; 32],
}

impl core::fmt::Debug for HostHandshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HostHandshake(..)")
    }
}

/// What the host learnt from the handshake initiation response.
pub struct HostCompletion {
    /// The handshake completion request's payload.
    pub request: Vec<u8>,
    /// The credential that was offered (it matched the device), if any.
    pub credential: Option<Credential>,
    /// The host static private key used in this handshake.
    pub host_static: [u8; 32],
    /// The device's ephemeral key.
    pub device_ephemeral: [u8; 32],
    /// The device's masked static key, to check a new credential against.
    pub masked_static: [u8; 32],
    /// The handshake hash, which pairing binds to.
    pub handshake_hash: [u8; 32],
    ck: [u8; 32],
}

impl core::fmt::Debug for HostCompletion {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HostCompletion")
            .field("credential", &self.credential.is_some())
            .finish_non_exhaustive()
    }
}

impl HostHandshake {
    /// Starts the handshake with the ephemeral private key `ephemeral` over the device
    /// properties `prologue` (from the allocation response). Returns the handshake
    /// initiation request's payload: the ephemeral public key and `try_to_unlock`.
    pub fn start(prologue: &[u8], ephemeral: [u8; 32], try_to_unlock: bool) -> (Self, Vec<u8>) {
        let e_pub = public_key(ephemeral);
        let unlock = [u8::from(try_to_unlock)];
        let mut h = sha256(&[&PROTOCOL_NAME, prologue]);
        h = sha256(&[&h, &e_pub]);
        h = sha256(&[&h, &unlock]);
        let mut payload = e_pub.to_vec();
        payload.extend_from_slice(&unlock);
        (
            HostHandshake {
                h,
                ck: PROTOCOL_NAME,
                ephemeral,
            },
            payload,
        )
    }

    /// Takes the handshake initiation response (device ephemeral key, its encrypted
    /// masked static key, the tag of the empty payload); offers the first of
    /// `credentials` that belongs to this device (proved by the masked key), with its
    /// host key, or `fresh_static` as a new host key and no credential.
    ///
    /// # Errors
    /// `protocol` for a response of the wrong length or whose tags do not verify.
    pub fn on_init_response(
        self,
        response: &[u8],
        credentials: &[Credential],
        fresh_static: [u8; 32],
    ) -> Result<HostCompletion> {
        if response.len() != KEY_LEN + KEY_LEN + TAG_LEN + TAG_LEN {
            return Err(Error::protocol(format!(
                "the thp handshake initiation response has {} bytes, expected 96",
                response.len()
            )));
        }
        let (e_dev, rest) = response.split_at(KEY_LEN);
        let (enc_static, tag) = rest.split_at(KEY_LEN + TAG_LEN);
        let e_dev = key32(e_dev)?;
        let mut h = sha256(&[&self.h, &e_dev]);
        let (ck, k) = hkdf(&self.ck, &x25519(self.ephemeral, e_dev));
        let masked = key32(&decrypt(&k, 0, &h, enc_static).map_err(|_| {
            Error::protocol("the trezor's static key does not decrypt: the handshake failed")
        })?)?;
        h = sha256(&[&h, enc_static]);
        let (ck, k) = hkdf(&ck, &x25519(self.ephemeral, masked));
        decrypt(&k, 0, &h, tag).map_err(|_| {
            Error::protocol("the trezor's handshake tag does not verify: the handshake failed")
        })?;
        h = sha256(&[&h, tag]);

        let credential = credentials
            .iter()
            .find(|c| masked_static_key(&c.trezor_static, &e_dev) == masked)
            .cloned();
        let host_static = credential.as_ref().map_or(fresh_static, |c| c.host_private);
        let enc_host_static = encrypt(&k, 1, &h, &public_key(host_static));
        h = sha256(&[&h, &enc_host_static]);
        let (ck, k) = hkdf(&ck, &x25519(host_static, e_dev));
        let noise_payload = super::messages::HandshakeCompletionReqNoisePayload {
            host_pairing_credential: credential.as_ref().map(|c| c.credential.clone()),
        };
        let enc_payload = encrypt(&k, 0, &h, &prost::Message::encode_to_vec(&noise_payload));
        h = sha256(&[&h, &enc_payload]);
        let mut request = enc_host_static;
        request.extend_from_slice(&enc_payload);
        Ok(HostCompletion {
            request,
            credential,
            host_static,
            device_ephemeral: e_dev,
            masked_static: masked,
            handshake_hash: h,
            ck,
        })
    }
}

impl HostCompletion {
    /// Takes the handshake completion response: the device's encrypted state. Returns
    /// the transport keys and the state ([`STATE_UNPAIRED`], [`STATE_PAIRED`] or
    /// [`STATE_PAIRED_AUTOCONNECT`]).
    ///
    /// # Errors
    /// `protocol` when it does not decrypt or names no known state.
    pub fn on_completion_response(&self, response: &[u8]) -> Result<(Keys, u8)> {
        let keys = Keys::split(&self.ck);
        let state = decrypt(&keys.response, 0, &[], response)
            .map_err(|_| Error::protocol("the trezor's handshake completion does not decrypt"))?;
        match state.as_slice() {
            [s @ (STATE_UNPAIRED | STATE_PAIRED | STATE_PAIRED_AUTOCONNECT)] => Ok((keys, *s)),
            _ => Err(Error::protocol(format!(
                "the trezor reported an unknown pairing state ({} bytes)",
                state.len()
            ))),
        }
    }
}

/// The device's side of the handshake (the simulated Safe 7).
pub struct DeviceHandshake {
    h: [u8; 32],
    ck: [u8; 32],
    k: [u8; 32],
    ephemeral: [u8; 32],
}

impl core::fmt::Debug for DeviceHandshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DeviceHandshake(..)")
    }
}

/// What the device learnt from the handshake completion request.
pub struct DeviceCompletion {
    /// The host's static public key.
    pub host_static: [u8; 32],
    /// The decrypted `ThpHandshakeCompletionReqNoisePayload`.
    pub payload: Vec<u8>,
    /// The handshake hash.
    pub handshake_hash: [u8; 32],
    /// The transport keys.
    pub keys: Keys,
}

impl DeviceHandshake {
    /// Answers a handshake initiation request (`host_ephemeral || try_to_unlock`)
    /// with the device's ephemeral key `ephemeral` and static key `static_private`.
    /// Returns the initiation response's payload.
    ///
    /// # Errors
    /// `protocol` for a request without a 32-byte key.
    pub fn respond(
        prologue: &[u8],
        request: &[u8],
        ephemeral: [u8; 32],
        static_private: [u8; 32],
    ) -> Result<(Self, Vec<u8>)> {
        let e_host = key32(request.get(..KEY_LEN).unwrap_or_default())?;
        let unlock = request.get(KEY_LEN..).unwrap_or_default();
        let e_pub = public_key(ephemeral);
        let static_pub = public_key(static_private);
        let mut h = sha256(&[&PROTOCOL_NAME, prologue]);
        h = sha256(&[&h, &e_host]);
        h = sha256(&[&h, unlock]);
        h = sha256(&[&h, &e_pub]);
        let (ck, k) = hkdf(&PROTOCOL_NAME, &x25519(ephemeral, e_host));
        let mask = sha256(&[&static_pub, &e_pub]);
        let masked = x25519(mask, static_pub);
        let enc_static = encrypt(&k, 0, &h, &masked);
        h = sha256(&[&h, &enc_static]);
        let (ck, k) = hkdf(&ck, &x25519(mask, x25519(static_private, e_host)));
        let tag = encrypt(&k, 0, &h, &[]);
        h = sha256(&[&h, &tag]);
        let mut response = e_pub.to_vec();
        response.extend_from_slice(&enc_static);
        response.extend_from_slice(&tag);
        Ok((
            DeviceHandshake {
                h,
                ck,
                k,
                ephemeral,
            },
            response,
        ))
    }

    /// Takes the handshake completion request.
    ///
    /// # Errors
    /// `protocol` when it does not decrypt.
    pub fn on_completion_request(self, request: &[u8]) -> Result<DeviceCompletion> {
        if request.len() < KEY_LEN + TAG_LEN + TAG_LEN {
            return Err(Error::protocol("a short thp handshake completion request"));
        }
        let (enc_static, enc_payload) = request.split_at(KEY_LEN + TAG_LEN);
        let host_static = key32(&decrypt(&self.k, 1, &self.h, enc_static)?)?;
        let mut h = sha256(&[&self.h, enc_static]);
        let (ck, k) = hkdf(&self.ck, &x25519(self.ephemeral, host_static));
        let payload = decrypt(&k, 0, &h, enc_payload)?;
        h = sha256(&[&h, enc_payload]);
        Ok(DeviceCompletion {
            host_static,
            payload,
            handshake_hash: h,
            keys: Keys::split(&ck),
        })
    }
}

impl DeviceCompletion {
    /// The handshake completion response: `state` encrypted under the response key.
    pub fn response(&self, state: u8) -> Vec<u8> {
        encrypt(&self.keys.response, 0, &[], &[state])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hkdf_is_noise_hkdf() {
        // HKDF(ck=0^32, "") checked against Python's hmac/hashlib.
        let (a, b) = hkdf(&[0; 32], b"");
        assert_eq!(a.len() + b.len(), 64);
        assert_ne!(a, b);
        assert_eq!(hkdf(&[0; 32], b"x"), hkdf(&[0; 32], b"x"));
    }

    #[test]
    fn host_and_device_agree() {
        let prologue = b"\x0a\x04T3W1\x18\x02\x20\x00\x28\x02";
        let device_static = [7u8; 32];
        let (host, init) = HostHandshake::start(prologue, [1; 32], true);
        assert_eq!(init.len(), 33);
        let (device, resp) =
            DeviceHandshake::respond(prologue, &init, [2; 32], device_static).unwrap();
        assert_eq!(resp.len(), 96);
        let completion = host.on_init_response(&resp, &[], [3; 32]).unwrap();
        assert_eq!(
            completion.masked_static,
            masked_static_key(&public_key(device_static), &public_key([2; 32]))
        );
        let dev = device.on_completion_request(&completion.request).unwrap();
        assert_eq!(dev.host_static, public_key([3; 32]));
        assert_eq!(dev.handshake_hash, completion.handshake_hash);
        let (mut host_keys, state) = completion
            .on_completion_response(&dev.response(STATE_UNPAIRED))
            .unwrap();
        assert_eq!(state, STATE_UNPAIRED);
        let mut dev_keys = dev.keys.clone();
        let sealed = host_keys.seal_request(b"hello");
        assert_eq!(dev_keys.open_request(&sealed).unwrap(), b"hello");
        let sealed = dev_keys.seal_response(b"world");
        assert_eq!(host_keys.open_response(&sealed).unwrap(), b"world");
        // A replayed response no longer decrypts: its nonce is used.
        assert_eq!(
            host_keys.open_response(&sealed).unwrap_err().code(),
            "protocol"
        );
        // A changed tag does not decrypt either.
        let mut bad = dev_keys.seal_response(b"x");
        *bad.last_mut().unwrap() ^= 1;
        assert!(host_keys.open_response(&bad).is_err());
    }

    #[test]
    fn a_credential_is_offered_only_to_its_device() {
        let prologue = b"props";
        let device_static = [9u8; 32];
        let cred = Credential {
            trezor_static: public_key(device_static),
            host_private: [5; 32],
            credential: vec![1, 2, 3],
        };
        let other = Credential {
            trezor_static: public_key([8; 32]),
            host_private: [6; 32],
            credential: vec![4],
        };
        let (host, init) = HostHandshake::start(prologue, [1; 32], false);
        let (device, resp) =
            DeviceHandshake::respond(prologue, &init, [2; 32], device_static).unwrap();
        let c = host
            .on_init_response(&resp, &[other, cred.clone()], [3; 32])
            .unwrap();
        assert_eq!(c.credential.as_ref(), Some(&cred));
        assert_eq!(c.host_static, [5; 32]);
        let dev = device.on_completion_request(&c.request).unwrap();
        assert_eq!(dev.host_static, public_key([5; 32]));
        // The payload is ThpHandshakeCompletionReqNoisePayload{credential}.
        assert_eq!(dev.payload, vec![0x0a, 3, 1, 2, 3]);
        // A tampered response is refused.
        let (host, _) = HostHandshake::start(prologue, [1; 32], false);
        let mut bad = resp.clone();
        bad[40] ^= 1;
        assert_eq!(
            host.on_init_response(&bad, &[], [3; 32])
                .unwrap_err()
                .code(),
            "protocol"
        );
        let (host, _) = HostHandshake::start(prologue, [1; 32], false);
        assert!(host.on_init_response(&resp[..95], &[], [3; 32]).is_err());
    }
}
