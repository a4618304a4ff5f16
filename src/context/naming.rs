//! Object names, DNS names and labels, derived from the platform's name
//! and namespace in one place so that every reference agrees.

use std::collections::BTreeMap;

use super::component::Component;
use super::pod::PodSettings;
use crate::spec::{Metadata, Pods};

pub type Labels = BTreeMap<String, String>;

pub struct Naming<'a> {
    meta: &'a Metadata,
    /// The top-level `pods`, which every component's own block refines.
    pods: &'a Pods,
}

impl<'a> Naming<'a> {
    pub fn new(meta: &'a Metadata, pods: &'a Pods) -> Self {
        Naming { meta, pods }
    }

    /// The pod settings of a component whose own block is `component`.
    pub fn pods(&self, component: &Pods) -> PodSettings {
        PodSettings::new(self.pods, component, self.meta.cluster_domain.as_str())
    }

    pub fn namespace(&self) -> &str {
        self.meta.namespace.as_str()
    }

    /// `NAME-suffix`; the platform name's length limit keeps it DNS-valid.
    pub fn object(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.meta.name)
    }

    /// A Service's cluster-internal DNS name.
    pub fn fqdn(&self, service: &str) -> String {
        format!(
            "{service}.{}.svc.{}",
            self.meta.namespace, self.meta.cluster_domain
        )
    }

    /// Every form in which a client inside the cluster can name a Service:
    /// short, namespaced, `.svc` and fully qualified.
    pub fn service_hosts(&self, service: &str) -> [String; 4] {
        let ns = self.namespace();
        [
            service.to_owned(),
            format!("{service}.{ns}"),
            format!("{service}.{ns}.svc"),
            self.fqdn(service),
        ]
    }

    /// A component's main objects' name.
    pub fn name(&self, c: Component) -> String {
        self.object(c.suffix())
    }

    /// The labels that select a component's pods. Never changes between
    /// releases, so selectors (immutable in a Deployment) stay valid.
    pub fn selector(&self, c: Component) -> Labels {
        BTreeMap::from([
            ("app.kubernetes.io/name".into(), c.app().into()),
            (
                "app.kubernetes.io/instance".into(),
                self.meta.name.to_string(),
            ),
            ("app.kubernetes.io/component".into(), c.role().into()),
        ])
    }

    /// The selector, the user's labels and mlk's own.
    pub fn labels(&self, c: Component) -> Labels {
        let mut labels = self.common_labels();
        labels.extend(self.selector(c));
        labels
    }

    /// Labels for objects that belong to no one component.
    pub fn common_labels(&self) -> Labels {
        let mut labels: Labels = self
            .meta
            .labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        labels.insert("app.kubernetes.io/part-of".into(), "mlflow".into());
        labels.insert("app.kubernetes.io/managed-by".into(), "mlk".into());
        labels
    }

    pub fn annotations(&self) -> BTreeMap<String, String> {
        self.meta
            .annotations
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }
}
