//! Backups of the embedded PostgreSQL: a CronJob that runs `pg_dump
//! --format=custom` with the database's own image and uploads the dump to
//! the artifact store, keeping the newest N.

use super::access::{DbAccess, StoreAccess};
use super::component::Component;
use super::database::{Dump, PORT};
use super::naming::Naming;
use super::secret::EnvEntry;
use super::security;
use super::workload::{self, CronJob, InitStep, Step};
use crate::spec::Resources;

const UPLOAD: &str = include_str!("../../templates/scripts/upload-backup.py");
const DUMP: &str = "/tmp/backup/mlflow.dump";

pub fn build(
    n: &Naming,
    db: &Dump,
    (access, s3): (&DbAccess, &StoreAccess),
    mlflow_image: &str,
) -> CronJob {
    let backup = db.schedule;
    let (credential_files, files) = workload::credential_files(access, s3);
    let runtime = workload::runtime_env();
    let mut dump_env = runtime.clone();
    dump_env.push(EnvEntry::plain("PGPASSFILE", workload::PGPASSFILE));
    dump_env.push(EnvEntry::plain("DUMP", DUMP));
    let mut upload_env = workload::store_client_env(s3);
    upload_env.extend([
        EnvEntry::plain("DESTINATION", s3.destination()),
        EnvEntry::plain("PREFIX", backup.path.to_string()),
        EnvEntry::plain("KEEP", backup.retention.to_string()),
        EnvEntry::plain("NAME", n.name(Component::Database)),
        EnvEntry::plain("DUMP", DUMP),
    ]);
    // libpq's own URI (no password: that is in PGPASSFILE).
    let uri = format!(
        "postgresql://{}@{}:{PORT}/{}",
        db.user, db.host, db.database
    );
    let dump_cmd = format!(
        "mkdir -p \"${{DUMP%/*}}\" && exec pg_dump --format=custom --file=\"$DUMP\" --dbname={uri}"
    );
    let dump = InitStep {
        name: "pg-dump".into(),
        command: ["/bin/sh", "-c", &dump_cmd].map(String::from).to_vec(),
        env: dump_env,
        mounts: Vec::new(),
    };
    let upload = InitStep {
        name: "upload".into(),
        command: ["python", "-c", UPLOAD].map(String::from).to_vec(),
        env: upload_env,
        mounts: Vec::new(),
    };
    let step = |image: &str, step| Step {
        image: image.to_owned(),
        step,
    };
    CronJob {
        name: n.name(Component::Backup),
        labels: n.labels(Component::Backup),
        schedule: backup.schedule.to_string(),
        init_containers: vec![step(mlflow_image, credential_files), step(&db.image, dump)],
        container: step(mlflow_image, upload),
        resources: Resources::new("50m", "256Mi", Some("500m"), "1Gi"),
        // The dump waits in /tmp for its upload.
        scratch: workload::build::scratch_volumes(&db.storage.to_string()),
        // Any user works: its writes go to the /tmp emptyDir.
        pod: n.pods(db.pods).template(
            &s3.pod_labels(&n.labels(Component::Backup)),
            &std::collections::BTreeMap::new(),
            s3.identity_account(&n.name(Component::Tracking)),
            security::pod(security::MLFLOW_UID),
        ),
        secret_volume: files.map(|f| f.volume),
        sidecars: super::sidecar::split(&backup.extra_containers),
        // A dump of a large database takes hours, not days.
        deadlines: workload::Deadlines::hours(6),
    }
}
