//! The embedded PostgreSQL: a StatefulSet with its own volume, behind a
//! headless Service.

use super::component::Component;
use serde::Serialize;

use super::naming::{Labels, Naming};
use super::pod::PodTemplate;
use super::secret::{EnvEntry, SecretBinder, SecretFiles, SecretMount, SecretObject};
use super::security;
use crate::resolve::SecretValue;
use crate::spec::{EmbeddedDatabase, Resources, SecretRef, Storage};

const PORT: u16 = Component::Database.port();
/// A subdirectory of the volume: initdb refuses a mount point that holds
/// `lost+found`, as many volumes do.
const PGDATA: &str = "/var/lib/postgresql/data/pgdata";

#[derive(Debug, Serialize)]
pub struct PostgresContext {
    pub name: String,
    pub labels: Labels,
    pub selector: Labels,
    pub secret: Option<SecretObject>,
    pub image: String,
    pub port: u16,
    pub env: Vec<EnvEntry>,
    /// The password, as a file the image's entrypoint reads.
    pub secret_files: Option<SecretMount>,
    pub probe: Vec<String>,
    pub resources: Resources,
    pub storage: Storage,
    pub pod: PodTemplate,
    /// `pg_dump` on a schedule, when asked for.
    pub backup: Option<super::backup::BackupJob>,
}

/// The context, and where the password lives for the tracking server.
pub fn build(
    n: &Naming,
    spec: &EmbeddedDatabase,
    password: &SecretValue,
) -> (PostgresContext, SecretRef) {
    let name = n.name(Component::Database);
    let mut secret = SecretBinder::new(n.object("db"));
    let password = secret.bind("password", password);
    let user = spec.user.as_str();
    let db = spec.database.as_str();
    let mut files = SecretFiles::default();
    let password_file = files.file("postgres-password", &password);
    let ctx = PostgresContext {
        labels: n.labels(Component::Database),
        selector: n.selector(Component::Database),
        secret: secret.finish(),
        image: spec.image.to_string(),
        port: PORT,
        env: vec![
            EnvEntry::plain("POSTGRES_USER", user),
            EnvEntry::plain("POSTGRES_DB", db),
            EnvEntry::plain("POSTGRES_PASSWORD_FILE", password_file),
            EnvEntry::plain("PGDATA", PGDATA),
        ],
        secret_files: files.finish(),
        // Over TCP, not the socket: the image's first-start initdb serves
        // the socket only, and is not ready for the tracking server yet.
        probe: [
            "pg_isready",
            "-h",
            "127.0.0.1",
            "-p",
            "5432",
            "-U",
            user,
            "-d",
            db,
        ]
        .map(String::from)
        .to_vec(),
        resources: spec.resources.clone(),
        storage: spec.storage.clone(),
        pod: n.pods(&spec.pods).template(
            &n.labels(Component::Database),
            &std::collections::BTreeMap::new(),
            None,
            security::pod(security::POSTGRES_UID),
        ),
        backup: None,
        name,
    };
    (ctx, password)
}
