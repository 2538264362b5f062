//! `installudevrules`: copies udev rules for the wallets this tool speaks to (Ledger,
//! Trezor) into `--location`, reloads udev and adds the user to `plugdev`, as HWI's
//! `UDevInstaller` does, with its error texts.

use std::path::Path;
use std::process::{Command, Stdio};

use super::errors::{self, HwiError};

/// The rule files: name and content.
const RULES: [(&str, &str); 2] = [
    (
        "20-hw1.rules",
        "# Ledger devices (vendor 2c97), for hidapi (hidraw) and libusb.\n\
         SUBSYSTEMS==\"usb\", ATTRS{idVendor}==\"2c97\", TAG+=\"uaccess\", TAG+=\"udev-acl\"\n\
         KERNEL==\"hidraw*\", ATTRS{idVendor}==\"2c97\", MODE=\"0666\"\n",
    ),
    (
        "51-trezor.rules",
        "# Trezor One (534c:0001) and current Trezors (1209:53c1, bootloader 1209:53c0).\n\
         SUBSYSTEM==\"usb\", ATTR{idVendor}==\"534c\", ATTR{idProduct}==\"0001\", MODE=\"0660\", GROUP=\"plugdev\", TAG+=\"uaccess\", TAG+=\"udev-acl\", SYMLINK+=\"trezor%n\"\n\
         KERNEL==\"hidraw*\", ATTRS{idVendor}==\"534c\", ATTRS{idProduct}==\"0001\", MODE=\"0660\", GROUP=\"plugdev\", TAG+=\"uaccess\", TAG+=\"udev-acl\"\n\
         SUBSYSTEM==\"usb\", ATTR{idVendor}==\"1209\", ATTR{idProduct}==\"53c0\", MODE=\"0660\", GROUP=\"plugdev\", TAG+=\"uaccess\", TAG+=\"udev-acl\", SYMLINK+=\"trezor%n\"\n\
         SUBSYSTEM==\"usb\", ATTR{idVendor}==\"1209\", ATTR{idProduct}==\"53c1\", MODE=\"0660\", GROUP=\"plugdev\", TAG+=\"uaccess\", TAG+=\"udev-acl\", SYMLINK+=\"trezor%n\"\n\
         KERNEL==\"hidraw*\", ATTRS{idVendor}==\"1209\", ATTRS{idProduct}==\"53c1\", MODE=\"0660\", GROUP=\"plugdev\", TAG+=\"uaccess\", TAG+=\"udev-acl\"\n",
    ),
];

fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn io_text(e: &std::io::Error, path: &Path) -> String {
    let errno = e.raw_os_error().unwrap_or(0);
    let text = match errno {
        2 => "No such file or directory",
        13 => "Permission denied",
        20 => "Not a directory",
        21 => "Is a directory",
        _ => return format!("[Errno {errno}] {e}"),
    };
    format!(
        "[Errno {errno}] {text}: {}",
        super::args::py_repr(&path.to_string_lossy())
    )
}

/// Runs a tool as `subprocess.check_call` does, output discarded.
fn check_call(tool: &Path, args: &[&str]) -> Result<(), (i32, String)> {
    let status = Command::new(tool)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| (-1, e.to_string()))?;
    if status.success() {
        return Ok(());
    }
    let code = status.code().unwrap_or(-1);
    let mut list: Vec<String> = vec![super::args::py_repr(&tool.to_string_lossy())];
    list.extend(args.iter().map(|a| super::args::py_repr(a)));
    Err((
        code,
        format!(
            "Command '[{}]' returned non-zero exit status {code}.",
            list.join(", ")
        ),
    ))
}

#[cfg(unix)]
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(not(unix))]
fn is_root() -> bool {
    false
}

/// Installs the rules into `location`.
///
/// # Errors
/// HWI's texts, prefixed by the caller with `installudevrules failed: `.
pub fn install(location: &str) -> Result<(), HwiError> {
    let dir = Path::new(location);
    if !dir.is_dir() {
        // As shutil.copy fails: no parent directory; a missing directory named with a
        // trailing slash; or (HWI would copy each file onto that name) not a directory.
        if !dir.parent().is_some_and(Path::is_dir) {
            let e = std::io::Error::from_raw_os_error(2);
            return Err(HwiError::other(io_text(&e, dir)));
        }
        if location.ends_with('/') {
            return Err(HwiError::other(format!(
                "Directory does not exist: {location}"
            )));
        }
        let e = std::io::Error::from_raw_os_error(20);
        let first = RULES.first().map_or("", |(name, _)| *name);
        return Err(HwiError::other(io_text(&e, &dir.join(first))));
    }
    for (name, content) in RULES {
        let path = dir.join(name);
        std::fs::write(&path, content).map_err(|e| HwiError::other(io_text(&e, &path)))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
                .map_err(|e| HwiError::other(io_text(&e, &path)))?;
        }
    }
    let failed = |(_, text): (i32, String)| {
        if is_root() {
            HwiError::other(text)
        } else {
            HwiError::new("Need to be root.", errors::NEED_TO_BE_ROOT)
        }
    };
    let udevadm = which("udevadm").ok_or_else(|| HwiError::other(""))?;
    check_call(&udevadm, &["trigger"]).map_err(failed)?;
    check_call(&udevadm, &["control", "--reload-rules"]).map_err(failed)?;
    let groupadd = which("groupadd").ok_or_else(|| HwiError::other(""))?;
    match check_call(&groupadd, &["plugdev"]) {
        Ok(()) | Err((9, _)) => {}
        Err(e) => return Err(failed(e)),
    }
    let user = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .or_else(|_| std::env::var("USER"))
        .map_err(|_| HwiError::other("[Errno 6] No such device or address"))?;
    let usermod = which("usermod").ok_or_else(|| HwiError::other(""))?;
    check_call(&usermod, &["-aG", "plugdev", &user]).map_err(failed)?;
    Ok(())
}
