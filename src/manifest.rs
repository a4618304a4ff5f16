//! Stage 5: the rendered text read back as documents. From here on mlk
//! works on parsed objects, never on text.

use serde_yaml::Value;

use crate::render::Rendered;

#[derive(Debug, Clone)]
pub struct Document {
    /// The template it came from; names its file with `--output-dir`.
    pub component: &'static str,
    pub value: Value,
}

impl Document {
    fn str_at(&self, path: &[&str]) -> Option<&str> {
        let mut v = &self.value;
        for key in path {
            v = v.get(key)?;
        }
        v.as_str()
    }

    pub fn kind(&self) -> &str {
        self.str_at(&["kind"]).unwrap_or("?")
    }

    pub fn name(&self) -> &str {
        self.str_at(&["metadata", "name"]).unwrap_or("?")
    }

    pub fn namespace(&self) -> Option<&str> {
        self.str_at(&["metadata", "namespace"])
    }

    /// `kind/namespace/name`, or `kind/name` for cluster-scoped objects.
    pub fn id(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{}/{ns}/{}", self.kind(), self.name()),
            None => format!("{}/{}", self.kind(), self.name()),
        }
    }
}

/// A template that yields invalid YAML is a bug in mlk, never the user's.
pub fn parse(rendered: &[Rendered]) -> anyhow::Result<Vec<Document>> {
    let mut docs = Vec::new();
    for r in rendered {
        for de in serde_yaml::Deserializer::from_str(&r.text) {
            let value = serde::Deserialize::deserialize(de).map_err(|e| {
                anyhow::anyhow!(
                    "internal error: template {} produced invalid YAML: {e}",
                    r.component
                )
            })?;
            if !matches!(value, Value::Null) {
                docs.push(Document {
                    component: r.component,
                    value,
                });
            }
        }
    }
    Ok(docs)
}
