//! The MLflow tracking server: its command line, environment, init steps
//! and the Host names it answers to.

use super::component::Component;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerSpec;
use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec;
use serde::Serialize;

use super::access::{DbAccess, StoreAccess};
use super::auth;
use super::availability;
use super::monitoring::{self, Metrics};
use super::naming::{Labels, Naming};
use super::oidc;
use super::pod::PodTemplate;
use super::secret::{EnvEntry, SecretBinder, SecretMount, SecretObject};
use super::security;
use super::sidecar::{self, Sidecars};
use super::workload::{Deadlines, InitStep, PGPASSFILE, build, credential_files, runtime_env};
use super::workspaces;
use crate::resolve::TrackingSecrets;
use crate::spec::{Resources, Tracking};
use crate::types::{HostPattern, Origin, Quantity};

/// What the server listens on, and its Service serves.
pub const PORT: u16 = 5000;
const DB_UPGRADE: &str = include_str!("../../templates/scripts/db-upgrade.py");
const WAIT_FOR_BUCKET: &str = include_str!("../../templates/scripts/wait-for-bucket.py");
const WAIT_FOR_COPY: &str = include_str!("../../templates/scripts/wait-for-copy.py");

#[derive(Debug, Serialize)]
pub struct TrackingContext {
    pub name: String,
    pub labels: Labels,
    pub service_account_annotations: std::collections::BTreeMap<String, String>,
    pub selector: Labels,
    pub secrets: Vec<SecretObject>,
    pub image: String,
    /// Left out when an autoscaler owns the count.
    pub replicas: Option<u32>,
    pub port: u16,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: Vec<EnvEntry>,
    pub init_containers: Vec<InitStep>,
    /// The Secret keys the credential-files step reads.
    pub secret_files: Option<SecretMount>,
    /// The auth app's ini, which the server reads.
    pub auth_config: Option<SecretMount>,
    /// The login Prometheus scrapes `/metrics` with, under the auth app.
    pub metrics_login: Option<auth::BasicAuth>,
    /// How to find the first admin's password, for stderr.
    #[serde(skip)]
    pub admin_note: Option<String>,
    /// `mlflow gc` on a schedule.
    pub gc: Option<GcJob>,
    pub resources: Resources,
    /// /tmp, sized for the artifacts in flight, and the credentials.
    pub scratch: Vec<k8s_openapi::api::core::v1::Volume>,
    pub probe: Probe,
    pub drain: super::drain::Drain,
    /// The Service port Prometheus discovers, and the folder the
    /// exporter writes to, when metrics are on.
    pub metrics: Option<MetricsPort>,
    pub pod: PodTemplate,
    /// The database's CA, when libpq verifies the server.
    pub db_ca: Option<SecretMount>,
    /// The user's volumes, mounts and sidecars (`extraVolumes`, ...).
    pub extra_volumes: Vec<k8s_openapi::api::core::v1::Volume>,
    pub extra_volume_mounts: Vec<k8s_openapi::api::core::v1::VolumeMount>,
    pub sidecars: Sidecars,
    pub topology_spread: Vec<TopologySpreadConstraint>,
    pub disruption_budget: Option<PodDisruptionBudgetSpec>,
    pub autoscaler: Option<HorizontalPodAutoscalerSpec>,
}

/// A CronJob that removes deleted runs and their artifacts for good, one
/// run at a time, with its own access to the database and the store.
#[derive(Debug, Serialize)]
pub struct GcJob {
    pub name: String,
    /// The database's CA, when libpq verifies the server.
    pub db_ca: Option<SecretMount>,
    pub labels: Labels,
    pub pod: PodTemplate,
    pub schedule: String,
    pub command: Vec<String>,
    pub env: Vec<EnvEntry>,
    pub credential_files: InitStep,
    /// The Secret keys its credential-files step reads.
    pub secret_files: Option<SecretMount>,
    pub resources: Resources,
    /// Native sidecars only.
    pub sidecars: Sidecars,
    pub deadlines: Deadlines,
}

/// What gc reaches the platform with.
struct GcClient<'a> {
    db: &'a DbAccess,
    s3: &'a StoreAccess,
    /// The login MLflow's client needs under the auth app.
    auth: Vec<EnvEntry>,
    pod: PodTemplate,
    /// The tracking server, which deletes a run's proxied artifacts.
    server: String,
    /// Flags and variables that make it collect in every workspace.
    workspaces: (Vec<String>, Vec<EnvEntry>),
}

