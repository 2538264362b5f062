//! A small HID report descriptor parser: the top-level collections of an interface
//! (usage page, usage, report ids), which tell a wallet's protocol interface from its
//! FIDO or keyboard ones where the platform does not report a usage page.
//!
//! Items are `prefix | data`: the prefix holds the size (0, 1, 2 or 4 bytes), the type
//! (main, global, local) and the tag; `0xFE` starts a long item. Only what identifies
//! a collection is kept; every length is checked, nothing can panic.

use crate::error::{Error, Result};

/// One top-level collection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Collection {
    /// Usage page (e.g. 0xFFA0 for a Ledger, 0xF1D0 for FIDO).
    pub usage_page: u16,
    /// Usage within the page.
    pub usage: u16,
    /// Report ids declared inside it (empty: reports carry no id).
    pub report_ids: Vec<u8>,
}

const TYPE_MAIN: u8 = 0;
const TYPE_GLOBAL: u8 = 1;
const TYPE_LOCAL: u8 = 2;
const MAIN_COLLECTION: u8 = 0xa;
const MAIN_END_COLLECTION: u8 = 0xc;
const GLOBAL_USAGE_PAGE: u8 = 0x0;
const GLOBAL_REPORT_ID: u8 = 0x8;
const GLOBAL_PUSH: u8 = 0xa;
const GLOBAL_POP: u8 = 0xb;
const LOCAL_USAGE: u8 = 0x0;
const MAX_DEPTH: usize = 32;

fn bad(what: impl Into<String>) -> Error {
    Error::protocol(format!("hid report descriptor: {}", what.into()))
}

fn value(data: &[u8]) -> u32 {
    data.iter()
        .rev()
        .fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
}

/// The top-level collections of `descriptor`.
///
/// # Errors
/// `protocol` when an item is truncated, collections are unbalanced or nested absurdly
/// deep, or a Pop has no Push.
pub fn collections(descriptor: &[u8]) -> Result<Vec<Collection>> {
    let mut out: Vec<Collection> = Vec::new();
    let mut usage_page: u16 = 0;
    let mut pushed: Vec<u16> = Vec::new();
    // The last usage, and whether it was a 4-byte (extended) one.
    let mut usage: Option<(u32, bool)> = None;
    let mut depth = 0usize;
    let mut rest = descriptor;
    while let Some((&prefix, after)) = rest.split_first() {
        if prefix == 0xfe {
            // Long item: size, tag, data. None of them identifies a collection.
            let (&size, after) = after
                .split_first()
                .ok_or_else(|| bad("truncated long item"))?;
            let after = after.get(1..).ok_or_else(|| bad("truncated long item"))?;
            rest = after
                .get(usize::from(size)..)
                .ok_or_else(|| bad("truncated long item"))?;
            continue;
        }
        let size = match prefix & 0x03 {
            3 => 4,
            n => usize::from(n),
        };
        let (data, after) = (after.get(..size), after.get(size..));
        let (Some(data), Some(after)) = (data, after) else {
            return Err(bad(format!("item 0x{prefix:02x} needs {size} data bytes")));
        };
        rest = after;
        let (kind, tag) = ((prefix >> 2) & 0x03, prefix >> 4);
        match (kind, tag) {
            (TYPE_GLOBAL, GLOBAL_USAGE_PAGE) => usage_page = value(data) as u16,
            (TYPE_GLOBAL, GLOBAL_PUSH) => pushed.push(usage_page),
            (TYPE_GLOBAL, GLOBAL_POP) => {
                usage_page = pushed.pop().ok_or_else(|| bad("pop without push"))?
            }
            (TYPE_GLOBAL, GLOBAL_REPORT_ID) => {
                if let Some(c) = out.last_mut().filter(|_| depth > 0) {
                    c.report_ids.push(value(data) as u8);
                }
            }
            (TYPE_LOCAL, LOCAL_USAGE) => usage = Some((value(data), size == 4)),
            (TYPE_MAIN, MAIN_COLLECTION) => {
                if depth == 0 {
                    // A 4-byte usage carries its own page in the high half.
                    let (page, id) = match usage {
                        Some((u, true)) => ((u >> 16) as u16, u as u16),
                        Some((u, false)) => (usage_page, u as u16),
                        None => (usage_page, 0),
                    };
                    out.push(Collection {
                        usage_page: page,
                        usage: id,
                        report_ids: Vec::new(),
                    });
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(bad("collections nested too deep"));
                }
            }
            (TYPE_MAIN, MAIN_END_COLLECTION) => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| bad("end collection without a collection"))?;
            }
            _ => {}
        }
        if kind == TYPE_MAIN {
            usage = None;
        }
    }
    if depth != 0 {
        return Err(bad("collection not closed"));
    }
    Ok(out)
}

