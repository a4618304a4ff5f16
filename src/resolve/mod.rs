//! Stage 3: checks what only the merged spec can show (required fields,
//! choices that conflict) and resolves every secret.

mod artifacts;
mod cloud_store;
pub mod connections;
mod gateway;
mod ingress;
mod model_location;
mod model_root;
mod oidc;
mod pod_wide;
mod secrets;
mod serving;
mod serving_mode;
mod sidecars;
mod tracking;
mod workspaces;

pub use artifacts::minio_user;
pub use cloud_store::{AzureKey, AzurePlan, GcsPlan};
pub use gateway::GatewayPlan;
pub use ingress::{AuthPlan, IngressPlan, MANAGED_ANNOTATIONS, TlsPlan};
pub use oidc::{CALLBACK as OIDC_CALLBACK, OidcPlan, dockerfile as oidc_dockerfile};
pub use secrets::{ALLOW_ENV_VAR, SECRET_KEY_VAR, SecretEnv, SecretValue, Sensitive};
pub use serving::{
    Credentials, KSERVE_AZURE_KEY, KSERVE_GCS_KEY, Lookup, ModelPlan, ServingPlan, Source,
};
pub use sidecars::OWN_CONTAINERS;
pub use tracking::{AuthSecrets, TrackingSecrets};

use crate::layers::Merged;
use crate::located::Located;
use crate::problems::Problems;
use crate::spec::{
    CloudNativePg, EmbeddedArtifacts, EmbeddedDatabase, Endpoint, KeyOf, Metadata, Monitoring,
    NetworkPolicy, PgIdent, RoleArn, SecretSource, SecretsMode, SslMode, StoreRef, Tracking,
};
use crate::types::{BucketName, Host};
use secrets::Resolver;

/// The platform as it will be rendered: every choice made, every secret
/// either a value or a reference.
#[derive(Debug, Clone)]
pub struct Platform {
    pub profile: String,
    pub metadata: Metadata,
    pub database: DatabasePlan,
    pub artifacts: ArtifactsPlan,
    pub tracking: Tracking,
    /// Every client of the platform's PostgreSQL, at its most.
    pub connections: connections::Budget,
    /// The tracking server's own secrets.
    pub tracking_secrets: TrackingSecrets,
    pub ingress: Option<IngressPlan>,
    pub gateway: Option<GatewayPlan>,
    pub monitoring: Monitoring,
    pub serving: Option<ServingPlan>,
    pub network_policy: Option<NetworkPolicy>,
    /// The store ExternalSecrets read, in externalSecrets mode.
    pub secret_store: Option<StoreRef>,
    /// Every pod's defaults; each component holds its own `pods`.
    pub pods: crate::spec::Pods,
}

#[derive(Debug, Clone)]
pub enum DatabasePlan {
    Embedded {
        spec: Box<EmbeddedDatabase>,
        password: SecretValue,
    },
    /// CloudNativePG generates the password into its `NAME-app` Secret.
    CloudNativePg(Box<CloudNativePg>),
    External(ExternalDatabase),
}

