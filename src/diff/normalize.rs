//! Objects as a diff compares them: without what the API server adds, and
//! with Secret values masked.

use crate::manifest::{Mapping, Value};

/// Metadata the API server writes; never a change mlk would make.
const SERVER_METADATA: [&str; 8] = [
    "uid",
    "resourceVersion",
    "managedFields",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];
/// Annotations controllers and kubectl write.
const SERVER_ANNOTATIONS: [&str; 3] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "pv.kubernetes.io/bind-completed",
];

/// Whether the object was read back from a cluster (`kubectl get -o
/// yaml`): it then carries fields the API server defaulted.
pub fn is_live(v: &Value) -> bool {
    v.get("status").is_some()
        || v["metadata"].get("uid").is_some()
        || v["metadata"].get("resourceVersion").is_some()
}

/// Whether `strip_server_fields` would take anything out.
pub fn has_server_fields(v: &Value) -> bool {
    let meta = &v["metadata"];
    let annotations = &meta["annotations"];
    v.get("status").is_some()
        || SERVER_METADATA.iter().any(|k| meta.get(*k).is_some())
        || SERVER_ANNOTATIONS
            .iter()
            .any(|k| annotations.get(*k).is_some())
}

/// Drops status and server metadata.
pub fn strip_server_fields(v: &mut Value) {
    let Some(m) = v.as_mapping_mut() else { return };
    m.remove("status");
    if let Some(Value::Mapping(meta)) = m.get_mut("metadata") {
        for key in SERVER_METADATA {
            meta.remove(key);
        }
        if let Some(Value::Mapping(a)) = meta.get_mut("annotations") {
            for key in SERVER_ANNOTATIONS {
                a.remove(key);
            }
            if a.is_empty() {
                meta.remove("annotations");
            }
        }
    }
}

/// `live` without what `desired` does not set: the fields the API server
/// defaulted (a Service's `clusterIP`, a container's
/// `terminationMessagePath`), so that a diff shows only what applying
/// `desired` changes. Lists are compared item by item.
pub fn only_what_is_set(live: &Value, desired: &Value) -> Value {
    match (live, desired) {
        (Value::Mapping(l), Value::Mapping(d)) => {
            let mut out = Mapping::new();
            let l = l.lookup();
            for (k, dv) in d {
                if let Some(lv) = l.get(k) {
                    out.insert(k.clone(), only_what_is_set(lv, dv));
                }
            }
            Value::Mapping(out)
        }
        (Value::Sequence(l), Value::Sequence(d)) if l.len() == d.len() => Value::Sequence(
            l.iter()
                .zip(d)
                .map(|(lv, dv)| only_what_is_set(lv, dv))
                .collect(),
        ),
        _ => live.clone(),
    }
}

/// A Secret's values as `***`, with `(changed)` where `other` (the old
/// version) holds a different one: a diff says that a key changed, never
/// from or to what.
pub fn mask_secret(v: &Value, other: Option<&Value>) -> Value {
    let mut out = v.clone();
    if v["kind"] != "Secret" {
        return out;
    }
    for field in ["data", "stringData"] {
        let Some(Value::Mapping(data)) = out.get_mut(field) else {
            continue;
        };
        let theirs = other
            .and_then(|o| o[field].as_mapping())
            .map(Mapping::lookup);
        for (key, value) in data.iter_mut() {
            let theirs = theirs.as_ref().and_then(|t| t.get(key));
            let masked = match theirs {
                Some(t) if t != value => "*** (changed)",
                _ => "***",
            };
            *value = Value::String(masked.into());
        }
    }
    out
}
