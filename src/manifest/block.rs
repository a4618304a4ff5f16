//! A reader for the narrow YAML that mlk's own templates and its writer
//! (`emit`) produce, and that specs and profiles are mostly written in:
//! block mappings and lists, one node per line, plain
//! scalars, JSON strings (which YAML reads as double-quoted scalars), `{}`,
//! flow lists and flow maps of plain words and JSON strings, literal
//! block scalars (`|`, `|-`), folded ones of plain lines (`>`, `>-`), and
//! a local tag on a number (`!mlk 3`). It gives exactly
//! the values serde_yaml would, and the same YAML 1.1 traps as
//! `yaml11::plain_traps`, and gives up (`None`) on anything else, which is
//! then read by serde_yaml; so it never has to be right about more YAML
//! than it accepts. Debug builds read every text both ways and compare.
//!
//! It exists for speed: libyaml's event machinery costs about ten times
//! as much per line, and a served model is a dozen lines of this.

use serde_yaml::value::{Tag, TaggedValue};
use serde_yaml::{Mapping, Number, Value};

use crate::bounds::MAX_DEPTH;
use crate::field_path::{Step, Steps};
use crate::yaml11::{self, Trap, plain_decimal, plainly_a_string};

/// The documents of `text` that hold something, or `None` where the text
/// steps outside what this reader knows.
pub fn read(text: &str) -> Option<Vec<Value>> {
    let docs = read_documents(text, false)?;
    Some(docs.into_iter().map(|(value, _)| value).collect())
}

/// The same, each document with the plain scalars in it that Kubernetes
/// (YAML 1.1) reads as another type, as `yaml11::plain_traps` finds them.
pub fn read_with_traps(text: &str) -> Option<Vec<(Value, Vec<Trap>)>> {
    read_documents(text, true)
}

fn read_documents(text: &str, traps: bool) -> Option<Vec<(Value, Vec<Trap>)>> {
    if !text
        .bytes()
        .all(|b| b == b'\n' || (b' '..=b'~').contains(&b))
    {
        return None;
    }
    let mut docs = Vec::new();
    let mut doc = Lines::default();
    let mut raws = text.split('\n').peekable();
    while let Some(raw) = raws.next() {
        if raw.starts_with("---") || raw.starts_with("...") {
            if raw != "---" {
                return None;
            }
            docs.extend(document(std::mem::take(&mut doc), traps)?);
            continue;
        }
        let text = raw.trim_start_matches(' ');
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if text.ends_with(' ') {
            return None;
        }
        let indent = raw.len() - text.len();
        let block = match block_header(text) {
            Some(header) => Some(doc.block(owner_column(indent, text), header, &mut raws)?),
            None => None,
        };
        doc.lines.push(Line {
            indent,
            text,
            block,
        });
    }
    docs.extend(document(doc, traps)?);
    Some(docs)
}

/// One line of a document: its indentation, the rest, and the block
/// scalar (literal or folded) it introduces, if any.
#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
    block: Option<usize>,
}

/// A document's lines, and the contents of its block scalars.
#[derive(Default)]
struct Lines<'a> {
    lines: Vec<Line<'a>>,
    blocks: Vec<String>,
}

/// A block scalar's header: literal (`|`) or folded (`>`), and how it
/// ends: without `-` it keeps one line break, with `-` none.
#[derive(Clone, Copy)]
struct Header {
    folded: bool,
    strip: bool,
}

/// A line that ends in a block scalar's header. Whether the header is in
/// a value's place is for the reader to find; the lines after it are its
/// content either way.
fn block_header(text: &str) -> Option<Header> {
    let (head, strip) = match text.strip_suffix('-') {
        Some(head) => (head, true),
        None => (text, false),
    };
    match (head.ends_with(" |"), head.ends_with(" >")) {
        (true, _) => Some(Header {
            folded: false,
            strip,
        }),
        (_, true) => Some(Header {
            folded: true,
            strip,
        }),
        _ => None,
    }
}

/// The column of the block collection the scalar on this line belongs
/// to: its content must be indented deeper. That is the last `- ` for a
/// list item (`- |`), the key's own column for a key (`- key: |`).
fn owner_column(indent: usize, text: &str) -> usize {
    let (mut column, mut rest, mut dash) = (indent, text, indent);
    while let Some(after) = rest.strip_prefix("- ") {
        let after = after.trim_start_matches(' ');
        dash = column;
        column += rest.len() - after.len();
        rest = after;
    }
    match rest.starts_with(['|', '>']) {
        true => dash,
        false => column,
    }
}

