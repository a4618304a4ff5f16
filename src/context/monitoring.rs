//! Prometheus metrics of the tracking server: what the server must serve,
//! and the ServiceMonitor that scrapes it.

use super::component::Component;
use std::collections::BTreeMap;

use serde::Serialize;

use super::auth::BasicAuth;
use super::naming::{Labels, Naming};
use crate::spec::Monitoring;
use crate::types::HostPattern;

/// A writable folder for prometheus-flask-exporter's multiprocess files.
pub const DIR: &str = "/prometheus";
pub const PATH: &str = "/metrics";
pub const PORT_NAME: &str = "metrics";
/// The Service port Prometheus discovers by name; the pods are scraped on
/// their own port (the tracking server's), since `/metrics` lives there.
pub const SERVICE_PORT: u16 = 9090;

/// What the tracking server needs for `/metrics` to be scraped.
pub struct Metrics {
    /// Host headers of a scrape: pod IP and port.
    pub scrape_hosts: Vec<String>,
    pub pod_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct ServiceMonitorContext {
    pub name: String,
    pub namespace: String,
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub selector: Labels,
    /// Set when the ServiceMonitor lives outside the platform's namespace.
    pub namespace_selector: Option<Vec<String>>,
    pub endpoint: Endpoint,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub port: &'static str,
    pub path: &'static str,
    pub interval: String,
    pub scrape_timeout: String,
    /// Under MLflow's auth app, `/metrics` needs a login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
}

/// MLflow's default allowed hosts include the private ranges, but the
/// list mlk sets replaces those defaults; these patterns put them back,
/// for the tracking port only. fnmatch classes keep 172.16/12 exact.
fn private_ranges(port: u16) -> Vec<String> {
    [
        "10.*",
        "172.1[6-9].*",
        "172.2[0-9].*",
        "172.3[01].*",
        "192.168.*",
        "[[]fc*]",
        "[[]fd*]",
    ]
    .iter()
    .map(|range| format!("{range}:{port}"))
    .collect()
}

pub fn metrics(m: &Monitoring, port: u16) -> Option<Metrics> {
    if !m.metrics_enabled() {
        return None;
    }
    let scrape_hosts = match &m.scrape_hosts {
        Some(hosts) => hosts.iter().map(HostPattern::to_string).collect(),
        None => private_ranges(port),
    };
    let pod_annotations = if m.pod_annotations {
        BTreeMap::from([
            ("prometheus.io/scrape".into(), "true".into()),
            ("prometheus.io/port".into(), port.to_string()),
            ("prometheus.io/path".into(), PATH.into()),
        ])
    } else {
        BTreeMap::new()
    };
    Some(Metrics {
        scrape_hosts,
        pod_annotations,
    })
}

pub fn service_monitor(
    n: &Naming,
    m: &Monitoring,
    service_selector: &Labels,
    login: Option<&BasicAuth>,
) -> Option<ServiceMonitorContext> {
    let sm = &m.service_monitor;
    if !sm.enabled {
        return None;
    }
    let mut labels = n.labels(Component::Tracking);
    labels.extend(
        sm.labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let namespace = sm
        .namespace
        .as_ref()
        .map_or_else(|| n.namespace().to_owned(), ToString::to_string);
    let namespace_selector = (namespace != n.namespace()).then(|| vec![n.namespace().to_owned()]);
    Some(ServiceMonitorContext {
        name: n.name(Component::Tracking),
        namespace,
        labels,
        annotations: n.annotations(),
        selector: service_selector.clone(),
        namespace_selector,
        endpoint: Endpoint {
            port: PORT_NAME,
            path: PATH,
            interval: sm.interval.to_string(),
            scrape_timeout: sm.scrape_timeout.to_string(),
            basic_auth: login.cloned(),
        },
    })
}
