//! PostgreSQL run by the CloudNativePG operator: a `Cluster` of a primary
//! and standbys, with failover, its own PodDisruptionBudgets and
//! restricted pods. mlk names the database and its owner; the operator
//! generates the owner's password into the `NAME-app` Secret.

use super::component::Component;
use serde::Serialize;
use serde_json::json;

use super::naming::{Labels, Naming};
use super::pod::PodSettings;
use super::stores::S3Access;
use crate::spec::{Backup, CloudNativePg, SecretRef};
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

pub fn build(n: &Naming, spec: &CloudNativePg, s3: &S3Access) -> (ClusterContext, Access) {
    let name = n.name(Component::Database);
    let labels = n.labels(Component::Database);
    let mut cluster = json!({
        "instances": spec.instances.0,
        "imageName": spec.image.as_str(),
        // The operator restarts standbys first, then switches over.
        "primaryUpdateStrategy": "unsupervised",
        "storage": storage(spec),
        "resources": spec.resources,
        "bootstrap": {"initdb": {
            "database": spec.database.as_str(),
            "owner": spec.user.as_str(),
        }},
        "affinity": {
            "enablePodAntiAffinity": true,
            "topologyKey": "kubernetes.io/hostname",
            "podAntiAffinityType": "required",
        },
        "enablePDB": true,
        "inheritedMetadata": {"labels": labels},
    });
    if let Some(b) = &spec.backup {
        cluster["backup"] = backup(b, s3);
    }
    place(&mut cluster, &n.pods(&spec.pods), &labels);
    if !spec.service_account.annotations.is_empty() {
        let annotations = spec.service_account.annotations_over(&Default::default());
        cluster["serviceAccountTemplate"] = json!({"metadata": {"annotations": annotations}});
    }
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
        spec: cluster,
        scheduled_backup,
    };
    (ctx, access)
}

/// The pod-wide settings as the Cluster takes them: scheduling under its
/// own `affinity` (pod affinities as `additional*`, beside its
/// anti-affinity between instances), and metadata as `inheritedMetadata`.
fn place(cluster: &mut serde_json::Value, pods: &PodSettings, labels: &Labels) {
    let s = pods.scheduling();
    let affinity = &mut cluster["affinity"];
    if let Some(selector) = s.node_selector {
        affinity["nodeSelector"] = json!(selector);
    }
    if let Some(tolerations) = s.tolerations {
        affinity["tolerations"] = json!(tolerations);
    }
    if let Some(a) = s.affinity {
        let mut set = |key: &str, v: serde_json::Value| {
            if !v.is_null() {
                affinity[key] = v;
            }
        };
        set("nodeAffinity", json!(a.node_affinity));
        set("additionalPodAffinity", json!(a.pod_affinity));
        set("additionalPodAntiAffinity", json!(a.pod_anti_affinity));
    }
    if let Some(class) = s.priority_class_name {
        cluster["priorityClassName"] = json!(class);
    }
    if let Some(secrets) = s.image_pull_secrets {
        cluster["imagePullSecrets"] = json!(secrets);
    }
    let no_annotations = std::collections::BTreeMap::new();
    cluster["inheritedMetadata"]["labels"] = json!(pods.labels(labels));
    let annotations = pods.annotations(&no_annotations);
    if !annotations.is_empty() {
        cluster["inheritedMetadata"]["annotations"] = json!(annotations);
    }
}

fn storage(spec: &CloudNativePg) -> serde_json::Value {
    let mut storage = json!({"size": spec.storage.size.to_string()});
    if let Some(class) = &spec.storage.class_name {
        storage["storageClass"] = json!(class.as_str());
    }
    storage
}

/// WAL archiving and base backups with barman-cloud, into the artifact
/// store under `path`, with the credentials the tracking server uses, or
/// without keys the role of the instances' ServiceAccount
/// (`database.cloudnativepg.serviceAccount`).
fn backup(b: &Backup, s3: &S3Access) -> serde_json::Value {
    let key_ref = |r: &SecretRef| json!({"name": r.name.as_str(), "key": r.key});
    let credentials = match &s3.keys {
        Some(k) => json!({
            "accessKeyId": key_ref(&k.access_key),
            "secretAccessKey": key_ref(&k.secret_key),
        }),
        None => json!({"inheritFromIAMRole": true}),
    };
    let mut store = json!({
        "destinationPath": format!("s3://{}/{}", s3.bucket, b.path),
        "s3Credentials": credentials,
        "wal": {"compression": "gzip"},
        "data": {"compression": "gzip"},
    });
    if let Some(endpoint) = &s3.endpoint {
        store["endpointURL"] = json!(endpoint);
    }
    json!({"retentionPolicy": b.retention.as_str(), "barmanObjectStore": store})
}
