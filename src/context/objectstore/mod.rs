//! The artifact store, one provider for each kind of store. Each answers
//! the same questions for every consumer (the tracking server, gc, the
//! backups, the predictors, CloudNativePG's barman, the NetworkPolicies):
//! how to reach it and with which credentials, where KServe finds a
//! model, where its pods are on the network, and what the platform runs
//! of it. `provider` is the one place that looks at the kind of store.

mod azure;
mod elsewhere;
mod gcs;
mod iam;
mod minio;
mod s3;
mod seaweedfs;

use std::collections::BTreeMap;

pub use minio::MinioContext;
pub use seaweedfs::SeaweedfsContext;

use super::access::{S3Access, S3KeyRefs, StoreAccess};
use super::naming::Naming;
use super::network_policy::{Group, Path, Peer};
use super::secret::{SecretBinder, SecretObject};
use crate::resolve::{
    ArtifactsPlan, KSERVE_AZURE_KEY, KSERVE_GCS_KEY, SecretValue, StoreCredentials,
};
use crate::spec::{CaBundle, SecretRef};

/// Who reaches the artifact store: each with only the access it needs,
/// where the store can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumer {
    Tracking,
    Gc,
    Backup,
    Predictor,
}

impl Consumer {
    pub const ALL: [Consumer; 4] = [
        Consumer::Tracking,
        Consumer::Gc,
        Consumer::Backup,
        Consumer::Predictor,
    ];

    /// The name of its identity, in the store and in its Secret's name.
    pub fn name(self) -> &'static str {
        match self {
            Consumer::Tracking => "tracking",
            Consumer::Gc => "gc",
            Consumer::Backup => "backup",
            Consumer::Predictor => "predictor",
        }
    }
}

/// Where the store is on the network: what its clients connect to, and
/// the paths among its own pods.
pub struct Network {
    pub peer: Peer,
    pub port: u16,
    pub groups: Vec<Group>,
    pub paths: Vec<Path>,
    /// What a client reaches besides the store for its credentials: a
    /// node's metadata server, where the cloud's identity lives there.
    pub identity: Vec<(Peer, u16)>,
}

/// What the platform runs of a store itself, each for its template.
#[derive(Default)]
pub struct Objects {
    pub minio: Option<MinioContext>,
    pub seaweedfs: Option<SeaweedfsContext>,
}

/// A role and a database of a store's own in the platform's PostgreSQL,
/// which the database's provider creates (a SeaweedFS cluster's filers
/// keep their file tree there).
pub struct Tenant {
    pub role: String,
    pub database: String,
    /// The Secret with `username` (the role) and `password`.
    pub secret: String,
    /// The pods that connect.
    pub clients: Group,
}

/// KServe's storage initializer: the annotations it reads the store's
/// address from (on the credentials Secret, or on the ServiceAccount
/// when there are no keys), and that Secret.
#[derive(Default)]
pub struct Kserve {
    pub annotations: BTreeMap<String, String>,
    pub secret: Option<SecretObject>,
    /// The cloud identity the ServiceAccount names when there are no keys.
    pub identity: BTreeMap<String, String>,
    /// Labels the predictor pods need for that identity.
    pub pod_labels: BTreeMap<String, String>,
}

/// WAL archiving and base backups with barman-cloud, as a CloudNativePG
/// Cluster's `backup.barmanObjectStore` takes them.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Barman {
    destination_path: String,
    #[serde(flatten)]
    credentials: BarmanCloud,
    wal: Compression,
    data: Compression,
    #[serde(rename = "endpointURL", skip_serializing_if = "Option::is_none")]
    endpoint_url: Option<String>,
}

impl Barman {
    /// Into `destination`, gzipped, at the cloud's own endpoint.
    fn new(destination: String, credentials: BarmanCloud) -> Barman {
        Barman {
            destination_path: destination,
            credentials,
            wal: GZIP,
            data: GZIP,
            endpoint_url: None,
        }
    }
}