fn gc_job(n: &Naming, gc: &crate::spec::Gc, c: GcClient) -> GcJob {
    let (credential_files, secret_files) = credential_files(c.db, c.s3);
    let db_env = mlflow_db_env();
    GcJob {
        name: n.name(Component::Gc),
        db_ca: c.db.ca.clone(),
        labels: n.labels(Component::Gc),
        pod: c.pod,
        schedule: gc.schedule.to_string(),
        command: [gc_command(c.db, c.s3, gc, &c.server), c.workspaces.0].concat(),
        env: without_repeats([runtime_env(), db_env, c.s3.env(), c.auth, c.workspaces.1].concat()),
        credential_files,
        secret_files,
        resources: Resources::new("50m", "256Mi", Some("500m"), "1Gi"),
        sidecars: sidecar::split(&gc.extra_containers),
        // A daily collection that has not ended in hours is stuck.
        deadlines: Deadlines::hours(4),
    }
}

#[derive(Debug, Serialize)]
pub struct MetricsPort {
    pub name: &'static str,
    pub port: u16,
    pub dir: &'static str,
}

/// The probes' `httpGet`. `/health` is exempt from MLflow's Host check,
/// but under a static prefix it is not, so the probe then sends a Host
/// that the allowed list holds.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    pub path: String,
    pub port: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub http_headers: Vec<Header>,
}

#[derive(Debug, Serialize)]
pub struct Header {
    pub name: &'static str,
    pub value: &'static str,
}

fn probe(t: &Tracking) -> Probe {
    let prefix = t.static_prefix.as_ref().map_or("", |p| p.as_str());
    let http_headers = if prefix.is_empty() {
        Vec::new()
    } else {
        vec![Header {
            name: "Host",
            value: "localhost",
        }]
    };
    Probe {
        path: format!("{prefix}/health"),
        port: "http",
        http_headers,
    }
}

/// What a front door (an Ingress, an HTTPRoute) needs the tracking server
/// to accept: the Host names it must answer, which it refuses otherwise,
/// and the Origins browsers send from there.
#[derive(Debug, Default)]
pub struct Audience {
    pub hosts: Vec<HostPattern>,
    pub origins: Vec<Origin>,
}

impl Audience {
    pub fn extend(&mut self, other: Audience) {
        self.hosts.extend(other.hosts);
        self.origins.extend(other.origins);
    }
}

/// What the tracking server takes from the rest of the platform, all
/// worked out before it and only read here.
pub struct Inputs<'a> {
    pub db: &'a DbAccess,
    pub s3: &'a StoreAccess,
    /// How the gc CronJob reaches the artifact store.
    pub gc_s3: &'a StoreAccess,
    /// The Secrets of external stores' credentials, rendered with the
    /// server's own.
    pub store_secrets: Vec<SecretObject>,
    pub audience: &'a Audience,
    pub metrics: Option<&'a Metrics>,
    /// An object the artifacts' bucket must hold before the server starts.
    pub ready_object: Option<&'static str>,
    pub drain: super::drain::Drain,
}

