//! A corporate network: the S3 store is outside the cluster, served over
//! TLS by a certificate of a private CA, at a host name that only the
//! proxy can reach (nothing on this machine resolves it). The platform is
//! rendered with `pods.proxy` and `pods.caBundle`, and every process of
//! its pods that talks to the store runs as rendered: the tracking
//! server's init steps and the server, gc and the backup CronJob. Each
//! can reach the store only through the proxy's CONNECT tunnel, and
//! only with the CA; the proxy's log shows every request it was sent.

use super::*;
use crate::e2e::python::{DELETE_RUN, LOG_ARTIFACT, RELAY, TLS_STORE};

const STORE: &str = "s3.corp.example";
pub(super) const PROXY: &str = "proxy.corp.example:3128";

/// A platform whose pods reach out through the proxy, trusting the
/// corp-ca ConfigMap, with gc and backups on; `artifacts` is its store.
pub(super) fn behind_proxy(artifacts: &str) -> String {
    format!(
        "apiVersion: mlk/v1alpha1
kind: Platform
pods:
  proxy:
    http: http://{PROXY}
    https: http://{PROXY}
  caBundle: {{configMap: {{name: corp-ca, key: ca.pem}}}}
tracking:
  gc: {{olderThan: 1s}}
database:
  embedded:
    backup: {{bucket: mlflow-backups, retention: 2}}
artifacts:
{artifacts}"
    )
}

/// The ConfigMap the spec names is the cluster's, not mlk's: it is
/// added beside the rendered platform with the CA, as it would exist in
/// the namespace.
pub(super) fn with_corp_ca(mut docs: Vec<Value>, ca: &str) -> Result<Rendered, String> {
    let config_map = serde_yaml::to_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "corp-ca", "namespace": "mlflow"},
        "data": {"ca.pem": ca},
    }))
    .map_err(|e| e.to_string())?;
    docs.push(config_map);
    Ok(Rendered::new(docs))
}

fn spec() -> String {
    behind_proxy(&format!(
        "  external:
    endpoint: https://{STORE}
    bucket: mlflow
    region: us-east-1
    accessKeyId: {{value: testing}}
    secretAccessKey: {{value: testing}}
"
    ))
}

impl Harness {
    pub fn run_proxy(&mut self) {
        let setup: [(&str, Step); 8] = [
            ("a private CA, and the store's certificate from it", |h| {
                h.store_certificate()
            }),
            ("render with pods.proxy and pods.caBundle", |h| {
                h.render_proxy()
            }),
            ("map Services to loopback", Self::map_services),
            (
                "the store over TLS, and the proxy, the one way to it",
                |h| h.store_and_proxy(),
            ),
            ("PostgreSQL from the StatefulSet's env", Self::postgres),
            (
                "without the bundle, wait-for-bucket stops: the certificate is not trusted",
                Self::untrusted_without_bundle,
            ),
            ("the tracking pod's init containers in order", |h| {
                h.pod_in_order()
            }),
            ("mlflow server as the Deployment runs it", Self::tracking),
        ];
        let checks: [(&str, Step); 3] = [
            (
                "an artifact logged through the server lands in the store, then gc deletes it",
                Self::artifact_then_gc,
            ),
            (
                "the backup CronJob uploads a dump",
                Self::backup_through_proxy,
            ),
            (
                "the proxy saw CONNECTs to the store only, from every process",
                Self::proxy_log,
            ),
        ];
        self.run_steps(&setup, &checks);
    }

    fn store_certificate(&mut self) -> Result<String, String> {
        let dir = self.path("store-tls");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        self.state.store_tls.0 = super::tls::make_certificates(&dir, &[STORE])?;
        Ok(format!("{STORE}, signed by mlk-test-ca"))
    }

    fn render_proxy(&mut self) -> Result<String, String> {
        let docs = render_spec(&spec(), &[])?;
        self.state.rendered = Some(with_corp_ca(docs, &self.state.store_tls.0)?);
        Ok("the corp-ca ConfigMap beside it, holding the CA".into())
    }

