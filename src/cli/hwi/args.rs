//! HWI's command line, parsed as Python's argparse parses it: the same options and
//! defaults, unambiguous prefixes of long options, `-xVALUE` and `--opt=VALUE`,
//! options and positionals in any order, and argparse's error texts (which HWI prints
//! as `{"error": "hwi: error: ...", "code": -2}` with exit status 2).

use super::help;

pub use super::invocation::{command_names, AddrType, Chain, Command, Globals, Parsed};

use super::options::{sub, Kind, Opt, MAIN_OPTS};

/// A usage error (argparse's `error`), or an early exit (help, version).
#[derive(Debug)]
enum Stop {
    Error {
        prog: String,
        usage_of: Option<String>,
        message: String,
    },
    Help(Option<String>),
    Version,
}

fn error(command: Option<&str>, message: impl Into<String>) -> Stop {
    Stop::Error {
        prog: match command {
            Some(c) => format!("hwi {c}"),
            None => "hwi".into(),
        },
        usage_of: command.map(str::to_string),
        message: message.into(),
    }
}

/// Python's `repr` of a string.
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `int()` of a string: optional whitespace and sign, digits with single
/// underscores between them.
pub fn py_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let n: i64 = digits.replace('_', "").parse().ok()?;
    Some(if negative { -n } else { n })
}

/// argparse's "looks like a negative number" (`^-\d+$|^-\d*\.\d+$`).
fn negative_number(arg: &str) -> bool {
    let Some(rest) = arg.strip_prefix('-') else {
        return false;
    };
    let all_digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    all_digits(rest)
        || rest
            .split_once('.')
            .is_some_and(|(a, b)| (a.is_empty() || all_digits(a)) && all_digits(b))
}

/// How argparse reads one argument against a parser's options.
enum Class<'a> {
    /// A positional.
    Arg,
    /// An option, maybe with an attached value (`--x=v`, `-xv`).
    Opt(&'a Opt, &'a str, Option<String>),
    /// An option this parser does not know (it goes to the extras).
    Unknown,
}

fn classify(
    opts: &'static [Opt],
    arg: &str,
    command: Option<&str>,
) -> Result<Class<'static>, Stop> {
    if !arg.starts_with('-') || arg == "-" {
        return Ok(Class::Arg);
    }
    let find = |s: &str| {
        opts.iter()
            .find_map(|o| o.strings.iter().find(|x| **x == s).map(|x| (o, *x)))
    };
    if let Some((o, s)) = find(arg) {
        return Ok(Class::Opt(o, s, None));
    }
    if let Some((name, value)) = arg.split_once('=') {
        if let Some((o, s)) = find(name) {
            return Ok(Class::Opt(o, s, Some(value.to_string())));
        }
    }
    if arg.starts_with("--") {
        let (prefix, value) = match arg.split_once('=') {
            Some((p, v)) => (p, Some(v.to_string())),
            None => (arg, None),
        };
        let matches: Vec<(&Opt, &str)> = opts
            .iter()
            .flat_map(|o| o.strings.iter().map(move |s| (o, *s)))
            .filter(|(_, s)| s.starts_with("--") && s.starts_with(prefix))
            .collect();
        match matches.as_slice() {
            [] => {}
            [(o, s)] => return Ok(Class::Opt(o, s, value)),
            many => {
                let names: Vec<&str> = many.iter().map(|(_, s)| *s).collect();
                return Err(error(
                    command,
                    format!(
                        "ambiguous option: {prefix} could match {}",
                        names.join(", ")
                    ),
                ));
            }
        }
    } else if arg.len() > 2 {
        // `-tVALUE`: a short option with its value attached.
        let short = arg.get(..2).unwrap_or(arg);
        if let Some((o, s)) = find(short) {
            return Ok(Class::Opt(
                o,
                s,
                Some(arg.get(2..).unwrap_or("").to_string()),
            ));
        }
    }
    if negative_number(arg) || arg.contains(' ') {
        return Ok(Class::Arg);
    }
    Ok(Class::Unknown)
}

