//! What operators create from the custom objects mlk renders: the pods of
//! a CloudNativePG Cluster and of a KServe InferenceService, the Secret
//! CloudNativePG generates, and the one an ExternalSecret writes. References to them (a NetworkPolicy
//! selecting the pods, an env var reading the Secret) then resolve.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::manifest::Value;

use super::pods::{Labels, Pod, str_map};
use crate::field_path::Path;
use crate::manifest::Document;

const CNPG_API: &str = "postgresql.cnpg.io/v1";
const KSERVE_API: &str = "serving.kserve.io/v1beta1";
const ESO_API: &str = "external-secrets.io/v1";
/// The keys of the `NAME-app` Secret CloudNativePG writes for the owner.
const CNPG_APP_KEYS: [&str; 8] = [
    "username", "password", "host", "port", "dbname", "uri", "jdbc-uri", "pgpass",
];
/// What MLServer and `mlflow models build-docker` images listen on.
const PREDICTOR_PORT: u16 = 8080;

fn api(doc: &Document) -> Option<&str> {
    doc.value["apiVersion"].as_str()
}

/// A pod with these labels and spec, standing for all the pods the
/// operator runs for `doc`.
fn operated<'a>(doc: &'a Document, labels: Labels<'a>, spec: Cow<'a, Value>) -> Pod<'a> {
    Pod {
        doc,
        at: Path::root(),
        labels,
        spec,
        operated: true,
    }
}

/// `containers: [{name: operated, ports: PORTS}]`
fn spec_with_ports(ports: Vec<Value>) -> Value {
    let container = crate::manifest::Mapping::from_iter([
        (Value::from("name"), Value::from("operated")),
        (Value::from("ports"), Value::Sequence(ports)),
    ]);
    let containers = Value::Sequence(vec![Value::Mapping(container)]);
    Value::Mapping(crate::manifest::Mapping::from_iter([(
        Value::from("containers"),
        containers,
    )]))
}

/// The pods of every predictor that runs KServe's model server rather
/// than containers of its own: one spec, shared.
fn model_server() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| spec_with_ports(vec![port(None, PREDICTOR_PORT)]))
}

fn port(name: Option<&str>, number: u16) -> Value {
    let mut p = crate::manifest::Mapping::new();
    if let Some(name) = name {
        p.insert("name".into(), name.into());
    }
    p.insert("containerPort".into(), u64::from(number).into());
    Value::Mapping(p)
}

pub fn pods(doc: &Document) -> Vec<Pod<'_>> {
    let name = doc.name();
    match (api(doc), doc.kind()) {
        (Some(CNPG_API), "Cluster") => {
            let mut labels = str_map(&doc.value["spec"]["inheritedMetadata"]["labels"]);
            labels.insert("cnpg.io/cluster", name);
            let ports = vec![
                port(Some("postgresql"), 5432),
                port(Some("metrics"), 9187),
                port(Some("status"), 8000),
            ];
            vec![operated(doc, labels, Cow::Owned(spec_with_ports(ports)))]
        }
        (Some(KSERVE_API), "InferenceService") => {
            let predictor = &doc.value["spec"]["predictor"];
            let mut labels = str_map(&predictor["labels"]);
            labels.insert("serving.kserve.io/inferenceservice", name);
            labels.insert("component", "predictor");
            let containers = predictor["containers"].as_sequence();
            let spec = match containers.filter(|c| !c.is_empty()) {
                None => Cow::Borrowed(model_server()),
                Some(containers) => {
                    let mut ports = vec![port(None, PREDICTOR_PORT)];
                    for c in containers {
                        ports.extend(c["ports"].as_sequence().into_iter().flatten().cloned());
                    }
                    Cow::Owned(spec_with_ports(ports))
                }
            };
            vec![operated(doc, labels, spec)]
        }
        _ => Vec::new(),
    }
}

/// A Secret the operator writes for `doc`: its name and keys.
pub fn secret(doc: &Document) -> Option<(String, Vec<String>)> {
    match (api(doc), doc.kind()) {
        (Some(CNPG_API), "Cluster") => Some((
            format!("{}-app", doc.name()),
            CNPG_APP_KEYS.iter().map(|k| (*k).to_owned()).collect(),
        )),
        (Some(ESO_API), "ExternalSecret") => {
            let spec = &doc.value["spec"];
            let name = spec["target"]["name"].as_str().unwrap_or(doc.name());
            let keys = spec["data"].as_sequence().into_iter().flatten();
            let keys = keys.filter_map(|d| d["secretKey"].as_str().map(str::to_owned));
            Some((name.to_owned(), keys.collect()))
        }
        _ => None,
    }
}
