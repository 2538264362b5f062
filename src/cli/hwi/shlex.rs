//! `--stdin` lines split as Python's `shlex.split` does (POSIX mode, no comments):
//! whitespace separates words, single quotes keep everything, double quotes let a
//! backslash escape `"` and `\`, and a backslash outside quotes escapes any character.

/// Why a line cannot be split (Python's `ValueError` text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError(pub &'static str);

/// The words of `line`.
///
/// # Errors
/// `No closing quotation` for an open quote, `No escaped character` for a trailing
/// backslash.
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    words.push(core::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(next) => word.push(next),
                    None => return Err(SplitError("No escaped character")),
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err(SplitError("No closing quotation")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => word.push(e),
                            Some(other) => {
                                word.push('\\');
                                word.push(other);
                            }
                            None => return Err(SplitError("No closing quotation")),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err(SplitError("No closing quotation")),
                    }
                }
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_as_python_shlex() {
        assert_eq!(
            split(r#"signtx  cHNi"dP8"BA 'a b' "c \" \d" e\ f ''"#).unwrap(),
            ["signtx", "cHNidP8BA", "a b", r#"c " \d"#, "e f", ""]
        );
        assert_eq!(split("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split("'x").unwrap_err().0, "No closing quotation");
        assert_eq!(split("x\\").unwrap_err().0, "No escaped character");
    }
}
