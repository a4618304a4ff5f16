//! The artifact store, one provider for each kind of store. Each answers
//! the same questions for every consumer (the tracking server, gc, the
//! backups, the predictors, CloudNativePG's barman, the NetworkPolicies):
//! how to reach it and with which credentials, where KServe finds a
//! model, where its pods are on the network, and what the platform runs
//! of it. `provider` is the one place that looks at the kind of store.

mod iam;
mod minio;
mod s3;
mod seaweedfs;

use std::collections::BTreeMap;

pub use minio::MinioContext;
pub use seaweedfs::SeaweedfsContext;

use super::access::{S3Access, S3KeyRefs};
use super::naming::Naming;
use super::network_policy::{Group, Path, Peer};
use super::secret::{SecretBinder, SecretObject};
use crate::resolve::{ArtifactsPlan, StoreCredentials};
use crate::spec::SecretRef;

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
pub struct Kserve {
    pub annotations: BTreeMap<String, String>,
    pub secret: Option<SecretObject>,
}

/// WAL archiving and base backups with barman-cloud, as a CloudNativePG
/// Cluster's `backup.barmanObjectStore` takes them.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Barman {
    destination_path: String,
    s3_credentials: BarmanCredentials,
    wal: Compression,
    data: Compression,
    #[serde(rename = "endpointURL", skip_serializing_if = "Option::is_none")]
    endpoint_url: Option<String>,
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

#[derive(serde::Serialize)]
struct Compression {
    compression: &'static str,
}

pub trait ObjectStore {
    /// How `who` reaches the store.
    fn access(&self, who: Consumer) -> &S3Access;
    /// Secrets of credentials the store's own objects do not render.
    fn secrets(&self) -> Vec<SecretObject> {
        Vec::new()
    }
    /// Where the predictors' storage initializer finds the store: for a
    /// store that speaks S3, the predictors' access as KServe reads it.
    fn kserve(&self, n: &Naming) -> Kserve {
        s3_kserve(n, self.access(Consumer::Predictor))
    }
    /// Where a CloudNativePG Cluster archives, under `path`: for a store
    /// that speaks S3, with the backups' access.
    fn barman(&self, path: &str) -> Barman {
        s3_barman(self.access(Consumer::Backup), path)
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
        ArtifactsPlan::External(plan) => Box::new(s3::S3::new(n, plan)),
    }
}

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
fn s3_kserve(n: &Naming, s3: &S3Access) -> Kserve {
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
    let ca = n.pod_defaults().ca_bundle.as_ref();
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
    }
}

/// barman-cloud into an S3 bucket under `path`, with the keys, or without
/// them the role of the instances' ServiceAccount
/// (`database.cloudnativepg.serviceAccount`).
fn s3_barman(s3: &S3Access, path: &str) -> Barman {
    let key_ref = |r: &SecretRef| KeyRef {
        name: r.name.to_string(),
        key: r.key.clone(),
    };
    let s3_credentials = match &s3.keys {
        Some(S3KeyRefs {
            access_key,
            secret_key,
        }) => BarmanCredentials::Keys {
            access_key_id: key_ref(access_key),
            secret_access_key: key_ref(secret_key),
        },
        None => BarmanCredentials::Role {
            inherit_from_iam_role: true,
        },
    };
    Barman {
        destination_path: format!("s3://{}/{path}", s3.bucket),
        s3_credentials,
        wal: Compression {
            compression: "gzip",
        },
        data: Compression {
            compression: "gzip",
        },
        endpoint_url: s3.endpoint.clone(),
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
