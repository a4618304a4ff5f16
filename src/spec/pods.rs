//! Where and how every pod mlk renders is scheduled and labelled: defaults
//! at the top of the spec (`pods`), and the same block per component,
//! which wins. Maps merge key by key; lists and `affinity` replace.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, LocalObjectReference, Toleration};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::types::{LabelKey, LabelValue, Name, Strict};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Pods {
    /// Node labels a pod's node must have, such as `pool: ml`.
    pub node_selector: Option<BTreeMap<LabelKey, LabelValue>>,
    /// Taints the pods tolerate.
    pub tolerations: Option<Vec<Strict<Toleration>>>,
    /// Node and pod affinity, as the Pod API takes it.
    pub affinity: Option<Strict<Affinity>>,
    pub priority_class_name: Option<Name>,
    /// Secrets with registry credentials, for private registries.
    pub image_pull_secrets: Option<Vec<Strict<LocalObjectReference>>>,
    /// On every pod template, such as a service mesh's or a workload
    /// identity's.
    pub annotations: Option<BTreeMap<LabelKey, String>>,
    /// On every pod template; the labels mlk selects pods by are refused.
    pub labels: Option<BTreeMap<LabelKey, LabelValue>>,
    /// A corporate proxy for every container (top-level `pods` only).
    pub proxy: Option<super::Proxy>,
    /// CA certificates every container trusts (top-level `pods` only).
    pub ca_bundle: Option<super::CaBundle>,
    /// More env for every container (top-level `pods` only); names mlk
    /// sets itself are refused.
    pub env: Option<Vec<super::tracking::EnvVar>>,
}

impl Pods {
    /// `self` (the defaults) under `over` (a component's block).
    pub fn under(&self, over: &Pods) -> Pods {
        fn map<K: Ord + Clone, V: Clone>(
            a: &Option<BTreeMap<K, V>>,
            b: &Option<BTreeMap<K, V>>,
        ) -> Option<BTreeMap<K, V>> {
            match (a, b) {
                (Some(a), Some(b)) => Some(
                    a.iter()
                        .chain(b)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                ),
                (a, b) => b.clone().or_else(|| a.clone()),
            }
        }
        Pods {
            node_selector: map(&self.node_selector, &over.node_selector),
            tolerations: over
                .tolerations
                .clone()
                .or_else(|| self.tolerations.clone()),
            affinity: over.affinity.clone().or_else(|| self.affinity.clone()),
            priority_class_name: over
                .priority_class_name
                .clone()
                .or_else(|| self.priority_class_name.clone()),
            image_pull_secrets: over
                .image_pull_secrets
                .clone()
                .or_else(|| self.image_pull_secrets.clone()),
            annotations: map(&self.annotations, &over.annotations),
            labels: map(&self.labels, &over.labels),
            proxy: over.proxy.clone().or_else(|| self.proxy.clone()),
            ca_bundle: over.ca_bundle.clone().or_else(|| self.ca_bundle.clone()),
            env: over.env.clone().or_else(|| self.env.clone()),
        }
    }

    /// Kubernetes' two toleration operators and three effects; anything
    /// else the API server refuses at apply time.
    pub fn check(&self) -> Result<(), (String, String)> {
        for (i, t) in self.tolerations.iter().flatten().enumerate() {
            let t = &t.0;
            if let Some(op) = t
                .operator
                .as_deref()
                .filter(|o| !matches!(*o, "Exists" | "Equal"))
            {
                let msg = format!("operator {op:?} is not Exists or Equal");
                return Err((format!("tolerations[{i}].operator"), msg));
            }
            let effects = ["NoSchedule", "PreferNoSchedule", "NoExecute", ""];
            if let Some(e) = t.effect.as_deref().filter(|e| !effects.contains(e)) {
                let msg = format!("effect {e:?} is not NoSchedule, PreferNoSchedule or NoExecute");
                return Err((format!("tolerations[{i}].effect"), msg));
            }
            if t.operator.as_deref() == Some("Exists")
                && t.value.as_deref().is_some_and(|v| !v.is_empty())
            {
                let msg = "takes no value with operator Exists".to_owned();
                return Err((format!("tolerations[{i}].value"), msg));
            }
        }
        Ok(())
    }
}
