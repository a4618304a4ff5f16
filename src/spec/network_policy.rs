use schemars::JsonSchema;
use std::collections::BTreeMap;

use serde::Deserialize;

use crate::types::{Cidr, LabelKey, LabelValue};

/// A namespace's labels, as a NetworkPolicy's `namespaceSelector`
/// `matchLabels` takes them.
pub type NamespaceLabels = BTreeMap<LabelKey, LabelValue>;

/// Default-deny in the platform's namespace, then one policy per path the
/// platform uses. Each `*Namespaces` list names where a peer outside the
/// namespace runs: any namespace matching one of its label sets.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkPolicy {
    pub enabled: bool,
    /// The ingress controller, which reaches the tracking server.
    pub ingress_namespaces: Vec<NamespaceLabels>,
    /// Where the Gateway's proxies run, which reach the tracking server
    /// when `gateway` is on. Empty: the namespaces its `parentRefs` name
    /// (or the platform's), where Istio and NGINX Gateway Fabric run them;
    /// Envoy Gateway runs them in `envoy-gateway-system`.
    pub gateway_namespaces: Vec<NamespaceLabels>,
    /// Load balancers that reach the tracking server's pods by address,
    /// from outside any namespace: an AWS ALB in IP target mode (its
    /// subnets' blocks), a GKE container-native load balancer (its proxy
    /// subnet, and the health checkers' 35.191.0.0/16 and 130.211.0.0/22).
    pub front_door_cidrs: Vec<Cidr>,
    /// Workloads that log to the tracking server's Service directly
    /// (training jobs, notebooks), rather than through the Ingress.
    pub client_namespaces: Vec<NamespaceLabels>,
    /// Prometheus, which scrapes the metrics port.
    pub prometheus_namespaces: Vec<NamespaceLabels>,
    /// Whatever sends inference requests to the KServe predictors
    /// (Knative's activator, the Istio gateway) and scrapes their queues.
    pub serving_namespaces: Vec<NamespaceLabels>,
    /// The CloudNativePG operator, which manages the database pods.
    pub cloudnativepg_namespaces: Vec<NamespaceLabels>,
}

pub fn by_name(namespace: &str) -> NamespaceLabels {
    let key = LabelKey::try_from("kubernetes.io/metadata.name".to_owned()).expect("built-in");
    let value = LabelValue::try_from(namespace.to_owned()).expect("built-in");
    BTreeMap::from([(key, value)])
}

impl Default for NetworkPolicy {
    fn default() -> Self {
        NetworkPolicy {
            enabled: false,
            ingress_namespaces: vec![by_name("ingress-nginx")],
            gateway_namespaces: Vec::new(),
            front_door_cidrs: Vec::new(),
            client_namespaces: Vec::new(),
            prometheus_namespaces: vec![by_name("monitoring")],
            serving_namespaces: vec![by_name("knative-serving"), by_name("istio-system")],
            cloudnativepg_namespaces: vec![by_name("cnpg-system")],
        }
    }
}
