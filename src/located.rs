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
        let message = hide_values(&message);
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

    /// Deserializes `source`, placing any error at its field. serde_yaml
    /// places an error its own checks find (a wrong type, an unknown key)
    /// exactly, but one from a value's own validation at the start of the
    /// enclosing mapping; serde_path_to_error knows which field it was.
    pub fn parse_yaml<T: serde::de::DeserializeOwned>(
        origin: &str,
        source: &str,
    ) -> Result<T, Located> {
        if let Some(line) = crate::bounds::too_deep(source) {
            let mut err = Located::new(origin, None, crate::bounds::depth_message());
            err.line = Some(line);
            return Err(err);
        }
        let de = serde_yaml::Deserializer::from_str(source);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let mut located = Located::from_yaml_in(origin, e.inner(), source);
            let exact = e.path().to_string();
            let known = exact != "." && !exact.contains('?');
            let more_precise = located
                .path
                .as_deref()
                .is_some_and(|p| p.starts_with(&exact));
            if known && !more_precise {
                located.line = line_of_path(source, &exact).or(located.line);
                located.column = None;
                located.path = Some(exact);
            }
            plain_words(located, source)
        })
    }

    /// Adds the line of `path` in `source`, when it can be found there.
    pub fn with_line_in(mut self, source: &str) -> Self {
        if let Some(path) = &self.path {
            self.line = line_of_path(source, path);
        }
        self
    }
}

/// A field path's dot-separated segments; a key with dots in it is
/// written in double quotes (`ingress.annotations."a.b/c"`), which are
/// dropped.
pub fn segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in path.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => out.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    out.push(current);
    out
}

/// A key as a field path writes it: quoted when it holds a dot, a quote
/// or anything but letters, digits, `-` and `_`.
pub fn path_key(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    match plain {
        true => key.to_owned(),
        false => format!("{key:?}"),
    }
}

/// The `key` of a `key:` that starts at this 1-based line and column.
fn key_at(source: &str, line: usize, col: usize) -> Option<&str> {
    let text = source.lines().nth(line.checked_sub(1)?)?;
    let rest = text.get(col.checked_sub(1)?..)?;
    let end = rest.find(':')?;
    // `host:5432:db` is a value, not a key: a key's colon ends the line
    // or comes before a space.
    let after = rest[end + 1..].chars().next();
    if after.is_some_and(|c| c != ' ') {
        return None;
    }
    let key = rest[..end].trim_matches(|c| c == '"' || c == '\'');
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c));
    plain.then_some(key)
}

/// The line of a path (`database.external.host`, `serving.models[1].name`)
/// in block-style YAML: each key is looked for inside the block of the one
/// before, and an index counts `- ` items. The nearest enclosing key's or
/// item's line is returned when the full path is absent; `None` when not
/// even the first key is there.
pub fn line_of_path(source: &str, path: &str) -> Option<usize> {
    let lines: Vec<(usize, &str)> = source
        .lines()
        .map(|l| {
            let body = l.trim_start();
            (l.len() - body.len(), body)
        })
        .collect();
    let (mut from, mut parent, mut found) = (0, None::<usize>, None);
    for segment in segments(path) {
        let (key, index) = match segment.split_once('[') {
            Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (segment.as_str(), None),
        };
        let Some((i, depth)) = find_key(&lines, from, parent, key) else {
            break;
        };
        (from, parent, found) = (i + 1, Some(depth), Some(i + 1));
        if let Some(n) = index {
            let Some((j, item_depth)) = nth_item(&lines, from, depth, n) else {
                break;
            };
            (from, parent, found) = (j, Some(item_depth), Some(j + 1));
        }
    }
    found
}

fn is_blank((_, body): &(usize, &str)) -> bool {
    body.is_empty() || body.starts_with('#')
}

