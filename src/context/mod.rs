//! Stage 4a: the typed context the templates lay out. Every name, default
//! and derived value is decided here; templates make no decisions.

mod ingress;
mod minio;
mod monitoring;
mod naming;
mod postgres;
mod secret;
mod serving;
mod tracking;

use std::collections::BTreeMap;

use serde::Serialize;

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
use tracking::{DbAccess, Extras, S3Access};

#[derive(Debug, Serialize)]
pub struct Context {
    pub namespace: String,
    /// The user's annotations, for every object.
    pub annotations: BTreeMap<String, String>,
    /// Labels of the Namespace, when mlk renders it.
    pub namespace_object: Option<Labels>,
    pub postgres: Option<PostgresContext>,
    pub minio: Option<MinioContext>,
    pub tracking: TrackingContext,
    pub ingress: Option<IngressContext>,
    pub service_monitor: Option<ServiceMonitorContext>,
    pub serving: Option<ServingContext>,
}

pub fn build(p: &Platform) -> Context {
    let n = Naming::new(&p.metadata);
    let mut extras = Extras::default();
    let (postgres, db) = database(&n, &p.database, &mut extras);
    let (minio, s3) = artifacts(&n, &p.artifacts, &mut extras);
    let service = n.object("tracking");
    let ingress = p
        .ingress
        .as_ref()
        .map(|plan| ingress::build(&n, plan, &service, &mut extras));
    let metrics = monitoring::metrics(&p.monitoring, tracking::PORT);
    let tracking = tracking::build(&n, &p.tracking, &db, &s3, extras, metrics.as_ref());
    let service_monitor = monitoring::service_monitor(&n, &p.monitoring, &tracking.selector);
    Context {
        namespace: n.namespace().to_owned(),
        annotations: n.annotations(),
        namespace_object: p.metadata.create_namespace.then(|| n.common_labels()),
        postgres,
        minio,
        tracking,
        ingress,
        service_monitor,
        serving: p
            .serving
            .as_ref()
            .map(|plan| serving::build(&n, plan, &p.artifacts)),
    }
}

fn database(
    n: &Naming,
    plan: &DatabasePlan,
    extras: &mut Extras,
) -> (Option<PostgresContext>, DbAccess) {
    match plan {
        DatabasePlan::Embedded { spec, password } => {
            let (ctx, password) = postgres::build(n, spec, password);
            let host = n.fqdn(&ctx.name);
            let uri = pg_uri(
                spec.user.as_str(),
                &host,
                postgres::PORT,
                spec.database.as_str(),
                None,
            );
            (Some(ctx), DbAccess { uri, password })
        }
        DatabasePlan::External {
            host,
            port,
            database,
            user,
            ssl_mode,
            password,
        } => {
            let mut secret = SecretBinder::new(n.object("db"));
            let password = secret.bind("password", password);
            extras.secrets.extend(secret.finish());
            let ssl = ssl_mode.map(|m| m.as_str());
            let uri = pg_uri(user.as_str(), host.as_str(), *port, database.as_str(), ssl);
            (None, DbAccess { uri, password })
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
                access_key: access.access_key,
                secret_key: access.secret_key,
            };
            (Some(ctx), s3)
        }
        ArtifactsPlan::External {
            endpoint,
            bucket,
            region,
            access_key_id,
            secret_access_key,
        } => {
            let mut secret = SecretBinder::new(n.object("s3"));
            let access_key = secret.bind("access-key-id", access_key_id);
            let secret_key = secret.bind("secret-access-key", secret_access_key);
            extras.secrets.extend(secret.finish());
            let s3 = S3Access {
                endpoint: endpoint.as_ref().map(|e| e.to_string()),
                bucket: bucket.to_string(),
                region: region.clone(),
                access_key,
                secret_key,
            };
            (None, s3)
        }
    }
}
