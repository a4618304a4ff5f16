//! A YAML writer that Kubernetes reads back exactly. serde_yaml writes
//! `yes`, `on`, `n` unquoted, which Kubernetes' YAML 1.1 parser reads as
//! booleans; this writer quotes every string that either YAML version
//! could read as anything but that string.

use std::fmt::Write;

use crate::manifest::{Mapping, Value};

use crate::manifest::Document;

pub fn to_yaml_stream(docs: &[Document]) -> String {
    let mut out = String::new();
    for d in docs {
        out.push_str("---\n");
        write_document(&mut out, &d.value);
    }
    out
}

pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    write_document(&mut out, v);
    out
}

fn write_document(out: &mut String, v: &Value) {
    match v {
        Value::Mapping(m) if !m.is_empty() => write_mapping(out, m, 0, false),
        Value::Sequence(s) if !s.is_empty() => write_sequence(out, s, 0, false),
        other => {
            inline(out, other);
            out.push('\n');
        }
    }
}

fn pad(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    match SPACES.get(..n) {
        Some(spaces) => out.push_str(spaces),
        None => out.extend(std::iter::repeat_n(' ', n)),
    }
}

/// `first_inline`: the first line follows a `- ` already written.
fn write_mapping(out: &mut String, m: &Mapping, indent: usize, first_inline: bool) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !first_inline {
            pad(out, indent);
        }
        inline(out, k);
        out.push(':');
        write_value(out, v, indent);
    }
}

fn write_sequence(out: &mut String, s: &[Value], indent: usize, first_inline: bool) {
    for (i, v) in s.iter().enumerate() {
        if i > 0 || !first_inline {
            pad(out, indent);
        }
        out.push('-');
        match v {
            Value::Mapping(m) if !m.is_empty() => {
                out.push(' ');
                write_mapping(out, m, indent + 2, true);
            }
            Value::Sequence(inner) if !inner.is_empty() => {
                out.push(' ');
                write_sequence(out, inner, indent + 2, true);
            }
            other => write_value(out, other, indent),
        }
    }
}

/// Writes what follows `key:` or `-`: a nested block, a literal block
/// for multi-line text, or a scalar on the same line.
fn write_value(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Mapping(m) if !m.is_empty() => {
            out.push('\n');
            write_mapping(out, m, indent + 2, false);
        }
        Value::Sequence(s) if !s.is_empty() => {
            out.push('\n');
            write_sequence(out, s, indent + 2, false);
        }
        Value::String(s) if literal_block_fits(s) => {
            out.push_str(if s.ends_with('\n') { " |\n" } else { " |-\n" });
            for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
                if !line.is_empty() {
                    pad(out, indent + 2);
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        other => {
            out.push(' ');
            inline(out, other);
            out.push('\n');
        }
    }
}

fn inline(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) if is_plain_safe(s) => out.push_str(s),
        Value::String(s) => double_quoted(out, s),
        Value::Sequence(s) if s.is_empty() => out.push_str("[]"),
        Value::Mapping(m) if m.is_empty() => out.push_str("{}"),
        Value::Tagged(t) => inline(out, &t.value),
        Value::Sequence(_) | Value::Mapping(_) => unreachable!("non-empty collections are blocks"),
    }
}

/// Words YAML 1.1 or 1.2 read as booleans or null, in any case; none is
/// longer than five bytes.
const RESERVED: [&str; 12] = [
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "=", "<<",
];

const ALPHA: u8 = 1;
const DIGIT: u8 = 2;
const COLON: u8 = 4;
const MARK: u8 = 8;
/// What each byte of a plain scalar is: a letter, a digit, a colon, one
/// of `_./-`, or (0) a byte that makes it unsafe.
const CLASS: [u8; 256] = {
    let mut class = [0; 256];
    let mut b = 0;
    while b < 256 {
        class[b] = match b as u8 {
            b'a'..=b'z' | b'A'..=b'Z' => ALPHA,
            b'0'..=b'9' => DIGIT,
            b':' => COLON,
            b'_' | b'.' | b'/' | b'-' => MARK,
            _ => 0,
        };
        b += 1;
    }
    class
};

