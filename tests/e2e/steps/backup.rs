//! Backups that restore: the backup CronJob's own containers dump the
//! database into the backups' own bucket; the database is dropped and recreated; the
//! README's restore steps bring it back; a server started on it finds the
//! user's run and metric. Last in the run: it drops the database under
//! the first server.

use super::setup::run_ok;
use super::*;

impl Harness {
    /// The backups' bucket as the backup identity reaches it, with its
    /// keys from its Secret.
    fn backup_access(
        &self,
        bucket: String,
        more: &[(&'static str, String)],
    ) -> Result<Vec<(&'static str, String)>, String> {
        let r = self.rendered();
        let mut env = vec![
            (
                "S3_ENDPOINT",
                self.tracking_var("MLFLOW_S3_ENDPOINT_URL")
                    .unwrap_or_default(),
            ),
            (
                "AWS_ACCESS_KEY_ID",
                r.secret("mlflow-s3-backup", "access-key-id")?,
            ),
            (
                "AWS_SECRET_ACCESS_KEY",
                r.secret("mlflow-s3-backup", "secret-access-key")?,
            ),
            ("BUCKET", bucket),
        ];
        env.extend(more.iter().cloned());
        Ok(env)
    }

    pub(super) fn backup_and_restore(&mut self) -> Result<String, String> {
        let pod = self.run_cron_job("mlflow-postgres-backup")?;
        let r = self.rendered();
        let upload = &pod["containers"][0];
        let env = r.env(upload)?;
        let var = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let prefix = format!("{}/", var("PREFIX").ok_or("no PREFIX")?);
        // The backups' bucket, from the store's URI the upload names.
        let destination = var("DESTINATION").ok_or("no DESTINATION")?;
        let bucket = destination
            .strip_prefix("s3://")
            .ok_or(format!("{destination} is not an S3 bucket"))?
            .to_owned();
        // As the backup identity, in the backups' own bucket.
        let access = self.backup_access(bucket.clone(), &[("PREFIX", prefix.clone())])?;
        let listed = py_owned(LIST_OBJECTS, &access)?;
        let dumps: BTreeMap<String, u64> =
            serde_json::from_str(listed.trim()).map_err(|e| format!("{e}: {listed}"))?;
        if dumps.is_empty() {
            return Err(format!("no dump under {prefix}"));
        }
        if bucket == self.state.bucket {
            return Err(format!("the dumps are in the artifacts' bucket {bucket}"));
        }
        self.artifact_api_lists_no_dump(&prefix)?;
        self.restore(access)?;
        let metric = self.read_back_on_a_new_server()?;
        Ok(format!(
            "{} dump(s) under {prefix}; database dropped, restored; a new server reads accuracy {metric}",
            dumps.len()
        ))
    }

    /// What a user who may read artifacts sees through MLflow's artifact
    /// API (through nginx, as one of the users): no dump, at the root or
    /// where the dumps once were.
    fn artifact_api_lists_no_dump(&self, prefix: &str) -> Result<(), String> {
        let api = "/api/2.0/mlflow-artifacts/artifacts";
        for path in [
            api.to_owned(),
            format!("{api}?path={}", prefix.trim_end_matches('/')),
        ] {
            let answer = http::get(self.state.nginx_port, &path, HOST, Some(USERS[0]))?;
            if answer.status != 200 || answer.body.contains(".dump") {
                return Err(format!("GET {path}: {} {}", answer.status, answer.body));
            }
        }
        Ok(())
    }

    /// The README's restore steps, with the cluster's commands run here:
    /// the newest dump from the bucket, then `pg_restore` into the emptied
    /// database.
    fn restore(&self, mut access: Vec<(&'static str, String)>) -> Result<(), String> {
        let dump = self.path("restore.dump");
        access.push(("OUT", dump.display().to_string()));
        py_owned(FETCH_DUMP, &access)?;
        self.restore_dump(&dump)
    }

    /// The README's restore steps: the database dropped, made again, and
    /// the dump restored into it.
    pub(super) fn restore_dump(&self, dump: &Path) -> Result<(), String> {
        let (mut drop, db) = self.pg_command("dropdb")?;
        drop.args(["--force", "--maintenance-db=postgres", &db]);
        run_ok(&mut drop)?;
        let (mut create, _) = self.pg_command("createdb")?;
        create.args(["--maintenance-db=postgres", &db]);
        run_ok(&mut create)?;
        let (mut restore, _) = self.pg_command("pg_restore")?;
        restore.args(["--no-owner", "-d", &db]).arg(dump);
        run_ok(&mut restore)
    }

    /// One answer of the platform's database to `sql`, as its user.
    pub(super) fn query(&self, sql: &str) -> Result<String, String> {
        let (mut psql, db) = self.pg_command("psql")?;
        let out = psql
            .args(["-d", &db, "-tAc", sql])
            .output()
            .map_err(|e| e.to_string())?;
        match out.status.success() {
            true => Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned()),
            false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        }
    }

    /// A PostgreSQL client program connecting as the StatefulSet's user
    /// with the pod's pgpass file, and the database's name.
    fn pg_command(&self, program: &str) -> Result<(Command, String), String> {
        let pg = self.rendered().get("StatefulSet", "mlflow-postgres")?;
        let env: BTreeMap<_, _> = self
            .rendered()
            .env(&pg["spec"]["template"]["spec"]["containers"][0])?
            .into_iter()
            .collect();
        let port = self.loopback().port("mlflow-postgres")?.to_string();
        let mut c = Command::new(program);
        c.args(["-h", "127.0.0.1", "-p", &port, "-U", &env["POSTGRES_USER"]])
            .env("PGPASSFILE", self.loopback().map("/tmp/mlk/pgpass"));
        Ok((c, env["POSTGRES_DB"].clone()))
    }

    /// A second server from the rendered command, on a port of its own,
    /// reads the user's run back from the restored database.
    fn read_back_on_a_new_server(&self) -> Result<String, String> {
        let r = self.rendered();
        let pod = &r.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        let port = free_port();
        let lb = self.loopback();
        let mut mounts: Vec<(String, String)> = lb
            .args
            .iter()
            .filter(|(f, _)| f.starts_with('/'))
            .cloned()
            .collect();
        mounts.push(("5000".into(), port.to_string()));
        let cmd = self.command_in(r, container, &mounts, &lb.volumes)?;
        let mut server = Process::start(
            "mlflow server (restored)",
            cmd,
            self.path("restored-server.log"),
        );
        server.wait_for_port(port, Duration::from_secs(120));
        let run_id = self.state.user_flow["run_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let uri = format!("http://127.0.0.1:{port}");
        let out = py_env(
            READ_RUN,
            &[("MLFLOW_TRACKING_URI", &uri), ("RUN_ID", &run_id)],
        )?;
        match out.trim() {
            "0.93" => Ok("0.93".into()),
            other => Err(format!("the restored run's accuracy is {other}")),
        }
    }
}
