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
        let plain = !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
        let mut p = String::with_capacity(self.0.len() + k.len() + 1);
        p.push_str(&self.0);
        match (plain, self.0.is_empty()) {
            (true, true) => p.push_str(k),
            (true, false) => {
                p.push('.');
                p.push_str(k);
            }
            (false, _) => p.push_str(&format!("[{k:?}]")),
        }
        Path(p)
    }

    pub fn index(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
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
}
