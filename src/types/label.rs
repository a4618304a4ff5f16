use super::dns::Subdomain;
use super::string_newtype;

/// A label or annotation key: an optional DNS subdomain prefix and `/`,
/// then a name of at most 63 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LabelKey(String);
string_newtype!(LabelKey);

impl LabelKey {
    fn parse(s: &str) -> Result<(), String> {
        let (prefix, name) = match s.split_once('/') {
            Some((p, n)) => (Some(p), n),
            None => (None, s),
        };
        if let Some(p) = prefix {
            Subdomain::parse(p).map_err(|e| format!("key {s:?}: prefix {e}"))?;
        }
        if name.is_empty() || !is_label_value(name) {
            return Err(format!(
                "{s:?} is not a valid key: [prefix/]name, where name is at most 63 letters, \
                 digits, '-', '_' or '.', starting and ending with a letter or digit"
            ));
        }
        Ok(())
    }
}

/// A label value: empty, or at most 63 letters, digits, `-`, `_` or `.`,
/// starting and ending with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LabelValue(String);
string_newtype!(LabelValue);

impl LabelValue {
    fn parse(s: &str) -> Result<(), String> {
        if s.is_empty() || is_label_value(s) {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is not a valid label value: at most 63 letters, digits, '-', '_' or '.', \
                 starting and ending with a letter or digit"
            ))
        }
    }
}

fn is_label_value(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_alphanumeric();
    b.len() <= 63
        && !b.is_empty()
        && edge(&b[0])
        && edge(&b[b.len() - 1])
        && b.iter().all(|c| edge(c) || b"-_.".contains(c))
}
