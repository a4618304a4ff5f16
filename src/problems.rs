//! Every error an input holds, reported in one run: a spec with three
//! mistakes, or three missing env vars, is fixed in one round, not three.

use std::fmt;

use serde_yaml::Value;

use crate::located::{Located, line_of_path};

/// Past this many, a list helps nobody; the rest follow once these are fixed.
const MAX_REPORTED: usize = 50;

/// One or more errors, in the order they were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Located>);

impl Problems {
    pub fn map(self, f: impl FnMut(Located) -> Located) -> Problems {
        Problems(self.0.into_iter().map(f).collect())
    }

    /// Collects errors from independent checks: the value when there were none.
    pub fn keep<T>(found: &mut Vec<Located>, result: Result<T, impl Into<Problems>>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                found.extend(e.into().0);
                None
            }
        }
    }
}

impl From<Located> for Problems {
    fn from(e: Located) -> Problems {
        Problems(vec![e])
    }
}

/// The first on its own; more, each on an `error:` line of its own and
/// counted, as a compiler reports them.
impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().take(MAX_REPORTED).enumerate() {
            match i {
                0 => write!(f, "{e}")?,
                _ => write!(f, "\nerror: {e}")?,
            }
        }
        if self.0.len() > MAX_REPORTED {
            write!(f, "\n... and {} more", self.0.len() - MAX_REPORTED)?;
        }
        if self.0.len() > 1 {
            write!(
                f,
                "\n{} problems; fix them all, then render again",
                self.0.len()
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// `source` as its YAML value and as `T`, read from one parse. Only when
/// `T` refuses the value is the text read again, for every error with its
/// line (see [`parse_all`]).
pub fn parse_with_value<T: serde::de::DeserializeOwned>(
    origin: &str,
    source: &str,
) -> Result<(T, Value), Problems> {
    let value = match Located::parse_yaml::<Value>(origin, source) {
        Ok(value) => value,
        Err(e) => {
            // The typed reading's errors come first, as they always have.
            parse_all::<T>(origin, source)?;
            return Err(e.into());
        }
    };
    match T::deserialize(&value) {
        Ok(typed) => Ok((typed, value)),
        // The text may read where its value did not (a plain number where
        // a string is wanted): the text's reading, or its errors, decide.
        Err(_) => Ok((parse_all::<T>(origin, source)?, value)),
    }
}

/// Deserializes `source` into `T`, reporting every field it refuses.
/// After each error the refused field is taken out and the rest is tried
/// again, so one mistake does not hide the next.
pub fn parse_all<T: serde::de::DeserializeOwned>(
    origin: &str,
    source: &str,
) -> Result<T, Problems> {
    let first = match Located::parse_yaml::<T>(origin, source) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    // Not a field's error (not YAML, too deep, a duplicate key): nothing
    // more can be read.
    if first.path.is_none() || first.message.starts_with('`') {
        return Err(first.into());
    }
    let Ok(mut value) = serde_yaml::from_str::<Value>(source) else {
        return Err(first.into());
    };
    let mut next_to_take = first.path.clone();
    let mut found = vec![first];
    let mut removed = Removed::default();
    while let Some(path) = next_to_take.take()
        && found.len() < MAX_REPORTED
        && removed.take(&mut value, &removed.to_current(&path))
    {
        let Some(next) = next_error::<T>(origin, &value, source, &removed) else {
            break;
        };
        if found.contains(&next) {
            break;
        }
        next_to_take = next.path.clone();
        if !removed.is_consequence(&next) {
            found.push(next);
        }
    }
    Err(Problems(found))
}

fn next_error<T: serde::de::DeserializeOwned>(
    origin: &str,
    value: &Value,
    source: &str,
    removed: &Removed,
) -> Option<Located> {
    let err = serde_path_to_error::deserialize::<_, T>(value.clone()).err()?;
    let mut located = Located::from_yaml(origin, err.inner());
    let exact = err.path().to_string();
    let mut path = (exact != ".").then_some(exact);
    if let Some(key) = located.message.strip_prefix("unknown field `") {
        let key = key.split('`').next().unwrap_or_default();
        path = Some(match path {
            Some(p) if p == key || p.ends_with(&format!(".{key}")) => p,
            Some(p) => format!("{p}.{key}"),
            None => key.to_owned(),
        });
    }
    located.path = path.map(|p| removed.to_original(&p));
    located.line = located
        .path
        .as_deref()
        .and_then(|p| line_of_path(source, p));
    located.column = None;
    Some(crate::located::plain_words(located, source))
}

/// What was taken out of the value so far, so that a list item's index
/// in a later message is the one the user wrote.
#[derive(Default)]
struct Removed {
    /// Paths as written (`serving.models[2].name`).
    paths: Vec<String>,
    /// List items taken out: the list's path, and the item's index as written.
    items: Vec<(String, usize)>,
}

impl Removed {
    /// Takes the node at `current` (a path in today's value) out.
    fn take(&mut self, value: &mut Value, current: &str) -> bool {
        let original = self.to_original(current);
        let (parent, last) = match current.rfind(['.', '[']) {
            Some(i) => (&current[..i], &current[i..]),
            None => ("", current),
        };
        let Some(node) = lookup(value, parent) else {
            return false;
        };
        let done = match (last.strip_prefix('['), node) {
            (Some(index), Value::Sequence(items)) => {
                let i: usize = index.trim_end_matches(']').parse().unwrap_or(usize::MAX);
                let ok = i < items.len();
                if ok {
                    items.remove(i);
                    let list = self.to_original(parent);
                    let written = item_index(&original).unwrap_or(i);
                    self.items.push((list, written));
                }
                ok
            }
            (None, Value::Mapping(m)) => m.shift_remove(last.trim_start_matches('.')).is_some(),
            _ => false,
        };
        if done {
            self.paths.push(original);
        }
        done
    }

    /// A `missing field` error about a field mlk itself took out.
    fn is_consequence(&self, e: &Located) -> bool {
        let Some(field) = e
            .message
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        else {
            return false;
        };
        let full = match e.path.as_deref() {
            Some(p) => format!("{p}.{field}"),
            None => field.to_owned(),
        };
        self.paths
            .iter()
            .any(|p| *p == full || p.starts_with(&format!("{full}.")))
    }

    /// A path in today's value, as the user wrote it.
    fn to_original(&self, current: &str) -> String {
        self.rewrite(current, |gone, i| {
            let mut o = 0;
            let mut left = i;
            loop {
                if !gone.contains(&o) {
                    if left == 0 {
                        return o;
                    }
                    left -= 1;
                }
                o += 1;
            }
        })
    }

    /// A path as written, in today's value.
    fn to_current(&self, original: &str) -> String {
        self.rewrite(original, |gone, o| {
            o - gone.iter().filter(|g| **g < o).count()
        })
    }

    /// Rewrites each list index in `path` by `f(indices taken out of that list, index)`.
    fn rewrite(&self, path: &str, f: impl Fn(&[usize], usize) -> usize) -> String {
        let mut out = String::new();
        let mut rest = path;
        while let Some(open) = rest.find('[') {
            let close = rest[open..].find(']').map_or(rest.len(), |c| open + c);
            out.push_str(&rest[..open]);
            let index: Option<usize> = rest[open + 1..close].parse().ok();
            match index {
                Some(i) => {
                    let gone: Vec<usize> = self
                        .items
                        .iter()
                        .filter(|(list, _)| *list == out)
                        .map(|(_, i)| *i)
                        .collect();
                    out.push_str(&format!("[{}]", f(&gone, i)));
                }
                None => out.push_str(&rest[open..=close.min(rest.len() - 1)]),
            }
            rest = rest.get(close + 1..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }
}

fn item_index(path: &str) -> Option<usize> {
    let open = path.rfind('[')?;
    path[open + 1..].strip_suffix(']')?.parse().ok()
}

/// The node at a dotted path with `[i]` indices; the root for `""`.
fn lookup<'v>(value: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    let mut node = value;
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        let (key, indices) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !key.is_empty() {
            node = node.as_mapping_mut()?.get_mut(key)?;
        }
        for index in indices.split('[').filter(|s| !s.is_empty()) {
            let i: usize = index.trim_end_matches(']').parse().ok()?;
            node = node.as_sequence_mut()?.get_mut(i)?;
        }
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct Item {
        name: String,
        size: u8,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct Doc {
        #[serde(default)]
        count: u8,
        #[serde(default)]
        items: Vec<Item>,
    }

    fn errors(source: &str) -> Vec<String> {
        match parse_all::<Doc>("f", source) {
            Ok(_) => vec![],
            Err(p) => p.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn reports_each_mistake_at_its_own_line() {
        let got = errors(
            "count: -1\ncolour: red\nitems:\n- {name: a, size: 300}\n- {name: b, size: 1}\n- {name: c, size: x}\n",
        );
        assert_eq!(got.len(), 4, "{got:#?}");
        assert!(got[0].starts_with("f:1:8: count: invalid type"), "{got:#?}");
        assert!(got[1].starts_with("f:2: colour: unknown field"), "{got:#?}");
        assert!(
            got[2].starts_with("f:4: items[0].size: invalid value"),
            "{got:#?}"
        );
        assert!(
            got[3].starts_with("f:6: items[2].size: invalid type"),
            "{got:#?}"
        );
    }

    #[test]
    fn a_removed_required_field_is_not_reported_again() {
        let got = errors("items:\n- {name: 3, size: 1, extra: 1}\n");
        assert_eq!(got.len(), 2, "{got:#?}");
    }

    #[test]
    fn a_clean_document_parses() {
        assert!(errors("count: 3\nitems: [{name: a, size: 1}]\n").is_empty());
    }
}
