//! An output map as HWI reads and writes it.

use super::wire::{hd_keypath, key_type, read_tap_origin, sorted, write_pair, write_tap_origin};
use super::{ser_error, Output};
use crate::cli::hwi::errors::HwiError;

impl Output {
    pub(super) fn parse(pairs: Vec<(Vec<u8>, Vec<u8>)>, version: u32) -> Result<Output, HwiError> {
        let mut o = Output::default();
        let mut seen: Vec<Vec<u8>> = Vec::new();
        for (key, value) in pairs {
            let dup = seen.contains(&key);
            match key_type(&key) {
                0x00 => {
                    if dup {
                        return Err(ser_error(
                            "Duplicate key, output redeemScript already provided",
                        ));
                    }
                    o.redeem_script = value;
                }
                0x01 => {
                    if dup {
                        return Err(ser_error(
                            "Duplicate key, output witnessScript already provided",
                        ));
                    }
                    o.witness_script = value;
                }
                0x02 => hd_keypath(&key, &value, &mut o.hd_keypaths, &[34, 66])?,
                0x03 => {
                    let b: [u8; 8] = value
                        .as_slice()
                        .try_into()
                        .map_err(|_| ser_error("Output amount is not 8 bytes"))?;
                    o.amount = Some(i64::from_le_bytes(b));
                }
                0x04 => o.script = value,
                0x05 => {
                    if value.len() != 32 {
                        return Err(ser_error("Output Taproot internal key is not 32 bytes"));
                    }
                    o.tap_internal_key = value;
                }
                0x06 => o.tap_tree = value,
                0x07 => {
                    if key.len() != 33 {
                        return Err(ser_error(
                            "Output Taproot BIP 32 keypath key is not 33 bytes",
                        ));
                    }
                    let xonly = key.get(1..).unwrap_or(&[]).to_vec();
                    let (hashes, origin) = read_tap_origin(&value);
                    match o.tap_bip32_paths.iter_mut().find(|(k, _, _)| *k == xonly) {
                        Some(e) => {
                            e.1 = hashes;
                            e.2 = origin;
                        }
                        None => o.tap_bip32_paths.push((xonly, hashes, origin)),
                    }
                }
                0x08 => o.musig2.push((key.clone(), value)),
                _ => {
                    if o.unknown.iter().any(|(k, _)| *k == key) {
                        return Err(ser_error(
                            "Duplicate key, key for unknown value already provided",
                        ));
                    }
                    o.unknown.push((key.clone(), value));
                }
            }
            seen.push(key);
        }
        if version >= 2 {
            if o.amount.is_none() {
                return Err(ser_error("PSBT_OUTPUT_AMOUNT is required in PSBTv2"));
            }
            if o.script.is_empty() {
                return Err(ser_error("PSBT_OUTPUT_SCRIPT is required in PSBTv2"));
            }
        }
        Ok(o)
    }

    pub(super) fn write(&self, version: u32, out: &mut Vec<u8>) {
        if !self.redeem_script.is_empty() {
            write_pair(out, &[0x00], &self.redeem_script);
        }
        if !self.witness_script.is_empty() {
            write_pair(out, &[0x01], &self.witness_script);
        }
        for (pk, origin) in sorted(&self.hd_keypaths, |(k, _)| k.clone()) {
            write_pair(out, &[[0x02].as_slice(), &pk].concat(), &origin.write());
        }
        if version >= 2 {
            if let Some(a) = self.amount {
                write_pair(out, &[0x03], &a.to_le_bytes());
            }
            if !self.script.is_empty() {
                write_pair(out, &[0x04], &self.script);
            }
        }
        if !self.tap_internal_key.is_empty() {
            write_pair(out, &[0x05], &self.tap_internal_key);
        }
        if !self.tap_tree.is_empty() {
            write_pair(out, &[0x06], &self.tap_tree);
        }
        for (xonly, hashes, origin) in &self.tap_bip32_paths {
            write_pair(
                out,
                &[[0x07].as_slice(), xonly].concat(),
                &write_tap_origin(hashes, origin),
            );
        }
        for (k, v) in &self.musig2 {
            write_pair(out, k, v);
        }
        for (k, v) in sorted(&self.unknown, |(k, _)| k.clone()) {
            write_pair(out, &k, &v);
        }
        out.push(0x00);
    }
}
