//! What a simulated Ledger knows: its seed, network, user and faults, and the keys it
//! derives from them (SLIP-21 for wallet-policy hmacs).

use std::cell::RefCell;

use bitcoin::bip32::{DerivationPath, Xpub};
use bitcoin::hashes::{hmac, sha256, sha512, Hash, HashEngine};
use bitcoin::NetworkKind;
use miniscript::descriptor::DescriptorPublicKey;

use crate::protocol::ledger::btc::merkle::Hash32;
use crate::protocol::policy::WalletPolicy;
use crate::sim::confirm::{Confirm, Prompt};
use crate::sim::fault::Faults;
use crate::sim::seed::{Seed, FOREIGN_MNEMONIC, SPECULOS_MNEMONIC};

/// How to build a simulated Ledger.
#[derive(Debug, Clone)]
pub struct SimLedgerOptions {
    /// BIP-39 mnemonic (default: Speculos' default seed, fingerprint f5acc2fd).
    pub mnemonic: String,
    /// "Bitcoin Test" (true) or "Bitcoin" (false).
    pub testnet: bool,
    /// Start on the dashboard instead of in the app.
    pub start_on_dashboard: bool,
    /// Answer every command with 0x5515 (locked).
    pub locked: bool,
    /// The simulated user.
    pub confirm: Confirm,
    /// Misbehaviours switched on.
    pub faults: Faults,
}

impl Default for SimLedgerOptions {
    fn default() -> Self {
        SimLedgerOptions {
            mnemonic: SPECULOS_MNEMONIC.to_string(),
            testnet: true,
            start_on_dashboard: false,
            locked: false,
            confirm: Confirm::Approve,
            faults: Faults::none(),
        }
    }
}

/// The app's fixed state while it runs.
#[derive(Debug)]
pub struct AppContext {
    /// The device's seed; `None` when the mnemonic was invalid (every command fails).
    pub seed: Option<Seed>,
    /// Test network app.
    pub testnet: bool,
    /// Locked device.
    pub locked: bool,
    /// The simulated user.
    pub confirm: Confirm,
    /// Misbehaviours.
    pub faults: Faults,
    policy_hmac_key: [u8; 32],
    /// MuSig2 sessions between the rounds (`(psbt session id, rand_root)`), the app's
    /// persistent storage.
    musig_sessions: RefCell<Vec<([u8; 32], [u8; 32])>>,
}

const SLIP21_POLICY_LABEL: &[u8] = b"LEDGER-Wallet policy";

fn hmac_sha512(key: &[u8], data: &[u8]) -> [u8; 64] {
    let mut e = hmac::HmacEngine::<sha512::Hash>::new(key);
    e.input(data);
    hmac::Hmac::<sha512::Hash>::from_engine(e).to_byte_array()
}

/// SLIP-21: the symmetric key at `label` below the master node of `seed`.
fn slip21_key(seed: &[u8], label: &[u8]) -> [u8; 32] {
    let master = hmac_sha512(b"Symmetric key seed", seed);
    let mut msg = vec![0u8];
    msg.extend_from_slice(label);
    let child = hmac_sha512(&master[..32], &msg);
    let mut key = [0u8; 32];
    key.copy_from_slice(&child[32..]);
    key
}

impl AppContext {
    /// Builds the context (an invalid mnemonic gives a device that answers 0x6a80).
    pub fn new(o: SimLedgerOptions) -> Self {
        let seed = Seed::from_mnemonic(&o.mnemonic, "").ok();
        let policy_hmac_key = seed
            .as_ref()
            .map(|s| slip21_key(s.bip39_seed(), SLIP21_POLICY_LABEL))
            .unwrap_or([0; 32]);
        AppContext {
            seed,
            testnet: o.testnet,
            locked: o.locked,
            confirm: o.confirm,
            faults: o.faults,
            policy_hmac_key,
            musig_sessions: RefCell::new(Vec::new()),
        }
    }

    /// The network kind of the keys the app shows.
    pub fn network_kind(&self) -> NetworkKind {
        if self.testnet {
            NetworkKind::Test
        } else {
            NetworkKind::Main
        }
    }

    /// The address network.
    pub fn network(&self) -> bitcoin::Network {
        if self.testnet {
            bitcoin::Network::Testnet
        } else {
            bitcoin::Network::Bitcoin
        }
    }

    /// The simulated user's answer.
    pub fn confirm(&self, prompt: &Prompt) -> bool {
        self.confirm.answer(prompt)
    }

    /// This context with the persistent storage (MuSig2 sessions) of `old`.
    pub fn with_storage_of(self, old: &AppContext) -> Self {
        self.musig_sessions.replace(old.musig_sessions.take());
        self
    }

    /// Takes the MuSig2 session `id` out of storage.
    pub fn musig_pop(&self, id: &[u8; 32]) -> Option<[u8; 32]> {
        let mut sessions = self.musig_sessions.borrow_mut();
        let at = sessions.iter().position(|(i, _)| i == id)?;
        Some(sessions.remove(at).1)
    }

    /// Stores the MuSig2 session `id` (at most 8: the oldest goes, as the app reuses
    /// its first slot when all are taken).
    pub fn musig_store(&self, id: [u8; 32], rand_root: [u8; 32]) {
        self.musig_pop(&id);
        let mut sessions = self.musig_sessions.borrow_mut();
        if sessions.len() >= 8 {
            sessions.remove(0);
        }
        sessions.push((id, rand_root));
    }

    /// The hmac that proves `wallet_id` was registered on this device.
    pub fn policy_hmac(&self, wallet_id: &Hash32) -> Hash32 {
        let mut e = hmac::HmacEngine::<sha256::Hash>::new(&self.policy_hmac_key);
        e.input(wallet_id);
        hmac::Hmac::<sha256::Hash>::from_engine(e).to_byte_array()
    }

    /// Our xpub at `path`, if the seed is valid.
    pub fn xpub(&self, path: &DerivationPath) -> Option<Xpub> {
        self.seed.as_ref()?.xpub(path, self.network_kind()).ok()
    }

    /// The xpub at `path` of a seed that is not ours (for `WrongFingerprint`).
    pub fn foreign_xpub(&self, path: &DerivationPath) -> Option<Xpub> {
        Seed::from_mnemonic(FOREIGN_MNEMONIC, "")
            .ok()?
            .xpub(path, self.network_kind())
            .ok()
    }

    /// The origin path of key `index` of `policy` when it is this device's key (its
    /// fingerprint and xpub are ours).
    pub fn our_key_origin(&self, policy: &WalletPolicy, index: usize) -> Option<DerivationPath> {
        let seed = self.seed.as_ref()?;
        let text = policy.keys.get(index)?.trim_end_matches("/**");
        let key: DescriptorPublicKey = text.parse().ok()?;
        let DescriptorPublicKey::XPub(x) = key else {
            return None;
        };
        let (fpr, path) = x
            .origin
            .clone()
            .unwrap_or((x.xkey.fingerprint(), DerivationPath::master()));
        if fpr != seed.fingerprint() {
            return None;
        }
        let ours = seed.xpub(&path, self.network_kind()).ok()?;
        (ours.public_key == x.xkey.public_key && ours.chain_code == x.xkey.chain_code)
            .then_some(path)
    }
}
