//! Kubernetes reads YAML with a YAML 1.1 parser (go-yaml v2 under
//! sigs.k8s.io/yaml); mlk and most tools read YAML 1.2. A plain (unquoted)
//! scalar that the two read differently, such as `yes`, `on`, `n`, `0777`
//! or `1_000`, means one thing in review and another in the cluster. This
//! finds each one, with its place in its document.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use crate::field_path::Path;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    Null,
    Bool(bool),
    Int(i64),
    Float,
    Str,
}

impl Reading {
    fn describe(self) -> String {
        match self {
            Reading::Null => "null".into(),
            Reading::Bool(b) => format!("the bool {b}"),
            Reading::Int(i) => format!("the integer {i}"),
            Reading::Float => "a number".into(),
            Reading::Str => "a string".into(),
        }
    }
}

/// A plain scalar read differently by Kubernetes than by YAML 1.2.
#[derive(Debug, Clone, PartialEq)]
pub struct Trap {
    pub path: String,
    pub message: String,
}

const TRUE: [&str; 11] = [
    "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
];
const FALSE: [&str; 11] = [
    "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
];

/// How go-yaml v2 resolves a plain scalar.
pub fn kubernetes_reading(s: &str) -> Reading {
    if TRUE.contains(&s) {
        return Reading::Bool(true);
    }
    if FALSE.contains(&s) {
        return Reading::Bool(false);
    }
    if matches!(s, "" | "~" | "null" | "Null" | "NULL") {
        return Reading::Null;
    }
    if !s.starts_with(|c: char| "+-.0123456789".contains(c)) {
        return Reading::Str;
    }
    if let Some(i) = go_parse_int(&s.replace('_', "")) {
        return Reading::Int(i);
    }
    if is_go_yaml_float(s) {
        return Reading::Float;
    }
    Reading::Str
}

/// Go's `strconv.ParseInt(s, 0, 64)`: a sign, then 0x, 0o, 0b, a leading
/// 0 for octal, or decimal.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, or .inf/.nan.
fn is_go_yaml_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if [".inf", ".Inf", ".INF"].contains(&body) || [".nan", ".NaN", ".NAN"].contains(&s) {
        return true;
    }
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        None => digits(mantissa),
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
    };
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exp_ok
}

/// How a YAML 1.2 reader (serde_yaml, as mlk itself) resolves it.
fn yaml12_reading(s: &str) -> Reading {
    if plainly_a_string(s) {
        return Reading::Str;
    }
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Reading::Null,
        "true" | "True" | "TRUE" => return Reading::Bool(true),
        "false" | "False" | "FALSE" => return Reading::Bool(false),
        _ => {}
    }
    if let Some(n) = plain_decimal(s) {
        // Above i64, serde_yaml keeps a u64 that `as_i64` does not give.
        return i64::try_from(n).map_or(Reading::Float, Reading::Int);
    }
    match serde_yaml::from_str::<serde_yaml::Value>(s) {
        Ok(serde_yaml::Value::Null) => Reading::Null,
        Ok(serde_yaml::Value::Bool(b)) => Reading::Bool(b),
        Ok(serde_yaml::Value::Number(n)) => n.as_i64().map_or(Reading::Float, Reading::Int),
        _ => Reading::Str,
    }
}

/// Ports, counts, seconds: digits without a leading zero, small enough
/// for a u64, which a YAML 1.2 reader takes for that number.
pub fn plain_decimal(s: &str) -> Option<u64> {
    let canonical = s == "0" || !s.starts_with('0');
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (canonical && digits && s.len() <= 19).then(|| s.parse().ok())?
}

/// Most scalars are names, images and paths: a YAML 1.2 core-schema
/// reader makes a string of anything that starts with a letter or `/`,
/// but for its null and bool words. Asking serde_yaml about each one
/// would parse a document per scalar. Quantities (`500m`, `10Gi`) and
/// flags (`-c`, `--host`) are strings too.
pub fn plainly_a_string(s: &str) -> bool {
    const WORDS: [&str; 9] = [
        "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
    ];
    let word = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/') && !WORDS.contains(&s);
    word || quantity(s) || flag(s)
}

