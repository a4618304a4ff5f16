//! `--set path=value` and `--set-string path=value`: assignments applied
//! on top of the merged spec, in order, as Helm applies them.
//!
//! Paths are dot-separated; `\.` is a literal dot (for label keys such as
//! `metadata.labels.team\.example\.com/owner`) and `[N]` indexes a list.

use serde_yaml::{Mapping, Value};

use super::merge::SECRET_SOURCE_KEYS;

#[derive(Debug, Clone, PartialEq)]
pub struct SetExpr {
    /// The expression as written, to name it in errors. A secret can be
    /// given here (with a warning), so only the path part is shown.
    pub label: String,
    path: Vec<Segment>,
    value: Value,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl SetExpr {
    /// `as_string` keeps the value a string (`--set-string`); otherwise it
    /// is read as YAML, so `3` is a number and `[a, b]` a list.
    pub fn parse(expr: &str, as_string: bool) -> Result<SetExpr, String> {
        let flag = if as_string { "--set-string" } else { "--set" };
        let (path, raw) = expr
            .split_once('=')
            .ok_or_else(|| format!("{flag} takes path=value, e.g. tracking.replicas=3"))?;
        let shown: String = path.chars().take(200).collect();
        let label = format!("{flag} {shown}");
        let path = parse_path(path).map_err(|e| format!("{label}: {e}"))?;
        let value = if as_string || raw.is_empty() {
            Value::String(raw.to_owned())
        } else if crate::bounds::too_deep(raw).is_some() {
            return Err(format!(
                "{label}: the value {}",
                crate::bounds::depth_message()
            ));
        } else {
            serde_yaml::from_str(raw)
                .map_err(|_| format!("{label}: the value is not valid YAML; use --set-string"))?
        };
        Ok(SetExpr { label, path, value })
    }

    /// The path in the dotted form error messages use (`a.b[0].c`).
    pub fn dotted_path(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            match seg {
                Segment::Key(k) if out.is_empty() => out.push_str(k),
                Segment::Key(k) => out.push_str(&format!(".{k}")),
                Segment::Index(n) => out.push_str(&format!("[{n}]")),
            }
        }
        out
    }

    /// Whether it names a file to read (`fromFile`, `htpasswdFile`), in
    /// its path or anywhere in its value.
    pub fn names_a_file(&self) -> bool {
        fn is_file_key(k: &str) -> bool {
            matches!(k, "fromFile" | "htpasswdFile")
        }
        fn in_value(v: &Value) -> bool {
            match v {
                Value::Mapping(m) => m
                    .iter()
                    .any(|(k, v)| k.as_str().is_some_and(is_file_key) || in_value(v)),
                Value::Sequence(s) => s.iter().any(in_value),
                _ => false,
            }
        }
        let in_path = self
            .path
            .iter()
            .any(|s| matches!(s, Segment::Key(k) if is_file_key(k)));
        in_path || in_value(&self.value)
    }

    pub fn apply(&self, root: &mut Value) -> Result<(), String> {
        let (last, parents) = self.path.split_last().expect("a path is never empty");
        let mut node = root;
        for seg in parents {
            node = match seg {
                Segment::Key(k) => mapping_for(node, k)
                    .entry(Value::String(k.clone()))
                    .or_insert(Value::Null),
                Segment::Index(n) => slot(node, *n)?,
            };
        }
        match last {
            Segment::Key(k) => {
                let map = mapping_for(node, k);
                let key = Value::String(k.clone());
                if self.value.is_null() {
                    map.remove(&key);
                } else {
                    map.insert(key, self.value.clone());
                }
            }
            Segment::Index(n) => *slot(node, *n)? = self.value.clone(),
        }
        Ok(())
    }
}

/// The mapping at `node` (made one if it is anything else), ready to take
/// `key`. Choosing another secret source replaces the one there, never
/// joins it.
fn mapping_for<'a>(node: &'a mut Value, key: &str) -> &'a mut Mapping {
    if !node.is_mapping() {
        *node = Value::Mapping(Mapping::new());
    }
    let map = node.as_mapping_mut().expect("a mapping");
    let is_source = map
        .keys()
        .filter_map(Value::as_str)
        .any(|k| SECRET_SOURCE_KEYS.contains(&k));
    if is_source && SECRET_SOURCE_KEYS.contains(&key) && !map.contains_key(key) {
        map.clear();
    }
    map
}

fn slot(node: &mut Value, n: usize) -> Result<&mut Value, String> {
    let list = node
        .as_sequence_mut()
        .ok_or_else(|| format!("[{n}] indexes a list, and there is none here"))?;
    let len = list.len();
    list.get_mut(n)
        .ok_or_else(|| format!("[{n}] is past the end of a list of {len}"))
}

fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let mut key = String::new();
    let mut chars = path.chars().peekable();
    let flush = |key: &mut String, segs: &mut Vec<Segment>| {
        if !key.is_empty() {
            segs.push(Segment::Key(std::mem::take(key)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => key.push(chars.next().expect("peeked")),
            '.' => {
                if key.is_empty() && !matches!(segments.last(), Some(Segment::Index(_))) {
                    return Err("empty path segment".into());
                }
                flush(&mut key, &mut segments);
            }
            '[' => {
                flush(&mut key, &mut segments);
                let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
                let n = digits
                    .parse()
                    .map_err(|_| format!("[{digits}] is not a list index"))?;
                segments.push(Segment::Index(n));
            }
            c => key.push(c),
        }
    }
    flush(&mut key, &mut segments);
    if segments.is_empty() {
        return Err("the path is empty".into());
    }
    let max = crate::bounds::MAX_SET_SEGMENTS;
    if segments.len() > max {
        return Err(format!(
            "the path has {} segments; no spec field is deeper than {max}",
            segments.len()
        ));
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(base: &str, expr: &str) -> Value {
        let mut v: Value = serde_yaml::from_str(base).unwrap();
        SetExpr::parse(expr, false).unwrap().apply(&mut v).unwrap();
        v
    }

    fn y(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn assigns_nested_values() {
        assert_eq!(
            apply("{}", "tracking.replicas=3"),
            y("{tracking: {replicas: 3}}")
        );
        assert_eq!(
            apply("{}", r"metadata.labels.team\.io/owner=ml"),
            y("{metadata: {labels: {team.io/owner: ml}}}")
        );
        assert_eq!(apply("{l: [{a: 1}]}", "l[0].a=2"), y("{l: [{a: 2}]}"));
        assert_eq!(apply("{a: {b: 1, c: 2}}", "a.b=null"), y("{a: {c: 2}}"));
    }

    #[test]
    fn a_new_secret_source_replaces_the_old() {
        assert_eq!(
            apply("{p: {generate: true}}", "p.fromEnv=PG"),
            y("{p: {fromEnv: PG}}")
        );
    }

    #[test]
    fn string_values_stay_strings() {
        let mut v = y("{}");
        SetExpr::parse("a=007", true)
            .unwrap()
            .apply(&mut v)
            .unwrap();
        assert_eq!(v, y("{a: '007'}"));
    }

    #[test]
    fn bad_expressions() {
        assert!(SetExpr::parse("novalue", false).is_err());
        assert!(SetExpr::parse("a..b=1", false).is_err());
        assert!(SetExpr::parse("=1", false).is_err());
        let mut v = y("{l: []}");
        assert!(
            SetExpr::parse("l[3]=1", false)
                .unwrap()
                .apply(&mut v)
                .is_err()
        );
    }
}
