//! An error in user input, with where it is: origin (a file, a profile, a
//! `--set`), line and column when known, and the field path.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub origin: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub path: Option<String>,
    pub message: String,
}

impl Located {
    pub fn new(origin: impl Into<String>, path: Option<&str>, message: impl Into<String>) -> Self {
        Located {
            origin: origin.into(),
            line: None,
            column: None,
            path: path.map(str::to_owned),
            message: message.into(),
        }
    }

    /// serde_yaml writes `path: message at line L column C`; split that
    /// into its parts so every error reads the same way.
    pub fn from_yaml(origin: &str, err: &serde_yaml::Error) -> Self {
        let mut text = err.to_string();
        let (line, column) = match err.location() {
            Some(loc) => {
                let suffix = format!(" at line {} column {}", loc.line(), loc.column());
                if let Some(stripped) = text.strip_suffix(&suffix) {
                    text = stripped.to_owned();
                }
                (Some(loc.line()), Some(loc.column()))
            }
            None => (None, None),
        };
        let (path, message) = split_path(&text);
        Located {
            origin: origin.to_owned(),
            line,
            column,
            path,
            message,
        }
    }
    /// As `from_yaml`, and completes the path from the source: for a value
    /// its own type refused, serde_yaml names the enclosing mapping, while
    /// its column points at the key.
    pub fn from_yaml_in(origin: &str, err: &serde_yaml::Error, source: &str) -> Self {
        let mut located = Located::from_yaml(origin, err);
        let (Some(line), Some(col)) = (located.line, located.column) else {
            return located;
        };
        let Some(key) = key_at(source, line, col) else {
            return located;
        };
        let path = located.path.take();
        let ends_with_key = path
            .as_deref()
            .is_some_and(|p| p == key || p.ends_with(&format!(".{key}")));
        located.path = Some(match path {
            Some(p) if ends_with_key => p,
            Some(p) => format!("{p}.{key}"),
            None => key.to_owned(),
        });
        located
    }

    /// Adds the line of `path` in `source`, when it can be found there.
    pub fn with_line_in(mut self, source: &str) -> Self {
        if let Some(path) = &self.path {
            self.line = line_of_path(source, path);
        }
        self
    }
}

/// The `key` of a `key:` that starts at this 1-based line and column.
fn key_at(source: &str, line: usize, col: usize) -> Option<&str> {
    let text = source.lines().nth(line.checked_sub(1)?)?;
    let rest = text.get(col.checked_sub(1)?..)?;
    let end = rest.find(':')?;
    let key = rest[..end].trim_matches(|c| c == '"' || c == '\'');
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c));
    plain.then_some(key)
}

/// The line of a dotted path (`database.external.host`) in block-style
/// YAML: each segment is looked for below the previous one, indented
/// deeper. The nearest enclosing key is returned when the full path is
/// absent; `None` when not even the first segment is there.
pub fn line_of_path(source: &str, path: &str) -> Option<usize> {
    let lines: Vec<&str> = source.lines().collect();
    let (mut from, mut indent, mut found) = (0, None::<usize>, None);
    for segment in path.split('.').map(|s| s.split('[').next().unwrap_or(s)) {
        let hit = lines.iter().enumerate().skip(from).find_map(|(i, l)| {
            let body = l.trim_start();
            let depth = l.len() - body.len();
            let deeper = indent.is_none_or(|d| depth > d);
            (deeper && body.starts_with(&format!("{segment}:"))).then_some((i, depth))
        });
        let Some((i, depth)) = hit else { break };
        (from, indent, found) = (i + 1, Some(depth), Some(i + 1));
    }
    found
}

fn split_path(text: &str) -> (Option<String>, String) {
    if let Some((head, rest)) = text.split_once(": ") {
        let is_path = !head.is_empty()
            && head
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._[]-".contains(c));
        if is_path && head != "invalid type" && head != "invalid value" {
            return (Some(head.to_owned()), rest.to_owned());
        }
    }
    (None, text.to_owned())
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if let Some(path) = &self.path {
            write!(f, ": {path}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for Located {}