/// Digits, then letters that no number reading takes: not an exponent
/// (`1e3`) and not a base prefix (`0x1f`, `0o7`, `0b1`).
fn quantity(s: &str) -> bool {
    let unit = s.trim_start_matches(|c: char| c.is_ascii_digit());
    unit.len() < s.len()
        && !unit.is_empty()
        && unit.bytes().all(|b| b.is_ascii_alphabetic())
        && !unit.starts_with(['e', 'E', 'x', 'X', 'o', 'O', 'b', 'B'])
}

/// A dash and a word of letters and dashes: no sign of a number (`-inf`
/// reads as infinite, which serde_yaml leaves a string).
fn flag(s: &str) -> bool {
    let rest = s.trim_start_matches('-');
    (1..=2).contains(&(s.len() - rest.len()))
        && rest.starts_with(|c: char| c.is_ascii_alphabetic())
        && rest.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
}

/// Why Kubernetes reads this plain scalar as another type, if it does.
pub fn trap(s: &str) -> Option<String> {
    let (k8s, other) = (kubernetes_reading(s), yaml12_reading(s));
    (k8s != other).then(|| {
        format!(
            "plain {s:?} is {} to Kubernetes (YAML 1.1) but {} to YAML 1.2 tools; quote it",
            k8s.describe(),
            other.describe()
        )
    })
}

/// Where the parser is: a map (and the key whose value comes next) or a
/// list (and the index of the next item). A path is written out only for
/// a trap: most documents have none.
enum Frame {
    Map { key: Option<String> },
    Seq { next: usize },
}

