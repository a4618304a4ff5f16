//! Which schema checks which `apiVersion` and `kind`: the core kinds from
//! k8s-openapi, mlk's built-in knowledge of the custom kinds it renders,
//! and CustomResourceDefinitions loaded with `--crd`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value as Json;

use super::defs::{CORE_KINDS, CUSTOM_KINDS, Defs};
use super::schema::{EmptyObject, Schema};

/// The Kubernetes version whose schemas are compiled in (k8s-openapi's
/// `v1_37` feature): one version only.
pub const KUBE_VERSION: &str = "1.37";

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Core,
    /// mlk's own knowledge of the fields it renders.
    Builtin,
    /// A CRD file given with `--crd`.
    Crd(String),
}

#[derive(Debug, Clone)]
pub struct KindSchema {
    pub root: Schema,
    pub source: Source,
}

/// A kind's schema, or the compiled-in JSON it is read from when first
/// asked for.
struct Entry {
    schema: OnceLock<KindSchema>,
    builtin: Option<(&'static str, &'static str)>,
}

pub struct Catalog {
    defs: Defs,
    /// Custom kinds, by apiVersion then kind (looked up without
    /// allocating): mlk's own and those of `--crd`.
    kinds: BTreeMap<String, BTreeMap<String, Entry>>,
    /// Each of `CORE_KINDS` (sorted), made when first asked for: a render
    /// asks for a dozen of the hundred.
    core: Box<[OnceLock<KindSchema>]>,
}

impl Catalog {
    /// The core kinds and the custom kinds mlk knows itself (build.rs).
    pub fn builtin() -> Catalog {
        let mut catalog = Catalog {
            defs: Defs::core(),
            kinds: BTreeMap::new(),
            core: CORE_KINDS.iter().map(|_| OnceLock::new()).collect(),
        };
        for (api, kind, file, json) in CUSTOM_KINDS {
            let entry = Entry {
                schema: OnceLock::new(),
                builtin: Some((file, json)),
            };
            catalog.put(api, kind, entry);
        }
        catalog
    }

    fn insert(&mut self, api: &str, kind: &str, root: Schema, source: Source) {
        let entry = Entry {
            schema: OnceLock::from(KindSchema { root, source }),
            builtin: None,
        };
        self.put(api, kind, entry);
    }

    fn put(&mut self, api: &str, kind: &str, entry: Entry) {
        let kinds = self.kinds.entry(api.to_owned()).or_default();
        kinds.insert(kind.to_owned(), entry);
    }

    /// Loads every CustomResourceDefinition in `text`; a version it
    /// declares replaces mlk's built-in knowledge of that kind. Returns
    /// how many versions were loaded.
    pub fn add_crds(&mut self, text: &str, file: &str) -> Result<usize, String> {
        let mut loaded = 0;
        for de in serde_yaml::Deserializer::from_str(text) {
            let doc: Json = serde::Deserialize::deserialize(de).map_err(|e| e.to_string())?;
            if doc.is_null() {
                continue;
            }
            if doc["kind"] != "CustomResourceDefinition" {
                return Err(format!(
                    "{} is not a CustomResourceDefinition",
                    doc["kind"].as_str().unwrap_or("a document without a kind")
                ));
            }
            let group = doc["spec"]["group"].as_str().ok_or("no spec.group")?;
            let kind = doc["spec"]["names"]["kind"]
                .as_str()
                .ok_or("no spec.names.kind")?;
            for v in doc["spec"]["versions"]
                .as_array()
                .ok_or("no spec.versions")?
            {
                let name = v["name"].as_str().ok_or("a version without a name")?;
                let schema = &v["schema"]["openAPIV3Schema"];
                let root = custom_root(schema).map_err(|e| format!("{kind} {name}: {e}"))?;
                let api = format!("{group}/{name}");
                self.insert(&api, kind, root, Source::Crd(file.to_owned()));
                loaded += 1;
            }
        }
        Ok(loaded)
    }

    pub fn lookup(&self, api_version: &str, kind: &str) -> Option<&KindSchema> {
        // A CRD given with --crd comes first, even for a built-in kind.
        let custom = self.kinds.get(api_version).and_then(|k| k.get(kind));
        let Some(entry) = custom else {
            let key = (api_version, kind);
            let i = CORE_KINDS
                .binary_search_by(|(a, k, _)| (*a, *k).cmp(&key))
                .ok()?;
            return Some(self.core[i].get_or_init(|| KindSchema {
                root: Schema {
                    reference: Some(CORE_KINDS[i].2.into()),
                    ..Schema::default()
                },
                source: Source::Core,
            }));
        };
        Some(entry.schema.get_or_init(|| {
            let (file, json) = entry.builtin.expect("a kind without a schema is built in");
            let read = serde_json::from_str(json).map_err(|e| e.to_string());
            let root = read.and_then(|j: Json| custom_root(&j));
            KindSchema {
                root: root.unwrap_or_else(|e| panic!("{file}: {e}")),
                source: Source::Builtin,
            }
        }))
    }

    pub fn defs(&self) -> &Defs {
        &self.defs
    }
}

/// A custom kind's schema, with `apiVersion`, `kind` and `metadata` as the
/// API server checks them whatever the CRD says.
fn custom_root(schema: &Json) -> Result<Schema, String> {
    if !schema.is_object() {
        return Err("no openAPIV3Schema".into());
    }
    let mut root = Schema::from_json(schema, EmptyObject::NoFields)?;
    for k in ["apiVersion", "kind"] {
        let s = Schema::from_json(
            &serde_json::json!({"type": "string"}),
            EmptyObject::NoFields,
        )?;
        root.properties.insert(k.into(), s);
    }
    let meta = Schema {
        reference: Some(OBJECT_META.into()),
        ..Schema::default()
    };
    root.properties.insert("metadata".into(), meta);
    root.required.push("metadata".into());
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every built-in kind reads, so a lazy read can never panic in a run.
    #[test]
    fn every_builtin_kind_reads() {
        let catalog = Catalog::builtin();
        for (api, kind, _) in CORE_KINDS {
            assert_eq!(catalog.lookup(api, kind).unwrap().source, Source::Core);
        }
        for (api, kind, _, _) in CUSTOM_KINDS {
            let read = catalog.lookup(api, kind).unwrap();
            assert_eq!(read.source, Source::Builtin, "{kind}");
            assert!(read.root.properties.contains_key("spec"), "{kind}");
        }
    }
}