impl<'a> Lines<'a> {
    /// Takes a block scalar's content from `raws`: every line indented at
    /// least as deep as its first, and the empty lines among and after
    /// them. Gives up on what only a full reader gets right: leading empty
    /// lines, lines of spaces, content not deeper than its owner, a next
    /// line between the two indentations, and a folded scalar with empty
    /// or more-indented lines (which fold differently).
    fn block(
        &mut self,
        owner: usize,
        header: Header,
        raws: &mut std::iter::Peekable<std::str::Split<'a, char>>,
    ) -> Option<usize> {
        let mut content: Vec<&str> = Vec::new();
        let mut indent = None;
        while let Some(raw) = raws.peek() {
            let text = raw.trim_start_matches(' ');
            let n = raw.len() - text.len();
            if text.is_empty() {
                if n > 0 || indent.is_none() {
                    return None;
                }
                content.push("");
            } else if n < *indent.get_or_insert(n) {
                break;
            } else if text.ends_with(' ') {
                return None;
            } else {
                content.push(&raw[indent?..]);
            }
            raws.next();
        }
        if indent? <= owner {
            return None;
        }
        if let Some(next) = raws.peek() {
            let text = next.trim_start_matches(' ');
            if !text.is_empty() && next.len() - text.len() > owner {
                return None;
            }
        }
        while content.last() == Some(&"") {
            content.pop();
        }
        let folded = |l: &&str| l.is_empty() || l.starts_with(' ');
        if header.folded && content.iter().any(folded) {
            return None;
        }
        let mut value = content.join(if header.folded { " " } else { "\n" });
        if !header.strip {
            value.push('\n');
        }
        self.blocks.push(value);
        Some(self.blocks.len() - 1)
    }
}

/// `Some(None)` for a document without content.
fn document(doc: Lines, traps: bool) -> Option<Option<(Value, Vec<Trap>)>> {
    if doc.lines.is_empty() {
        return Some(None);
    }
    let mut reader = Reader {
        lines: doc.lines,
        blocks: doc.blocks,
        at: 0,
        traps: traps.then(Traps::default),
    };
    let first = reader.lines[0].indent;
    let value = reader.node(first, 0)?;
    let found = reader.traps.map(|t| t.found).unwrap_or_default();
    (reader.at == reader.lines.len()).then_some(Some((value, found)))
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    blocks: Vec<String>,
    at: usize,
    /// Kept only when asked for.
    traps: Option<Traps<'a>>,
}

/// Where the reader is, and the traps it has found.
#[derive(Default)]
struct Traps<'a> {
    path: Steps<'a>,
    found: Vec<Trap>,
}

