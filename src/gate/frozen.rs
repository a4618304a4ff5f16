//! What a patch may adjust around, but not change: the fields through
//! which an object reaches out or lets others in. A patch may add a
//! toleration, a resource or a new variable; it may not change what a
//! container mlk wrote runs or is told (its command, arguments and the
//! variables mlk set), which account a pod runs as, a Service's exposure,
//! a NetworkPolicy, a ServiceAccount's cloud identity, where backups go,
//! which model a predictor serves, or the annotations mlk wrote on a
//! front door. Each of those is set through the spec, where mlk checks it.

use super::pods::pods;
use crate::field_path::Trail;
use crate::manifest::{Document, Value};

/// Fields of whole objects, by kind.
const OBJECT_FIELDS: [(&str, &[&str], &str); 8] = [
    ("Service", &["spec", "type"], "a Service's type"),
    (
        "Service",
        &["spec", "externalIPs"],
        "a Service's external IPs",
    ),
    ("NetworkPolicy", &["spec"], "a NetworkPolicy"),
    (
        "ServiceAccount",
        &["metadata", "annotations"],
        "a ServiceAccount's annotations",
    ),
    (
        "ServiceAccount",
        &["automountServiceAccountToken"],
        "whether a ServiceAccount's token is mounted",
    ),
    (
        "Cluster",
        &["spec", "backup"],
        "where a Cluster's backups go",
    ),
    (
        "InferenceService",
        &["spec", "predictor", "model", "storageUri"],
        "which model a predictor serves",
    ),
    (
        "InferenceService",
        &["spec", "predictor", "serviceAccountName"],
        "which account a predictor runs as",
    ),
];

/// Fields of every container mlk wrote, found by its name.
const CONTAINER_FIELDS: [&str; 3] = ["command", "args", "envFrom"];

/// Fields of every pod mlk wrote.
const POD_FIELDS: [&str; 2] = ["serviceAccountName", "automountServiceAccountToken"];

/// Where a frozen value lies, found again after the patches.
#[derive(Clone)]
enum Spot {
    /// A path in the object.
    Path(Vec<String>),
    /// A field of the pod at this index among the object's pods.
    Pod(usize, &'static str),
    /// A field of the container of this name.
    Container(usize, String, &'static str),
    /// The last env entry of this name in the container of that name.
    Env(usize, String, String),
}

pub struct Frozen {
    object: usize,
    spot: Spot,
    what: String,
    value: Value,
}

/// Every frozen value of `doc`, the object at `object`.
pub fn take(object: usize, doc: &Document) -> Vec<Frozen> {
    let mut out = Vec::new();
    let mut keep = |spot: Spot, what: String| {
        let value = find(doc, &spot).cloned().unwrap_or(Value::Null);
        out.push(Frozen {
            object,
            spot,
            what,
            value,
        });
    };
    for (kind, path, what) in OBJECT_FIELDS {
        if doc.kind() == kind {
            let path = path.iter().map(|k| (*k).to_owned()).collect();
            keep(Spot::Path(path), what.to_owned());
        }
    }
    if front_door(doc) {
        let annotations = doc.value["metadata"]["annotations"].as_mapping();
        for key in annotations
            .into_iter()
            .flatten()
            .filter_map(|(k, _)| k.as_str())
        {
            let path = vec!["metadata".into(), "annotations".into(), key.to_owned()];
            keep(
                Spot::Path(path),
                format!("the annotation {key}, which mlk set"),
            );
        }
    }
    for (p, pod) in pods(doc).iter().enumerate() {
        for field in POD_FIELDS {
            keep(Spot::Pod(p, field), format!("a pod's {field}"));
        }
        for c in &pod.containers {
            let Some(name) = c.value["name"].as_str() else {
                continue;
            };
            for field in CONTAINER_FIELDS {
                let what = format!("the {field} of container {name:?}");
                keep(Spot::Container(p, name.to_owned(), field), what);
            }
            let env = c.value["env"].as_sequence().into_iter().flatten();
            for var in env.filter_map(|e| e["name"].as_str()) {
                let what = format!("the variable {var} of container {name:?}");
                keep(Spot::Env(p, name.to_owned(), var.to_owned()), what);
            }
        }
    }
    out
}

fn front_door(doc: &Document) -> bool {
    matches!(
        doc.kind(),
        "Ingress" | "HTTPRoute" | "GRPCRoute" | "Gateway"
    )
}

fn find<'d>(doc: &'d Document, spot: &Spot) -> Option<&'d Value> {
    let container = |p: usize, name: &str| -> Option<&'d Value> {
        let all = pods(doc);
        let pod = all.get(p)?;
        let c = pod.containers.iter().find(|c| c.value["name"] == name)?;
        Some(c.value)
    };
    let found = match spot {
        Spot::Path(path) => Some(path.iter().fold(&doc.value, |v, k| &v[k.as_str()])),
        Spot::Pod(p, field) => pods(doc).get(*p).map(|pod| match &pod.spec {
            std::borrow::Cow::Borrowed(spec) => &spec[*field],
            std::borrow::Cow::Owned(_) => &Value::Null,
        }),
        Spot::Container(p, name, field) => container(*p, name).map(|c| &c[*field]),
        Spot::Env(p, name, var) => container(*p, name).and_then(|c| {
            let env = c["env"].as_sequence()?;
            env.iter().rev().find(|e| e["name"] == var.as_str())
        }),
    };
    found.filter(|v| !v.is_null())
}

/// Each frozen value a patch changed: the object, where, and the
/// message. A container a patch removed is one change, not one per field.
pub fn changed(frozen: &[Frozen], docs: &[Document]) -> Vec<(usize, Trail, String)> {
    let mut out = Vec::new();
    let mut gone: Vec<(usize, usize, &str)> = Vec::new();
    for f in frozen {
        let doc = &docs[f.object];
        if let Spot::Container(p, name, _) | Spot::Env(p, name, _) = &f.spot {
            let all = pods(doc);
            let here = all.get(*p).is_some_and(|pod| {
                pod.containers
                    .iter()
                    .any(|c| c.value["name"] == name.as_str())
            });
            if !here {
                if !gone.contains(&(f.object, *p, name.as_str())) {
                    gone.push((f.object, *p, name.as_str()));
                    let msg = format!(
                        "a patch may not remove the container {name:?} that mlk wrote: set \
                         containers through the spec"
                    );
                    out.push((f.object, where_(doc, &Spot::Pod(*p, "containers")), msg));
                }
                continue;
            }
        }
        let now = find(doc, &f.spot).unwrap_or(&Value::Null);
        if *now != f.value {
            let msg = format!("a patch may not change {}: set it through the spec", f.what);
            out.push((f.object, where_(doc, &f.spot), msg));
        }
    }
    out
}

/// Where a spot is written, for the message.
fn where_(doc: &Document, spot: &Spot) -> Trail {
    let all = pods(doc);
    let in_pod = |p: usize, name: Option<&str>| -> Trail {
        let Some(pod) = all.get(p) else {
            return Trail::root();
        };
        let c = name.and_then(|n| pod.containers.iter().find(|c| c.value["name"] == n));
        match c {
            Some(c) => pod.container_at(c),
            None => pod.at(),
        }
    };
    match spot {
        Spot::Path(path) => path.iter().fold(Trail::root(), |t, k| t.key(k)),
        Spot::Pod(p, field) => in_pod(*p, None).key(field),
        Spot::Container(p, name, field) => in_pod(*p, Some(name)).key(field),
        Spot::Env(p, name, _) => in_pod(*p, Some(name)).key("env"),
    }
}
