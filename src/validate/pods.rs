//! The pods a stream of manifests will run: every pod template, and the
//! pods an operator creates from a custom object mlk knows.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::manifest::Value;

use crate::field_path::Path;
use crate::manifest::Document;

/// Label pairs, borrowed from the stream (or `'static` for those an
/// operator adds): indexing a stream copies no label.
pub type Labels<'a> = BTreeMap<&'a str, &'a str>;

pub struct Pod<'a> {
    pub doc: &'a Document,
    /// Where the pod template sits in its object (`spec.template`).
    pub at: Path,
    pub labels: Labels<'a>,
    pub spec: Cow<'a, Value>,
    /// Created by an operator: no template of the stream's own to check.
    pub operated: bool,
}

pub fn str_map(v: &Value) -> Labels<'_> {
    v.as_mapping()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?, v.as_str()?)))
                .collect()
        })
        .unwrap_or_default()
}

pub fn items(v: &Value) -> &[Value] {
    v.as_sequence().map_or(&[], Vec::as_slice)
}

pub fn template_of(doc: &Document) -> Option<Pod<'_>> {
    let v = &doc.value;
    let (at, template) = match doc.kind() {
        "Pod" => (Path::root(), v),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => (
            Path::root().key("spec").key("template"),
            &v["spec"]["template"],
        ),
        "CronJob" => {
            let at = Path::root()
                .key("spec")
                .key("jobTemplate")
                .key("spec")
                .key("template");
            (at, &v["spec"]["jobTemplate"]["spec"]["template"])
        }
        _ => return None,
    };
    Some(Pod {
        doc,
        at,
        labels: str_map(&template["metadata"]["labels"]),
        spec: Cow::Borrowed(&template["spec"]),
        operated: false,
    })
}

/// A label selector (`matchLabels`, `matchExpressions`) against labels.
pub fn selects(selector: &Value, labels: &Labels) -> bool {
    let exact = str_map(&selector["matchLabels"]);
    let by_labels = exact.iter().all(|(k, v)| labels.get(k) == Some(v));
    by_labels
        && items(&selector["matchExpressions"]).iter().all(|e| {
            let key = e["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = items(&e["values"])
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let has = labels.get(key);
            match e["operator"].as_str() {
                Some("In") => has.is_some_and(|v| values.contains(v)),
                Some("NotIn") => has.is_none_or(|v| !values.contains(v)),
                Some("Exists") => has.is_some(),
                Some("DoesNotExist") => has.is_none(),
                _ => false,
            }
        })
}

pub fn container_ports<'a>(pod: &'a Pod) -> impl Iterator<Item = &'a str> {
    indexed(&pod.spec)
        .flat_map(|(_, (_, c))| items(&c["ports"]))
        .filter_map(|p| p["name"].as_str())
}

/// Containers with their index within their own list.
pub fn indexed(spec: &Value) -> impl Iterator<Item = (usize, (&'static str, &Value))> {
    ["initContainers", "containers"]
        .into_iter()
        .flat_map(move |k| {
            items(&spec[k])
                .iter()
                .enumerate()
                .map(move |(i, c)| (i, (k, c)))
        })
}
