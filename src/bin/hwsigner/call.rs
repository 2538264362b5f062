//! A device command read from its arguments and checked before any device is opened,
//! so that bad input is reported (exit 2) whether or not a wallet is plugged in.

use std::io::Read;

use bitcoin::bip32::DerivationPath;
use bitcoin::hex::FromHex;
use hwsigner::device::{AddressRequest, AddressSource, SignOptions};
use hwsigner::protocol::ledger::btc::merkle::Hash32;
use hwsigner::protocol::path;
use hwsigner::protocol::policy::WalletPolicy;
use hwsigner::protocol::psbt::raw::{self, RawPsbt};
use hwsigner::protocol::psbt::signing::Replaced;
use hwsigner::Error;

use crate::args::{Parsed, Spec};
use crate::failure::Failure;

/// `info`, `fingerprint` and `enumerate`: nothing to give.
pub const NO_ARGS: Spec = Spec {
    switches: &[],
    options: &[],
    repeated: &[],
    positionals: (0, 0),
};
/// `xpub PATH [--display]`.
pub const XPUB: Spec = Spec {
    switches: &["--display"],
    options: &[],
    repeated: &[],
    positionals: (1, 1),
};
/// `address`.
pub const ADDRESS: Spec = Spec {
    switches: &["--change", "--display", "--allow-unverified"],
    options: &["--descriptor", "--template", "--name", "--hmac", "--index"],
    repeated: &["--key"],
    positionals: (0, 0),
};
/// `register`.
pub const REGISTER: Spec = Spec {
    switches: &[],
    options: &["--name", "--template"],
    repeated: &["--key"],
    positionals: (0, 0),
};
/// `sign-psbt`.
pub const SIGN_PSBT: Spec = Spec {
    switches: &["--finalize", "--allow-non-default-sighash"],
    options: &["--template", "--name", "--hmac"],
    repeated: &["--key", "--replaces"],
    positionals: (1, 1),
};
/// `sign-message PATH MESSAGE`.
pub const SIGN_MESSAGE: Spec = Spec {
    switches: &[],
    options: &[],
    repeated: &[],
    positionals: (2, 2),
};

/// The flags of each device command, `None` for a command that is not one.
pub fn spec(command: &str) -> Option<Spec> {
    Some(match command {
        "info" | "fingerprint" => NO_ARGS,
        "xpub" => XPUB,
        "address" => ADDRESS,
        "register" => REGISTER,
        "sign-psbt" => SIGN_PSBT,
        "sign-message" => SIGN_MESSAGE,
        _ => return None,
    })
}

/// One checked device call.
#[derive(Debug)]
pub enum Call {
    /// Vendor, model, app, version.
    Info,
    /// The master fingerprint.
    Fingerprint,
    /// An xpub.
    Xpub {
        /// Where.
        path: DerivationPath,
        /// Shown on the device.
        display: bool,
    },
    /// An address.
    Address(AddressRequest),
    /// A policy registration.
    Register(WalletPolicy),
    /// A PSBT to sign.
    SignPsbt(RawPsbt, SignOptions),
    /// A message to sign.
    SignMessage(DerivationPath, String),
}

impl Call {
    /// Reads `command`'s parsed arguments.
    ///
    /// # Errors
    /// Usage errors, and `invalid-input` for a bad path, psbt, policy, index or hmac.
    pub fn read(command: &str, args: &Parsed) -> Result<Self, Failure> {
        Ok(match command {
            "info" => Call::Info,
            "fingerprint" => Call::Fingerprint,
            "xpub" => Call::Xpub {
                path: path::parse(args.positional(0, "a PATH", command)?)?,
                display: args.switch("--display"),
            },
            "address" => Call::Address(address(args)?),
            "register" => {
                args.required("--name", command)?;
                let Some((policy, _)) = policy(args, command)? else {
                    return Err(Failure::usage("register needs --template T --key K"));
                };
                // A malformed key or template is bad input, not the device's 0x6a80.
                policy.descriptor()?;
                Call::Register(policy)
            }
            "sign-psbt" => {
                let input = read_input(args.positional(0, "a FILE or -", command)?)?;
                let options = SignOptions {
                    policy: policy(args, command)?,
                    finalize: args.switch("--finalize"),
                    allow_non_default_sighash: args.switch("--allow-non-default-sighash"),
                    replaces: args
                        .values("--replaces")
                        .into_iter()
                        .map(Replaced::from_hex)
                        .collect::<Result<_, Error>>()?,
                    ..Default::default()
                };
                Call::SignPsbt(raw::decode(&input)?, options)
            }
            "sign-message" => Call::SignMessage(
                path::parse(args.positional(0, "a PATH", command)?)?,
                args.positional(1, "a MESSAGE", command)?.to_string(),
            ),
            other => return Err(Failure::usage(format!("no command {other:?}"))),
        })
    }
}

fn address(args: &Parsed) -> Result<AddressRequest, Failure> {
    let source = match (args.value("--descriptor"), policy(args, "address")?) {
        (Some(d), None) => AddressSource::Descriptor(d.to_string()),
        (None, Some((p, hmac))) => {
            // The host derives the address too: check the policy reads before asking.
            p.descriptor()?;
            AddressSource::Policy(p, hmac)
        }
        (Some(_), Some(_)) => {
            return Err(Failure::usage(
                "address takes --descriptor or --template, not both",
            ))
        }
        (None, None) => {
            return Err(Failure::usage(
                "address needs --descriptor D or --template T --key K",
            ))
        }
    };
    let index = match args.value("--index") {
        None => 0,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|i| *i < 1 << 31)
            .ok_or_else(|| {
                Error::invalid("index", format!("{text:?} is not a number below 2^31"))
            })?,
    };
    Ok(AddressRequest {
        source,
        change: args.switch("--change"),
        index,
        display: args.switch("--display"),
        allow_unverified: args.switch("--allow-unverified"),
    })
}

