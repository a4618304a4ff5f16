//! A native sidecar between the migration step and PostgreSQL, as a
//! Cloud SQL Auth Proxy stands there on GKE: the spec names the database
//! at 127.0.0.1:5432, which only the sidecar listens on, and the sidecar
//! forwards to the real server. The tracking pod is run in the order the
//! rendered manifest gives, as the kubelet runs it: each init container
//! to completion, except a sidecar (`restartPolicy: Always`), which is
//! started and must pass its startupProbe before the next one starts.

use super::setup::run_ok;
use super::*;
use crate::e2e::python::{MAKE_BUCKET, RELAY};

const PASSWORD: &str = "sidecar-db-password-1";
/// Where the pod reaches the database: the sidecar.
const IN_POD: &str = "127.0.0.1:5432";
/// Where the sidecar finds it: a host only the sidecar names.
const REAL: &str = "db.corp.example:5432";
const STORE: &str = "s3.corp.example:9000";

fn spec() -> String {
    let script = serde_json::to_string(RELAY).unwrap();
    format!(
        "apiVersion: mlk/v1alpha1
kind: Platform
database:
  external:
    host: 127.0.0.1
    port: 5432
    database: mlflow
    user: mlflow
    password: {{value: {PASSWORD}}}
    sslMode: disable
artifacts:
  external:
    endpoint: http://{STORE}
    bucket: mlflow
    region: us-east-1
    accessKeyId: {{value: testing}}
    secretAccessKey: {{value: testing}}
tracking:
  extraContainers:
    - name: db-proxy
      image: registry.corp.example/tcp-forwarder:1
      command: [python, -c, {script}]
      env:
        - {{name: LISTEN, value: 'tcp://{IN_POD}'}}
        - {{name: TARGET, value: 'tcp://{REAL}'}}
      startsBeforeInit: true
      startupProbe: {{tcpSocket: {{port: 5432}}, periodSeconds: 1, failureThreshold: 30}}
"
    )
}

impl Harness {
    pub fn run_sidecar(&mut self) {
        let setup: [(&str, Step); 5] = [
            ("render a database reached through a native sidecar", |h| {
                h.render_sidecar()
            }),
            ("map Services and the pod's addresses to loopback", |h| {
                h.map_sidecar()
            }),
            ("PostgreSQL as the external database", |h| {
                h.external_postgres()
            }),
            (
                "the tracking pod's init containers in the rendered order",
                |h| h.pod_in_order(),
            ),
            ("mlflow server as the Deployment runs it", Self::tracking),
        ];
        let checks: [(&str, Step); 2] = [
            (
                "an experiment made through the server is in PostgreSQL, through the sidecar",
                Self::through_sidecar,
            ),
            (
                "no container of mlk's names the database's real address",
                Self::only_sidecar_knows,
            ),
        ];
        self.run_steps(&setup, &checks);
    }

    fn render_sidecar(&mut self) -> Result<String, String> {
        let docs = render_spec(&spec(), &[])?;
        self.state.rendered = Some(Rendered::new(docs));
        let pod = self.tracking_pod()?;
        let order: Vec<String> = seq(&pod["initContainers"])
            .iter()
            .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        if order.first().map(String::as_str) != Some("db-proxy") {
            return Err(format!("the sidecar is not first: {order:?}"));
        }
        Ok(format!("init containers: {}", order.join(", ")))
    }

    fn map_sidecar(&mut self) -> Result<String, String> {
        let detail = self.map_services()?;
        let moto = self.moto("sidecar-store");
        let endpoint = format!("http://127.0.0.1:{moto}");
        py_env(
            MAKE_BUCKET,
            &[("S3_ENDPOINT", &endpoint), ("BUCKET", "mlflow")],
        )?;
        let lb = self.state.loopback.as_mut().ok_or("no loopback table")?;
        for from in [IN_POD, REAL] {
            lb.services.push((from.to_owned(), free_port()));
        }
        lb.services.push((STORE.to_owned(), moto));
        Ok(format!("{detail}; {IN_POD}, {REAL} and the store too"))
    }

    fn external_postgres(&mut self) -> Result<String, String> {
        let port = self.port_of(REAL)?;
        self.serve_postgres("mlflow", PASSWORD, port)?;
        let mut createdb = Command::new("createdb");
        createdb.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "mlflow"]);
        run_ok(createdb.arg("mlflow").env("PGPASSWORD", PASSWORD))?;
        Ok(format!("on 127.0.0.1:{port}, which only {REAL} maps to"))
    }

    fn through_sidecar(&mut self) -> Result<String, String> {
        let port = self.loopback().port("mlflow-tracking")?;
        let made = http::post_json(
            port,
            "/api/2.0/mlflow/experiments/create",
            r#"{"name": "through-the-sidecar"}"#,
        )?;
        if made.status != 200 {
            return Err(format!("create experiment: {} {}", made.status, made.body));
        }
        let mut psql = Command::new("psql");
        let pg = self.port_of(REAL)?.to_string();
        psql.args([
            "-h",
            "127.0.0.1",
            "-p",
            &pg,
            "-U",
            "mlflow",
            "-d",
            "mlflow",
            "-tAc",
        ])
        .arg("SELECT name FROM experiments WHERE name = 'through-the-sidecar'")
        .env("PGPASSWORD", PASSWORD);
        let out = psql.output().map_err(|e| e.to_string())?;
        let found = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if found != "through-the-sidecar" {
            return Err(format!("not in PostgreSQL: {found:?}"));
        }
        let log = std::fs::read_to_string(self.path("db-proxy.log")).map_err(|e| e.to_string())?;
        let tunnels = log.lines().filter(|l| l.starts_with("tunnel ")).count();
        // The migration step's and the server's connections at least.
        if tunnels < 2 {
            return Err(format!(
                "only {tunnels} tunnels through the sidecar:\n{log}"
            ));
        }
        Ok(format!(
            "in PostgreSQL; {tunnels} tunnels through the sidecar"
        ))
    }

    fn only_sidecar_knows(&mut self) -> Result<String, String> {
        let pod = self.tracking_pod()?;
        let host = REAL.split(':').next().unwrap_or(REAL);
        let lists = [&pod["initContainers"], &pod["containers"]];
        let own = lists
            .into_iter()
            .flat_map(seq)
            .filter(|c| c["name"] != "db-proxy");
        let mut names = Vec::new();
        for c in own {
            let text = serde_yaml::to_string(&c).map_err(|e| e.to_string())?;
            let name = c["name"].as_str().unwrap_or_default().to_owned();
            if text.contains(host) {
                return Err(format!("{name} names {host}"));
            }
            names.push(name);
        }
        Ok(format!("{} reach it at {IN_POD} only", names.join(", ")))
    }
}
