//! The embedded object store as the StatefulSet runs it: SeaweedFS's own
//! `weed` at the pinned release, with the StatefulSet's command and args,
//! the identities file from its Secret, and a folder standing for the
//! PVC; then the bucket-setup Job's own script. Each consumer's identity
//! is then tried for what it may and may not do.

use super::*;
use crate::e2e::python::LEAST_PRIVILEGE;

impl Harness {
    pub(super) fn s3(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let set = r.get("StatefulSet", "mlflow-seaweedfs")?;
        let pod = pod_with_claims(set)?;
        let volumes = self.pod_volumes_in(r, &pod, "seaweedfs")?;
        let container = pod["containers"][0].clone();
        let s3_port = self.loopback().port("mlflow-seaweedfs")?;
        let mut mounts = volumes.mounts.clone();
        for arg in seq(&container["args"]).iter().filter_map(Value::as_str) {
            if let Some(to) = weed_arg(arg, &volumes.mounts, s3_port) {
                mounts.push((arg.to_owned(), to));
            }
        }
        let cmd = self.command_in(r, &container, &mounts, &volumes.writable)?;
        let mut p = Process::start("weed", cmd, self.path("weed.log"));
        p.wait_for_port(s3_port, Duration::from_secs(60));
        self.state.processes.push(p);
        let deadline = Instant::now() + Duration::from_secs(60);
        // The readiness probe's path: the gateway answers once the filer
        // and the volume server are up.
        let probe = &container["readinessProbe"]["httpGet"]["path"];
        let path = probe.as_str().ok_or("no readiness probe")?.to_owned();
        while http::get(s3_port, &path, "127.0.0.1", None).map(|a| a.status) != Ok(200) {
            if Instant::now() > deadline {
                return Err(format!("weed's {path} never answered 200"));
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        self.setup_job()
    }

    /// The bucket-setup Job's own container, to completion.
    pub(super) fn setup_job(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let job = job_of(r, "bucket-setup")?;
        let pod = job["spec"]["template"]["spec"].clone();
        let volumes = self.pod_volumes_in(r, &pod, "setup-volume")?;
        let container = pod["containers"][0].clone();
        let env = r.env(&container)?;
        let cmd = self.command_in(r, &container, &volumes.mounts, &volumes.writable)?;
        let log = self.path("bucket-setup.log");
        let last = run_with_deadline("bucket setup", cmd, &log, Duration::from_secs(120))?;
        let buckets = env
            .iter()
            .find(|(k, _)| k == "BUCKETS")
            .map(|(_, v)| v.clone())
            .ok_or("the Job sets no BUCKETS")?;
        self.state.bucket = buckets.split(',').next().unwrap_or_default().to_owned();
        Ok(format!("buckets {buckets}: {last}"))
    }

    /// Each identity's keys, from the Secret its consumer mounts, tried on
    /// both buckets: only what it needs succeeds.
    pub(super) fn least_privilege(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let key = |who: &str, k: &str| r.secret(&format!("mlflow-s3-{who}"), k);
        let mut env: Vec<(&str, String)> = vec![
            (
                "S3_ENDPOINT",
                self.tracking_var("MLFLOW_S3_ENDPOINT_URL")
                    .unwrap_or_default(),
            ),
            ("ARTIFACTS", self.state.bucket.clone()),
            ("BACKUPS", "mlflow-backups".into()),
        ];
        let names = ["tracking", "gc", "predictor", "backup", "setup"];
        let mut keys = Vec::new();
        for who in names {
            keys.push((
                who,
                key(who, "access-key-id")?,
                key(who, "secret-access-key")?,
            ));
        }
        let json = serde_json::to_string(&keys).map_err(|e| e.to_string())?;
        env.push(("IDENTITIES", json));
        py_owned(LEAST_PRIVILEGE, &env)
    }
}

/// The rendered Job of a component (its `app.kubernetes.io/component`).
pub(super) fn job_of<'a>(r: &'a Rendered, component: &str) -> Result<&'a Value, String> {
    let label = |d: &Value| d["metadata"]["labels"]["app.kubernetes.io/component"] == component;
    r.docs
        .iter()
        .find(|d| d["kind"] == "Job" && label(d))
        .ok_or(format!("no {component} Job"))
}

/// A StatefulSet's pod spec, each PVC its claim templates ask for as a
/// volume of its own: here a folder, writable.
pub(super) fn pod_with_claims(set: &Value) -> Result<Value, String> {
    let mut pod = set["spec"]["template"]["spec"].clone();
    for claim in seq(&set["spec"]["volumeClaimTemplates"]) {
        let volume = serde_yaml::from_str::<Value>(&format!(
            "{{name: {}, emptyDir: {{}}}}",
            claim["metadata"]["name"].as_str().unwrap_or("data")
        ))
        .map_err(|e| e.to_string())?;
        if let Some(list) = pod["volumes"].as_sequence_mut() {
            list.push(volume);
        }
    }
    Ok(pod)
}

/// A whole argument of `weed` as it runs here: a path under a mount in
/// its folder, the bind address on loopback, the S3 port on the Service's
/// loopback port and every other port on a free one.
fn weed_arg(arg: &str, mounts: &[(String, String)], s3_port: u16) -> Option<String> {
    let (flag, value) = arg.split_once('=')?;
    let to = if let Some((_, local)) = mounts.iter().find(|(from, _)| from == value) {
        local.clone()
    } else if let Some(local) = map_path(value, mounts) {
        local
    } else if value == "0.0.0.0" {
        "127.0.0.1".into()
    } else if flag == "-s3.port" {
        s3_port.to_string()
    } else if flag.ends_with(".port") && value != "0" {
        free_port().to_string()
    } else {
        return None;
    };
    Some(format!("{flag}={to}"))
}
