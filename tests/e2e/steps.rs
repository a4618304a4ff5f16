//! The harness's steps, in order. A setup step that fails stops the run
//! (what follows depends on it); each step prints a timing line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_yaml::Value;

use super::http;
use super::manifest::{Rendered, map_of, seq};
use super::python::{LIST_OBJECTS, MAKE_BUCKET, USER_FLOW};
use crate::common::live::{Process, free_port, is_root, nginx, python, venv, venv_bin};
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
}

impl Loopback {
    /// Only URLs name a Service to connect to: a Host header pattern
    /// (`MLFLOW_SERVER_ALLOWED_HOSTS`) is what clients send, and stays.
    fn map(&self, s: &str) -> String {
        if let Some((_, to)) = self.args.iter().find(|(from, _)| from == s) {
            return to.clone();
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

#[derive(Default)]
struct State {
    rendered: Option<Rendered>,
    loopback: Option<Loopback>,
    processes: Vec<Process>,
    tracking_env: Vec<(String, String)>,
    bucket: String,
    nginx_port: u16,
    user_flow: serde_json::Value,
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
        let dir = tempfile::tempdir().unwrap();
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
        let setup: [(&str, Step); 8] = [
            ("render the platform", Self::render),
            ("map Services to loopback", Self::map_services),
            ("PostgreSQL from the StatefulSet's env", Self::postgres),
            ("S3 (moto) and the bucket Job", Self::s3),
            ("init step wait-for-bucket", |h| {
                h.init_step("wait-for-bucket")
            }),
            ("init step db-upgrade (migrations)", |h| {
                h.init_step("db-upgrade")
            }),
            ("mlflow server as the Deployment runs it", Self::tracking),
            ("nginx from the Ingress and auth Secret", Self::nginx),
        ];
        let checks: [(&str, Step); 8] = [
            (
                "a user logs a run, a 5 MB artifact and a model",
                Self::user_flow,
            ),
            (
                "the artifacts are objects in the bucket",
                Self::artifacts_in_bucket,
            ),
            ("no credentials: 401; the other user: 200", Self::auth),
            ("a Host outside the allowed list: 403", Self::host_check),
            ("/metrics as the ServiceMonitor scrapes it", Self::metrics),
            (
                "mlk render --resolve against the live registry",
                Self::resolve,
            ),
            (
                "the serving Secret reaches the same bucket",
                Self::serving_secret,
            ),
            (
                "a refused password stops db-upgrade at once",
                Self::wrong_password,
            ),
        ];
        let names: Vec<&str> = setup.iter().chain(&checks).map(|(n, _)| *n).collect();
        for (i, (name, step)) in setup.into_iter().enumerate() {
            if !self.step(name, step) {
                for name in &names[i + 1..] {
                    println!("skip             {name}: not run");
                    self.results.push((name.to_string(), Err("not run".into())));
                }
                return;
            }
        }
        for (name, step) in checks {
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

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    // ---- setup ----

    fn render(&mut self) -> Result<String, String> {
        let spec = SPEC.replace("MODEL", "storageUri: s3://mlflow/placeholder");
        let run = render_spec(&spec, &[]).map_err(|e| format!("mlk render failed:\n{e}"))?;
        let count = run.len();
        self.state.rendered = Some(Rendered::new(run));
        Ok(format!("{count} documents"))
    }

    fn map_services(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let ns = r.first("Namespace")?["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let mut services = Vec::new();
        for svc in r.docs.iter().filter(|d| d["kind"] == "Service") {
            let name = svc["metadata"]["name"].as_str().unwrap_or_default();
            for port in seq(&svc["spec"]["ports"]) {
                let p = port["port"].as_u64().unwrap_or_default();
                services.push((format!("{name}.{ns}.svc.cluster.local:{p}"), free_port()));
            }
        }
        let tracking = r.get("Deployment", "mlflow-tracking")?;
        let container = &tracking["spec"]["template"]["spec"]["containers"][0];
        let container_port = container["ports"][0]["containerPort"]
            .as_u64()
            .unwrap_or_default();
        let track_port = services
            .iter()
            .find(|(s, _)| {
                s.starts_with("mlflow-tracking.") && s.ends_with(&format!(":{container_port}"))
            })
            .map(|(_, p)| *p)
            .ok_or("no tracking Service on the container's port")?;
        let mut args = vec![
            ("0.0.0.0".to_owned(), "127.0.0.1".to_owned()),
            (container_port.to_string(), track_port.to_string()),
        ];
        for mount in seq(&container["volumeMounts"]) {
            let path = mount["mountPath"].as_str().unwrap_or_default();
            let local = self.path(&format!("volume-{}", mount["name"].as_str().unwrap_or("x")));
            std::fs::create_dir_all(&local).map_err(|e| e.to_string())?;
            args.push((path.to_owned(), local.display().to_string()));
        }
        for (from, port) in &services {
            println!("      {from} -> 127.0.0.1:{port}");
        }
        for (from, to) in &args {
            println!("      argument {from} -> {to}");
        }
        self.state.loopback = Some(Loopback { services, args });
        Ok("every in-cluster address above; nothing else changes".into())
    }

    fn postgres(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let sts = r.get("StatefulSet", "mlflow-postgres")?;
        let env: BTreeMap<_, _> = r
            .env(&sts["spec"]["template"]["spec"]["containers"][0])?
            .into_iter()
            .collect();
        let var = |k: &str| {
            env.get(k)
                .cloned()
                .ok_or(format!("the StatefulSet sets no {k}"))
        };
        let (user, password, db) = (
            var("POSTGRES_USER")?,
            var("POSTGRES_PASSWORD")?,
            var("POSTGRES_DB")?,
        );
        let port = self.loopback().port("mlflow-postgres")?;
        let pg = self.path("pg");
        std::fs::create_dir_all(&pg).map_err(|e| e.to_string())?;
        std::fs::write(pg.join("pwfile"), &password).map_err(|e| e.to_string())?;
        if is_root() {
            run_ok(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&pg),
            )?;
        }
        let data = pg.join("data");
        let bin = pg_bin()?;
        let mut initdb = as_postgres(&format!("{bin}/initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", &user, "-E", "UTF8", "--auth=scram-sha-256"]);
        initdb.arg(format!("--pwfile={}", pg.join("pwfile").display()));
        run_ok(&mut initdb)?;
        let mut server = as_postgres(&format!("{bin}/postgres"));
        server.arg("-D").arg(&data).args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-p",
            &port.to_string(),
        ]);
        server.arg("-k").arg(&pg);
        let mut p = Process::start("postgres", server, self.path("postgres.log"));
        p.wait_for_port(port, Duration::from_secs(30));
        self.state.processes.push(p);
        // As the image's entrypoint does for POSTGRES_DB.
        let mut createdb = Command::new("createdb");
        createdb.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", &user, &db]);
        run_ok(createdb.env("PGPASSWORD", &password))?;
        Ok(format!("user {user}, database {db}, on 127.0.0.1:{port}"))
    }

    fn s3(&mut self) -> Result<String, String> {
        let port = self.loopback().port("mlflow-minio")?;
        let mut cmd = Command::new(venv_bin("moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let mut p = Process::start("moto_server", cmd, self.path("moto.log"));
        p.wait_for_port(port, Duration::from_secs(30));
        self.state.processes.push(p);

        let r = self.rendered();
        let job = r.first("Job")?;
        let pod = &job["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        let script = seq(&container["command"])
            .iter()
            .chain(&seq(&container["args"]))
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect::<Vec<_>>()
            .join(" ");
        if !script.contains("mc mb --ignore-existing") {
            return Err("the bucket Job no longer runs `mc mb --ignore-existing`".into());
        }
        let env: Vec<(String, String)> = r
            .env(container)?
            .into_iter()
            .map(|(k, v)| (k, self.loopback().map(&v)))
            .collect();
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .ok_or(format!("the Job sets no {k}"))
        };
        let bucket = get("BUCKET")?;
        // `mc` is not on this machine; boto3 makes the same call with the
        // Job's endpoint, credentials and bucket.
        let out = py_env(
            MAKE_BUCKET,
            &[
                ("S3_ENDPOINT", &get("S3_ENDPOINT")?),
                ("AWS_ACCESS_KEY_ID", &get("MINIO_ROOT_USER")?),
                ("AWS_SECRET_ACCESS_KEY", &get("MINIO_ROOT_PASSWORD")?),
                ("BUCKET", &bucket),
            ],
        )?;
        self.state.bucket = bucket;
        Ok(out.trim().to_owned())
    }

    fn container_env(&self, c: &Value) -> Result<Vec<(String, String)>, String> {
        let lb = self.loopback();
        let mut env: Vec<(String, String)> = self
            .rendered()
            .env(c)?
            .into_iter()
            .map(|(k, v)| (k, lb.map(&v)))
            .collect();
        // What the image provides: its programs on PATH, a home.
        let path = format!("{}:/usr/bin:/bin", venv().join("bin").display());
        env.push(("PATH".into(), path));
        env.push(("HOME".into(), self.path("home").display().to_string()));
        Ok(env)
    }

    fn command_for(&self, c: &Value) -> Result<Command, String> {
        let env = self.container_env(c)?;
        let argv: Vec<String> = self
            .rendered()
            .argv(c, &env)
            .iter()
            .map(|a| self.loopback().map(a))
            .collect();
        let (program, args) = argv.split_first().ok_or("a container without a command")?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .envs(env)
            .current_dir(self.dir.path());
        Ok(cmd)
    }

    fn init_step(&mut self, name: &str) -> Result<String, String> {
        let cmd = self.command_for(&self.init_container(name)?)?;
        let log = self.path(&format!("{name}.log"));
        run_with_deadline(name, cmd, &log, Duration::from_secs(60))
    }

    fn init_container(&self, name: &str) -> Result<Value, String> {
        let pod =
            &self.rendered().get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"];
        seq(&pod["initContainers"])
            .into_iter()
            .find(|c| c["name"] == name)
            .ok_or(format!("no init container {name}"))
    }

    fn tracking(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let pod = &r.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"];
        let container = pod["containers"][0].clone();
        let env = self.container_env(&container)?;
        self.state.tracking_env = env;
        let cmd = self.command_for(&container)?;
        let port = self.loopback().port("mlflow-tracking")?;
        let mut p = Process::start("mlflow server", cmd, self.path("mlflow.log"));
        p.wait_for_port(port, Duration::from_secs(120));
        let probe = &container["readinessProbe"]["httpGet"];
        let path = probe["path"].as_str().unwrap_or("/health");
        let answer = http::get(port, path, "localhost", None)?;
        self.state.processes.push(p);
        match answer.status {
            200 => Ok(format!("ready on 127.0.0.1:{port}{path}")),
            s => Err(format!("the readiness probe {path} got {s}")),
        }
    }

    fn nginx(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let ingress = r.first("Ingress")?;
        let secret = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-secret"]
            .as_str()
            .ok_or("the Ingress names no auth Secret")?;
        let auth = r.secret(secret, "auth")?;
        let upstream = self.loopback().port("mlflow-tracking")?;
        let n = nginx(
            &ingress["metadata"]["annotations"],
            auth.as_bytes(),
            upstream,
        );
        self.state.nginx_port = n.port;
        self._nginx = Some(n);
        Ok(format!(
            "127.0.0.1:{} -> 127.0.0.1:{upstream}, Host {HOST}",
            self.state.nginx_port
        ))
    }

    // ---- checks ----

    /// MLflow's own client, as a user on a laptop: through nginx, with
    /// the Host the Ingress routes on (nginx as an HTTP proxy gets the
    /// absolute URL, so Host is the ingress host exactly).
    fn user_flow(&mut self) -> Result<String, String> {
        let proxy = format!("http://127.0.0.1:{}", self.state.nginx_port);
        let work = self.path("client");
        std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
        let out = py_env(
            USER_FLOW,
            &[
                ("http_proxy", &proxy),
                ("MLFLOW_TRACKING_URI", &format!("http://{HOST}")),
                ("MLFLOW_TRACKING_USERNAME", USERS[0].0),
                ("MLFLOW_TRACKING_PASSWORD", USERS[0].1),
                ("WORK", &work.display().to_string()),
            ],
        )?;
        let v: serde_json::Value = serde_json::from_str(out.trim().lines().last().unwrap_or(""))
            .map_err(|e| format!("{e}: {out}"))?;
        self.state.user_flow = v.clone();
        Ok(format!(
            "experiment {}, run {}, model version {}",
            v["experiment_id"], v["run_id"], v["version"]
        ))
    }

    fn s3_keys(&self, prefix: &str) -> Result<BTreeMap<String, u64>, String> {
        let env = &self.state.tracking_env;
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or_default()
        };
        let out = py_env(
            LIST_OBJECTS,
            &[
                ("S3_ENDPOINT", get("MLFLOW_S3_ENDPOINT_URL")),
                ("AWS_ACCESS_KEY_ID", get("AWS_ACCESS_KEY_ID")),
                ("AWS_SECRET_ACCESS_KEY", get("AWS_SECRET_ACCESS_KEY")),
                ("BUCKET", &self.state.bucket),
                ("PREFIX", prefix),
            ],
        )?;
        serde_json::from_str(out.trim()).map_err(|e| format!("{e}: {out}"))
    }

    fn artifacts_in_bucket(&mut self) -> Result<String, String> {
        let v = &self.state.user_flow;
        let (exp, run) = (
            v["experiment_id"].as_str().unwrap_or("?"),
            v["run_id"].as_str().unwrap_or("?"),
        );
        let keys = self.s3_keys(&format!("{exp}/"))?;
        let blob = format!("{exp}/{run}/artifacts/blob.bin");
        match keys.get(&blob) {
            Some(&size) if size == 5 * 1024 * 1024 => {}
            other => return Err(format!("{blob}: {other:?} in {keys:?}")),
        }
        let model = keys
            .keys()
            .find(|k| k.ends_with("/artifacts/MLmodel"))
            .ok_or(format!("no MLmodel in {keys:?}"))?;
        Ok(format!("{blob} (5 MiB), {model}"))
    }

    fn auth(&mut self) -> Result<String, String> {
        let path = "/api/2.0/mlflow/experiments/search?max_results=1";
        let port = self.state.nginx_port;
        let none = http::get(port, path, HOST, None)?.status;
        let wrong = http::get(port, path, HOST, Some((USERS[1].0, "wrong")))?.status;
        let bob = http::get(port, path, HOST, Some(USERS[1]))?.status;
        match (none, wrong, bob) {
            (401, 401, 200) => Ok("401, 401 (wrong password), 200".into()),
            got => Err(format!("want (401, 401, 200), got {got:?}")),
        }
    }

    fn host_check(&mut self) -> Result<String, String> {
        let port = self.loopback().port("mlflow-tracking")?;
        let path = "/api/2.0/mlflow/experiments/search?max_results=1";
        let evil = http::get(port, path, "evil.example.com", None)?;
        let service = http::get(
            port,
            path,
            "mlflow-tracking.mlflow.svc.cluster.local:5000",
            None,
        )?;
        if evil.status != 403 || !evil.body.contains("Invalid Host header") {
            return Err(format!(
                "evil.example.com got {}: {}",
                evil.status, evil.body
            ));
        }
        if service.status != 200 {
            return Err(format!(
                "the Service's own name got {}: {}",
                service.status, service.body
            ));
        }
        Ok("evil.example.com 403; the Service's FQDN:5000 200".into())
    }

    fn metrics(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let sm = r.first("ServiceMonitor")?;
        let endpoint = &sm["spec"]["endpoints"][0];
        let (port_name, path) = (
            endpoint["port"].as_str().unwrap_or(""),
            endpoint["path"].as_str().unwrap_or(""),
        );
        let selector = map_of(&sm["spec"]["selector"]["matchLabels"]);
        let service = r
            .docs
            .iter()
            .find(|d| {
                d["kind"] == "Service" && {
                    let labels = map_of(&d["metadata"]["labels"]);
                    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
                }
            })
            .ok_or("the ServiceMonitor selects no Service")?;
        let sport = seq(&service["spec"]["ports"])
            .into_iter()
            .find(|p| p["name"] == port_name)
            .ok_or(format!("the Service has no port named {port_name}"))?;
        let target = sport["targetPort"].as_str().unwrap_or_default().to_owned();
        let pod = &r.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"];
        let container_port = seq(&pod["containers"][0]["ports"])
            .into_iter()
            .find(|p| p["name"] == target.as_str())
            .and_then(|p| p["containerPort"].as_u64())
            .ok_or(format!("no container port named {target}"))?;
        let port = self.loopback().port("mlflow-tracking")?;
        let host = format!("{POD_IP}:{container_port}");
        let answer = http::get(port, path, &host, None)?;
        if answer.status != 200 || !answer.body.contains("# TYPE") {
            return Err(format!(
                "GET {path} with Host {host}: {} {}",
                answer.status,
                &answer.body[..answer.body.len().min(300)]
            ));
        }
        Ok(format!("GET {path} with Host {host}: 200, Prometheus text"))
    }

    fn resolve(&mut self) -> Result<String, String> {
        let spec = SPEC.replace("MODEL", "alias: champion");
        let uri = format!(
            "http://127.0.0.1:{}",
            self.loopback().port("mlflow-tracking")?
        );
        let docs = render_spec(&spec, &[("MLFLOW_TRACKING_URI", &uri)])?;
        let isvc = docs
            .iter()
            .find(|d| d["kind"] == "InferenceService")
            .ok_or("no InferenceService")?;
        let storage = isvc["spec"]["predictor"]["model"]["storageUri"]
            .as_str()
            .unwrap_or_default();
        let want = format!("s3://{}/", self.state.bucket);
        let path = storage
            .strip_prefix(&want)
            .ok_or(format!("{storage} is not in {want}"))?;
        let keys = self.s3_keys(&format!("{path}/"))?;
        if !keys.contains_key(&format!("{path}/MLmodel")) {
            return Err(format!("{storage} holds no MLmodel: {keys:?}"));
        }
        Ok(format!(
            "{storage} holds MLmodel and {} more objects",
            keys.len() - 1
        ))
    }

    /// KServe's storage initializer reads the endpoint annotation and the
    /// keys; with them, the resolved model downloads from the same store.
    fn serving_secret(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let secret = r.get("Secret", "mlflow-serving-s3")?;
        let endpoint = secret["metadata"]["annotations"]["serving.kserve.io/s3-endpoint"]
            .as_str()
            .unwrap_or_default();
        let mapped = self.loopback().map(&format!("http://{endpoint}"));
        let out = py_env(
            LIST_OBJECTS,
            &[
                ("S3_ENDPOINT", &mapped),
                (
                    "AWS_ACCESS_KEY_ID",
                    &r.secret("mlflow-serving-s3", "awsAccessKeyID")?,
                ),
                (
                    "AWS_SECRET_ACCESS_KEY",
                    &r.secret("mlflow-serving-s3", "AWS_SECRET_ACCESS_KEY")?,
                ),
                ("BUCKET", &self.state.bucket),
                ("PREFIX", ""),
            ],
        )?;
        let keys: BTreeMap<String, u64> =
            serde_json::from_str(out.trim()).map_err(|e| e.to_string())?;
        Ok(format!("{endpoint} lists {} objects", keys.len()))
    }
}

impl Harness {
    /// The one deliberate change of a rendered value: a wrong PGPASSWORD.
    fn wrong_password(&mut self) -> Result<String, String> {
        let mut cmd = self.command_for(&self.init_container("db-upgrade")?)?;
        cmd.env("PGPASSWORD", "not-the-password");
        let log = self.path("db-upgrade-wrong.log");
        match run_with_deadline("db-upgrade", cmd, &log, Duration::from_secs(30)) {
            Err(why) if why.contains("the database refused the password") => {
                Ok(why.lines().last().unwrap_or_default().to_owned())
            }
            Err(why) => Err(why),
            Ok(_) => Err("db-upgrade succeeded with a wrong password".into()),
        }
    }
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

/// Debian's server binaries, newest version first.
fn pg_bin() -> Result<String, String> {
    let mut bins: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "PostgreSQL is not installed: scripts/install-test-deps.sh installs it")?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").exists())
        .collect();
    bins.sort();
    let bin = bins.pop().ok_or("no /usr/lib/postgresql/*/bin/initdb")?;
    Ok(bin.display().to_string())
}

fn as_postgres(program: &str) -> Command {
    let mut cmd = Command::new(program);
    if is_root() {
        use std::os::unix::process::CommandExt;
        let id = |flag: &str| -> u32 {
            let out = Command::new("id")
                .args([flag, "postgres"])
                .output()
                .expect("id runs");
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .expect("a postgres user")
        };
        cmd.uid(id("-u")).gid(id("-g"));
    }
    cmd
}

fn run_ok(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{:?} failed:\n{}{}",
        cmd.get_program(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
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

fn py_env(script: &str, env: &[(&str, &str)]) -> Result<String, String> {
    std::panic::catch_unwind(|| python(script, env)).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "python failed".into())
    })
}
