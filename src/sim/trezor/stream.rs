//! How the simulated Trezor asks the host during SignTx: the replay cursor over the
//! answers received so far, the typed TxAck decoders, and the streaming and hashing
//! of a previous transaction.

use bitcoin::hashes::{sha256d, Hash};
use prost::Message as _;

use crate::protocol::bytes::write_varint;
use crate::protocol::trezor::messages::{
    failure, request_type, InputScriptType, PrevInput, PrevOutput, PrevTx, TxAckInput, TxAckOutput,
    TxAckPrevExtraData, TxAckPrevInput, TxAckPrevMeta, TxAckPrevOutput, TxInput, TxOutput,
    TxRequest, TxRequestDetailsType, TxRequestSerializedType,
};
use crate::sim::confirm::Prompt;
use crate::sim::seed::Seed;
use crate::sim::trezor::keys::Refusal;

/// An answer the host gave during signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A TxAck payload.
    Tx(Vec<u8>),
    /// The simulated user's answer to a confirmation screen.
    Button(bool),
}

/// Where a replay stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Ask the host this (needs a TxAck).
    Request(TxRequest),
    /// Show a screen (needs a ButtonAck); with a prompt, the simulated user decides,
    /// without one (a further page of an approved screen) it is approved.
    Button(i32, Option<Prompt>),
    /// Signing is done: the last TxRequest (TXFINISHED).
    Finished(TxRequest),
    /// Refuse with this failure.
    Fail(Refusal),
}

pub type Step<T> = core::result::Result<T, Outcome>;

pub fn fail<T>(code: i32, text: &str) -> Step<T> {
    Err(Outcome::Fail((code, text.to_string())))
}

pub fn changed<T>() -> Step<T> {
    fail(
        failure::PROCESS_ERROR,
        "Transaction has changed during signing",
    )
}

pub const MAX_COUNT: u32 = 10_000;

pub struct Run<'a> {
    pub seed: &'a Seed,
    pub answers: &'a [Answer],
    pub cursor: usize,
    pub buf: Vec<u8>,
    pub sig: Option<(u32, Vec<u8>)>,
}

