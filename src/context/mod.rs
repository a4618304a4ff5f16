//! Stage 4a: the typed context the templates lay out. Every name, default
//! and derived value is decided here; templates make no decisions.

mod access;
mod auth;
mod availability;
mod backup;
mod component;
mod database;
mod drain;
mod gateway;
mod ingress;
mod monitoring;
mod naming;
mod network_paths;
mod network_policy;
mod objectstore;
mod oidc;
mod pod;
mod secret;
mod security;
mod serving;
mod sidecar;
mod subtree;
mod tracking;
pub mod workload;
mod workspaces;

use std::collections::BTreeMap;

use serde::Serialize;

pub use component::Component;
pub use database::{ClusterContext, PostgresContext};
pub use ingress::IngressContext;
pub use monitoring::ServiceMonitorContext;
pub use naming::{Labels, Naming};
pub use objectstore::{MinioContext, SeaweedfsContext};
pub use serving::ServingContext;
pub use subtree::Slot;
pub use tracking::TrackingContext;

use crate::resolve::Platform;

#[derive(Debug, Serialize)]
pub struct Context {
    pub namespace: String,
    /// The user's annotations, for every object.
    pub annotations: BTreeMap<String, String>,
    /// Labels of the Namespace, when mlk renders it.
    pub namespace_object: Option<Labels>,
    pub postgres: Option<PostgresContext>,
    pub cloudnativepg: Option<ClusterContext>,
    pub minio: Option<MinioContext>,
    pub seaweedfs: Option<SeaweedfsContext>,
    pub tracking: TrackingContext,
    pub ingress: Option<IngressContext>,
    pub http_route: Option<gateway::HttpRouteContext>,
    pub service_monitor: Option<ServiceMonitorContext>,
    pub serving: Option<ServingContext>,
    pub network_policies: Vec<network_policy::PolicyContext>,
    /// Every container's securityContext.
    pub container_security: k8s_openapi::api::core::v1::SecurityContext,
    /// The store every ExternalSecret reads, in externalSecrets mode.
    pub secret_store: Option<crate::spec::StoreRef>,
}

pub fn build(p: &Platform) -> Context {
    let n = Naming::new(&p.metadata, &p.pods);
    let db_host = database::tenant_host(&n, &p.database);
    let store = objectstore::provider(
        &n,
        &p.artifacts,
        &p.tracking.image.to_string(),
        db_host.as_deref().map(|h| (h, database::PORT)),
    );
    let db = database::provider(
        &n,
        &p.database,
        store.as_ref(),
        p.connections.max_connections(),
    );
    let tracking_s3 = store.access(objectstore::Consumer::Tracking);
    let gc_s3 = store.access(objectstore::Consumer::Gc);
    let backup = db.dump().map(|dump| {
        let s3 = store.access(objectstore::Consumer::Backup);
        backup::build(&n, &dump, (db.access(), &s3), &p.tracking.image.to_string())
    });
    let service = n.name(Component::Tracking);
    let mut audience = tracking::Audience::default();
    let ingress = p.ingress.as_ref().map(|plan| {
        let (ingress, heard) = ingress::build(&n, plan, &service);
        audience.extend(heard);
        ingress
    });
    let http_route = p.gateway.as_ref().map(|plan| {
        let (route, heard) = gateway::build(&n, plan, &service);
        audience.extend(heard);
        route
    });
    let metrics = monitoring::metrics(&p.monitoring, tracking::PORT);
    let mut store_secrets = store.secrets();
    store_secrets.extend(db.secrets());
    let inputs = tracking::Inputs {
        db: db.access(),
        s3: &tracking_s3,
        gc_s3: &gc_s3,
        store_secrets,
        audience: &audience,
        metrics: metrics.as_ref(),
        ready_object: store.ready_object(),
        drain: drain::Drain::for_platform(p),
    };
    let tracking = tracking::build(&n, (&p.tracking, &p.tracking_secrets), inputs);
    let service_monitor = monitoring::service_monitor(
        &n,
        &p.monitoring,
        &tracking.selector,
        tracking.metrics_login.as_ref(),
    );
    let serving = p.serving.as_ref().map(|plan| {
        let ca = n.pods(&plan.pods).ca_bundle();
        serving::build(&n, plan, &store.kserve(&n, ca.as_ref()))
    });
    let network_policies = p
        .network_policy
        .as_ref()
        .map(|np| {
            let paths = network_paths::build(&n, p, np, store.as_ref(), db.as_ref());
            network_policy::build(&n, &paths.groups, &paths.paths)
        })
        .unwrap_or_default();
    let mut databases = db.objects();
    let stores = store.objects();
    if let Some(pg) = &mut databases.postgres {
        pg.backup = backup;
    }
    Context {
        namespace: n.namespace().to_owned(),
        annotations: n.annotations(),
        namespace_object: p
            .metadata
            .create_namespace
            .then(|| namespace_labels(&n, p.serving.as_ref())),
        postgres: databases.postgres,
        cloudnativepg: databases.cloudnativepg,
        minio: stores.minio,
        seaweedfs: stores.seaweedfs,
        tracking,
        ingress,
        http_route,
        service_monitor,
        serving,
        network_policies,
        container_security: security::container(),
        secret_store: p.secret_store.clone(),
    }
}

/// The API server holds every pod in the namespace to the restricted
/// level. KServe adds containers of its own to predictor pods (the
/// storage initializer, Knative's queue proxy) that mlk cannot vouch for,
/// so with models it enforces what the spec says those meet (baseline
/// unless told), and warns and audits at restricted.
fn namespace_labels(n: &Naming, serving: Option<&crate::resolve::ServingPlan>) -> Labels {
    let mut labels = n.common_labels();
    let enforce = serving.map_or("restricted", |s| s.pod_security.as_str());
    for (mode, level) in [
        ("enforce", enforce),
        ("warn", "restricted"),
        ("audit", "restricted"),
    ] {
        labels.insert(format!("pod-security.kubernetes.io/{mode}"), level.into());
    }
    labels
}
