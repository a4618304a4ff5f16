//! Keyless S3 as EKS runs it with IRSA: the platform rendered with
//! `artifacts.external.identity`, then the tracking server started with
//! only what the EKS pod identity webhook adds to a pod (the role, a token
//! file, and here the STS endpoint: moto's, which implements
//! AssumeRoleWithWebIdentity). boto3's own credential chain turns the
//! token into credentials; a logged model lands in the bucket.

use super::*;
use crate::e2e::python::{CREDENTIAL_METHOD, KEYLESS_FLOW, LIST_OBJECTS, MAKE_BUCKET};

const ROLE: &str = "arn:aws:iam::123456789012:role/mlflow";

impl Harness {
    pub(super) fn keyless(&mut self) -> Result<String, String> {
        // moto stands for AWS: its STS and its S3, with the bucket made.
        let moto = format!("http://127.0.0.1:{}", self.moto("keyless"));
        py_env(
            MAKE_BUCKET,
            &[("S3_ENDPOINT", &moto), ("BUCKET", &self.state.bucket)],
        )?;
        let spec = format!(
            "apiVersion: mlk/v1alpha1\nkind: Platform\nartifacts:\n  external:\n    \
             endpoint: {moto}\n    bucket: {}\n    identity: {{awsRoleArn: \"{ROLE}\"}}\n",
            self.state.bucket
        );
        let rendered = Rendered::new(render_spec(&spec, &[])?);
        let pod =
            rendered.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"].clone();
        no_keys(&rendered, &pod)?;
        let token = self.path("web-identity-token");
        std::fs::write(&token, "a-token-the-webhook-would-project").map_err(|e| e.to_string())?;
        let webhook = [
            ("AWS_ROLE_ARN", ROLE.to_owned()),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token.display().to_string()),
            ("AWS_ENDPOINT_URL_STS", moto.clone()),
            ("AWS_STS_REGIONAL_ENDPOINTS", "regional".to_owned()),
        ];
        let volumes = self.pod_volumes_in(&rendered, &pod, "keyless-volume")?;
        for step in seq(&pod["initContainers"]) {
            let name = step["name"].as_str().unwrap_or_default().to_owned();
            let mut cmd = self.command_in(&rendered, &step, &volumes.mounts, &volumes.writable)?;
            cmd.envs(webhook.iter().map(|(k, v)| (*k, v.as_str())));
            let log = self.path(&format!("keyless-{name}.log"));
            run_with_deadline(&name, cmd, &log, Duration::from_secs(90))?;
        }
        let (mut cmd, port) = self.server_in(&rendered, &pod, &volumes)?;
        cmd.envs(webhook.iter().map(|(k, v)| (*k, v.as_str())));
        let server_env: Vec<(String, String)> = cmd
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_str()?.to_owned(), v?.to_str()?.to_owned())))
            .collect();
        let mut server = Process::start(
            "mlflow server (keyless)",
            cmd,
            self.path("keyless-server.log"),
        );
        server.wait_for_port(port, Duration::from_secs(120));
        let method = py_owned(
            CREDENTIAL_METHOD,
            &server_env
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect::<Vec<_>>(),
        )?;
        if method.trim() != "assume-role-with-web-identity" {
            return Err(format!(
                "boto3 took its credentials by {method:?}, not the web identity"
            ));
        }
        let uri = format!("http://127.0.0.1:{port}");
        let out = py_env(KEYLESS_FLOW, &[("MLFLOW_TRACKING_URI", &uri)])?;
        let v: serde_json::Value = serde_json::from_str(out.trim().lines().last().unwrap_or(""))
            .map_err(|e| format!("{e}: {out}"))?;
        let key = format!(
            "{}/{}/artifacts/keyless.txt",
            v["experiment_id"].as_str().unwrap_or("?"),
            v["run_id"].as_str().unwrap_or("?")
        );
        let listed = py_env(
            LIST_OBJECTS,
            &[
                ("S3_ENDPOINT", &moto),
                ("BUCKET", &self.state.bucket),
                ("PREFIX", &key),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
            ],
        )?;
        let keys: BTreeMap<String, u64> =
            serde_json::from_str(listed.trim()).map_err(|e| format!("{e}: {listed}"))?;
        if !keys.contains_key(&key) {
            return Err(format!("{key} is not in the bucket: {keys:?}"));
        }
        drop(server);
        Ok(format!(
            "no key rendered; boto3 assumed {ROLE} with the token; {key} is in bucket {}",
            self.state.bucket
        ))
    }
}

/// Fails if mlk rendered any static key: no S3 key Secret, no key or
/// credentials-file variable, and the role on the ServiceAccount.
fn no_keys(r: &Rendered, pod: &Value) -> Result<(), String> {
    for secret in r.docs.iter().filter(|d| d["kind"] == "Secret") {
        let name = secret["metadata"]["name"].as_str().unwrap_or_default();
        if name.starts_with("mlflow-s3") {
            return Err(format!("mlk rendered the S3 key Secret {name}"));
        }
    }
    for c in seq(&pod["initContainers"])
        .iter()
        .chain(seq(&pod["containers"]).iter())
    {
        for e in seq(&c["env"]) {
            let name = e["name"].as_str().unwrap_or_default();
            if name.starts_with("AWS_ACCESS")
                || name.starts_with("AWS_SECRET")
                || name == "AWS_SHARED_CREDENTIALS_FILE"
                || name == "MLK_S3_ACCESS_KEY_ID_FILE"
            {
                return Err(format!(
                    "mlk rendered {name} into {}",
                    c["name"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    let sa = r.get("ServiceAccount", "mlflow-tracking")?;
    match sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].as_str() {
        Some(ROLE) => Ok(()),
        other => Err(format!(
            "the tracking ServiceAccount names the role {other:?}"
        )),
    }
}
