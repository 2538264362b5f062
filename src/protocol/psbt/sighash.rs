//! The sighash type each input asks for, and the rule that only ALL / DEFAULT are
//! signed unless the caller opts in.
//!
//! A signature with `NONE`, `SINGLE` or `ANYONECANPAY` does not commit to the whole
//! transaction: whoever holds it can change the outputs or add inputs. A PSBT asking
//! for one looks like any other in a summary of amounts, so the host names the sighash
//! of every input and refuses such PSBTs unless told otherwise.

use crate::error::{Error, Result};
use crate::protocol::psbt::signature::spent_output;
use crate::protocol::psbt::view::Psbt;

const DEFAULT: u32 = 0x00;
const ALL: u32 = 0x01;
const NONE: u32 = 0x02;
const SINGLE: u32 = 0x03;
const ANYONECANPAY: u32 = 0x80;

/// The raw sighash type input `index` asks for: its PSBT field, or DEFAULT (taproot)
/// / ALL (others) without one.
fn raw_type(psbt: &Psbt, index: usize) -> u32 {
    match psbt.inputs.get(index).and_then(|i| i.sighash_type) {
        Some(t) => t.to_u32(),
        None if spent_output(psbt, index).is_some_and(|o| o.script_pubkey.is_p2tr()) => DEFAULT,
        None => ALL,
    }
}

/// The sighash input `index` asks for, as wallets write it: `ALL`, `DEFAULT`, `NONE`,
/// `SINGLE`, `ALL|ANYONECANPAY`, ..., or the number in hex for a type with no name.
pub fn name(psbt: &Psbt, index: usize) -> String {
    let t = raw_type(psbt, index);
    let base = match t & !ANYONECANPAY {
        DEFAULT if t == DEFAULT => "DEFAULT",
        ALL => "ALL",
        NONE => "NONE",
        SINGLE => "SINGLE",
        _ => return format!("0x{t:x}"),
    };
    if t & ANYONECANPAY != 0 {
        format!("{base}|ANYONECANPAY")
    } else {
        base.to_string()
    }
}

/// True when input `index` asks for a signature of the whole transaction: ALL, or
/// DEFAULT for a taproot input.
pub fn is_default(psbt: &Psbt, index: usize) -> bool {
    match raw_type(psbt, index) {
        ALL => true,
        DEFAULT => spent_output(psbt, index).is_some_and(|o| o.script_pubkey.is_p2tr()),
        _ => false,
    }
}

/// Refuses a PSBT with an input that asks for another sighash than ALL / DEFAULT,
/// unless `allow` (the caller's `allow_non_default_sighash`).
///
/// # Errors
/// `invalid-input` naming the first such input and its sighash.
pub fn check(psbt: &Psbt, allow: bool) -> Result<()> {
    if allow {
        return Ok(());
    }
    match (0..psbt.inputs.len()).find(|i| !is_default(psbt, *i)) {
        None => Ok(()),
        Some(i) => Err(Error::invalid(
            format!("input {i}"),
            format!(
                "it asks for sighash {}, which does not commit to the whole transaction: \
                 refused unless the caller allows non-default sighash types",
                name(psbt, i)
            ),
        )),
    }
}
