//! Seeds of the simulated devices: BIP-39 mnemonics to BIP-32 master keys.

use std::cell::RefCell;
use std::collections::HashMap;

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpriv, Xpub};
use bitcoin::secp256k1::{All, PublicKey, Secp256k1};
use bitcoin::NetworkKind;

use crate::error::{Error, Result};

/// Speculos' default mnemonic (master fingerprint `f5acc2fd`).
pub const SPECULOS_MNEMONIC: &str = "glory promote mansion idle axis finger extra february uncover one trip resource lawn turtle enact monster seven myth punch hobby comfort wild raise skin";

/// Trezor's test mnemonic, "all" twelve times (master fingerprint `5c9e228d`).
pub const TREZOR_TEST_MNEMONIC: &str = "all all all all all all all all all all all all";

/// A seed no simulated device has by default (the BIP-39 test vector "abandon" × 11,
/// "about"): lying devices derive their foreign keys from it.
pub const FOREIGN_MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

/// A device's secret: the BIP-32 master key of a BIP-39 seed.
#[derive(Clone)]
pub struct Seed {
    master: Xpriv,
    bip39_seed: [u8; 64],
    secp: Secp256k1<All>,
    /// Keys derived so far (a device asks for the same few paths over and over, and the
    /// simulated Trezor replays its SignTx flow on every message).
    derived: RefCell<HashMap<DerivationPath, (Xpriv, PublicKey)>>,
}

/// Past this many cached keys the cache starts afresh (hostile requests can ask for
/// any number of paths).
const MAX_CACHED_KEYS: usize = 4096;

/// How many seeds a thread remembers.
const MAX_REMEMBERED_SEEDS: usize = 8;

thread_local! {
    /// Seeds this thread derived, by mnemonic and passphrase: BIP-39's 2048 PBKDF2
    /// rounds dominate building a simulated device, and tests, fuzzing and the page
    /// build many from the same few seeds.
    static REMEMBERED: RefCell<Vec<(String, String, Seed)>> = const { RefCell::new(Vec::new()) };
}

impl core::fmt::Debug for Seed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print key material.
        write!(f, "Seed({})", self.fingerprint())
    }
}

impl Seed {
    /// The seed of `mnemonic` with `passphrase` (BIP-39; the checksum is checked).
    ///
    /// # Errors
    /// `invalid-input` when the mnemonic is not valid English BIP-39.
    pub fn from_mnemonic(mnemonic: &str, passphrase: &str) -> Result<Self> {
        let m = bip39::Mnemonic::parse_normalized(mnemonic.trim())
            .map_err(|e| Error::invalid("mnemonic", e.to_string()))?;
        let words = m.to_string();
        let known = REMEMBERED.with(|r| {
            r.borrow()
                .iter()
                .find(|(w, p, _)| *w == words && p == passphrase)
                .map(|(_, _, seed)| seed.clone())
        });
        if let Some(seed) = known {
            return Ok(seed);
        }
        let bip39_seed = m.to_seed_normalized(passphrase);
        let master = Xpriv::new_master(NetworkKind::Main, &bip39_seed)
            .map_err(|e| Error::invalid("mnemonic", e.to_string()))?;
        let seed = Seed {
            master,
            bip39_seed,
            secp: Secp256k1::new(),
            derived: RefCell::new(HashMap::new()),
        };
        REMEMBERED.with(|r| {
            let mut r = r.borrow_mut();
            if r.len() >= MAX_REMEMBERED_SEEDS {
                r.remove(0);
            }
            r.push((words, passphrase.to_string(), seed.clone()));
        });
        Ok(seed)
    }

    /// The 64-byte BIP-39 seed (for SLIP-10/21 derivations).
    pub fn bip39_seed(&self) -> &[u8; 64] {
        &self.bip39_seed
    }

    /// The secp256k1 context.
    pub fn secp(&self) -> &Secp256k1<All> {
        &self.secp
    }

    /// The master key fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        self.master.fingerprint(&self.secp)
    }

    /// The private key at `path`.
    ///
    /// # Errors
    /// `invalid-input` for a path that cannot be derived.
    pub fn xpriv(&self, path: &DerivationPath) -> Result<Xpriv> {
        self.derive(path).map(|(x, _)| x)
    }

    /// The public key at `path`.
    ///
    /// # Errors
    /// `invalid-input` for a path that cannot be derived.
    pub fn public_key(&self, path: &DerivationPath) -> Result<PublicKey> {
        self.derive(path).map(|(_, p)| p)
    }

    /// The key pair at `path`, from the cache or from the nearest cached ancestor.
    fn derive(&self, path: &DerivationPath) -> Result<(Xpriv, PublicKey)> {
        if let Some(hit) = self.derived.borrow().get(path) {
            return Ok(*hit);
        }
        let steps: &[ChildNumber] = path.as_ref();
        let (mut key, mut done) = (self.master, 0);
        {
            let cache = self.derived.borrow();
            for k in (1..steps.len()).rev() {
                let prefix = DerivationPath::from(steps.get(..k).unwrap_or_default());
                if let Some((x, _)) = cache.get(&prefix) {
                    (key, done) = (*x, k);
                    break;
                }
            }
        }
        for (k, step) in steps.iter().enumerate().skip(done) {
            key = key
                .derive_priv(&self.secp, &[*step])
                .map_err(|e| Error::invalid("path", e.to_string()))?;
            let public = key.private_key.public_key(&self.secp);
            self.remember(
                DerivationPath::from(steps.get(..=k).unwrap_or_default()),
                (key, public),
            );
        }
        Ok((key, key.private_key.public_key(&self.secp)))
    }

    fn remember(&self, path: DerivationPath, keys: (Xpriv, PublicKey)) {
        let mut cache = self.derived.borrow_mut();
        if cache.len() >= MAX_CACHED_KEYS {
            cache.clear();
        }
        cache.insert(path, keys);
    }

    /// The extended public key at `path`, for `network` (`Main` gives xpub, `Test` tpub).
    ///
    /// # Errors
    /// `invalid-input` for a path that cannot be derived.
    pub fn xpub(&self, path: &DerivationPath, network: NetworkKind) -> Result<Xpub> {
        let (xpriv, public_key) = self.derive(path)?;
        Ok(Xpub {
            network,
            depth: xpriv.depth,
            parent_fingerprint: xpriv.parent_fingerprint,
            child_number: xpriv.child_number,
            public_key,
            chain_code: xpriv.chain_code,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_fingerprints() {
        assert_eq!(
            Seed::from_mnemonic(SPECULOS_MNEMONIC, "")
                .unwrap()
                .fingerprint()
                .to_string(),
            "f5acc2fd"
        );
        assert_eq!(
            Seed::from_mnemonic(TREZOR_TEST_MNEMONIC, "")
                .unwrap()
                .fingerprint()
                .to_string(),
            "5c9e228d"
        );
        assert_eq!(
            Seed::from_mnemonic("all all", "").unwrap_err().code(),
            "invalid-input"
        );
    }
}
