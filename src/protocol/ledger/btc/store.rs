//! What the host knows and the app may ask for: preimages, Merkle trees and merkleized
//! maps.
//!
//! The Bitcoin app never receives a PSBT or a wallet policy whole. It receives
//! commitments (hashes and Merkle roots) and then asks the host, through client commands,
//! for exactly the pieces it needs. The [`Store`] is what the host can answer from.

use std::collections::HashMap;

use bitcoin::consensus::encode::VarInt;
use bitcoin::hashes::{sha256, Hash};

use super::merkle::{Hash32, MerkleTree};

/// Known preimages (by SHA-256) and Merkle trees (by root).
#[derive(Debug, Default, Clone)]
pub struct Store {
    preimages: HashMap<Hash32, Vec<u8>>,
    trees: HashMap<Hash32, MerkleTree>,
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers `element` so that a GET_PREIMAGE for `sha256(element)` is answered.
    pub fn add_preimage(&mut self, element: Vec<u8>) -> Hash32 {
        let hash = sha256::Hash::hash(&element).to_byte_array();
        self.preimages.insert(hash, element);
        hash
    }

    /// Remembers a list: each leaf's preimage `0x00 || element` and the tree. Returns the
    /// root.
    pub fn add_list<T: AsRef<[u8]>>(&mut self, elements: &[T]) -> Hash32 {
        let mut leaves = Vec::with_capacity(elements.len());
        for element in elements {
            let mut preimage = Vec::with_capacity(element.as_ref().len() + 1);
            preimage.push(0x00);
            preimage.extend_from_slice(element.as_ref());
            leaves.push(self.add_preimage(preimage));
        }
        let tree = MerkleTree::new(leaves);
        let root = tree.root();
        self.trees.insert(root, tree);
        root
    }

    /// Remembers a map as two lists (keys sorted, values in key order) and returns its
    /// commitment: `varint(len) || keys_root || values_root`.
    pub fn add_map(&mut self, map: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        let mut sorted: Vec<&(Vec<u8>, Vec<u8>)> = map.iter().collect();
        sorted.sort_unstable();
        let keys: Vec<&[u8]> = sorted.iter().map(|(k, _)| k.as_slice()).collect();
        let values: Vec<&[u8]> = sorted.iter().map(|(_, v)| v.as_slice()).collect();
        let keys_root = self.add_list(&keys);
        let values_root = self.add_list(&values);
        let mut commitment = bitcoin::consensus::serialize(&VarInt(sorted.len() as u64));
        commitment.extend_from_slice(&keys_root);
        commitment.extend_from_slice(&values_root);
        commitment
    }

    /// The preimage of `hash`, if known.
    pub fn preimage(&self, hash: &Hash32) -> Option<&[u8]> {
        self.preimages.get(hash).map(Vec::as_slice)
    }

    /// The tree with root `root`, if known.
    pub fn tree(&self, root: &Hash32) -> Option<&MerkleTree> {
        self.trees.get(root)
    }
}
