//! Stage 5b: a `checksum/config` annotation on each pod template, over the
//! Secrets and ConfigMaps it reads. Kubernetes restarts nothing when a
//! Secret changes; a changed annotation rolls exactly the pods that read
//! it. What a pod reads is read from its own template, so the checksum can
//! never miss a reference the template makes.

use std::collections::BTreeMap;

use crate::manifest::Value;
use sha2::{Digest, Sha256};

use crate::manifest::Document;

pub const ANNOTATION: &str = "checksum/config";

type Key = (String, String, String);

/// Jobs are left alone: a Job's template cannot change, and mlk names the
/// bucket Job after a hash of it instead.
pub fn annotate(docs: &mut [Document]) {
    let data = config_data(docs);
    for doc in docs.iter_mut() {
        let ns = template_ns(&doc.value);
        let template = match doc.kind() {
            "Deployment" | "StatefulSet" | "DaemonSet" => &mut doc.value["spec"]["template"],
            "CronJob" => &mut doc.value["spec"]["jobTemplate"]["spec"]["template"],
            _ => continue,
        };
        let refs = references(&template["spec"]);
        if refs.is_empty() {
            continue;
        }
        let sum = checksum(&ns, &refs, &data);
        set_annotation(template, sum);
    }
}

fn template_ns(v: &Value) -> String {
    v["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Every Secret's and ConfigMap's values, by kind, `namespace/name` and key.
fn config_data(docs: &[Document]) -> BTreeMap<Key, String> {
    let mut out = BTreeMap::new();
    for doc in docs
        .iter()
        .filter(|d| matches!(d.kind(), "Secret" | "ConfigMap"))
    {
        let ns = doc.namespace().unwrap_or_default();
        for field in ["data", "stringData", "binaryData"] {
            let Some(m) = doc.value[field].as_mapping() else {
                continue;
            };
            for (k, v) in m {
                let scope = format!("{ns}/{}", doc.name());
                let field = k.as_str().unwrap_or_default().to_owned();
                let value = v.as_str().unwrap_or_default().to_owned();
                out.insert((doc.kind().to_owned(), scope, field), value);
            }
        }
    }
    out
}

/// What a pod spec reads: (kind, name, key), the key empty for a whole
/// object; sorted and unique.
fn references(spec: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for list in ["initContainers", "containers"] {
        for c in items(&spec[list]) {
            for e in items(&c["env"]) {
                for (field, kind) in [("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")]
                {
                    let r = &e["valueFrom"][field];
                    if let (Some(n), Some(k)) = (r["name"].as_str(), r["key"].as_str()) {
                        out.push((kind.into(), n.into(), k.into()));
                    }
                }
            }
            for e in items(&c["envFrom"]) {
                for (field, kind) in [("secretRef", "Secret"), ("configMapRef", "ConfigMap")] {
                    if let Some(n) = e[field]["name"].as_str() {
                        out.push((kind.into(), n.into(), String::new()));
                    }
                }
            }
        }
    }
    for v in items(&spec["volumes"]) {
        if let Some(n) = v["secret"]["secretName"].as_str() {
            out.push(("Secret".into(), n.into(), String::new()));
        }
        if let Some(n) = v["configMap"]["name"].as_str() {
            out.push(("ConfigMap".into(), n.into(), String::new()));
        }
        for source in items(&v["projected"]["sources"]) {
            for (field, kind) in [("secret", "Secret"), ("configMap", "ConfigMap")] {
                let Some(n) = source[field]["name"].as_str() else {
                    continue;
                };
                let keys = items(&source[field]["items"]);
                if keys.is_empty() {
                    out.push((kind.into(), n.into(), String::new()));
                }
                for item in keys {
                    let k = item["key"].as_str().unwrap_or_default();
                    out.push((kind.into(), n.into(), k.into()));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn items(v: &Value) -> &[Value] {
    v.as_sequence().map_or(&[], Vec::as_slice)
}

/// SHA-256 over each reference and the values it reads in this stream;
/// an object from outside the stream counts by its name alone.
fn checksum(ns: &str, refs: &[(String, String, String)], data: &BTreeMap<Key, String>) -> String {
    let mut h = Sha256::new();
    for (kind, name, key) in refs {
        h.update(format!("{kind}\0{name}\0{key}\0").as_bytes());
        let scope = format!("{ns}/{name}");
        for ((k, n, field), value) in data {
            let wanted = k == kind && *n == scope && (key.is_empty() || field == key);
            if wanted {
                h.update(format!("{field}\0{value}\0").as_bytes());
            }
        }
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn set_annotation(template: &mut Value, sum: String) {
    let meta = &mut template["metadata"];
    if !meta["annotations"].is_mapping() {
        meta["annotations"] = Value::Mapping(Default::default());
    }
    meta["annotations"][ANNOTATION] = Value::String(sum.into());
}