/// The values one parser read: options by dest, positionals in order.
#[derive(Debug, Default)]
struct Read {
    values: Vec<(&'static str, String)>,
    flags: Vec<(&'static str, bool)>,
    positionals: Vec<String>,
    extras: Vec<String>,
    /// Which option of each exclusive group was used (its first option string).
    used_groups: Vec<(u8, &'static str)>,
}

impl Read {
    fn value(&self, dest: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(d, _)| *d == dest)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, dest: &str) -> Option<bool> {
        self.flags
            .iter()
            .rev()
            .find(|(d, _)| *d == dest)
            .map(|(_, v)| *v)
    }
}

/// Reads `args` against `opts` until (for the main parser) the first positional, the
/// command, which is returned with the arguments after it.
fn read(
    opts: &'static [Opt],
    args: &[String],
    command: Option<&str>,
    stop_at_positional: bool,
) -> Result<(Read, Option<usize>), Stop> {
    let mut read = Read::default();
    let mut i = 0;
    let mut only_positionals = false;
    while let Some(arg) = args.get(i) {
        i += 1;
        if only_positionals {
            read.positionals.push(arg.clone());
            continue;
        }
        if arg == "--" {
            only_positionals = true;
            continue;
        }
        match classify(opts, arg, command)? {
            Class::Arg => {
                if stop_at_positional {
                    return Ok((read, Some(i - 1)));
                }
                read.positionals.push(arg.clone());
            }
            Class::Unknown => read.extras.push(arg.clone()),
            Class::Opt(o, s, attached) => {
                // argparse: an option whose value is its default (`--addr-type wit`)
                // does not count as present in an exclusive group.
                let is_default = o.dest == "addr_type"
                    && attached
                        .as_deref()
                        .or_else(|| args.get(i).map(String::as_str))
                        .and_then(addr_type_of)
                        == Some(AddrType::Wit);
                if let (Some(g), false) = (o.group, is_default) {
                    let first = o.strings.first().copied().unwrap_or(s);
                    if let Some((_, other)) = read
                        .used_groups
                        .iter()
                        .find(|(gg, other)| *gg == g && *other != first)
                    {
                        return Err(error(
                            command,
                            format!("argument {}: not allowed with argument {other}", names(o)),
                        ));
                    }
                    read.used_groups.push((g, first));
                }
                match o.kind {
                    Kind::Help => return Err(Stop::Help(command.map(str::to_string))),
                    Kind::Version => return Err(Stop::Version),
                    Kind::Flag(v) => {
                        if let Some(a) = attached {
                            if s.starts_with("--") {
                                return Err(error(
                                    command,
                                    format!(
                                        "argument {}: ignored explicit argument {}",
                                        names(o),
                                        py_repr(&a)
                                    ),
                                ));
                            }
                            // `-iX`: combined short flags are not HWI's; argparse reads
                            // the rest as another option, which none is here.
                            return Err(error(
                                command,
                                format!(
                                    "argument {}: ignored explicit argument {}",
                                    names(o),
                                    py_repr(&a)
                                ),
                            ));
                        }
                        read.flags.push((o.dest, v));
                    }
                    Kind::Value => {
                        let value = match attached {
                            Some(v) => v,
                            None => match args.get(i) {
                                Some(next)
                                    if next == "--"
                                        || !matches!(
                                            classify(opts, next, command),
                                            Ok(Class::Arg)
                                        ) =>
                                {
                                    return Err(error(
                                        command,
                                        format!("argument {}: expected one argument", names(o)),
                                    ))
                                }
                                Some(next) => {
                                    i += 1;
                                    next.clone()
                                }
                                None => {
                                    return Err(error(
                                        command,
                                        format!("argument {}: expected one argument", names(o)),
                                    ))
                                }
                            },
                        };
                        check_value(o, &value, command)?;
                        read.values.push((o.dest, value));
                    }
                }
            }
        }
    }
    Ok((read, None))
}

/// argparse names an option by its strings joined with `/`.
fn names(o: &Opt) -> String {
    o.strings.join("/")
}

/// Type and choice checks argparse runs when it takes a value.
fn check_value(o: &Opt, value: &str, command: Option<&str>) -> Result<(), Stop> {
    let message = match o.dest {
        "chain" if chain_of(value).is_none() => {
            let choices: Vec<&str> = Chain::ALL.iter().map(|(_, n)| *n).collect();
            format!(
                "argument --chain: invalid choice: {} (choose from {})",
                py_repr(value),
                choices.join(", ")
            )
        }
        "addr_type" if addr_type_of(value).is_none() => {
            let choices: Vec<&str> = AddrType::NAMES.iter().map(|(_, n)| *n).collect();
            format!(
                "argument --addr-type: invalid choice: {} (choose from {})",
                py_repr(value),
                choices.join(", ")
            )
        }
        "account" | "word_count" if py_int(value).is_none() => format!(
            "argument {}: invalid int value: {}",
            names(o),
            py_repr(value)
        ),
        _ => return Ok(()),
    };
    Err(error(command, message))
}

fn chain_of(s: &str) -> Option<Chain> {
    let upper = s.to_uppercase();
    Chain::ALL
        .iter()
        .find(|(_, n)| n.to_uppercase() == upper)
        .map(|(c, _)| *c)
}

fn addr_type_of(s: &str) -> Option<AddrType> {
    let upper = s.to_uppercase();
    AddrType::NAMES
        .iter()
        .find(|(_, n)| n.to_uppercase() == upper)
        .map(|(a, _)| *a)
}

/// Parses HWI's command line (without the program name).
pub fn parse(args: &[String]) -> Parsed {
    match parse_inner(args) {
        Ok((g, c)) => Parsed::Run(g, c),
        Err(Stop::Help(command)) => Parsed::Exit {
            stdout: super::Value::error("Help text requested", super::errors::HELP_TEXT).render()
                + "\n",
            stderr: help::text(command.as_deref()).to_string(),
            status: 0,
        },
        Err(Stop::Version) => Parsed::Exit {
            stdout: format!("hwi {}\n", super::HWI_VERSION),
            stderr: String::new(),
            status: 0,
        },
        Err(Stop::Error {
            prog,
            usage_of,
            message,
        }) => Parsed::Exit {
            stdout: super::Value::error(
                format!("{prog}: error: {message}"),
                super::errors::MISSING_ARGUMENTS,
            )
            .render()
                + "\n",
            stderr: help::usage(usage_of.as_deref()).to_string(),
            status: 2,
        },
    }
}

fn parse_inner(args: &[String]) -> Result<(Globals, Command), Stop> {
    // argparse reads every argument against the main options first: an ambiguous
    // abbreviation fails there even after the command.
    for arg in args.iter().take_while(|a| *a != "--") {
        classify(MAIN_OPTS, arg, None)?;
    }
    let (main, at) = read(MAIN_OPTS, args, None, true)?;
    let names = command_names();
    // Without a command, that is reported before unknown options.
    let Some(at) = at else {
        return Err(error(None, "the following arguments are required: command"));
    };
    let command = args.get(at).map(String::as_str).unwrap_or("");
    if !names.contains(&command) {
        let choices: Vec<String> = names.iter().map(|n| py_repr(n)).collect();
        return Err(error(
            None,
            format!(
                "argument command: invalid choice: {} (choose from {})",
                py_repr(command),
                choices.join(", ")
            ),
        ));
    }
    let rest = args.get(at + 1..).unwrap_or(&[]);
    let spec = sub(command);
    let (mut read_sub, _) = read(spec.opts, rest, Some(command), false)?;
    let cmd = Some(command);
    let mut positionals = core::mem::take(&mut read_sub.positionals).into_iter();
    let mut take: Vec<String> = Vec::new();
    let mut missing: Vec<&str> = Vec::new();
    for name in spec.positionals {
        match positionals.next() {
            Some(v) => take.push(v),
            None => missing.push(name),
        }
    }
    if !missing.is_empty() {
        return Err(error(
            cmd,
            format!(
                "the following arguments are required: {}",
                missing.join(", ")
            ),
        ));
    }
    if let Some(g) = spec.required_group {
        if !read_sub.used_groups.iter().any(|(gg, _)| *gg == g) {
            let members: Vec<&str> = spec
                .opts
                .iter()
                .filter(|o| o.group == Some(g))
                .filter_map(|o| o.strings.first().copied())
                .collect();
            return Err(error(
                cmd,
                format!("one of the arguments {} is required", members.join(" ")),
            ));
        }
    }
    let mut extras: Vec<String> = main.extras.clone();
    extras.extend(read_sub.extras.iter().cloned());
    extras.extend(positionals);
    if !extras.is_empty() {
        return Err(error(
            None,
            format!("unrecognized arguments: {}", extras.join(" ")),
        ));
    }
    for name in spec.positionals {
        if matches!(*name, "start" | "end") {
            let i = if *name == "start" { 0 } else { 1 };
            let v = take.get(i).map(String::as_str).unwrap_or("");
            if py_int(v).is_none() {
                return Err(error(
                    cmd,
                    format!("argument {name}: invalid int value: {}", py_repr(v)),
                ));
            }
        }
    }
    let globals = Globals {
        device_path: main.value("device_path").map(str::to_string),
        device_type: main.value("device_type").map(str::to_string),
        password: main.value("password").map(str::to_string),
        stdinpass: main.flag("stdinpass").unwrap_or(false),
        chain: main
            .value("chain")
            .and_then(chain_of)
            .unwrap_or(Chain::Main),
        debug: main.flag("debug").unwrap_or(false),
        fingerprint: main.value("fingerprint").map(str::to_string),
        stdin: main.flag("stdin").unwrap_or(false),
        interactive: main.flag("interactive").unwrap_or(false),
        expert: main.flag("expert").unwrap_or(false),
        emulators: main.flag("allow_emulators").unwrap_or(false),
    };
    let r = &read_sub;
    let pos = |i: usize| take.get(i).cloned().unwrap_or_default();
    let int = |dest: &str, default: i64| r.value(dest).and_then(py_int).unwrap_or(default);
    let addr = || {
        r.value("addr_type")
            .and_then(addr_type_of)
            .unwrap_or(AddrType::Wit)
    };
    let text = |dest: &str, default: &str| r.value(dest).unwrap_or(default).to_string();
    let c = match command {
        "enumerate" => Command::Enumerate,
        "getmasterxpub" => Command::GetMasterXpub {
            addr_type: addr(),
            account: int("account", 0),
        },
        "signtx" => Command::SignTx { psbt: pos(0) },
        "getxpub" => Command::GetXpub { path: pos(0) },
        "signmessage" => Command::SignMessage {
            message: pos(0),
            path: pos(1),
        },
        "getkeypool" => Command::GetKeypool {
            keypool: r.flag("keypool").unwrap_or(true),
            internal: r.flag("internal").unwrap_or(false),
            addr_type: addr(),
            all: r.flag("all").unwrap_or(false),
            account: int("account", 0),
            path: r.value("path").map(str::to_string),
            start: py_int(&pos(0)).unwrap_or(0),
            end: py_int(&pos(1)).unwrap_or(0),
        },
        "getdescriptors" => Command::GetDescriptors {
            account: int("account", 0),
        },
        "displayaddress" => Command::DisplayAddress {
            desc: r.value("desc").map(str::to_string),
            path: r.value("path").map(str::to_string),
            addr_type: addr(),
        },
        "setup" => Command::Setup {
            label: text("label", ""),
        },
        "wipe" => Command::Wipe,
        "restore" => Command::Restore {
            word_count: int("word_count", 24),
            label: text("label", ""),
        },
        "backup" => Command::Backup,
        "promptpin" => Command::PromptPin,
        "togglepassphrase" => Command::TogglePassphrase,
        "sendpin" => Command::SendPin { pin: pos(0) },
        _ => Command::InstallUdevRules {
            location: text("location", "/etc/udev/rules.d/"),
        },
    };
    Ok((globals, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> Parsed {
        let args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        parse(&args)
    }

    fn err(line: &str) -> String {
        match run(line) {
            Parsed::Exit {
                stdout, status: 2, ..
            } => stdout,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn globals_and_commands() {
        let Parsed::Run(g, c) = run(
            "--chain=TEST -tledger --fing f5acc2fd --emu getkeypool --nokeypool 0 --internal 5",
        ) else {
            panic!()
        };
        assert_eq!(g.chain, Chain::Test);
        assert_eq!(g.device_type.as_deref(), Some("ledger"));
        assert_eq!(g.fingerprint.as_deref(), Some("f5acc2fd"));
        assert!(g.emulators);
        assert!(matches!(
            c,
            Command::GetKeypool {
                keypool: false,
                internal: true,
                start: 0,
                end: 5,
                ..
            }
        ));
        let Parsed::Run(_, c) = run("getmasterxpub --account -1") else {
            panic!()
        };
        assert!(matches!(c, Command::GetMasterXpub { account: -1, .. }));
    }

    #[test]
    fn argparse_errors() {
        assert_eq!(
            err("--device enumerate"),
            r#"{"error": "hwi: error: ambiguous option: --device could match --device-path, --device-type", "code": -2}
"#
        );
        assert!(
            err("getxpub m/0 --expert").contains("hwi: error: unrecognized arguments: --expert")
        );
        assert!(err("getkeypool 1")
            .contains("hwi getkeypool: error: the following arguments are required: end"));
        assert!(err("getkeypool --keypool --nokeypool 0 1")
            .contains("argument --nokeypool: not allowed with argument --keypool"));
        assert!(err("displayaddress").contains("one of the arguments --desc --path is required"));
        assert!(err("").contains("the following arguments are required: command"));
        assert!(err("--chain foo enumerate").contains(
            "argument --chain: invalid choice: 'foo' (choose from main, test, regtest, signet, testnet4)"
        ));
        assert!(err("getkeypool --account x 0 1")
            .contains("argument --account: invalid int value: 'x'"));
        assert!(err("getkeypool 0 x").contains("argument end: invalid int value: 'x'"));
        assert!(err("-t").contains("argument --device-type/-t: expected one argument"));
        let Parsed::Exit { stdout, status, .. } = run("--version") else {
            panic!()
        };
        assert_eq!((stdout.as_str(), status), ("hwi 3.2.0\n", 0));
        let Parsed::Exit {
            stdout,
            stderr,
            status,
        } = run("signtx -h")
        else {
            panic!()
        };
        assert_eq!(status, 0);
        assert!(stdout.contains("-17") && stderr.starts_with("usage: hwi signtx"));
    }

    #[test]
    fn python_ints_and_reprs() {
        assert_eq!(py_int(" +1_000 "), Some(1000));
        assert_eq!(py_int("1__0"), None);
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'\""), "'a\\'\"'");
    }
}
