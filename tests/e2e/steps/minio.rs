//! MinIO, kept for platforms that run it (and by the ha profile): the
//! platform rendered with `engine: minio`, and its bucket Job's own
//! script run by `/bin/sh` with the Job's env and Secret files, against
//! moto's S3 server, with a stand-in `mc` on PATH (boto3; no `mc` here)
//! that logs every argv. The credentials must arrive on `mc alias set`'s
//! stdin, equal the Secret's and be in no argv; both buckets must exist.

use super::*;
use crate::e2e::python::MC_STUB;

impl Harness {
    pub(super) fn minio_bucket_job(&mut self) -> Result<String, String> {
        let spec = SPEC
            .replace("MODEL", "storageUri: s3://mlflow/1/models/m-1/artifacts")
            .replace(
                "  embedded:\n    versioning",
                "  embedded:\n    engine: minio\n    versioning",
            );
        let r = Rendered::new(render_spec(&spec, &[])?);
        let job = r.first("Job")?;
        let pod = job["spec"]["template"]["spec"].clone();
        let container = pod["containers"][0].clone();
        let volumes = self.pod_volumes_in(&r, &pod, "minio-job")?;
        let port = self.moto("minio");
        let service = r.get("Service", "mlflow-minio")?;
        let svc_port = service["spec"]["ports"][0]["port"].as_u64().unwrap_or(9000);
        let address = format!("mlflow-minio.mlflow.svc.cluster.local:{svc_port}");
        let map = |v: &str| {
            map_path(v, &volumes.mounts)
                .unwrap_or_else(|| v.replace(&address, &format!("127.0.0.1:{port}")))
        };
        let mut env: Vec<(String, String)> = r
            .env(&container)?
            .into_iter()
            .map(|(k, v)| (k, map(&v)))
            .collect();
        let bin = self.path("minio-job-bin");
        std::fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
        let stub = format!("#!{}\n{MC_STUB}", venv_bin("python").display());
        std::fs::write(bin.join("mc"), stub).map_err(|e| e.to_string())?;
        use std::os::unix::fs::PermissionsExt;
        let exec = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(bin.join("mc"), exec).map_err(|e| e.to_string())?;
        let argv_log = self.path("mc-argv.log");
        env.push(("PATH".into(), format!("{}:/usr/bin:/bin", bin.display())));
        env.push(("MC_ARGV_LOG".into(), argv_log.display().to_string()));
        let argv = r.argv(&container, &env);
        let (program, args) = argv.split_first().ok_or("the Job has no command")?;
        let mut cmd = Command::new(program);
        cmd.args(args).env_clear().envs(env.clone());
        let log = self.path("minio-bucket-job.log");
        run_with_deadline("MinIO bucket Job", cmd, &log, Duration::from_secs(60))?;
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .ok_or(format!("the Job sets no {k}"))
        };
        let aliases = std::fs::read_to_string(format!("{}/aliases.json", get("MC_CONFIG_DIR")?))
            .map_err(|e| format!("mc kept no alias: {e}"))?;
        let user = r.mounted_file(&pod, &container, "/var/run/secrets/mlk/minio-root-user")?;
        let password =
            r.mounted_file(&pod, &container, "/var/run/secrets/mlk/minio-root-password")?;
        if !aliases.contains(&format!("\"{user}\", \"{password}\"")) {
            return Err("mc alias set did not get the Secret's credentials on stdin".into());
        }
        let argvs = std::fs::read_to_string(&argv_log).map_err(|e| e.to_string())?;
        if argvs.contains(&user) || argvs.contains(&password) {
            return Err(format!("a credential is in mc's argv:\n{argvs}"));
        }
        let (bucket, backups) = (get("BUCKET")?, get("BACKUP_BUCKET")?);
        for b in [&bucket, &backups] {
            if !argvs.contains(&format!("\"mb\", \"--ignore-existing\", \"platform/{b}\"")) {
                return Err(format!("the Job made no bucket {b}:\n{argvs}"));
            }
        }
        let users = self.minio_users(&r, &get("MC_CONFIG_DIR")?, &get("USERS")?, &argvs)?;
        let calls = argvs.lines().count();
        Ok(format!(
            "buckets {bucket} and {backups}; users {users}: {calls} mc calls, credentials on \
             stdin, none in argv"
        ))
    }

    /// Each consumer's user has the secret key of its own Secret, the
    /// policy of its USERS line, attached; no secret key is in any argv.
    fn minio_users(
        &self,
        r: &Rendered,
        conf: &str,
        lines: &str,
        argvs: &str,
    ) -> Result<String, String> {
        let state = std::fs::read_to_string(format!("{conf}/iam.json"))
            .map_err(|e| format!("mc made no user: {e}"))?;
        let state: serde_json::Value = serde_json::from_str(&state).map_err(|e| e.to_string())?;
        let mut names = Vec::new();
        for line in lines.lines() {
            let (name, policy) = line
                .split_once(' ')
                .ok_or("a USERS line without a policy")?;
            let consumer = name.strip_prefix("mlk-").ok_or("a user not named mlk-")?;
            let secret = r.secret(&format!("mlflow-s3-{consumer}"), "secret-access-key")?;
            if state["users"][name] != secret.as_str() {
                return Err(format!(
                    "{name}: MinIO got another secret key than its Secret's"
                ));
            }
            if argvs.contains(&secret) {
                return Err(format!("{name}: its secret key is in mc's argv"));
            }
            let want: serde_json::Value =
                serde_json::from_str(policy).map_err(|e| e.to_string())?;
            if state["policies"][name] != want || state["attached"][name] != name {
                return Err(format!("{name}: not its own policy, attached: {state}"));
            }
            names.push(name.to_owned());
        }
        Ok(names.join(", "))
    }
}
