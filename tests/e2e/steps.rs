//! The harness's steps, in order. A setup step that fails stops the run
//! (what follows depends on it); each step prints a timing line. The
//! steps themselves are in `setup` (starting the components) and
//! `checks` (what a user and Prometheus see).

mod auth;
mod backup;
mod checks;
mod cloud;
mod cluster;
mod connections;
mod drain;
mod image;
mod keyless;
mod lock;
mod migration;
mod minio;
mod oidc;
mod proxy;
mod serving;
mod setup;
mod sidecar;
mod store;
mod tls;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_yaml::Value;

use super::http;
use super::manifest::{Rendered, map_of, seq};
use super::python::{
    FETCH_DUMP, GC_RUNS, LIST_OBJECTS, MOVE_ALIAS, OVERWRITE_ARTIFACT, READ_GATEWAY_SECRET,
    READ_RUN, USER_FLOW,
};
use crate::common::live::{
    Process, free_port, is_root, nginx, python, serve_venv_bin, venv, venv_bin,
};
use crate::common::mlk;

const HOST: &str = "mlflow.example.com";
/// What Prometheus sends as Host when it scrapes a pod: its IP and port.
const POD_IP: &str = "10.244.1.17";
const USERS: [(&str, &str); 2] = [("alice", "alice: correct horse"), ("bob", "b0b's $ecret")];

const SPEC: &str = "apiVersion: mlk/v1alpha1
kind: Platform
ingress:
  enabled: true
  host: mlflow.example.com
  auth:
    users:
      - {name: alice, password: {fromEnv: ALICE_PASSWORD}}
      - {name: bob, password: {fromEnv: BOB_PASSWORD}}
monitoring:
  serviceMonitor: {enabled: true}
tracking:
  gc: {olderThan: 1s}
database:
  embedded:
    backup: {retention: 2}
artifacts:
  embedded:
    versioning: {noncurrentDays: 7}
serving:
  models:
    - {name: churn, registeredModel: churn model, MODEL}
";

/// In-cluster addresses and paths, and what stands for each on this
/// machine. Everything else runs exactly as rendered.
struct Loopback {
    /// `host:port` of each rendered Service → a loopback port.
    services: Vec<(String, u16)>,
    /// Whole arguments: the bind address, the container port, mount paths.
    args: Vec<(String, String)>,
    /// The local folders standing in for the pod's emptyDirs: the only
    /// places its processes may write.
    volumes: Vec<String>,
}

impl Loopback {
    /// Only URLs name a Service to connect to: a Host header pattern
    /// (`MLFLOW_SERVER_ALLOWED_HOSTS`) is what clients send, and stays.
    fn map(&self, s: &str) -> String {
        if let Some((_, to)) = self.args.iter().find(|(from, _)| from == s) {
            return to.clone();
        }
        if let Some(local) = map_path(s, &self.args) {
            return local;
        }
        if !s.contains("://") {
            return s.to_owned();
        }
        let mut out = s.to_owned();
        for (from, port) in &self.services {
            out = out.replace(from, &format!("127.0.0.1:{port}"));
        }
        out
    }

    fn port(&self, service: &str) -> Result<u16, String> {
        self.services
            .iter()
            .find(|(s, _)| s.starts_with(&format!("{service}.")))
            .map(|(_, p)| *p)
            .ok_or_else(|| format!("no loopback port for Service {service}"))
    }
}

/// A path under a mount path (`/tmp/mlk/pgpass` under `/tmp`), in the
/// folder that stands for that mount.
/// A mounted path inside a value, after `=` (a URI parameter such as
/// `sslrootcert=/etc/...`), mapped as a whole path would be.
fn map_embedded(s: &str, mounts: &[(String, String)]) -> String {
    mounts
        .iter()
        .filter(|(from, _)| from.starts_with('/'))
        .fold(s.to_owned(), |s, (from, to)| {
            s.replace(&format!("={from}/"), &format!("={to}/"))
        })
}

fn map_path(s: &str, mounts: &[(String, String)]) -> Option<String> {
    let mounts = mounts.iter().filter(|(from, _)| from.starts_with('/'));
    for (from, to) in mounts {
        if s == from {
            return Some(to.clone());
        }
        if let Some(rest) = s.strip_prefix(&format!("{from}/")) {
            return Some(format!("{to}/{rest}"));
        }
    }
    None
}

#[derive(Default)]
struct State {
    rendered: Option<Rendered>,
    loopback: Option<Loopback>,
    processes: Vec<Process>,
    tracking_env: Vec<(String, String)>,
    bucket: String,
    nginx_port: u16,
    user_flow: serde_json::Value,
    /// The platform rendered with `--resolve` against the live registry.
    resolved: Option<Vec<Value>>,
    /// The model's name and the folder the storage initializer filled.
    model: Option<(String, PathBuf)>,
    served: Option<serving::Served>,
    auth: Option<auth::AuthRun>,
    /// The provider, its client and the replicas under single sign-on.
    oidc: Option<oidc::OidcRun>,
    oidc_client_id: String,
    /// The CA that signed the harness PostgreSQL's certificate (PEM).
    pg_ca: String,
    /// The SeaweedFS cluster's pods that run, by pod name, and the
    /// loopback port of each pod that was started.
    pods: BTreeMap<String, Process>,
    pod_ports: BTreeMap<String, u16>,
    /// The filers' role, password, database and PostgreSQL's port.
    filer_db: (String, String, String, u16),
    /// The CA of a store served over TLS, and its loopback endpoint (or
    /// the proxy's, for a cloud's store).
    store_tls: (String, String),
    /// The cloud whose store the harness runs (`gcs`, `azure`), and the
    /// variable and value of the key its spec reads.
    cloud: Option<&'static str>,
    cloud_key: (String, String),
}