/// The usage page of the first top-level collection, if any.
///
/// # Errors
/// As [`collections`].
pub fn primary_usage_page(descriptor: &[u8]) -> Result<Option<u16>> {
    Ok(collections(descriptor)?.first().map(|c| c.usage_page))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vendor page 0xFFA0, usage 1, one input and one output report of 64 bytes.
    const LEDGER: &[u8] = &[
        0x06, 0xa0, 0xff, 0x09, 0x01, 0xa1, 0x01, 0x09, 0x03, 0x15, 0x00, 0x26, 0xff, 0x00, 0x75,
        0x08, 0x95, 0x40, 0x81, 0x08, 0x09, 0x04, 0x15, 0x00, 0x26, 0xff, 0x00, 0x75, 0x08, 0x95,
        0x40, 0x91, 0x08, 0xc0,
    ];
    const FIDO: &[u8] = &[
        0x06, 0xd0, 0xf1, 0x09, 0x01, 0xa1, 0x01, 0x09, 0x20, 0x81, 0x02, 0xc0,
    ];
    const KEYBOARD_WITH_IDS: &[u8] = &[
        0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x85, 0x01, 0x05, 0x07, 0xa1, 0x00, 0x81, 0x02, 0xc0,
        0x85, 0x02, 0xc0,
    ];

    #[test]
    fn finds_top_level_collections() {
        assert_eq!(
            collections(LEDGER).unwrap(),
            vec![Collection {
                usage_page: 0xffa0,
                usage: 1,
                report_ids: vec![]
            }]
        );
        assert_eq!(primary_usage_page(FIDO).unwrap(), Some(0xf1d0));
        // Nested collections do not count; report ids belong to the outer one.
        assert_eq!(
            collections(KEYBOARD_WITH_IDS).unwrap(),
            vec![Collection {
                usage_page: 1,
                usage: 6,
                report_ids: vec![1, 2]
            }]
        );
        // Two interfaces in one descriptor, the second with an extended usage.
        let two = [FIDO, &[0x0b, 0x01, 0x00, 0x00, 0xff, 0xa1, 0x01, 0xc0]].concat();
        let got = collections(&two).unwrap();
        assert_eq!(
            got[1],
            Collection {
                usage_page: 0xff00,
                usage: 1,
                report_ids: vec![]
            }
        );
        // Push/pop restore the page; a long item is skipped.
        let pp = [
            0x06, 0x00, 0xff, 0xa4, 0x05, 0x01, 0xb4, 0xfe, 0x02, 0x10, 0xaa, 0xbb, 0x09, 0x01,
            0xa1, 0x01, 0xc0,
        ];
        assert_eq!(primary_usage_page(&pp).unwrap(), Some(0xff00));
    }

    #[test]
    fn malformed_descriptors_are_errors() {
        for bad in [
            &[0x06, 0xa0][..],
            &[0xa1, 0x01],
            &[0xc0],
            &[0xb4],
            &[0xfe, 0x05, 0x00, 0x01],
            &[0x0b, 0x01],
        ] {
            let e = collections(bad).unwrap_err();
            assert_eq!(e.code(), "protocol", "{bad:02x?}");
        }
        assert_eq!(
            collections(&[0xa1, 0x01].repeat(40)).unwrap_err().code(),
            "protocol"
        );
        assert_eq!(collections(&[]).unwrap(), vec![]);
    }
}
