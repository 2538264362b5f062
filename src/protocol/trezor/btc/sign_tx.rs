//! The SignTx flow: answer every TxRequest from a [`Plan`] until TXFINISHED, and
//! collect the signatures and the serialized transaction on the way.

use bitcoin::hashes::Hash;
use bitcoin::{Transaction, Txid};

use crate::error::{Error, Result};
use crate::protocol::machine::{Events, Status};
use crate::protocol::trezor::btc::plan::{OrigTx, Plan};
use crate::protocol::trezor::call::{unexpected, Call, Next};
use crate::protocol::trezor::messages::{
    self as msg, request_type, types, PrevInput, PrevOutput, PrevTx, SignTx, TxAckInput,
    TxAckInputWrapper, TxAckOutput, TxAckOutputWrapper, TxAckPrevExtraData,
    TxAckPrevExtraDataWrapper, TxAckPrevInput, TxAckPrevInputWrapper, TxAckPrevMeta,
    TxAckPrevOutput, TxAckPrevOutputWrapper, TxRequest,
};

/// What the device returned from SignTx.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignTxResult {
    /// For each input, the signature (DER without sighash byte, or 64-byte Schnorr).
    pub signatures: Vec<Option<Vec<u8>>>,
    /// The concatenated `serialized_tx` chunks: the signed transaction.
    pub serialized_tx: Vec<u8>,
}

fn index_of(req: &TxRequest, len: usize, what: &str) -> Result<usize> {
    let i = req
        .details
        .as_ref()
        .and_then(|d| d.request_index)
        .ok_or_else(|| Error::protocol(format!("txrequest for {what} without an index")))?
        as usize;
    if i >= len {
        return Err(Error::protocol(format!(
            "txrequest for {what} {i}, but there are {len}"
        )));
    }
    Ok(i)
}

struct State {
    plan: Plan,
    result: SignTxResult,
    requests: usize,
    limit: usize,
    /// Signatures received so far.
    signed: usize,
    /// Most bytes of `serialized_tx` this transaction can take.
    serialized_budget: usize,
}

/// A signature is at most 73 bytes (DER with a sighash byte) or 65 (Schnorr).
const MAX_SIGNATURE: usize = 73;

/// About twice the largest size the signed transaction can have: each input with a
/// scriptSig or witness of its keys and signatures, each output with its script.
fn serialized_budget(plan: &Plan) -> usize {
    let inputs: usize = plan
        .inputs
        .iter()
        .map(|i| {
            let keys = i.multisig.as_ref().map_or(1, |m| m.pubkeys.len().max(1));
            // outpoint, sequence, script length; per key a signature and the key, for
            // the scriptSig and the witness alike, and the script around them.
            41 + 2 * (keys * (MAX_SIGNATURE + 34) + 16)
        })
        .sum();
    let outputs: usize = plan
        .outputs
        .iter()
        .map(|o| 9 + 43 + o.op_return_data.as_ref().map_or(0, Vec::len))
        .sum();
    2 * (16 + inputs + outputs)
}

fn txid_of(hash: &[u8]) -> Result<Txid> {
    let mut h: [u8; 32] = hash.try_into().map_err(|_| {
        Error::protocol(format!(
            "tx_hash of {} bytes where 32 were expected",
            hash.len()
        ))
    })?;
    h.reverse();
    Ok(Txid::from_byte_array(h))
}

impl State {
    fn prev(&self, hash: &[u8]) -> Result<&Transaction> {
        let txid = txid_of(hash)?;
        self.plan.prev_txs.get(&txid).ok_or_else(|| {
            Error::protocol(format!(
                "the trezor asks for previous transaction {txid}, which no input spends"
            ))
        })
    }

    fn orig(&self, hash: &[u8]) -> Result<&OrigTx> {
        let txid = txid_of(hash)?;
        self.plan.orig_txs.get(&txid).ok_or_else(|| {
            Error::protocol(format!(
                "the trezor asks for replaced transaction {txid}, which this one does not \
                 replace"
            ))
        })
    }