/// A PostgreSQL the platform does not run.
#[derive(Debug, Clone)]
pub struct ExternalDatabase {
    pub host: Host,
    pub port: u16,
    pub database: PgIdent,
    pub user: PgIdent,
    pub ssl_mode: Option<SslMode>,
    /// The CA file: its kind (`Secret` or `ConfigMap`), name and key.
    pub ssl_root_cert: Option<(&'static str, KeyOf)>,
    pub password: SecretValue,
}

#[derive(Debug, Clone)]
pub enum ArtifactsPlan {
    Embedded(EmbeddedStore),
    External(ExternalS3),
    Gcs(GcsPlan),
    Azure(AzurePlan),
}

/// The store the platform runs, and how its consumers log in.
#[derive(Debug, Clone)]
pub struct EmbeddedStore {
    pub spec: Box<EmbeddedArtifacts>,
    pub credentials: StoreCredentials,
    /// The bucket of the database's backups, when there are any.
    pub backups: Option<BucketName>,
    /// A SeaweedFS cluster's: the password of its filers' own role in the
    /// platform's PostgreSQL.
    pub filer_password: Option<SecretValue>,
    /// The MinIO this store replaces, rendered beside it until a Job has
    /// copied its objects over (`migrateFrom`).
    pub migrate_from: Option<Box<EmbeddedStore>>,
}

#[derive(Debug, Clone)]
pub enum StoreCredentials {
    /// MinIO's root user, which only the bucket Job holds, and a user of
    /// its own for each consumer, which that Job creates. None where mlk
    /// can invent no value (externalSecrets mode), or for a MinIO that
    /// is being copied out: its consumers then share the root user.
    Root {
        user: SecretValue,
        password: SecretValue,
        users: Vec<Identity>,
    },
    /// An identity of its own for each consumer (`artifacts::IDENTITIES`).
    Identities(Vec<Identity>),
}

#[derive(Debug, Clone)]
pub struct Identity {
    pub name: &'static str,
    pub access_key: SecretValue,
    pub secret_key: SecretValue,
}

/// An S3 bucket the platform does not run.
#[derive(Debug, Clone)]
pub struct ExternalS3 {
    pub endpoint: Option<Endpoint>,
    pub bucket: BucketName,
    /// The bucket of the database's backups, when there are any: it must
    /// exist, as the artifacts' must.
    pub backups: Option<BucketName>,
    pub region: String,
    /// Static keys; none for a role or the node's credentials.
    pub keys: Option<S3Keys>,
    pub role_arn: Option<RoleArn>,
}

/// How the artifact store takes credentials, as serving needs to know.
pub enum StoreKeys {
    /// Values mlk writes into Secrets of its own, which it may copy.
    Own,
    /// At least one from a Secret the user manages.
    Existing,
    /// None: the pods' identity, which the store's provider names.
    Identity,
    /// The Azure connection string, which KServe does not read.
    ConnectionString,
}

impl ArtifactsPlan {
    /// The bucket artifacts go to.
    pub fn bucket(&self) -> &str {
        match self {
            ArtifactsPlan::Embedded(e) => e.spec.bucket.as_str(),
            ArtifactsPlan::External(e) => e.bucket.as_str(),
            ArtifactsPlan::Gcs(g) => g.bucket.as_str(),
            ArtifactsPlan::Azure(z) => z.container.as_str(),
        }
    }

