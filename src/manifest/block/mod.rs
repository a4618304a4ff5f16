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

mod inline;
#[cfg(test)]
mod tests;

use super::tree::{Mapping, Value};

use crate::bounds::MAX_DEPTH;
use crate::field_path::{Step, Steps};
use crate::yaml11::{self, Trap};

use inline::{Inner, plain_key, scalar};

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
    /// line between the two indentations, a folded scalar with empty or
    /// more-indented lines (which fold differently), and a last line
    /// without its newline.
    fn block(
        &mut self,
        owner: usize,
        header: Header,
        raws: &mut std::iter::Peekable<std::str::Split<'a, char>>,
    ) -> Option<usize> {
        let mut content: Vec<&str> = Vec::new();
        let mut indent = None;
        let mut last_empty = false;
        while let Some(raw) = raws.peek() {
            last_empty = raw.is_empty();
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
        // Content up to the end of a text without a final newline: a
        // full reader keeps no line break then, clipped or not.
        if indent? <= owner || (raws.peek().is_none() && !last_empty) {
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
        let mut entries = Vec::new();
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
            entries.push((Value::String(key.into()), value));
        }
        // A duplicate key is left to serde_yaml, which refuses it.
        self.ends_block(indent)
            .then(|| Mapping::from_entries(entries))
            .flatten()
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
            return header.then(|| Value::String(std::mem::take(&mut self.blocks[b]).into()));
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
    plain_key(key).then_some((key, rest))
}
