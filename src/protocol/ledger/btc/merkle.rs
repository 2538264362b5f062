//! Merkle trees as the Ledger Bitcoin app uses them (RFC 6962 shape, SHA-256).
//!
//! Leaves are hashed as `H(0x00 || element)`, inner nodes as `H(0x01 || left || right)`,
//! and a tree of `n` leaves puts the largest power of two below `n` on the left. Building
//! the levels bottom-up and promoting an unpaired last node gives that same shape, so the
//! whole tree is kept level by level and every proof costs O(log n).

use std::collections::HashMap;

use bitcoin::hashes::{sha256, Hash, HashEngine};

/// A 32-byte SHA-256 digest.
pub type Hash32 = [u8; 32];

/// `H(0x00 || element)`: the hash of a leaf holding `element`.
pub fn leaf_hash(element: &[u8]) -> Hash32 {
    let mut engine = sha256::Hash::engine();
    engine.input(&[0x00]);
    engine.input(element);
    sha256::Hash::from_engine(engine).to_byte_array()
}

fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    let mut engine = sha256::Hash::engine();
    engine.input(&[0x01]);
    engine.input(left);
    engine.input(right);
    sha256::Hash::from_engine(engine).to_byte_array()
}

/// A Merkle tree over leaf hashes.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    /// `levels[0]` are the leaves; the last level holds the root alone.
    levels: Vec<Vec<Hash32>>,
    index_of: HashMap<Hash32, usize>,
}

impl MerkleTree {
    /// Builds the tree of the given leaf hashes.
    pub fn new(leaves: Vec<Hash32>) -> Self {
        let mut index_of = HashMap::with_capacity(leaves.len());
        for (i, leaf) in leaves.iter().enumerate() {
            index_of.entry(*leaf).or_insert(i);
        }
        let mut levels = vec![leaves];
        while let Some(top) = levels.last() {
            if top.len() <= 1 {
                break;
            }
            let next: Vec<Hash32> = top
                .chunks(2)
                .map(|pair| match pair {
                    [l, r] => node_hash(l, r),
                    [single] => *single,
                    _ => [0; 32],
                })
                .collect();
            levels.push(next);
        }
        MerkleTree { levels, index_of }
    }

    /// Builds the tree whose leaves hold `elements`.
    pub fn from_elements<T: AsRef<[u8]>>(elements: &[T]) -> Self {
        Self::new(elements.iter().map(|e| leaf_hash(e.as_ref())).collect())
    }

    /// Number of leaves.
    pub fn len(&self) -> usize {
        self.levels.first().map_or(0, Vec::len)
    }

    /// True when the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The root; all zeros for an empty tree, as the app expects.
    pub fn root(&self) -> Hash32 {
        match self.levels.last() {
            Some(top) if top.len() == 1 => top.first().copied().unwrap_or([0; 32]),
            _ => [0; 32],
        }
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: usize) -> Option<Hash32> {
        self.levels.first().and_then(|l| l.get(index)).copied()
    }

    /// The index of the first leaf equal to `hash`.
    pub fn index_of(&self, hash: &Hash32) -> Option<usize> {
        self.index_of.get(hash).copied()
    }

    /// The sibling hashes from the leaf up to the root.
    pub fn proof(&self, index: usize) -> Option<Vec<Hash32>> {
        if index >= self.len() {
            return None;
        }
        let mut proof = Vec::new();
        let mut i = index;
        let below_root = self.levels.split_last().map_or(&[][..], |(_, rest)| rest);
        for level in below_root {
            if let Some(sibling) = level.get(i ^ 1) {
                proof.push(*sibling);
            }
            i >>= 1;
        }
        Some(proof)
    }
}

/// Recomputes a root from a leaf and its proof, in the RFC 6962 shape.
///
/// Returns `None` when the proof does not have the length the tree size asks for.
pub fn root_from_proof(
    size: usize,
    index: usize,
    leaf: Hash32,
    proof: &[Hash32],
) -> Option<Hash32> {
    fn walk(size: usize, index: usize, leaf: Hash32, proof: &[Hash32]) -> Option<Hash32> {
        if size == 1 {
            return proof.is_empty().then_some(leaf);
        }
        let (last, rest) = proof.split_last()?;
        let split = largest_power_of_two_below(size);
        if index < split {
            Some(node_hash(&walk(split, index, leaf, rest)?, last))
        } else {
            Some(node_hash(
                last,
                &walk(size - split, index - split, leaf, rest)?,
            ))
        }
    }
    if index >= size {
        return None;
    }
    walk(size, index, leaf, proof)
}

fn largest_power_of_two_below(n: usize) -> usize {
    let mut p = 1;
    while p * 2 < n {
        p *= 2;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6962 recursive definition, for checking the level-wise build.
    fn reference_root(leaves: &[Hash32]) -> Hash32 {
        match leaves.len() {
            0 => [0; 32],
            1 => leaves[0],
            n => {
                let k = largest_power_of_two_below(n);
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn matches_the_recursive_definition_and_proofs_verify() {
        for n in 1..40usize {
            let elements: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; i % 5]).collect();
            let tree = MerkleTree::from_elements(&elements);
            let leaves: Vec<Hash32> = elements.iter().map(|e| leaf_hash(e)).collect();
            assert_eq!(tree.root(), reference_root(&leaves), "n = {n}");
            for (i, leaf) in leaves.iter().enumerate() {
                let proof = tree.proof(i).unwrap();
                assert_eq!(root_from_proof(n, i, *leaf, &proof), Some(tree.root()));
                let mut bad = proof.clone();
                if let Some(h) = bad.first_mut() {
                    h[0] ^= 1;
                    assert_ne!(root_from_proof(n, i, *leaf, &bad), Some(tree.root()));
                }
            }
            assert!(tree.proof(n).is_none());
        }
    }

    #[test]
    fn known_single_leaf_root() {
        // From the recorded sign_message exchange: one chunk "hello".
        let tree = MerkleTree::from_elements(&[b"hello"]);
        let expected = "8a2a5c9b768827de5a9552c38a044c66959c68f6d2f21b5260af54d2f87db827";
        let got: String = tree.root().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn index_lookup_and_empty_tree() {
        let tree = MerkleTree::from_elements(&[b"a".as_slice(), b"b", b"c"]);
        assert_eq!(tree.index_of(&leaf_hash(b"c")), Some(2));
        assert_eq!(tree.index_of(&leaf_hash(b"z")), None);
        let empty = MerkleTree::new(vec![]);
        assert!(empty.is_empty());
        assert_eq!(empty.root(), [0; 32]);
        assert!(empty.proof(0).is_none());
    }
}
