//! Where a host keeps its THP pairing credentials between runs, so that a Trezor Safe
//! 7 it paired with once is reconnected without pairing again.
//!
//! [`CredentialStore`] is the one trait: [`MemoryCredentials`] (tests, or a caller that
//! keeps them itself), [`FileCredentials`] (native: a file in the user's config dir),
//! and in JavaScript a `Storage` the page passes (default `localStorage`, see
//! `wasm/`). The text is the one of [`credentials::with`].

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::Result;
use crate::protocol::thp::credentials::{self, Credential};

/// Keeps pairing credentials.
pub trait CredentialStore {
    /// Every credential kept (of any device).
    fn load(&mut self) -> Vec<Credential>;

    /// Keeps `credential`, replacing an older one of the same device.
    ///
    /// # Errors
    /// `transport` when the store cannot be written.
    fn save(&mut self, credential: &Credential) -> Result<()>;
}

/// Credentials in memory, shared by its clones (tests; a caller with its own storage).
#[derive(Debug, Default, Clone)]
pub struct MemoryCredentials(Rc<RefCell<Vec<Credential>>>);

impl MemoryCredentials {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// What it holds.
    pub fn credentials(&self) -> Vec<Credential> {
        self.0.borrow().clone()
    }
}

impl CredentialStore for MemoryCredentials {
    fn load(&mut self) -> Vec<Credential> {
        self.0.borrow().clone()
    }

    fn save(&mut self, credential: &Credential) -> Result<()> {
        let text = credentials::with(&self.0.borrow(), credential);
        *self.0.borrow_mut() = credentials::parse(&text);
        Ok(())
    }
}

/// Credentials in a file (native).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone)]
pub struct FileCredentials {
    path: std::path::PathBuf,
}

#[cfg(not(target_arch = "wasm32"))]
impl FileCredentials {
    /// The file at `path`.
    pub fn at(path: impl Into<std::path::PathBuf>) -> Self {
        FileCredentials { path: path.into() }
    }

    /// `hwsigner/thp-credentials` in the user's config dir: `$HWSIGNER_CONFIG_DIR`,
    /// else `$XDG_CONFIG_HOME`, else `~/.config` (`%APPDATA%` on Windows); `None` when
    /// none is set.
    pub fn default_location() -> Option<Self> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let dir = if let Some(d) = var("HWSIGNER_CONFIG_DIR") {
            std::path::PathBuf::from(d)
        } else {
            let base = var("XDG_CONFIG_HOME")
                .map(std::path::PathBuf::from)
                .or_else(|| var("HOME").map(|h| std::path::PathBuf::from(h).join(".config")))
                .or_else(|| var("APPDATA").map(std::path::PathBuf::from))?;
            base.join("hwsigner")
        };
        Some(Self::at(dir.join("thp-credentials")))
    }

    /// The file's path.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl CredentialStore for FileCredentials {
    fn load(&mut self) -> Vec<Credential> {
        std::fs::read_to_string(&self.path)
            .map(|t| credentials::parse(&t))
            .unwrap_or_default()
    }

    fn save(&mut self, credential: &Credential) -> Result<()> {
        let shown = self.path.display().to_string();
        let fail = |e: std::io::Error| {
            crate::error::Error::Transport(
                format!("cannot write the thp credentials to {shown}: {e}").to_lowercase(),
            )
        };
        let text = credentials::with(&self.load(), credential);
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // The file holds the host's private key: the user's eyes only.
            options.mode(0o600);
        }
        let mut file = options.open(&self.path).map_err(fail)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(fail)
    }
}

/// The store a native driver starts with: the file in the config dir, or memory when
/// there is no config dir.
pub fn default_store() -> Box<dyn CredentialStore> {
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(file) = FileCredentials::default_location() {
        return Box::new(file);
    }
    Box::new(MemoryCredentials::new())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn a_file_store_keeps_credentials_across_instances() {
        let dir = std::env::temp_dir().join(format!("hwsigner-cred-{}", std::process::id()));
        let path = dir.join("sub").join("thp-credentials");
        let c = Credential {
            trezor_static: [1; 32],
            host_private: [2; 32],
            credential: vec![3],
        };
        FileCredentials::at(&path).save(&c).unwrap();
        assert_eq!(FileCredentials::at(&path).load(), vec![c]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
