//! What mlk prints for people and CI logs to read: every secret it knows
//! of replaced by `***`, control characters written as escapes (a spec
//! value cannot move the cursor, rewrite a line, or hide text from a
//! reviewer), no line a CI runner would take for a command (`::set-output`,
//! `::add-mask::`), and no line longer than a screen can hold.

use crate::sensitive::SecretSet;

/// Longer lines are cut: a message quotes a spec value at most once, and
/// a value that long is not read in a log.
const MAX_LINE: usize = 4096;

/// `text` as it may be printed.
pub fn printable(text: &str, secrets: &SecretSet) -> String {
    let redacted = secrets.redact(text);
    let mut out = String::with_capacity(redacted.len());
    for (i, line) in redacted.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let start = out.len();
        if line.trim_start().starts_with("::") {
            out.push_str("> ");
        }
        for c in line.chars() {
            if out.len() - start >= MAX_LINE {
                out.push_str(" [cut]");
                break;
            }
            push_escaped(&mut out, c);
        }
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    let invisible = c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}');
    match c {
        '\t' => out.push(c),
        _ if invisible => out.push_str(&c.escape_unicode().to_string()),
        _ => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_or_a_runner_would_act_on() {
        let none = SecretSet::new([]);
        assert_eq!(printable("a\u{1b}[2Jb", &none), "a\\u{1b}[2Jb");
        assert_eq!(printable("x\rfake", &none), "x\\u{d}fake");
        assert_eq!(printable("ok\n::add-mask::x", &none), "ok\n> ::add-mask::x");
        assert_eq!(
            printable("  ::set-output name=x", &none),
            ">   ::set-output name=x"
        );
        assert_eq!(printable("bidi\u{202e}txt", &none), "bidi\\u{202e}txt");
        assert!(printable(&"y".repeat(10_000), &none).ends_with(" [cut]"));
    }

    #[test]
    fn redacts_before_escaping() {
        let set = SecretSet::new(["s3cret-value"]);
        assert_eq!(printable("pw s3cret-value", &set), "pw ***");
    }
}
