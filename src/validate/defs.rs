//! The named definitions that core kinds' schemas point into, compiled in
//! by build.rs in `schema_code`'s compact form and read the first time a
//! document needs one: a run checks only the kinds it meets, so it reads
//! only their part of the Kubernetes API, and parses no JSON for it.

use std::sync::OnceLock;

use super::knowledge;
use super::schema::Schema;
use super::schema_code;

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

fn read((name, code): (&str, &'static str)) -> Schema {
    let mut schema = schema_code::decode(code)
        .unwrap_or_else(|| panic!("k8s-openapi schema {name}: not in schema_code's form"));
    knowledge::apply(name, &mut schema);
    schema
}

impl Schema {
    /// Follows `reference` through `defs`.
    pub fn resolve<'a>(&'a self, defs: &'a Defs) -> &'a Schema {
        let mut s = self;
        while let Some(r) = &s.reference {
            match defs.get(r) {
                Some(d) => s = d,
                None => break,
            }
        }
        s
    }
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

    /// The compact form reads back as exactly the schema its JSON reads
    /// as, for every definition.
    #[test]
    fn the_compact_form_is_the_json_schema() {
        use super::super::schema::EmptyObject;
        assert_eq!(data::CORE_DEFS.len(), data::CORE_DEFS_JSON.len());
        for ((name, code), (json_name, json)) in data::CORE_DEFS.iter().zip(data::CORE_DEFS_JSON) {
            assert_eq!(name, json_name);
            let want = Schema::from_json_text(json, EmptyObject::AnyFields).unwrap();
            assert_eq!(schema_code::decode(code), Some(want), "{name}");
        }
    }
}
