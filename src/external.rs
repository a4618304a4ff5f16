//! Objects the platform may reference without rendering them: what the
//! spec says exists (stage 3 learns it) and the checker takes as given
//! (stage 6), so it belongs to neither.

use std::collections::BTreeSet;

/// Objects that references may name without their being in the stream:
/// `Secret/name`, `ConfigMap/name` (in any namespace).
#[derive(Debug, Clone, Default)]
pub struct External {
    names: BTreeSet<(String, String)>,
    assumed: bool,
}

impl External {
    pub fn insert(&mut self, kind: &str, name: &str) {
        self.names.insert((kind.to_owned(), name.to_owned()));
    }

    pub fn contains(&self, kind: &str, name: &str) -> bool {
        self.names.contains(&(kind.to_owned(), name.to_owned()))
    }

    /// By default the objects named are all that exist outside the
    /// stream, so a reference to any other is an error: a render knows
    /// them from its spec, and `mlk validate` from `--exists`. Without
    /// either, `mlk validate` takes such a reference to name an object the
    /// cluster holds, and reports it as an assumption.
    pub fn assuming_the_rest(mut self) -> External {
        self.assumed = true;
        self
    }

    pub fn is_complete(&self) -> bool {
        !self.assumed
    }

    /// `KIND/NAME`, as `--exists` takes it.
    pub fn parse_into(&mut self, s: &str) -> Result<(), String> {
        match s.split_once('/') {
            Some((kind @ ("Secret" | "ConfigMap"), name)) if !name.is_empty() => {
                self.insert(kind, name);
                Ok(())
            }
            _ => Err(format!(
                "--exists {s:?}: expected Secret/NAME or ConfigMap/NAME"
            )),
        }
    }
}