/// Each cloud's credentials, under the field barman-cloud reads them from.
#[derive(serde::Serialize)]
enum BarmanCloud {
    #[serde(rename = "s3Credentials")]
    S3(BarmanCredentials),
    #[serde(rename = "googleCredentials")]
    Google(gcs::BarmanGoogle),
    #[serde(rename = "azureCredentials")]
    Azure(azure::BarmanAzure),
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum BarmanCredentials {
    #[serde(rename_all = "camelCase")]
    Keys {
        access_key_id: KeyRef,
        secret_access_key: KeyRef,
    },
    Role {
        #[serde(rename = "inheritFromIAMRole")]
        inherit_from_iam_role: bool,
    },
}

#[derive(serde::Serialize)]
struct KeyRef {
    name: String,
    key: String,
}

impl KeyRef {
    fn of(r: &SecretRef) -> KeyRef {
        KeyRef {
            name: r.name.to_string(),
            key: r.key.clone(),
        }
    }
}

#[derive(serde::Serialize)]
struct Compression {
    compression: &'static str,
}

pub trait ObjectStore {
    /// How `who` reaches the store.
    fn access(&self, who: Consumer) -> StoreAccess;
    /// Secrets of credentials the store's own objects do not render.
    fn secrets(&self) -> Vec<SecretObject> {
        Vec::new()
    }
    /// Where the predictors' storage initializer finds the store: the
    /// predictors' access as KServe reads it; `ca`, the bundle their pods
    /// trust.
    fn kserve(&self, n: &Naming, ca: Option<&CaBundle>) -> Kserve {
        let access = self.access(Consumer::Predictor);
        let mut out = match &access {
            StoreAccess::S3(s3) => s3_kserve(n, s3, ca),
            StoreAccess::Gcs(g) => one_key(n, "serving-gcs", KSERVE_GCS_KEY, &g.key_value),
            StoreAccess::Azure(z) => {
                one_key(n, "serving-azure-blob", KSERVE_AZURE_KEY, &z.key_value)
            }
        };
        out.identity = access.account_annotations();
        out.pod_labels = access.pod_labels(&BTreeMap::new());
        out
    }
    /// Where a CloudNativePG Cluster archives, under `path`, with the
    /// backups' access.
    fn barman(&self, path: &str) -> Barman {
        match self.access(Consumer::Backup) {
            StoreAccess::S3(s3) => s3_barman(&s3, path),
            StoreAccess::Gcs(g) => {
                Barman::new(format!("gs://{}/{path}", g.bucket), gcs::barman(&g))
            }
            StoreAccess::Azure(z) => Barman::new(
                format!("{}/{}/{path}", z.service_url, z.container),
                azure::barman(&z),
            ),
        }
    }
    fn network(&self, n: &Naming) -> Network;
    /// A database the store keeps in the platform's PostgreSQL.
    fn tenant(&self) -> Option<&Tenant> {
        None
    }
    /// An object, in the artifacts' bucket, that the tracking server
    /// waits for before it starts: the store is not whole until then.
    fn ready_object(&self) -> Option<&'static str> {
        None
    }
    /// What the platform runs of the store, for the templates.
    fn objects(self: Box<Self>) -> Objects;
}

/// The provider of the store the plan names. `tools` is the image of the
/// platform's own Python clients (the tracking server's); `db`, the
/// PostgreSQL (host and port) that can hold a store's own database
/// (`Tenant`).
pub fn provider(
    n: &Naming,
    plan: &ArtifactsPlan,
    tools: &str,
    db: Option<(&str, u16)>,
) -> Box<dyn ObjectStore> {
    match plan {
        ArtifactsPlan::Embedded(store) => match &store.credentials {
            StoreCredentials::Root {
                user,
                password,
                users,
            } => Box::new(minio::Minio::new(n, store, user, password, users)),
            StoreCredentials::Identities(ids) => {
                Box::new(seaweedfs::Seaweedfs::new(n, store, ids, tools, db))
            }
        },
        ArtifactsPlan::External(plan) => Box::new(s3::store(n, plan)),
        ArtifactsPlan::Gcs(plan) => Box::new(gcs::store(n, plan)),
        ArtifactsPlan::Azure(plan) => Box::new(azure::store(n, plan)),
    }
}

const GZIP: Compression = Compression {
    compression: "gzip",
};

