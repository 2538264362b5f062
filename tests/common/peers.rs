//! The vendors' clients (Python venv, npm packages) that some tests run: `make setup`
//! installs them, and `make check` / `make test` set `HWSIGNER_REQUIRE_PEERS=1`, so a
//! missing one fails there. A bare `cargo test` in a fresh clone skips those tests,
//! saying so.

use std::path::Path;

/// Whether `path` (a client the test runs) is installed; panics when it is missing and
/// peers are required.
pub fn installed(path: &Path, what: &str) -> bool {
    if path.exists() {
        return true;
    }
    if std::env::var_os("HWSIGNER_REQUIRE_PEERS").is_some() {
        panic!(
            "{} is missing: run `make setup` to install {what}",
            path.display()
        );
    }
    eprintln!(
        "skipped: {} is missing (run `make setup` to install {what})",
        path.display()
    );
    false
}