pub fn build(
    n: &Naming,
    (t, secrets): (&Tracking, &TrackingSecrets),
    inputs: Inputs,
) -> TrackingContext {
    let Inputs {
        db,
        s3,
        gc_s3,
        store_secrets,
        audience,
        metrics,
        ready_object,
        drain,
    } = inputs;
    let name = n.name(Component::Tracking);
    let mut own = SecretBinder::new(name.clone());
    let gateway_env = ai_gateway_env(secrets, &mut own);
    let auth = match (&secrets.auth, &secrets.oidc) {
        (Some(a), _) => Some(auth::build(n, a, &db.uri, &mut own)),
        (None, Some(o)) => Some(oidc::build(n, o, &db.uri, &mut own)),
        (None, None) => None,
    };
    let mut all_secrets = store_secrets;
    all_secrets.extend(own.finish());
    let machines = auth.iter().flat_map(|a| &a.machines);
    all_secrets.extend(machines.filter_map(|m| m.secret.clone()));
    let runtime = runtime_env();
    let db_env = [runtime.clone(), mlflow_db_env()].concat();
    let (credential_files, secret_files) = credential_files(db, s3);
    let s3_only = s3.env();
    let mut env = db_env.clone();
    env.extend(s3_only.iter().cloned());
    let s3_env = [runtime, s3_only].concat();
    let python = |script: &str, arg: &str| ["python", "-c", script, arg].map(String::from).to_vec();
    // The bucket first; with a store still being copied into, the copy.
    let mut waits = vec![InitStep {
        name: "wait-for-bucket".into(),
        command: python(WAIT_FOR_BUCKET, &s3.destination()),
        env: s3_env.clone(),
        mounts: Vec::new(),
    }];
    waits.extend(ready_object.map(|marker| {
        InitStep {
            name: "wait-for-copy".into(),
            command: ["python", "-c", WAIT_FOR_COPY, s3.bucket(), marker]
                .map(String::from)
                .to_vec(),
            env: s3_env.clone(),
            mounts: Vec::new(),
        }
    }));
    env.push(EnvEntry::plain(
        "MLFLOW_SERVER_ALLOWED_HOSTS",
        allowed_hosts(n, &name, t, audience, metrics).join(","),
    ));
    let origins = cors_origins(t, audience);
    if !origins.is_empty() {
        env.push(EnvEntry::plain(
            "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS",
            origins.join(","),
        ));
    }
    env.push(EnvEntry::plain(
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION",
        t.job_execution.to_string(),
    ));
    env.extend(gateway_env);
    env.extend(auth.iter().flat_map(|a| a.env.clone()));
    if secrets.oidc.is_some() {
        env.extend(workspaces::oidc_env(t));
    }
    env.extend(t.extra_env.iter().map(|v| match (&v.value, &v.value_from) {
        (_, Some(source)) => EnvEntry::from_source(v.name.as_str(), source.0.clone()),
        (value, None) => EnvEntry::plain(v.name.as_str(), value.clone().unwrap_or_default()),
    }));

    let selector = n.selector(Component::Tracking);
    let pods = n.pods(&t.pods);
    let security = security::pod(security::MLFLOW_UID);
    let gc = t.gc.as_ref().map(|gc| {
        let client = GcClient {
            db,
            s3: gc_s3,
            auth: auth.iter().flat_map(|a| a.client_env.clone()).collect(),
            pod: pods.template(
                &gc_s3.pod_labels(&n.labels(Component::Gc)),
                &std::collections::BTreeMap::new(),
                gc_s3.identity_account(&name),
                security.clone(),
            ),
            server: server_url(n, &name, t),
            workspaces: workspaces::gc(t),
        };
        gc_job(n, gc, client)
    });
    let pod_annotations = metrics
        .map(|m| m.pod_annotations.clone())
        .unwrap_or_default();
    TrackingContext {
        labels: n.labels(Component::Tracking),
        service_account_annotations: service_account_annotations(n, t, s3),
        db_ca: db.ca.clone(),
        extra_volumes: t.extra_volumes.iter().map(|v| v.0.clone()).collect(),
        extra_volume_mounts: t.extra_volume_mounts.iter().map(|m| m.0.clone()).collect(),
        sidecars: sidecar::split(&t.extra_containers),
        pod: pods.template(
            &s3.pod_labels(&n.labels(Component::Tracking)),
            &pod_annotations,
            Some(name.clone()),
            security,
        ),
        topology_spread: if t.topology_spread {
            availability::spread(&selector)
        } else {
            Vec::new()
        },
        disruption_budget: t
            .disruption_budget
            .then(|| availability::disruption_budget(&selector)),
        autoscaler: t
            .autoscaling
            .as_ref()
            .map(|a| availability::autoscaler(&name, a)),
        selector,
        secrets: all_secrets,
        image: t.image.to_string(),
        replicas: t.autoscaling.is_none().then_some(t.replicas),
        port: PORT,
        command: vec!["mlflow".into()],
        args: [
            server_args(t, db, s3, metrics.is_some(), drain),
            auth.iter().flat_map(|a| a.args.clone()).collect(),
            workspaces::server_args(t),
        ]
        .concat(),
        auth_config: auth.as_ref().and_then(|a| a.config.clone()),
        metrics_login: auth.as_ref().and_then(|a| a.metrics_login.clone()),
        admin_note: auth.as_ref().map(|a| a.note.clone()),
        gc,
        env,
        init_containers: std::iter::once(credential_files)
            .chain(waits)
            .chain([InitStep {
                name: "db-upgrade".into(),
                command: db_upgrade(&db.uri, auth.as_ref(), t),
                env: [db_env, machine_env(auth.as_ref()), workspaces::step_env(t)].concat(),
                mounts: db.ca.iter().map(|c| c.mount.clone()).collect(),
            }])
            .collect(),
        secret_files,
        resources: t.resources.clone().unwrap_or_else(|| sized_for(t)),
        scratch: build::scratch_volumes(&tmp_size(t)),
        probe: probe(t),
        drain,
        metrics: metrics.map(|_| MetricsPort {
            name: monitoring::PORT_NAME,
            port: monitoring::SERVICE_PORT,
            dir: monitoring::DIR,
        }),
        name,
    }
}