/// The line and depth of `key:` within the block that starts at `from`
/// (whose first line may be a `- ` item holding the key) below `parent`.
fn find_key(
    lines: &[(usize, &str)],
    from: usize,
    parent: Option<usize>,
    key: &str,
) -> Option<(usize, usize)> {
    for (i, line) in lines.iter().enumerate().skip(from) {
        if is_blank(line) {
            continue;
        }
        let (mut depth, mut body) = *line;
        let item_start = i == from && body.starts_with("- ");
        if parent.is_some_and(|p| depth <= p) && !item_start {
            return None;
        }
        if let Some(rest) = body.strip_prefix("- ") {
            (depth, body) = (depth + 2, rest.trim_start());
        }
        if body.starts_with(&format!("{key}:")) {
            return Some((i, depth));
        }
    }
    None
}

/// The line and depth of the `n`th `- ` item of the list under a key.
fn nth_item(
    lines: &[(usize, &str)],
    from: usize,
    key_depth: usize,
    n: usize,
) -> Option<(usize, usize)> {
    let mut item_depth = None;
    let mut seen = 0;
    for (i, line) in lines.iter().enumerate().skip(from) {
        if is_blank(line) {
            continue;
        }
        let (depth, body) = *line;
        let is_item = body == "-" || body.starts_with("- ");
        if depth < key_depth || (depth == key_depth && !is_item) {
            return None;
        }
        if !is_item || item_depth.is_some_and(|d| depth != d) {
            continue;
        }
        item_depth = Some(depth);
        if seen == n {
            return Some((i, depth));
        }
        seen += 1;
    }
    None
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

/// serde's and the YAML scanner's words, said for a person writing a spec:
/// no Rust type names, a tab named as a tab, a duplicate key at its own
/// line.
pub(crate) fn plain_words(mut e: Located, source: &str) -> Located {
    if e.message.contains("cannot start any token")
        && let Some(i) = source
            .lines()
            .position(|l| l.trim_start_matches(' ').starts_with('\t'))
    {
        e.line = Some(i + 1);
        e.column = None;
        e.message = "tab characters cannot indent YAML: indent with spaces".into();
        return e;
    }
    if let Some(key) = e
        .message
        .strip_prefix("duplicate field `")
        .and_then(|r| r.split('`').next())
        .map(str::to_owned)
    {
        let pattern = format!("{key}:");
        let at_top = source.lines().filter(|l| l.starts_with(&pattern)).count() > 1;
        let second = source
            .lines()
            .enumerate()
            .filter(|(_, l)| {
                l.trim_start().starts_with(&pattern) && (!at_top || l.starts_with(&pattern))
            })
            .nth(1);
        if let Some((i, _)) = second {
            e.line = Some(i + 1);
            e.column = None;
        }
        e.path = Some(match (at_top, e.path.take()) {
            (true, _) | (false, None) => key.clone(),
            (false, Some(p)) => format!("{p}.{key}"),
        });
        e.message = format!("`{key}` is written twice; keep one");
        return e;
    }
    e.message = readable_expectation(&e.message);
    e.message = unknown_field(&e.message);
    e
}

/// serde quotes the value it refused: a wrong-typed string, an unknown
/// variant. That value may be a password typed into the wrong field, or
/// a file that is no spec at all (`--profile ./pgpass`), so no message
/// quotes it: its length and the line say which value it was.
fn hide_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some((at, quote)) = next_quoted(rest) {
        out.push_str(&rest[..at]);
        let (shown, after) = match quote {
            Quoted::String => {
                let body = &rest[at + "string \"".len()..];
                let (count, len) = debug_string_len(body);
                (format!("a string of {}", characters(count)), &body[len..])
            }
            Quoted::Variant => {
                let body = &rest[at + "unknown variant `".len()..];
                let len = body.find('`').map_or(body.len(), |i| i + 1);
                let count = body[..len].trim_end_matches('`').chars().count();
                let word = format!("unknown value of {}", characters(count));
                (word, &body[len..])
            }
            Quoted::Number(prefix) => {
                let body = &rest[at + prefix.len()..];
                let len = body.find('`').map_or(body.len(), |i| i + 1);
                ("a number".to_owned(), &body[len..])
            }
        };
        out.push_str(&shown);
        rest = after;
    }
    out.push_str(rest);
    out
}

