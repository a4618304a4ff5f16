//! Every pod an object runs, to change: the writing counterpart of
//! `gate::pods`, which finds the same pods to read. A stage that adds to
//! every pod (`pod_wide`, `disk`) reaches each place a pod is written.

use crate::gate::pods;
use crate::located::Located;
use crate::manifest::{Document, Value};

/// A pod's containers and where its volumes go, as one kind of object
/// writes them.
pub enum PodMut<'a> {
    /// A PodSpec: its containers, init containers and volumes.
    Spec(&'a mut Value),
    /// A part of an InferenceService: its model-format field (`model`,
    /// `sklearn`, ...) or `containers`, and `volumes` beside them.
    Component(&'a mut Value),
    /// A CloudNativePG Cluster: `env`, and files under `/projected`.
    Cluster(&'a mut Value),
}

/// Every pod `doc` runs, where `gate::pods` finds them: a pod template
/// (a workload's, a CronJob's, a Pod), each part of an InferenceService,
/// a CloudNativePG Cluster.
pub fn for_each_pod(
    doc: &mut Document,
    mut f: impl FnMut(PodMut) -> Result<(), Located>,
) -> Result<(), Located> {
    let api = doc.value["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let kind = doc.kind().to_owned();
    if let Some(t) = pods::template_path(&kind) {
        let path = t.iter().chain(&["spec"]);
        return match path
            .into_iter()
            .try_fold(&mut doc.value, |v, k| v.get_mut(k))
        {
            Some(spec) => f(PodMut::Spec(spec)),
            None => Ok(()),
        };
    }
    let Some(spec) = doc.value.get_mut("spec") else {
        return Ok(());
    };
    match (api.as_str(), kind.as_str()) {
        (pods::KSERVE_API, "InferenceService") => {
            for component in pods::KSERVE_COMPONENTS {
                if let Some(c) = spec.get_mut(component).filter(|c| c.is_mapping()) {
                    f(PodMut::Component(c))?;
                }
            }
            Ok(())
        }
        (pods::CNPG_API, "Cluster") => f(PodMut::Cluster(spec)),
        _ => Ok(()),
    }
}

pub fn seq_mut<'a>(v: &'a mut Value, key: &str) -> impl Iterator<Item = &'a mut Value> {
    v.get_mut(key)
        .and_then(Value::as_sequence_mut)
        .into_iter()
        .flatten()
}

/// Appends `item` to the list at `v[key]`, making the list if need be.
pub fn push_to(v: &mut Value, key: &str, item: Value) {
    let Some(m) = v.as_mapping_mut() else { return };
    if !m.get(key).is_some_and(Value::is_sequence) {
        m.insert(key.into(), Value::Sequence(Vec::new()));
    }
    if let Some(list) = m.get_mut(key).and_then(Value::as_sequence_mut) {
        list.push(item);
    }
}
