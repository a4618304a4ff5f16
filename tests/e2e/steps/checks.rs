//! What a user, nginx's clients, Prometheus and KServe see of the
//! running platform.

use super::*;

impl Harness {
    /// MLflow's own client, as a user on a laptop: through nginx, with
    /// the Host the Ingress routes on (nginx as an HTTP proxy gets the
    /// absolute URL, so Host is the ingress host exactly).
    pub(super) fn user_flow(&mut self) -> Result<String, String> {
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

    pub(super) fn s3_keys(&self, prefix: &str) -> Result<BTreeMap<String, u64>, String> {
        let out = py_owned(
            LIST_OBJECTS,
            &self.with_s3_access(&[("PREFIX", prefix.to_owned())]),
        )?;
        serde_json::from_str(out.trim()).map_err(|e| format!("{e}: {out}"))
    }

    pub(super) fn artifacts_in_bucket(&mut self) -> Result<String, String> {
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

    pub(super) fn auth(&mut self) -> Result<String, String> {
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

    pub(super) fn host_check(&mut self) -> Result<String, String> {
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

    pub(super) fn metrics(&mut self) -> Result<String, String> {
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

    pub(super) fn resolve(&mut self) -> Result<String, String> {
        let spec = SPEC.replace("MODEL", "alias: champion");
        let uri = format!(
            "http://127.0.0.1:{}",
            self.loopback().port("mlflow-tracking")?
        );
        let docs = render_spec(&spec, &[("MLFLOW_TRACKING_URI", &uri)])?;
        let storage = served_from(&docs)?;
        let want = format!("s3://{}/", self.state.bucket);
        let path = storage
            .strip_prefix(&want)
            .ok_or(format!("{storage} is not in {want}"))?;
        let keys = self.s3_keys(&format!("{path}/"))?;
        if !keys.contains_key(&format!("{path}/MLmodel")) {
            return Err(format!("{storage} holds no MLmodel: {keys:?}"));
        }
        self.state.resolved = Some(docs.clone());
        Ok(format!(
            "{storage} holds MLmodel and {} more objects",
            keys.len() - 1
        ))
    }

    /// KServe's storage initializer reads the endpoint annotation and the
    /// keys; with them, the resolved model downloads from the same store.
    pub(super) fn serving_secret(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let secret = r.get("Secret", "mlflow-serving-s3")?;
        let endpoint = secret["metadata"]["annotations"]["serving.kserve.io/s3-endpoint"]
            .as_str()
            .unwrap_or_default();
        let mapped = self.loopback().map(&format!("http://{endpoint}"));
        // The served model's folder, as `--resolve` found it: all the
        // predictor's identity may list.
        let resolved = self.state.resolved.as_ref().ok_or("no resolved render")?;
        let isvc = resolved
            .iter()
            .find(|d| d["kind"] == "InferenceService")
            .ok_or("no InferenceService")?;
        let uri = isvc["spec"]["predictor"]["model"]["storageUri"]
            .as_str()
            .unwrap_or_default();
        let (bucket, prefix) = uri
            .strip_prefix("s3://")
            .and_then(|rest| rest.split_once('/'))
            .ok_or(format!("storageUri {uri:?} is not s3://BUCKET/KEY"))?;
        if bucket != self.state.bucket {
            return Err(format!(
                "storageUri names bucket {bucket}, not {}",
                self.state.bucket
            ));
        }
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
                ("PREFIX", prefix),
            ],
        )?;
        let keys: BTreeMap<String, u64> =
            serde_json::from_str(out.trim()).map_err(|e| e.to_string())?;
        if !keys.keys().any(|k| k.ends_with("/MLmodel")) {
            return Err(format!("{uri}: no MLmodel among {keys:?}"));
        }
        Ok(format!("{endpoint} lists {} objects of {uri}", keys.len()))
    }

    /// The one deliberate change of a rendered value: a pgpass file with
    /// a wrong password in place of the one credential-files wrote.
    pub(super) fn wrong_password(&mut self) -> Result<String, String> {
        let mut cmd = self.command_for(&self.init_container("db-upgrade")?)?;
        let wrong = self.path("volume-tmp/wrong-pgpass");
        private_file(&wrong, "*:*:*:*:not-the-password\n")?;
        cmd.env("PGPASSFILE", &wrong);
        let log = self.path("db-upgrade-wrong.log");
        match run_with_deadline("db-upgrade", cmd, &log, Duration::from_secs(30)) {
            Err(why) if why.contains("the database refused the password") => {
                Ok(why.lines().last().unwrap_or_default().to_owned())
            }
            Err(why) => Err(why),
            Ok(_) => Err("db-upgrade succeeded with a wrong password".into()),
        }
    }

    /// Every Secret value mlk rendered stays out of every container's env,
    /// command and args, and out of the running server's environment; the
    /// files credential-files wrote are the owner's alone.
    pub(super) fn no_secret_in_env(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let mut secrets = Vec::new();
        for doc in r.docs.iter().filter(|d| d["kind"] == "Secret") {
            let name = doc["metadata"]["name"].as_str().unwrap_or_default();
            for key in map_of(&doc["data"]).keys() {
                let value = r.secret(name, key)?;
                // Endpoints and flags in the serving Secret are not secret.
                if value.len() >= 12 && !value.contains("://") {
                    secrets.push(value);
                }
            }
        }
        let mut exposed = Vec::new();
        for doc in r.docs.iter().filter(|d| d["kind"] != "Secret") {
            let kind = doc["kind"].as_str().unwrap_or_default();
            let text = serde_yaml::to_string(doc).map_err(|e| e.to_string())?;
            if secrets.iter().any(|s| text.contains(s.as_str())) {
                exposed.push(kind.to_owned());
            }
        }
        // MLflow reads these from its environment only (README: Secrets as
        // files): they are env vars from the Secret, by necessity.
        const ENV_ONLY: [&str; 2] = [
            "MLFLOW_CRYPTO_KEK_PASSPHRASE",
            "MLFLOW_FLASK_SERVER_SECRET_KEY",
        ];
        let env_only: Vec<&String> = self
            .state
            .tracking_env
            .iter()
            .filter(|(k, _)| ENV_ONLY.contains(&k.as_str()))
            .map(|(_, v)| v)
            .collect();
        secrets.retain(|s| !env_only.contains(&s));
        let running = format!("{:?}", self.state.tracking_env);
        if secrets.iter().any(|s| running.contains(s.as_str())) {
            exposed.push("the running server's environment".into());
        }
        if !exposed.is_empty() {
            return Err(format!("a Secret value is in: {}", exposed.join(", ")));
        }
        let lb = self.loopback();
        let mut modes = Vec::new();
        for file in ["/tmp/mlk/pgpass", "/tmp/mlk/aws-credentials"] {
            let local = lb.map(file);
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(&local).map_err(|e| format!("{file}: {e}"))?;
            let mode = meta.permissions().mode() & 0o777;
            if mode != 0o600 {
                return Err(format!("{file} is {mode:o}, not 600"));
            }
            modes.push(format!("{file} 600"));
        }
        Ok(format!(
            "{} Secret values in no env, command or args; {}",
            secrets.len(),
            modes.join(", ")
        ))
    }

    /// MLflow 3.17's AI Gateway encrypts the provider keys it stores with a
    /// key derived from MLFLOW_CRYPTO_KEK_PASSPHRASE. A key stored through
    /// the running server must decrypt in a new process with the rendered
    /// env (as after a restart), and must not with MLflow's public constant.
    pub(super) fn gateway_secret(&mut self) -> Result<String, String> {
        let port = self.loopback().port("mlflow-tracking")?;
        let body = r#"{"secret_name": "openai", "provider": "openai", "secret_value": {"api_key": "sk-e2e-4711"}}"#;
        let answer = http::post_json(port, "/api/3.0/mlflow/gateway/secrets/create", body)?;
        let reply: serde_json::Value = serde_json::from_str(&answer.body)
            .map_err(|_| format!("{} {}", answer.status, answer.body))?;
        let id = reply["secret"]["secret_id"]
            .as_str()
            .ok_or(format!("{} {}", answer.status, answer.body))?
            .to_owned();
        let mut rendered = vec![
            ("DB_URI", self.tracking_arg("--backend-store-uri")?),
            ("WORK", self.path("home").display().to_string()),
            ("SECRET_ID", id.clone()),
        ];
        for k in ["PGPASSFILE", "MLFLOW_CRYPTO_KEK_PASSPHRASE"] {
            let value = self
                .tracking_var(k)
                .ok_or(format!("the server has no {k}"))?;
            rendered.push((k, value));
        }
        let read = |env: &[(&str, String)]| {
            py_owned(READ_GATEWAY_SECRET, env).map(|o| o.trim().to_owned())
        };
        let with_rendered = read(&rendered)?;
        let public: Vec<_> = rendered
            .iter()
            .filter(|(k, _)| *k != "MLFLOW_CRYPTO_KEK_PASSPHRASE")
            .cloned()
            .collect();
        let with_public = read(&public)?;
        if with_rendered != "sk-e2e-4711" {
            return Err(format!("with the rendered passphrase: {with_rendered}"));
        }
        if with_public == "sk-e2e-4711" {
            return Err("the public constant decrypts it: the passphrase is not in use".into());
        }
        Ok(format!(
            "secret {id}: decrypts with the rendered passphrase; with MLflow's public one, {with_public}"
        ))
    }

    /// One argument of the running server's command line, after `flag`,
    /// as it runs here.
    fn tracking_arg(&self, flag: &str) -> Result<String, String> {
        let r = self.rendered();
        let pod = &r.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"];
        let argv = r.argv(&pod["containers"][0], &self.state.tracking_env);
        let at = argv
            .iter()
            .position(|a| a == flag)
            .ok_or(format!("no {flag}"))?;
        let value = argv.get(at + 1).ok_or(format!("{flag} without a value"))?;
        Ok(self.loopback().map(value))
    }

    /// The gc CronJob as it runs: a deleted run and its artifacts go, a
    /// run beside it stays.
    pub(super) fn gc(&mut self) -> Result<String, String> {
        let port = self.loopback().port("mlflow-tracking")?;
        let uri = format!("http://127.0.0.1:{port}");
        let work = self.path("client");
        let work = work.display().to_string();
        let env = [
            ("MLFLOW_TRACKING_URI", uri.as_str()),
            ("WORK", work.as_str()),
        ];
        let out = py_env(GC_RUNS, &env)?;
        let ids: serde_json::Value = serde_json::from_str(out.trim().lines().last().unwrap_or(""))
            .map_err(|e| format!("{e}: {out}"))?;
        let (exp, doomed, kept) = (
            ids["experiment"].as_str(),
            ids["doomed"].as_str(),
            ids["kept"].as_str(),
        );
        let (Some(exp), Some(doomed), Some(kept)) = (exp, doomed, kept) else {
            return Err(format!("no runs: {out}"));
        };
        // olderThan is 1s in the harness's spec.
        std::thread::sleep(Duration::from_millis(1500));
        self.run_cron_job("mlflow-gc")?;
        let check = serde_json::json!({"doomed": doomed, "kept": kept}).to_string();
        let out = py_env(GC_RUNS, &[env[0], env[1], ("CHECK", &check)])?;
        let exists: serde_json::Value =
            serde_json::from_str(out.trim()).map_err(|e| format!("{e}: {out}"))?;
        let kept_files = self.gc_removed(
            &exists,
            &format!("{exp}/{doomed}/"),
            &format!("{exp}/{kept}/"),
        )?;
        Ok(format!(
            "deleted run {doomed}: row and artifacts gone; run {kept} and its {kept_files} artifact(s) stay"
        ))
    }

    /// After gc (`exists` as GC_RUNS' check says it): the deleted run's
    /// row and files under `doomed` gone, the other's under `kept` there.
    /// Returns how many files it kept.
    pub(super) fn gc_removed(
        &self,
        exists: &serde_json::Value,
        doomed: &str,
        kept: &str,
    ) -> Result<usize, String> {
        let doomed_files = self.s3_keys(doomed)?;
        let kept_files = self.s3_keys(kept)?;
        if exists["doomed"] != false || !doomed_files.is_empty() {
            return Err(format!(
                "the deleted run is still there: {exists}, {doomed_files:?}"
            ));
        }
        if exists["kept"] != true || kept_files.is_empty() {
            return Err(format!("the other run went too: {exists}, {kept_files:?}"));
        }
        Ok(kept_files.len())
    }

    /// With versioning, the bucket Job enables it and sets the lifecycle;
    /// an artifact logged twice under one name keeps its first content as
    /// a noncurrent version, which reads back.
    pub(super) fn versioning(&mut self) -> Result<String, String> {
        let port = self.loopback().port("mlflow-tracking")?;
        let work = self.path("client").display().to_string();
        let tracking = format!("http://127.0.0.1:{port}");
        let env = self.with_s3_access(&[("MLFLOW_TRACKING_URI", tracking), ("WORK", work)]);
        let out = py_owned(OVERWRITE_ARTIFACT, &env)?;
        let got: serde_json::Value = serde_json::from_str(out.trim().lines().last().unwrap_or(""))
            .map_err(|e| format!("{e}: {out}"))?;
        let want = serde_json::json!({
            "versioning": "Enabled", "noncurrent_days": 7, "versions": 2,
            "current": "second version", "recovered": "first version",
        });
        if got != want {
            return Err(format!("want {want}, got {got}"));
        }
        Ok("versioning Enabled, noncurrent versions kept 7 days; the overwritten artifact's first version reads back".into())
    }
}

fn private_file(path: &std::path::Path, text: &str) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| e.to_string())?;
    std::io::Write::write_all(&mut f, text.as_bytes()).map_err(|e| e.to_string())
}