    fn store_and_proxy(&mut self) -> Result<String, String> {
        let tls = self.path("store-tls");
        let store = free_port();
        let mut cmd = Command::new(venv_bin("moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &store.to_string()])
            .arg("-c")
            .arg(tls.join("server.crt"))
            .arg("-k")
            .arg(tls.join("server.key"))
            // moto reads a bucket from the Host header's first label, as
            // AWS does, unless told the host is an endpoint of its own.
            .env("MOTO_S3_CUSTOM_ENDPOINTS", format!("https://{STORE}"));
        let mut p = Process::start("moto_server (TLS)", cmd, self.path("moto-tls.log"));
        p.wait_for_port(store, Duration::from_secs(30));
        self.state.processes.push(p);
        let endpoint = format!("https://127.0.0.1:{store}");
        let made = [
            ("S3_ENDPOINT", endpoint.as_str()),
            ("MODE", "make"),
            ("BUCKETS", "mlflow,mlflow-backups"),
        ];
        py_env(TLS_STORE, &made)?;
        let proxy = free_port();
        let mut cmd = Command::new(venv_bin("python"));
        cmd.args(["-c", RELAY])
            .env("PORT", proxy.to_string())
            .env("ROUTES", format!("{STORE}:443=127.0.0.1:{store}"));
        let mut p = Process::start("proxy", cmd, self.path("proxy.log"));
        p.wait_for_port(proxy, Duration::from_secs(10));
        self.state.processes.push(p);
        let lb = self.state.loopback.as_mut().ok_or("no loopback table")?;
        lb.services.push((PROXY.to_owned(), proxy));
        self.state.store_tls.1 = endpoint;
        Ok(format!(
            "the store on 127.0.0.1:{store}; the proxy on 127.0.0.1:{proxy}, routing {STORE}:443 there"
        ))
    }

    fn untrusted_without_bundle(&mut self) -> Result<String, String> {
        self.init_step("credential-files")?;
        let c = self.init_container("wait-for-bucket")?;
        let mut cmd = self.command_for(&c)?;
        for var in [
            "SSL_CERT_FILE",
            "REQUESTS_CA_BUNDLE",
            "AWS_CA_BUNDLE",
            "CURL_CA_BUNDLE",
        ] {
            cmd.env_remove(var);
        }
        let log = self.path("wait-for-bucket-untrusted.log");
        match run_with_deadline("wait-for-bucket", cmd, &log, Duration::from_secs(60)) {
            Ok(out) => Err(format!("it passed without the CA: {out}")),
            Err(e) if e.contains("pods.caBundle") => Ok("refused, naming pods.caBundle".into()),
            Err(e) => Err(format!("it failed for another reason: {e}")),
        }
    }

    fn store_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, String> {
        let env = [
            ("S3_ENDPOINT", self.state.store_tls.1.as_str()),
            ("MODE", "list"),
            ("BUCKET", bucket),
            ("PREFIX", prefix),
        ];
        let out = py_env(TLS_STORE, &env)?;
        serde_json::from_str(out.trim()).map_err(|e| format!("{e}: {out}"))
    }

    fn artifact_then_gc(&mut self) -> Result<String, String> {
        let port = self.loopback().port("mlflow-tracking")?;
        let uri = format!("http://127.0.0.1:{port}");
        let env = [
            ("MLFLOW_TRACKING_URI", uri.as_str()),
            ("EXPERIMENT", "through-the-proxy"),
        ];
        let out = py_env(LOG_ARTIFACT, &env)?;
        let line = out.trim().lines().last().unwrap_or_default().to_owned();
        let (exp, run) = line.split_once(' ').ok_or(format!("no run: {out}"))?;
        py_env(
            DELETE_RUN,
            &[("MLFLOW_TRACKING_URI", &uri), ("RUN_ID", run)],
        )?;
        let prefix = format!("{exp}/{run}/");
        let before = self.store_keys("mlflow", &prefix)?;
        if before.is_empty() {
            return Err(format!("nothing under {prefix} in the store"));
        }
        // gc deletes runs deleted more than olderThan (1 s) ago.
        std::thread::sleep(Duration::from_secs(2));
        self.run_cron_job("mlflow-gc")?;
        let after = self.store_keys("mlflow", &prefix)?;
        if !after.is_empty() {
            return Err(format!("gc left {after:?}"));
        }
        Ok(format!(
            "{} under {prefix}, then none after gc",
            before.len()
        ))
    }

    fn backup_through_proxy(&mut self) -> Result<String, String> {
        self.run_cron_job("mlflow-postgres-backup")?;
        let dumps = self.store_keys("mlflow-backups", "")?;
        match dumps.is_empty() {
            true => Err("no dump in mlflow-backups".into()),
            false => Ok(format!("{dumps:?}")),
        }
    }

    fn proxy_log(&mut self) -> Result<String, String> {
        let log = std::fs::read_to_string(self.path("proxy.log")).map_err(|e| e.to_string())?;
        let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        let tunnel = format!("CONNECT {STORE}:443");
        let other: Vec<&&str> = lines.iter().filter(|l| **l != tunnel).collect();
        if !other.is_empty() {
            return Err(format!(
                "the proxy was sent more than the store's tunnels: {other:?}"
            ));
        }
        // wait-for-bucket, the server, gc and the backup each opened one
        // at least; the refused run without the CA too.
        if lines.len() < 5 {
            return Err(format!("only {} tunnels:\n{log}", lines.len()));
        }
        Ok(format!(
            "{} tunnels to {STORE}:443, nothing else",
            lines.len()
        ))
    }
}
