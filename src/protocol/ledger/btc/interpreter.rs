//! The host side of the Bitcoin app's client commands.
//!
//! While a command runs, the app answers status 0xE000 with a client command; the host
//! replies with `F8 01 00 01 <response>` (CONTINUE). This module turns one client command
//! into its response, from what the [`Store`] knows, with the same splitting rules as
//! Ledger's own clients: a response holds at most 255 bytes, and what does not fit is
//! queued for GET_MORE_ELEMENTS.

use std::collections::VecDeque;

use crate::error::{Error, Result};
use crate::protocol::bytes::{to_hex, write_varint, Reader};

use super::store::Store;

/// YIELD: the app hands the host a result (a signature, ...).
pub const CCMD_YIELD: u8 = 0x10;
/// GET_PREIMAGE: the app asks for the preimage of a SHA-256 hash.
pub const CCMD_GET_PREIMAGE: u8 = 0x40;
/// GET_MERKLE_LEAF_PROOF: the app asks for a leaf and its proof.
pub const CCMD_GET_MERKLE_LEAF_PROOF: u8 = 0x41;
/// GET_MERKLE_LEAF_INDEX: the app asks where a leaf hash is in a tree.
pub const CCMD_GET_MERKLE_LEAF_INDEX: u8 = 0x42;
/// GET_MORE_ELEMENTS: the app drains what did not fit in an earlier response.
pub const CCMD_GET_MORE_ELEMENTS: u8 = 0xa0;

const MAX_RESPONSE: usize = 255;
const PROOF_HASHES_IN_FIRST_RESPONSE: usize = (MAX_RESPONSE - 32 - 1 - 1) / 32;

/// Answers client commands and collects what the app yields.
///
/// What a device makes the host hold is bounded: yields by [`Interpreter::with_max_yields`]
/// (what the request can need), and the GET_MORE_ELEMENTS queue by one answer (a new
/// preimage or proof replaces what the device left undrained).
#[derive(Debug, Default, Clone)]
pub struct Interpreter {
    store: Store,
    queue: VecDeque<Vec<u8>>,
    yielded: Vec<Vec<u8>>,
    max_yields: Option<usize>,
}

impl Interpreter {
    /// An interpreter answering from `store`.
    pub fn new(store: Store) -> Self {
        Interpreter {
            store,
            queue: VecDeque::new(),
            yielded: Vec::new(),
            max_yields: None,
        }
    }

    /// Accepts at most `max` YIELDs: a device that yields more is broken or hostile
    /// (`protocol`), and the host keeps no more than this many values for it.
    pub fn with_max_yields(mut self, max: usize) -> Self {
        self.max_yields = Some(max);
        self
    }

    /// What the app has yielded so far, in order.
    pub fn yielded(&self) -> &[Vec<u8>] {
        &self.yielded
    }

    /// Takes the yielded values.
    pub fn take_yielded(&mut self) -> Vec<Vec<u8>> {
        core::mem::take(&mut self.yielded)
    }

    /// The response to one client command (the data of the 0xE000 reply).
    ///
    /// # Errors
    /// `protocol` when the command is unknown, malformed, or asks for something the host
    /// never committed to.
    pub fn execute(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        let (&code, request) = command
            .split_first()
            .ok_or_else(|| Error::protocol("empty client command"))?;
        match code {
            CCMD_YIELD => {
                if let Some(max) = self.max_yields.filter(|m| self.yielded.len() >= *m) {
                    return Err(Error::protocol(format!(
                        "the device yielded over {max} values, more than this request can need"
                    )));
                }
                self.yielded.push(request.to_vec());
                Ok(Vec::new())
            }
            CCMD_GET_PREIMAGE => self.get_preimage(request),
            CCMD_GET_MERKLE_LEAF_PROOF => self.get_merkle_leaf_proof(request),
            CCMD_GET_MERKLE_LEAF_INDEX => self.get_merkle_leaf_index(request),
            CCMD_GET_MORE_ELEMENTS => self.get_more_elements(request),
            other => Err(Error::protocol(format!(
                "unknown client command 0x{other:02x}"
            ))),
        }
    }

