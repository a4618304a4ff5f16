//! The one visitor that finds every pod an object will run, wherever its
//! spec sits: a workload's template, a CronJob's job template, a bare Pod,
//! an InferenceService's predictor, transformer and explainer (and a
//! predictor's worker), and the instances a CloudNativePG Cluster runs.
//! No check looks for pods on its own, so none forgets a place.

use std::borrow::Cow;

use crate::field_path::Trail;
use crate::manifest::{Document, Mapping, Value};

const OBJECT_ANNOTATIONS: Place = Place::new(&["metadata", "annotations"]);

pub const KSERVE_API: &str = "serving.kserve.io/v1beta1";
pub const CNPG_API: &str = "postgresql.cnpg.io/v1";
/// An InferenceService's parts, each a pod of its own.
pub const KSERVE_COMPONENTS: [&str; 3] = ["predictor", "transformer", "explainer"];

/// The fields of an InferenceService component that hold one container
/// each: the model formats KServe knows, besides `containers`.
pub const KSERVE_CONTAINERS: [&str; 13] = [
    "model",
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "huggingface",
    "pmml",
    "lightgbm",
    "paddle",
    "art",
    "alibi",
];

/// A place in an object made of names known when mlk was built: where a
/// pod spec or its annotations sit. It costs nothing to keep, and is
/// written out as a path only for a finding.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    keys: [&'static str; DEPTH],
    len: usize,
}

/// The deepest place a pod is found at: a CronJob's template annotations
/// (`spec.jobTemplate.spec.template.metadata.annotations`) take 6.
const DEPTH: usize = 8;

impl Place {
    const fn new(path: &[&'static str]) -> Place {
        let mut keys = [""; DEPTH];
        let mut i = 0;
        while i < path.len() {
            keys[i] = path[i];
            i += 1;
        }
        Place {
            keys,
            len: path.len(),
        }
    }

    fn then(mut self, key: &'static str) -> Place {
        self.keys[self.len] = key;
        self.len += 1;
        self
    }

    pub fn trail(&self) -> Trail {
        self.keys[..self.len]
            .iter()
            .fold(Trail::root(), |t, k| t.key(k))
    }
}

/// Where a container sits in its pod spec.
#[derive(Debug, Clone, Copy)]
pub enum Slot {
    /// `containers[3]`, `initContainers[0]`, ...
    Listed(&'static str, usize),
    /// One of KServe's model fields: `model`, `sklearn`, ...
    Field(&'static str),
    /// The pod spec itself (a CloudNativePG Cluster's `securityContext`).
    Spec,
}

/// One pod as Pod Security sees it.
pub struct PodView<'a> {
    /// The pod-level fields (`securityContext`, `volumes`, `hostNetwork`, ...).
    pub spec: Cow<'a, Value>,
    /// The pod's securityContext, looked up once for every check.
    pub security: Cow<'a, Value>,
    pub containers: Vec<ContainerView<'a>>,
    /// Every set of annotations the pod will carry, each with where it
    /// is written: AppArmor was once set there. KServe and CloudNativePG
    /// copy more than one onto the pods they run.
    pub annotations: Vec<(&'a Value, Place)>,
    /// A Windows pod, exempt from the Linux-only restricted rules.
    pub windows: bool,
    place: Place,
    security_key: &'static str,
}

pub struct ContainerView<'a> {
    pub value: &'a Value,
    /// Its securityContext, looked up once for every check.
    pub security: Cow<'a, Value>,
    pub slot: Slot,
}

impl<'a> ContainerView<'a> {
    fn new(value: &'a Value, slot: Slot) -> Self {
        ContainerView {
            security: Cow::Borrowed(&value["securityContext"]),
            value,
            slot,
        }
    }
}

impl PodView<'_> {
    /// Windows pods are exempt from the Linux-only restricted rules.
    pub fn is_windows(&self) -> bool {
        self.windows
    }

    pub fn security(&self) -> &Value {
        &self.security
    }

    /// Where the pod spec sits in its object.
    pub fn at(&self) -> Trail {
        self.place.trail()
    }

    /// Where the pod's securityContext is written.
    pub fn security_at(&self) -> Trail {
        self.place.then(self.security_key).trail()
    }

    /// Where a container of this pod sits.
    pub fn container_at(&self, c: &ContainerView) -> Trail {
        match c.slot {
            Slot::Listed(list, i) => self.place.then(list).trail().index(i),
            Slot::Field(key) => self.place.then(key).trail(),
            Slot::Spec => self.at(),
        }
    }

    /// Where a container's securityContext is written.
    pub fn container_security_at(&self, c: &ContainerView) -> Trail {
        self.container_at(c).key("securityContext")
    }
}

fn items(v: &Value) -> &[Value] {
    v.as_sequence().map_or(&[], Vec::as_slice)
}

/// Every pod `doc` runs.
pub fn pods(doc: &Document) -> Vec<PodView<'_>> {
    let v = &doc.value;
    let template = |t: &'static [&'static str]| -> Vec<PodView<'_>> {
        let at = Place::new(t);
        let template = t.iter().fold(v, |v, k| &v[*k]);
        let spec = at.then("spec");
        let meta = at.then("metadata").then("annotations");
        vec![plain(
            &template["spec"],
            spec,
            &template["metadata"]["annotations"],
            meta,
        )]
    };
    if let Some(t) = template_path(doc.kind()) {
        return template(t);
    }
    match (v["apiVersion"].as_str(), doc.kind()) {
        (Some(KSERVE_API), "InferenceService") => inference_service(v),
        (Some(CNPG_API), "Cluster") => vec![cloudnativepg(v)],
        _ => Vec::new(),
    }
}