    pub fn keys(&self) -> StoreKeys {
        let own = |values: &[&SecretValue]| match values.iter().all(|v| v.is_own()) {
            true => StoreKeys::Own,
            false => StoreKeys::Existing,
        };
        match self {
            ArtifactsPlan::Embedded(EmbeddedStore {
                credentials:
                    StoreCredentials::Root {
                        user,
                        password,
                        users,
                    },
                ..
            }) if users.is_empty() => own(&[user, password]),
            ArtifactsPlan::Embedded(EmbeddedStore {
                credentials:
                    StoreCredentials::Identities(ids) | StoreCredentials::Root { users: ids, .. },
                ..
            }) => own(&ids
                .iter()
                .flat_map(|i| [&i.access_key, &i.secret_key])
                .collect::<Vec<_>>()),
            ArtifactsPlan::External(ExternalS3 { keys: Some(k), .. }) => {
                own(&[&k.access_key_id, &k.secret_access_key])
            }
            ArtifactsPlan::External(ExternalS3 { keys: None, .. }) => StoreKeys::Identity,
            ArtifactsPlan::Gcs(GcsPlan { key: Some(k), .. }) => own(&[k]),
            ArtifactsPlan::Azure(AzurePlan {
                key: Some(AzureKey::AccountKey(k)),
                ..
            }) => own(&[k]),
            ArtifactsPlan::Azure(AzurePlan {
                key: Some(AzureKey::ConnectionString(_)),
                ..
            }) => StoreKeys::ConnectionString,
            ArtifactsPlan::Gcs(_) | ArtifactsPlan::Azure(_) => StoreKeys::Identity,
        }
    }
}

#[derive(Debug, Clone)]
pub struct S3Keys {
    pub access_key_id: SecretValue,
    pub secret_access_key: SecretValue,
}

pub struct Resolved {
    pub platform: Platform,
    pub warnings: Vec<String>,
    /// Objects the rendered platform may reference without rendering.
    pub external: crate::external::External,
    /// The files the spec named and mlk read.
    pub read_files: Vec<std::path::PathBuf>,
    /// What the registry named, when it was asked: the new mlk.lock.
    pub lock: Option<crate::lock::Lock>,
}

/// Errors name a field path; the caller places it in a file. Sections
/// are checked independently and every missing env var or file is
/// collected, so one run reports all of them.
/// `lookup` says whether registry aliases and versions may be resolved
/// against the live tracking server.
pub fn resolve(merged: &Merged, env: &SecretEnv, lookup: &Lookup) -> Result<Resolved, Problems> {
    let mut spec = merged.spec.clone();
    spec.rehome_default_images();
    let mut r = Resolver::new(env, spec.secrets.mode);
    let mut found: Vec<Located> = secrets::key_problem(env).into_iter().collect();
    let backups = artifacts::backups(&spec.database);
    let consumers = artifacts::Consumers {
        gc: spec.tracking.gc.is_some(),
        predictors: !spec.serving.models.is_empty(),
        cloudnativepg: spec.database.external.is_none() && spec.database.cloudnativepg.is_some(),
    };
    let (sidecar_problems, sidecar_warnings) = sidecars::check(&spec);
    found.extend(sidecar_problems);
    r.warnings.extend(sidecar_warnings);
    Problems::keep(&mut found, backup_checks(&spec.database, &mut r.warnings));
    let external_limit = spec.database.external.as_ref().map(|e| e.max_connections);
    let database = Problems::keep(&mut found, database(spec.database, &mut r));
    let artifacts = Problems::keep(
        &mut found,
        artifacts::resolve(&spec.artifacts, backups, &consumers, &spec.metadata, &mut r),
    );
    let ingress = Problems::keep(
        &mut found,
        ingress::resolve(&spec.ingress, &spec.tracking.max_artifact_size, &mut r),
    );
    let gateway = Problems::keep(&mut found, gateway::resolve(&spec.gateway));
    Problems::keep(&mut found, tracking::tracking_checks(&spec.tracking));
    found.extend(tracking::extras(&spec.tracking, &mut r.existing));
    tracking::ai_gateway_checks(&merged.spec, &mut r.warnings);
    found.extend(workspaces::check(&merged.spec, &mut r.warnings));
    let mut tracking_secrets = Problems::keep(
        &mut found,
        tracking::resolve(&spec.tracking, &spec.metadata, &spec.monitoring, &mut r),
    );
    let mut ingress = ingress;
    let sso = sso(
        &merged.spec,
        ingress.as_ref(),
        gateway.as_ref(),
        env,
        &mut r,
    );
    let sso = sso.map_err(|e| found.extend(e)).ok().flatten();
    if let (Some(Some(plan)), true) = (&mut ingress, sso.is_some()) {
        plan.large_headers = true;
    }
    if let Some(t) = &mut tracking_secrets {
        t.oidc = sso;
    }
    Problems::keep(&mut found, tracking::autoscaling_checks(&spec.tracking));
    Problems::keep(&mut found, labels_checks(&spec.metadata));
    Problems::keep(&mut found, monitoring_checks(&spec.monitoring));
    let external_mode = spec.secrets.mode == SecretsMode::ExternalSecrets;
    found.extend(external_secrets_checks(&merged.spec));
    let blocks = pods_blocks(&merged.spec);
    found.extend(pods_checks(&blocks));
    found.extend(pod_wide::check(
        &merged.spec,
        &blocks,
        &mut r.existing,
        &mut r.warnings,
    ));
    let serving = artifacts.as_ref().and_then(|a| {
        Problems::keep(
            &mut found,
            serving::resolve(&spec.serving, a, lookup, &mut r.warnings),
        )
    });
    found.splice(0..0, r.take_missing());
    let (Some(database), Some(artifacts), Some(ingress), Some(gateway)) =
        (database, artifacts, ingress, gateway)
    else {
        return Err(Problems(found));
    };
    let connections = connections::budget(&spec.tracking, &database, &artifacts);
    if let Some(limit) = external_limit {
        Problems::keep(&mut found, connections::check_external(&connections, limit));
    }
    let (Some(tracking_secrets), Some(serving), true) =
        (tracking_secrets, serving, found.is_empty())
    else {
        return Err(Problems(found));
    };
    let external = r.existing.clone();
    let read_files = r.read_files.clone();
    let pins = serving.as_ref().map(ServingPlan::pins).unwrap_or_default();
    Ok(Resolved {
        external,
        read_files,
        lock: lookup.enabled.then(|| crate::lock::Lock::new(pins)),
        platform: Platform {
            profile: merged.profile.name.clone(),
            metadata: spec.metadata,
            database,
            artifacts,
            tracking: spec.tracking,
            tracking_secrets,
            connections,
            ingress,
            gateway,
            monitoring: spec.monitoring,
            serving,
            network_policy: spec.network_policy.enabled.then_some(spec.network_policy),
            secret_store: spec.secrets.store.filter(|_| external_mode),
            pods: spec.pods,
        },
        warnings: r.finish(),
    })
}

/// Single sign-on, with the origins of whichever front doors resolved.
fn sso(
    spec: &crate::spec::PlatformSpec,
    ingress: Option<&Option<IngressPlan>>,
    gateway: Option<&Option<GatewayPlan>>,
    env: &SecretEnv,
    r: &mut Resolver,
) -> Result<Option<OidcPlan>, Vec<Located>> {
    let mut front: Vec<String> = Vec::new();
    if let Some(Some(i)) = ingress {
        front.push(i.origin().to_string());
    }
    if let Some(Some(g)) = gateway {
        front.extend(g.origins().iter().map(ToString::to_string));
    }
    oidc::resolve(spec, &front, env.allow_insecure_issuer, r)
}

fn required<T>(v: Option<T>, path: &str, why: &str) -> Result<T, Located> {
    v.ok_or_else(|| Located::new("spec", Some(path), format!("is required {why}")))
}

/// A dump schedule that keeps at least one dump, and one that is used.
fn backup_checks(db: &crate::spec::Database, warnings: &mut Vec<String>) -> Result<(), Located> {
    let embedded = db.embedded.as_ref().and_then(|e| e.backup.as_ref());
    if embedded.is_some() && db.external.is_none() && db.cloudnativepg.is_some() {
        warnings.push(
            "database.embedded.backup is not used: CloudNativePG runs the database \
             (database.cloudnativepg wins), and archives only with database.cloudnativepg.backup"
                .into(),
        );
    }
    match embedded {
        Some(b) if b.retention == 0 => Err(Located::new(
            "spec",
            Some("database.embedded.backup.retention"),
            "must be 1 or more: it is how many dumps are kept",
        )),
        _ => Ok(()),
    }
}

/// `generate` invents a value; an external system already has one.
fn external_secret(
    r: &mut Resolver,
    path: &str,
    s: Option<SecretSource>,
) -> Result<SecretValue, Located> {
    let source = required(
        s,
        path,
        "for an external store (fromEnv, fromFile or existingSecret)",
    )?;
    if source == SecretSource::Generate {
        return Err(Located::new(
            "spec",
            Some(path),
            "`generate` invents a new value, but an external store already has one: \
             use fromEnv, fromFile or existingSecret",
        ));
    }
    Ok(r.resolve(path, &source))
}

fn database(db: crate::spec::Database, r: &mut Resolver) -> Result<DatabasePlan, Located> {
    if let (None, Some(cnpg)) = (&db.external, db.cloudnativepg) {
        return Ok(DatabasePlan::CloudNativePg(Box::new(cnpg)));
    }
    let Some(ext) = db.external else {
        let spec = db.embedded.unwrap_or_default();
        let password = r.resolve("database.embedded.password", &spec.password);
        return Ok(DatabasePlan::Embedded {
            spec: Box::new(spec),
            password,
        });
    };
    let why = "when database.external is set";
    let ssl_root_cert = root_cert(ext.ssl_root_cert, ext.ssl_mode, r)?;
    Ok(DatabasePlan::External(ExternalDatabase {
        host: required(ext.host, "database.external.host", why)?,
        port: ext.port,
        database: ext.database,
        user: ext.user,
        ssl_mode: ext.ssl_mode,
        ssl_root_cert,
        password: external_secret(r, "database.external.password", ext.password)?,
    }))
}

/// Exactly one source, which then exists in the cluster; and one at all
/// when libpq is to verify the server.
fn root_cert(
    cert: Option<crate::spec::RootCert>,
    mode: Option<SslMode>,
    r: &mut Resolver,
) -> Result<Option<(&'static str, KeyOf)>, Located> {
    let at = "database.external.sslRootCert";
    let source = match cert {
        None => None,
        Some(c) => match (c.secret, c.config_map) {
            (Some(k), None) => Some(("Secret", k)),
            (None, Some(k)) => Some(("ConfigMap", k)),
            _ => {
                let msg = "takes one of secret: {name, key} or configMap: {name, key}";
                return Err(Located::new("spec", Some(at), msg));
            }
        },
    };
    if let Some((kind, k)) = &source {
        r.existing.insert(kind, k.name.as_str());
    }
    let verifies = matches!(mode, Some(SslMode::VerifyCa | SslMode::VerifyFull));
    if verifies && source.is_none() {
        return Err(Located::new(
            "spec",
            Some("database.external.sslMode"),
            "verifies the server against a CA, which libpq in the image does not have: add \
             database.external.sslRootCert: {secret: {name, key}} or {configMap: {name, key}}",
        ));
    }
    Ok(source)
}

/// These labels form the selectors; a user value would break them.
pub const MANAGED_LABELS: [&str; 4] = [
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/managed-by",
];

/// Every `pods` block, where it is written.
fn pods_blocks(spec: &crate::spec::PlatformSpec) -> Vec<(String, &crate::spec::Pods)> {
    let mut blocks = vec![("pods".to_owned(), &spec.pods)];
    blocks.push(("tracking.pods".into(), &spec.tracking.pods));
    if let Some(e) = &spec.database.embedded {
        blocks.push(("database.embedded.pods".into(), &e.pods));
    }
    if let Some(c) = &spec.database.cloudnativepg {
        blocks.push(("database.cloudnativepg.pods".into(), &c.pods));
    }
    if let Some(a) = &spec.artifacts.embedded {
        blocks.push(("artifacts.embedded.pods".into(), &a.pods));
    }
    blocks.push(("serving.pods".into(), &spec.serving.pods));
    for (i, m) in spec.serving.models.iter().enumerate() {
        blocks.push((format!("serving.models[{i}].pods"), &m.pods));
    }
    blocks
}

/// Tolerations the API server accepts, and no label mlk selects by.
fn pods_checks(blocks: &[(String, &crate::spec::Pods)]) -> Vec<Located> {
    let mut found = Vec::new();
    for (at, pods) in blocks {
        if let Err((field, msg)) = pods.check() {
            found.push(Located::new("spec", Some(&format!("{at}.{field}")), msg));
        }
        for key in pods.labels.iter().flat_map(|l| l.keys()) {
            if MANAGED_LABELS.contains(&key.as_str()) {
                found.push(Located::new(
                    "spec",
                    Some(&format!("{at}.labels.{key}")),
                    "mlk selects pods by this label: a value of yours would detach them from their \
                     Service and controller",
                ));
            }
        }
    }
    found
}

fn labels_checks(m: &Metadata) -> Result<(), Located> {
    for key in m.labels.keys() {
        if MANAGED_LABELS.contains(&key.as_str()) {
            return Err(Located::new(
                "spec",
                Some(&format!("metadata.labels.{key}")),
                "mlk sets this label itself: its selectors depend on it",
            ));
        }
    }
    Ok(())
}

/// In externalSecrets mode mlk renders no secret value, so nothing that
/// mlk derives from one (an htpasswd hash, MLflow's auth config and
/// Flask key) can be rendered either.
fn external_secrets_checks(spec: &crate::spec::PlatformSpec) -> Vec<Located> {
    let refuse = |path: &str, msg: &str| Located::new("spec", Some(path), msg);
    let mut found = Vec::new();
    match (spec.secrets.mode, &spec.secrets.store) {
        (SecretsMode::Inline, Some(_)) => found.push(refuse(
            "secrets.store",
            "is read only in externalSecrets mode: set secrets.mode: externalSecrets, or remove it",
        )),
        (SecretsMode::ExternalSecrets, None) => found.push(refuse(
            "secrets.store",
            "is required in externalSecrets mode: {name: STORE, kind: SecretStore} or \
             ClusterSecretStore",
        )),
        _ => {}
    }
    if spec.secrets.mode == SecretsMode::Inline {
        return found;
    }
    let auth = &spec.ingress.auth;
    if spec.ingress.enabled && auth.enabled && auth.existing_secret.is_none() {
        found.push(refuse(
            "ingress.auth",
            "in externalSecrets mode mlk renders no htpasswd Secret: keep the htpasswd lines in \
             the store, have an ExternalSecret write a Secret with key `auth`, and name it in \
             ingress.auth.existingSecret",
        ));
    }
    if spec.tracking.auth.enabled {
        found.push(refuse(
            "tracking.auth.enabled",
            "MLflow's auth app needs a config and a Flask key that mlk derives, which \
             externalSecrets mode cannot render; use secrets.mode: inline, or front MLflow \
             with ingress.auth",
        ));
    }
    found
}

/// Prometheus refuses a scrape config whose timeout exceeds its interval.
fn monitoring_checks(m: &Monitoring) -> Result<(), Located> {
    let sm = &m.service_monitor;
    if sm.scrape_timeout.millis() > sm.interval.millis() {
        return Err(Located::new(
            "spec",
            Some("monitoring.serviceMonitor.scrapeTimeout"),
            format!(
                "{} is longer than the interval ({}); Prometheus refuses that",
                sm.scrape_timeout, sm.interval
            ),
        ));
    }
    Ok(())
}
