//! PostgreSQL run by the CloudNativePG operator: a `Cluster` of a primary
//! and standbys, with failover, its own PodDisruptionBudgets and
//! restricted pods. mlk names the database and its owner; the operator
//! generates the owner's password into the `NAME-app` Secret.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    LocalObjectReference, NodeAffinity, PodAffinity, PodAntiAffinity, Toleration,
};
use serde::Serialize;

use super::component::Component;
use super::naming::{Labels, Naming};
use super::stores::S3Access;
use crate::spec::{Backup, CloudNativePg, Resources, SecretRef};
use crate::types::Subdomain;

/// The label the operator puts on every pod of a Cluster.
const CLUSTER_LABEL: &str = "cnpg.io/cluster";

/// What selects the Cluster's pods, instances and jobs alike.
pub fn pod_labels(cluster: &str) -> Labels {
    Labels::from([(CLUSTER_LABEL.to_owned(), cluster.to_owned())])
}

#[derive(Debug, Serialize)]
pub struct ClusterContext {
    pub name: String,
    pub labels: Labels,
    pub spec: serde_json::Value,
    pub scheduled_backup: Option<ScheduledBackup>,
}

#[derive(Debug, Serialize)]
pub struct ScheduledBackup {
    pub name: String,
    pub schedule: String,
}

/// The Cluster, and the primary's Service with the generated password.
pub struct Access {
    pub host: String,
    pub password: SecretRef,
}

/// The Cluster's `spec`, as the operator's CRD names its fields.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterSpec<'a> {
    instances: u32,
    image_name: &'a str,
    /// The operator restarts standbys first, then switches over.
    primary_update_strategy: &'static str,
    storage: Storage<'a>,
    resources: &'a Resources,
    bootstrap: Bootstrap<'a>,
    affinity: ClusterAffinity,
    #[serde(rename = "enablePDB")]
    enable_pdb: bool,
    inherited_metadata: InheritedMetadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    backup: Option<BackupSpec<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority_class_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_pull_secrets: Option<Vec<LocalObjectReference>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_account_template: Option<ServiceAccountTemplate>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Storage<'a> {
    size: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_class: Option<&'a str>,
}

#[derive(Serialize)]
struct Bootstrap<'a> {
    initdb: InitDb<'a>,
}

#[derive(Serialize)]
struct InitDb<'a> {
    database: &'a str,
    owner: &'a str,
}

/// The pod-wide scheduling as the Cluster takes it: pod affinities as
/// `additional*`, beside its own anti-affinity between instances.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterAffinity {
    enable_pod_anti_affinity: bool,
    topology_key: &'static str,
    pod_anti_affinity_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_selector: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tolerations: Option<Vec<Toleration>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_affinity: Option<NodeAffinity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_pod_affinity: Option<PodAffinity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_pod_anti_affinity: Option<PodAntiAffinity>,
}

#[derive(Serialize)]
struct InheritedMetadata {
    labels: Labels,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct ServiceAccountTemplate {
    metadata: AnnotationsOnly,
}

#[derive(Serialize)]
struct AnnotationsOnly {
    annotations: BTreeMap<String, String>,
}

/// WAL archiving and base backups with barman-cloud.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BackupSpec<'a> {
    retention_policy: &'a str,
    barman_object_store: BarmanObjectStore<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BarmanObjectStore<'a> {
    destination_path: String,
    s3_credentials: S3Credentials<'a>,
    wal: Compression,
    data: Compression,
    #[serde(rename = "endpointURL", skip_serializing_if = "Option::is_none")]
    endpoint_url: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase", untagged)]
enum S3Credentials<'a> {
    #[serde(rename_all = "camelCase")]
    Keys {
        access_key_id: KeyRef<'a>,
        secret_access_key: KeyRef<'a>,
    },
    Role {
        #[serde(rename = "inheritFromIAMRole")]
        inherit_from_iam_role: bool,
    },
}

