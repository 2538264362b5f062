//! Hand-written argument parsing: the global `--device`, `--testnet`/`--mainnet` and
//! `--json`, then each command's switches, options and positional arguments, with usage
//! errors that name the culprit.

use crate::failure::Failure;

/// The flags one command accepts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spec {
    /// Flags without a value (`--display`).
    pub switches: &'static [&'static str],
    /// Flags with a value (`--index 3` or `--index=3`).
    pub options: &'static [&'static str],
    /// Options that may be given more than once (`--key`).
    pub repeated: &'static [&'static str],
    /// How many positional arguments, at least and at most.
    pub positionals: (usize, usize),
}

/// A command's arguments, checked against its [`Spec`].
#[derive(Debug, Default)]
pub struct Parsed {
    /// Positional arguments in order.
    pub positionals: Vec<String>,
    flags: Vec<(String, Option<String>)>,
}

impl Parsed {
    /// Whether the switch `name` was given.
    pub fn switch(&self, name: &str) -> bool {
        self.flags.iter().any(|(n, _)| n == name)
    }

    /// The value of the option `name`, if given (once: [`parse`] refuses repeats).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values(name).into_iter().next()
    }

    /// Every value of the option `name`, in order.
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }

    /// The value of `name`, or a usage error saying it is needed.
    pub fn required(&self, name: &str, command: &str) -> Result<&str, Failure> {
        self.value(name)
            .ok_or_else(|| Failure::usage(format!("{command} needs {name}")))
    }

    /// The positional argument `i`, or a usage error naming it.
    pub fn positional(&self, i: usize, what: &str, command: &str) -> Result<&str, Failure> {
        self.positionals
            .get(i)
            .map(String::as_str)
            .ok_or_else(|| Failure::usage(format!("{command} needs {what}")))
    }
}

/// The flags that apply to every command, wherever they stand before a `--`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Globals {
    /// `--device VALUE`.
    pub device: Option<String>,
    /// `--testnet` (`Some(true)`) or `--mainnet` (`Some(false)`).
    pub testnet: Option<bool>,
    /// `--json`.
    pub json: bool,
    /// `--passphrase-on-device`: a trezor t or safe takes the passphrase itself.
    pub passphrase_on_device: bool,
}

impl Globals {
    /// Takes the global flags out of `args`.
    ///
    /// # Errors
    /// A usage error for a `--device` without a value or given twice, or for both
    /// `--testnet` and `--mainnet`.
    pub fn take(args: &mut Vec<String>) -> Result<Self, Failure> {
        let json = take_switch(args, "--json");
        let passphrase_on_device = take_switch(args, "--passphrase-on-device");
        let testnet = match (
            take_switch(args, "--testnet"),
            take_switch(args, "--mainnet"),
        ) {
            (true, true) => return Err(Failure::usage("--testnet and --mainnet together")),
            (true, false) => Some(true),
            (false, true) => Some(false),
            (false, false) => None,
        };
        Ok(Globals {
            device: take_device(args)?,
            testnet,
            json,
            passphrase_on_device,
        })
    }
}

/// Removes every `name` before a `--` from `args`; whether there was one.
fn take_switch(args: &mut Vec<String>, name: &str) -> bool {
    let end = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let before = args.len();
    let mut i = 0;
    args.retain(|a| {
        i += 1;
        i > end || a != name
    });
    args.len() != before
}

/// Takes the global `--device VALUE` (or `--device=VALUE`) out of `args`, wherever it
/// stands before a `--`.
///
/// # Errors
/// A usage error when it has no value or is given twice.
fn take_device(args: &mut Vec<String>) -> Result<Option<String>, Failure> {
    let mut found = None;
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if arg == "--" {
            break;
        }
        let value = if arg == "--device" {
            if i + 1 >= args.len() {
                return Err(Failure::usage("--device needs a value"));
            }
            args.remove(i);
            Some(args.remove(i))
        } else if let Some(v) = arg.strip_prefix("--device=") {
            let v = v.to_string();
            args.remove(i);
            Some(v)
        } else {
            i += 1;
            None
        };
        if let Some(v) = value {
            if found.replace(v).is_some() {
                return Err(Failure::usage("--device is given twice"));
            }
        }
    }
    Ok(found)
}

