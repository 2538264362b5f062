//! `--json`: one JSON object per command on stdout (strings, whole numbers, booleans,
//! arrays, objects and null are all the tool prints), written by the `hwi` module's
//! writer in its compact style.

use hwsigner::cli::hwi::json::{Style, Value};

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
        self.to_value().render_as(Style::COMPACT)
    }

    fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Str(s) => Value::Str(s.clone()),
            Json::Num(n) => Value::UInt(*n),
            Json::Bool(b) => Value::Bool(*b),
            Json::Array(items) => Value::List(items.iter().map(Json::to_value).collect()),
            Json::Object(fields) => Value::Obj(
                fields
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), v.to_value()))
                    .collect(),
            ),
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
        assert_eq!(Json::Num(u64::MAX).render(), "18446744073709551615");
    }
}
