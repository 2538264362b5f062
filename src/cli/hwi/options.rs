//! HWI's option tables, as its argparse parsers declare them: the global options and
//! each command's options, positionals and exclusive groups.

/// What an option does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `store_true` (or `store_false` with `value` false).
    Flag(bool),
    /// Takes one value.
    Value,
    /// `-h`: help, then exit.
    Help,
    /// `--version`: the version, then exit.
    Version,
}

/// One option.
#[derive(Debug, Clone, Copy)]
pub struct Opt {
    /// Option strings, the one argparse names in messages first.
    pub strings: &'static [&'static str],
    /// Where argparse stores it.
    pub dest: &'static str,
    /// What it does.
    pub kind: Kind,
    /// Mutually exclusive group.
    pub group: Option<u8>,
}

const fn opt(strings: &'static [&'static str], dest: &'static str, kind: Kind) -> Opt {
    Opt {
        strings,
        dest,
        kind,
        group: None,
    }
}

const fn grouped(strings: &'static [&'static str], dest: &'static str, kind: Kind, g: u8) -> Opt {
    Opt {
        strings,
        dest,
        kind,
        group: Some(g),
    }
}

const HELP: Opt = opt(&["-h", "--help"], "help", Kind::Help);

/// The global options.
pub const MAIN_OPTS: &[Opt] = &[
    HELP,
    opt(&["--device-path", "-d"], "device_path", Kind::Value),
    opt(&["--device-type", "-t"], "device_type", Kind::Value),
    opt(&["--password", "-p"], "password", Kind::Value),
    opt(&["--stdinpass"], "stdinpass", Kind::Flag(true)),
    opt(&["--chain"], "chain", Kind::Value),
    opt(&["--debug"], "debug", Kind::Flag(true)),
    opt(&["--fingerprint", "-f"], "fingerprint", Kind::Value),
    opt(&["--version"], "version", Kind::Version),
    opt(&["--stdin"], "stdin", Kind::Flag(true)),
    opt(&["--interactive", "-i"], "interactive", Kind::Flag(true)),
    opt(&["--expert"], "expert", Kind::Flag(true)),
    opt(&["--emulators"], "allow_emulators", Kind::Flag(true)),
];

/// One subcommand: its options, positionals and required group.
pub struct Sub {
    /// Its options.
    pub opts: &'static [Opt],
    /// Its positionals, in order.
    pub positionals: &'static [&'static str],
    /// A mutually exclusive group that is required (displayaddress).
    pub required_group: Option<u8>,
}

const ADDR_TYPE: Opt = opt(&["--addr-type"], "addr_type", Kind::Value);
const ACCOUNT: Opt = opt(&["--account"], "account", Kind::Value);
const LABEL: Opt = opt(&["--label", "-l"], "label", Kind::Value);
const BACKUP_PASS: Opt = opt(
    &["--backup_passphrase", "-b"],
    "backup_passphrase",
    Kind::Value,
);
const ONLY_HELP: &[Opt] = &[HELP];
const GETMASTERXPUB: &[Opt] = &[HELP, ADDR_TYPE, ACCOUNT];
const GETKEYPOOL: &[Opt] = &[
    HELP,
    grouped(&["--keypool"], "keypool", Kind::Flag(true), 0),
    grouped(&["--nokeypool"], "keypool", Kind::Flag(false), 0),
    opt(&["--internal"], "internal", Kind::Flag(true)),
    grouped(&["--addr-type"], "addr_type", Kind::Value, 1),
    grouped(&["--all"], "all", Kind::Flag(true), 1),
    ACCOUNT,
    opt(&["--path"], "path", Kind::Value),
];
const GETDESCRIPTORS: &[Opt] = &[HELP, ACCOUNT];
const DISPLAYADDRESS: &[Opt] = &[
    HELP,
    grouped(&["--desc"], "desc", Kind::Value, 0),
    grouped(&["--path"], "path", Kind::Value, 0),
    ADDR_TYPE,
];
const SETUP: &[Opt] = &[HELP, LABEL, BACKUP_PASS];
const RESTORE: &[Opt] = &[
    HELP,
    opt(&["--word_count", "-w"], "word_count", Kind::Value),
    LABEL,
];
const UDEV: &[Opt] = &[HELP, opt(&["--location"], "location", Kind::Value)];

/// The options, positionals and required group of `command`.
pub fn sub(command: &str) -> Sub {
    let (opts, positionals, required_group): (&'static [Opt], &'static [&'static str], _) =
        match command {
            "getmasterxpub" => (GETMASTERXPUB, &[], None),
            "signtx" => (ONLY_HELP, &["psbt"], None),
            "getxpub" => (ONLY_HELP, &["path"], None),
            "signmessage" => (ONLY_HELP, &["message", "path"], None),
            "getkeypool" => (GETKEYPOOL, &["start", "end"], None),
            "getdescriptors" => (GETDESCRIPTORS, &[], None),
            "displayaddress" => (DISPLAYADDRESS, &[], Some(0)),
            "setup" | "backup" => (SETUP, &[], None),
            "restore" => (RESTORE, &[], None),
            "sendpin" => (ONLY_HELP, &["pin"], None),
            "installudevrules" => (UDEV, &[], None),
            _ => (ONLY_HELP, &[], None),
        };
    Sub {
        opts,
        positionals,
        required_group,
    }
}