impl Traps<'_> {
    /// A plain scalar at the current path, `more` steps further.
    fn check(&mut self, plain: &str, more: &[Step], is_key: bool) {
        let Some(message) = yaml11::trap(plain) else {
            return;
        };
        let message = match is_key {
            true => format!("key: {message}"),
            false => message,
        };
        let path = self.path.path(more).to_string();
        self.found.push(Trap { path, message });
    }
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.at).copied()
    }

    /// The block node whose first line is the current one, at `indent`.
    fn node(&mut self, indent: usize, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let line = self.peek()?;
        if is_item(line.text) {
            self.sequence(indent, depth).map(Value::Sequence)
        } else {
            self.mapping(indent, depth).map(Value::Mapping)
        }
    }

    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Mapping> {
        let mut map = Mapping::new();
        while let Some(line) = self.peek().filter(|l| l.indent == indent) {
            if is_item(line.text) {
                return None;
            }
            let (key, rest) = entry(line.text)?;
            self.at += 1;
            if let Some(t) = &mut self.traps {
                t.check(key, &[Step::Key(key)], true);
            }
            let value = match rest {
                "" => self.under(Step::Key(key), |r| r.nested(indent, depth, true))?,
                inline => self.inline(line, inline, Step::Key(key))?,
            };
            if map.insert(Value::String(key.to_owned()), value).is_some() {
                return None;
            }
        }
        self.ends_block(indent).then_some(map)
    }

    fn sequence(&mut self, indent: usize, depth: usize) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        while let Some(line) = self
            .peek()
            .filter(|l| l.indent == indent && is_item(l.text))
        {
            let step = Step::Index(items.len());
            let rest = line.text[1..].trim_start_matches(' ');
            if rest.is_empty() {
                self.at += 1;
                items.push(self.under(step, |r| r.nested(indent, depth, false))?);
                continue;
            }
            if is_item(rest) || entry(rest).is_some() {
                // A compact node (`- name: x`) starts at its own column;
                // the lines after it line up with that column.
                let column = indent + (line.text.len() - rest.len());
                self.lines[self.at] = Line {
                    indent: column,
                    text: rest,
                    block: line.block,
                };
                items.push(self.under(step, |r| r.node(column, depth + 1))?);
                continue;
            }
            self.at += 1;
            items.push(self.inline(line, rest, step)?);
        }
        // A list at its key's own indentation ends at the next key.
        let ended = self
            .peek()
            .is_none_or(|l| l.indent <= indent && !is_item(l.text));
        (ended || self.ends_block(indent)).then_some(items)
    }

    /// `read` one step further down, for the traps' paths.
    fn under<T>(&mut self, step: Step<'a>, read: impl FnOnce(&mut Self) -> T) -> T {
        if let Some(t) = &mut self.traps {
            t.path.push(step);
        }
        let out = read(self);
        if let Some(t) = &mut self.traps {
            t.path.pop();
        }
        out
    }

    /// A value on its key's or item's own line: a scalar, or the header
    /// of the block scalar that the line introduces.
    fn inline(&mut self, line: Line<'a>, text: &'a str, step: Step<'a>) -> Option<Value> {
        if let Some(b) = line.block {
            let header = matches!(text, "|" | "|-" | ">" | ">-");
            return header.then(|| Value::String(std::mem::take(&mut self.blocks[b])));
        }
        let traps = &mut self.traps;
        scalar(text, |inner, plain| {
            if let Some(t) = traps {
                match inner {
                    Inner::Whole => t.check(plain, &[step], false),
                    Inner::Item(i) => t.check(plain, &[step, Step::Index(i)], false),
                    Inner::Key(k) => t.check(plain, &[step, Step::Key(k)], true),
                    Inner::Value(k) => t.check(plain, &[step, Step::Key(k)], false),
                }
            }
        })
    }

    /// The value of a key or an item with nothing after it on its line:
    /// the lines indented deeper, a list at the key's own indentation, or
    /// null.
    fn nested(&mut self, indent: usize, depth: usize, under_key: bool) -> Option<Value> {
        match self.peek() {
            Some(next) if next.indent > indent => self.node(next.indent, depth + 1),
            Some(next) if under_key && next.indent == indent && is_item(next.text) => {
                self.sequence(indent, depth + 1).map(Value::Sequence)
            }
            _ => Some(Value::Null),
        }
    }

    /// A block ends where a line is indented less than it; a line indented
    /// more, where no node may start, is beyond this reader.
    fn ends_block(&self, indent: usize) -> bool {
        self.peek().is_none_or(|l| l.indent < indent)
    }
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// `key: rest` or `key:`, for a key of plain word characters.
fn entry(text: &str) -> Option<(&str, &str)> {
    let colon = text.find(':')?;
    let (key, rest) = (&text[..colon], &text[colon + 1..]);
    let rest = match rest.strip_prefix(' ') {
        Some(r) => r.trim_start_matches(' '),
        None if rest.is_empty() => rest,
        None => return None,
    };
    let word = |c: char| c.is_ascii_alphanumeric() || "-_./".contains(c);
    (plainly_a_string(key) && key.chars().all(word)).then_some((key, rest))
}