/// Plain only when no YAML reader could take it for anything else:
/// a small alphabet, no reserved word, nothing number-like. One pass over
/// the bytes (a second only for a leading digit), as every string of
/// every object comes through here.
fn is_plain_safe(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        return false;
    };
    let mut seen = 0;
    for &c in b {
        match CLASS[usize::from(c)] {
            0 => return false,
            class => seen |= class,
        }
    }
    let alpha = seen & ALPHA != 0;
    // Only hex digits and `xXoO_.+-:`: a number in some YAML reading.
    let number_like = || {
        b.iter()
            .all(|c| c.is_ascii_hexdigit() || b"xXoO_.+-:".contains(c))
    };
    // `--host`, `-c`: a dash followed by a letter or dash is no YAML indicator.
    let flag =
        first == b'-' && matches!(b.get(1), Some(c) if c.is_ascii_alphabetic() || *c == b'-');
    (first.is_ascii_alphanumeric() || first == b'/' || first == b'_' || flag)
        && seen & (ALPHA | DIGIT) != 0
        && b[b.len() - 1] != b':'
        && (seen & COLON == 0 || alpha)
        && !(b.len() <= 5 && RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)))
        && !(first.is_ascii_digit() && number_like())
}

/// A literal block (`|`) keeps multi-line text readable; it is used only
/// where it round-trips exactly.
fn literal_block_fits(s: &str) -> bool {
    let body = s.strip_suffix('\n').unwrap_or(s);
    body.contains('\n')
        && !body.ends_with('\n')
        && !body.starts_with([' ', '\n'])
        && body.split('\n').all(|l| !l.ends_with([' ', '\t']))
        && !s.chars().any(|c| needs_escape(c) && c != '\n')
}

/// Characters a YAML 1.1 reader could take for a line break or drop.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

fn double_quoted(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &str) {
        let v = Value::Mapping(Mapping::from_iter([(Value::from("k"), Value::from(s))]));
        let text = to_yaml(&v);
        let back: Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{s:?}: {e}\n{text}"));
        assert_eq!(back, v, "{s:?} became\n{text}");
    }

    #[test]
    fn strings_come_back_as_written() {
        for s in [
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "n",
            "~",
            "null",
            "true",
            "1_000",
            "0777",
            "0x1F",
            "1e3",
            "1:20",
            ".5",
            "-",
            "- a",
            "a: b",
            "#x",
            "a #b",
            "{{ x }}",
            "[a]",
            "{a: b}",
            "'q'",
            "\"q\"",
            "",
            " lead",
            "trail ",
            "multi\nline\n",
            "multi\nline",
            "x\n\n",
            "\n",
            "\u{2028}",
            "tab\t",
            "\u{85}",
            "ünï",
            "😀",
            "http://a:9000",
            "500m",
            "10Gi",
            "2",
            "=",
            "<<",
            "@a",
            "%a",
            "!a",
            "&a",
            "*a",
            "|",
            ">",
            "a\r\nb",
            "line\n  indented\n",
            "\u{feff}bom",
            "--host",
            "-c",
            "--",
            "-1",
            "-.inf",
            "--a: b",
        ] {
            round_trip(s);
        }
    }

    #[test]
    fn yaml_1_1_words_are_quoted() {
        for s in ["yes", "on", "n", "Off", "1_000", "0777"] {
            assert!(!is_plain_safe(s), "{s} would be read as a non-string");
        }
        assert!(is_plain_safe("ghcr.io/mlflow/mlflow:v3.17.2-full"));
        assert!(is_plain_safe("500m"));
    }

    /// Every reserved word is quoted in every mix of cases.
    #[test]
    fn reserved_words_are_quoted_in_any_case() {
        let mut tried = 0;
        for word in RESERVED {
            for mask in 0..1u32 << word.len() {
                let cased: String = word
                    .chars()
                    .enumerate()
                    .map(|(i, c)| match mask >> i & 1 {
                        1 => c.to_ascii_uppercase(),
                        _ => c,
                    })
                    .collect();
                assert!(!is_plain_safe(&cased), "{cased}");
                tried += 1;
            }
        }
        assert_eq!(tried, 100, "every case of every word");
    }
}
