use serde::Deserialize;

use super::resources::{Resources, Storage};
use super::secret_source::SecretSource;
use crate::types::{Host, Image};

pub const POSTGRES_IMAGE: &str = "docker.io/library/postgres:17.6-bookworm";

/// The metadata store. `external` wins when set; `embedded` then only
/// holds a profile's settings for a PostgreSQL that is not rendered.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Database {
    pub embedded: Option<EmbeddedDatabase>,
    pub external: Option<ExternalDatabase>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddedDatabase {
    pub image: Image,
    pub storage: Storage,
    pub resources: Resources,
    pub database: PgIdent,
    pub user: PgIdent,
    pub password: SecretSource,
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
        }
    }
}

/// A PostgreSQL server mlk does not run. `host` and `password` have no
/// default: they are checked once all layers are merged.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalDatabase {
    pub host: Option<Host>,
    pub port: u16,
    pub database: PgIdent,
    pub user: PgIdent,
    pub password: Option<SecretSource>,
    pub ssl_mode: Option<SslMode>,
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
        }
    }
}

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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
