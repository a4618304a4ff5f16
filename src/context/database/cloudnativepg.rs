//! PostgreSQL run by the CloudNativePG operator: a `Cluster` of a primary
//! and standbys, with failover, its own PodDisruptionBudgets and
//! restricted pods. mlk names the database and its owner; the operator
//! generates the owner's password into the `NAME-app` Secret.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    LocalObjectReference, NodeAffinity, PodAffinity, PodAntiAffinity, Toleration,
};
use serde::Serialize;

use super::super::access::DbAccess;
use super::super::component::Component;
use super::super::naming::{Labels, Naming};
use super::super::network_policy::{Group, Path, Peer};
use super::super::objectstore::{self, Barman, ObjectStore};
use super::super::secret::SecretObject;
use super::{Database, Dump, Network, Objects, PORT, clients_to};
use crate::spec::{CloudNativePg, NetworkPolicy, Resources, SecretRef};
use crate::types::Subdomain;

/// The instance manager's status port, which the operator and the other
/// instances call.
const STATUS_PORT: u16 = 8000;
/// The API server, as pods reach it through the `kubernetes` Service or
/// directly: its port differs between distributions.
const API_SERVER_PORTS: [u16; 2] = [443, 6443];

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
    /// Databases of the store's own, each a `Database` the operator
    /// creates in the Cluster.
    pub databases: Vec<DatabaseObject>,
}

/// A `postgresql.cnpg.io/v1` Database, which outlives its object
/// (`retain`): the object's name, and the database's.
#[derive(Debug, Serialize)]
pub struct DatabaseObject {
    pub object: String,
    pub name: String,
    pub owner: String,
}

/// The primary's Service: what every client connects to.
pub fn primary_host(n: &Naming) -> String {
    n.fqdn(&format!("{}-rw", n.name(Component::Database)))
}

#[derive(Debug, Serialize)]
pub struct ScheduledBackup {
    pub name: String,
    pub schedule: String,
}

/// The primary's Service, and the password the operator generates.
struct Access {
    host: String,
    password: SecretRef,
}

/// The Cluster's `spec`, as the operator's CRD names its fields.
/// `spec.postgresql`: the server's settings the operator writes.
#[derive(Serialize)]
struct PostgresConfiguration {
    parameters: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterSpec<'a> {
    instances: u32,
    image_name: &'a str,
    /// The operator restarts standbys first, then switches over.
    primary_update_strategy: &'static str,
    storage: Storage<'a>,
    resources: &'a Resources,
    ephemeral_volumes_size_limit: EphemeralVolumes,
    postgresql: PostgresConfiguration,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    managed: Option<Managed>,
}

/// The emptyDirs CloudNativePG mounts in its instances: `/dev/shm` sized
/// as the embedded server's, and its scratch folder as every pod's /tmp.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EphemeralVolumes {
    shm: String,
    temporary_data: &'static str,
}

/// Roles the operator keeps as declared, beside the owner it bootstraps.
#[derive(Serialize)]
struct Managed {
    roles: Vec<ManagedRole>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManagedRole {
    name: String,
    ensure: &'static str,
    login: bool,
    /// A Secret with `username` (the role's name) and `password`.
    password_secret: SecretName,
}

#[derive(Serialize)]
struct SecretName {
    name: String,
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
    barman_object_store: Barman,
}

/// The provider.
pub struct Cnpg {
    ctx: ClusterContext,
    access: DbAccess,
    backup: bool,
}

impl Cnpg {
    pub fn new(
        n: &Naming,
        spec: &CloudNativePg,
        store: &dyn ObjectStore,
        max_connections: u64,
    ) -> Self {
        let (ctx, access) = build(n, spec, store, max_connections);
        let uri = super::uri(
            spec.user.as_str(),
            &access.host,
            PORT,
            spec.database.as_str(),
            None,
        );
        Cnpg {
            ctx,
            access: DbAccess {
                uri,
                password: access.password,
                ca: None,
            },
            backup: spec.backup.is_some(),
        }
    }
}

impl Database for Cnpg {
    fn access(&self) -> &DbAccess {
        &self.access
    }

    fn secrets(&self) -> Vec<SecretObject> {
        Vec::new()
    }

    /// The operator backs the Cluster up itself.
    fn dump(&self) -> Option<Dump<'_>> {
        None
    }

