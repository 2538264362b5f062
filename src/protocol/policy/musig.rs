//! `musig(@i,@j,…)` key expressions in BIP-388 templates (Ledger Bitcoin app 2.4+).
//!
//! Only the app's form is accepted: placeholders without derivation inside, and
//! `/**` or `/<M;N>/*` after the closing parenthesis (the aggregate xpub is derived,
//! BIP-328; keys derived before aggregation are not supported by the app).

use core::str::FromStr;

use bitcoin::bip32::Xpub;

use crate::error::{Error, Result};

use super::WalletPolicy;

fn bad(why: impl Into<String>) -> Error {
    Error::invalid("policy template", why)
}

/// Parses the inside of `musig(`…`)`: `rest` starts after `musig(`. Returns the key
/// indexes and what follows the closing parenthesis.
///
/// # Errors
/// `invalid-input` when it is not `@i,@j,…)` with 1 to 16 keys.
pub fn parse_indexes(rest: &str) -> Result<(Vec<usize>, &str)> {
    let close = rest
        .find(')')
        .ok_or_else(|| bad("musig( without a closing parenthesis"))?;
    let (inside, after) = rest.split_at(close);
    let after = after.get(1..).unwrap_or_default();
    let indexes = inside
        .split(',')
        .map(|item| {
            item.strip_prefix('@')
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|d| d.parse::<usize>().ok())
                .ok_or_else(|| {
                    bad(format!(
                        "musig() takes key placeholders (@0,@1,…), not {item:?}"
                    ))
                })
        })
        .collect::<Result<Vec<usize>>>()?;
    if indexes.is_empty() || indexes.len() > 16 {
        return Err(bad(format!(
            "musig() with {} keys (1 to 16)",
            indexes.len()
        )));
    }
    if !after.starts_with("/**") && !after.starts_with("/<") {
        return Err(bad(
            "musig() must be followed by /** or /<M;N>/* (the aggregate is derived)",
        ));
    }
    Ok((indexes, after))
}

/// One `musig()` key expression of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression {
    /// Its key placeholders, as written.
    pub keys: Vec<usize>,
    /// The receive and change steps after it (`/**`: 0 and 1; `/<M;N>/*`: M and N).
    pub steps: (u32, u32),
    /// Its position among all the key expressions of the template (`@i` and
    /// `musig()`), in the order they are written.
    pub position: usize,
}

/// The steps `/**` or `/<M;N>/*` at the start of `after`.
fn steps(after: &str) -> Result<(u32, u32)> {
    if after.starts_with("/**") {
        return Ok((0, 1));
    }
    let parsed = after
        .strip_prefix("/<")
        .and_then(|t| t.split_once(">/*"))
        .and_then(|(pair, _)| pair.split_once(';'))
        .and_then(|(m, n)| Some((m.parse::<u32>().ok()?, n.parse::<u32>().ok()?)))
        .filter(|(m, n)| m < n && *n < 0x8000_0000);
    parsed.ok_or_else(|| bad("musig() must be followed by /** or /<M;N>/* with M < N"))
}

/// The `musig()` expressions of `template`, in order.
///
/// # Errors
/// `invalid-input` for a malformed `musig()`.
pub fn expressions(template: &str) -> Result<Vec<Expression>> {
    let mut out = Vec::new();
    let mut rest = template;
    let mut position = 0;
    loop {
        let at = rest.find('@');
        match rest.find("musig(") {
            Some(m) if at.is_none_or(|a| m < a) => {
                let (keys, after) = parse_indexes(rest.get(m + 6..).unwrap_or_default())?;
                out.push(Expression {
                    keys,
                    steps: steps(after)?,
                    position,
                });
                position += 1;
                rest = after;
            }
            _ => match at {
                Some(a) => {
                    position += 1;
                    rest = rest.get(a + 1..).unwrap_or_default();
                }
                None => return Ok(out),
            },
        }
    }
}

/// The xpub of a key information string (`[fpr/path]xpub`, maybe ending in `/**`).
///
/// # Errors
/// `invalid-input` when it holds no xpub.
pub fn key_xpub(info: &str) -> Result<Xpub> {
    let after_origin = info
        .find(']')
        .map_or(info, |i| info.get(i + 1..).unwrap_or_default());
    let text = after_origin.split('/').next().unwrap_or_default();
    Xpub::from_str(text)
        .map_err(|e| Error::invalid("policy keys", format!("{info:?} has no xpub: {e}")))
}

/// The public keys of `indexes` in `policy`.
///
/// # Errors
/// `invalid-input` when an index has no key or a key no xpub.
pub fn participant_xpubs(policy: &WalletPolicy, indexes: &[usize]) -> Result<Vec<Xpub>> {
    indexes
        .iter()
        .map(|i| {
            let info = policy
                .keys
                .get(*i)
                .ok_or_else(|| bad(format!("@{i} has no key ({} given)", policy.keys.len())))?;
            key_xpub(info)
        })
        .collect()
}

/// The aggregate xpub (BIP-328) that `musig(@i,…)` stands for in `policy`: the keys
/// sorted, aggregated, on the network of the first key.
///
/// # Errors
/// `invalid-input` for a bad key; `unsupported` without the `musig` feature.
pub fn aggregate_xpub(policy: &WalletPolicy, indexes: &[usize]) -> Result<Xpub> {
    let xpubs = participant_xpubs(policy, indexes)?;
    #[cfg(feature = "musig")]
    {
        use crate::protocol::musig::keys;
        let network = xpubs
            .first()
            .map_or(bitcoin::NetworkKind::Main, |x| x.network);
        let keys: Vec<_> = xpubs.iter().map(|x| x.public_key).collect();
        let aggregate = keys::aggregate(&keys::sorted(&keys))?;
        Ok(keys::aggregate_xpub(aggregate, network))
    }
    #[cfg(not(feature = "musig"))]
    {
        let _ = xpubs;
        Err(crate::protocol::musig::unsupported())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_apps_forms_only() {
        assert_eq!(parse_indexes("@0,@1)/**").unwrap(), (vec![0, 1], "/**"));
        assert_eq!(parse_indexes("@2,@10)/<2;3>/*,x)").unwrap().0, vec![2, 10]);
        for wrong in [
            "@0,@1)",
            "@0/**,@1/**)/**",
            "@0,@1/**",
            "@0,)/**",
            "k,@1)/**",
            ")/**",
        ] {
            assert_eq!(
                parse_indexes(wrong).unwrap_err().code(),
                "invalid-input",
                "{wrong}"
            );
        }
        let e = expressions("tr(@3/**,{pk(musig(@0,@1)/**),pk(musig(@1,@2)/<2;3>/*)})").unwrap();
        assert_eq!(
            e.iter()
                .map(|e| (e.keys.clone(), e.steps, e.position))
                .collect::<Vec<_>>(),
            vec![(vec![0, 1], (0, 1), 1), (vec![1, 2], (2, 3), 2)]
        );
        assert!(expressions("tr(musig(@0,@1)/<3;2>/*)").is_err());
        assert!(expressions("tr(@0/**)").unwrap().is_empty());
    }
}
