//! What an `hwi` command line asks for: the global options, the command and its
//! arguments (with HWI's defaults), and the chains and address types HWI names.

/// `--chain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    /// `main`.
    Main,
    /// `test` (testnet3).
    Test,
    /// `regtest`.
    Regtest,
    /// `signet`.
    Signet,
    /// `testnet4`.
    Testnet4,
}

impl Chain {
    pub(crate) const ALL: [(Chain, &'static str); 5] = [
        (Chain::Main, "main"),
        (Chain::Test, "test"),
        (Chain::Regtest, "regtest"),
        (Chain::Signet, "signet"),
        (Chain::Testnet4, "testnet4"),
    ];

    /// BIP-44 coin type: 0 on main, 1 elsewhere.
    pub fn coin_type(self) -> u32 {
        u32::from(self != Chain::Main)
    }

    /// Whether this is a test network.
    pub fn is_test(self) -> bool {
        self != Chain::Main
    }
}

/// `--addr-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrType {
    /// `legacy`: P2PKH (P2SH for scripts).
    Legacy,
    /// `wit`: P2WPKH (P2WSH).
    Wit,
    /// `sh_wit`: P2SH-P2WPKH (P2SH-P2WSH).
    ShWit,
    /// `tap`: P2TR.
    Tap,
}

impl AddrType {
    /// In HWI's enum order (legacy, wit, sh_wit, tap).
    pub const ALL: [AddrType; 4] = [
        AddrType::Legacy,
        AddrType::Wit,
        AddrType::ShWit,
        AddrType::Tap,
    ];
    pub(crate) const NAMES: [(AddrType, &'static str); 4] = [
        (AddrType::Legacy, "legacy"),
        (AddrType::Wit, "wit"),
        (AddrType::ShWit, "sh_wit"),
        (AddrType::Tap, "tap"),
    ];

    /// The BIP-44/49/84/86 purpose.
    pub fn purpose(self) -> u32 {
        match self {
            AddrType::Legacy => 44,
            AddrType::ShWit => 49,
            AddrType::Wit => 84,
            AddrType::Tap => 86,
        }
    }
}

/// The global options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Globals {
    /// `-d/--device-path`.
    pub device_path: Option<String>,
    /// `-t/--device-type`.
    pub device_type: Option<String>,
    /// `-p/--password`.
    pub password: Option<String>,
    /// `--stdinpass`.
    pub stdinpass: bool,
    /// `--chain` (default main).
    pub chain: Chain,
    /// `--debug`.
    pub debug: bool,
    /// `-f/--fingerprint`.
    pub fingerprint: Option<String>,
    /// `--stdin`.
    pub stdin: bool,
    /// `-i/--interactive`.
    pub interactive: bool,
    /// `--expert`.
    pub expert: bool,
    /// `--emulators`.
    pub emulators: bool,
}

/// A command and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `enumerate`.
    Enumerate,
    /// `getmasterxpub [--addr-type T] [--account N]`.
    GetMasterXpub {
        /// Address type (default wit).
        addr_type: AddrType,
        /// Account (default 0).
        account: i64,
    },
    /// `signtx PSBT`.
    SignTx {
        /// The base64 PSBT as given.
        psbt: String,
    },
    /// `getxpub PATH`.
    GetXpub {
        /// The path as given.
        path: String,
    },
    /// `signmessage MESSAGE PATH`.
    SignMessage {
        /// The message.
        message: String,
        /// The path as given.
        path: String,
    },
    /// `getkeypool ... START END`.
    GetKeypool {
        /// `--keypool` (default) / `--nokeypool`.
        keypool: bool,
        /// `--internal`.
        internal: bool,
        /// `--addr-type` (default wit).
        addr_type: AddrType,
        /// `--all`.
        all: bool,
        /// `--account` (default 0).
        account: i64,
        /// `--path`.
        path: Option<String>,
        /// Range start.
        start: i64,
        /// Range end.
        end: i64,
    },
    /// `getdescriptors [--account N]`.
    GetDescriptors {
        /// Account (default 0).
        account: i64,
    },
    /// `displayaddress (--desc D | --path P) [--addr-type T]`.
    DisplayAddress {
        /// `--desc`.
        desc: Option<String>,
        /// `--path`.
        path: Option<String>,
        /// `--addr-type` (default wit).
        addr_type: AddrType,
    },
    /// `setup [--label L] [--backup_passphrase P]`.
    Setup {
        /// Label (default empty).
        label: String,
    },
    /// `wipe`.
    Wipe,
    /// `restore [--word_count N] [--label L]`.
    Restore {
        /// Word count (default 24).
        word_count: i64,
        /// Label (default empty).
        label: String,
    },
    /// `backup`.
    Backup,
    /// `promptpin`.
    PromptPin,
    /// `togglepassphrase`.
    TogglePassphrase,
    /// `sendpin PIN`.
    SendPin {
        /// The PIN positions.
        pin: String,
    },
    /// `installudevrules [--location DIR]`.
    InstallUdevRules {
        /// Where to copy the rules (default /etc/udev/rules.d/).
        location: String,
    },
}

/// What parsing decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Run this command.
    Run(Globals, Command),
    /// Stop here: print these and exit with this status (help, version, usage errors).
    Exit {
        /// For stdout.
        stdout: String,
        /// For stderr.
        stderr: String,
        /// Exit status.
        status: i32,
    },
}

/// The commands, in HWI's order (`installudevrules` only on Linux, as in HWI).
pub fn command_names() -> Vec<&'static str> {
    let mut names = vec![
        "enumerate",
        "getmasterxpub",
        "signtx",
        "getxpub",
        "signmessage",
        "getkeypool",
        "getdescriptors",
        "displayaddress",
        "setup",
        "wipe",
        "restore",
        "backup",
        "promptpin",
        "togglepassphrase",
        "sendpin",
    ];
    if cfg!(target_os = "linux") {
        names.push("installudevrules");
    }
    names
}
