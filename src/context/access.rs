//! How a workload reaches each store, as the store's provider hands it
//! out: what consumers (the tracking server, gc, backups, predictors)
//! read, so that none of them looks at what kind of store it is.

use std::collections::BTreeMap;

use super::network_policy::Peer;
use super::secret::{EnvEntry, SecretMount};
use crate::resolve::SecretValue;
use crate::spec::SecretRef;

/// Where the credential-files step writes the store client's credentials,
/// in the memory-backed `build::CREDENTIALS` every container of the pod mounts.
const AWS_CREDENTIALS_FILE: &str = "/tmp/mlk/aws-credentials";
const GCS_KEY_FILE: &str = "/tmp/mlk/gcs-key.json";

/// The annotations each cloud's identity webhook or metadata server
/// reads on a ServiceAccount, and the pod label Azure's webhook selects.
const AWS_ROLE: &str = "eks.amazonaws.com/role-arn";
const GCP_SERVICE_ACCOUNT: &str = "iam.gke.io/gcp-service-account";
const AZURE_CLIENT_ID: &str = "azure.workload.identity/client-id";
const AZURE_TENANT_ID: &str = "azure.workload.identity/tenant-id";
const AZURE_USE: &str = "azure.workload.identity/use";

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

/// How a workload reaches the artifact store, whatever kind it is.
#[derive(Debug, Clone)]
pub enum StoreAccess {
    S3(S3Access),
    Gcs(GcsAccess),
    Azure(AzureAccess),
}

/// A Secret key the credential-files step turns into a file of the
/// client's own format: the variable it reads the mounted key's path
/// from, the key's file name there, the key, and the part of the step's
/// script that reads it, where the step's own does not.
pub struct CredentialSource<'a> {
    pub var: &'static str,
    pub file: &'static str,
    pub key: &'a SecretRef,
    pub script: &'static str,
}

const GCS_KEY_SCRIPT: &str = include_str!("../../templates/scripts/credential-files-gcs.py");

impl StoreAccess {
    /// The bucket, or the Azure container.
    pub fn bucket(&self) -> &str {
        match self {
            StoreAccess::S3(s) => &s.bucket,
            StoreAccess::Gcs(g) => &g.bucket,
            StoreAccess::Azure(z) => &z.container,
        }
    }

    /// Where the server keeps artifacts (`--artifacts-destination`), as
    /// MLflow names the store.
    pub fn destination(&self) -> String {
        let under = |p: &Option<String>| p.as_ref().map_or(String::new(), |p| format!("/{p}"));
        match self {
            StoreAccess::S3(s) => format!("s3://{}", s.bucket),
            StoreAccess::Gcs(g) => format!("gs://{}{}", g.bucket, under(&g.prefix)),
            StoreAccess::Azure(z) => format!(
                "wasbs://{}@{}.{}{}",
                z.container,
                z.account,
                z.suffix,
                under(&z.prefix)
            ),
        }
    }

    fn has_keys(&self) -> bool {
        match self {
            StoreAccess::S3(s) => s.keys.is_some(),
            StoreAccess::Gcs(g) => g.key.is_some(),
            StoreAccess::Azure(z) => z.key.is_some(),
        }
    }

    /// Without keys, a pod reaches the store as the tracking server's
    /// ServiceAccount, whose cloud identity it takes.
    pub fn identity_account(&self, tracking_account: &str) -> Option<String> {
        (!self.has_keys()).then(|| tracking_account.to_owned())
    }

