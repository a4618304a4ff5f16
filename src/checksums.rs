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
        let path: &[&str] = match doc.kind() {
            "Deployment" | "StatefulSet" | "DaemonSet" => &["spec", "template"],
            "CronJob" => &["spec", "jobTemplate", "spec", "template"],
            _ => continue,
        };
        // A patch may have given the object any shape: one that has no
        // template mapping there gets no annotation (the schema check
        // reports it).
        let Some(template) = mapping_at(&mut doc.value, path) else {
            continue;
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

/// The mapping at `path`, when every step is one.
fn mapping_at<'v>(v: &'v mut Value, path: &[&str]) -> Option<&'v mut Value> {
    let mut v = v;
    for key in path {
        v = v.as_mapping_mut()?.get_mut(*key)?;
    }
    v.is_mapping().then_some(v)
}

fn set_annotation(template: &mut Value, sum: String) {
    let meta = &mut template["metadata"];
    if meta.is_null() {
        *meta = Value::Mapping(Default::default());
    }
    let Some(meta) = meta.as_mapping_mut() else {
        return;
    };
    let annotations = meta
        .get_mut("annotations")
        .filter(|a| a.is_mapping())
        .and_then(Value::as_mapping_mut);
    match annotations {
        Some(a) => {
            a.insert(ANNOTATION.into(), Value::String(sum.into()));
        }
        None => {
            let mut a = crate::manifest::Mapping::new();
            a.insert(ANNOTATION.into(), Value::String(sum.into()));
            meta.insert("annotations".into(), Value::Mapping(a));
        }
    }
}
