//! SeaweedFS as a cluster, for stores that must survive a lost node:
//! masters that agree through raft, volume servers that keep each file
//! on two of them (`-defaultReplication=001`: one more copy on another
//! server, and the servers spread one per node), filers whose file tree
//! lives in the platform's PostgreSQL, and stateless S3 gateways behind
//! the one Service clients use. Every part is spread across nodes and
//! loses at most one pod at a time to a drain.

use k8s_openapi::api::apps::v1::{DeploymentSpec, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, EnvVar, EnvVarSource, ObjectFieldSelector, PodTemplateSpec, Probe,
    SecretKeySelector, ServicePort, ServiceSpec, TCPSocketAction, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::super::super::availability;
use super::super::super::component::Component;
use super::super::super::naming::{Labels, Naming};
use super::super::super::network_policy::{Group, Path, Peer};
use super::super::super::security;
use super::super::super::subtree::Subtree;
use super::super::super::workload::build::{self, Mounted};
use super::super::Tenant;
use super::{
    CONFIG_DIR, DATA, FILER_PORT, MASTER_PORT, S3_PORT, SERVER, Servers, UID, VOLUME_PORT,
    gateway_flags, home, match_labels, part, port, probe, s3_service, weed,
};
use crate::spec::{EmbeddedArtifacts, Resources, SeaweedfsCluster, Storage};

const MASTER: Component = part("seaweedfs-master", "seaweedfs-master");
const VOLUME: Component = part("seaweedfs-volume", "seaweedfs-volume");
const FILER: Component = part("seaweedfs-filer", "seaweedfs-filer");

/// SeaweedFS serves gRPC on its HTTP port plus 10000, and finds a peer's
/// there from the HTTP address it is given.
const GRPC_OFFSET: u16 = 10000;
/// Each volume file's size limit: artifacts are many and small, and a
/// volume server holds as many volumes as its disk allows (`-max=0`).
const VOLUME_SIZE_MB: u32 = 1024;
/// The filers' role and database in the platform's PostgreSQL.
pub const FILER_DB: &str = "seaweedfs";

/// The filers' database: where it is, and the Secret of their role.
pub struct FilerDb<'a> {
    pub host: &'a str,
    pub port: u16,
    pub secret: &'a str,
}

/// A ConfigMap with its data.
#[derive(Debug, serde::Serialize)]
pub struct ConfigFile {
    pub name: String,
    pub labels: Labels,
    pub data: std::collections::BTreeMap<String, String>,
}

pub struct Cluster {
    pub servers: Servers,
    pub config: ConfigFile,
    pub tenant: Tenant,
}

/// One part of the cluster, as a StatefulSet of pods with stable names.
struct Part<'a> {
    component: Component,
    replicas: u32,
    port: u16,
    /// After `weed`'s subcommand; `-ip` and `-port` are added.
    args: Vec<String>,
    resources: Resources,
    claim: Option<Storage>,
    env: Vec<EnvVar>,
    mounts: Vec<&'a Mounted>,
    ready: &'static str,
    /// An HTTP path; none: the gRPC port accepts connections (a check
    /// of the process alone, where the HTTP one asks PostgreSQL).
    live: Option<&'static str>,
    /// `Parallel` or `OrderedReady`.
    start: &'static str,
}

