//! Backups of the embedded PostgreSQL: a CronJob that runs `pg_dump
//! --format=custom` with the database's own image and uploads the dump to
//! the artifact store, keeping the newest N.

use super::component::Component;
use k8s_openapi::api::core::v1::Volume;
use serde::Serialize;

use super::naming::{Labels, Naming};
use super::pod::PodTemplate;
use super::secret::EnvEntry;
use super::security;
use super::stores::{DbAccess, S3Access};
use super::tracking::{self, InitStep};
use crate::spec::{EmbeddedBackup, EmbeddedDatabase, Resources};

const UPLOAD: &str = include_str!("../../templates/scripts/upload-backup.py");
const DUMP: &str = "/tmp/backup/mlflow.dump";

#[derive(Debug, Serialize)]
pub struct BackupJob {
    pub name: String,
    pub labels: Labels,
    pub schedule: String,
    /// The credential files, then pg_dump from the database's own image
    /// (the same major version as the server).
    pub init_containers: Vec<Step>,
    /// The upload, from the tracking server's image (boto3).
    pub container: Step,
    pub resources: Resources,
    pub pod: PodTemplate,
    pub secret_volume: Option<Volume>,
}

#[derive(Debug, Serialize)]
pub struct Step {
    pub image: String,
    #[serde(flatten)]
    pub step: InitStep,
}

pub fn build(
    n: &Naming,
    db: &EmbeddedDatabase,
    backup: &EmbeddedBackup,
    (access, s3): (&DbAccess, &S3Access),
    host: &str,
    mlflow_image: &str,
) -> BackupJob {
    let (credential_files, files) = tracking::credential_files(access, s3);
    let runtime = tracking::runtime_env();
    let mut dump_env = runtime.clone();
    dump_env.push(EnvEntry::plain("PGPASSFILE", tracking::PGPASSFILE));
    dump_env.push(EnvEntry::plain("DUMP", DUMP));
    let mut upload_env = tracking::s3_client_env(s3);
    upload_env.extend([
        EnvEntry::plain("BUCKET", s3.bucket.clone()),
        EnvEntry::plain("PREFIX", backup.path.to_string()),
        EnvEntry::plain("KEEP", backup.retention.to_string()),
        EnvEntry::plain("NAME", n.name(Component::Database)),
        EnvEntry::plain("DUMP", DUMP),
    ]);
    // libpq's own URI (no password: that is in PGPASSFILE).
    let uri = format!(
        "postgresql://{}@{host}:{}/{}",
        db.user.as_str(),
        Component::Database.port(),
        db.database.as_str()
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
    BackupJob {
        name: n.name(Component::Backup),
        labels: n.labels(Component::Backup),
        schedule: backup.schedule.to_string(),
        init_containers: vec![
            step(mlflow_image, credential_files),
            step(&db.image.to_string(), dump),
        ],
        container: step(mlflow_image, upload),
        resources: Resources::new("50m", "256Mi", Some("500m"), "1Gi"),
        // Any user works: its writes go to the /tmp emptyDir.
        pod: n.pods(&db.pods).template(
            &n.labels(Component::Backup),
            &std::collections::BTreeMap::new(),
            s3.identity_account(&n.name(Component::Tracking)),
            security::pod(security::MLFLOW_UID),
        ),
        secret_volume: files.map(|f| f.volume),
    }
}