/// Where a plain scalar of an inline value is: the value itself, an item
/// of a flow list, or a key or value of a flow map.
#[derive(Clone, Copy)]
enum Inner<'t> {
    Whole,
    Item(usize),
    Key(&'t str),
    Value(&'t str),
}

/// An inline value: a JSON string, a flow map, a flow list, a tagged
/// number, or a plain scalar. Each plain scalar is shown to `plain_seen`
/// with where it is.
fn scalar<'t>(text: &'t str, mut plain_seen: impl FnMut(Inner<'t>, &'t str)) -> Option<Value> {
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

/// A word a flow collection may hold unquoted: nothing in it can end the
/// item (`,`, `]`, `}`) or start a key (`: `).
fn flow_word(word: &str) -> bool {
    let plain_word = |b: u8| b.is_ascii_alphanumeric() || b"-_./".contains(&b);
    !word.is_empty() && word.bytes().all(plain_word)
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
    let word = &text[..stop];
    if !flow_word(word) {
        return None;
    }
    let value = plain(word)?;
    plain_seen(word);
    Some((value, &text[stop..]))
}

/// `{}` or `{a: b, c: "d"}`: a flow map of plain word keys, and plain
/// words and JSON strings for values.
fn flow_map<'t>(text: &'t str, mut plain_seen: impl FnMut(Inner<'t>, &'t str)) -> Option<Value> {
    let mut rest = text.strip_prefix('{')?;
    let mut map = Mapping::new();
    if let Some(end) = rest.strip_prefix('}') {
        return end.is_empty().then_some(Value::Mapping(map));
    }
    loop {
        let colon = rest.find(": ")?;
        let key = &rest[..colon];
        if !flow_word(key) || !plainly_a_string(key) {
            return None;
        }
        plain_seen(Inner::Key(key), key);
        let seen = |word| plain_seen(Inner::Value(key), word);
        let (value, after) = flow_item(&rest[colon + 2..], '}', seen)?;
        rest = after;
        if map.insert(Value::String(key.to_owned()), value).is_some() {
            return None;
        }
        if rest == "}" {
            return Some(Value::Mapping(map));
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
        tag: Tag::new(tag),
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
        return Some(Value::String(text.to_owned()));
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
    let value: Value = serde_yaml::from_str(text).ok()?;
    (!value.is_mapping() && !value.is_sequence() && !matches!(value, Value::Tagged(_)))
        .then_some(value)
}

/// A JSON string on one line, and the text after it. JSON's escapes are
/// all YAML escapes too; anything else is left to serde_yaml.
fn quoted(text: &str) -> Option<(String, &str)> {
    let body = text.strip_prefix('"')?;
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &body[i + 1..])),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn serde(text: &str) -> Option<Vec<Value>> {
        let docs = serde_yaml::Deserializer::from_str(text).map(serde::Deserialize::deserialize);
        let docs: Result<Vec<Value>, _> = docs.collect();
        Some(docs.ok()?.into_iter().filter(|v| !v.is_null()).collect())
    }

    /// Every shape the templates write reads as serde_yaml reads it.
    #[test]
    fn reads_what_serde_yaml_reads() {
        let text = r#"---
a: 1
b:
  c: "x\"y\\z\/\u00e9\n\u0085"
  d: [ReadWriteOnce]
  d2: [/bin/sh, -c, "echo \"$A\"", -1, 2]
  e: {}
  f: []
  g: !mlk 3
list:
  - name: tmp
    mountPath: /tmp
  - plain words here
  -
    nested: true
  - - inner
    - 0
indentless:
- a
- b: c
  d: ~
empty:
zero: 0
float: 0.5
quoted-key-like: "a: b # c"
script: |
  #!/bin/sh
  # a comment in the script

    indented more
  last: line
flow: {name: m1, uri: "s3://b/1/m", n: 3, y: yes, on: -1}
flows:
  - {name: a, registeredModel: b}
  - {}
stripped: |-
  no break at the end
description: >-
  One replica of everything, folded
  into one line: a laptop cluster.
folded: >
  kept break


after:
  - |
    item
  - key: |-
      under a compact key
    next: 1
# a comment
---

---
  deep: yes
"#;
        assert_eq!(read(text), serde(text));
        assert!(read(text).is_some());
    }

    /// Anything past the subset is left to serde_yaml, never misread;
    /// and whatever serde_yaml refuses, it refuses too.
    #[test]
    fn never_misreads() {
        for text in [
            "a: b: c\n",
            "a: 'single'\n",
            "a: |\n  block\n",
            "a: &x 1\nb: *x\n",
            "a: 1\na: 2\n",
            "a: {b: 1}\n",
            "a: x # comment\n",
            "\"k\": 1\n",
            "a:\n    b: 1\n  c: 2\n",
            "a: 1 \n",
            "a:\tb\n",
            "a: \"\\x41\"\n",
            "a: \"\\ud800\"\n",
            "a: \"open\n",
            "a: \"done\" after\n",
            "a: \u{e9}\n",
            "--- a\n",
            "a: ...\n",
            "a: !tag x\n",
            "a: 007\n",
            "- a\nb: 1\n",
            "a:\n  - x\n  b: 1\n",
            "a: 1\n- b\n",
            "a:b\n",
            "a: \"\\u0000\"\n",
            "a: -1\nb: .inf\nc: 1e3\nd: 0x1F\ne: +1\n",
            "a: True\nb: NULL\nc: ''\n",
            "- - - x\n    - y\n  - z\n",
            "a: [x,y]\nb: [\"x\" , y]\nc: [a b]\nd: [-]\ne: [---]\nf: [x]]\n",
            "a: -\nb: ---\nc: -.5\nd: --\ne: --x\nf: ---x\ng: - -\n",
            "a: [x,, y]\n",
            "a: [x, ]\n",
            "a: [, x]\n",
            "a: !mlk  3\n",
            "a: ! 3\n",
            "a: |\n\n  leading empty line\n",
            "a: |\n  x\n   \n  y\n",
            "a: |+\n  keep\n\n",
            "a: |2\n   x\n",
            "a: >\n  folded\n",
            "a: |\nb: 1\n",
            "a: |\n    x\n  b: 1\n",
            "- a: |\n  x\n",
            "- |\n x\n",
            "a: x |\n  y\n",
            "a: |\n  x\n---\nb: |-\n  y\n",
            "a: |\n  x \n",
            "a:\n  - b: |\n     x\n    c: 1\n",
            "a: yes\nb: [on, \"off\"]\nc:\n  - 0777\n  - d: 1_000\ny: 1\n",
            "a: {b: [], \"c\": 1}\n",
            "a: {b: c,d: e}\n",
            "a: {b: c, }\n",
            "a: {b: }\n",
            "a: {b: c, b: d}\n",
            "a: {b: c d}\n",
            "a: {b: http://x}\n",
            "a: {b: -, c: ...}\n",
            "a: {b: \"c: d\", e: \"}\"}\n",
            "a: {b: c}}\n",
            "a: >\n  x\n\n  y\n",
            "a: >\n  x\n    more\n  y\n",
            "a: >+\n  x\n\n",
            "a: >2\n   x\n",
            "a: >-\n  x\n  y\nb: >\n  z\n",
            "- >\n x\n",
            "a: {b: {c: d}}\n",
            "- {y: n, 1: 0777, a.b/c: 1_000}\n",
        ] {
            if let Some(ours) = read_with_traps(text) {
                assert_eq!(ours, serde_and_traps(text).unwrap(), "{text:?}");
            }
        }
    }

    /// What serde_yaml and `yaml11::plain_traps` make of `text`.
    fn serde_and_traps(text: &str) -> Option<Vec<(Value, Vec<Trap>)>> {
        let docs = serde_yaml::Deserializer::from_str(text).map(serde::Deserialize::deserialize);
        let docs: Vec<Value> = docs.collect::<Result<_, _>>().ok()?;
        let traps = yaml11::plain_traps(text).ok()?;
        let both = docs.into_iter().zip(traps);
        Some(both.filter(|(v, _)| !v.is_null()).collect())
    }

    /// mlk's own output, changed a little at random (a line indented
    /// differently, a token put in, a line doubled or dropped): each
    /// variant is read as serde_yaml and `yaml11` read it, or left to them.
    #[test]
    fn changed_snapshots_are_never_misread() {
        const TOKENS: [&str; 19] = [
            " ", "  ", "- ", "|", "|-", "|+", "#", ": ", "\"", "'", "yes", "---", "\n", "!",
            "{a: b}", "{", ", ", ">", ">-",
        ];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
        let mut snapshots: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .map(|snap| snap.splitn(3, "---\n").nth(2).unwrap().to_owned())
            .collect();
        snapshots.sort();
        let mut seed: u64 = 0x11ce_b10c;
        let mut pick = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n.max(1)
        };
        let cases: usize = std::env::var("MLK_FUZZ_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1500);
        let mut read_some = 0;
        for _ in 0..cases {
            let text = &snapshots[pick(snapshots.len())];
            let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
            // A window of a few lines around a change keeps each case small.
            let start = pick(lines.len());
            lines = lines.split_off(start);
            lines.truncate(1 + pick(40));
            for _ in 0..1 + pick(3) {
                let at = pick(lines.len());
                let line = &mut lines[at];
                match pick(5) {
                    0 => line.insert_str(0, TOKENS[pick(2)]),
                    1 => {
                        let cut = line.len().min(pick(3));
                        line.drain(..cut);
                    }
                    2 => {
                        let col = pick(line.len() + 1);
                        if line.is_char_boundary(col) {
                            line.insert_str(col, TOKENS[pick(TOKENS.len())]);
                        }
                    }
                    3 => {
                        let copy = line.clone();
                        lines.insert(at, copy);
                    }
                    _ => {
                        lines.remove(at);
                        if lines.is_empty() {
                            lines.push(String::new());
                        }
                    }
                }
            }
            let text = lines.join("\n") + "\n";
            if let Some(ours) = read_with_traps(&text) {
                assert_eq!(Some(ours), serde_and_traps(&text), "{text:?}");
                read_some += 1;
            }
        }
        assert!(read_some > cases / 20, "only {read_some} of {cases} read");
    }

    /// mlk's own output, as its snapshots hold it, is read here: checking
    /// it (`mlk validate`) never needs libyaml.
    #[test]
    fn reads_every_snapshot() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
        let mut read_all = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let snap = std::fs::read_to_string(&path).unwrap();
            // insta's header is a YAML document of its own.
            let text = snap.splitn(3, "---\n").nth(2).unwrap();
            let ours = read_with_traps(text);
            assert!(ours.is_some(), "{} is not read", path.display());
            assert_eq!(ours, serde_and_traps(text), "{}", path.display());
            read_all += 1;
        }
        assert!(read_all >= 20, "only {read_all} snapshots");
    }

    /// Texts put together at random from the pieces templates use and
    /// the ones just past them: each is read as serde_yaml reads it, or
    /// left to serde_yaml.
    #[test]
    fn random_texts_are_never_misread() {
        const INDENTS: [&str; 4] = ["", "  ", "    ", " "];
        const HEADS: [&str; 5] = ["", "- ", "-", "- - ", "-  "];
        const KEYS: [&str; 8] = ["a", "b", "y", "1", "a.b/c", "\"k\"", "!mlk 0", "-k"];
        const SEPARATORS: [&str; 3] = [": ", ":", " : "];
        const VALUES: [&str; 31] = [
            "|\n  text\n\n  # more",
            "|-\n   a\n    b",
            "|\n-x",
            "x",
            "1",
            "007",
            "-1",
            "\"s\"",
            "\"a\\\"b\"",
            "{}",
            "[]",
            "[a, \"b\"]",
            "!mlk 1",
            "~",
            "true",
            "yes",
            "a: b",
            "a #c",
            "|",
            "'q'",
            "-x",
            "- y",
            "",
            "0.5",
            "[-c, 2]",
            "--x",
            "---",
            "{a: b, y: \"c\"}",
            "{n: 0777, \"q\": 1}",
            ">\n  a\n  b",
            ">-\n  x\n\n  y",
        ];
        let mut seed: u64 = 0x5eed;
        let mut pick = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        let mut read_some = 0;
        for _ in 0..20000 {
            let mut text = String::new();
            for _ in 0..1 + pick(6) {
                match pick(12) {
                    0 => text.push_str("---"),
                    1 => text.push_str("# c"),
                    _ => {
                        text.push_str(INDENTS[pick(4)]);
                        text.push_str(HEADS[pick(5)]);
                        if pick(3) > 0 {
                            text.push_str(KEYS[pick(8)]);
                            text.push_str(SEPARATORS[pick(3)]);
                        }
                        text.push_str(VALUES[pick(31)]);
                    }
                }
                text.push('\n');
            }
            if let Some(ours) = read_with_traps(&text) {
                assert_eq!(Some(ours), serde_and_traps(&text), "{text:?}");
                read_some += 1;
            }
        }
        assert!(read_some > 500, "only {read_some} texts read");
    }
}
