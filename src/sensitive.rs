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
use std::sync::{Arc, Mutex};

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

static BUILT: Mutex<Option<(usize, Arc<SecretSet>)>> = Mutex::new(None);

/// Every secret recorded so far, ready to search for; built once for
/// each state of the ledger.
pub fn known() -> Arc<SecretSet> {
    let ledger = LEDGER.lock().unwrap_or_else(|e| e.into_inner());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    match &*built {
        Some((n, set)) if *n == ledger.len() => Arc::clone(set),
        _ => {
            let set = Arc::new(SecretSet::new(ledger.iter().map(String::as_str)));
            *built = Some((ledger.len(), Arc::clone(&set)));
            set
        }
    }
}

/// As `known`, unless the ledger is held: a panic while recording a
/// secret must not wait for itself.
pub fn known_if_free() -> Option<Arc<SecretSet>> {
    let ledger = LEDGER.try_lock().ok()?;
    let built = BUILT.try_lock().ok()?;
    drop((ledger, built));
    Some(known())
}

/// Secret values in every form they can take in a manifest: as written,
/// base64 at any of the three byte alignments (inside a longer encoded
/// value too), percent-encoded (inside a URL), and escaped as a quoted
/// string writes it.
///
/// A search looks at one eight-byte window of the text in every `stride`
/// bytes, and looks it up in a bitmap of the windows each form starts
/// with (at its first `stride` offsets); only a window some form holds
/// is compared in full. Any occurrence of a form is looked at within
/// `stride` bytes of its start, because no form is shorter than
/// `stride + 7`. That costs about one instruction
/// a byte, and building it costs nothing worth counting, which a general
/// automaton (whose build alone cost more than a whole render) does not
/// offer.
pub struct SecretSet {
    forms: Vec<Vec<u8>>,
    /// Each window of each form: its bytes, the form, and where in it.
    windows: Vec<(u64, usize, usize)>,
    /// A bit for each hash of a window.
    bitmap: Vec<u64>,
    stride: usize,
    /// The shortest form: a shorter text holds none.
    shortest: usize,
    count: usize,
}

/// The first eight bytes of `b`, as one number.
fn window(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().expect("eight bytes"))
}

const BITMAP_BITS: u32 = 12;

fn bit(w: u64) -> (usize, u64) {
    let h = (w.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - BITMAP_BITS)) as usize;
    (h >> 6, 1 << (h & 63))
}

impl SecretSet {
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> SecretSet {
        let mut forms: Vec<Vec<u8>> = Vec::new();
        let mut count = 0;
        for v in values.into_iter().filter(|v| v.len() >= MIN_TRACKED) {
            count += 1;
            forms.push(v.as_bytes().to_vec());
            forms.extend(
                base64_forms(v.as_bytes())
                    .into_iter()
                    .map(String::into_bytes),
            );
            let encoded = percent_encoded(v);
            if encoded != v {
                forms.push(encoded.into_bytes());
            }
            forms.extend(
                escaped_forms(v)
                    .into_iter()
                    .filter(|e| e != v)
                    .map(String::into_bytes),
            );
        }
        forms.sort();
        forms.dedup();
        let shortest = forms.iter().map(Vec::len).min().unwrap_or(8);
        let stride = (shortest - 7).clamp(1, 8);
        // A probe lands within `stride` bytes of where a form starts: only
        // the windows at those offsets can ever be looked up.
        let mut windows = Vec::new();
        let mut bitmap = vec![0u64; 1 << (BITMAP_BITS - 6)];
        for (f, form) in forms.iter().enumerate() {
            for offset in 0..stride.min(form.len() - 7) {
                let w = window(&form[offset..]);
                let (word, mask) = bit(w);
                bitmap[word] |= mask;
                windows.push((w, f, offset));
            }
        }
        windows.sort_unstable();
        SecretSet {
            stride,
            shortest,
            forms,
            windows,
            bitmap,
            count,
        }
    }

    /// How many secrets it holds.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The leftmost place in `text`, at or after `from`, where a form
    /// starts, and the form's length.
    fn find(&self, text: &[u8], from: usize) -> Option<(usize, usize)> {
        if self.forms.is_empty() || text.len() < self.shortest {
            return None;
        }
        let mut p = match from {
            0 => 0,
            _ => from.div_ceil(self.stride) * self.stride,
        };
        while p + 8 <= text.len() {
            let w = window(&text[p..]);
            let (word, mask) = bit(w);
            if self.bitmap[word] & mask != 0 {
                let at = self.windows.partition_point(|(n, _, _)| *n < w);
                let same = self.windows[at..].iter().take_while(|(n, _, _)| *n == w);
                let found = same
                    .filter(|(_, _, offset)| p >= from + offset)
                    .map(|(_, f, offset)| (p - offset, &self.forms[*f]))
                    .filter(|(start, form)| text[*start..].starts_with(form))
                    .min_by_key(|(start, form)| (*start, usize::MAX - form.len()));
                if let Some((start, form)) = found {
                    return Some((start, form.len()));
                }
            }
            p += self.stride;
        }
        None
    }

