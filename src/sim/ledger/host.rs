//! The simulated app's side of the client commands: asking the host for preimages,
//! Merkle leaves and map values, and checking every proof it gets.
//!
//! A command handler is an `async` function that awaits [`HostLink::ask`]. The
//! simulator polls it by hand: when it stops at an `ask`, the request goes to the host
//! as an 0xE000 reply, and the host's CONTINUE data resumes it. No executor, no
//! threads: the handler's future is the state machine.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use bitcoin::hashes::{sha256, Hash};

use crate::protocol::bytes::{write_varint, Reader};
use crate::protocol::ledger::btc::interpreter::{
    CCMD_GET_MERKLE_LEAF_INDEX, CCMD_GET_MERKLE_LEAF_PROOF, CCMD_GET_MORE_ELEMENTS,
    CCMD_GET_PREIMAGE, CCMD_YIELD,
};
use crate::protocol::ledger::btc::merkle::{root_from_proof, Hash32};

/// A status word ending a command.
pub type Sw = u16;
/// Incorrect data.
pub const SW_INCORRECT_DATA: Sw = 0x6a80;
/// Wrong length.
pub const SW_WRONG_LENGTH: Sw = 0x6700;
/// Not supported.
pub const SW_NOT_SUPPORTED: Sw = 0x6a82;
/// Denied by the user.
pub const SW_DENY: Sw = 0x6985;
/// Bad state.
pub const SW_BAD_STATE: Sw = 0xb007;
/// Signature (hmac) failure.
pub const SW_SIGNATURE_FAIL: Sw = 0xb008;

/// What a handler returns: reply data, or a status word.
pub type SimResult<T> = Result<T, Sw>;

/// Most client-command responses a single element fetch may take (a guard against a
/// host that answers GET_MORE_ELEMENTS with nothing forever).
const MAX_MORE_ELEMENTS: usize = 100_000;

/// The mailbox between a suspended handler and the host.
#[derive(Debug, Default)]
pub struct HostLink {
    request: RefCell<Option<Vec<u8>>>,
    response: RefCell<Option<Vec<u8>>>,
}

struct Answer<'a>(&'a HostLink);

impl Future for Answer<'_> {
    type Output = Vec<u8>;
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Vec<u8>> {
        match self.0.response.borrow_mut().take() {
            Some(r) => Poll::Ready(r),
            None => Poll::Pending,
        }
    }
}

impl HostLink {
    /// A new, shared link.
    pub fn new() -> Rc<Self> {
        Rc::new(Self::default())
    }

    /// Sends a client command and waits for the host's answer.
    pub async fn ask(&self, command: Vec<u8>) -> Vec<u8> {
        *self.response.borrow_mut() = None;
        *self.request.borrow_mut() = Some(command);
        Answer(self).await
    }

    /// The client command a suspended handler is waiting on.
    pub fn take_request(&self) -> Option<Vec<u8>> {
        self.request.borrow_mut().take()
    }

    /// Hands the host's answer to the suspended handler.
    pub fn put_response(&self, data: Vec<u8>) {
        *self.response.borrow_mut() = Some(data);
    }

    /// YIELD: hands the host a result.
    pub async fn yield_value(&self, data: &[u8]) -> SimResult<()> {
        let mut cmd = vec![CCMD_YIELD];
        cmd.extend_from_slice(data);
        let r = self.ask(cmd).await;
        if r.is_empty() {
            Ok(())
        } else {
            Err(SW_INCORRECT_DATA)
        }
    }

    async fn more_elements(
        &self,
        expected_len: usize,
        want: usize,
        out: &mut Vec<u8>,
    ) -> SimResult<()> {
        let mut rounds = 0;
        while out.len() < want {
            rounds += 1;
            if rounds > MAX_MORE_ELEMENTS {
                return Err(SW_INCORRECT_DATA);
            }
            let r = self.ask(vec![CCMD_GET_MORE_ELEMENTS]).await;
            let mut rd = Reader::new(&r, "get_more_elements response");
            let n = usize::from(rd.u8("count").map_err(|_| SW_INCORRECT_DATA)?);
            let len = usize::from(rd.u8("element length").map_err(|_| SW_INCORRECT_DATA)?);
            if len != expected_len || n == 0 {
                return Err(SW_INCORRECT_DATA);
            }
            out.extend_from_slice(
                rd.bytes(n * len, "elements")
                    .map_err(|_| SW_INCORRECT_DATA)?,
            );
            rd.finish().map_err(|_| SW_INCORRECT_DATA)?;
        }
        if out.len() == want {
            Ok(())
        } else {
            Err(SW_INCORRECT_DATA)
        }
    }