pub fn build(
    n: &Naming,
    spec: &EmbeddedArtifacts,
    shape: &SeaweedfsCluster,
    s3_config: &Mounted,
    db: &FilerDb,
) -> Cluster {
    let masters = addresses(n, MASTER, shape.masters, MASTER_PORT);
    let filers = addresses(n, FILER, shape.filers, FILER_PORT);
    let config = filer_config(n, db);
    let config_mount = filer_config_volume(&config.name);
    let small = |storage: &str| Storage {
        size: Storage::of(storage).size,
        class_name: spec.storage.class_name.clone(),
    };
    let parts = [
        Part {
            component: MASTER,
            replicas: shape.masters,
            port: MASTER_PORT,
            args: vec![
                "master".into(),
                format!("-mdir={DATA}"),
                format!("-peers={}", masters.join(",")),
                // A second copy on another rack, and each volume server's
                // rack is its node: the two copies never share a node.
                "-defaultReplication=010".into(),
                format!("-volumeSizeLimitMB={VOLUME_SIZE_MB}"),
                "-telemetry=false".into(),
            ],
            resources: Resources::new("100m", "128Mi", Some("1"), "512Mi"),
            claim: Some(small("1Gi")),
            env: Vec::new(),
            mounts: Vec::new(),
            ready: "/cluster/healthz",
            live: Some("/cluster/status"),
            // Raft needs its peers before any master is ready.
            start: "Parallel",
        },
        Part {
            component: VOLUME,
            replicas: spec.replicas.0,
            port: VOLUME_PORT,
            args: vec![
                "volume".into(),
                format!("-dir={DATA}"),
                "-max=0".into(),
                format!("-master={}", masters.join(",")),
                "-rack=$(NODE_NAME)".into(),
            ],
            resources: spec.resources.clone(),
            claim: Some(spec.storage.clone()),
            env: vec![field_env("NODE_NAME", "spec.nodeName")],
            mounts: Vec::new(),
            ready: "/healthz",
            live: Some("/status"),
            start: "Parallel",
        },
        Part {
            component: FILER,
            replicas: shape.filers,
            port: FILER_PORT,
            args: vec!["filer".into(), format!("-master={}", masters.join(","))],
            resources: Resources::new("100m", "256Mi", Some("1"), "1Gi"),
            claim: None,
            // filer.toml leaves the password out: it comes from the role's
            // Secret, which SeaweedFS reads over the file's empty one.
            env: vec![secret_env("WEED_POSTGRES2_PASSWORD", db.secret, "password")],
            mounts: vec![&config_mount],
            ready: "/healthz",
            // A filer's /healthz reads PostgreSQL: an outage of the
            // database would restart every filer at once.
            live: None,
            // A filer that finds the store new copies the tree from a
            // filer that registered before it, and exits when that one
            // does not answer yet: one at a time, only the first finds
            // the store new, and it has no one to copy from.
            start: "OrderedReady",
        },
    ];
    let mut servers = Servers::default();
    for p in &parts {
        stateful(n, spec, p, &mut servers);
    }
    gateways(n, spec, shape, &filers, s3_config, &mut servers);
    paths(n, &mut servers);
    let tenant = Tenant {
        role: FILER_DB.into(),
        database: FILER_DB.into(),
        secret: db.secret.into(),
        clients: group(n, FILER),
    };
    Cluster {
        servers,
        config,
        tenant,
    }
}

/// A probe that waits 5 s for an answer: a leading master's health check
/// can wait on a lock that long, and a filer's on PostgreSQL.
fn patient(probe: Probe) -> Probe {
    Probe {
        timeout_seconds: Some(5),
        ..probe
    }
}

