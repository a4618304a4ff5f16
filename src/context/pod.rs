//! The pod-wide part of every pod template mlk renders, built in one
//! place: identity, security, scheduling, pull secrets and metadata. A new
//! pod-wide field is a field of `spec::Pods` and of `Scheduling`; every
//! Deployment, StatefulSet, Job and CronJob renders it through the
//! `pod_meta`/`pod_spec` macros, and the operators' own objects
//! (CloudNativePG, KServe) take it from `Scheduling` too.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, LocalObjectReference, PodSecurityContext, Toleration};
use serde::Serialize;

use crate::spec::Pods;

/// One pod template's pod-wide part.
#[derive(Debug, Clone, Serialize)]
pub struct PodTemplate {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    #[serde(rename = "serviceAccountName")]
    pub service_account: Option<String>,
    #[serde(rename = "securityContext")]
    pub security: PodSecurityContext,
    pub scheduling: Scheduling,
    /// What the pod-wide stage adds to every container (`pods.proxy`,
    /// `caBundle`, `env`), written out for the hash a Job is named by: a
    /// Job whose containers change must be a new Job.
    #[serde(rename = "podWide", skip_serializing_if = "String::is_empty")]
    pub wide: String,
}

/// Where a pod may run and what it pulls with, as the Pod API names it.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scheduling {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<Vec<LocalObjectReference>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
}

/// The top-level `pods` and a component's own, merged once.
#[derive(Debug, Clone, Default)]
pub struct PodSettings {
    pods: Pods,
    /// The cluster's DNS domain, which `NO_PROXY` names.
    domain: String,
}

impl PodSettings {
    pub fn new(defaults: &Pods, component: &Pods, domain: &str) -> Self {
        PodSettings {
            pods: defaults.under(component),
            domain: domain.to_owned(),
        }
    }

    /// A further level (a model under `serving.pods`).
    pub fn under(&self, more: &Pods) -> PodSettings {
        PodSettings {
            pods: self.pods.under(more),
            domain: self.domain.clone(),
        }
    }

    pub fn scheduling(&self) -> Scheduling {
        let p = &self.pods;
        Scheduling {
            affinity: p.affinity.as_ref().map(|a| a.0.clone()),
            image_pull_secrets: p
                .image_pull_secrets
                .as_ref()
                .map(|s| s.iter().map(|r| r.0.clone()).collect()),
            node_selector: p.node_selector.as_ref().map(strings),
            priority_class_name: p.priority_class_name.as_ref().map(|n| n.to_string()),
            tolerations: p
                .tolerations
                .as_ref()
                .map(|t| t.iter().map(|t| t.0.clone()).collect()),
        }
    }

    /// The user's labels under mlk's own, which select the pods.
    pub fn labels(&self, own: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut out = self.pods.labels.as_ref().map(strings).unwrap_or_default();
        out.extend(own.clone());
        out
    }

    /// The user's annotations over a component's own (metrics
    /// annotations): the user's word is the last.
    pub fn annotations(&self, own: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut out = own.clone();
        out.extend(
            self.pods
                .annotations
                .as_ref()
                .map(strings)
                .unwrap_or_default(),
        );
        out
    }

    pub fn template(
        &self,
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
        service_account: Option<String>,
        security: PodSecurityContext,
    ) -> PodTemplate {
        PodTemplate {
            labels: self.labels(labels),
            annotations: self.annotations(annotations),
            service_account,
            security,
            scheduling: self.scheduling(),
            wide: self.wide(),
        }
    }

    /// The CA bundle these pods trust.
    pub fn ca_bundle(&self) -> Option<crate::spec::CaBundle> {
        self.pods.ca_bundle.clone()
    }

    /// Everything the pod-wide stage adds to every container, as JSON;
    /// empty when it adds nothing.
    pub fn wide(&self) -> String {
        let p = &self.pods;
        if p.proxy.is_none() && p.ca_bundle.is_none() && p.env.is_none() {
            return String::new();
        }
        let no_proxy = p.proxy.as_ref().map(|x| x.no_proxy(&self.domain));
        let all = (&p.proxy, no_proxy, &p.ca_bundle, &p.env);
        serde_json::to_string(&all).expect("pod-wide settings serialise")
    }
}

fn strings<K: ToString, V: ToString>(m: &BTreeMap<K, V>) -> BTreeMap<String, String> {
    m.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
