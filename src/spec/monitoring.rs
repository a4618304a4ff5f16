use schemars::JsonSchema;
use std::collections::BTreeMap;

use serde::Deserialize;

use crate::types::{Duration, HostPattern, LabelKey, LabelValue, Name};

/// Prometheus metrics of the tracking server.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Monitoring {
    pub service_monitor: ServiceMonitor,
    /// `prometheus.io/*` pod annotations, for a Prometheus without the
    /// operator that discovers pods by annotation.
    pub pod_annotations: bool,
    /// The Host headers Prometheus sends when it scrapes a pod (its IP and
    /// port). Defaults to the private address ranges; replace them when
    /// the cluster's pod network uses other addresses.
    pub scrape_hosts: Option<Vec<HostPattern>>,
}

impl Monitoring {
    /// `/metrics` is served when anything is going to scrape it.
    pub fn metrics_enabled(&self) -> bool {
        self.service_monitor.enabled || self.pod_annotations
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceMonitor {
    pub enabled: bool,
    pub interval: Duration,
    pub scrape_timeout: Duration,
    /// Prometheus picks up only the ServiceMonitors its
    /// `serviceMonitorSelector` matches, often `release: <its release>`.
    pub labels: BTreeMap<LabelKey, LabelValue>,
    /// Where the ServiceMonitor lives, when Prometheus watches only its
    /// own namespace; it then selects the Service across namespaces.
    pub namespace: Option<Name>,
}

impl Default for ServiceMonitor {
    fn default() -> Self {
        let d = |s: &str| Duration::try_from(s.to_owned()).expect("built-in");
        ServiceMonitor {
            enabled: false,
            interval: d("30s"),
            scrape_timeout: d("10s"),
            labels: BTreeMap::new(),
            namespace: None,
        }
    }
}
