//! The two stores every workload reaches, each worked out once from its
//! plan: the metadata database and the artifact store, with endpoint, TLS,
//! region, bucket and credential references. Workloads read these values
//! instead of matching on the plans; only the network paths look at the
//! plans again, for where a store's pods run.

use super::cloudnativepg::{self, ClusterContext};
use super::component::Component;
use super::db_ca;
use super::minio::{self, MinioContext};
use super::naming::Naming;
use super::postgres::{self, PostgresContext};
use super::secret::{SecretBinder, SecretMount, SecretObject};
use crate::resolve::{ArtifactsPlan, DatabasePlan, SecretValue};
use crate::spec::SecretRef;

/// Both stores, and what the platform runs of them itself.
pub struct Stores {
    pub postgres: Option<PostgresContext>,
    pub cloudnativepg: Option<ClusterContext>,
    pub minio: Option<MinioContext>,
    pub db: DbAccess,
    pub s3: S3Access,
    /// The Secrets that hold an external store's credentials.
    pub secrets: Vec<SecretObject>,
}

pub fn build(n: &Naming, database: &DatabasePlan, artifacts: &ArtifactsPlan) -> Stores {
    let mut secrets = Vec::new();
    let (minio, s3) = artifact_access(n, artifacts, &mut secrets);
    let (postgres, cloudnativepg, db) = database_access(n, database, &s3, &mut secrets);
    Stores {
        postgres,
        cloudnativepg,
        minio,
        db,
        s3,
        secrets,
    }
}

/// How every workload reaches the metadata store.
pub struct DbAccess {
    /// Without the password: libpq reads that from PGPASSFILE.
    pub uri: String,
    pub password: SecretRef,
    /// The CA file libpq verifies the server with (`sslrootcert`), for
    /// every container that connects.
    pub ca: Option<SecretMount>,
}

/// How every workload reaches the artifact store.
pub struct S3Access {
    /// Unset for AWS S3 without keys: an explicit endpoint would bypass
    /// what IRSA and the region decide.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    /// Static keys; none when the pods' identity gives the credentials.
    pub keys: Option<S3KeyRefs>,
    /// The IAM role the tracking server's ServiceAccount names.
    pub role_arn: Option<String>,
    /// The endpoint's `host:port` as KServe's storage initializer reads
    /// it, kept even where the tracking server leaves the endpoint to the
    /// SDK; none for AWS without an endpoint.
    pub authority: Option<String>,
    pub https: bool,
    /// The key values themselves, for the predictors' own credentials
    /// Secret; none without keys.
    pub key_values: Option<(SecretValue, SecretValue)>,
}

#[derive(Debug, Clone)]
pub struct S3KeyRefs {
    pub access_key: SecretRef,
    pub secret_key: SecretRef,
}

impl S3Access {
    /// Without keys, a pod reaches the store as the tracking server's
    /// ServiceAccount, whose identity (a role, EKS Pod Identity) it takes.
    pub fn identity_account(&self, tracking_account: &str) -> Option<String> {
        self.keys.is_none().then(|| tracking_account.to_owned())
    }

    /// Where the server keeps artifacts: `--artifacts-destination`.
    pub fn destination(&self) -> String {
        format!("s3://{}", self.bucket)
    }
}

type Databases = (
    Option<PostgresContext>,
    Option<cloudnativepg::ClusterContext>,
    DbAccess,
);

