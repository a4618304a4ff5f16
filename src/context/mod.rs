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
mod tracking;

use std::collections::BTreeMap;

use serde::Serialize;

pub use component::Component;
pub use ingress::IngressContext;
pub use minio::MinioContext;
pub use monitoring::ServiceMonitorContext;
pub use naming::{Labels, Naming};
pub use postgres::PostgresContext;
pub use secret::{EnvEntry, SecretObject};
pub use serving::ServingContext;
pub use tracking::TrackingContext;

use crate::resolve::{ArtifactsPlan, DatabasePlan, Platform};
use secret::SecretBinder;
use tracking::{DbAccess, Extras, S3Access, S3KeyRefs};

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
    let mut extras = Extras::default();
    let (minio, s3) = artifacts(&n, &p.artifacts, &mut extras);
    let (mut postgres, cloudnativepg, db) = database(&n, &p.database, &s3, &mut extras);
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
    let ingress = p
        .ingress
        .as_ref()
        .map(|plan| ingress::build(&n, plan, &service, &mut extras));
    let http_route = p
        .gateway
        .as_ref()
        .map(|plan| gateway::build(&n, plan, &service, &mut extras));
    let metrics = monitoring::metrics(&p.monitoring, Component::Tracking.port());
    let tracking = tracking::build(
        &n,
        (&p.tracking, &p.tracking_secrets),
        &db,
        &s3,
        extras,
        metrics.as_ref(),
    );
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
            .then(|| namespace_labels(&n, p.serving.is_some())),
        postgres,
        cloudnativepg,
        minio,
        tracking,
        ingress,
        http_route,
        service_monitor,
        serving: p
            .serving
            .as_ref()
            .map(|plan| serving::build(&n, plan, &p.artifacts)),
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
/// so with models it warns and audits instead of refusing them.
fn namespace_labels(n: &Naming, serving: bool) -> Labels {
    let mut labels = n.common_labels();
    let modes: &[&str] = if serving {
        &["warn", "audit"]
    } else {
        &["enforce", "warn", "audit"]
    };
    for mode in modes {
        let key = format!("pod-security.kubernetes.io/{mode}");
        labels.insert(key, "restricted".into());
    }
    labels
}

type Databases = (
    Option<PostgresContext>,
    Option<cloudnativepg::ClusterContext>,
    DbAccess,
);

fn database(n: &Naming, plan: &DatabasePlan, s3: &S3Access, extras: &mut Extras) -> Databases {
    match plan {
        DatabasePlan::CloudNativePg(spec) => {
            let (ctx, access) = cloudnativepg::build(n, spec, s3);
            let uri = pg_uri(
                spec.user.as_str(),
                &access.host,
                Component::Database.port(),
                spec.database.as_str(),
                None,
            );
            let db = DbAccess {
                uri,
                password: access.password,
                ca: None,
            };
            (None, Some(ctx), db)
        }
        DatabasePlan::Embedded { spec, password } => {
            let (ctx, password) = postgres::build(n, spec, password);
            let host = n.fqdn(&ctx.name);
            let uri = pg_uri(
                spec.user.as_str(),
                &host,
                Component::Database.port(),
                spec.database.as_str(),
                None,
            );
            let ca = None;
            (Some(ctx), None, DbAccess { uri, password, ca })
        }
        DatabasePlan::External {
            host,
            port,
            database,
            user,
            ssl_mode,
            ssl_root_cert,
            password,
        } => {
            let mut secret = SecretBinder::new(n.object("db"));
            let password = secret.bind("password", password);
            extras.secrets.extend(secret.finish());
            let ca = ssl_root_cert
                .as_ref()
                .map(|(kind, k)| db_ca::mount(kind, k));
            let mut uri = pg_uri(
                user.as_str(),
                host.as_str(),
                *port,
                database.as_str(),
                ssl_mode.map(|m| m.as_str()),
            );
            if ca.is_some() {
                let sep = if uri.contains('?') { '&' } else { '?' };
                uri.push_str(&format!("{sep}sslrootcert={}", db_ca::FILE));
            }
            (None, None, DbAccess { uri, password, ca })
        }
    }
}

/// `postgresql+psycopg://` names the driver (psycopg 3) rather than leave
/// it to SQLAlchemy's default, which changed between releases.
fn pg_uri(user: &str, host: &str, port: u16, db: &str, ssl_mode: Option<&str>) -> String {
    let query = ssl_mode
        .map(|m| format!("?sslmode={m}"))
        .unwrap_or_default();
    format!("postgresql+psycopg://{user}@{host}:{port}/{db}{query}")
}

fn artifacts(
    n: &Naming,
    plan: &ArtifactsPlan,
    extras: &mut Extras,
) -> (Option<MinioContext>, S3Access) {
    match plan {
        ArtifactsPlan::Embedded {
            spec,
            root_user,
            root_password,
        } => {
            let (ctx, access) = minio::build(n, spec, root_user, root_password);
            let s3 = S3Access {
                endpoint: Some(access.endpoint),
                bucket: spec.bucket.to_string(),
                region: "us-east-1".into(),
                keys: Some(S3KeyRefs {
                    access_key: access.access_key,
                    secret_key: access.secret_key,
                }),
                role_arn: None,
            };
            (Some(ctx), s3)
        }
        ArtifactsPlan::External {
            endpoint,
            bucket,
            region,
            keys,
            role_arn,
        } => {
            let mut secret = SecretBinder::new(n.object("s3"));
            let keys = keys.as_ref().map(|k| S3KeyRefs {
                access_key: secret.bind("access-key-id", &k.access_key_id),
                secret_key: secret.bind("secret-access-key", &k.secret_access_key),
            });
            extras.secrets.extend(secret.finish());
            // Without keys on AWS itself, the SDK finds the endpoint.
            let endpoint = endpoint.as_ref().filter(|e| keys.is_some() || !e.is_aws());
            let s3 = S3Access {
                endpoint: endpoint.map(|e| e.to_string()),
                bucket: bucket.to_string(),
                region: region.clone(),
                keys,
                role_arn: role_arn.as_ref().map(|r| r.to_string()),
            };
            (None, s3)
        }
    }
}