    /// The keys the credential-files step writes into the client's file.
    pub fn credential_sources(&self) -> Vec<CredentialSource<'_>> {
        match self {
            StoreAccess::S3(S3Access { keys: Some(k), .. }) => vec![
                CredentialSource {
                    var: "MLK_S3_ACCESS_KEY_ID_FILE",
                    file: "s3-access-key-id",
                    key: &k.access_key,
                    script: "",
                },
                CredentialSource {
                    var: "MLK_S3_SECRET_ACCESS_KEY_FILE",
                    file: "s3-secret-access-key",
                    key: &k.secret_key,
                    script: "",
                },
            ],
            StoreAccess::Gcs(GcsAccess { key: Some(k), .. }) => vec![CredentialSource {
                var: "MLK_GCS_KEY_FILE",
                file: "gcs-key.json",
                key: k,
                script: GCS_KEY_SCRIPT,
            }],
            _ => Vec::new(),
        }
    }

    /// What a client process of the store needs in its env: where the
    /// credential-files step put the credentials, or the Secret keys a
    /// client reads from its env only (Azure's), and the store's address.
    pub fn env(&self) -> Vec<EnvEntry> {
        let mut env = Vec::new();
        match self {
            StoreAccess::S3(s) => {
                if s.keys.is_some() {
                    env.push(EnvEntry::plain(
                        "AWS_SHARED_CREDENTIALS_FILE",
                        AWS_CREDENTIALS_FILE,
                    ));
                }
                env.push(EnvEntry::plain("AWS_DEFAULT_REGION", s.region.clone()));
                if let Some(endpoint) = &s.endpoint {
                    env.push(EnvEntry::plain("MLFLOW_S3_ENDPOINT_URL", endpoint.clone()));
                }
            }
            StoreAccess::Gcs(g) => {
                if g.key.is_some() {
                    env.push(EnvEntry::plain(
                        "GOOGLE_APPLICATION_CREDENTIALS",
                        GCS_KEY_FILE,
                    ));
                }
            }
            // MLflow's Azure client reads its key from the env alone.
            StoreAccess::Azure(z) => match &z.key {
                Some(AzureKeyRef::AccountKey(r)) => {
                    env.push(EnvEntry::secret("AZURE_STORAGE_ACCESS_KEY", r.clone()));
                }
                Some(AzureKeyRef::ConnectionString(r)) => {
                    env.push(EnvEntry::secret(
                        "AZURE_STORAGE_CONNECTION_STRING",
                        r.clone(),
                    ));
                }
                None => {}
            },
        }
        env
    }

    /// What the cloud's identity reads on the ServiceAccount of a pod
    /// that reaches the store without keys.
    pub fn account_annotations(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        match self {
            StoreAccess::S3(s) => {
                if let Some(role) = &s.role_arn {
                    out.insert(AWS_ROLE.into(), role.clone());
                }
            }
            StoreAccess::Gcs(g) => {
                if let Some(sa) = &g.service_account {
                    out.insert(GCP_SERVICE_ACCOUNT.into(), sa.clone());
                }
            }
            StoreAccess::Azure(z) => {
                if let Some((client, tenant)) = &z.identity {
                    out.insert(AZURE_CLIENT_ID.into(), client.clone());
                    if let Some(t) = tenant {
                        out.insert(AZURE_TENANT_ID.into(), t.clone());
                    }
                }
            }
        }
        out
    }

    /// The node-local servers a client gets its cloud credentials from,
    /// where neither keys nor a token file give them: GKE's metadata
    /// server (Workload Identity, or the node's account), Azure's
    /// instance metadata (the node's managed identity, which the spec
    /// chose by naming neither), EKS Pod Identity's agent. Not EC2's
    /// instance metadata: the node's role is not the platform's.
    pub fn metadata_servers(&self) -> Vec<(Peer, u16)> {
        const IMDS: (Peer, u16) = (Peer::Block("169.254.169.254/32"), 80);
        match self {
            StoreAccess::Gcs(g) if g.key.is_none() => {
                vec![(Peer::Block("169.254.169.252/32"), 988), IMDS]
            }
            StoreAccess::Azure(z) if z.key.is_none() && z.identity.is_none() => vec![IMDS],
            StoreAccess::S3(s) if s.keys.is_none() && s.role_arn.is_none() => {
                vec![(Peer::Block("169.254.170.23/32"), 80)]
            }
            _ => Vec::new(),
        }
    }

    /// `own` with the labels a pod of the store's clients needs: Azure's
    /// webhook injects the identity only into pods labelled for it.
    pub fn pod_labels(&self, own: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut out = own.clone();
        if let StoreAccess::Azure(AzureAccess {
            identity: Some(_), ..
        }) = self
        {
            out.insert(AZURE_USE.into(), "true".into());
        }
        out
    }
}

/// Google Cloud Storage.
#[derive(Debug, Clone)]
pub struct GcsAccess {
    pub bucket: String,
    pub prefix: Option<String>,
    /// The service account key's JSON; none with Workload Identity.
    pub key: Option<SecretRef>,
    /// Its value, for the predictors' own credentials Secret.
    pub key_value: Option<SecretValue>,
    /// The Google service account of Workload Identity.
    pub service_account: Option<String>,
}

/// Azure Blob Storage.
#[derive(Debug, Clone)]
pub struct AzureAccess {
    pub account: String,
    pub container: String,
    pub prefix: Option<String>,
    /// The host suffix of the account's cloud.
    pub suffix: &'static str,
    /// The Blob service's URL: the cloud's, or a store's elsewhere.
    pub service_url: String,
    pub key: Option<AzureKeyRef>,
    /// The account key's value, for the predictors' own Secret.
    pub key_value: Option<SecretValue>,
    /// The account's name in a Secret, as CloudNativePG reads it.
    pub account_ref: Option<SecretRef>,
    /// Workload Identity's client ID and tenant.
    pub identity: Option<(String, Option<String>)>,
}

#[derive(Debug, Clone)]
pub enum AzureKeyRef {
    AccountKey(SecretRef),
    ConnectionString(SecretRef),
}

/// How a workload reaches an S3 store.
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
