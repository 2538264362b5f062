//! `hwi`: HWI 3.2.0's command line over this crate, so that wallets that run HWI
//! (Bitcoin Core's `-signer`, Sparrow, Specter, Liana) can run this instead.
//!
//! The same options, defaults and commands, the same JSON on stdout (key order and
//! spacing as Python's `json.dumps` prints them), the same error codes and exit
//! statuses: 0 for every result, errors included, and 2 for usage errors. Bitcoin
//! Core's calls work as it makes them, `--stdin` included (`signtx <psbt>` read from
//! stdin).
//!
//! One idea per file: [`args`] (argparse's parsing and errors) over [`options`] (the
//! option tables) into an [`invocation`]; [`help`] (argparse's help texts); [`json`]
//! (`json.dumps`); [`errors`] (HWI's codes, and this crate's errors in HWI's words);
//! [`shlex`] (`--stdin` lines); [`client`] (device paths, `-d`/`-t`) and
//! [`enumerate`] (`enumerate`, `-f`); [`commands`] with [`keypool`], [`display`],
//! [`pin`] and [`manage`] (`setup`, `restore`); [`sign`] (`signtx` per vendor) over
//! [`psbt`] (HWI's PSBT serialization); [`descriptor`] and [`keys`] (HWI's descriptors
//! and paths); [`udev`].

pub mod args;
pub mod client;
pub mod commands;
pub mod descriptor;
pub mod display;
pub mod enumerate;
pub mod errors;
pub mod help;
pub mod invocation;
pub mod json;
pub mod keypool;
pub mod keys;
pub mod manage;
pub mod options;
pub mod pin;
pub mod psbt;
pub mod shlex;
pub mod sign;
pub mod udev;

use std::io::{BufRead, Write};

use args::{Command, Parsed};
pub use json::Value;

/// Bytes of a hex string (either case).
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    use bitcoin::hex::FromHex;
    Vec::<u8>::from_hex(s).ok()
}

/// The HWI version this interface follows (and `--version` prints).
pub const HWI_VERSION: &str = "3.2.0";

/// Runs `hwi` with the process's arguments and streams; returns the exit status.
pub fn main() -> i32 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    run_with(args)
}

/// Runs `hwi ARGS` (without the program name) on the process's streams.
pub fn run_with(args: Vec<String>) -> i32 {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let status = run(args, &mut input, &mut out);
    let _ = out.flush();
    status
}

/// Reads `--stdin`'s commands: lines until an empty one or the end, each split as a
/// shell would.
fn read_stdin_args(input: &mut dyn BufRead) -> Result<Vec<String>, shlex::SplitError> {
    let mut extra = Vec::new();
    loop {
        let mut line = String::new();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let line = line.strip_suffix('\n').unwrap_or(&line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        extra.extend(shlex::split(line)?);
    }
    Ok(extra)
}

/// Runs `hwi ARGS`: `input` feeds `--stdin` and `--stdinpass`, JSON goes to `out`,
/// help, usage and prompts to stderr. Returns the exit status.
pub fn run(mut args: Vec<String>, input: &mut dyn BufRead, out: &mut dyn Write) -> i32 {
    if args.iter().any(|a| a == "--stdin") {
        match read_stdin_args(input) {
            Ok(extra) => args.extend(extra),
            Err(e) => {
                eprintln!("Traceback (most recent call last):\nValueError: {}", e.0);
                return 1;
            }
        }
    }
    let (globals, command) = match args::parse(&args) {
        Parsed::Run(g, c) => (g, c),
        Parsed::Exit {
            stdout,
            stderr,
            status,
        } => {
            eprint!("{stderr}");
            let _ = out.write_all(stdout.as_bytes());
            return status;
        }
    };
    let mut password = globals.password.clone();
    if globals.stdinpass {
        eprint!("Enter your device password: ");
        let mut line = String::new();
        let _ = input.read_line(&mut line);
        password = Some(line.trim_end_matches(['\n', '\r']).to_string());
    }
    let result = execute(&globals, &command, password.as_deref());
    let _ = writeln!(out, "{}", result.render());
    0
}

fn execute(globals: &args::Globals, command: &Command, password: Option<&str>) -> Value {
    match command {
        Command::Enumerate => return enumerate::enumerate(password, globals),
        Command::InstallUdevRules { location } => {
            return match udev::install(location) {
                Ok(()) => commands::success(true),
                Err(e) => Value::error(format!("installudevrules failed: {}", e.message), e.code),
            }
        }
        _ => {}
    }
    let fingerprint = globals.fingerprint.as_deref().filter(|f| !f.is_empty());
    let device_type = globals.device_type.as_deref().filter(|t| !t.is_empty());
    let device_path = globals.device_path.as_deref().filter(|p| !p.is_empty());
    let mut client = if fingerprint.is_some() || (device_type.is_some() && device_path.is_none()) {
        match enumerate::find_device(password, device_type, fingerprint, globals) {
            Some(c) => c,
            None => {
                return Value::error(
                    "Could not find device with specified fingerprint or type",
                    errors::DEVICE_CONN_ERROR,
                )
            }
        }
    } else if let (Some(t), Some(p)) = (device_type, device_path) {
        match client::get_client(t, p, password, globals) {
            Ok(c) => c,
            // A Python exception there (not an HWI error) reads as a connection error.
            Err(e) if e.code == errors::UNKNOWN_ERROR => {
                return Value::error(e.message, errors::DEVICE_CONN_ERROR)
            }
            Err(e) => return e.json(),
        }
    } else {
        return Value::error(
            "You must specify a device type or fingerprint for all commands except enumerate",
            errors::NO_DEVICE_TYPE,
        );
    };
    let result = match commands::run(&mut client, command, globals.interactive) {
        Ok(v) => v,
        Err(e) => e.json(),
    };
    let _ = futures::executor::block_on(client.device.close());
    result
}
