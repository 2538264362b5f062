//! JSON as HWI prints it: Python's `json.dumps` with its defaults, so that the output
//! matches byte for byte. Keys stay in insertion order, items are separated by `", "`
//! and keys from values by `": "`, and every character outside printable ASCII is
//! escaped (`\n`, `\u00e9`, surrogate pairs above the BMP).

use std::fmt::Write;

/// A JSON value with Python's types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `null` (`None`).
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// An unsigned integer (amounts, which a hostile PSBT may put above `i64::MAX`).
    UInt(u64),
    /// A string.
    Str(String),
    /// A list.
    List(Vec<Value>),
    /// A dict, its keys in insertion order.
    Obj(Vec<(String, Value)>),
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    /// A dict from `(key, value)` pairs.
    pub fn obj<const N: usize>(fields: [(&str, Value); N]) -> Value {
        Value::Obj(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    /// `{"error": message, "code": code}`, HWI's error shape.
    pub fn error(message: impl Into<String>, code: i64) -> Value {
        Value::obj([("error", Value::str(message)), ("code", Value::Int(code))])
    }

    /// Sets `key` (replacing its value where present, keeping its place, as a Python
    /// dict does).
    pub fn set(&mut self, key: &str, value: Value) {
        if let Value::Obj(fields) = self {
            match fields.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = value,
                None => fields.push((key.to_string(), value)),
            }
        }
    }

    /// The value at `key` in a dict.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text `json.dumps` prints.
    pub fn render(&self) -> String {
        self.render_as(Style::PYTHON)
    }

    /// The text in `style`.
    pub fn render_as(&self, style: Style) -> String {
        let mut out = String::new();
        self.write(&mut out, style);
        out
    }

    fn write(&self, out: &mut String, style: Style) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::UInt(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Str(s) => quote(s, out, style),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(style.item_separator);
                    }
                    item.write(out, style);
                }
                out.push(']');
            }
            Value::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(style.item_separator);
                    }
                    quote(key, out, style);
                    out.push_str(style.key_separator);
                    value.write(out, style);
                }
                out.push('}');
            }
        }
    }
}

/// How a [`Value`] is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Between the items of a list or dict.
    pub item_separator: &'static str,
    /// Between a key and its value.
    pub key_separator: &'static str,
    /// Every character outside printable ASCII escaped (`ensure_ascii`); otherwise only
    /// control characters are.
    pub ascii_only: bool,
}

impl Style {
    /// Python's `json.dumps` with its defaults, as HWI prints.
    pub const PYTHON: Style = Style {
        item_separator: ", ",
        key_separator: ": ",
        ascii_only: true,
    };
    /// No spaces, UTF-8 kept (the `hwsigner` tool's `--json`).
    pub const COMPACT: Style = Style {
        item_separator: ",",
        key_separator: ":",
        ascii_only: false,
    };
}

/// A string literal, escaped as `style` says.
fn quote(s: &str, out: &mut String, style: Style) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' if style.ascii_only => out.push_str("\\b"),
            '\u{c}' if style.ascii_only => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c if !style.ascii_only && u32::from(c) >= 0x20 => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_as_python_json_dumps() {
        let v = Value::obj([
            ("type", Value::str("ledger")),
            ("label", Value::Null),
            ("range", Value::List(vec![Value::Int(0), Value::Int(-2)])),
            ("ok", Value::Bool(true)),
            ("empty", Value::Obj(vec![])),
        ]);
        assert_eq!(
            v.render(),
            r#"{"type": "ledger", "label": null, "range": [0, -2], "ok": true, "empty": {}}"#
        );
        assert_eq!(
            Value::str("é\u{1f600}\"\\\n\u{7f}\u{1}").render(),
            r#""\u00e9\ud83d\ude00\"\\\n\u007f\u0001""#
        );
        let mut e = Value::error("x", -1);
        e.set("error", Value::str("y"));
        assert_eq!(e.render(), r#"{"error": "y", "code": -1}"#);
    }
}