    fn get_preimage(&mut self, request: &[u8]) -> Result<Vec<u8>> {
        let mut r = Reader::new(request, "get_preimage request");
        if r.u8("reserved byte")? != 0 {
            return Err(Error::protocol(
                "get_preimage request with a nonzero reserved byte",
            ));
        }
        let hash: [u8; 32] = r.array("hash")?;
        r.finish()?;
        let preimage = self.store.preimage(&hash).ok_or_else(|| {
            Error::protocol(format!(
                "the device asked for an unknown preimage {}",
                to_hex(&hash)
            ))
        })?;
        let mut response = Vec::with_capacity(MAX_RESPONSE);
        write_varint(&mut response, preimage.len() as u64);
        let room = MAX_RESPONSE - response.len() - 1;
        let now = preimage.len().min(room);
        response.push(now as u8);
        let (first, rest) = preimage.split_at(now);
        response.extend_from_slice(first);
        self.queue.clear();
        self.queue.extend(rest.iter().map(|b| vec![*b]));
        Ok(response)
    }

    fn get_merkle_leaf_proof(&mut self, request: &[u8]) -> Result<Vec<u8>> {
        let mut r = Reader::new(request, "get_merkle_leaf_proof request");
        let root: [u8; 32] = r.array("root")?;
        let size = r.varint("tree size")?;
        let index = r.varint("leaf index")?;
        r.finish()?;
        let tree = self.store.tree(&root).ok_or_else(|| {
            Error::protocol(format!(
                "the device asked for a proof in an unknown tree {}",
                to_hex(&root)
            ))
        })?;
        if size != tree.len() as u64 || index >= size {
            return Err(Error::protocol(format!(
                "the device asked for leaf {index} of {size} in a tree of {}",
                tree.len()
            )));
        }
        let index = index as usize;
        let (leaf, proof) = match (tree.leaf(index), tree.proof(index)) {
            (Some(leaf), Some(proof)) => (leaf, proof),
            _ => return Err(Error::protocol("merkle leaf out of range")),
        };
        let now = proof.len().min(PROOF_HASHES_IN_FIRST_RESPONSE);
        let mut response = Vec::with_capacity(MAX_RESPONSE);
        response.extend_from_slice(&leaf);
        response.push(proof.len() as u8);
        response.push(now as u8);
        let (first, rest) = proof.split_at(now);
        for hash in first {
            response.extend_from_slice(hash);
        }
        self.queue.clear();
        self.queue.extend(rest.iter().map(|h| h.to_vec()));
        Ok(response)
    }

    fn get_merkle_leaf_index(&mut self, request: &[u8]) -> Result<Vec<u8>> {
        let mut r = Reader::new(request, "get_merkle_leaf_index request");
        let root: [u8; 32] = r.array("root")?;
        let leaf: [u8; 32] = r.array("leaf hash")?;
        r.finish()?;
        let tree = self.store.tree(&root).ok_or_else(|| {
            Error::protocol(format!(
                "the device asked for an index in an unknown tree {}",
                to_hex(&root)
            ))
        })?;
        let (found, index) = match tree.index_of(&leaf) {
            Some(i) => (1u8, i as u64),
            None => (0u8, 0),
        };
        let mut response = vec![found];
        write_varint(&mut response, index);
        Ok(response)
    }

