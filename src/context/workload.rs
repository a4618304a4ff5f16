//! What every workload of the platform shares: its init steps, the
//! credential files its programs read (never env vars), and the env of a
//! Python client of the stores.

use k8s_openapi::api::core::v1::Volume;
use serde::Serialize;

use super::access::{DbAccess, StoreAccess};
use super::pod::PodTemplate;
use super::secret::{EnvEntry, SecretFiles, SecretMount};
use crate::spec::Resources;

const CREDENTIAL_FILES: &str = include_str!("../../templates/scripts/credential-files.py");
/// Written by the credential-files step into the memory-backed
/// `build::CREDENTIALS`, which every container of the pod mounts.
pub const PGPASSFILE: &str = "/tmp/mlk/pgpass";

#[derive(Debug, Clone, Serialize)]
pub struct InitStep {
    pub name: String,
    pub command: Vec<String>,
    pub env: Vec<EnvEntry>,
    /// Besides /tmp.
    pub mounts: Vec<k8s_openapi::api::core::v1::VolumeMount>,
}

/// A CronJob of init steps and one container, each with its own image.
#[derive(Debug, Serialize)]
pub struct CronJob {
    pub name: String,
    pub labels: super::naming::Labels,
    pub schedule: String,
    pub init_containers: Vec<Step>,
    pub container: Step,
    pub resources: Resources,
    /// /tmp and the credentials (`build::scratch_volumes`).
    pub scratch: Vec<Volume>,
    pub pod: PodTemplate,
    pub secret_volume: Option<Volume>,
    /// Native sidecars only: a container beside the last step's would
    /// keep the Job from ever completing.
    pub sidecars: super::sidecar::Sidecars,
    pub deadlines: Deadlines,
}

/// How long a CronJob's run may take, and how late it may start.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Deadlines {
    /// A run still going after this long is stopped and counts as
    /// failed, rather than holding the next runs back forever
    /// (`concurrencyPolicy: Forbid`).
    pub active: u32,
    /// A run missed by more than this (the controller was down) is
    /// skipped rather than started late, in a burst with the others.
    pub starting: u32,
}

impl Deadlines {
    /// `hours` to run, and one hour's grace to start.
    pub const fn hours(hours: u32) -> Deadlines {
        Deadlines {
            active: hours * 3600,
            starting: 3600,
        }
    }
}

/// A step of a CronJob and its image.
#[derive(Debug, Serialize)]
pub struct Step {
    pub image: String,
    #[serde(flatten)]
    pub step: InitStep,
}

/// The first init step: the database password and the store's keys,
/// mounted as files, become the pgpass file and the store client's own
/// credentials file in /tmp, which the other steps and the server read.
pub fn credential_files(db: &DbAccess, store: &StoreAccess) -> (InitStep, Option<SecretMount>) {
    let mut files = SecretFiles::default();
    let mut env = runtime_env();
    let mut script = CREDENTIAL_FILES.to_owned();
    env.push(EnvEntry::plain(
        "MLK_DB_PASSWORD_FILE",
        files.file("db-password", &db.password),
    ));
    for source in store.credential_sources() {
        env.push(EnvEntry::plain(
            source.var,
            files.file(source.file, source.key),
        ));
        script.push_str(source.script);
    }
    env.push(EnvEntry::plain("PGPASSFILE", PGPASSFILE));
    // Where the step writes the store's credentials file.
    let writes = [
        "AWS_SHARED_CREDENTIALS_FILE",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ];
    env.extend(
        store
            .env()
            .into_iter()
            .filter(|e| writes.contains(&e.name.as_str())),
    );
    let secret_files = files.finish();
    let step = InitStep {
        name: "credential-files".into(),
        command: vec!["python".into(), "-c".into(), script],
        env,
        mounts: secret_files.iter().map(|f| f.mount.clone()).collect(),
    };
    (step, secret_files)
}

/// The root filesystem is read-only: HOME points at the /tmp emptyDir
/// and Python writes no bytecode beside the code.
pub fn runtime_env() -> Vec<EnvEntry> {
    [("HOME", "/tmp"), ("PYTHONDONTWRITEBYTECODE", "1")]
        .map(|(k, v)| EnvEntry::plain(k, v))
        .to_vec()
}

/// A Python client's env for the store, in a pod of the platform: the
/// runtime's, and the store's address and credentials.
pub fn store_client_env(store: &StoreAccess) -> Vec<EnvEntry> {
    [runtime_env(), store.env()].concat()
}

/// The pieces of a pod that every workload builds alike, as the API's own
/// types: a container held to the restricted level with a read-only root,
/// the writable /tmp beside it (a volume and its mount made together), a
/// pod template from the pod-wide settings, and a data volume claim.
pub mod build {
    use std::collections::BTreeMap;

