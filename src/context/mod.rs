//! Stage 4a: the typed context the templates lay out. Every name, default
//! and derived value is decided here; templates make no decisions.

mod auth;
mod availability;
mod backup;
mod cloudnativepg;
mod component;
mod db_ca;
mod gateway;
mod ingress;
mod minio;
mod monitoring;
mod naming;
mod network_paths;
mod network_policy;
mod pod;
mod postgres;
mod secret;
mod security;
mod serving;
mod stores;
mod subtree;
mod tracking;

use std::collections::BTreeMap;

use serde::Serialize;

pub use component::Component;
pub use ingress::IngressContext;
pub use minio::MinioContext;
pub use monitoring::ServiceMonitorContext;
pub use naming::{Labels, Naming};
pub use postgres::PostgresContext;
pub use serving::ServingContext;
pub use subtree::Slot;
pub use tracking::TrackingContext;

use crate::resolve::{DatabasePlan, Platform};

#[derive(Debug, Serialize)]
pub struct Context {
    pub namespace: String,
    /// The user's annotations, for every object.
    pub annotations: BTreeMap<String, String>,
    /// Labels of the Namespace, when mlk renders it.
    pub namespace_object: Option<Labels>,
    pub postgres: Option<PostgresContext>,
    pub cloudnativepg: Option<cloudnativepg::ClusterContext>,
    pub minio: Option<MinioContext>,
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
    let stores::Stores {
        mut postgres,
        cloudnativepg,
        minio,
        db,
        s3,
        secrets: store_secrets,
    } = stores::build(&n, &p.database, &p.artifacts);
    if let (Some(pg), DatabasePlan::Embedded { spec, .. }) = (&mut postgres, &p.database) {
        let host = n.fqdn(&pg.name);
        pg.backup = spec.backup.as_ref().map(|b| {
            backup::build(
                &n,
                spec,
                b,
                (&db, &s3),
                &host,
                &p.tracking.image.to_string(),
            )
        });
    }
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
    let metrics = monitoring::metrics(&p.monitoring, Component::Tracking.port());
    let inputs = tracking::Inputs {
        db: &db,
        s3: &s3,
        store_secrets,
        audience: &audience,
        metrics: metrics.as_ref(),
    };
    let tracking = tracking::build(&n, (&p.tracking, &p.tracking_secrets), inputs);
    let service_monitor = monitoring::service_monitor(
        &n,
        &p.monitoring,
        &tracking.selector,
        tracking.metrics_login.as_ref(),
    );
    Context {
        namespace: n.namespace().to_owned(),
        annotations: n.annotations(),
        namespace_object: p
            .metadata
            .create_namespace
            .then(|| namespace_labels(&n, p.serving.as_ref())),
        postgres,
        cloudnativepg,
        minio,
        tracking,
        ingress,
        http_route,
        service_monitor,
        serving: p.serving.as_ref().map(|plan| serving::build(&n, plan, &s3)),
        network_policies: p
            .network_policy
            .as_ref()
            .map(|np| {
                let paths = network_paths::build(&n, p, np);
                network_policy::build(&n, &paths.groups, &paths.paths)
            })
            .unwrap_or_default(),
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
