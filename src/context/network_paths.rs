//! Every connection the platform makes, as NetworkPolicy paths: which
//! pods talk to which, on which port. Nothing else is allowed.

use super::component::Component;
use super::database::Database;
use super::naming::{Labels, Naming};
use super::network_policy::{Group, Path, Peer};
use super::objectstore::ObjectStore;
use super::serving::predictor_labels;
use super::tracking;
use crate::resolve::{GatewayPlan, Platform};
use crate::spec::{NetworkPolicy, by_name};

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

/// `store` and `db` say where each store is, and their own pods' paths.
pub fn build(
    n: &Naming,
    p: &Platform,
    np: &NetworkPolicy,
    store: &dyn ObjectStore,
    db: &dyn Database,
) -> Paths {
    let mut groups = Vec::new();
    let mut paths = Vec::new();
    let tracking = Peer::Group(group("tracking", n.selector(Component::Tracking)));
    let port = [tracking::PORT];
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
    if !np.front_door_cidrs.is_empty() {
        let balancers = Peer::Blocks(np.front_door_cidrs.clone());
        paths.push(Path::new(&balancers, &tracking, &port));
    }
    if !np.client_namespaces.is_empty() {
        paths.push(Path::new(&ns(&np.client_namespaces), &tracking, &port));
    }
    if p.monitoring.metrics_enabled() {
        paths.push(Path::new(&ns(&np.prometheus_namespaces), &tracking, &port));
    }
    if p.tracking.ai_gateway && !p.tracking.ai_gateway_egress.is_empty() {
        let providers = Peer::Blocks(p.tracking.ai_gateway_egress.clone());
        paths.push(Path::new(&tracking, &providers, &[443]));
    }
    if let Some(o) = &p.tracking_secrets.oidc
        && !o.egress.is_empty()
    {
        let provider = Peer::Blocks(o.egress.clone());
        paths.push(Path::new(&tracking, &provider, &[o.issuer_port]));
    }
    let s3 = store.network(n);
    paths.extend(s3.paths.iter().map(|p| Path::new(&p.from, &p.to, &p.ports)));
    groups.extend(s3.groups.iter().cloned());
    // The gc CronJob reaches the stores as the server does.
    let mut clients = vec![tracking.clone()];
    if p.tracking.gc.is_some() {
        let gc = Peer::Group(group("gc", n.selector(Component::Gc)));
        paths.push(Path::new(&gc, &tracking, &port));
        groups.extend(as_group(&gc));
        clients.push(gc);
    }
    if db.dump().is_some() {
        let backup = Peer::Group(group("backup", n.selector(Component::Backup)));
        groups.extend(as_group(&backup));
        clients.push(backup);
    }
    for client in &clients {
        paths.push(Path::new(client, &s3.peer, &[s3.port]));
        for (server, port) in &s3.identity {
            paths.push(Path::new(client, server, &[*port]));
        }
    }
    // A store's own database (a SeaweedFS cluster's file tree) is
    // reached by its pods alone.
    clients.extend(store.tenant().map(|t| Peer::Group(t.clients.clone())));
    let database = db.network(n, np, &clients, &s3);
    paths.extend(database.paths);
    groups.extend(database.groups);
    if p.serving.is_some() {
        let predictors = Peer::Group(group("predictors", predictor_labels(n)));
        paths.push(Path::new(&ns(&np.serving_namespaces), &predictors, &[]));
        paths.push(Path::new(&predictors, &s3.peer, &[s3.port]));
        // Only predictors that take the store's identity ask for it.
        let identity = p
            .serving
            .as_ref()
            .is_some_and(|s| matches!(s.credentials, crate::resolve::Credentials::Identity));
        for (server, port) in s3.identity.iter().filter(|_| identity) {
            paths.push(Path::new(&predictors, server, &[*port]));
        }
        groups.extend(as_group(&predictors));
    }
    groups.extend(as_group(&tracking));
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    // Every pod may reach the proxy its pods block names.
    let proxies = proxy_ports(p);
    if !proxies.is_empty() {
        for g in &groups {
            paths.push(Path::new(
                &Peer::Group(g.clone()),
                &Peer::Anywhere,
                &proxies,
            ));
        }
    }
    Paths { groups, paths }
}

/// The ports of every proxy the spec names, at the top level or in a
/// component's own `pods`.
fn proxy_ports(p: &Platform) -> Vec<u16> {
    let mut blocks = vec![&p.pods, &p.tracking.pods];
    match &p.database {
        crate::resolve::DatabasePlan::Embedded { spec, .. } => blocks.push(&spec.pods),
        crate::resolve::DatabasePlan::CloudNativePg(c) => blocks.push(&c.pods),
        crate::resolve::DatabasePlan::External(_) => {}
    }
    if let crate::resolve::ArtifactsPlan::Embedded(e) = &p.artifacts {
        blocks.push(&e.spec.pods);
    }
    if let Some(s) = &p.serving {
        blocks.push(&s.pods);
        blocks.extend(s.models.iter().map(|m| &m.spec.pods));
    }
    let mut ports: Vec<u16> = blocks
        .into_iter()
        .filter_map(|b| b.proxy.as_ref())
        .flat_map(|proxy| proxy.ports())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
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
