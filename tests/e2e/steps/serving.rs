//! Serving the registered model as KServe serves it, from the rendered
//! objects only: the controller's reading of the InferenceService, its
//! ServiceAccount and the credentials Secret; the storage initializer's
//! download (KServe's own `kserve-storage`); MLServer with its MLflow
//! runtime, as the `kserve-mlserver` runtime starts it.

use super::*;
use crate::common::live::serve_venv_bin;
use crate::e2e::python::{PREDICT_IN_PROCESS, STORAGE_INITIALIZER};

/// The inputs of the V2 request, as columns.
pub(super) const INPUTS: &str = r#"{"x": [3.0, -1.5, 0.0], "y": [0.25, 4.0, -2.0]}"#;

/// `kserve-mlserver`'s `supportedModelFormats` for mlflow and its
/// `protocolVersions` (config/runtimes/kserve-mlserver.yaml, KServe 0.18
/// on): a format version outside these selects no runtime.
const MLSERVER_MLFLOW_VERSIONS: [&str; 2] = ["1", "2"];
const MLSERVER_PROTOCOL: &str = "v2";
/// What KServe's defaulting sets as the `modelClass` label for the mlflow
/// format (pkg/apis/serving/v1beta1/inference_service_defaults.go), which
/// the runtime passes on as MLSERVER_MODEL_IMPLEMENTATION.
const MLFLOW_MODEL_CLASS: &str = "mlserver_mlflow.MLflowRuntime";

/// A model being served, and where.
pub(super) struct Served {
    pub name: String,
    pub dir: PathBuf,
    pub http_port: u16,
    pub metrics_port: u16,
    /// Kept for its guard: MLServer stops when this drops.
    pub _process: Process,
}

/// The objects of one render, as the KServe controller reads them.
pub(super) struct Objects<'a> {
    pub docs: &'a [Value],
}

impl Objects<'_> {
    fn get(&self, kind: &str, name: &str) -> Result<&Value, String> {
        self.docs
            .iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .ok_or_else(|| format!("no {kind} {name} rendered"))
    }

    fn secret_data(&self, name: &str) -> Result<BTreeMap<String, String>, String> {
        let mut data = BTreeMap::new();
        for key in map_of(&self.get("Secret", name)?["data"]).keys() {
            data.insert(
                key.clone(),
                Rendered::new(self.docs.to_vec()).secret(name, key)?,
            );
        }
        Ok(data)
    }

    /// The storage initializer's env, as the controller derives it
    /// (pkg/credentials/service_account_credentials.go and
    /// pkg/credentials/s3/{s3_secret,utils}.go in kserve/kserve, with the
    /// inferenceservice-config's S3 settings left empty):
    /// - each Secret the predictor's ServiceAccount lists is an S3 Secret
    ///   when it holds `awsSecretAccessKey`;
    /// - AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY come from its keys
    ///   `awsAccessKeyID` and `awsSecretAccessKey`;
    /// - `serving.kserve.io/s3-endpoint` (else the key S3_ENDPOINT) gives
    ///   S3_ENDPOINT, and with `s3-usehttps` (`0`: http, else https)
    ///   AWS_ENDPOINT_URL and S3_USE_HTTPS; a scheme in the endpoint wins;
    /// - `s3-verifyssl` gives S3_VERIFY_SSL, `s3-region` AWS_DEFAULT_REGION.
    pub fn storage_env(&self, isvc: &Value) -> Result<Vec<(String, String)>, String> {
        let predictor = &isvc["spec"]["predictor"];
        let sa_name = predictor["serviceAccountName"]
            .as_str()
            .ok_or("the predictor names no ServiceAccount")?;
        let sa = self.get("ServiceAccount", sa_name)?;
        let mut env = Vec::new();
        for secret in seq(&sa["secrets"]) {
            let name = secret["name"].as_str().unwrap_or_default();
            let data = self.secret_data(name)?;
            if !data.contains_key("awsSecretAccessKey") {
                continue;
            }
            let annotations = map_of(&self.get("Secret", name)?["metadata"]["annotations"]);
            let value = |annotation: &str, key: &str| {
                annotations
                    .get(&format!("serving.kserve.io/{annotation}"))
                    .or_else(|| data.get(key))
                    .cloned()
            };
            let key_id = data.get("awsAccessKeyID").cloned().unwrap_or_default();
            env.push(("AWS_ACCESS_KEY_ID".to_owned(), key_id));
            env.push((
                "AWS_SECRET_ACCESS_KEY".to_owned(),
                data["awsSecretAccessKey"].clone(),
            ));
            if let Some(endpoint) = value("s3-endpoint", "S3_ENDPOINT") {
                let https = value("s3-usehttps", "S3_USE_HTTPS");
                env.extend(endpoint_env(endpoint.trim(), https.as_deref()));
            }
            for (annotation, key, var) in [
                ("s3-verifyssl", "S3_VERIFY_SSL", "S3_VERIFY_SSL"),
                ("s3-region", "AWS_DEFAULT_REGION", "AWS_DEFAULT_REGION"),
            ] {
                if let Some(v) = value(annotation, key) {
                    env.push((var.to_owned(), v));
                }
            }
        }
        let has = |k: &str| env.iter().any(|(n, _)| n == k);
        if !has("AWS_SECRET_ACCESS_KEY") {
            return Err(format!(
                "no Secret that ServiceAccount {sa_name} lists holds S3 keys \
                 (awsSecretAccessKey): the storage initializer would get no credentials"
            ));
        }
        if !has("AWS_ENDPOINT_URL") {
            return Err(format!(
                "the S3 Secret of ServiceAccount {sa_name} has no serving.kserve.io/s3-endpoint: \
                 the storage initializer would look for the bucket on AWS, not in the platform's \
                 store (not contacted from here)"
            ));
        }
        Ok(env)
    }
}