    fn get_more_elements(&mut self, request: &[u8]) -> Result<Vec<u8>> {
        if !request.is_empty() {
            return Err(Error::protocol("get_more_elements request carries data"));
        }
        let element_len = self.queue.front().map(Vec::len).ok_or_else(|| {
            Error::protocol("the device asked for more elements, none are queued")
        })?;
        if self.queue.iter().any(|e| e.len() != element_len) {
            return Err(Error::protocol("queued elements differ in length"));
        }
        let mut elements = Vec::new();
        let mut count = 0u8;
        while elements.len() + element_len <= MAX_RESPONSE - 2 {
            match self.queue.pop_front() {
                Some(e) => {
                    elements.extend_from_slice(&e);
                    count += 1;
                }
                None => break,
            }
        }
        let mut response = vec![count, element_len as u8];
        response.extend_from_slice(&elements);
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ledger::btc::merkle::leaf_hash;

    fn interp_with(elements: &[&[u8]]) -> (Interpreter, [u8; 32]) {
        let mut store = Store::new();
        let root = store.add_list(elements);
        (Interpreter::new(store), root)
    }

    #[test]
    fn long_preimages_spill_into_get_more_elements() {
        let long = vec![7u8; 600];
        let (mut it, _) = interp_with(&[&long]);
        let mut req = vec![CCMD_GET_PREIMAGE, 0];
        req.extend_from_slice(&leaf_hash(&long));
        let first = it.execute(&req).unwrap();
        assert_eq!(&first[..4], &[0xfd, 0x59, 0x02, 251]);
        assert_eq!(first.len(), 255);
        let more = it.execute(&[CCMD_GET_MORE_ELEMENTS]).unwrap();
        assert_eq!(&more[..2], &[253, 1]);
        let more = it.execute(&[CCMD_GET_MORE_ELEMENTS]).unwrap();
        assert_eq!(&more[..2], &[97, 1]);
        assert_eq!(
            it.execute(&[CCMD_GET_MORE_ELEMENTS]).unwrap_err().code(),
            "protocol"
        );
    }

    #[test]
    fn proofs_longer_than_six_hashes_are_queued() {
        let elements: Vec<Vec<u8>> = (0..200u8).map(|i| vec![i]).collect();
        let refs: Vec<&[u8]> = elements.iter().map(Vec::as_slice).collect();
        let (mut it, root) = interp_with(&refs);
        let mut req = vec![CCMD_GET_MERKLE_LEAF_PROOF];
        req.extend_from_slice(&root);
        req.extend_from_slice(&[200, 5]);
        let resp = it.execute(&req).unwrap();
        assert_eq!(&resp[..32], &leaf_hash(&[5]));
        assert_eq!(resp[32], 8);
        assert_eq!(resp[33], 6);
        assert_eq!(resp.len(), 34 + 6 * 32);
        let more = it.execute(&[CCMD_GET_MORE_ELEMENTS]).unwrap();
        assert_eq!(&more[..2], &[2, 32]);
    }

    #[test]
    fn unknown_or_malformed_requests_are_protocol_errors() {
        let (mut it, root) = interp_with(&[b"a"]);
        assert_eq!(it.execute(&[]).unwrap_err().code(), "protocol");
        assert_eq!(it.execute(&[0x77]).unwrap_err().code(), "protocol");
        assert_eq!(
            it.execute(&[CCMD_GET_PREIMAGE, 0, 1, 2])
                .unwrap_err()
                .code(),
            "protocol"
        );
        let mut req = vec![CCMD_GET_PREIMAGE, 0];
        req.extend_from_slice(&[9; 32]);
        assert!(it
            .execute(&req)
            .unwrap_err()
            .to_string()
            .contains("unknown preimage"));
        let mut req = vec![CCMD_GET_MERKLE_LEAF_PROOF];
        req.extend_from_slice(&root);
        req.extend_from_slice(&[2, 1]);
        assert!(it
            .execute(&req)
            .unwrap_err()
            .to_string()
            .contains("leaf 1 of 2 in a tree of 1"));
        let mut req = vec![CCMD_GET_MERKLE_LEAF_INDEX];
        req.extend_from_slice(&root);
        req.extend_from_slice(&leaf_hash(b"zz"));
        assert_eq!(it.execute(&req).unwrap(), vec![0, 0]);
    }

    #[test]
    fn yields_are_capped_and_undrained_queues_do_not_pile_up() {
        let long = vec![7u8; 600];
        let (it, _) = interp_with(&[&long]);
        let mut it = it.with_max_yields(2);
        assert!(it.execute(&[CCMD_YIELD, 1]).is_ok());
        assert!(it.execute(&[CCMD_YIELD, 2]).is_ok());
        let e = it.execute(&[CCMD_YIELD, 3]).unwrap_err();
        assert_eq!(e.code(), "protocol");
        assert!(e.to_string().contains("over 2 values"), "{e}");
        assert_eq!(it.yielded().len(), 2);
        // Asking for the same long preimage again and again, never draining: the host
        // holds one answer's rest, not one per request.
        let mut req = vec![CCMD_GET_PREIMAGE, 0];
        req.extend_from_slice(&leaf_hash(&long));
        for _ in 0..100 {
            it.execute(&req).unwrap();
        }
        assert_eq!(
            it.queue.len(),
            601 - 251,
            "the leaf preimage: 0x00 and 600 bytes"
        );
    }

    #[test]
    fn yields_are_collected() {
        let (mut it, _) = interp_with(&[]);
        assert_eq!(it.execute(&[CCMD_YIELD, 1, 2]).unwrap(), Vec::<u8>::new());
        assert_eq!(it.yielded(), &[vec![1, 2]]);
    }
}