    /// Clients to the primary; the instances to each other, the operator
    /// to them, they to the API server, and to the store they archive in.
    fn network(
        &self,
        _: &Naming,
        np: &NetworkPolicy,
        clients: &[Peer],
        s3: &objectstore::Network,
    ) -> Network {
        let group = Group {
            name: "postgres".into(),
            pods: pod_labels(&self.ctx.name),
        };
        let pg = Peer::Group(group.clone());
        let mut paths = clients_to(clients, &pg, PORT);
        paths.push(Path::new(&pg, &pg, &[PORT, STATUS_PORT]));
        let operator = Peer::Namespaces(np.cloudnativepg_namespaces.clone());
        paths.push(Path::new(&operator, &pg, &[STATUS_PORT]));
        paths.push(Path::new(&pg, &Peer::Anywhere, &API_SERVER_PORTS));
        if self.backup {
            paths.push(Path::new(&pg, &s3.peer, &[s3.port]));
            for (server, port) in &s3.identity {
                paths.push(Path::new(&pg, server, &[*port]));
            }
        }
        Network {
            groups: vec![group],
            paths,
        }
    }

    fn objects(self: Box<Self>) -> Objects {
        Objects {
            postgres: None,
            cloudnativepg: Some(self.ctx),
        }
    }
}

fn build(
    n: &Naming,
    spec: &CloudNativePg,
    store: &dyn ObjectStore,
    max_connections: u64,
) -> (ClusterContext, Access) {
    let name = n.name(Component::Database);
    let labels = n.labels(Component::Database);
    let pods = n.pods(&spec.pods);
    let scheduling = pods.scheduling();
    // Archiving without keys takes the store's cloud identity, which the
    // instances' ServiceAccount and pods carry.
    let archive = spec
        .backup
        .as_ref()
        .map(|_| store.access(objectstore::Consumer::Backup));
    let identity = archive
        .as_ref()
        .map(|a| a.account_annotations())
        .unwrap_or_default();
    let instance_labels = match &archive {
        Some(a) => a.pod_labels(&labels),
        None => labels.clone(),
    };
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
        ephemeral_volumes_size_limit: EphemeralVolumes {
            shm: super::embedded::shm_size(&spec.resources),
            temporary_data: crate::context::workload::build::TMP_SIZE,
        },
        postgresql: PostgresConfiguration {
            parameters: BTreeMap::from([("max_connections", max_connections.to_string())]),
        },
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
        // One instance under a PDB that keeps its primary up blocks every
        // node drain; with more, a drain moves one at a time.
        enable_pdb: spec.instances.0 > 1,
        inherited_metadata: InheritedMetadata {
            labels: pods.labels(&instance_labels),
            annotations: pods.annotations(&BTreeMap::new()),
        },
        backup: spec.backup.as_ref().map(|b| BackupSpec {
            retention_policy: b.retention.as_str(),
            barman_object_store: store.barman(b.path.as_str()),
        }),
        priority_class_name: scheduling.priority_class_name,
        image_pull_secrets: scheduling.image_pull_secrets,
        managed: None,
        service_account_template: {
            let mut annotations = spec.service_account.annotations_over(&Default::default());
            annotations.extend(identity);
            (!annotations.is_empty()).then_some(ServiceAccountTemplate {
                metadata: AnnotationsOnly { annotations },
            })
        },
    };
    let tenant = store.tenant();
    let cluster = ClusterSpec {
        managed: tenant.map(|t| Managed {
            roles: vec![ManagedRole {
                name: t.role.clone(),
                ensure: "present",
                login: true,
                password_secret: SecretName {
                    name: t.secret.clone(),
                },
            }],
        }),
        ..cluster
    };
    let databases = tenant
        .map(|t| DatabaseObject {
            object: format!("{}-{}", n.name(Component::Database), t.database),
            name: t.database.clone(),
            owner: t.role.clone(),
        })
        .into_iter()
        .collect();
    let scheduled_backup = spec.backup.as_ref().map(|b| ScheduledBackup {
        name: n.object("postgres-nightly"),
        schedule: b.schedule.clone(),
    });
    let secret = Subdomain::try_from(format!("{name}-app")).expect("derived from a valid name");
    let access = Access {
        host: primary_host(n),
        password: SecretRef::new(secret, "password"),
    };
    let ctx = ClusterContext {
        name,
        labels,
        // Through serde_json's sorted map: the Cluster has always been
        // written with its keys in order, at every level.
        spec: serde_json::to_value(cluster).expect("a Cluster spec serialises"),
        scheduled_backup,
        databases,
    };
    (ctx, access)
}