fn endpoint_env(endpoint: &str, https: Option<&str>) -> Vec<(String, String)> {
    let lower = endpoint.to_ascii_lowercase();
    let (use_https, host, url) = if lower.starts_with("https://") {
        ("1".to_owned(), &endpoint[8..], endpoint.to_owned())
    } else if lower.starts_with("http://") {
        ("0".to_owned(), &endpoint[7..], endpoint.to_owned())
    } else {
        let https = https.unwrap_or_default().to_owned();
        let scheme = if https == "0" { "http" } else { "https" };
        (https, endpoint, format!("{scheme}://{endpoint}"))
    };
    let mut env = Vec::new();
    if !use_https.is_empty() {
        env.push(("S3_USE_HTTPS".to_owned(), use_https));
    }
    env.push(("S3_ENDPOINT".to_owned(), host.to_owned()));
    env.push(("AWS_ENDPOINT_URL".to_owned(), url));
    env
}

/// The lines of a log that say what went wrong: its exceptions and
/// errors, without their tracebacks.
fn errors_in(log: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Exception: ") || l.contains("Error: ") || l.contains(" ERROR - "))
        .collect();
    (!errors.is_empty()).then(|| errors.join("\n"))
}

/// The predictor's model, checked against what `kserve-mlserver`
/// supports: else KServe would select no runtime at all.
fn mlserver_model(isvc: &Value) -> Result<(&str, &str), String> {
    let model = &isvc["spec"]["predictor"]["model"];
    let format = &model["modelFormat"];
    let supported = format["name"] == "mlflow"
        && model["protocolVersion"] == MLSERVER_PROTOCOL
        && format["version"]
            .as_str()
            .is_none_or(|v| MLSERVER_MLFLOW_VERSIONS.contains(&v));
    if !supported {
        return Err(format!(
            "kserve-mlserver serves no {:?} on {:?}",
            format, model["protocolVersion"]
        ));
    }
    let uri = model["storageUri"].as_str().ok_or("no storageUri")?;
    let name = isvc["metadata"]["name"].as_str().unwrap_or_default();
    Ok((name, uri))
}

impl Harness {
    /// The storage initializer's download of `storageUri`, then MLServer
    /// on the folder until the model is ready, from `docs` alone.
    pub(super) fn serve(&self, docs: &[Value], tag: &str) -> Result<Served, String> {
        let (name, dir) = self.download(docs, tag)?;
        self.mlserver(&name, dir, tag)
    }