/// The traps of each document in `text`, in order, empty documents
/// included. Fails only on text that is not YAML.
pub fn plain_traps(text: &str) -> Result<Vec<Vec<Trap>>, String> {
    let mut parser = Parser::new_from_str(text);
    let mut docs: Vec<Vec<Trap>> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        let (event, _) = parser.next_token().map_err(|e| e.to_string())?;
        match event {
            Event::StreamEnd => return Ok(docs),
            Event::DocumentStart => docs.push(Vec::new()),
            Event::Scalar(value, style, _, tag) => {
                let is_key = matches!(stack.last(), Some(Frame::Map { key: None }));
                let plain = style == TScalarStyle::Plain && tag.is_none();
                if let (true, Some(msg), Some(doc)) = (plain, trap(&value), docs.last_mut()) {
                    let message = if is_key { format!("key: {msg}") } else { msg };
                    let path = path_of(&stack, is_key.then_some(value.as_str()));
                    doc.push(Trap { path, message });
                }
                place(&mut stack, Some(value));
            }
            Event::MappingStart(..) => {
                place(&mut stack, None);
                stack.push(Frame::Map { key: None });
            }
            Event::SequenceStart(..) => {
                place(&mut stack, None);
                stack.push(Frame::Seq { next: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                finish(&mut stack);
            }
            Event::Alias(_) => place(&mut stack, None),
            _ => {}
        }
    }
}

/// The path of the node that starts now: a key is its own path.
fn path_of(stack: &[Frame], key: Option<&str>) -> String {
    let mut path = Path::root();
    let mut frames = stack.iter().peekable();
    while let Some(frame) = frames.next() {
        let last = frames.peek().is_none();
        path = match frame {
            Frame::Map { key: Some(k) } => path.key(k),
            Frame::Map { key: None } if last => path.key(key.unwrap_or("?")),
            Frame::Map { key: None } => path.key("?"),
            Frame::Seq { next } if last => path.index(*next),
            Frame::Seq { next } => path.index(next - 1),
        };
    }
    path.to_string()
}

/// A node starts: a key is remembered, a list counts an item, and a
/// scalar value completes its map entry.
fn place(stack: &mut [Frame], scalar: Option<String>) {
    match stack.last_mut() {
        None => {}
        Some(Frame::Seq { next }) => *next += 1,
        Some(Frame::Map { key: key @ None }) => {
            *key = Some(scalar.unwrap_or_else(|| "?".into()));
            return;
        }
        Some(Frame::Map { key: Some(_) }) => {}
    }
    if scalar.is_some() {
        finish(stack);
    }
}

/// A value is complete: its map expects the next key.
fn finish(stack: &mut [Frame]) {
    if let Some(Frame::Map { key }) = stack.last_mut() {
        *key = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_of_yaml_1_1() {
        assert_eq!(kubernetes_reading("yes"), Reading::Bool(true));
        assert_eq!(kubernetes_reading("n"), Reading::Bool(false));
        assert_eq!(kubernetes_reading("0777"), Reading::Int(511));
        assert_eq!(kubernetes_reading("1_000"), Reading::Int(1000));
        assert_eq!(kubernetes_reading("08"), Reading::Float);
        assert_eq!(kubernetes_reading("1.5Gi"), Reading::Str);
        assert_eq!(kubernetes_reading("v2"), Reading::Str);
        for same in ["true", "80", "0x1F", "1e3", "~", "http", "500m"] {
            assert!(trap(same).is_none(), "{same}");
        }
    }

    /// The shortcut never says "string" where serde_yaml would not.
    #[test]
    fn plain_strings_agree_with_serde_yaml() {
        let words = [
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "n",
            "nan",
            "inf",
            "Infinity",
            "NaN",
            "e5",
            "x1",
            "true",
            "True",
            "TRUE",
            "false",
            "null",
            "Null",
            "NULL",
            "abc: d",
            "a #b",
            "/tmp",
            "a\nb",
            "mlflow",
            "s3://bucket",
            "v2",
        ];
        for w in words {
            let by_serde = serde_yaml::from_str::<serde_yaml::Value>(w)
                .map(|v| v.is_string() || v.is_mapping())
                .unwrap_or(true);
            if plainly_a_string(w) {
                assert!(by_serde, "{w:?}");
            }
        }
        assert!(!plainly_a_string("true") && !plainly_a_string(".5"));
    }

    /// Quantities and flags: every short string the shortcut takes for
    /// one is a string to serde_yaml, and the ones that matter are taken.
    #[test]
    fn quantities_and_flags_are_strings() {
        let alphabet: Vec<char> = "01e9ExXoObBinfaNIGMmk-.+_".chars().collect();
        let (mut words, mut last) = (Vec::new(), vec![String::new()]);
        for _ in 0..4 {
            last = last
                .iter()
                .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                .collect();
            words.extend(last.iter().cloned());
        }
        let mut taken = 0;
        for w in words.iter().filter(|w| quantity(w) || flag(w)) {
            let v = serde_yaml::from_str::<serde_yaml::Value>(w).unwrap();
            assert!(v.is_string(), "{w:?} reads as {v:?}");
            taken += 1;
        }
        assert!(taken > 1000, "{taken}");
        for w in ["500m", "10Gi", "128Mi", "1k", "-c", "--host", "-inf", "--"] {
            assert_eq!(quantity(w) || flag(w), w != "--", "{w}");
        }
        for w in [
            "1e3", "0x1f", "0o7", "0b1", "1", "-1", "-.inf", "1.5Gi", "---x",
        ] {
            assert!(!quantity(w) && !flag(w), "{w}");
        }
    }

    /// The shortcuts for null, bool and decimal read as serde_yaml does.
    #[test]
    fn short_readings_agree_with_serde_yaml() {
        for s in [
            "~",
            "null",
            "NULL",
            "True",
            "FALSE",
            "0",
            "7",
            "5432",
            "007",
            "0x1F",
            "-1",
            "+1",
            "1_000",
            "123456789012345678",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "1e3",
            "0.5",
        ] {
            let by_serde = match serde_yaml::from_str::<serde_yaml::Value>(s).unwrap() {
                serde_yaml::Value::Null => Reading::Null,
                serde_yaml::Value::Bool(b) => Reading::Bool(b),
                serde_yaml::Value::Number(n) => n.as_i64().map_or(Reading::Float, Reading::Int),
                _ => Reading::Str,
            };
            assert_eq!(yaml12_reading(s), by_serde, "{s:?}");
        }
    }

    #[test]
    fn traps_are_found_with_their_paths() {
        let text = "a: {b: yes, 'c': on}\nd: [x, 0777]\ne: \"yes\"\n---\nn: 1_000\n---\n";
        let traps = plain_traps(text).unwrap();
        assert_eq!(traps.len(), 3);
        let paths: Vec<&str> = traps[0].iter().map(|t| t.path.as_str()).collect();
        assert_eq!(paths, ["a.b", "a.c", "d[1]"]);
        assert!(traps[0][0].message.contains("the bool true"));
        assert_eq!(traps[1][0].path, "n");
        assert!(traps[2].is_empty());
        let keys = plain_traps("on: push\n").unwrap();
        assert!(keys[0][0].message.starts_with("key: "), "{:?}", keys);
    }
}