/// The platform's annotations, the user's, and the cloud identity the
/// store's clients act as.
fn service_account_annotations(
    n: &Naming,
    t: &Tracking,
    s3: &StoreAccess,
) -> std::collections::BTreeMap<String, String> {
    let mut out = t.service_account.annotations_over(&n.annotations());
    out.extend(s3.account_annotations());
    out
}

/// MLflow reads the AI Gateway's passphrase from its environment only,
/// so it stays an env var from the Secret. With the gateway off there is
/// nothing to encrypt.
fn ai_gateway_env(secrets: &TrackingSecrets, own: &mut SecretBinder) -> Vec<EnvEntry> {
    match &secrets.kek_passphrase {
        Some(passphrase) => {
            let r = own.bind("kek-passphrase", passphrase);
            vec![EnvEntry::secret("MLFLOW_CRYPTO_KEK_PASSPHRASE", r)]
        }
        None => vec![EnvEntry::plain("MLFLOW_ENABLE_AI_GATEWAY", "false")],
    }
}

fn server_args(
    t: &Tracking,
    db: &DbAccess,
    s3: &StoreAccess,
    metrics: bool,
    drain: super::drain::Drain,
) -> Vec<String> {
    let port = PORT.to_string();
    // At SIGTERM, uvicorn stops accepting and lets requests in flight
    // finish, for at most as long as the front door waits for them.
    // One argument, so no value of the server's reads as a flag.
    let uvicorn = format!(
        "--uvicorn-opts=--timeout-graceful-shutdown {}",
        drain.graceful
    );
    let workers = t.workers.0.to_string();
    let destination = s3.destination();
    let mut args: Vec<String> = [
        "server",
        "--host",
        "0.0.0.0",
        "--port",
        &port,
        "--backend-store-uri",
        &db.uri,
        "--artifacts-destination",
        &destination,
        "--serve-artifacts",
        "--workers",
        &workers,
        &uvicorn,
    ]
    .map(String::from)
    .to_vec();
    if let Some(prefix) = &t.static_prefix {
        args.extend(["--static-prefix".to_owned(), prefix.to_string()]);
    }
    if metrics {
        args.extend(["--expose-prometheus".to_owned(), monitoring::DIR.to_owned()]);
    }
    args.extend(t.extra_args.iter().cloned());
    args
}

/// What every MLflow process that opens the database reads: its password
/// file, and the pool each of its engines keeps (the budget in
/// `resolve::connections` counts these).
fn mlflow_db_env() -> Vec<EnvEntry> {
    use crate::resolve::connections::{MAX_OVERFLOW, POOL_RECYCLE_SECONDS, POOL_SIZE};
    vec![
        EnvEntry::plain("PGPASSFILE", PGPASSFILE),
        EnvEntry::plain("MLFLOW_DISABLE_TELEMETRY", "true"),
        EnvEntry::plain("MLFLOW_SQLALCHEMYSTORE_POOL_SIZE", POOL_SIZE.to_string()),
        EnvEntry::plain(
            "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW",
            MAX_OVERFLOW.to_string(),
        ),
        EnvEntry::plain(
            "MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE",
            POOL_RECYCLE_SECONDS.to_string(),
        ),
    ]
}

/// The first entry of each name: the parts an env is made of share the
/// runtime's variables.
fn without_repeats(env: Vec<EnvEntry>) -> Vec<EnvEntry> {
    let mut seen = std::collections::BTreeSet::new();
    env.into_iter()
        .filter(|e| seen.insert(e.name.clone()))
        .collect()
}

/// The server as a client in the cluster reaches it, under its static
/// prefix.
fn server_url(n: &Naming, service: &str, t: &Tracking) -> String {
    let prefix = t.static_prefix.as_ref().map_or("", |p| p.as_str());
    format!("http://{}:{PORT}{prefix}", n.fqdn(service))
}

/// `mlflow gc` deletes a run's proxied artifacts through the server, so
/// it names the server's Service too.
fn gc_command(db: &DbAccess, s3: &StoreAccess, gc: &crate::spec::Gc, server: &str) -> Vec<String> {
    let destination = s3.destination();
    [
        "mlflow",
        "gc",
        "--backend-store-uri",
        &db.uri,
        "--artifacts-destination",
        &destination,
        "--tracking-uri",
        server,
        "--older-than",
        gc.older_than.as_str(),
    ]
    .map(String::from)
    .to_vec()
}