/// The wallet policy of `--template`, `--key`s, `--name` and `--hmac`, if any.
pub fn policy(
    args: &Parsed,
    command: &str,
) -> Result<Option<(WalletPolicy, Option<Hash32>)>, Failure> {
    let keys: Vec<String> = args.values("--key").into_iter().map(String::from).collect();
    let Some(template) = args.value("--template") else {
        return match ["--key", "--name", "--hmac"]
            .into_iter()
            .find(|f| args.value(f).is_some())
        {
            Some(flag) if command != "register" || flag != "--name" => Err(Failure::usage(
                format!("{command}: {flag} goes with --template"),
            )),
            _ => Ok(None),
        };
    };
    if keys.is_empty() {
        return Err(Failure::usage(format!(
            "{command}: --template needs at least one --key"
        )));
    }
    let policy = WalletPolicy::new(args.value("--name").unwrap_or(""), template, keys)?;
    let hmac = args.value("--hmac").map(parse_hmac).transpose()?;
    Ok(Some((policy, hmac)))
}

/// With `--testnet` or `--mainnet`, refuses extended keys of the other network in
/// `--descriptor` and `--key`s (a device would only answer "incorrect data").
///
/// # Errors
/// `invalid-input` naming the keys and the flag.
pub fn check_network(args: &Parsed, testnet: Option<bool>) -> Result<(), Error> {
    let Some(testnet) = testnet else {
        return Ok(());
    };
    let mut texts = args.values("--key");
    texts.extend(args.value("--descriptor"));
    let has = |prefix: &str| {
        texts.iter().any(|t| {
            t.split(|c: char| !c.is_ascii_alphanumeric())
                .any(|word| word.len() > 100 && word.starts_with(prefix))
        })
    };
    match (testnet, has("xpub"), has("tpub")) {
        (true, true, _) => Err(Error::invalid(
            "network",
            "the keys are mainnet ones (xpub) but --testnet is given",
        )),
        (false, _, true) => Err(Error::invalid(
            "network",
            "the keys are testnet ones (tpub) but --mainnet is given",
        )),
        _ => Ok(()),
    }
}

fn parse_hmac(text: &str) -> Result<Hash32, Error> {
    Hash32::from_hex(text.trim())
        .map_err(|_| Error::invalid("hmac", format!("{text:?} is not 64 hex digits")))
}

/// The bytes of FILE, or of stdin for `-`.
pub fn read_input(name: &str) -> Result<Vec<u8>, Error> {
    let read = if name == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        std::fs::read(name)
    };
    read.map_err(|e| Error::invalid("psbt", format!("cannot read {name:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::parse;

    fn call(command: &str, args: &[&str]) -> Result<Call, Failure> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Call::read(command, &parse(command, &args, &spec(command).unwrap())?)
    }

    #[test]
    fn bad_input_is_caught_before_any_device() {
        let code = |r: Result<Call, Failure>| r.unwrap_err().exit_code();
        assert_eq!(code(call("xpub", &["m/84'/x"])), 2);
        assert_eq!(code(call("address", &[])), 2);
        assert_eq!(code(call("address", &["--key", "k"])), 2);
        assert_eq!(
            code(call(
                "address",
                &["--template", "wpkh(@0/**)", "--key", "k", "--hmac", "zz"]
            )),
            2
        );
        assert_eq!(
            code(call("register", &["--template", "t", "--key", "k"])),
            2
        );
        let bad_key = ["--name", "W", "--template", "wpkh(@0/**)", "--key", "x"];
        assert_eq!(code(call("register", &bad_key)), 2);
        assert_eq!(code(call("sign-psbt", &["/nonexistent/psbt"])), 2);
    }

    const KEY: &str = "[f5acc2fd/84'/1'/0']tpubDCtKfsNyRhULjZ9XMS4VKKtVcPdVDi8MKUbcSD9MJDyjRu1A2ND5MiipozyyspBT9bg8upEp7a8EAgFxNxXn1d7QkdbL52Ty5jiSLcxPt1P";

    #[test]
    fn keys_of_the_other_network_are_refused() {
        let spec = spec("address").unwrap();
        let args: Vec<String> = ["--template", "wpkh(@0/**)", "--key", KEY]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let parsed = parse("address", &args, &spec).unwrap();
        assert!(check_network(&parsed, None).is_ok());
        assert!(check_network(&parsed, Some(true)).is_ok());
        let e = check_network(&parsed, Some(false)).unwrap_err();
        assert_eq!(e.code(), "invalid-input");
        let descriptor = format!("wpkh({}/0/*)", KEY.replace("tpub", "xpub"));
        let args = ["--descriptor".to_string(), descriptor];
        let parsed = parse("address", &args, &spec).unwrap();
        assert!(check_network(&parsed, Some(true)).is_err());
        assert!(check_network(&parsed, Some(false)).is_ok());
    }

    #[test]
    fn address_of_a_policy_with_its_hmac() {
        let hmac = "ab".repeat(32);
        let Call::Address(request) = call(
            "address",
            &[
                "--template",
                "wpkh(@0/**)",
                "--key",
                KEY,
                "--hmac",
                &hmac,
                "--index=7",
                "--change",
            ],
        )
        .unwrap() else {
            panic!("not an address call");
        };
        assert_eq!(
            (request.index, request.change, request.display),
            (7, true, false)
        );
        assert!(matches!(request.source, AddressSource::Policy(_, Some(h)) if h == [0xab; 32]));
    }
}
