//! How a workload reaches each store, as the store's provider hands it
//! out: what consumers (the tracking server, gc, backups, predictors)
//! read, so that none of them looks at what kind of store it is.

use super::secret::SecretMount;
use crate::resolve::SecretValue;
use crate::spec::SecretRef;

/// How a workload reaches the metadata store.
#[derive(Debug, Clone)]
pub struct DbAccess {
    /// Without the password: libpq reads that from PGPASSFILE.
    pub uri: String,
    pub password: SecretRef,
    /// The CA file libpq verifies the server with (`sslrootcert`), for
    /// every container that connects.
    pub ca: Option<SecretMount>,
}

/// How a workload reaches the artifact store.
#[derive(Debug, Clone)]
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
