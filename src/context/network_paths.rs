//! Every connection the platform makes, as NetworkPolicy paths: which
//! pods talk to which, on which port. Nothing else is allowed.

use super::cloudnativepg;
use super::component::Component;
use super::naming::{Labels, Naming};
use super::network_policy::{Group, Path, Peer};
use super::serving::predictor_labels;
use crate::resolve::{ArtifactsPlan, DatabasePlan, GatewayPlan, Platform};
use crate::spec::{Endpoint, NetworkPolicy, by_name};

/// The instance manager's status port, which the operator and the other
/// instances call.
const CNPG_STATUS_PORT: u16 = 8000;
/// The API server, as pods reach it through the `kubernetes` Service or
/// directly: its port differs between distributions.
const API_SERVER_PORTS: [u16; 2] = [443, 6443];

pub struct Paths {
    pub groups: Vec<Group>,
    pub paths: Vec<Path>,
}

fn group(name: &str, pods: Labels) -> Group {
    Group {
        name: name.to_owned(),
        pods,
    }
}

pub fn build(n: &Naming, p: &Platform, np: &NetworkPolicy) -> Paths {
    let mut groups = Vec::new();
    let mut paths = Vec::new();
    let tracking = Peer::Group(group("tracking", n.selector(Component::Tracking)));
    let port = [Component::Tracking.port()];
    if p.ingress.is_some() {
        paths.push(Path::new(&ns(&np.ingress_namespaces), &tracking, &port));
    }
    if let Some(gateway) = &p.gateway {
        paths.push(Path::new(
            &gateway_proxies(n, gateway, np),
            &tracking,
            &port,
        ));
    }
    if !np.client_namespaces.is_empty() {
        paths.push(Path::new(&ns(&np.client_namespaces), &tracking, &port));
    }
    if p.monitoring.metrics_enabled() {
        paths.push(Path::new(&ns(&np.prometheus_namespaces), &tracking, &port));
    }
    let s3 = artifact_store(n, &p.artifacts, &mut groups, &mut paths);
    // The gc CronJob reaches the stores as the server does.
    let mut clients = vec![tracking.clone()];
    if p.tracking.gc.is_some() {
        let gc = Peer::Group(group("gc", n.selector(Component::Gc)));
        paths.push(Path::new(&gc, &tracking, &port));
        groups.extend(as_group(&gc));
        clients.push(gc);
    }
    if let DatabasePlan::Embedded { spec, .. } = &p.database
        && spec.backup.is_some()
    {
        let backup = Peer::Group(group("backup", n.selector(Component::Backup)));
        groups.extend(as_group(&backup));
        clients.push(backup);
    }
    for client in &clients {
        paths.push(Path::new(client, &s3.peer, &[s3.port]));
    }
    database(n, p, np, &clients, &s3, &mut groups, &mut paths);
    if p.serving.is_some() {
        let predictors = Peer::Group(group("predictors", predictor_labels(n)));
        paths.push(Path::new(&ns(&np.serving_namespaces), &predictors, &[]));
        paths.push(Path::new(&predictors, &s3.peer, &[s3.port]));
        groups.extend(as_group(&predictors));
    }
    groups.extend(as_group(&tracking));
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    Paths { groups, paths }
}

/// Where the Gateway's proxies run: as configured, else where the
/// Gateways the route names live.
fn gateway_proxies(n: &Naming, gateway: &GatewayPlan, np: &NetworkPolicy) -> Peer {
    if !np.gateway_namespaces.is_empty() {
        return ns(&np.gateway_namespaces);
    }
    let mut names: Vec<String> = gateway
        .parent_refs
        .iter()
        .map(|r| {
            r.namespace
                .as_ref()
                .map_or(n.namespace().to_owned(), ToString::to_string)
        })
        .collect();
    names.sort();
    names.dedup();
    let labels: Vec<_> = names.iter().map(|name| by_name(name)).collect();
    ns(&labels)
}

fn ns(labels: &[crate::spec::NamespaceLabels]) -> Peer {
    Peer::Namespaces(labels.to_vec())
}

fn as_group(p: &Peer) -> Option<Group> {
    match p {
        Peer::Group(g) => Some(g.clone()),
        _ => None,
    }
}

struct Store {
    peer: Peer,
    port: u16,
}

fn artifact_store(
    n: &Naming,
    plan: &ArtifactsPlan,
    groups: &mut Vec<Group>,
    paths: &mut Vec<Path>,
) -> Store {
    match plan {
        ArtifactsPlan::Embedded { spec, .. } => {
            let minio = Peer::Group(group("minio", n.selector(Component::Artifacts)));
            let job = Peer::Group(group("bucket", n.selector(Component::BucketJob)));
            paths.push(Path::new(&job, &minio, &[Component::Artifacts.port()]));
            if spec.replicas.distributed() {
                paths.push(Path::new(&minio, &minio, &[Component::Artifacts.port()]));
            }
            groups.extend(as_group(&minio));
            groups.extend(as_group(&job));
            Store {
                peer: minio,
                port: Component::Artifacts.port(),
            }
        }
        ArtifactsPlan::External { endpoint, .. } => Store {
            peer: Peer::Anywhere,
            port: endpoint.as_ref().map_or(443, endpoint_port),
        },
    }
}

fn endpoint_port(e: &Endpoint) -> u16 {
    let after_host = e.authority().rsplit(']').next().unwrap_or_default();
    let explicit = after_host
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok());
    explicit.unwrap_or(if e.uses_https() { 443 } else { 80 })
}

fn database(
    n: &Naming,
    p: &Platform,
    np: &NetworkPolicy,
    clients: &[Peer],
    s3: &Store,
    groups: &mut Vec<Group>,
    paths: &mut Vec<Path>,
) {
    let mut to = |peer: &Peer, port: u16| {
        for client in clients {
            paths.push(Path::new(client, peer, &[port]));
        }
    };
    match &p.database {
        DatabasePlan::Embedded { .. } => {
            let pg = Peer::Group(group("postgres", n.selector(Component::Database)));
            to(&pg, Component::Database.port());
            groups.extend(as_group(&pg));
        }
        DatabasePlan::External { port, .. } => to(&Peer::Anywhere, *port),
        DatabasePlan::CloudNativePg(spec) => {
            let pods = cloudnativepg::pod_labels(&n.name(Component::Database));
            let pg = Peer::Group(group("postgres", pods));
            let pg_ports = [Component::Database.port(), CNPG_STATUS_PORT];
            to(&pg, Component::Database.port());
            paths.push(Path::new(&pg, &pg, &pg_ports));
            let operator = ns(&np.cloudnativepg_namespaces);
            paths.push(Path::new(&operator, &pg, &[CNPG_STATUS_PORT]));
            paths.push(Path::new(&pg, &Peer::Anywhere, &API_SERVER_PORTS));
            if spec.backup.is_some() {
                paths.push(Path::new(&pg, &s3.peer, &[s3.port]));
            }
            groups.extend(as_group(&pg));
        }
    }
}
