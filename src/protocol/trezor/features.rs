//! What a Trezor says about itself (Features), and whether this crate can use it.
//!
//! Minimum firmware: **1.10.4** on the Trezor One and **2.5.0** on the core models
//! (T, Safe 3, Safe 5). Below them this crate refuses the device with `unsupported`
//! naming both versions. Reasons: taproot signing arrived in 1.10.4 / 2.4.3,
//! `PublicKey.root_fingerprint` in 1.9.4 / 2.3.5, and previous transactions are
//! required for segwit inputs since 1.9.1 / 2.3.1, so the signing flow here is the
//! only one these versions speak; 2.5.0 is the first core release with all of them
//! and BIP-380 descriptors in PublicKey.

use crate::error::{Error, Result};
use crate::protocol::trezor::messages::Features;

/// Minimum Trezor One firmware.
pub const MIN_ONE: (u32, u32, u32) = (1, 10, 4);
/// Minimum firmware of the core models (T, Safe 3, Safe 5).
pub const MIN_CORE: (u32, u32, u32) = (2, 5, 0);

/// The checked facts about a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// `trezor.io`.
    pub vendor: String,
    /// `1`, `T`, `Safe 3`, ...
    pub model: String,
    /// `T1B1`, `T2T1`, ... where reported.
    pub internal_model: Option<String>,
    /// Firmware version.
    pub version: (u32, u32, u32),
    /// Label.
    pub label: Option<String>,
    /// The device's session id (kept to resume the session).
    pub session_id: Option<Vec<u8>>,
    /// A PIN is set and not entered yet.
    pub locked: bool,
    /// Passphrases are on.
    pub passphrase_protection: bool,
    /// The device can take the passphrase itself (its `PassphraseEntry` capability:
    /// the T and Safe models, not the One).
    pub passphrase_on_device: bool,
}

/// Features' `Capability_PassphraseEntry`.
pub const CAPABILITY_PASSPHRASE_ENTRY: i32 = 17;

fn version_string(v: (u32, u32, u32)) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

/// Checks Features: not the bootloader, a seed, a firmware this crate supports.
///
/// # Errors
/// `app-not-open` in bootloader mode; `device` (code 11) without a seed;
/// `unsupported` for a firmware older than [`MIN_ONE`] / [`MIN_CORE`];
/// `protocol` when the version is missing.
pub fn check(f: &Features) -> Result<DeviceInfo> {
    if f.bootloader_mode == Some(true) {
        return Err(Error::AppNotOpen {
            detail: "the trezor is in bootloader mode: reconnect it without touching the \
                     screen"
                .into(),
        });
    }
    let version = match (f.major_version, f.minor_version, f.patch_version) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => return Err(Error::protocol("features without a firmware version")),
    };
    let model = f
        .model
        .clone()
        .unwrap_or_else(|| if version.0 == 1 { "1" } else { "T" }.into());
    let (min, name) = if version.0 == 1 {
        (MIN_ONE, "trezor one")
    } else {
        (MIN_CORE, "trezor t / safe")
    };
    if version < min {
        return Err(Error::Unsupported(format!(
            "trezor firmware {} is older than {} (the minimum for the {name}; trezor one \
             needs {}, the t and safe models {}): update it in trezor suite",
            version_string(version),
            version_string(min),
            version_string(MIN_ONE),
            version_string(MIN_CORE),
        )));
    }
    if f.initialized != Some(true) {
        return Err(Error::Device {
            code: 11,
            message: "the trezor has no seed: set it up first".into(),
        });
    }
    Ok(DeviceInfo {
        vendor: f.vendor.clone().unwrap_or_default(),
        model,
        internal_model: f.internal_model.clone(),
        version,
        label: f.label.clone(),
        session_id: f.session_id.clone(),
        locked: f.pin_protection == Some(true) && f.unlocked == Some(false),
        passphrase_protection: f.passphrase_protection == Some(true),
        passphrase_on_device: f.capabilities.contains(&CAPABILITY_PASSPHRASE_ENTRY),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(v: (u32, u32, u32)) -> Features {
        Features {
            vendor: Some("trezor.io".into()),
            major_version: Some(v.0),
            minor_version: Some(v.1),
            patch_version: Some(v.2),
            initialized: Some(true),
            ..Default::default()
        }
    }

    #[test]
    fn versions_and_modes() {
        assert_eq!(check(&features((2, 8, 0))).unwrap().version, (2, 8, 0));
        assert_eq!(check(&features((1, 12, 1))).unwrap().model, "1");
        let e = check(&features((2, 4, 9))).unwrap_err();
        assert_eq!(e.code(), "unsupported");
        assert!(e.to_string().contains("2.4.9 is older than 2.5.0"), "{e}");
        assert_eq!(
            check(&features((1, 10, 3))).unwrap_err().code(),
            "unsupported"
        );
        let mut f = features((2, 8, 0));
        f.bootloader_mode = Some(true);
        assert_eq!(check(&f).unwrap_err().code(), "app-not-open");
        let mut f = features((2, 8, 0));
        f.initialized = Some(false);
        assert!(matches!(
            check(&f).unwrap_err(),
            Error::Device { code: 11, .. }
        ));
        let mut f = features((2, 8, 0));
        f.minor_version = None;
        assert_eq!(check(&f).unwrap_err().code(), "protocol");
        let mut f = features((2, 8, 0));
        f.pin_protection = Some(true);
        f.unlocked = Some(false);
        assert!(check(&f).unwrap().locked);
        assert!(!check(&f).unwrap().passphrase_on_device);
        f.capabilities = vec![1, 14, 17];
        assert!(check(&f).unwrap().passphrase_on_device);
    }
}