/// `access`, on another bucket (the backups'), or as it is.
fn on_bucket(access: &S3Access, bucket: Option<&crate::types::BucketName>) -> S3Access {
    let mut out = access.clone();
    if let Some(b) = bucket {
        out.bucket = b.to_string();
    }
    out
}

/// What KServe reads for any store that speaks S3: the endpoint, TLS and
/// region as `serving.kserve.io/s3-*` annotations, and the keys, when
/// there are any, in a Secret of the predictors' own under both names
/// the storage initializer may read them by.
fn s3_kserve(n: &Naming, s3: &S3Access, ca: Option<&CaBundle>) -> Kserve {
    let kserve = |k: &str| format!("serving.kserve.io/{k}");
    let mut annotations = BTreeMap::new();
    if let Some(endpoint) = &s3.authority {
        annotations.insert(kserve("s3-endpoint"), endpoint.clone());
    }
    let flag = |on: bool| if on { "1" } else { "0" }.to_owned();
    annotations.insert(kserve("s3-usehttps"), flag(s3.https));
    annotations.insert(kserve("s3-verifyssl"), flag(s3.https));
    annotations.insert(kserve("s3-region"), s3.region.clone());
    // KServe mounts the ConfigMap at the file's folder in the storage
    // initializer and points AWS_CA_BUNDLE at the file
    // (storage_initializer_injector.go); it takes no Secret.
    if let Some(k) = ca.and_then(|c| c.config_map.as_ref()) {
        annotations.insert(kserve("s3-cabundle-configmap"), k.name.to_string());
        annotations.insert(
            kserve("s3-cabundle"),
            format!("/etc/ssl/custom-certs/{}", k.key),
        );
    }
    let secret = s3.key_values.as_ref().and_then(|(user, password)| {
        let mut binder = SecretBinder::new(n.object("serving-s3"));
        for key in ["AWS_ACCESS_KEY_ID", "awsAccessKeyID"] {
            binder.bind(key, user);
        }
        for key in ["AWS_SECRET_ACCESS_KEY", "awsSecretAccessKey"] {
            binder.bind(key, password);
        }
        let mut secret_annotations = n.annotations();
        secret_annotations.extend(annotations.clone());
        binder.finish().map(|s| SecretObject {
            annotations: Some(secret_annotations),
            ..s
        })
    });
    Kserve {
        annotations,
        secret,
        identity: BTreeMap::new(),
        pod_labels: BTreeMap::new(),
    }
}

/// The predictors' Secret of one key, under the name KServe reads it by,
/// for a store whose client takes one credential; none without a key.
fn one_key(n: &Naming, suffix: &str, key: &str, value: &Option<SecretValue>) -> Kserve {
    let secret = value.as_ref().and_then(|v| {
        let mut binder = SecretBinder::new(n.object(suffix));
        binder.bind(key, v);
        binder.finish()
    });
    Kserve {
        secret,
        ..Kserve::default()
    }
}

/// barman-cloud into an S3 bucket under `path`, with the keys, or without
/// them the role of the instances' ServiceAccount
/// (`database.cloudnativepg.serviceAccount`).
fn s3_barman(s3: &S3Access, path: &str) -> Barman {
    let credentials = match &s3.keys {
        Some(S3KeyRefs {
            access_key,
            secret_key,
        }) => BarmanCredentials::Keys {
            access_key_id: KeyRef::of(access_key),
            secret_access_key: KeyRef::of(secret_key),
        },
        None => BarmanCredentials::Role {
            inherit_from_iam_role: true,
        },
    };
    Barman {
        endpoint_url: s3.endpoint.clone(),
        ..Barman::new(
            format!("s3://{}/{path}", s3.bucket),
            BarmanCloud::S3(credentials),
        )
    }
}

/// A versioned bucket's lifecycle, as S3's API names it (and `mc ilm rule
/// import` takes it): noncurrent versions expire after `days`. Importing replaces
/// the whole configuration, so a re-run never adds a second rule.
pub fn lifecycle(days: u32) -> String {
    serde_json::json!({
        "Rules": [{
            "ID": "mlk-noncurrent-versions",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": days},
        }]
    })
    .to_string()
}
