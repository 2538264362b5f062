//! `hwi`: HWI 3.2.0's command line (see [`hwsigner::cli::hwi`]).

fn main() -> std::process::ExitCode {
    let status = hwsigner::cli::hwi::main();
    std::process::ExitCode::from(u8::try_from(status).unwrap_or(1))
}