pub struct Harness {
    dir: tempfile::TempDir,
    state: State,
    results: Vec<(String, Result<String, String>)>,
    _nginx: Option<crate::common::live::Nginx>,
}

type Step = fn(&mut Harness) -> Result<String, String>;

impl Harness {
    pub fn new() -> Self {
        // Outside /tmp: a container's own /tmp is mounted over it.
        let dir = tempfile::tempdir_in("/var/tmp").unwrap();
        // PostgreSQL runs as its own user and must reach its folder.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Harness {
            dir,
            state: State::default(),
            results: Vec::new(),
            _nginx: None,
        }
    }

    pub fn run(&mut self) {
        let first: [(&str, Step); 3] = [
            ("render the platform", Self::render),
            ("map Services to loopback", Self::map_services),
            ("PostgreSQL from the StatefulSet's env", Self::postgres),
        ];
        let then: [(&str, Step); 3] = [
            ("init step db-upgrade (migrations)", |h| {
                h.init_step("db-upgrade")
            }),
            ("mlflow server as the Deployment runs it", Self::tracking),
            ("nginx from the Ingress and auth Secret", Self::nginx),
        ];
        let setup: Vec<(&str, Step)> = first
            .into_iter()
            .chain(Self::store_steps())
            .chain(then)
            .collect();
        let checks: [(&str, Step); 29] = [
            (
                "a user logs a run, a 5 MB artifact and a model",
                Self::user_flow,
            ),
            (
                "the artifacts are objects in the bucket",
                Self::artifacts_in_bucket,
            ),
            (
                "each store identity may do what its consumer needs, no more",
                Self::least_privilege,
            ),
            ("no credentials: 401; the other user: 200", Self::auth),
            ("a Host outside the allowed list: 403", Self::host_check),
            (
                "60 clients at once: the server stays within its connection budget",
                Self::connection_budget,
            ),
            (
                "a rollout drains: an upload in flight at SIGTERM completes",
                Self::drain,
            ),
            ("/metrics as the ServiceMonitor scrapes it", Self::metrics),
            (
                "mlk render --resolve against the live registry",
                Self::resolve,
            ),
            (
                "mlk resolve: mlk.lock follows the alias",
                Self::lock_follows_the_alias,
            ),
            (
                "the serving Secret reaches the same bucket",
                Self::serving_secret,
            ),
            (
                "KServe's storage initializer downloads storageUri",
                Self::storage_initializer,
            ),
            (
                "MLServer (mlflow runtime) loads the model",
                Self::mlserver_ready,
            ),
            (
                "a V2 prediction equals pyfunc's in process",
                Self::v2_prediction,
            ),
            (
                "a build-docker image serves as the rendered runAsUser",
                Self::image_as_user,
            ),
            (
                "break: no s3-endpoint annotation stops serving",
                Self::break_endpoint,
            ),
            (
                "break: a storageUri one folder up stops serving",
                Self::break_storage_uri,
            ),
            (
                "break: credentials from another Secret stop serving",
                Self::break_credentials,
            ),
            (
                "a refused password stops db-upgrade at once",
                Self::wrong_password,
            ),
            (
                "no secret in any env or argv but what MLflow reads only there",
                Self::no_secret_in_env,
            ),
            (
                "an AI Gateway key decrypts with the rendered passphrase only",
                Self::gateway_secret,
            ),
            (
                "a versioned bucket keeps an overwritten artifact",
                Self::versioning,
            ),
            (
                "the gc CronJob removes a deleted run, and only it",
                Self::gc,
            ),
            (
                "tracking.auth: its init steps, then two servers from one render",
                Self::auth_setup,
            ),
            (
                "tracking.auth: users, permissions, /metrics and the Flask key",
                Self::auth_checks,
            ),
            (
                "the backup CronJob's dump restores a dropped database",
                Self::backup_and_restore,
            ),
            (
                "engine: minio: the bucket Job's own script, both buckets",
                Self::minio_bucket_job,
            ),
            (
                "keyless S3: IRSA's web identity, no key rendered",
                Self::keyless,
            ),
            (
                "external PostgreSQL over verify-full TLS",
                Self::verified_tls,
            ),
        ];
        self.run_steps(&setup, &checks);
    }

    /// The rendered store, its setup Job, and the tracking server's init
    /// steps up to its bucket: what every harness that runs SeaweedFS
    /// starts with.
    fn store_steps() -> [(&'static str, Step); 3] {
        [
            (
                "SeaweedFS as the StatefulSet runs it, then the setup Job",
                Self::s3,
            ),
            ("init step credential-files", |h| {
                h.init_step("credential-files")
            }),
            ("init step wait-for-bucket", |h| {
                h.init_step("wait-for-bucket")
            }),
        ]
    }

    /// The setup steps in order, stopping at the first that fails; then
    /// every check.
    fn run_steps(&mut self, setup: &[(&str, Step)], checks: &[(&str, Step)]) {
        let names: Vec<&str> = setup.iter().chain(checks).map(|(n, _)| *n).collect();
        for (i, &(name, step)) in setup.iter().enumerate() {
            if !self.step(name, step) {
                for name in &names[i + 1..] {
                    println!("skip             {name}: not run");
                    self.results.push((name.to_string(), Err("not run".into())));
                }
                return;
            }
        }
        for &(name, step) in checks {
            self.step(name, step);
        }
    }

    fn step(&mut self, name: &str, step: Step) -> bool {
        let start = Instant::now();
        let result = step(self);
        let took = start.elapsed().as_secs_f32();
        match &result {
            Ok(detail) => println!("ok    {took:6.1}s  {name}: {detail}"),
            Err(why) => println!("FAIL  {took:6.1}s  {name}:\n{why}"),
        }
        let ok = result.is_ok();
        self.results.push((name.to_owned(), result));
        ok
    }

    pub fn summary(&self) -> (usize, usize) {
        let passed = self.results.iter().filter(|(_, r)| r.is_ok()).count();
        (passed, self.results.len() - passed)
    }

    pub fn failures(&self) -> String {
        let lines = self
            .results
            .iter()
            .filter_map(|(name, r)| r.as_ref().err().map(|why| format!("{name}: {why}")));
        lines.collect::<Vec<_>>().join("\n")
    }

    fn rendered(&self) -> &Rendered {
        self.state.rendered.as_ref().expect("rendered first")
    }

    fn loopback(&self) -> &Loopback {
        self.state.loopback.as_ref().expect("mapped first")
    }

    /// A variable of the running tracking server's environment.
    fn tracking_var(&self, k: &str) -> Option<String> {
        let env = &self.state.tracking_env;
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    /// What a boto3 script needs to reach the bucket as the tracking
    /// server does, followed by `more`.
    fn with_s3_access(&self, more: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
        let var = |k: &str| self.tracking_var(k).unwrap_or_default();
        let mut env = vec![
            ("S3_ENDPOINT", var("MLFLOW_S3_ENDPOINT_URL")),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                var("AWS_SHARED_CREDENTIALS_FILE"),
            ),
            ("BUCKET", self.state.bucket.clone()),
        ];
        env.extend(more.iter().cloned());
        env
    }

    /// moto's server on a loopback port of its own, stopped with the run;
    /// `tag` names its log.
    fn moto(&mut self, tag: &str) -> u16 {
        let port = free_port();
        let mut cmd = Command::new(venv_bin("moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let log = self.path(&format!("moto-{tag}.log"));
        let mut p = Process::start("moto_server", cmd, log);
        p.wait_for_port(port, Duration::from_secs(30));
        self.state.processes.push(p);
        port
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Where the first InferenceService of a render downloads its model.
fn served_from(docs: &[Value]) -> Result<String, String> {
    let isvc = docs
        .iter()
        .find(|d| d["kind"] == "InferenceService")
        .ok_or("no InferenceService")?;
    let uri = &isvc["spec"]["predictor"]["model"]["storageUri"];
    Ok(uri.as_str().unwrap_or_default().to_owned())
}

fn render_spec(spec: &str, env: &[(&str, &str)]) -> Result<Vec<Value>, String> {
    let mut args = vec!["render", "-f", "-"];
    if !env.is_empty() {
        args.push("--resolve");
    }
    let mut cmd = mlk(&args).key().stdin(spec);
    for (k, v) in USERS
        .iter()
        .map(|(u, p)| (format!("{}_PASSWORD", u.to_uppercase()), *p))
    {
        cmd = cmd.env(&k, v);
    }
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let run = cmd.run();
    if run.code != 0 {
        return Err(run.stderr);
    }
    Ok(run.docs())
}

/// Runs a step to completion; a step still running at the deadline is
/// stopped and reported with the end of its output.
fn run_with_deadline(
    name: &str,
    cmd: Command,
    log: &Path,
    limit: Duration,
) -> Result<String, String> {
    let mut p = Process::start(name, cmd, log.to_path_buf());
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = p.try_wait() {
            let tail = p.tail();
            let last = tail.lines().last().unwrap_or("").to_owned();
            return if status.success() {
                Ok(last)
            } else {
                Err(format!("exited {status}:\n{tail}"))
            };
        }
        if Instant::now() > deadline {
            return Err(format!("still running after {limit:?}:\n{}", p.tail()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `py_env` with owned values.
fn py_owned(script: &str, env: &[(&str, String)]) -> Result<String, String> {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    py_env(script, &env)
}

fn py_env(script: &str, env: &[(&str, &str)]) -> Result<String, String> {
    std::panic::catch_unwind(|| python(script, env)).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "python failed".into())
    })
}