/// Where an object of `kind` holds a pod template (`metadata` and
/// `spec`): a workload's template, a CronJob's job's, or a Pod itself.
pub fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Pod" => Some(&[]),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => Some(&["spec", "template"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

/// A PodSpec as the Pod API writes it.
fn plain<'a>(spec: &'a Value, place: Place, annotations: &'a Value, meta: Place) -> PodView<'a> {
    let mut containers = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (i, c) in items(&spec[list]).iter().enumerate() {
            containers.push(ContainerView::new(c, Slot::Listed(list, i)));
        }
    }
    PodView {
        security: Cow::Borrowed(&spec["securityContext"]),
        spec: Cow::Borrowed(spec),
        containers,
        annotations: vec![(annotations, meta)],
        windows: spec["os"]["name"] == "windows",
        place,
        security_key: "securityContext",
    }
}

/// Each component is a PodSpec with its model's container beside
/// `containers`; a predictor's `workerSpec` is one more.
fn inference_service(v: &Value) -> Vec<PodView<'_>> {
    let mut out = Vec::new();
    for component in KSERVE_COMPONENTS {
        let c = &v["spec"][component];
        if !c.is_mapping() {
            continue;
        }
        let at = Place::new(&["spec"]).then(component);
        let annotations = &c["annotations"];
        let meta = at.then("annotations");
        let mut pod = plain(c, at, annotations, meta);
        pod.annotations
            .push((&v["metadata"]["annotations"], OBJECT_ANNOTATIONS));
        for (key, value) in c.as_mapping().into_iter().flatten() {
            let Some(key) = key.as_str() else { continue };
            let Some(field) = KSERVE_CONTAINERS.iter().find(|f| **f == key) else {
                continue;
            };
            if value.is_mapping() {
                pod.containers
                    .push(ContainerView::new(value, Slot::Field(field)));
            }
        }
        out.push(pod);
        if c["workerSpec"].is_mapping() {
            let mut worker = plain(&c["workerSpec"], at.then("workerSpec"), annotations, meta);
            worker
                .annotations
                .push((&v["metadata"]["annotations"], OBJECT_ANNOTATIONS));
            out.push(worker);
        }
    }
    out
}

/// CloudNativePG runs its instances with restricted contexts of its own,
/// unless the Cluster replaces them: `podSecurityContext` for the pod,
/// `securityContext` for every container, `seccompProfile` and
/// `postgresUID` inside both.
fn cloudnativepg(v: &Value) -> PodView<'_> {
    let spec = &v["spec"];
    let at = Place::new(&["spec"]);
    let seccomp = match &spec["seccompProfile"] {
        Value::Null => runtime_default(),
        given => given.clone(),
    };
    let uid = match &spec["postgresUID"] {
        Value::Null => Value::from(26u64),
        given => given.clone(),
    };
    let pod_security = match &spec["podSecurityContext"] {
        Value::Null => mapping([
            ("runAsNonRoot", Value::from(true)),
            ("runAsUser", uid),
            ("seccompProfile", seccomp.clone()),
        ]),
        given => given.clone(),
    };
    let container_security = match &spec["securityContext"] {
        Value::Null => mapping([
            ("allowPrivilegeEscalation", Value::from(false)),
            ("privileged", Value::from(false)),
            ("runAsNonRoot", Value::from(true)),
            ("seccompProfile", seccomp),
            (
                "capabilities",
                mapping([("drop", Value::Sequence(vec![Value::from("ALL")]))]),
            ),
        ]),
        given => given.clone(),
    };
    PodView {
        spec: Cow::Owned(Value::Null),
        security: Cow::Owned(pod_security),
        containers: vec![ContainerView {
            value: &NO_CONTAINER,
            security: Cow::Owned(container_security),
            slot: Slot::Spec,
        }],
        // The Cluster's own annotations reach its pods too: CloudNativePG
        // passes AppArmor ones on.
        annotations: vec![
            (&v["metadata"]["annotations"], OBJECT_ANNOTATIONS),
            (
                &spec["inheritedMetadata"]["annotations"],
                at.then("inheritedMetadata").then("annotations"),
            ),
        ],
        windows: false,
        place: at,
        security_key: "podSecurityContext",
    }
}

/// CloudNativePG's instances, as far as the Cluster shows them: their
/// securityContext alone.
static NO_CONTAINER: Value = Value::Null;

fn runtime_default() -> Value {
    mapping([("type", Value::from("RuntimeDefault"))])
}

fn mapping<const N: usize>(entries: [(&str, Value); N]) -> Value {
    let mut m = Mapping::new();
    for (k, v) in entries {
        m.insert(Value::from(k), v);
    }
    Value::Mapping(m)
}