/// `mlflow db upgrade` under an advisory lock, then the login app's own
/// migrations in its schema and the platform's own logins, under the
/// same lock.
fn db_upgrade(uri: &str, auth: Option<&auth::Auth>, t: &Tracking) -> Vec<String> {
    let script = workspaces::step_script(t, DB_UPGRADE);
    let script = match auth.and_then(|a| a.step_prelude) {
        Some(prelude) => format!("{prelude}\n\n{script}"),
        None => script,
    };
    let mut argv: Vec<String> = ["python", "-c", &script, uri].map(String::from).to_vec();
    if let Some(a) = auth {
        let store = &a.store;
        argv.extend([
            store.uri.clone(),
            store.schema.to_owned(),
            store.app.to_owned(),
        ]);
        argv.extend(a.machines.iter().map(auth::Machine::arg));
    }
    argv
}

/// The passwords of the platform's own logins, for the step that creates
/// them.
fn machine_env(auth: Option<&auth::Auth>) -> Vec<EnvEntry> {
    let machines = auth.iter().flat_map(|a| &a.machines);
    machines.map(auth::Machine::password_env).collect()
}

/// MLflow (3.5+) answers 403 to any Host not on this list, and the list
/// replaces its defaults. So it names the Service in every form a client
/// in the cluster may use, with and without the port; localhost for
/// `kubectl port-forward`; then the Ingress host, Prometheus' scrapes
/// (pod IP and port) and the user's own.
fn allowed_hosts(
    n: &Naming,
    service: &str,
    t: &Tracking,
    audience: &Audience,
    metrics: Option<&Metrics>,
) -> Vec<String> {
    let mut hosts = Vec::new();
    for host in n.service_hosts(service) {
        hosts.push(format!("{host}:{PORT}"));
        hosts.push(host);
    }
    for local in ["localhost", "127.0.0.1"] {
        hosts.push(local.to_owned());
        hosts.push(format!("{local}:*"));
    }
    hosts.extend(audience.hosts.iter().map(HostPattern::to_string));
    hosts.extend(metrics.iter().flat_map(|m| m.scrape_hosts.iter().cloned()));
    hosts.extend(t.allowed_hosts.iter().map(HostPattern::to_string));
    dedup(hosts)
}

fn cors_origins(t: &Tracking, audience: &Audience) -> Vec<String> {
    let all = audience.origins.iter().chain(&t.cors_origins);
    dedup(all.map(Origin::to_string).collect())
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    items
        .into_iter()
        .filter(|h| seen.insert(h.clone()))
        .collect()
}

/// The server's /tmp: MLflow writes each proxied upload whole to a
/// temporary file before it sends it to the store, and each download
/// before it answers. Room for one of each at `maxArtifactSize`, and
/// the scratch every pod gets besides.
fn tmp_size(t: &Tracking) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    let transfers = (2.0 * t.max_artifact_size.value() / MIB).ceil() as u64;
    let base = Quantity::parse(build::TMP_SIZE).expect("built-in quantity");
    format!("{}Mi", transfers + (base.value() / MIB) as u64)
}

/// Requests and limits from use measured on the pinned MLflow by
/// `scripts/measure-tracking-memory.py` (the table in docs/traps.md): about
/// 430 MiB for one uvicorn worker, 200 MiB for each further one, 110 MiB
/// for the idle job runner; the AI Gateway adds nothing measurable. The
/// measurement is of light, sequential work: the limit leaves 1 GiB over
/// it for concurrent requests and uploads in flight, and 1 GiB more for
/// the jobs the runner executes.
fn sized_for(t: &Tracking) -> Resources {
    let workers = u64::from(t.workers.0);
    let request_mib = 448 + 208 * (workers - 1) + if t.job_execution { 128 } else { 0 };
    let limit_mib = request_mib + 1024 + if t.job_execution { 1024 } else { 0 };
    let q = |s: String| Some(Quantity::parse(&s).expect("derived quantity"));
    let mut r = Resources::default();
    r.requests.cpu = q(format!("{}m", 250 * workers));
    r.requests.memory = q(format!("{request_mib}Mi"));
    r.limits.cpu = q(format!("{workers}"));
    r.limits.memory = q(format!("{limit_mib}Mi"));
    r
}
