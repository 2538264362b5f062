//! Seeds of the simulated devices: BIP-39 mnemonics to BIP-32 master keys.

use bitcoin::bip32::{DerivationPath, Fingerprint, Xpriv, Xpub};
use bitcoin::secp256k1::{All, Secp256k1};
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
        let bip39_seed = m.to_seed_normalized(passphrase);
        let master = Xpriv::new_master(NetworkKind::Main, &bip39_seed)
            .map_err(|e| Error::invalid("mnemonic", e.to_string()))?;
        Ok(Seed {
            master,
            bip39_seed,
            secp: Secp256k1::new(),
        })
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
        self.master
            .derive_priv(&self.secp, path)
            .map_err(|e| Error::invalid("path", e.to_string()))
    }

    /// The extended public key at `path`, for `network` (`Main` gives xpub, `Test` tpub).
    ///
    /// # Errors
    /// `invalid-input` for a path that cannot be derived.
    pub fn xpub(&self, path: &DerivationPath, network: NetworkKind) -> Result<Xpub> {
        let mut xpriv = self.xpriv(path)?;
        xpriv.network = network;
        Ok(Xpub::from_priv(&self.secp, &xpriv))
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