    /// What the storage initializer puts in /mnt/models: the model's
    /// name and that folder.
    pub(super) fn download(&self, docs: &[Value], tag: &str) -> Result<(String, PathBuf), String> {
        let objects = Objects { docs };
        let isvc = docs
            .iter()
            .find(|d| d["kind"] == "InferenceService")
            .ok_or("no InferenceService rendered")?;
        let (name, uri) = mlserver_model(isvc)?;
        let lb = self.loopback();
        let env: Vec<(String, String)> = objects
            .storage_env(isvc)?
            .into_iter()
            .map(|(k, v)| match k.as_str() {
                // host:port without a scheme: mapped as the URL is.
                "S3_ENDPOINT" => {
                    let url = lb.map(&format!("http://{v}"));
                    (k, url.trim_start_matches("http://").to_owned())
                }
                _ => (k, lb.map(&v)),
            })
            .collect();
        let dir = self.path(&format!("{tag}-mnt-models"));
        let mut download = Command::new(serve_venv_bin("python"));
        download
            .args(["-c", STORAGE_INITIALIZER, uri])
            .arg(&dir)
            .env_clear()
            .envs(env)
            .env("HOME", self.path("home"));
        let log = self.path(&format!("{tag}-storage-initializer.log"));
        run_with_deadline(
            "storage initializer",
            download,
            &log,
            Duration::from_secs(60),
        )?;
        Ok((name.to_owned(), dir))
    }

    /// MLServer as the runtime's container runs it: the model's name and
    /// folder, and the implementation, from KServe's defaults; HTTP, gRPC
    /// and metrics on loopback ports. `parallel_workers: 0` keeps
    /// inference in the main process (the pool dies with the newest
    /// uvloop: "There is no current event loop").
    pub(super) fn mlserver(&self, name: &str, dir: PathBuf, tag: &str) -> Result<Served, String> {
        let (http_port, grpc_port, metrics_port) = (free_port(), free_port(), free_port());
        let mut cmd = Command::new(serve_venv_bin("mlserver"));
        cmd.arg("start").arg(&dir).env_clear().envs([
            ("MLSERVER_MODEL_NAME", name),
            ("MLSERVER_MODEL_URI", &dir.display().to_string()),
            ("MLSERVER_MODEL_IMPLEMENTATION", MLFLOW_MODEL_CLASS),
            ("MLSERVER_HOST", "127.0.0.1"),
            ("MLSERVER_HTTP_PORT", &http_port.to_string()),
            ("MLSERVER_GRPC_PORT", &grpc_port.to_string()),
            ("MLSERVER_METRICS_PORT", &metrics_port.to_string()),
            ("MLSERVER_PARALLEL_WORKERS", "0"),
            ("HOME", &self.path("home").display().to_string()),
        ]);
        let path = format!("{}:/usr/bin:/bin", serve_venv_bin("").display());
        cmd.env("PATH", path);
        let log = self.path(&format!("{tag}-mlserver.log"));
        let mut process = Process::start("mlserver", cmd, log.clone());
        let ready = format!("/v2/models/{name}/ready");
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(a) = http::get(http_port, &ready, "localhost", None)
                && a.status == 200
            {
                break;
            }
            if let Some(status) = process.try_wait() {
                let why = errors_in(&log).unwrap_or_else(|| process.tail());
                return Err(format!("MLServer exited ({status}):\n{why}"));
            }
            if Instant::now() > deadline {
                return Err(format!("{ready} not 200 after 90 s:\n{}", process.tail()));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(Served {
            name: name.to_owned(),
            dir,
            http_port,
            metrics_port,
            _process: process,
        })
    }

    /// POST /v2/models/NAME/infer, and the same inputs through
    /// `mlflow.pyfunc` in process: the two answers must be equal.
    pub(super) fn predict(&self, served: &Served) -> Result<(Vec<f64>, Vec<f64>), String> {
        let columns: serde_json::Value = serde_json::from_str(INPUTS).unwrap();
        let inputs: Vec<serde_json::Value> = ["x", "y"]
            .iter()
            .map(|c| {
                let data = columns[c].clone();
                let n = data.as_array().map_or(0, Vec::len);
                serde_json::json!({"name": c, "shape": [n], "datatype": "FP64", "data": data})
            })
            .collect();
        let body = serde_json::json!({ "inputs": inputs }).to_string();
        let path = format!("/v2/models/{}/infer", served.name);
        let answer = http::post_json(served.http_port, &path, &body)?;
        if answer.status != 200 {
            return Err(format!("POST {path}: {} {}", answer.status, answer.body));
        }
        let reply: serde_json::Value =
            serde_json::from_str(&answer.body).map_err(|e| format!("{e}: {}", answer.body))?;
        let served_values: Vec<f64> = reply["outputs"][0]["data"]
            .as_array()
            .ok_or(format!("no outputs[0].data in {reply}"))?
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .collect();
        let out = Command::new(serve_venv_bin("python"))
            .args(["-c", PREDICT_IN_PROCESS])
            .arg(&served.dir)
            .env("INPUTS", INPUTS)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let local: Vec<f64> = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
        Ok((served_values, local))
    }
}

/// The harness's steps for serving: the real path, then three breaks that
/// must each stop it with a clear message.
impl Harness {
    fn resolved(&self) -> Result<&[Value], String> {
        match &self.state.resolved {
            Some(docs) => Ok(docs),
            None => Err("the --resolve step did not render".into()),
        }
    }

