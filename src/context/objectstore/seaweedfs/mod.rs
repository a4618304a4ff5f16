//! SeaweedFS, the embedded artifact store by default: one process (master,
//! volume server, filer and S3 gateway) on one volume (see `single`), or
//! a cluster of each (see `cluster`).
//! Every consumer logs in as an identity of its own, with only the actions
//! it needs (see `identities`); a setup Job alone holds admin, and creates
//! the buckets.

mod cluster;
mod identities;
mod migrate;
mod setup;
mod single;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ContainerPort, EnvVar, HTTPGetAction, KeyToPath, Probe, SecretVolumeSource, ServicePort,
    ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::super::access::{S3Access, StoreAccess};
use super::super::availability;
use super::super::component::Component;
use super::super::naming::{Labels, Naming};
use super::super::network_policy::{Group, Path, Peer};
use super::super::secret::{SecretBinder, SecretObject};
use super::super::subtree::Subtree;
use super::super::workload::build::{self, Mounted};
use super::minio::Minio;
use super::{Consumer, Network, ObjectStore, Objects, Tenant};
use crate::resolve::{EmbeddedStore, Identity, SecretValue, StoreCredentials};
use crate::sensitive::Sensitive;
pub use cluster::ConfigFile;

/// The S3 API, the one port clients use.
pub const S3_PORT: u16 = 8333;
const MASTER_PORT: u16 = 9333;
const VOLUME_PORT: u16 = 8080;
const FILER_PORT: u16 = 8888;
/// SeaweedFS's image runs as root unless told; any user works, its
/// writes go to its volume and /tmp.
const UID: i64 = 1000;
/// Where the identities file is mounted, and a filer's filer.toml.
const CONFIG_DIR: &str = "/etc/seaweedfs";
/// The data volume's mount.
const DATA: &str = "/data";

const fn part(role: &'static str, suffix: &'static str) -> Component {
    Component::Part {
        app: "seaweedfs",
        role,
        suffix,
    }
}

/// What clients connect to: the one server, or the S3 gateways.
const SERVER: Component = part("artifacts", "seaweedfs");
const SETUP: Component = part("bucket-setup", "bucket-setup");

/// The objects the template places, each built whole here.
#[derive(Debug, Serialize)]
pub struct SeaweedfsContext {
    pub labels: Labels,
    pub secrets: Vec<SecretObject>,
    pub config_maps: Vec<ConfigFile>,
    pub services: Vec<Object>,
    pub workloads: Vec<Object>,
    pub budgets: Vec<Object>,
    pub setup: Object,
    /// The setup Job's ServiceAccount, when the spec annotates it.
    pub setup_account: Option<(String, BTreeMap<String, String>)>,
    /// With `migrateFrom`, the Job that copies the old MinIO's objects.
    pub copy: Option<Object>,
}

/// One object: its kind, name, labels and spec.
#[derive(Debug, Serialize)]
pub struct Object {
    pub kind: &'static str,
    pub api_version: &'static str,
    pub name: String,
    pub labels: Labels,
    pub spec: Subtree,
}

pub struct Seaweedfs {
    ctx: SeaweedfsContext,
    access: BTreeMap<&'static str, S3Access>,
    /// The pods clients connect to.
    entry: Group,
    /// Besides clients: the store's own pods and what reaches them.
    groups: Vec<Group>,
    paths: Vec<Path>,
    tenant: Option<Tenant>,
    /// The MinIO this store replaces, which runs until its objects are
    /// copied (`migrateFrom`).
    source: Option<Minio>,
}

