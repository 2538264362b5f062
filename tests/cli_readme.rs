//! The README's "Command line" example, run as written with `bash -euo pipefail` and the
//! freshly built `hwsigner` first on the PATH, in a directory of its own.
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::Command;

/// The first ```sh block under `## Command line`.
fn example(readme: &str) -> String {
    let section = readme
        .split("\n## Command line\n")
        .nth(1)
        .expect("README has a \"## Command line\" section");
    let section = section.split("\n## ").next().unwrap();
    let block = section
        .split("```sh\n")
        .nth(1)
        .expect("the section has a ```sh block");
    block.split("\n```").next().unwrap().to_string()
}

#[test]
fn readme_command_line_example_runs() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let script = example(&readme);
    assert!(script.contains("hwsigner"), "{script}");

    let bin = Path::new(env!("CARGO_BIN_EXE_hwsigner"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-readme");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("PATH", path)
        .current_dir(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script}\nexit: {}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.contains(&"f5acc2fd"), "{stdout}");
    // The signed PSBT, then its transaction.
    let signed = lines
        .iter()
        .position(|l| l.starts_with("cHNidP8") && l.len() > 500)
        .unwrap_or_else(|| panic!("no signed psbt line: {stdout}"));
    assert!(
        lines
            .get(signed + 1)
            .is_some_and(|l| l.starts_with("02000000")),
        "{stdout}"
    );
}
