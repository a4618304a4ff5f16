//! The one visitor that finds every pod an object will run, wherever its
//! spec sits: a workload's template, a CronJob's job template, a bare Pod,
//! an InferenceService's predictor, transformer and explainer (and a
//! predictor's worker), and the instances a CloudNativePG Cluster runs.
//! No check looks for pods on its own, so none forgets a place.

use std::borrow::Cow;

use crate::field_path::Trail;
use crate::manifest::{Document, Mapping, Value};

const KSERVE_API: &str = "serving.kserve.io/v1beta1";
const CNPG_API: &str = "postgresql.cnpg.io/v1";

/// The fields of an InferenceService component that hold one container
/// each: the model formats KServe knows, besides `containers`.
const KSERVE_CONTAINERS: [&str; 13] = [
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

/// One pod as Pod Security sees it.
pub struct PodView<'a> {
    /// The pod-level fields (`securityContext`, `volumes`, `hostNetwork`, ...).
    pub spec: Cow<'a, Value>,
    /// Where `spec` sits in its object.
    pub at: Trail,
    /// Where the pod's securityContext is written.
    pub security_at: Trail,
    pub containers: Vec<ContainerView<'a>>,
    /// The pod template's annotations, where AppArmor was once set.
    pub annotations: Option<&'a Value>,
    /// Where those annotations are written.
    pub annotations_at: Trail,
}

pub struct ContainerView<'a> {
    pub value: Cow<'a, Value>,
    pub at: Trail,
}

impl PodView<'_> {
    /// Windows pods are exempt from the Linux-only restricted rules.
    pub fn is_windows(&self) -> bool {
        self.spec["os"]["name"] == "windows"
    }

    pub fn security(&self) -> &Value {
        &self.spec["securityContext"]
    }
}

fn items(v: &Value) -> &[Value] {
    v.as_sequence().map_or(&[], Vec::as_slice)
}

/// Every pod `doc` runs.
pub fn pods(doc: &Document) -> Vec<PodView<'_>> {
    let v = &doc.value;
    let root = Trail::root();
    fn template(at: Trail, t: &Value) -> Option<PodView<'_>> {
        let spec_at = at.key("spec");
        Some(plain(
            &t["spec"],
            spec_at,
            &t["metadata"]["annotations"],
            at,
        ))
    }
    match (v["apiVersion"].as_str(), doc.kind()) {
        (_, "Pod") => template(root, v).into_iter().collect(),
        (_, "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job") => {
            let at = root.key("spec").key("template");
            template(at, &v["spec"]["template"]).into_iter().collect()
        }
        (_, "ReplicationController") => {
            let at = root.key("spec").key("template");
            template(at, &v["spec"]["template"]).into_iter().collect()
        }
        (_, "CronJob") => {
            let t = &v["spec"]["jobTemplate"]["spec"]["template"];
            let at = root
                .key("spec")
                .key("jobTemplate")
                .key("spec")
                .key("template");
            template(at, t).into_iter().collect()
        }
        (Some(KSERVE_API), "InferenceService") => inference_service(v),
        (Some(CNPG_API), "Cluster") => vec![cloudnativepg(v)],
        _ => Vec::new(),
    }
}

/// A PodSpec as the Pod API writes it.
fn plain<'a>(spec: &'a Value, at: Trail, annotations: &'a Value, meta_at: Trail) -> PodView<'a> {
    let mut containers = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (i, c) in items(&spec[list]).iter().enumerate() {
            containers.push(ContainerView {
                value: Cow::Borrowed(c),
                at: at.key(list).index(i),
            });
        }
    }
    PodView {
        security_at: at.key("securityContext"),
        spec: Cow::Borrowed(spec),
        at,
        containers,
        annotations: Some(annotations),
        annotations_at: meta_at.key("metadata").key("annotations"),
    }
}

/// Each component is a PodSpec with its model's container beside
/// `containers`; a predictor's `workerSpec` is one more.
fn inference_service(v: &Value) -> Vec<PodView<'_>> {
    let mut out = Vec::new();
    for component in ["predictor", "transformer", "explainer"] {
        let c = &v["spec"][component];
        if !c.is_mapping() {
            continue;
        }
        let at = Trail::root().key("spec").key(component);
        let annotations = &c["annotations"];
        let mut pod = plain(c, at.clone(), annotations, at.clone());
        pod.annotations_at = at.key("annotations");
        for key in KSERVE_CONTAINERS {
            if c[key].is_mapping() {
                pod.containers.push(ContainerView {
                    value: Cow::Borrowed(&c[key]),
                    at: at.key(key),
                });
            }
        }
        out.push(pod);
        if c["workerSpec"].is_mapping() {
            let w_at = at.key("workerSpec");
            let mut worker = plain(&c["workerSpec"], w_at.clone(), annotations, at.clone());
            worker.annotations_at = at.key("annotations");
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
    let at = Trail::root().key("spec");
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
        spec: Cow::Owned(mapping([("securityContext", pod_security)])),
        security_at: at.key("podSecurityContext"),
        at: at.clone(),
        containers: vec![ContainerView {
            value: Cow::Owned(mapping([("securityContext", container_security)])),
            at: at.clone(),
        }],
        annotations: None,
        annotations_at: at,
    }
}

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