#[derive(Serialize)]
struct KeyRef<'a> {
    name: &'a str,
    key: &'a str,
}

#[derive(Serialize)]
struct Compression {
    compression: &'static str,
}

pub fn build(n: &Naming, spec: &CloudNativePg, s3: &S3Access) -> (ClusterContext, Access) {
    let name = n.name(Component::Database);
    let labels = n.labels(Component::Database);
    let pods = n.pods(&spec.pods);
    let scheduling = pods.scheduling();
    let affinity = scheduling.affinity.unwrap_or_default();
    let cluster = ClusterSpec {
        instances: spec.instances.0,
        image_name: spec.image.as_str(),
        primary_update_strategy: "unsupervised",
        storage: Storage {
            size: spec.storage.size.to_string(),
            storage_class: spec.storage.class_name.as_ref().map(|c| c.as_str()),
        },
        resources: &spec.resources,
        bootstrap: Bootstrap {
            initdb: InitDb {
                database: spec.database.as_str(),
                owner: spec.user.as_str(),
            },
        },
        affinity: ClusterAffinity {
            enable_pod_anti_affinity: true,
            topology_key: "kubernetes.io/hostname",
            pod_anti_affinity_type: "required",
            node_selector: scheduling.node_selector,
            tolerations: scheduling.tolerations,
            node_affinity: affinity.node_affinity,
            additional_pod_affinity: affinity.pod_affinity,
            additional_pod_anti_affinity: affinity.pod_anti_affinity,
        },
        enable_pdb: true,
        inherited_metadata: InheritedMetadata {
            labels: pods.labels(&labels),
            annotations: pods.annotations(&BTreeMap::new()),
        },
        backup: spec.backup.as_ref().map(|b| backup(b, s3)),
        priority_class_name: scheduling.priority_class_name,
        image_pull_secrets: scheduling.image_pull_secrets,
        service_account_template: (!spec.service_account.annotations.is_empty()).then(|| {
            let annotations = spec.service_account.annotations_over(&Default::default());
            ServiceAccountTemplate {
                metadata: AnnotationsOnly { annotations },
            }
        }),
    };
    let scheduled_backup = spec.backup.as_ref().map(|b| ScheduledBackup {
        name: n.object("postgres-nightly"),
        schedule: b.schedule.clone(),
    });
    let secret = Subdomain::try_from(format!("{name}-app")).expect("derived from a valid name");
    let access = Access {
        host: n.fqdn(&format!("{name}-rw")),
        password: SecretRef::new(secret, "password"),
    };
    let ctx = ClusterContext {
        name,
        labels,
        // Through serde_json's sorted map: the Cluster has always been
        // written with its keys in order, at every level.
        spec: serde_json::to_value(cluster).expect("a Cluster spec serialises"),
        scheduled_backup,
    };
    (ctx, access)
}

/// WAL archiving and base backups with barman-cloud, into the artifact
/// store under `path`, with the credentials the tracking server uses, or
/// without keys the role of the instances' ServiceAccount
/// (`database.cloudnativepg.serviceAccount`).
fn backup<'a>(b: &'a Backup, s3: &'a S3Access) -> BackupSpec<'a> {
    let key_ref = |r: &'a SecretRef| KeyRef {
        name: r.name.as_str(),
        key: &r.key,
    };
    let s3_credentials = match &s3.keys {
        Some(k) => S3Credentials::Keys {
            access_key_id: key_ref(&k.access_key),
            secret_access_key: key_ref(&k.secret_key),
        },
        None => S3Credentials::Role {
            inherit_from_iam_role: true,
        },
    };
    BackupSpec {
        retention_policy: b.retention.as_str(),
        barman_object_store: BarmanObjectStore {
            destination_path: format!("s3://{}/{}", s3.bucket, b.path),
            s3_credentials,
            wal: Compression {
                compression: "gzip",
            },
            data: Compression {
                compression: "gzip",
            },
            endpoint_url: s3.endpoint.as_deref(),
        },
    }
}