/// `name`, from the pod's own `path` (the downward API).
fn field_env(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.into(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

/// `host:port` of each pod of a part, by its stable name.
fn addresses(n: &Naming, c: Component, count: u32, port: u16) -> Vec<String> {
    let name = n.name(c);
    let service = n.fqdn(&name);
    (0..count)
        .map(|i| format!("{name}-{i}.{service}:{port}"))
        .collect()
}

/// A part's StatefulSet, its headless Service and its budget. Each pod
/// is known by name before it is ready (raft needs its peers' names).
fn stateful(n: &Naming, spec: &EmbeddedArtifacts, p: &Part, out: &mut Servers) {
    let name = n.name(p.component);
    let selector = n.selector(p.component);
    let labels = n.labels(p.component);
    let mut args = p.args.clone();
    args.extend([
        format!("-ip=$(POD_NAME).{}", n.fqdn(&name)),
        "-ip.bind=0.0.0.0".into(),
        format!("-port={}", p.port),
    ]);
    let (command, args) = weed(args);
    let mut c = build::container("seaweedfs", &spec.server_image().to_string(), &p.resources);
    c.command = Some(command);
    c.args = Some(args);
    let mut env = vec![field_env("POD_NAME", "metadata.name"), home()];
    env.extend(p.env.iter().cloned());
    c.env = Some(env);
    c.ports = Some(vec![
        port("http", p.port),
        port("grpc", p.port + GRPC_OFFSET),
    ]);
    c.startup_probe = Some(patient(probe(p.ready, "http", 5, 60)));
    c.readiness_probe = Some(patient(probe(p.ready, "http", 5, 3)));
    c.liveness_probe = Some(patient(match p.live {
        Some(path) => probe(path, "http", 10, 6),
        None => Probe {
            tcp_socket: Some(TCPSocketAction {
                port: IntOrString::String("grpc".into()),
                ..TCPSocketAction::default()
            }),
            period_seconds: Some(10),
            failure_threshold: Some(6),
            ..Probe::default()
        },
    }));
    let mut volumes = Vec::new();
    if let Some(mounts) = &mut c.volume_mounts {
        if p.claim.is_some() {
            mounts.push(VolumeMount {
                name: "data".into(),
                mount_path: DATA.into(),
                ..VolumeMount::default()
            });
        }
        for m in &p.mounts {
            mounts.push(m.mount.clone());
            volumes.push(m.volume.clone());
        }
    }
    let template = spread(
        build::pod(&pod_template(n, spec, &labels), vec![c], volumes),
        &selector,
    );
    let set = StatefulSetSpec {
        service_name: Some(name.clone()),
        replicas: Some(p.replicas as i32),
        pod_management_policy: Some(p.start.into()),
        selector: match_labels(&selector),
        template,
        volume_claim_templates: p
            .claim
            .as_ref()
            .map(|storage| vec![build::claim(&selector, storage)]),
        ..StatefulSetSpec::default()
    };
    let service = ServiceSpec {
        cluster_ip: Some("None".into()),
        publish_not_ready_addresses: Some(true),
        selector: Some(selector.clone()),
        ports: Some(vec![
            service_port("http", p.port),
            service_port("grpc", p.port + GRPC_OFFSET),
        ]),
        ..ServiceSpec::default()
    };
    out.add(
        (&name, &labels),
        &service,
        ("StatefulSet", Subtree::new(&set)),
        Some(&selector),
    );
    out.groups.push(group(n, p.component));
}

/// The S3 gateways: stateless, any of them serves any request.
fn gateways(
    n: &Naming,
    spec: &EmbeddedArtifacts,
    shape: &SeaweedfsCluster,
    filers: &[String],
    s3_config: &Mounted,
    out: &mut Servers,
) {
    let name = n.name(SERVER);
    let selector = n.selector(SERVER);
    let labels = n.labels(SERVER);
    let mut args = vec!["s3".to_owned(), format!("-filer={}", filers.join(","))];
    args.extend(gateway_flags("-"));
    args.push("-ip.bind=0.0.0.0".into());
    let (command, args) = weed(args);
    let resources = Resources::new("100m", "256Mi", Some("1"), "1Gi");
    let mut c = build::container("seaweedfs", &spec.server_image().to_string(), &resources);
    c.command = Some(command);
    c.args = Some(args);
    c.env = Some(vec![home()]);
    c.ports = Some(vec![port("s3", S3_PORT)]);
    // A gateway listens only once it reaches a filer, which on a first
    // install waits for PostgreSQL: time enough before liveness counts.
    c.startup_probe = Some(patient(probe("/healthz", "s3", 5, 120)));
    c.readiness_probe = Some(patient(probe("/healthz", "s3", 5, 3)));
    c.liveness_probe = Some(patient(probe("/healthz", "s3", 10, 6)));
    if let Some(mounts) = &mut c.volume_mounts {
        mounts.push(s3_config.mount.clone());
    }
    let pod = build::pod(
        &pod_template(n, spec, &labels),
        vec![c],
        vec![s3_config.volume.clone()],
    );
    let deployment = DeploymentSpec {
        replicas: Some(shape.gateways as i32),
        selector: match_labels(&selector),
        template: spread(pod, &selector),
        ..DeploymentSpec::default()
    };
    out.add(
        (&name, &labels),
        &s3_service(&selector),
        ("Deployment", Subtree::new(&deployment)),
        Some(&selector),
    );
    out.entry = Group {
        name: "seaweedfs".into(),
        pods: selector,
    };
    out.groups.push(out.entry.clone());
}

/// Who talks to whom inside the cluster, on HTTP and gRPC: the gateways
/// to the filers, and to the volume servers they read from; the filers
/// to the masters, the volume servers and each other; the volume servers
/// to the masters and to each other (replication); the masters to each
/// other (raft) and to the volume servers.
fn paths(n: &Naming, out: &mut Servers) {
    let both = |port: u16| [port, port + GRPC_OFFSET];
    let gateway = Peer::Group(out.entry.clone());
    let master = Peer::Group(group(n, MASTER));
    let volume = Peer::Group(group(n, VOLUME));
    let filer = Peer::Group(group(n, FILER));
    let to = [
        (&gateway, &filer, both(FILER_PORT)),
        (&gateway, &volume, both(VOLUME_PORT)),
        (&gateway, &master, both(MASTER_PORT)),
        (&filer, &master, both(MASTER_PORT)),
        (&filer, &volume, both(VOLUME_PORT)),
        (&filer, &filer, both(FILER_PORT)),
        (&volume, &master, both(MASTER_PORT)),
        (&volume, &volume, both(VOLUME_PORT)),
        (&master, &master, both(MASTER_PORT)),
        (&master, &volume, both(VOLUME_PORT)),
    ];
    out.paths.extend(
        to.iter()
            .map(|(from, to, ports)| Path::new(from, to, ports)),
    );
}

fn group(n: &Naming, c: Component) -> Group {
    Group {
        name: c.suffix().into(),
        pods: n.selector(c),
    }
}

fn pod_template(
    n: &Naming,
    spec: &EmbeddedArtifacts,
    labels: &Labels,
) -> super::super::super::pod::PodTemplate {
    n.pods(&spec.pods)
        .template(labels, &Default::default(), None, security::pod(UID))
}

fn spread(mut pod: PodTemplateSpec, selector: &Labels) -> PodTemplateSpec {
    if let Some(spec) = &mut pod.spec {
        spec.topology_spread_constraints = Some(availability::spread(selector));
    }
    pod
}

fn service_port(name: &str, number: u16) -> ServicePort {
    ServicePort {
        name: Some(name.into()),
        port: i32::from(number),
        target_port: Some(IntOrString::String(name.into())),
        ..ServicePort::default()
    }
}

fn secret_env(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                optional: Some(false),
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

/// filer.toml: the file tree in the platform's PostgreSQL (`postgres2`),
/// over TLS, in a database and as a role of the filers' own. The
/// password is left empty here: it comes from the environment.
fn filer_config(n: &Naming, db: &FilerDb) -> ConfigFile {
    let toml = FILER_TOML
        .replace("@HOST@", db.host)
        .replace("@PORT@", &db.port.to_string())
        .replace("@NAME@", FILER_DB)
        .replace(
            "@MAX_OPEN@",
            &crate::resolve::connections::FILER_CONNECTIONS.to_string(),
        );
    ConfigFile {
        name: n.object("seaweedfs-filer"),
        labels: n.labels(FILER),
        data: [("filer.toml".to_owned(), toml)].into(),
    }
}

const FILER_TOML: &str = include_str!("../../../../templates/seaweedfs-filer.toml");

/// filer.toml, where the filers look for it (the identities file, which
/// only the gateways mount, is there too in the single server).
fn filer_config_volume(name: &str) -> Mounted {
    Mounted {
        volume: Volume {
            name: "filer-config".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: name.into(),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        },
        mount: VolumeMount {
            name: "filer-config".into(),
            mount_path: CONFIG_DIR.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        },
    }
}