impl Seaweedfs {
    /// `db`: where a cluster's filers keep their file tree (`host`, `port`).
    pub fn new(
        n: &Naming,
        store: &EmbeddedStore,
        ids: &[Identity],
        tools: &str,
        db: Option<(&str, u16)>,
    ) -> Self {
        let spec = &store.spec;
        let name = n.name(SERVER);
        let artifacts = spec.bucket.as_str();
        let backups = store.backups.as_ref().map(|b| b.as_str());
        let ids = identities::build(n, &format!("{name}-identities"), ids, artifacts, backups);
        let endpoint = format!("http://{}:{S3_PORT}", n.fqdn(&name));
        let access = ids
            .keys
            .iter()
            .map(|(who, (refs, values))| {
                let bucket = match *who {
                    "backup" => backups.unwrap_or(artifacts),
                    _ => artifacts,
                };
                let access = S3Access {
                    endpoint: Some(endpoint.clone()),
                    bucket: bucket.to_owned(),
                    region: "us-east-1".into(),
                    keys: Some(refs.clone()),
                    role_arn: None,
                    authority: Some(format!("{}:{S3_PORT}", n.fqdn(&name))),
                    https: false,
                    key_values: Some(values.clone()),
                };
                (*who, access)
            })
            .collect::<BTreeMap<_, _>>();
        let mut secrets = vec![ids.file.clone()];
        secrets.extend(ids.secrets.iter().cloned());
        let config = config_volume(&ids.file.name);
        let mut config_maps = Vec::new();
        let mut tenant = None;
        let servers = match (&store.filer_password, db) {
            (Some(password), Some((host, port))) => {
                let shape = spec.cluster.clone().unwrap_or_default();
                let role = filer_role(n, password);
                let db = cluster::FilerDb {
                    host,
                    port,
                    secret: &role.name,
                };
                let built = cluster::build(n, spec, &shape, &config, &db);
                secrets.push(role);
                config_maps.push(built.config);
                tenant = Some(built.tenant);
                built.servers
            }
            // One process: resolve gives a filer password only to a
            // cluster, on a database that can hold its tree.
            _ => single::build(n, spec, &config),
        };
        let setup_access = &access["setup"];
        let setup = setup::build(n, store, setup_access, tools);
        let mut groups = servers.groups;
        groups.push(setup.group.clone());
        let mut paths = servers.paths;
        paths.push(Path::new(
            &Peer::Group(setup.group.clone()),
            &Peer::Group(servers.entry.clone()),
            &[S3_PORT],
        ));
        let source = store
            .migrate_from
            .as_deref()
            .and_then(|old| match &old.credentials {
                StoreCredentials::Root { user, password, .. } => {
                    Some(Minio::new(n, old, user, password, &[]))
                }
                StoreCredentials::Identities(_) => None,
            });
        let copy = source.as_ref().map(|minio| {
            let copy = migrate::build(n, store, minio.root(), &access["migrate"], tools);
            let copier = Peer::Group(copy.group.clone());
            let old = minio.network(n);
            paths.push(Path::new(
                &copier,
                &Peer::Group(servers.entry.clone()),
                &[S3_PORT],
            ));
            paths.push(Path::new(&copier, &old.peer, &[old.port]));
            paths.extend(old.paths);
            groups.push(copy.group);
            groups.extend(old.groups);
            copy.job
        });
        let ctx = SeaweedfsContext {
            labels: n.labels(SERVER),
            secrets,
            config_maps,
            services: servers.services,
            workloads: servers.workloads,
            budgets: servers.budgets,
            setup: setup.job,
            setup_account: setup.account,
            copy,
        };
        Seaweedfs {
            ctx,
            access,
            entry: servers.entry,
            groups,
            paths,
            tenant,
            source,
        }
    }
}

/// The filers' role in the platform's PostgreSQL, as CloudNativePG reads
/// a managed role's Secret: `username` and `password`.
fn filer_role(n: &Naming, password: &SecretValue) -> SecretObject {
    let mut binder = SecretBinder::new(n.object("seaweedfs-filer-db"));
    let user = Sensitive::not_secret(cluster::FILER_DB.to_owned());
    binder.bind("username", &SecretValue::Value(user));
    binder.bind("password", password);
    let secret = binder.finish().unwrap_or_default();
    SecretObject {
        kind: "kubernetes.io/basic-auth",
        ..secret
    }
}

impl ObjectStore for Seaweedfs {
    fn access(&self, who: Consumer) -> StoreAccess {
        let name = who.name();
        // Without backups the backup identity has no actions and no keys;
        // nothing asks for it then.
        let s3 = self.access.get(name).unwrap_or(&self.access["tracking"]);
        StoreAccess::S3(s3.clone())
    }

    /// The identities file and each identity's keys are the store's own.
    fn network(&self, _: &Naming) -> Network {
        Network {
            peer: Peer::Group(self.entry.clone()),
            port: S3_PORT,
            groups: self.groups.clone(),
            paths: self
                .paths
                .iter()
                .map(|p| Path::new(&p.from, &p.to, &p.ports))
                .collect(),
            identity: Vec::new(),
        }
    }

