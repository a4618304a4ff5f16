//! Stage 5: the rendered text read back as documents. From here on mlk
//! works on parsed objects, never on text.

use crate::yaml11::{self, Trap};

mod block;
pub mod tree;

pub use tree::{Mapping, Value};

#[derive(Debug, Clone)]
pub struct Document {
    /// The template it came from; names its file with `--output-dir`.
    pub component: &'static str,
    pub value: Value,
    /// Plain scalars in its text that Kubernetes reads differently.
    pub traps: Vec<Trap>,
}

impl Document {
    fn str_at(&self, path: &[&str]) -> Option<&str> {
        let mut v = &self.value;
        for key in path {
            v = v.get(key)?;
        }
        v.as_str()
    }

    pub fn api_version(&self) -> &str {
        self.str_at(&["apiVersion"]).unwrap_or("?")
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

/// Every non-empty document of a multi-document YAML stream, with the
/// YAML 1.1 traps in its text. Text in the shape mlk writes is read by
/// the reader of that subset; debug builds (every test run) check it
/// against serde_yaml and `yaml11::plain_traps`.
pub fn parse_stream(text: &str, component: &'static str) -> Result<Vec<Document>, String> {
    let text = checked(text)?;
    let values = block::read_with_traps(text).filter(|v| v.iter().all(|(v, _)| v.is_mapping()));
    let Some(values) = values else {
        return general_stream(text, component);
    };
    let docs: Vec<Document> = values
        .into_iter()
        .map(|(value, traps)| Document {
            component,
            value,
            traps,
        })
        .collect();
    #[cfg(debug_assertions)]
    {
        let theirs = general_stream(text, component)?;
        same_as_serde_yaml(&docs, &theirs)?;
        let traps = |d: &[Document]| d.iter().map(|d| d.traps.clone()).collect::<Vec<_>>();
        if traps(&docs) != traps(&theirs) {
            return Err(format!(
                "found traps {:?}, but yaml11 finds {:?}",
                traps(&docs),
                traps(&theirs)
            ));
        }
    }
    Ok(docs)
}

/// Any YAML stream, by serde_yaml, and its traps by `yaml11`.
fn general_stream(text: &str, component: &'static str) -> Result<Vec<Document>, String> {
    let mut traps = yaml11::plain_traps(text)?;
    let docs = read(text, component)?;
    let mut trapped = |(i, mut d): (usize, Document)| {
        d.traps = traps.get_mut(i).map(std::mem::take).unwrap_or_default();
        d
    };
    Ok(docs.into_iter().map(&mut trapped).collect())
}

/// The one document of `text`, a mapping, when the reader of mlk's own
/// subset reads all of it: what a spec or a profile usually is. `None`
/// leaves the text to serde_yaml. Debug builds (every test run) read it
/// both ways and compare.
pub fn read_mapping(text: &str) -> Option<serde_yaml::Value> {
    let mut docs = block::read(text)?;
    if docs.len() != 1 || !docs[0].is_mapping() {
        return None;
    }
    let value = serde_yaml::Value::from(docs.pop()?);
    #[cfg(debug_assertions)]
    assert_eq!(
        serde_yaml::from_str::<serde_yaml::Value>(text)
            .ok()
            .as_ref(),
        Some(&value),
        "the subset reader misread {text:?}"
    );
    Some(value)
}

/// Every non-empty document, for text mlk wrote itself: its plain scalars
/// and its nesting are the templates' own, so neither traps nor depth are
/// looked for. Most of it is read by the reader of the templates' own
/// subset; debug builds (every test run) check that against serde_yaml.
pub fn parse_values(text: &str, component: &'static str) -> Result<Vec<Document>, String> {
    let general = || Ok(read(text, component)?.into_iter().map(|(_, d)| d).collect());
    let values = block::read(text).filter(|v| v.iter().all(Value::is_mapping));
    let Some(values) = values else {
        return general();
    };
    let docs: Vec<Document> = values
        .into_iter()
        .map(|value| Document {
            component,
            value,
            traps: Vec::new(),
        })
        .collect();
    #[cfg(debug_assertions)]
    same_as_serde_yaml(&docs, &general()?)?;
    Ok(docs)
}

#[cfg(debug_assertions)]
fn same_as_serde_yaml(ours: &[Document], theirs: &[Document]) -> Result<(), String> {
    let ours: Vec<&Value> = ours.iter().map(|d| &d.value).collect();
    let theirs: Vec<&Value> = theirs.iter().map(|d| &d.value).collect();
    match ours == theirs {
        true => Ok(()),
        false => Err(format!("read as {ours:?}, but serde_yaml reads {theirs:?}")),
    }
}

/// The text without a byte-order mark, if it is not nested too deep.
fn checked(text: &str) -> Result<&str, String> {
    let text = crate::bounds::strip_bom(text);
    match crate::bounds::too_deep(text) {
        Some(line) => Err(format!("line {line}: {}", crate::bounds::depth_message())),
        None => Ok(text),
    }
}

/// The non-empty documents, each with its place in the stream.
fn read(text: &str, component: &'static str) -> Result<Vec<(usize, Document)>, String> {
    let mut docs = Vec::new();
    let values = serde_yaml::Deserializer::from_str(text).map(serde::Deserialize::deserialize);
    for (i, value) in values.enumerate() {
        let value: serde_yaml::Value = value.map_err(|e| e.to_string())?;
        let value = Value::from(value);
        if matches!(value, Value::Null) {
            continue;
        }
        if !value.is_mapping() {
            return Err(format!("document {} is not a mapping", i + 1));
        }
        let traps = Vec::new();
        docs.push((
            i,
            Document {
                component,
                value,
                traps,
            },
        ));
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Traps belong to the document they are in, whatever the separators.
    #[test]
    fn traps_stay_with_their_documents() {
        for text in [
            "a: 1\n---\n---\nb: yes\n",
            "---\na: 1\n---\nb: yes\n---\n",
            "# comment\n---\na: 1\n...\n---\nb: yes\n",
            "a: 1\n---\n# only a comment\n---\nb: yes\n",
        ] {
            let docs = parse_stream(text, "t").unwrap();
            assert_eq!(docs.len(), 2, "{text:?}");
            assert!(docs[0].traps.is_empty(), "{text:?}");
            assert_eq!(docs[1].traps.len(), 1, "{text:?}");
            assert_eq!(docs[1].traps[0].path, "b");
        }
    }
}
