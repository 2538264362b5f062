//! `--json`: one JSON object per command on stdout, written by hand (strings, whole
//! numbers, booleans, arrays, objects and null are all the tool prints).

use std::fmt::Write;

/// A JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    /// `null`.
    Null,
    /// A string.
    Str(String),
    /// A whole number (satoshi).
    Num(u64),
    /// `true` or `false`.
    Bool(bool),
    /// An array.
    Array(Vec<Json>),
    /// An object, its fields in order.
    Object(Vec<(&'static str, Json)>),
}

impl Json {
    /// An object of string fields.
    pub fn strings(fields: &[(&'static str, &str)]) -> Json {
        Json::Object(
            fields
                .iter()
                .map(|(k, v)| (*k, Json::Str((*v).to_string())))
                .collect(),
        )
    }

    /// The compact text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Str(s) => quote(s, out),
            Json::Num(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    quote(key, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Self {
        Json::Str(s.to_string())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Self {
        Json::Str(s)
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Self {
        v.map_or(Json::Null, Into::into)
    }
}

fn quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_escapes() {
        let v = Json::Object(vec![
            ("a", "x\"y\\z\n\u{1}é".into()),
            (
                "b",
                Json::Array(vec![Json::Null, Json::strings(&[("c", "d")])]),
            ),
            ("e", Json::Array(vec![])),
        ]);
        assert_eq!(
            v.render(),
            r#"{"a":"x\"y\\z\n\u0001é","b":[null,{"c":"d"}],"e":[]}"#
        );
    }
}