impl Run<'_> {
    pub fn ask(
        &mut self,
        kind: i32,
        index: Option<u32>,
        tx_hash: Option<&[u8]>,
        extra: Option<(u32, u32)>,
    ) -> Step<Vec<u8>> {
        match self.answers.get(self.cursor) {
            Some(Answer::Tx(payload)) => {
                self.cursor += 1;
                self.buf.clear();
                self.sig = None;
                Ok(payload.clone())
            }
            Some(Answer::Button(_)) => fail(failure::UNEXPECTED_MESSAGE, "Unexpected message"),
            None => {
                let sig = self.sig.take();
                Err(Outcome::Request(TxRequest {
                    request_type: Some(kind),
                    details: Some(TxRequestDetailsType {
                        request_index: index,
                        tx_hash: tx_hash.map(<[u8]>::to_vec),
                        extra_data_len: extra.map(|e| e.1),
                        extra_data_offset: extra.map(|e| e.0),
                    }),
                    serialized: Some(TxRequestSerializedType {
                        signature_index: sig.as_ref().map(|s| s.0),
                        signature: sig.map(|s| s.1),
                        serialized_tx: Some(core::mem::take(&mut self.buf)),
                    }),
                }))
            }
        }
    }

    pub fn button(&mut self, code: i32, prompt: Option<Prompt>) -> Step<()> {
        match self.answers.get(self.cursor) {
            Some(Answer::Button(true)) => {
                self.cursor += 1;
                Ok(())
            }
            Some(Answer::Button(false)) => fail(failure::ACTION_CANCELLED, "Cancelled"),
            Some(Answer::Tx(_)) => fail(failure::UNEXPECTED_MESSAGE, "Unexpected message"),
            None => Err(Outcome::Button(code, prompt)),
        }
    }

    pub fn input(&mut self, i: u32) -> Step<TxInput> {
        let p = self.ask(request_type::TXINPUT, Some(i), None, None)?;
        TxAckInput::decode(p.as_slice())
            .ok()
            .and_then(|a| a.tx)
            .and_then(|w| w.input)
            .map_or_else(|| fail(failure::DATA_ERROR, "Failed to decode message"), Ok)
    }

    pub fn output(&mut self, i: u32) -> Step<TxOutput> {
        let p = self.ask(request_type::TXOUTPUT, Some(i), None, None)?;
        TxAckOutput::decode(p.as_slice())
            .ok()
            .and_then(|a| a.tx)
            .and_then(|w| w.output)
            .map_or_else(|| fail(failure::DATA_ERROR, "Failed to decode message"), Ok)
    }

    /// An input of the replaced transaction `hash` (TXORIGINPUT).
    pub fn orig_input(&mut self, hash: &[u8], i: u32) -> Step<TxInput> {
        let p = self.ask(request_type::TXORIGINPUT, Some(i), Some(hash), None)?;
        TxAckInput::decode(p.as_slice())
            .ok()
            .and_then(|a| a.tx)
            .and_then(|w| w.input)
            .map_or_else(|| fail(failure::DATA_ERROR, "Failed to decode message"), Ok)
    }

    /// An output of the replaced transaction `hash` (TXORIGOUTPUT).
    pub fn orig_output(&mut self, hash: &[u8], i: u32) -> Step<TxOutput> {
        let p = self.ask(request_type::TXORIGOUTPUT, Some(i), Some(hash), None)?;
        TxAckOutput::decode(p.as_slice())
            .ok()
            .and_then(|a| a.tx)
            .and_then(|w| w.output)
            .map_or_else(|| fail(failure::DATA_ERROR, "Failed to decode message"), Ok)
    }

    pub fn meta(&mut self, hash: &[u8]) -> Step<PrevTx> {
        let p = self.ask(request_type::TXMETA, None, Some(hash), None)?;
        TxAckPrevMeta::decode(p.as_slice())
            .ok()
            .and_then(|a| a.tx)
            .map_or_else(|| fail(failure::DATA_ERROR, "Failed to decode message"), Ok)
    }

    pub fn prev_input(&mut self, hash: &[u8], i: u32) -> Step<PrevInput> {
        let p = self.ask(request_type::TXINPUT, Some(i), Some(hash), None)?;
        TxAckPrevInput::decode(p.as_slice())
            .ok()
            .and_then(|a| a.tx)
            .and_then(|w| w.input)
            .map_or_else(|| fail(failure::DATA_ERROR, "Failed to decode message"), Ok)
    }

    pub fn prev_output(&mut self, hash: &[u8], i: u32) -> Step<PrevOutput> {
        let p = self.ask(request_type::TXOUTPUT, Some(i), Some(hash), None)?;
        TxAckPrevOutput::decode(p.as_slice())
            .ok()
            .and_then(|a| a.tx)
            .and_then(|w| w.output)
            .map_or_else(|| fail(failure::DATA_ERROR, "Failed to decode message"), Ok)
    }

    pub fn extra(&mut self, hash: &[u8], offset: u32, len: u32) -> Step<Vec<u8>> {
        let p = self.ask(
            request_type::TXEXTRADATA,
            None,
            Some(hash),
            Some((offset, len)),
        )?;
        TxAckPrevExtraData::decode(p.as_slice())
            .ok()
            .and_then(|a| a.tx)
            .and_then(|w| w.extra_data_chunk)
            .filter(|c| c.len() == len as usize)
            .map_or_else(|| fail(failure::DATA_ERROR, "Failed to decode message"), Ok)
    }

    /// Streams a previous transaction, checks its hash, returns the spent output.
    pub fn prevtx_output(&mut self, hash: &[u8], index: u32) -> Step<(u64, Vec<u8>)> {
        let meta = self.meta(hash)?;
        if meta.outputs_count <= index {
            return fail(
                failure::PROCESS_ERROR,
                "Not enough outputs in previous transaction.",
            );
        }
        if meta.inputs_count > MAX_COUNT || meta.outputs_count > MAX_COUNT {
            return fail(failure::DATA_ERROR, "Too many inputs or outputs");
        }
        let mut raw = meta.version.to_le_bytes().to_vec();
        write_varint(&mut raw, u64::from(meta.inputs_count));
        for i in 0..meta.inputs_count {
            let txi = self.prev_input(hash, i)?;
            if txi.prev_hash.len() != 32 {
                return fail(failure::DATA_ERROR, "Provided prev_hash is invalid.");
            }
            raw.extend(txi.prev_hash.iter().rev());
            raw.extend_from_slice(&txi.prev_index.to_le_bytes());
            write_varint(&mut raw, txi.script_sig.len() as u64);
            raw.extend_from_slice(&txi.script_sig);
            raw.extend_from_slice(&txi.sequence.to_le_bytes());
        }
        write_varint(&mut raw, u64::from(meta.outputs_count));
        let mut spent = None;
        for i in 0..meta.outputs_count {
            let txo = self.prev_output(hash, i)?;
            raw.extend_from_slice(&txo.amount.to_le_bytes());
            write_varint(&mut raw, txo.script_pubkey.len() as u64);
            raw.extend_from_slice(&txo.script_pubkey);
            if i == index {
                spent = Some((txo.amount, txo.script_pubkey));
            }
        }
        let extra_len = meta.extra_data_len.unwrap_or(0);
        let mut offset = 0;
        while offset < extra_len {
            let len = (extra_len - offset).min(1024);
            let chunk = self.extra(hash, offset, len)?;
            raw.extend_from_slice(&chunk);
            offset += len;
        }
        raw.extend_from_slice(&meta.lock_time.to_le_bytes());
        let mut txid = sha256d::Hash::hash(&raw).to_byte_array();
        txid.reverse();
        if txid.as_slice() != hash {
            return fail(failure::PROCESS_ERROR, "Encountered invalid prev_hash");
        }
        spent.map_or_else(changed, Ok)
    }
}

pub fn process_error<T>(text: &str) -> Step<T> {
    fail(failure::PROCESS_ERROR, text)
}

pub fn is_segwit(t: Option<i32>) -> bool {
    matches!(
        t,
        Some(
            InputScriptType::SPENDWITNESS
                | InputScriptType::SPENDP2SHWITNESS
                | InputScriptType::SPENDTAPROOT
        )
    )
}

pub fn push(out: &mut Vec<u8>, data: &[u8]) {
    write_varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

pub fn refuse<T>(r: Refusal) -> Step<T> {
    Err(Outcome::Fail(r))
}
