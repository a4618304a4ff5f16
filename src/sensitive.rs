//! Secret values, and the ledger of every one this process has read,
//! resolved or derived.
//!
//! A value becomes `Sensitive` where it enters mlk (an env var, a file, a
//! derivation), and the ledger records it there. The output gate then
//! finds it wherever it should not be in the rendered objects, and every
//! message mlk prints is redacted against it, so no path a value takes,
//! planned or not, prints it.

use std::borrow::Cow;
use std::fmt;
use std::sync::Mutex;

use aho_corasick::AhoCorasick;
use base64::Engine;

/// Shorter values are not looked for: a one-letter password would be
/// found in every word of the output. Such values are still only ever
/// written into Secret data.
pub const MIN_TRACKED: usize = 8;

static LEDGER: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A secret's value; its Debug output is redacted so it cannot leak
/// through a panic or a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive(String);

impl Sensitive {
    /// A secret, recorded in the ledger.
    pub fn new(value: String) -> Self {
        record(&value);
        Sensitive(value)
    }

    /// A value that travels as a secret (into a Secret's data) but is not
    /// one, such as a user name that messages may show.
    pub fn not_secret(value: String) -> Self {
        Sensitive(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sensitive(<redacted>)")
    }
}

/// Records a secret the process has read, such as a credential from its
/// environment that never becomes a `Sensitive`.
pub fn record(value: &str) {
    if value.len() < MIN_TRACKED {
        return;
    }
    let mut ledger = LEDGER.lock().unwrap_or_else(|e| e.into_inner());
    if !ledger.iter().any(|v| v == value) {
        ledger.push(value.to_owned());
    }
}

/// Every secret recorded so far, ready to search for.
pub fn known() -> SecretSet {
    let ledger = LEDGER.lock().unwrap_or_else(|e| e.into_inner());
    SecretSet::new(ledger.iter().map(String::as_str))
}

/// Secret values in every form they can take in a manifest: as written,
/// base64 at any of the three byte alignments (inside a longer encoded
/// value too), and percent-encoded (inside a URL).
pub struct SecretSet {
    matcher: Option<AhoCorasick>,
    count: usize,
}

impl SecretSet {
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> SecretSet {
        let mut needles: Vec<String> = Vec::new();
        let mut count = 0;
        for v in values.into_iter().filter(|v| v.len() >= MIN_TRACKED) {
            count += 1;
            needles.push(v.to_owned());
            needles.extend(base64_forms(v.as_bytes()));
            let encoded = percent_encoded(v);
            if encoded != v {
                needles.push(encoded);
            }
        }
        needles.sort();
        needles.dedup();
        let matcher = match needles.is_empty() {
            true => None,
            false => AhoCorasick::new(&needles).ok(),
        };
        SecretSet { matcher, count }
    }

    /// How many secrets it holds.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether `text` holds any of the secrets, in any form.
    pub fn found_in(&self, text: &str) -> bool {
        self.matcher.as_ref().is_some_and(|m| m.is_match(text))
    }

    /// `text` with every secret replaced by `***`.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match &self.matcher {
            Some(m) if m.is_match(text) => {
                let mut out = String::with_capacity(text.len());
                m.replace_all_with(text, &mut out, |_, _, out| {
                    out.push_str("***");
                    true
                });
                Cow::Owned(out)
            }
            _ => Cow::Borrowed(text),
        }
    }
}

/// The characters of `value`'s base64 that do not depend on the bytes
/// around it, for each of the three positions it can start at within a
/// longer encoded value.
fn base64_forms(value: &[u8]) -> Vec<String> {
    let engine = base64::engine::general_purpose::STANDARD_NO_PAD;
    let mut forms = Vec::new();
    for (pad, first_whole_char) in [(0, 0), (1, 2), (2, 3)] {
        let mut bytes = vec![0u8; pad];
        bytes.extend_from_slice(value);
        let encoded = engine.encode(&bytes);
        // Only whole groups: the last partial one depends on what follows.
        let end = bytes.len() / 3 * 4;
        if end >= first_whole_char + MIN_TRACKED {
            forms.push(encoded[first_whole_char..end].to_owned());
        }
    }
    // The whole value, padded, as a Secret's `data` holds it.
    forms.push(base64::engine::general_purpose::STANDARD.encode(value));
    forms
}

/// As a URL's userinfo or query carries it.
fn percent_encoded(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn finds_a_secret_in_every_form() {
        let set = SecretSet::new(["hunter2-is-long", "x"]);
        assert_eq!(set.len(), 1);
        assert!(set.found_in("prefix hunter2-is-long suffix"));
        assert!(set.found_in(&STANDARD.encode("hunter2-is-long")));
        for before in ["", "a", "ab", "abc"] {
            let embedded = STANDARD.encode(format!("{before}hunter2-is-long!tail"));
            assert!(set.found_in(&embedded), "{before:?}: {embedded}");
        }
        assert!(
            SecretSet::new(["p@ss word/long"]).found_in("postgresql://u:p%40ss%20word%2Flong@h")
        );
        assert!(!set.found_in("hunter2 is long"));
        assert!(!set.found_in("x marks the spot"));
    }

    #[test]
    fn redacts_every_occurrence() {
        let set = SecretSet::new(["s3cret-value"]);
        assert_eq!(set.redact("a s3cret-value b s3cret-value"), "a *** b ***");
        assert!(matches!(set.redact("clean"), Cow::Borrowed(_)));
        assert_eq!(SecretSet::new([]).redact("s3cret-value"), "s3cret-value");
    }
}
