//! Commands the device answers whatever app is open: which app and version runs, open
//! an app from the dashboard, quit the current app.

use crate::error::{Error, Result};
use crate::protocol::bytes::Reader;
use crate::protocol::ledger::apdu::Command;
use crate::protocol::ledger::request::Request;

/// The name the dashboard reports for itself.
pub const DASHBOARD_NAME: &str = "BOLOS";

/// Which app runs, and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppInfo {
    /// App name, e.g. `Bitcoin` or `Bitcoin Test`; `BOLOS` for the dashboard.
    pub name: String,
    /// App version, e.g. `2.1.0`.
    pub version: String,
    /// The app's flags byte(s).
    pub flags: Vec<u8>,
}

impl AppInfo {
    /// True when the dashboard, not an app, is open.
    pub fn is_dashboard(&self) -> bool {
        self.name == DASHBOARD_NAME
    }
}

/// B0 01: app name and version.
pub fn get_app_and_version() -> Request<AppInfo> {
    Request::new(Command::new(0xb0, 0x01, 0, 0, vec![]), None, |data, _| {
        let mut r = Reader::new(&data, "app and version reply");
        if r.u8("format")? != 1 {
            return Err(Error::protocol(
                "app and version reply in an unknown format",
            ));
        }
        let text = |r: &mut Reader<'_>, what: &'static str| -> Result<String> {
            let n = usize::from(r.u8(what)?);
            String::from_utf8(r.bytes(n, what)?.to_vec())
                .map_err(|_| Error::protocol(format!("{what} is not text")))
        };
        let name = text(&mut r, "app name")?;
        let version = text(&mut r, "app version")?;
        let flags = if r.is_empty() {
            Vec::new()
        } else {
            let n = usize::from(r.u8("flags length")?);
            r.bytes(n, "flags")?.to_vec()
        };
        Ok(AppInfo {
            name,
            version,
            flags,
        })
    })
}

/// E0 D8: open the app called `name` (the device asks the user, then re-enumerates).
///
/// # Errors
/// `invalid-input` when the name is empty or over 255 bytes.
pub fn open_app(name: &str) -> Result<Request<()>> {
    if name.is_empty() || name.len() > 255 {
        return Err(Error::invalid("app name", "must be 1 to 255 bytes"));
    }
    Ok(Request::new(
        Command::new(0xe0, 0xd8, 0, 0, name.as_bytes().to_vec()),
        None,
        |_, _| Ok(()),
    ))
}

/// B0 A7: quit the current app, back to the dashboard (the device re-enumerates).
pub fn quit_app() -> Request<()> {
    Request::new(Command::new(0xb0, 0xa7, 0, 0, vec![]), None, |_, _| Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::machine::{Machine, Step};

    #[test]
    fn parses_app_and_version() {
        let mut req = get_app_and_version();
        assert!(matches!(req.start().unwrap(), Step::Send(apdu) if apdu == [0xb0, 0x01, 0, 0, 0]));
        let reply = [
            &[1u8, 7][..],
            b"Bitcoin",
            &[5],
            b"2.2.3",
            &[1, 0],
            &[0x90, 0],
        ]
        .concat();
        match req.on_reply(reply).unwrap() {
            Step::Done(info) => {
                assert_eq!(
                    info,
                    AppInfo {
                        name: "Bitcoin".into(),
                        version: "2.2.3".into(),
                        flags: vec![0]
                    }
                );
                assert!(!info.is_dashboard());
            }
            _ => panic!("unexpected"),
        }
        let mut req = get_app_and_version();
        assert_eq!(
            req.on_reply(vec![1, 9, b'B', 0x90, 0]).unwrap_err().code(),
            "protocol"
        );
        let mut req = get_app_and_version();
        assert_eq!(
            req.on_reply(vec![0x6e, 0x01]).unwrap_err().code(),
            "app-not-open"
        );
    }
}