/// Parses a command's arguments against `spec`.
///
/// # Errors
/// A usage error for an unknown flag, a missing value, a repeated single option, or
/// too few or too many positional arguments.
pub fn parse(command: &str, args: &[String], spec: &Spec) -> Result<Parsed, Failure> {
    let mut parsed = Parsed::default();
    let mut rest = args.iter();
    let mut only_positionals = false;
    while let Some(arg) = rest.next() {
        if only_positionals || arg == "-" || !arg.starts_with('-') {
            parsed.positionals.push(arg.clone());
            continue;
        }
        if arg == "--" {
            only_positionals = true;
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        if spec.switches.contains(&name) {
            if inline.is_some() {
                return Err(Failure::usage(format!("{name} takes no value")));
            }
            parsed.flags.push((name.to_string(), None));
        } else if spec.options.contains(&name) || spec.repeated.contains(&name) {
            let value = match inline {
                Some(v) => v,
                None => rest
                    .next()
                    .cloned()
                    .ok_or_else(|| Failure::usage(format!("{name} needs a value")))?,
            };
            if !spec.repeated.contains(&name) && parsed.value(name).is_some() {
                return Err(Failure::usage(format!("{name} is given twice")));
            }
            parsed.flags.push((name.to_string(), Some(value)));
        } else {
            return Err(Failure::usage(format!("{command} has no option {name:?}")));
        }
    }
    let (min, max) = spec.positionals;
    let n = parsed.positionals.len();
    if n > max {
        let extra = parsed.positionals.get(max).cloned().unwrap_or_default();
        return Err(Failure::usage(format!(
            "{command} takes {max} argument{}, got an extra {extra:?}",
            if max == 1 { "" } else { "s" }
        )));
    }
    if n < min {
        return Err(Failure::usage(format!(
            "{command} needs {min} argument{}, got {n}",
            if min == 1 { "" } else { "s" }
        )));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    const SPEC: Spec = Spec {
        switches: &["--display"],
        options: &["--index"],
        repeated: &["--key"],
        positionals: (0, 1),
    };

    #[test]
    fn flags_values_and_positionals() {
        let p = parse(
            "x",
            &strings(&["--key", "a", "--index=3", "--display", "--key=b", "-"]),
            &SPEC,
        )
        .unwrap();
        assert!(p.switch("--display"));
        assert_eq!(p.value("--index"), Some("3"));
        assert_eq!(p.values("--key"), ["a", "b"]);
        assert_eq!(p.positionals, ["-"]);
    }

    #[test]
    fn usage_errors() {
        for bad in [
            &["--nope"][..],
            &["--index"],
            &["--index", "1", "--index", "2"],
            &["--display=1"],
            &["a", "b"],
        ] {
            let e = parse("x", &strings(bad), &SPEC).unwrap_err();
            assert!(matches!(e, Failure::Usage { .. }), "{bad:?}");
        }
    }

    #[test]
    fn device_is_taken_from_anywhere_before_dashes() {
        let mut a = strings(&["xpub", "--device", "hid", "m/84'", "--", "--device=x"]);
        assert_eq!(take_device(&mut a).unwrap().as_deref(), Some("hid"));
        assert_eq!(a, strings(&["xpub", "m/84'", "--", "--device=x"]));
        let mut twice = strings(&["--device=a", "--device=b"]);
        assert!(take_device(&mut twice).is_err());
    }

    #[test]
    fn global_switches() {
        let mut a = strings(&["--json", "xpub", "--testnet", "m/84'", "--", "--json"]);
        let g = Globals::take(&mut a).unwrap();
        assert_eq!((g.json, g.testnet, g.device), (true, Some(true), None));
        assert_eq!(a, strings(&["xpub", "m/84'", "--", "--json"]));
        let mut both = strings(&["--testnet", "x", "--mainnet"]);
        assert!(Globals::take(&mut both).is_err());
    }
}
