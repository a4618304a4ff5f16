//! `migrateFrom: {engine: minio}` as a platform runs it: moto stands for
//! the old MinIO (no MinIO server is to be had here) on the loopback port
//! of its Service, holding a run's artifacts and an old database dump,
//! written with MinIO's root keys from the rendered Secret. SeaweedFS and
//! its setup Job start as rendered; the tracking server's wait-for-copy
//! step holds it back; the copy Job's own container copies; then the
//! step lets it through, and MLflow's S3 client, with the tracking
//! identity's keys, reads every artifact from SeaweedFS byte for byte.

use super::store::job_of;
use super::*;
use crate::e2e::python::MIGRATED_RUN;

const SPEC: &str = "apiVersion: mlk/v1alpha1
kind: Platform
artifacts:
  embedded:
    migrateFrom: {engine: minio}
";

impl Harness {
    pub fn run_migration(&mut self) {
        let first: [(&str, Step); 3] = [
            ("render migrateFrom: {engine: minio}", |h| {
                h.render_migration()
            }),
            ("map Services to loopback", Self::map_services),
            ("moto as the old MinIO, holding a run's artifacts", |h| {
                h.old_minio()
            }),
        ];
        let setup: Vec<(&str, Step)> = first.into_iter().chain(Self::store_steps()).collect();
        let checks: [(&str, Step); 4] = [
            (
                "init step wait-for-copy holds the tracking server back",
                Self::held_back,
            ),
            (
                "the copy Job's own container, to completion",
                Self::copy_job,
            ),
            ("init step wait-for-copy lets it through", |h| {
                h.init_step("wait-for-copy")
            }),
            (
                "MLflow reads the run's artifacts from SeaweedFS; the dump stayed behind",
                |h| h.migrated("read"),
            ),
        ];
        self.run_steps(&setup, &checks);
    }

    fn render_migration(&mut self) -> Result<String, String> {
        let docs = render_spec(SPEC, &[]).map_err(|e| format!("mlk render failed:\n{e}"))?;
        let count = docs.len();
        self.state.rendered = Some(Rendered::new(docs));
        for kind in ["StatefulSet", "Job"] {
            let names: Vec<&str> = self
                .rendered()
                .docs
                .iter()
                .filter(|d| d["kind"] == kind)
                .filter_map(|d| d["metadata"]["name"].as_str())
                .collect();
            println!("      {kind}: {}", names.join(", "));
        }
        Ok(format!("{count} documents"))
    }

    /// moto on the MinIO Service's loopback port, its bucket made and a
    /// run logged into it with the root keys the old MinIO reads.
    fn old_minio(&mut self) -> Result<String, String> {
        let port = self.loopback().port("mlflow-minio")?;
        let mut cmd = Command::new(venv_bin("moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let mut p = Process::start("moto_server", cmd, self.path("moto-minio.log"));
        p.wait_for_port(port, Duration::from_secs(30));
        self.state.processes.push(p);
        self.migrated("log")
    }

    /// The copy must not have happened yet: the step still waits.
    fn held_back(&mut self) -> Result<String, String> {
        let cmd = self.command_for(&self.init_container("wait-for-copy")?)?;
        let log = self.path("wait-for-copy-held.log");
        match run_with_deadline("wait-for-copy", cmd, &log, Duration::from_secs(15)) {
            Err(why) if why.starts_with("still running") => {
                let last = why.lines().last().unwrap_or_default().to_owned();
                Ok(format!("still waiting after 15 s: {last}"))
            }
            Ok(last) => Err(format!("it let the server start before the copy: {last}")),
            Err(why) => Err(why),
        }
    }

    fn copy_job(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let pod = job_of(r, "artifacts-copy")?["spec"]["template"]["spec"].clone();
        let volumes = self.pod_volumes_in(r, &pod, "copy-volume")?;
        let container = pod["containers"][0].clone();
        let cmd = self.command_in(r, &container, &volumes.mounts, &volumes.writable)?;
        let log = self.path("copy-from-minio.log");
        run_with_deadline("copy", cmd, &log, Duration::from_secs(180))?;
        let text = std::fs::read_to_string(&log).map_err(|e| e.to_string())?;
        let counts: Vec<&str> = text.lines().filter(|l| l.contains(" in MinIO")).collect();
        Ok(counts.join("; "))
    }

    /// MIGRATED_RUN in `mode`: `log` into the old MinIO with its root
    /// keys, `read` from SeaweedFS with the tracking identity's.
    fn migrated(&mut self, mode: &str) -> Result<String, String> {
        let r = self.rendered();
        // Where the copy Job finds MinIO, and where the server finds S3.
        let (pod, var, keys) = match mode {
            "log" => (
                &job_of(r, "artifacts-copy")?["spec"]["template"]["spec"],
                "SOURCE_ENDPOINT",
                "mlflow-s3",
            ),
            _ => (
                &r.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"],
                "MLFLOW_S3_ENDPOINT_URL",
                "mlflow-s3-tracking",
            ),
        };
        let env = r.env(&pod["containers"][0])?;
        let (_, endpoint) = env
            .iter()
            .find(|(k, _)| k == var)
            .ok_or(format!("no {var}"))?;
        let key = |k: &str| r.secret(keys, k);
        py_owned(
            MIGRATED_RUN,
            &[
                ("MODE", mode.into()),
                ("MLFLOW_S3_ENDPOINT_URL", self.loopback().map(endpoint)),
                ("AWS_ACCESS_KEY_ID", key("access-key-id")?),
                ("AWS_SECRET_ACCESS_KEY", key("secret-access-key")?),
                ("AWS_DEFAULT_REGION", "us-east-1".into()),
                ("BUCKET", "mlflow".into()),
            ],
        )
        .map(|out| out.trim().to_owned())
    }
}
