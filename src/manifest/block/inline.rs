//! One line's inline value in the subset: a JSON string, a flow map or
//! list of plain words and JSON strings, a tagged number, or a plain
//! scalar resolved as serde_yaml resolves it.

use super::super::tree::{Mapping, Number, SmolStr, TaggedValue, Value};

use crate::yaml11::{plain_decimal, plainly_a_string};

/// Where a plain scalar of an inline value is: the value itself, an item
/// of a flow list, or a key or value of a flow map.
#[derive(Clone, Copy)]
pub(super) enum Inner<'t> {
    Whole,
    Item(usize),
    Key(&'t str),
    Value(&'t str),
}

/// An inline value: a JSON string, a flow map, a flow list, a tagged
/// number, or a plain scalar. Each plain scalar is shown to `plain_seen`
/// with where it is.
pub(super) fn scalar<'t>(
    text: &'t str,
    mut plain_seen: impl FnMut(Inner<'t>, &'t str),
) -> Option<Value> {
    match text.as_bytes().first()? {
        b'"' => match quoted(text)? {
            (s, "") => Some(Value::String(s)),
            _ => None,
        },
        b'!' => tagged(text),
        b'{' => flow_map(text, plain_seen),
        b'[' => flow_list(text, |i, word| plain_seen(Inner::Item(i), word)),
        _ => {
            let value = plain(text)?;
            plain_seen(Inner::Whole, text);
            Some(value)
        }
    }
}

/// A word that may stand unquoted in a flow collection or as a key:
/// nothing in it can end an item (`,`, `]`, `}`) or start a key (`: `).
fn word(text: &str) -> bool {
    let word_byte = |b: u8| b.is_ascii_alphanumeric() || b"-_./".contains(&b);
    !text.is_empty() && text.bytes().all(word_byte)
}

/// A key this reader takes: a word YAML 1.2 reads as a string.
pub(super) fn plain_key(key: &str) -> bool {
    word(key) && plainly_a_string(key)
}

/// One item of a flow collection, a JSON string or a plain word, and the
/// text after it: the `end` that closes the collection or `, `. A plain
/// word is shown to `plain_seen`.
fn flow_item<'t>(
    text: &'t str,
    end: char,
    plain_seen: impl FnOnce(&'t str),
) -> Option<(Value, &'t str)> {
    if text.starts_with('"') {
        let (s, after) = quoted(text)?;
        return Some((Value::String(s), after));
    }
    let stop = text.find([',', end])?;
    let item = &text[..stop];
    if !word(item) {
        return None;
    }
    let value = plain(item)?;
    plain_seen(item);
    Some((value, &text[stop..]))
}

/// `{}` or `{a: b, c: "d"}`: a flow map of plain word keys, and plain
/// words and JSON strings for values.
fn flow_map<'t>(text: &'t str, mut plain_seen: impl FnMut(Inner<'t>, &'t str)) -> Option<Value> {
    let mut rest = text.strip_prefix('{')?;
    let mut entries = Vec::new();
    if let Some(end) = rest.strip_prefix('}') {
        return end.is_empty().then_some(Value::Mapping(Mapping::new()));
    }
    loop {
        let colon = rest.find(": ")?;
        let key = &rest[..colon];
        if !plain_key(key) {
            return None;
        }
        plain_seen(Inner::Key(key), key);
        let seen = |word| plain_seen(Inner::Value(key), word);
        let (value, after) = flow_item(&rest[colon + 2..], '}', seen)?;
        rest = after;
        entries.push((Value::String(key.into()), value));
        if rest == "}" {
            return Mapping::from_entries(entries).map(Value::Mapping);
        }
        rest = rest.strip_prefix(", ")?;
    }
}

/// `!name 12`: what serde_yaml makes of a local tag on a number.
fn tagged(text: &str) -> Option<Value> {
    let (tag, number) = text.split_once(' ')?;
    let name = &tag[1..];
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let value = plain(number).filter(Value::is_u64)?;
    Some(Value::Tagged(Box::new(TaggedValue {
        tag: tag.to_owned(),
        value,
    })))
}

/// `[]` or `[a, "b"]`: a flow list of plain words and JSON strings.
fn flow_list<'t>(text: &'t str, mut plain_seen: impl FnMut(usize, &'t str)) -> Option<Value> {
    let mut rest = text.strip_prefix('[')?;
    let mut items = Vec::new();
    if let Some(end) = rest.strip_prefix(']') {
        return end.is_empty().then_some(Value::Sequence(items));
    }
    loop {
        let index = items.len();
        let (item, after) = flow_item(rest, ']', |word| plain_seen(index, word))?;
        rest = after;
        items.push(item);
        if rest == "]" {
            return Some(Value::Sequence(items));
        }
        rest = rest.strip_prefix(", ")?;
    }
}

/// A plain scalar resolved as serde_yaml resolves it (YAML 1.2's core
/// schema): the common shapes directly, anything unusual by serde_yaml.
fn plain(text: &str) -> Option<Value> {
    let indicator = |b: &u8| b"?:,[]{}#&*!|>'\"%@`".contains(b);
    let first = text.as_bytes().first()?;
    if indicator(first) || text.contains(": ") || text.contains(" #") {
        return None;
    }
    // `-x` and `--x` are plain scalars, `- x` a list item, `---` a
    // document.
    let dash = text == "-" || text.starts_with("- ") || text.starts_with("---");
    if dash || text.ends_with(':') || text.starts_with("...") {
        return None;
    }
    if plainly_a_string(text) {
        return Some(Value::String(text.into()));
    }
    match text {
        "null" | "~" => return Some(Value::Null),
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    if let Some(n) = plain_decimal(text) {
        return Some(Value::Number(Number::from(n)));
    }
    let value: Value = serde_yaml::from_str::<serde_yaml::Value>(text).ok()?.into();
    (!value.is_mapping() && !value.is_sequence() && !matches!(value, Value::Tagged(_)))
        .then_some(value)
}

/// A JSON string on one line, and the text after it. JSON's escapes are
/// all YAML escapes too; anything else is left to serde_yaml.
fn quoted(text: &str) -> Option<(SmolStr, &str)> {
    let body = text.strip_prefix('"')?;
    // Most strings hold no escape: taken as they are, short ones need no
    // allocation.
    let end = body.find(['"', '\\'])?;
    if body.as_bytes()[end] == b'"' {
        return Some((SmolStr::new(&body[..end]), &body[end + 1..]));
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out.into(), &body[i + 1..])),
            '\\' => out.push(escape(&mut chars)?),
            c => out.push(c),
        }
    }
    None
}

fn escape(chars: &mut std::str::CharIndices) -> Option<char> {
    Some(match chars.next()?.1 {
        '"' => '"',
        '\\' => '\\',
        '/' => '/',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'u' => {
            let hex: String = (0..4)
                .map(|_| chars.next().map(|(_, c)| c))
                .collect::<Option<_>>()?;
            char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
        }
        _ => return None,
    })
}