    fn answer(&mut self, req: &TxRequest, events: &mut Events) -> Result<Option<(u16, Vec<u8>)>> {
        if let Some(s) = &req.serialized {
            if let Some(chunk) = &s.serialized_tx {
                let total = self.result.serialized_tx.len().saturating_add(chunk.len());
                if total > self.serialized_budget {
                    return Err(Error::protocol(format!(
                        "the trezor serialized over {} bytes, more than this transaction can \
                         take",
                        self.serialized_budget
                    )));
                }
                self.result.serialized_tx.extend_from_slice(chunk);
            }
            if let Some(sig) = &s.signature {
                if sig.len() > MAX_SIGNATURE {
                    return Err(Error::protocol(format!(
                        "a signature of {} bytes (at most {MAX_SIGNATURE})",
                        sig.len()
                    )));
                }
                let i = s
                    .signature_index
                    .ok_or_else(|| Error::protocol("signature without its input index"))?
                    as usize;
                let slot = self.result.signatures.get_mut(i).ok_or_else(|| {
                    Error::protocol(format!("signature for input {i}, which does not exist"))
                })?;
                *slot = Some(sig.clone());
                let signed = self.result.signatures.iter().flatten().count();
                if signed != self.signed {
                    self.signed = signed;
                    events.push(Status::Signing {
                        index: signed,
                        total: self.plan.signers.iter().flatten().count(),
                    });
                }
            }
        }
        let kind = req
            .request_type
            .ok_or_else(|| Error::protocol("txrequest without a request type"))?;
        let tx_hash = req.details.as_ref().and_then(|d| d.tx_hash.clone());
        let plan = &self.plan;
        let ack = match (kind, tx_hash) {
            (request_type::TXFINISHED, _) => return Ok(None),
            (request_type::TXINPUT, None) => {
                let i = index_of(req, plan.inputs.len(), "input")?;
                msg::encode(&TxAckInput {
                    tx: Some(TxAckInputWrapper {
                        input: plan.inputs.get(i).cloned(),
                    }),
                })
            }
            (request_type::TXOUTPUT, None) => {
                let i = index_of(req, plan.outputs.len(), "output")?;
                msg::encode(&TxAckOutput {
                    tx: Some(TxAckOutputWrapper {
                        output: plan.outputs.get(i).cloned(),
                    }),
                })
            }
            (request_type::TXMETA, Some(hash)) => {
                let meta = match self.prev(&hash) {
                    Ok(tx) => PrevTx {
                        version: tx.version.0 as u32,
                        lock_time: tx.lock_time.to_consensus_u32(),
                        inputs_count: tx.input.len() as u32,
                        outputs_count: tx.output.len() as u32,
                        extra_data_len: None,
                    },
                    Err(e) => {
                        let orig = self.orig(&hash).map_err(|_| e)?;
                        PrevTx {
                            version: orig.version,
                            lock_time: orig.lock_time,
                            inputs_count: orig.inputs.len() as u32,
                            outputs_count: orig.outputs.len() as u32,
                            extra_data_len: None,
                        }
                    }
                };
                msg::encode(&TxAckPrevMeta { tx: Some(meta) })
            }
            (request_type::TXORIGINPUT, Some(hash)) => {
                let orig = self.orig(&hash)?;
                let i = index_of(req, orig.inputs.len(), "replaced input")?;
                msg::encode(&TxAckInput {
                    tx: Some(TxAckInputWrapper {
                        input: orig.inputs.get(i).cloned(),
                    }),
                })
            }
            (request_type::TXORIGOUTPUT, Some(hash)) => {
                let orig = self.orig(&hash)?;
                let i = index_of(req, orig.outputs.len(), "replaced output")?;
                msg::encode(&TxAckOutput {
                    tx: Some(TxAckOutputWrapper {
                        output: orig.outputs.get(i).cloned(),
                    }),
                })
            }
            (request_type::TXINPUT, Some(hash)) => {
                let tx = self.prev(&hash)?;
                let i = index_of(req, tx.input.len(), "previous input")?;
                let input = tx.input.get(i).map(|txin| PrevInput {
                    prev_hash: super::plan::display_order(&txin.previous_output.txid),
                    prev_index: txin.previous_output.vout,
                    script_sig: txin.script_sig.to_bytes(),
                    sequence: txin.sequence.0,
                });
                msg::encode(&TxAckPrevInput {
                    tx: Some(TxAckPrevInputWrapper { input }),
                })
            }
            (request_type::TXOUTPUT, Some(hash)) => {
                let tx = self.prev(&hash)?;
                let i = index_of(req, tx.output.len(), "previous output")?;
                let output = tx.output.get(i).map(|o| PrevOutput {
                    amount: o.value.to_sat(),
                    script_pubkey: o.script_pubkey.to_bytes(),
                    decred_script_version: None,
                });
                msg::encode(&TxAckPrevOutput {
                    tx: Some(TxAckPrevOutputWrapper { output }),
                })
            }
            (request_type::TXEXTRADATA, Some(hash)) => {
                // Bitcoin transactions have no extra data: only an empty slice exists.
                self.prev(&hash)?;
                let d = req.details.as_ref();
                let len = d.and_then(|d| d.extra_data_len).unwrap_or(0);
                let offset = d.and_then(|d| d.extra_data_offset).unwrap_or(0);
                if len != 0 || offset != 0 {
                    return Err(Error::protocol(format!(
                        "the trezor asks for {len} bytes of extra data at {offset}, but \
                         bitcoin transactions have none"
                    )));
                }
                msg::encode(&TxAckPrevExtraData {
                    tx: Some(TxAckPrevExtraDataWrapper {
                        extra_data_chunk: Some(Vec::new()),
                    }),
                })
            }
            (other, hash) => {
                return Err(Error::protocol(format!(
                    "txrequest type {other}{} is not part of bitcoin signing",
                    if hash.is_some() {
                        " for a previous tx"
                    } else {
                        ""
                    }
                )))
            }
        };
        Ok(Some(ack))
    }
}

