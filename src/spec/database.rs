use schemars::JsonSchema;
use serde::Deserialize;

use super::resources::{Resources, Storage};
use super::secret_source::SecretSource;
use crate::types::{Host, Image};

pub const POSTGRES_IMAGE: &str = "docker.io/library/postgres:17.6-bookworm";
/// CloudNativePG's operand image. The `system` variant carries
/// barman-cloud, which the Cluster's own `backup.barmanObjectStore` needs.
pub const CNPG_IMAGE: &str = "ghcr.io/cloudnative-pg/postgresql:17.6-system-bookworm";

/// The metadata store. `external` wins when set, then `cloudnativepg`;
/// `embedded` then only holds a profile's settings for a PostgreSQL that
/// is not rendered.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Database {
    pub embedded: Option<EmbeddedDatabase>,
    pub cloudnativepg: Option<CloudNativePg>,
    pub external: Option<ExternalDatabase>,
}

/// A `postgresql.cnpg.io/v1` Cluster: the CloudNativePG operator runs the
/// instances, fails over, and generates the application credentials.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CloudNativePg {
    pub instances: Instances,
    pub image: Image,
    pub storage: Storage,
    pub resources: Resources,
    pub database: PgIdent,
    pub user: PgIdent,
    /// WAL archiving and nightly base backups to the artifact store.
    pub backup: Option<Backup>,
    /// This component's pods; wins over the top-level `pods`.
    pub pods: super::Pods,
    /// The instances' ServiceAccount (the operator writes it): a cloud identity for backups to S3.
    #[serde(rename = "serviceAccount")]
    pub service_account: super::ServiceAccount,
}

impl Default for CloudNativePg {
    fn default() -> Self {
        CloudNativePg {
            instances: Instances(3),
            image: Image::builtin(CNPG_IMAGE),
            storage: Storage::of("20Gi"),
            resources: Resources::new("500m", "1Gi", Some("2"), "2Gi"),
            database: PgIdent::builtin("mlflow"),
            user: PgIdent::builtin("mlflow"),
            backup: None,
            pods: super::Pods::default(),
            service_account: super::ServiceAccount::default(),
        }
    }
}

/// One primary and its standbys: 1 to 9 PostgreSQL instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instances(pub u32);
crate::types::bounded_int!(
    Instances,
    1..=9,
    "instances must be between 1 and 9, not {n}"
);

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Backup {
    /// Where in the backups bucket the backups go.
    pub path: BackupPath,
    /// The bucket, never the artifacts' (default `NAME-backups`).
    pub bucket: Option<crate::types::BucketName>,
    /// How long backups are kept: `30d`, `4w`, `6m`.
    pub retention: Retention,
    /// CloudNativePG's six-field cron (seconds first).
    pub schedule: String,
}

impl Default for Backup {
    fn default() -> Self {
        Backup {
            path: BackupPath("postgres-backups".into()),
            bucket: None,
            retention: Retention("30d".into()),
            schedule: "0 0 2 * * *".into(),
        }
    }
}

/// A folder name inside the bucket: no MLflow experiment ID (a number)
/// can collide with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupPath(String);
crate::types::string_newtype!(BackupPath);

impl BackupPath {
    fn parse(s: &str) -> Result<(), String> {
        let ok = s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.len() <= 63
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is not a backup folder: lowercase letters, digits and '-', \
                 starting with a letter"
            ))
        }
    }
}

/// CloudNativePG's retention policy: a number and d, w or m.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention(String);
crate::types::string_newtype!(Retention);

impl Retention {
    fn parse(s: &str) -> Result<(), String> {
        let (n, unit) = s.split_at(s.len().saturating_sub(1));
        let ok = !n.is_empty()
            && n.len() <= 4
            && n.bytes().all(|b| b.is_ascii_digit())
            && !n.starts_with('0')
            && ["d", "w", "m"].contains(&unit);
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is not a retention: a number and d, w or m, e.g. 30d"
            ))
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddedDatabase {
    pub image: Image,
    pub storage: Storage,
    pub resources: Resources,
    pub database: PgIdent,
    pub user: PgIdent,
    pub password: SecretSource,
    /// A CronJob that dumps the database into a bucket of its own.
    pub backup: Option<EmbeddedBackup>,
    /// This component's pods; wins over the top-level `pods`.
    pub pods: super::Pods,
}