    /// GET_PREIMAGE, checked against `hash`.
    pub async fn preimage(&self, hash: &Hash32) -> SimResult<Vec<u8>> {
        let mut cmd = vec![CCMD_GET_PREIMAGE, 0];
        cmd.extend_from_slice(hash);
        let r = self.ask(cmd).await;
        let mut rd = Reader::new(&r, "get_preimage response");
        let total = usize::try_from(rd.varint("length").map_err(|_| SW_INCORRECT_DATA)?)
            .map_err(|_| SW_INCORRECT_DATA)?;
        let now = usize::from(rd.u8("partial length").map_err(|_| SW_INCORRECT_DATA)?);
        if now > total || total > 1 << 20 {
            return Err(SW_INCORRECT_DATA);
        }
        let mut out = rd
            .bytes(now, "preimage")
            .map_err(|_| SW_INCORRECT_DATA)?
            .to_vec();
        rd.finish().map_err(|_| SW_INCORRECT_DATA)?;
        self.more_elements(1, total, &mut out).await?;
        if sha256::Hash::hash(&out).to_byte_array() != *hash {
            return Err(SW_INCORRECT_DATA);
        }
        Ok(out)
    }

    /// GET_MERKLE_LEAF_PROOF: the leaf hash at `index`, with its proof checked.
    pub async fn leaf_hash(&self, root: &Hash32, size: usize, index: usize) -> SimResult<Hash32> {
        let mut cmd = vec![CCMD_GET_MERKLE_LEAF_PROOF];
        cmd.extend_from_slice(root);
        write_varint(&mut cmd, size as u64);
        write_varint(&mut cmd, index as u64);
        let r = self.ask(cmd).await;
        let mut rd = Reader::new(&r, "get_merkle_leaf_proof response");
        let leaf: Hash32 = rd.array("leaf").map_err(|_| SW_INCORRECT_DATA)?;
        let proof_len = usize::from(rd.u8("proof length").map_err(|_| SW_INCORRECT_DATA)?);
        let now = usize::from(rd.u8("hashes now").map_err(|_| SW_INCORRECT_DATA)?);
        if now > proof_len {
            return Err(SW_INCORRECT_DATA);
        }
        let mut flat = rd
            .bytes(now * 32, "proof")
            .map_err(|_| SW_INCORRECT_DATA)?
            .to_vec();
        rd.finish().map_err(|_| SW_INCORRECT_DATA)?;
        self.more_elements(32, proof_len * 32, &mut flat).await?;
        let proof: Vec<Hash32> = flat
            .chunks_exact(32)
            .filter_map(|c| c.try_into().ok())
            .collect();
        match root_from_proof(size, index, leaf, &proof) {
            Some(r) if r == *root => Ok(leaf),
            _ => Err(SW_INCORRECT_DATA),
        }
    }

    /// The element at `index` of a committed list (leaf preimage without its 0x00).
    pub async fn element(&self, root: &Hash32, size: usize, index: usize) -> SimResult<Vec<u8>> {
        let leaf = self.leaf_hash(root, size, index).await?;
        let pre = self.preimage(&leaf).await?;
        match pre.split_first() {
            Some((0, rest)) => Ok(rest.to_vec()),
            _ => Err(SW_INCORRECT_DATA),
        }
    }

    /// GET_MERKLE_LEAF_INDEX, checked with a proof.
    pub async fn leaf_index(
        &self,
        root: &Hash32,
        size: usize,
        leaf: &Hash32,
    ) -> SimResult<Option<usize>> {
        let mut cmd = vec![CCMD_GET_MERKLE_LEAF_INDEX];
        cmd.extend_from_slice(root);
        cmd.extend_from_slice(leaf);
        let r = self.ask(cmd).await;
        let mut rd = Reader::new(&r, "get_merkle_leaf_index response");
        let found = rd.u8("found").map_err(|_| SW_INCORRECT_DATA)?;
        let index = usize::try_from(rd.varint("index").map_err(|_| SW_INCORRECT_DATA)?)
            .map_err(|_| SW_INCORRECT_DATA)?;
        rd.finish().map_err(|_| SW_INCORRECT_DATA)?;
        if found == 0 {
            return Ok(None);
        }
        if index >= size || self.leaf_hash(root, size, index).await? != *leaf {
            return Err(SW_INCORRECT_DATA);
        }
        Ok(Some(index))
    }

    /// Every key and value of a committed map, in key order.
    pub async fn full_map(&self, map: &MapCommitment) -> SimResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::with_capacity(map.size);
        for i in 0..map.size {
            let key = self.element(&map.keys_root, map.size, i).await?;
            let value = self.element(&map.values_root, map.size, i).await?;
            out.push((key, value));
        }
        Ok(out)
    }
}

/// A merkleized map as the host commits to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapCommitment {
    /// Number of pairs.
    pub size: usize,
    /// Root of the sorted keys.
    pub keys_root: Hash32,
    /// Root of the values, in key order.
    pub values_root: Hash32,
}

impl MapCommitment {
    /// Reads `varint size | keys_root | values_root`.
    pub fn read(r: &mut Reader<'_>) -> SimResult<Self> {
        let size = usize::try_from(r.varint("map size").map_err(|_| SW_INCORRECT_DATA)?)
            .map_err(|_| SW_INCORRECT_DATA)?;
        let keys_root = r.array("keys root").map_err(|_| SW_INCORRECT_DATA)?;
        let values_root = r.array("values root").map_err(|_| SW_INCORRECT_DATA)?;
        Ok(MapCommitment {
            size,
            keys_root,
            values_root,
        })
    }
}