    fn tenant(&self) -> Option<&Tenant> {
        self.tenant.as_ref()
    }

    /// While MinIO's objects are copied in, the marker the copy writes
    /// last: until then the store lacks what the platform logged.
    fn ready_object(&self) -> Option<&'static str> {
        self.source.as_ref().map(|_| migrate::MARKER)
    }

    fn objects(self: Box<Self>) -> Objects {
        let this = *self;
        Objects {
            minio: this.source.and_then(|m| Box::new(m).objects().minio),
            seaweedfs: Some(this.ctx),
        }
    }
}

/// What the servers render: their Services, workloads and budgets, the
/// pods clients connect to, and the paths among its own pods.
#[derive(Default)]
pub struct Servers {
    pub services: Vec<Object>,
    pub workloads: Vec<Object>,
    pub budgets: Vec<Object>,
    pub entry: Group,
    pub groups: Vec<Group>,
    pub paths: Vec<Path>,
}

impl Servers {
    /// A workload of `kind` and its Service, named and labelled alike;
    /// with `budget`, a PodDisruptionBudget over the pods it picks.
    fn add(
        &mut self,
        (name, labels): (&str, &Labels),
        service: &ServiceSpec,
        (kind, workload): (&'static str, Subtree),
        budget: Option<&Labels>,
    ) {
        let object = |kind, api_version, spec| Object {
            kind,
            api_version,
            name: name.to_owned(),
            labels: labels.clone(),
            spec,
        };
        self.services
            .push(object("Service", "v1", Subtree::new(service)));
        self.workloads.push(object(kind, "apps/v1", workload));
        if let Some(pods) = budget {
            let spec = Subtree::new(&availability::disruption_budget(pods));
            self.budgets
                .push(object("PodDisruptionBudget", "policy/v1", spec));
        }
    }
}

/// Programs that look for files under HOME find the writable /tmp.
fn home() -> EnvVar {
    EnvVar {
        name: "HOME".into(),
        value: Some(build::TMP.into()),
        ..EnvVar::default()
    }
}

fn match_labels(selector: &Labels) -> LabelSelector {
    LabelSelector {
        match_labels: Some(selector.clone()),
        match_expressions: None,
    }
}

/// The S3 Service every client uses, on the pods that serve S3.
fn s3_service(selector: &Labels) -> ServiceSpec {
    ServiceSpec {
        selector: Some(selector.clone()),
        ports: Some(vec![ServicePort {
            name: Some("s3".into()),
            port: i32::from(S3_PORT),
            target_port: Some(IntOrString::String("s3".into())),
            ..ServicePort::default()
        }]),
        ..ServiceSpec::default()
    }
}

/// The identities file, mounted read-only where `-s3.config` names it.
fn config_volume(secret: &str) -> Mounted {
    Mounted {
        volume: Volume {
            name: "config".into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret.into()),
                default_mode: Some(0o440),
                items: Some(vec![KeyToPath {
                    key: "s3.json".into(),
                    path: "s3.json".into(),
                    ..KeyToPath::default()
                }]),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        },
        mount: VolumeMount {
            name: "config".into(),
            mount_path: CONFIG_DIR.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        },
    }
}

/// The S3 gateway's flags, under `prefix` (`-s3.` inside `weed mini`,
/// `-` for `weed s3`): its port, the identities file `config_volume`
/// mounts, and none of the other APIs it could serve.
fn gateway_flags(prefix: &str) -> [String; 4] {
    [
        format!("{prefix}port={S3_PORT}"),
        format!("{prefix}config={CONFIG_DIR}/s3.json"),
        format!("{prefix}port.iceberg=0"),
        format!("{prefix}port.lance=0"),
    ]
}

fn port(name: &str, number: u16) -> ContainerPort {
    ContainerPort {
        name: Some(name.into()),
        container_port: i32::from(number),
        ..ContainerPort::default()
    }
}

/// An HTTP probe on a named port.
fn probe(path: &str, port: &str, period: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String(port.into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

/// `-logtostderr`: logs go to the container's log, not to files in /tmp
/// that would grow without end.
fn weed(args: Vec<String>) -> (Vec<String>, Vec<String>) {
    let mut all = vec!["-logtostderr".to_owned()];
    all.extend(args);
    (vec!["weed".to_owned()], all)
}