    /// Whether `text` holds any of the secrets, in any form. Most strings
    /// of a manifest are shorter than any form, and cost one comparison.
    #[inline]
    pub fn found_in(&self, text: &str) -> bool {
        text.len() >= self.shortest && self.find(text.as_bytes(), 0).is_some()
    }

    /// `text` with every secret replaced by `***`.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let bytes = text.as_bytes();
        let Some(mut found) = self.find(bytes, 0) else {
            return Cow::Borrowed(text);
        };
        // A match reaches over the base64 characters around it: a secret
        // inside a longer encoded value leaves none of its encoding behind.
        let b64 = |b: u8| b.is_ascii_alphanumeric() || b"+/=".contains(&b);
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        // The span being hidden; a match that starts inside it (another
        // form, or the same secret overlapping itself) widens it.
        let mut span: Option<(usize, usize)> = None;
        loop {
            let (at, len) = found;
            let mut start = at;
            while start > done && b64(bytes[start - 1]) {
                start -= 1;
            }
            let mut end = at + len;
            while end < bytes.len() && b64(bytes[end]) {
                end += 1;
            }
            span = match span {
                Some((s, e)) if start <= e => Some((s, e.max(end))),
                Some((s, e)) => {
                    hide(&mut out, text, &mut done, s, e);
                    Some((start.max(done), end))
                }
                None => Some((start, end)),
            };
            match self.find(bytes, at + 1) {
                Some(next) => found = next,
                None => break,
            }
        }
        if let Some((s, e)) = span {
            hide(&mut out, text, &mut done, s, e);
        }
        out.push_str(&text[done..]);
        Cow::Owned(out)
    }
}

/// Writes `text` up to `start`, then `***` for `start..end`, both moved
/// out to whole characters.
fn hide(out: &mut String, text: &str, done: &mut usize, mut start: usize, mut end: usize) {
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    let start = start.max(*done);
    out.push_str(&text[*done..start]);
    out.push_str("***");
    *done = end.max(*done);
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
    // The whole value, padded, as a Secret's `data` holds it, starts with
    // the first form: no needle of its own.
    forms
}

/// As quoting writes it: a Rust or JSON string (`\"`, `\\`, `\n`), a
/// YAML single-quoted one (`''`). A message or a report that quotes a
/// value holds one of these.
fn escaped_forms(value: &str) -> [String; 3] {
    let debug = format!("{value:?}");
    let json = serde_json::to_string(value).unwrap_or_default();
    [
        debug[1..debug.len() - 1].to_owned(),
        json.get(1..json.len().saturating_sub(1))
            .unwrap_or_default()
            .to_owned(),
        value.replace('\'', "''"),
    ]
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
        assert!(!set.found_in("short"));
        assert!(SecretSet::new(["s3cret-value"]).found_in("ü s3cret-value ü"));
    }

    /// The windowed search finds exactly what a plain substring search
    /// finds, for secrets of every length and at every offset.
    #[test]
    fn finds_what_a_plain_search_finds() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for len in 8..40 {
            let secret: String = (0..len)
                .map(|i| (b'a' + (i * 7 % 26) as u8) as char)
                .collect();
            let set = SecretSet::new([secret.as_str()]);
            for _ in 0..20 {
                let pad = |n: u64| "-".repeat((n % 30) as usize);
                let text = format!("{}{secret}{}", pad(next()), pad(next()));
                assert!(set.found_in(&text), "{len}: {text}");
                assert!(!set.redact(&text).contains(&secret));
                let cut = &text[..text.len() - 1 - (next() % 3) as usize];
                assert_eq!(set.found_in(cut), cut.contains(&secret), "{cut}");
            }
        }
    }

    #[test]
    fn overlapping_secrets_are_hidden_whole() {
        let set = SecretSet::new(["alpha-secret-0123", "0123-beta-secret-xyz"]);
        assert_eq!(set.redact("<alpha-secret-0123-beta-secret-xyz>"), "<***>");
        assert_eq!(
            set.redact("a alpha-secret-0123 b 0123-beta-secret-xyz c"),
            "a *** b *** c"
        );
    }

    #[test]
    fn redacts_every_occurrence() {
        let set = SecretSet::new(["s3cret-value"]);
        assert_eq!(set.redact("a s3cret-value b s3cret-value"), "a *** b ***");
        let encoded = STANDARD.encode("xs3cret-value!");
        assert_eq!(set.redact(&format!("id {encoded} x")), "id *** x");
        assert!(matches!(set.redact("clean"), Cow::Borrowed(_)));
        assert_eq!(SecretSet::new([]).redact("s3cret-value"), "s3cret-value");
    }
}
