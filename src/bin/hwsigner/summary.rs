//! `summary`: what a PSBT does, before signing, with what of it is certain. Needs no
//! device.

use bitcoin::bip32::Fingerprint;
use hwsigner::protocol::psbt::raw;
use hwsigner::protocol::psbt::summary::{summarize_with_policy, Summary};
use hwsigner::Error;

use crate::args::{Parsed, Spec};
use crate::call::{policy, read_input};
use crate::commands::Output;
use crate::failure::Failure;
use crate::json::Json;

/// `summary FILE|- [--fingerprint F] [--template T --key K ...]`.
pub const SUMMARY: Spec = Spec {
    switches: &[],
    options: &["--fingerprint", "--template", "--name", "--hmac"],
    repeated: &["--key"],
    positionals: (1, 1),
};

fn amount(a: Option<u64>) -> String {
    a.map_or_else(|| "?".to_string(), |a| a.to_string())
}

fn json_amount(a: Option<u64>) -> Json {
    a.map_or(Json::Null, Json::Num)
}

fn flag(b: bool) -> Json {
    Json::Bool(b)
}

/// The lines and the JSON object of a summary.
pub fn output(s: &Summary) -> Output {
    let mut text = Vec::new();
    let mut inputs = Vec::new();
    for (i, input) in s.inputs.iter().enumerate() {
        text.push(format!(
            "input {i}: {} {} sat ({}){}, sighash {}",
            input.outpoint,
            amount(input.amount),
            if input.verified {
                "verified"
            } else {
                "unverified"
            },
            if input.ours { ", ours" } else { "" },
            input.sighash
        ));
        inputs.push(Json::Object(vec![
            ("outpoint", Json::from(input.outpoint.clone())),
            ("amount", json_amount(input.amount)),
            ("verified", flag(input.verified)),
            ("ours", flag(input.ours)),
            ("sighash", Json::from(input.sighash.clone())),
        ]));
    }
    let mut outputs = Vec::new();
    for (i, o) in s.outputs.iter().enumerate() {
        let to = o.address.clone().unwrap_or_else(|| "(no address)".into());
        let kind = match (o.change, o.claims_change) {
            (true, _) => " (change)",
            (false, true) => " (claims change: not the device's key)",
            (false, false) => "",
        };
        text.push(format!("output {i}: {} sat to {to}{kind}", o.amount));
        outputs.push(Json::Object(vec![
            ("address", o.address.clone().map_or(Json::Null, Json::from)),
            ("amount", Json::Num(o.amount)),
            ("change", flag(o.change)),
            ("claims_change", flag(o.claims_change)),
        ]));
    }
    text.push(format!(
        "fee: {} sat ({})",
        amount(s.fee),
        if s.fee_verified {
            "verified"
        } else {
            "unverified"
        }
    ));
    for w in &s.warnings {
        text.push(format!("warning: {w}"));
    }
    Output {
        text,
        json: Json::Object(vec![
            ("inputs", Json::Array(inputs)),
            ("outputs", Json::Array(outputs)),
            ("fee", json_amount(s.fee)),
            ("fee_verified", flag(s.fee_verified)),
            ("network", Json::from(s.network.to_string())),
            (
                "warnings",
                Json::Array(s.warnings.iter().cloned().map(Json::from).collect()),
            ),
        ]),
    }
}

/// Runs `summary` on its parsed arguments.
///
/// # Errors
/// Usage errors, and `invalid-input` for a bad psbt, fingerprint or policy.
pub fn run(args: &Parsed) -> Result<Output, Failure> {
    let input = read_input(args.positional(0, "a FILE or -", "summary")?)?;
    let psbt = raw::decode(&input)?;
    let fingerprint = args
        .value("--fingerprint")
        .map(|f| {
            f.parse::<Fingerprint>()
                .map_err(|_| Error::invalid("fingerprint", format!("{f:?} is not 8 hex digits")))
        })
        .transpose()?;
    let policy = policy(args, "summary")?.map(|(p, _)| p);
    Ok(output(&summarize_with_policy(
        &psbt,
        fingerprint,
        policy.as_ref(),
    )?))
}
