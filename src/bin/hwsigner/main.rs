//! `hwsigner`: the command line tool over the vendor-neutral [`hwsigner::device::Device`].
//!
//! Output goes to stdout (one JSON object with `--json`), progress and errors to stderr
//! (errors also on stdout with `--json`). Exit status: 0 ok; 1 device or user error; 2
//! bad input (a usage error or any `invalid-input` error).
//!
//! One idea per file, under `src/bin/hwsigner/`:
//! argument parsing, device selection, the commands, help texts.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

mod args;
mod call;
mod commands;
mod enumerate;
mod failure;
mod help;
mod json;
mod prompts;
mod select;
mod simulate;
mod summary;

use std::process::ExitCode;

use args::{parse, Globals, Spec};
use call::Call;
use commands::Output;
use failure::Failure;
use hwsigner::device::Vendor;
use hwsigner::Error;
use select::Selection;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `hwsigner hwi ...` is the `hwi` binary: HWI's command line, unchanged.
    if args.first().map(String::as_str) == Some("hwi") {
        let status = hwsigner::cli::hwi::run_with(args.into_iter().skip(1).collect());
        return ExitCode::from(u8::try_from(status).unwrap_or(1));
    }
    // Known before parsing, so that even a usage error is reported in JSON.
    let json = args
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--json");
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{}", failure.line());
            if json {
                println!("{}", failure.json().render());
            }
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

/// `sample-psbt [--inputs N] [--template T --key K... [--name N]]`.
const SAMPLE_PSBT: Spec = Spec {
    switches: &[],
    options: &["--inputs", "--template", "--name"],
    repeated: &["--key"],
    positionals: (0, 0),
};

/// What a command line asks for, checked before anything is opened or served.
enum Plan {
    /// List the wallets.
    Enumerate,
    /// Serve a simulator.
    Simulate(args::Parsed),
    /// Print a sample PSBT for a simulated wallet (its vendor) or a policy, with an
    /// input count.
    Sample(Vendor, usize, Option<hwsigner::policy::WalletPolicy>),
    /// Summarize a PSBT.
    Summary(args::Parsed),
    /// One call on the selected device.
    Device(Selection, Box<Call>),
}

fn plan(command: &str, rest: &[String], globals: &Globals) -> Result<Plan, Failure> {
    let device = globals.device.clone();
    match command {
        "enumerate" | "simulate" | "summary" if device.is_some() => {
            Err(Failure::usage(format!("{command} takes no --device")))
        }
        "enumerate" => parse(command, rest, &call::NO_ARGS).map(|_| Plan::Enumerate),
        "simulate" => parse(command, rest, &simulate::SIMULATE).map(Plan::Simulate),
        "summary" => parse(command, rest, &summary::SUMMARY).map(Plan::Summary),
        "sample-psbt" => {
            let vendor = match device.as_deref().map(Selection::parse).transpose()? {
                None | Some(Selection::Simulator(Vendor::Ledger)) => Vendor::Ledger,
                Some(Selection::Simulator(Vendor::Trezor)) => Vendor::Trezor,
                Some(_) => {
                    return Err(Failure::usage(
                        "sample-psbt takes --device simulator:ledger or simulator:trezor",
                    ))
                }
            };
            let args = parse(command, rest, &SAMPLE_PSBT)?;
            let inputs = match args.value("--inputs") {
                None => 2,
                Some(text) => text
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| {
                        Error::invalid("inputs", format!("{text:?} is not a number from 1 to 100"))
                    })?,
            };
            let keys: Vec<String> = args.values("--key").into_iter().map(String::from).collect();
            let policy = match args.value("--template") {
                Some(template) => Some(hwsigner::policy::WalletPolicy::new(
                    args.value("--name").unwrap_or_default(),
                    template,
                    keys,
                )?),
                None if keys.is_empty() && args.value("--name").is_none() => None,
                None => return Err(Failure::usage("--key and --name go with --template")),
            };
            Ok(Plan::Sample(vendor, inputs, policy))
        }
        _ => {
            let spec = call::spec(command)
                .ok_or_else(|| Failure::usage(format!("no command {command:?}")))?;
            let selection = Selection::parse(device.as_deref().unwrap_or("auto"))?;
            let args = parse(command, rest, &spec)?;
            call::check_network(&args, globals.testnet)?;
            let call = Call::read(command, &args)?;
            Ok(Plan::Device(selection, Box::new(call)))
        }
    }
}

fn run(mut args: Vec<String>) -> Result<(), Failure> {
    let globals = Globals::take(&mut args)?;
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
    let plan = plan(command, rest, &globals).map_err(|f| f.in_command(command))?;
    let output = match plan {
        Plan::Enumerate => enumerate::run()?,
        Plan::Simulate(args) => {
            return simulate::run(&args, globals.testnet, globals.json)
                .map_err(|f| f.in_command(command))
        }
        Plan::Sample(vendor, inputs, policy) => {
            commands::sample_psbt(vendor, globals.testnet.unwrap_or(true), inputs, policy)?
        }
        Plan::Summary(args) => summary::run(&args).map_err(|f| f.in_command(command))?,
        Plan::Device(selection, call) => on_device(&selection, &globals, *call)?,
    };
    output.print(globals.json);
    Ok(())
}

/// Opens the selected device, runs `call` on it and closes it.
fn on_device(selection: &Selection, globals: &Globals, call: Call) -> Result<Output, Failure> {
    let mut dev = selection.open(globals.testnet)?;
    commands::report_statuses(&mut dev);
    dev.set_prompts(Box::new(prompts::StdinPrompts {
        passphrase_on_device: globals.passphrase_on_device,
    }));
    let result = commands::run(&mut dev, call);
    let _ = futures::executor::block_on(dev.close());
    result
}