fn characters(count: usize) -> String {
    match count {
        1 => "1 character".to_owned(),
        n => format!("{n} characters"),
    }
}

enum Quoted {
    String,
    Variant,
    /// serde's ``integer `N` `` and ``floating point `N` ``.
    Number(&'static str),
}

fn next_quoted(text: &str) -> Option<(usize, Quoted)> {
    let found = [
        ("string \"", Quoted::String),
        ("unknown variant `", Quoted::Variant),
        ("integer `", Quoted::Number("integer `")),
        ("floating point `", Quoted::Number("floating point `")),
    ];
    found
        .into_iter()
        .filter_map(|(word, q)| text.find(word).map(|i| (i, q)))
        .min_by_key(|(i, _)| *i)
}

/// The characters of a `{:?}`-written string up to its closing quote, and
/// the bytes that string and its quote take.
fn debug_string_len(body: &str) -> (usize, usize) {
    let (mut count, mut escaped) = (0, false);
    for (i, c) in body.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => {
                escaped = true;
                count += 1;
            }
            (false, '"') => return (count, i + 1),
            _ => count += 1,
        }
    }
    (count, body.len())
}

/// serde lists every field it knows; the one meant, when there is one,
/// is the useful part.
fn unknown_field(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_owned();
    };
    let Some((key, known)) = rest.split_once("`, expected ") else {
        return message.to_owned();
    };
    let known = known.trim_start_matches("one of ");
    let known = known.split([',', ' ']).filter(|k| k.starts_with('`'));
    let known = known.map(|k| k.trim_matches('`'));
    match crate::suggest::closest(key, known) {
        Some(k) => format!("unknown field `{key}`; did you mean `{k}`?"),
        None => message.to_owned(),
    }
}

/// `expected struct Tls` and `expected u32` as what to write instead.
fn readable_expectation(message: &str) -> String {
    let Some((before, expected)) = message.split_once(", expected ") else {
        return message.to_owned();
    };
    let said = match expected {
        "struct Tls" => "a mapping {secretName} or {clusterIssuer} or {issuer}".to_owned(),
        e if e.starts_with("struct ") => "a mapping".to_owned(),
        "u8" => "a whole number from 0 to 255".to_owned(),
        "u16" => "a whole number from 0 to 65535".to_owned(),
        "u32" => "a whole number from 0 to 4294967295".to_owned(),
        "u64" | "usize" => "a whole number from 0".to_owned(),
        "i64" | "i32" => "a whole number".to_owned(),
        "f64" | "f32" => "a number".to_owned(),
        e => e.to_owned(),
    };
    format!("{before}, expected {said}")
}

#[cfg(test)]
mod hide_values_tests {
    use super::hide_values;

    #[test]
    fn a_refused_string_is_never_quoted() {
        let msg = "invalid type: string \"localhost:5432:*:postgres:hunter2\", expected a mapping";
        let want = "invalid type: a string of 33 characters, expected a mapping";
        assert_eq!(hide_values(msg), want);
        let escaped = r#"invalid value: string "a\"b\\c", expected x"#;
        assert_eq!(
            hide_values(escaped),
            "invalid value: a string of 5 characters, expected x"
        );
    }

    #[test]
    fn a_refused_number_is_never_quoted() {
        let msg = "invalid type: integer `31337`, expected a string";
        assert_eq!(
            hide_values(msg),
            "invalid type: a number, expected a string"
        );
        let msg = "invalid type: floating point `3.25`, expected a string";
        assert_eq!(
            hide_values(msg),
            "invalid type: a number, expected a string"
        );
    }

    #[test]
    fn an_unknown_variant_is_never_quoted() {
        let msg = "unknown variant `hunter2`, expected one of `s3`, `gcs`";
        let want = "unknown value of 7 characters, expected one of `s3`, `gcs`";
        assert_eq!(hide_values(msg), want);
    }
}
