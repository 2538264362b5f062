//! `hwsigner`: the command line tool over the vendor-neutral [`hwsigner::device::Device`].
//!
//! Output goes to stdout, progress and errors to stderr. Exit status: 0 ok; 1 device or
//! user error; 2 bad input (a usage error or any `invalid-input` error).
//!
//! One idea per file, under `src/bin/hwsigner/` (the binary's root is this file, hence
//! the `#[path]`s): argument parsing, device selection, the commands, help texts.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

#[path = "hwsigner/args.rs"]
mod args;
#[path = "hwsigner/call.rs"]
mod call;
#[path = "hwsigner/commands.rs"]
mod commands;
#[path = "hwsigner/enumerate.rs"]
mod enumerate;
#[path = "hwsigner/failure.rs"]
mod failure;
#[path = "hwsigner/help.rs"]
mod help;
#[path = "hwsigner/select.rs"]
mod select;
#[path = "hwsigner/simulate.rs"]
mod simulate;

use std::process::ExitCode;

use args::{parse, take_device};
use call::Call;
use failure::Failure;
use select::Selection;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{}", failure.line());
            ExitCode::from(failure.exit_code())
        }
    }
}

/// Whether `--help` or `-h` stands before any `--`.
fn wants_help(args: &[String]) -> bool {
    args.iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--help" || a == "-h")
}

/// What a command line asks for, checked before anything is opened or served.
enum Plan {
    /// List the wallets.
    Enumerate,
    /// Serve a simulator.
    Simulate(args::Parsed),
    /// One call on the selected device.
    Device(Selection, Call),
}

fn plan(command: &str, rest: &[String], device: Option<String>) -> Result<Plan, Failure> {
    match command {
        "enumerate" | "simulate" if device.is_some() => {
            Err(Failure::usage(format!("{command} takes no --device")))
        }
        "enumerate" => parse(command, rest, &call::NO_ARGS).map(|_| Plan::Enumerate),
        "simulate" => parse(command, rest, &simulate::SIMULATE).map(Plan::Simulate),
        _ => {
            let spec = call::spec(command)
                .ok_or_else(|| Failure::usage(format!("no command {command:?}")))?;
            let selection = Selection::parse(device.as_deref().unwrap_or("auto"))?;
            let call = Call::read(command, &parse(command, rest, &spec)?)?;
            Ok(Plan::Device(selection, call))
        }
    }
}

fn run(mut args: Vec<String>) -> Result<(), Failure> {
    let device = take_device(&mut args)?;
    let Some((command, rest)) = args.split_first() else {
        eprint!("{}", help::OVERVIEW);
        return Err(Failure::usage("no command given"));
    };
    let command = command.as_str();
    if command == "help" || command == "--help" || command == "-h" {
        let page = match rest.first() {
            Some(c) => help::page(c).ok_or_else(|| Failure::usage(format!("no command {c:?}")))?,
            None => help::OVERVIEW,
        };
        print!("{page}");
        return Ok(());
    }
    let Some(page) = help::page(command) else {
        return Err(Failure::usage(format!("no command {command:?}")));
    };
    if wants_help(rest) {
        print!("{page}");
        return Ok(());
    }
    let (selection, call) = match plan(command, rest, device).map_err(|f| f.in_command(command))? {
        Plan::Enumerate => return enumerate::run(),
        Plan::Simulate(args) => return simulate::run(&args).map_err(|f| f.in_command(command)),
        Plan::Device(selection, call) => (selection, call),
    };
    let mut dev = selection.open()?;
    commands::report_statuses(&mut dev);
    let result = commands::run(&mut dev, call);
    let _ = futures::executor::block_on(dev.close());
    result
}