    use k8s_openapi::api::core::v1::{
        Container, EmptyDirVolumeSource, PersistentVolumeClaim, PersistentVolumeClaimSpec, PodSpec,
        PodTemplateSpec, ResourceRequirements, Volume, VolumeMount, VolumeResourceRequirements,
    };
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::super::naming::Labels;
    use super::super::pod::PodTemplate;
    use super::super::security;
    use crate::spec::{ResourceList, Resources, Storage};

    pub const TMP: &str = "/tmp";
    /// Where the credential files go: a memory-backed volume inside
    /// /tmp, so no key is ever written to the node's disk.
    pub const CREDENTIALS: &str = "/tmp/mlk";
    /// /tmp's size where a workload needs no more: scratch files, never
    /// data. A program that writes more is evicted rather than fill the
    /// node's disk.
    pub const TMP_SIZE: &str = "1Gi";
    /// The credential files: a few kilobytes.
    const CREDENTIALS_SIZE: &str = "8Mi";

    /// A volume and where containers mount it, made together so that
    /// neither is ever missing its other half.
    pub struct Mounted {
        pub volume: Volume,
        pub mount: VolumeMount,
    }

    /// The writable /tmp of a read-only root, `size` at most on the
    /// node's disk, and the memory-backed credentials folder inside it.
    pub fn scratch_volumes(size: &str) -> Vec<Volume> {
        let empty_dir = |name: &str, medium: Option<&str>, size: &str| Volume {
            name: name.into(),
            empty_dir: Some(EmptyDirVolumeSource {
                medium: medium.map(Into::into),
                size_limit: Some(Quantity(size.into())),
                ..EmptyDirVolumeSource::default()
            }),
            ..Volume::default()
        };
        vec![
            empty_dir("tmp", None, size),
            empty_dir("credentials", Some("Memory"), CREDENTIALS_SIZE),
        ]
    }

    /// Where every container of a pod mounts its scratch volumes.
    pub fn scratch_mounts() -> Vec<VolumeMount> {
        [("tmp", TMP), ("credentials", CREDENTIALS)]
            .map(|(name, path)| VolumeMount {
                name: name.into(),
                mount_path: path.into(),
                ..VolumeMount::default()
            })
            .to_vec()
    }

    fn list(l: &ResourceList) -> Option<BTreeMap<String, Quantity>> {
        let mut out = BTreeMap::new();
        if let Some(cpu) = &l.cpu {
            out.insert("cpu".to_owned(), Quantity(cpu.to_string()));
        }
        if let Some(memory) = &l.memory {
            out.insert("memory".to_owned(), Quantity(memory.to_string()));
        }
        if let Some(disk) = &l.ephemeral_storage {
            out.insert("ephemeral-storage".to_owned(), Quantity(disk.to_string()));
        }
        (!out.is_empty()).then_some(out)
    }

    pub fn requirements(r: &Resources) -> ResourceRequirements {
        ResourceRequirements {
            requests: list(&r.requests),
            limits: list(&r.limits),
            ..ResourceRequirements::default()
        }
    }

    /// A container held to the restricted level, with a read-only root and
    /// /tmp writable; the caller adds its command, ports and probes.
    pub fn container(name: &str, image: &str, resources: &Resources) -> Container {
        Container {
            name: name.into(),
            image: Some(image.into()),
            resources: Some(requirements(resources)),
            security_context: Some(security::container()),
            volume_mounts: Some(scratch_mounts()),
            ..Container::default()
        }
    }

    /// A pod template with the pod-wide settings every workload shares,
    /// and /tmp for its containers.
    pub fn pod(
        t: &PodTemplate,
        containers: Vec<Container>,
        volumes: Vec<Volume>,
    ) -> PodTemplateSpec {
        let s = &t.scheduling;
        let mut all = scratch_volumes(TMP_SIZE);
        all.extend(volumes);
        PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(t.labels.clone()),
                annotations: (!t.annotations.is_empty()).then(|| t.annotations.clone()),
                ..ObjectMeta::default()
            }),
            spec: Some(PodSpec {
                service_account_name: t.service_account.clone(),
                automount_service_account_token: Some(false),
                security_context: Some(t.security.clone()),
                affinity: s.affinity.clone(),
                image_pull_secrets: s.image_pull_secrets.clone(),
                node_selector: s.node_selector.clone(),
                priority_class_name: s.priority_class_name.clone(),
                tolerations: s.tolerations.clone(),
                containers,
                volumes: Some(all),
                ..PodSpec::default()
            }),
        }
    }

    /// A StatefulSet's volume claim `data`.
    pub fn claim(selector: &Labels, storage: &Storage) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some("data".into()),
                labels: Some(selector.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                storage_class_name: storage.class_name.as_ref().map(|c| c.to_string()),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([(
                        "storage".to_owned(),
                        Quantity(storage.size.to_string()),
                    )])),
                    ..VolumeResourceRequirements::default()
                }),
                ..PersistentVolumeClaimSpec::default()
            }),
            status: None,
        }
    }
}