    pub(super) fn storage_initializer(&mut self) -> Result<String, String> {
        let docs = self.resolved()?.to_vec();
        let (name, dir) = self.download(&docs, "serve")?;
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| e.to_string())?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        if !files.iter().any(|f| f == "MLmodel") {
            return Err(format!("no MLmodel among {files:?}"));
        }
        self.state.model = Some((name, dir));
        Ok(format!("/mnt/models holds {}", files.join(", ")))
    }

    pub(super) fn mlserver_ready(&mut self) -> Result<String, String> {
        let (name, dir) = self.state.model.clone().ok_or("nothing was downloaded")?;
        let served = self.mlserver(&name, dir, "serve")?;
        let done = format!(
            "GET /v2/models/{name}/ready: 200 on 127.0.0.1:{}",
            served.http_port
        );
        self.state.served = Some(served);
        Ok(done)
    }

    pub(super) fn v2_prediction(&mut self) -> Result<String, String> {
        let served = self
            .state
            .served
            .as_ref()
            .ok_or("MLServer is not serving")?;
        let (answer, local) = self.predict(served)?;
        if answer != local {
            return Err(format!("MLServer answered {answer:?}, pyfunc {local:?}"));
        }
        let metrics = http::get(served.metrics_port, "/metrics", "localhost", None)?;
        let counted = metrics.body.contains("model_infer_request_success");
        if metrics.status != 200 || !counted {
            return Err(format!(
                "/metrics: {} without the inference count",
                metrics.status
            ));
        }
        Ok(format!(
            "{} predicts {answer:?}, as pyfunc does; /metrics counts it",
            served.name
        ))
    }

    /// Runs the whole path on `docs` changed by `change`: it must fail,
    /// and for the reason `want` names.
    fn must_fail(
        &self,
        tag: &str,
        want: &str,
        change: impl Fn(&mut Vec<Value>),
    ) -> Result<String, String> {
        let mut docs = self.resolved()?.to_vec();
        change(&mut docs);
        match self.serve(&docs, tag) {
            Ok(_) => Err("served all the same: the break went unnoticed".into()),
            Err(why) if why.contains(want) => {
                Ok(why.lines().last().unwrap_or_default().trim().to_owned())
            }
            Err(why) => Err(format!("failed, but not for want of {want}:\n{why}")),
        }
    }

    pub(super) fn break_endpoint(&mut self) -> Result<String, String> {
        self.must_fail("no-endpoint", "s3-endpoint", |docs| {
            for d in docs.iter_mut().filter(|d| d["kind"] == "Secret") {
                if let Some(a) = d["metadata"]["annotations"].as_mapping_mut() {
                    a.remove("serving.kserve.io/s3-endpoint");
                }
            }
        })
    }

    pub(super) fn break_storage_uri(&mut self) -> Result<String, String> {
        self.must_fail("uri-off", "MLmodel", |docs| {
            for d in docs.iter_mut().filter(|d| d["kind"] == "InferenceService") {
                let uri = &mut d["spec"]["predictor"]["model"]["storageUri"];
                let parent = uri
                    .as_str()
                    .and_then(|u| u.rsplit_once('/'))
                    .map(|(p, _)| p);
                *uri = Value::String(parent.unwrap_or_default().to_owned());
            }
        })
    }

    pub(super) fn break_credentials(&mut self) -> Result<String, String> {
        self.must_fail("other-secret", "awsSecretAccessKey", |docs| {
            for d in docs.iter_mut().filter(|d| d["kind"] == "ServiceAccount") {
                if d["secrets"].is_sequence() {
                    d["secrets"] = serde_yaml::from_str("[{name: mlflow-db}]").unwrap();
                }
            }
        })
    }
}
