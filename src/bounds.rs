//! Limits on untrusted input, checked before any parser sees it: a spec,
//! a `--set` or a manifest stream must not make mlk stall, recurse past
//! its stack, or take quadratic time.

/// The deepest nesting of mappings and lists a spec or manifest may have.
/// Specs need under 10 and Kubernetes objects under 40.
pub const MAX_DEPTH: usize = 128;

/// The most segments a `--set` path may have.
pub const MAX_SET_SEGMENTS: usize = 64;

/// A byte-order mark is how some editors start a UTF-8 file; YAML allows
/// it at the start of a stream.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The 1-based line where YAML text nests deeper than [`MAX_DEPTH`], if
/// it does. One linear pass over the text: block indentation, `- ` and
/// `? ` entries on one line, and flow brackets outside quotes and
/// comments. It over-counts rather than under-counts, since it only has to
/// be close to what a parser would see.
pub fn too_deep(text: &str) -> Option<usize> {
    let mut scan = Scan::default();
    for (i, line) in text.lines().enumerate() {
        if scan.line(line) > MAX_DEPTH {
            return Some(i + 1);
        }
    }
    None
}

/// The message for [`too_deep`].
pub fn depth_message() -> String {
    format!("nests deeper than {MAX_DEPTH} levels of mappings and lists")
}

#[derive(Default)]
struct Scan {
    indents: Vec<usize>,
    flow: usize,
    /// An open quoted scalar, which may go on over lines.
    quote: Option<u8>,
    /// The indentation of the line that opened a `|` or `>` block scalar:
    /// lines indented further are its text.
    block_scalar: Option<usize>,
}

impl Scan {
    /// The deepest nesting reached on this line.
    fn line(&mut self, line: &str) -> usize {
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        if let Some(parent) = self.block_scalar {
            if body.is_empty() || indent > parent {
                return 0;
            }
            self.block_scalar = None;
        }
        let in_block = self.quote.is_none() && self.flow == 0;
        if in_block {
            if body.is_empty() || body.starts_with('#') {
                return 0;
            }
            if body.starts_with("---") || body.starts_with("...") {
                self.indents.clear();
            }
            while self.indents.last().is_some_and(|&top| top >= indent) {
                self.indents.pop();
            }
            self.indents.push(indent);
        }
        self.chars(body.as_bytes(), indent, in_block)
    }

    fn chars(&mut self, b: &[u8], indent: usize, mut at_value: bool) -> usize {
        let mut entries = 0;
        let mut deepest = self.indents.len() + self.flow;
        let mut j = 0;
        while j < b.len() {
            let c = b[j];
            let next_is_space = matches!(b.get(j + 1), None | Some(b' ' | b'\t'));
            if let Some(q) = self.quote {
                match c {
                    b'\\' if q == b'"' => j += 1,
                    b'\'' if q == b'\'' && b.get(j + 1) == Some(&b'\'') => j += 1,
                    _ if c == q => {
                        self.quote = None;
                        at_value = false;
                    }
                    _ => {}
                }
                j += 1;
                continue;
            }
            let flow = self.flow > 0;
            match c {
                b'#' if j == 0 || matches!(b[j - 1], b' ' | b'\t') => break,
                b'"' | b'\'' if at_value || flow => self.quote = Some(c),
                b'[' | b'{' if at_value || flow => {
                    self.flow += 1;
                    at_value = true;
                }
                b']' | b'}' if flow => {
                    self.flow -= 1;
                    at_value = false;
                }
                b',' if flow => at_value = true,
                b'-' | b'?' if at_value && !flow && next_is_space => entries += 1,
                b':' if next_is_space || flow => at_value = true,
                b'|' | b'>' if at_value && !flow => {
                    self.block_scalar = Some(indent);
                    break;
                }
                b' ' | b'\t' => {}
                _ => at_value = false,
            }
            deepest = deepest.max(self.indents.len() + entries + self.flow);
            j += 1;
        }
        deepest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_yaml_is_shallow() {
        let text = "a:\n  b: [1, {c: \"[[[[\"}]\n  d: |\n    [[[[[[\n  e: '{{'  # [[[\n- - x\n";
        let mut scan = Scan::default();
        let deepest = text.lines().map(|l| scan.line(l)).max().unwrap();
        assert!(deepest <= 4, "{deepest}");
        assert_eq!(scan.flow, 0);
    }

    #[test]
    fn deep_flow_block_and_entries_are_caught() {
        let n = MAX_DEPTH + 1;
        assert_eq!(
            too_deep(&format!("a: {}{}", "[".repeat(n), "]".repeat(n))),
            Some(1)
        );
        assert_eq!(too_deep(&"- ".repeat(n)), Some(1));
        let block: String = (0..n).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert_eq!(too_deep(&block), Some(MAX_DEPTH + 1));
        assert_eq!(too_deep(&format!("a: {}", "[".repeat(MAX_DEPTH - 2))), None);
    }

    #[test]
    fn a_bom_is_dropped() {
        assert_eq!(strip_bom("\u{feff}a: 1"), "a: 1");
        assert_eq!(strip_bom("a: 1"), "a: 1");
    }
}