fn database_access(
    n: &Naming,
    plan: &DatabasePlan,
    s3: &S3Access,
    secrets: &mut Vec<SecretObject>,
) -> Databases {
    match plan {
        DatabasePlan::CloudNativePg(spec) => {
            let (ctx, access) = cloudnativepg::build(n, spec, s3);
            let uri = pg_uri(
                spec.user.as_str(),
                &access.host,
                Component::Database.port(),
                spec.database.as_str(),
                None,
            );
            let db = DbAccess {
                uri,
                password: access.password,
                ca: None,
            };
            (None, Some(ctx), db)
        }
        DatabasePlan::Embedded { spec, password } => {
            let (ctx, password) = postgres::build(n, spec, password);
            let host = n.fqdn(&ctx.name);
            let uri = pg_uri(
                spec.user.as_str(),
                &host,
                Component::Database.port(),
                spec.database.as_str(),
                None,
            );
            let ca = None;
            (Some(ctx), None, DbAccess { uri, password, ca })
        }
        DatabasePlan::External {
            host,
            port,
            database,
            user,
            ssl_mode,
            ssl_root_cert,
            password,
        } => {
            let mut secret = SecretBinder::new(n.object("db"));
            let password = secret.bind("password", password);
            secrets.extend(secret.finish());
            let ca = ssl_root_cert
                .as_ref()
                .map(|(kind, k)| db_ca::mount(kind, k));
            let mut uri = pg_uri(
                user.as_str(),
                host.as_str(),
                *port,
                database.as_str(),
                ssl_mode.map(|m| m.as_str()),
            );
            if ca.is_some() {
                let sep = if uri.contains('?') { '&' } else { '?' };
                uri.push_str(&format!("{sep}sslrootcert={}", db_ca::FILE));
            }
            (None, None, DbAccess { uri, password, ca })
        }
    }
}

/// `postgresql+psycopg://` names the driver (psycopg 3) rather than leave
/// it to SQLAlchemy's default, which changed between releases.
fn pg_uri(user: &str, host: &str, port: u16, db: &str, ssl_mode: Option<&str>) -> String {
    let query = ssl_mode
        .map(|m| format!("?sslmode={m}"))
        .unwrap_or_default();
    format!("postgresql+psycopg://{user}@{host}:{port}/{db}{query}")
}

fn artifact_access(
    n: &Naming,
    plan: &ArtifactsPlan,
    secrets: &mut Vec<SecretObject>,
) -> (Option<MinioContext>, S3Access) {
    match plan {
        ArtifactsPlan::Embedded {
            spec,
            root_user,
            root_password,
        } => {
            let (ctx, access) = minio::build(n, spec, root_user, root_password);
            let s3 = S3Access {
                endpoint: Some(access.endpoint),
                bucket: spec.bucket.to_string(),
                region: "us-east-1".into(),
                keys: Some(S3KeyRefs {
                    access_key: access.access_key,
                    secret_key: access.secret_key,
                }),
                role_arn: None,
                authority: Some(minio::authority(n)),
                https: false,
                key_values: Some((root_user.clone(), root_password.clone())),
            };
            (Some(ctx), s3)
        }
        ArtifactsPlan::External {
            endpoint,
            bucket,
            region,
            keys,
            role_arn,
        } => {
            let plan_keys = keys;
            let mut secret = SecretBinder::new(n.object("s3"));
            let keys = keys.as_ref().map(|k| S3KeyRefs {
                access_key: secret.bind("access-key-id", &k.access_key_id),
                secret_key: secret.bind("secret-access-key", &k.secret_access_key),
            });
            secrets.extend(secret.finish());
            let key_values = plan_keys
                .as_ref()
                .map(|k| (k.access_key_id.clone(), k.secret_access_key.clone()));
            // Without keys on AWS itself, the SDK finds the endpoint.
            let sdk_endpoint = endpoint.as_ref().filter(|e| keys.is_some() || !e.is_aws());
            let s3 = S3Access {
                endpoint: sdk_endpoint.map(|e| e.to_string()),
                bucket: bucket.to_string(),
                region: region.clone(),
                keys,
                role_arn: role_arn.as_ref().map(|r| r.to_string()),
                authority: endpoint.as_ref().map(|e| e.authority().to_owned()),
                https: endpoint.as_ref().is_none_or(|e| e.uses_https()),
                key_values,
            };
            (None, s3)
        }
    }
}