/// Sends SignTx for `plan` and answers the device until TXFINISHED, reporting
/// [`Status::Signing`] as signatures arrive.
///
/// The number of requests is capped well above what the firmware needs for this
/// transaction, so a device that never finishes fails with `protocol` instead of
/// looping forever; so is what it can make the host hold: the serialized transaction
/// (about twice its largest size) and each signature (73 bytes).
pub fn sign_tx(plan: Plan) -> Call<SignTxResult> {
    let request = SignTx {
        outputs_count: plan.outputs.len() as u32,
        inputs_count: plan.inputs.len() as u32,
        coin_name: Some(plan.coin.name().into()),
        version: Some(plan.version),
        lock_time: Some(plan.lock_time),
        serialize: None,
        chunkify: None,
    };
    let n = plan.inputs.len() + plan.outputs.len();
    let prev: usize = plan
        .prev_txs
        .values()
        .map(|t| t.input.len() + t.output.len() + 2)
        .chain(
            plan.orig_txs
                .values()
                .map(|t| 2 * (t.inputs.len() + t.outputs.len()) + 2),
        )
        .sum();
    let limit = 64 + 8 * n + 2 * n * n + 2 * prev * plan.inputs.len().max(1);
    let mut state = State {
        result: SignTxResult {
            signatures: vec![None; plan.inputs.len()],
            serialized_tx: Vec::new(),
        },
        serialized_budget: serialized_budget(&plan),
        plan,
        requests: 0,
        limit,
        signed: 0,
    };
    Call::new(msg::encode(&request), move |ty, payload, events| {
        if ty != types::TX_REQUEST {
            return Err(unexpected(ty, "txrequest"));
        }
        state.requests += 1;
        if state.requests > state.limit {
            return Err(Error::protocol(format!(
                "the trezor sent over {} txrequests for a transaction that needs fewer",
                state.limit
            )));
        }
        let req = msg::decode::<TxRequest>(payload)?;
        match state.answer(&req, events)? {
            Some((ty, payload)) => Ok(Next::Send(ty, payload)),
            None => Ok(Next::Done(core::mem::take(&mut state.result))),
        }
    })
}

#[cfg(test)]
#[path = "sign_tx_tests.rs"]
mod tests;
