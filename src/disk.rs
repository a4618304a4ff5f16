//! Stage 4c, run again after patches: every pod's use of the node's disk
//! is bounded, whatever template, builder, spec field or patch wrote the
//! pod. An emptyDir with no
//! `sizeLimit` gets `build::TMP_SIZE`; a container with no
//! `ephemeral-storage` gets a request for its logs, and a limit of its
//! logs, the disk-backed emptyDirs it mounts, and its root filesystem
//! when that is writable. A program that writes more is evicted, rather
//! than fill the node's disk under every other pod on it. What a spec, a
//! component or a patch sets is kept; the gate then refuses a bound that
//! bounds nothing (a size of 0).

use std::collections::BTreeMap;

use crate::context::workload::build::TMP_SIZE;
use crate::gate::pods;
use crate::manifest::{Document, Mapping, Value};
use crate::pod_mut::{PodMut, for_each_pod, seq_mut};
use crate::types::Quantity;

const MIB: f64 = 1024.0 * 1024.0;
/// What a container is expected to write: its logs, which the kubelet
/// rotates at 10 MiB times 5 files by default.
const REQUEST_MIB: f64 = 128.0;
/// Its logs at most, besides its volumes.
const LOGS_MIB: f64 = 512.0;
/// A writable root filesystem: what a model server unpacks or caches.
const WRITABLE_ROOT_MIB: f64 = 4096.0;

pub fn apply(docs: &mut [Document]) {
    for doc in docs {
        // Nothing here fails: a pod is only ever given what it lacks.
        let _ = for_each_pod(doc, |pod| {
            bound(pod);
            Ok(())
        });
    }
}

fn bound(pod: PodMut) {
    match pod {
        PodMut::Spec(spec) | PodMut::Component(spec) => {
            let sizes = size_volumes(spec);
            for list in ["initContainers", "containers"] {
                for c in seq_mut(spec, list) {
                    container(c, &sizes);
                }
            }
            for field in pods::KSERVE_CONTAINERS {
                if let Some(c) = spec.get_mut(field).filter(|c| c.is_mapping()) {
                    container(c, &sizes);
                }
            }
        }
        // One container, and the scratch volume CloudNativePG mounts in it.
        PodMut::Cluster(spec) => {
            let Some(limits) = entry(spec, "ephemeralVolumesSizeLimit") else {
                return;
            };
            if limits["temporaryData"].is_null() {
                insert(limits, "temporaryData", TMP_SIZE.into());
            }
            let mib = mebibytes(&limits["temporaryData"]).unwrap_or(0.0);
            set_disk(spec, LOGS_MIB + mib);
        }
    }
}

/// Gives every emptyDir a `sizeLimit`, and returns the size of each on
/// the node's disk (a memory-backed one counts against memory instead).
fn size_volumes(spec: &mut Value) -> BTreeMap<String, f64> {
    let mut sizes = BTreeMap::new();
    for v in seq_mut(spec, "volumes") {
        let name = v["name"].as_str().unwrap_or_default().to_owned();
        let Some(dir) = v.get_mut("emptyDir") else {
            continue;
        };
        if !dir.is_mapping() {
            *dir = Value::Mapping(Mapping::new());
        }
        if dir["sizeLimit"].is_null() {
            insert(dir, "sizeLimit", TMP_SIZE.into());
        }
        if dir["medium"] != "Memory" {
            sizes.insert(name, mebibytes(&dir["sizeLimit"]).unwrap_or(0.0));
        }
    }
    sizes
}

fn container(c: &mut Value, sizes: &BTreeMap<String, f64>) {
    let mounted: f64 = c["volumeMounts"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|m| sizes.get(m["name"].as_str()?))
        .sum();
    let writable = c["securityContext"]["readOnlyRootFilesystem"] != true;
    let root = if writable { WRITABLE_ROOT_MIB } else { 0.0 };
    set_disk(c, LOGS_MIB + mounted + root);
}

/// `resources.{requests,limits}.ephemeral-storage` where unset, the
/// request never above the limit.
fn set_disk(c: &mut Value, limit_mib: f64) {
    const KEY: &str = "ephemeral-storage";
    let Some(resources) = entry(c, "resources") else {
        return;
    };
    let limit = match mebibytes(&resources["limits"][KEY]) {
        Some(given) => given,
        None => {
            // Never below a request the spec gave: the API refuses that.
            let requested = mebibytes(&resources["requests"][KEY]).unwrap_or(0.0);
            let limit = limit_mib.max(requested);
            if let Some(limits) = entry(resources, "limits") {
                insert(limits, KEY, quantity(limit));
            }
            limit
        }
    };
    if resources["requests"][KEY].is_null()
        && let Some(requests) = entry(resources, "requests")
    {
        insert(requests, KEY, quantity(REQUEST_MIB.min(limit)));
    }
}

fn mebibytes(v: &Value) -> Option<f64> {
    let text = match v {
        Value::String(s) => s.to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Quantity::parse(&text).ok().map(|q| q.value() / MIB)
}

fn quantity(mib: f64) -> Value {
    Value::from(format!("{}Mi", mib.ceil() as u64))
}

/// The mapping at `v[key]`, made if missing or not a mapping; none when
/// `v` itself is no mapping (a patch may have made it anything).
fn entry<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    if !v[key].is_mapping() {
        insert(v, key, Value::Mapping(Mapping::new()));
    }
    v.get_mut(key).filter(|m| m.is_mapping())
}

fn insert(v: &mut Value, key: &str, value: Value) {
    if let Some(m) = v.as_mapping_mut() {
        m.insert(Value::from(key), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(text: &str) -> Value {
        serde_yaml::from_str::<serde_yaml::Value>(text)
            .map(Value::from)
            .unwrap()
    }

    #[test]
    fn limits_hold_logs_and_mounted_scratch_and_keep_what_is_given() {
        let mut spec = pod("volumes:\n- {name: tmp, emptyDir: {sizeLimit: 2Gi}}\n\
             - {name: mem, emptyDir: {medium: Memory}}\n- {name: bare, emptyDir: {}}\n\
             containers:\n\
             - {name: a, securityContext: {readOnlyRootFilesystem: true}, volumeMounts: [{name: tmp}, {name: mem}]}\n\
             - {name: b, resources: {limits: {ephemeral-storage: 64Mi}}}\n");
        bound(PodMut::Spec(&mut spec));
        let disk = |c: usize, which: &str| spec["containers"][c]["resources"][which][KEY].clone();
        const KEY: &str = "ephemeral-storage";
        assert_eq!(disk(0, "limits"), Value::from("2560Mi"));
        assert_eq!(disk(0, "requests"), Value::from("128Mi"));
        // Given, kept; the request is never above it.
        assert_eq!(disk(1, "limits"), Value::from("64Mi"));
        assert_eq!(disk(1, "requests"), Value::from("64Mi"));
        assert_eq!(
            spec["volumes"][1]["emptyDir"]["sizeLimit"],
            Value::from("1Gi")
        );
        assert_eq!(
            spec["volumes"][2]["emptyDir"]["sizeLimit"],
            Value::from("1Gi")
        );
    }
}
