//! The named definitions that core kinds' schemas point into, compiled in
//! by build.rs as JSON and read the first time a document needs one: a
//! run checks only the kinds it meets, so it reads only their part of the
//! Kubernetes API.

use std::sync::OnceLock;

use super::knowledge;
use super::schema::{EmptyObject, Schema};

mod data {
    include!(concat!(env!("OUT_DIR"), "/catalog_data.rs"));
}

pub use data::{CORE_KINDS, CUSTOM_KINDS};

pub struct Defs {
    read: Vec<OnceLock<Schema>>,
}

impl Defs {
    pub fn core() -> Defs {
        Defs {
            read: data::CORE_DEFS.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    /// The definition of that name, with mlk's knowledge added.
    pub fn get(&self, name: &str) -> Option<&Schema> {
        let i = data::CORE_DEFS
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()?;
        Some(self.read[i].get_or_init(|| read(data::CORE_DEFS[i])))
    }
}

fn read((name, json): (&str, &str)) -> Schema {
    let mut schema = Schema::from_json_text(json, EmptyObject::AnyFields)
        .unwrap_or_else(|e| panic!("k8s-openapi schema {name}: {e}"));
    knowledge::apply(name, &mut schema);
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every definition reads, so a lazy read can never panic in a run.
    #[test]
    fn every_definition_reads() {
        let defs = Defs::core();
        for (name, _) in data::CORE_DEFS {
            assert!(defs.get(name).is_some(), "{name}");
        }
        assert!(defs.get("io.k8s.api.core.v1.PodSpec").is_some());
        assert!(defs.get("no.such.Definition").is_none());
    }
}
