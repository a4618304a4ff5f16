//! A field's place in an object, written as kubectl writes it:
//! `spec.template.spec.containers[0].name`, `metadata.labels["app.kubernetes.io/name"]`.

use std::fmt;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(String);

impl Path {
    pub fn root() -> Path {
        Path::default()
    }

    pub fn key(&self, k: &str) -> Path {
        let mut p = Path(String::with_capacity(self.0.len() + k.len() + 1));
        p.0.push_str(&self.0);
        p.push_key(k);
        p
    }

    pub fn index(&self, i: usize) -> Path {
        let mut p = self.clone();
        p.push_index(i);
        p
    }

    /// Descends in place, without allocating a path per step.
    pub fn push_key(&mut self, k: &str) {
        let plain = !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
        match (plain, self.0.is_empty()) {
            (true, true) => self.0.push_str(k),
            (true, false) => {
                self.0.push('.');
                self.0.push_str(k);
            }
            (false, _) => {
                // As `{k:?}` writes it; most such keys (label names) need
                // no escapes, and formatting each one costs.
                let escapes = |c: char| c == '"' || c == '\\' || !(' '..='~').contains(&c);
                if k.contains(escapes) {
                    self.0.push_str(&format!("[{k:?}]"));
                } else {
                    self.0.push_str("[\"");
                    self.0.push_str(k);
                    self.0.push_str("\"]");
                }
            }
        }
    }

    pub fn push_index(&mut self, i: usize) {
        use std::fmt::Write as _;
        let _ = write!(self.0, "[{i}]");
    }
}

/// One step down from a node: a key of a map or an index of a list.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// A path kept as its steps and written out only when asked: a walk over
/// every node grows and shrinks it at each one, and reports from few.
#[derive(Debug, Default)]
pub struct Steps<'a>(Vec<Step<'a>>);

impl<'a> Steps<'a> {
    pub fn push(&mut self, step: Step<'a>) {
        self.0.push(step);
    }

    pub fn pop(&mut self) {
        self.0.pop();
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The steps, owned, `more` further down.
    pub fn trail(&self, more: &[Step]) -> Trail {
        let seg = |s: &Step| match s {
            Step::Key(k) => Seg::Key((*k).into()),
            Step::Index(i) => Seg::Index(*i),
        };
        Trail(self.0.iter().chain(more).map(seg).collect())
    }

    /// The path, `more` steps further down.
    pub fn path(&self, more: &[Step]) -> Path {
        let mut path = Path::root();
        for step in self.0.iter().chain(more) {
            match step {
                Step::Key(k) => path.push_key(k),
                Step::Index(i) => path.push_index(*i),
            }
        }
        path
    }
}

/// A path kept as owned steps, for a finding that is compared with other
/// paths (which patch changed it) as well as printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trail(Vec<Seg>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// Inline up to 23 bytes: a path's keys are mostly short, and a
    /// trail is cloned at every step down.
    Key(smol_str::SmolStr),
    Index(usize),
}

impl Trail {
    pub fn root() -> Trail {
        Trail::default()
    }

    pub fn key(&self, k: &str) -> Trail {
        let mut t = self.clone();
        t.0.push(Seg::Key(k.into()));
        t
    }

    pub fn index(&self, i: usize) -> Trail {
        let mut t = self.clone();
        t.0.push(Seg::Index(i));
        t
    }

    pub fn segs(&self) -> &[Seg] {
        &self.0
    }

    /// Whether one of the two lies within the other.
    pub fn related(&self, other: &Trail) -> bool {
        let n = self.0.len().min(other.0.len());
        self.0[..n] == other.0[..n]
    }

    /// The steps after `prefix`, when it is one.
    pub fn after(&self, prefix: &Trail) -> Option<&[Seg]> {
        self.0.strip_prefix(prefix.0.as_slice())
    }

    pub fn to_path(&self) -> Path {
        let mut p = Path::root();
        for s in &self.0 {
            match s {
                Seg::Key(k) => p.push_key(k),
                Seg::Index(i) => p.push_index(*i),
            }
        }
        p
    }
}

impl From<Vec<Seg>> for Trail {
    fn from(segs: Vec<Seg>) -> Trail {
        Trail(segs)
    }
}

impl fmt::Display for Trail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_path().fmt(f)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str(".")
        } else {
            f.write_str(&self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_as_kubectl_does() {
        let p = Path::root()
            .key("spec")
            .key("containers")
            .index(0)
            .key("name");
        assert_eq!(p.to_string(), "spec.containers[0].name");
        let l = Path::root()
            .key("metadata")
            .key("labels")
            .key("app.kubernetes.io/name");
        assert_eq!(
            l.to_string(),
            r#"metadata.labels["app.kubernetes.io/name"]"#
        );
        assert_eq!(Path::root().to_string(), ".");
    }

    #[test]
    fn steps_are_written_as_the_path() {
        let mut steps = Steps::default();
        steps.push(Step::Key("spec"));
        steps.push(Step::Key("containers"));
        steps.push(Step::Index(0));
        let name = steps.path(&[Step::Key("name")]);
        assert_eq!(name.to_string(), "spec.containers[0].name");
        steps.pop();
        steps.pop();
        assert_eq!(steps.path(&[]).to_string(), "spec");
    }

    /// A quoted key reads exactly as Rust's `{:?}` writes it.
    #[test]
    fn quoted_keys_match_debug() {
        for k in [
            "app.kubernetes.io/name",
            "a b",
            "x\"y",
            "b\\s",
            "tab\t",
            "ü",
            "'",
            "",
            "~",
        ] {
            let mut p = Path::root();
            p.push_key(k);
            if k.is_empty() || k.contains(|c: char| !c.is_ascii_alphanumeric()) {
                assert_eq!(p.to_string(), format!("[{k:?}]"), "{k}");
            }
        }
    }
}
