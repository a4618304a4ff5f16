//! Which schema checks which `apiVersion` and `kind`: the core kinds from
//! k8s-openapi, mlk's built-in knowledge of the custom kinds it renders,
//! and CustomResourceDefinitions loaded with `--crd`.

use std::collections::BTreeMap;

use k8s_openapi::api::{apps, autoscaling, batch, core, networking, policy, rbac};
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::Value as Json;

use super::knowledge;
use super::schema::{Defs, EmptyObject, Schema};

/// The Kubernetes version whose schemas are compiled in (k8s-openapi's
/// `v1_37` feature): one version only.
pub const KUBE_VERSION: &str = "1.37";

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

const BUILTIN_CUSTOM: &[(&str, &str)] = &[
    (
        "schemas/servicemonitor.yaml",
        include_str!("../../schemas/servicemonitor.yaml"),
    ),
    (
        "schemas/inferenceservice.yaml",
        include_str!("../../schemas/inferenceservice.yaml"),
    ),
    (
        "schemas/cluster.yaml",
        include_str!("../../schemas/cluster.yaml"),
    ),
    (
        "schemas/scheduledbackup.yaml",
        include_str!("../../schemas/scheduledbackup.yaml"),
    ),
    (
        "schemas/httproute.yaml",
        include_str!("../../schemas/httproute.yaml"),
    ),
    (
        "schemas/externalsecret.yaml",
        include_str!("../../schemas/externalsecret.yaml"),
    ),
];

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

pub struct Catalog {
    defs: Defs,
    kinds: BTreeMap<(String, String), KindSchema>,
}

macro_rules! core_kinds {
    ($gen:ident, $($api:literal $kind:literal $ty:ty),* $(,)?) => {
        vec![$(($api, $kind, schema_of::<$ty>($gen))),*]
    };
}

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Json {
    generator.subschema_for::<T>().to_value()
}

impl Catalog {
    /// The core kinds and the custom kinds mlk knows itself.
    pub fn builtin() -> Catalog {
        let mut generator = SchemaGenerator::default();
        let g = &mut generator;
        let core = core_kinds![g,
            "v1" "Namespace" core::v1::Namespace,
            "v1" "Secret" core::v1::Secret,
            "v1" "ConfigMap" core::v1::ConfigMap,
            "v1" "Service" core::v1::Service,
            "v1" "ServiceAccount" core::v1::ServiceAccount,
            "v1" "Pod" core::v1::Pod,
            "v1" "PersistentVolumeClaim" core::v1::PersistentVolumeClaim,
            "apps/v1" "Deployment" apps::v1::Deployment,
            "apps/v1" "StatefulSet" apps::v1::StatefulSet,
            "apps/v1" "DaemonSet" apps::v1::DaemonSet,
            "batch/v1" "Job" batch::v1::Job,
            "batch/v1" "CronJob" batch::v1::CronJob,
            "networking.k8s.io/v1" "Ingress" networking::v1::Ingress,
            "networking.k8s.io/v1" "NetworkPolicy" networking::v1::NetworkPolicy,
            "policy/v1" "PodDisruptionBudget" policy::v1::PodDisruptionBudget,
            "autoscaling/v2" "HorizontalPodAutoscaler" autoscaling::v2::HorizontalPodAutoscaler,
            "rbac.authorization.k8s.io/v1" "Role" rbac::v1::Role,
            "rbac.authorization.k8s.io/v1" "RoleBinding" rbac::v1::RoleBinding,
        ];
        let mut defs = Defs::new();
        for (name, def) in generator.definitions() {
            let schema = Schema::from_json(def, EmptyObject::AnyFields)
                .unwrap_or_else(|e| panic!("k8s-openapi schema {name}: {e}"));
            defs.insert(name.clone(), schema);
        }
        knowledge::apply(&mut defs);
        let mut catalog = Catalog {
            defs,
            kinds: BTreeMap::new(),
        };
        for (api, kind, json) in core {
            let root = Schema::from_json(&json, EmptyObject::AnyFields).expect("a $ref");
            catalog.insert(api, kind, root, Source::Core);
        }
        for (file, text) in BUILTIN_CUSTOM {
            catalog
                .add_builtin(text)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
        }
        catalog
    }

    fn insert(&mut self, api: &str, kind: &str, root: Schema, source: Source) {
        let key = (api.to_owned(), kind.to_owned());
        self.kinds.insert(key, KindSchema { root, source });
    }

    fn add_builtin(&mut self, text: &str) -> Result<(), String> {
        let doc: Json = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        let field = |k: &str| doc[k].as_str().ok_or(format!("missing {k}"));
        let root = custom_root(&doc["openAPIV3Schema"])?;
        self.insert(field("apiVersion")?, field("kind")?, root, Source::Builtin);
        Ok(())
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
        self.kinds.get(&(api_version.to_owned(), kind.to_owned()))
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