/// `pg_dump --format=custom` on a schedule, into a bucket of its own.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddedBackup {
    pub schedule: crate::spec::CronSchedule,
    /// How many dumps are kept; older ones are deleted.
    #[serde(deserialize_with = "crate::types::int32")]
    #[schemars(range(max = 2147483647))]
    pub retention: u32,
    /// The folder in the backups bucket.
    pub path: BackupPath,
    /// The bucket the dumps go to, never the artifacts': whoever reads
    /// artifacts through MLflow must not reach the database. Default
    /// `NAME-backups`; the embedded store creates it.
    pub bucket: Option<crate::types::BucketName>,
    /// Native sidecars (each `startsBeforeInit: true`): a container
    /// beside the dump's would keep the Job from ever completing.
    #[serde(rename = "extraContainers")]
    pub extra_containers: Vec<crate::spec::ExtraContainer>,
}

impl Default for EmbeddedBackup {
    fn default() -> Self {
        EmbeddedBackup {
            schedule: crate::spec::CronSchedule::daily_at_two(),
            retention: 14,
            path: BackupPath("postgres-backups".into()),
            bucket: None,
            extra_containers: Vec::new(),
        }
    }
}

impl Default for EmbeddedDatabase {
    fn default() -> Self {
        EmbeddedDatabase {
            image: Image::builtin(POSTGRES_IMAGE),
            storage: Storage::of("10Gi"),
            resources: Resources::new("100m", "256Mi", None, "512Mi"),
            database: PgIdent::builtin("mlflow"),
            user: PgIdent::builtin("mlflow"),
            password: SecretSource::Generate,
            backup: None,
            pods: super::Pods::default(),
        }
    }
}

/// A PostgreSQL server mlk does not run. `host` and `password` have no
/// default: they are checked once all layers are merged.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalDatabase {
    pub host: Option<Host>,
    pub port: u16,
    pub database: PgIdent,
    pub user: PgIdent,
    pub password: Option<SecretSource>,
    pub ssl_mode: Option<SslMode>,
    /// The CA that signed the server's certificate, from a Secret or a
    /// ConfigMap that exists; mounted read-only and used as `sslrootcert`.
    /// Required by `verify-ca` and `verify-full`.
    pub ssl_root_cert: Option<RootCert>,
    /// The server's `max_connections` (less what others use): the most
    /// connections the platform may open at once, checked against its
    /// budget.
    #[serde(default, deserialize_with = "crate::types::int32_opt")]
    #[schemars(range(min = 1, max = 2147483647))]
    pub max_connections: Option<u32>,
}

/// One of a Secret's or a ConfigMap's keys.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RootCert {
    pub secret: Option<KeyOf>,
    pub config_map: Option<KeyOf>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyOf {
    pub name: crate::types::Subdomain,
    pub key: String,
}

impl Default for ExternalDatabase {
    fn default() -> Self {
        ExternalDatabase {
            host: None,
            port: 5432,
            database: PgIdent::builtin("mlflow"),
            user: PgIdent::builtin("mlflow"),
            password: None,
            ssl_mode: None,
            ssl_root_cert: None,
            max_connections: None,
        }
    }
}

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// A PostgreSQL database or role name that needs no quoting anywhere:
/// in SQL, in a connection URI, in `pg_isready -U`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgIdent(String);
crate::types::string_newtype!(PgIdent);

impl PgIdent {
    fn parse(s: &str) -> Result<(), String> {
        let b = s.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 63
            && (b[0].is_ascii_lowercase() || b[0] == b'_')
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_');
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is not a plain PostgreSQL name: lowercase letters, digits and '_', \
                 not starting with a digit, at most 63 characters"
            ))
        }
    }

    fn builtin(s: &str) -> PgIdent {
        PgIdent(s.to_owned())
    }
}
