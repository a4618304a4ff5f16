//! The embedded MinIO: a StatefulSet with its own volume, a Service, and
//! the Job that creates the buckets and a user for each consumer, with
//! only that consumer's policy (`iam`). The root keys are the Job's
//! alone. MinIO's image receives no fixes any more (its community
//! edition is archived), and it stays for platforms that run it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::super::access::{S3Access, S3KeyRefs, StoreAccess};
use super::super::availability;
use super::super::component::Component;
use super::super::naming::{Labels, Naming};
use super::super::network_policy::{Group, Path, Peer};
use super::super::pod::PodTemplate;
use super::super::secret::{
    EnvEntry, SECRETS_DIR, SecretBinder, SecretFiles, SecretMount, SecretObject,
};
use super::super::security;
use super::{Consumer, Network, ObjectStore, Objects, iam};
use crate::resolve::{EmbeddedStore, Identity, SecretValue, minio_user};
use crate::spec::{Resources, SecretRef, Storage};

const PORT: u16 = 9000;
const SERVER: Component = Component::Part {
    app: "minio",
    role: "artifacts",
    suffix: "minio",
};
const BUCKET_JOB: Component = Component::Part {
    app: "minio",
    role: "bucket-job",
    suffix: "bucket-job",
};
const CONSOLE_PORT: u16 = 9001;
const CREATE_BUCKET: &str = include_str!("../../../templates/scripts/create-bucket.sh");
/// Follows CREATE_BUCKET where the consumers have users of their own;
/// without them the Job stays as it was, and is not run again.
const CREATE_USERS: &str = include_str!("../../../templates/scripts/minio-users.sh");

#[derive(Debug, Serialize)]
pub struct MinioContext {
    pub name: String,
    /// In distributed mode, the headless Service that gives each pod its
    /// DNS name. A single server keeps the Service it always had: a
    /// StatefulSet's `serviceName` cannot change in place.
    pub headless: Option<String>,
    pub replicas: u32,
    /// `minio server` and what it serves: one folder, or every pod's.
    pub args: Vec<String>,
    pub labels: Labels,
    pub selector: Labels,
    pub secret: Option<SecretObject>,
    pub image: String,
    pub port: u16,
    pub console_port: u16,
    pub env: Vec<EnvEntry>,
    /// The root credentials, as files MinIO reads (`*_FILE`).
    pub secret_files: Option<SecretMount>,
    pub resources: Resources,
    pub storage: Storage,
    pub bucket_job: BucketJob,
    pub pod: PodTemplate,
    pub topology_spread: Vec<TopologySpreadConstraint>,
    pub disruption_budget: Option<PodDisruptionBudgetSpec>,
}

#[derive(Debug, Serialize)]
pub struct BucketJob {
    /// Suffixed with a hash of everything in its pod template: a Job's
    /// template cannot change, so a changed Job is a new Job rather than
    /// a failed apply.
    pub name: String,
    pub labels: Labels,
    pub image: String,
    pub env: Vec<EnvEntry>,
    pub secret_files: Option<SecretMount>,
    pub script: String,
    pub resources: Resources,
    pub pod: PodTemplate,
    /// Its own ServiceAccount, when the spec gives it annotations. Left
    /// out otherwise, so the name's hash stays what it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account: Option<(String, BTreeMap<String, String>)>,
}

/// The provider: MinIO's objects, and how each consumer reaches it.
pub struct Minio {
    ctx: MinioContext,
    /// The root keys: the copy Job's, when MinIO is being copied out, and
    /// every consumer's where they have no user of their own.
    root: S3Access,
    /// The same root keys, on the backups' bucket.
    root_backup: S3Access,
    /// Each consumer's own user, by `Consumer::name`.
    users: BTreeMap<&'static str, S3Access>,
    user_secrets: Vec<SecretObject>,
    distributed: bool,
}

impl Minio {
    pub fn new(
        n: &Naming,
        store: &EmbeddedStore,
        user: &SecretValue,
        password: &SecretValue,
        users: &[Identity],
    ) -> Minio {
        let spec = &store.spec;
        let keyed = |keys: S3KeyRefs, values: (SecretValue, SecretValue), bucket: &str| S3Access {
            endpoint: Some(format!("http://{}", authority(n))),
            bucket: bucket.to_owned(),
            region: "us-east-1".into(),
            keys: Some(keys),
            role_arn: None,
            authority: Some(authority(n)),
            https: false,
            key_values: Some(values),
        };
        let mut accounts = Accounts::default();
        for id in users {
            let bucket = match id.name {
                "backup" => store.backups.as_ref().map_or("", |b| b.as_str()),
                _ => spec.bucket.as_str(),
            };
            let (keys, values) = accounts.add(n, id, store);
            accounts.access.insert(id.name, keyed(keys, values, bucket));
        }
        if !users.is_empty() {
            // A consumer the platform no longer runs (serving turned off)
            // keeps no user with working keys.
            accounts.job.retired = Consumer::ALL
                .iter()
                .filter(|c| !accounts.access.contains_key(c.name()))
                .map(|c| minio_user(c.name()))
                .collect();
        }
        let (ctx, root_keys) = build(n, store, user, password, accounts.job);
        let root = keyed(
            root_keys,
            (user.clone(), password.clone()),
            spec.bucket.as_str(),
        );
        Minio {
            ctx,
            root_backup: super::on_bucket(&root, store.backups.as_ref()),
            root,
            users: accounts.access,
            user_secrets: accounts.secrets,
            distributed: spec.replicas.distributed(),
        }
    }

    /// The root keys, which read every bucket: the copy Job's.
    pub fn root(&self) -> &S3Access {
        &self.root
    }
}

/// The consumers' users: each one's keys in a Secret of its own, and
/// what the bucket Job needs to create them.
#[derive(Default)]
struct Accounts {
    access: BTreeMap<&'static str, S3Access>,
    secrets: Vec<SecretObject>,
    job: UserJob,
}

/// The users the bucket Job creates (`NAME POLICY` lines), the files it
/// reads their secret keys from, and the users of consumers the platform
/// no longer runs, which it removes.
#[derive(Default)]
struct UserJob {
    lines: Vec<String>,
    files: Vec<(String, SecretRef)>,
    retired: Vec<String>,
    /// The users' secret keys, in the hash the Job is named by: a new
    /// key (a rotated MLK_SECRET_KEY) must reach MinIO, by a new Job.
    keys: Vec<SecretValue>,
}

impl Accounts {
    fn add(
        &mut self,
        n: &Naming,
        id: &Identity,
        store: &EmbeddedStore,
    ) -> (S3KeyRefs, (SecretValue, SecretValue)) {
        let mut binder = SecretBinder::new(n.object(&format!("s3-{}", id.name)));
        let keys = S3KeyRefs {
            access_key: binder.bind("access-key-id", &id.access_key),
            secret_key: binder.bind("secret-access-key", &id.secret_key),
        };
        self.secrets.extend(binder.finish());
        let backups = store.backups.as_ref().map(|b| b.as_str());
        if let (SecretValue::Value(name), Some(policy)) = (
            &id.access_key,
            iam::policy(id.name, store.spec.bucket.as_str(), backups),
        ) {
            let name = name.expose().to_owned();
            self.job
                .files
                .push((format!("user-{name}"), keys.secret_key.clone()));
            self.job.lines.push(format!("{name} {policy}"));
            self.job.keys.push(id.secret_key.clone());
        }
        (keys, (id.access_key.clone(), id.secret_key.clone()))
    }
}

impl ObjectStore for Minio {
    fn access(&self, who: Consumer) -> StoreAccess {
        let s3 = match (self.users.get(who.name()), who) {
            (Some(own), _) => own,
            (None, Consumer::Backup) => &self.root_backup,
            (None, _) => &self.root,
        };
        StoreAccess::S3(s3.clone())
    }

    fn secrets(&self) -> Vec<SecretObject> {
        self.user_secrets.clone()
    }

    /// Clients and the bucket Job reach the servers; in distributed mode
    /// the servers reach each other.
    fn network(&self, n: &Naming) -> Network {
        let group = |name: &str, c| {
            Peer::Group(Group {
                name: name.to_owned(),
                pods: n.selector(c),
            })
        };
        let minio = group("minio", SERVER);
        let job = group("bucket", BUCKET_JOB);
        let mut paths = vec![Path::new(&job, &minio, &[PORT])];
        if self.distributed {
            paths.push(Path::new(&minio, &minio, &[PORT]));
        }
        let groups = [&minio, &job]
            .into_iter()
            .filter_map(|p| match p {
                Peer::Group(g) => Some(g.clone()),
                _ => None,
            })
            .collect();
        Network {
            peer: minio,
            port: PORT,
            groups,
            paths,
            identity: Vec::new(),
        }
    }

    fn objects(self: Box<Self>) -> Objects {
        Objects {
            minio: Some(self.ctx),
            seaweedfs: None,
        }
    }
}

fn build(
    n: &Naming,
    store: &EmbeddedStore,
    user: &SecretValue,
    password: &SecretValue,
    users: UserJob,
) -> (MinioContext, S3KeyRefs) {
    let spec = &store.spec;
    let name = n.name(SERVER);
    let mut secret = SecretBinder::new(n.object("s3"));
    let root = S3KeyRefs {
        access_key: secret.bind("access-key-id", user),
        secret_key: secret.bind("secret-access-key", password),
    };
    let mut files = SecretFiles::default();
    let credentials = root_files(&mut files, &root);
    let secret_files = files.finish();
    let bucket_job = bucket_job(n, store, &root, users);
    let headless = n.object("minio-hl");
    let selector = n.selector(SERVER);
    let distributed = spec.replicas.distributed();
    let args = server_args(n, &name, &headless, spec.replicas.0);
    // The root filesystem is read-only; MinIO keeps its certs folder
    // under HOME.
    let mut env = vec![EnvEntry::plain("HOME", "/tmp")];
    env.extend(credentials);
    let ctx = MinioContext {
        args,
        replicas: spec.replicas.0,
        headless: distributed.then_some(headless),
        labels: n.labels(SERVER),
        topology_spread: if distributed {
            availability::spread(&selector)
        } else {
            Vec::new()
        },
        disruption_budget: distributed.then(|| availability::disruption_budget(&selector)),
        selector,
        secret: secret.finish(),
        image: spec.server_image().to_string(),
        port: PORT,
        console_port: CONSOLE_PORT,
        env,
        secret_files,
        resources: spec.resources.clone(),
        storage: spec.storage.clone(),
        bucket_job,
        pod: n.pods(&spec.pods).template(
            &n.labels(SERVER),
            &BTreeMap::new(),
            None,
            security::pod(security::MINIO_UID),
        ),
        name,
    };
    (ctx, root)
}

/// MinIO reads MINIO_ROOT_USER_FILE and MINIO_ROOT_PASSWORD_FILE
/// (cmd/common-main.go, loadEnvVarsFromFiles); the bucket Job's script
/// reads the same variables.
fn root_files(files: &mut SecretFiles, root: &S3KeyRefs) -> Vec<EnvEntry> {
    vec![
        EnvEntry::plain(
            "MINIO_ROOT_USER_FILE",
            files.file("minio-root-user", &root.access_key),
        ),
        EnvEntry::plain(
            "MINIO_ROOT_PASSWORD_FILE",
            files.file("minio-root-password", &root.secret_key),
        ),
    ]
}

/// One server serves its own volume. In distributed mode every pod is
/// named by its stable DNS name under the headless Service, and MinIO
/// forms one erasure set from all of them.
fn server_args(n: &Naming, name: &str, headless: &str, replicas: u32) -> Vec<String> {
    let data = if replicas == 1 {
        "/data".to_owned()
    } else {
        let host = n.fqdn(headless);
        format!("http://{name}-{{0...{}}}.{host}/data", replicas - 1)
    };
    let console = format!(":{CONSOLE_PORT}");
    ["server", &data, "--console-address", &console]
        .map(String::from)
        .to_vec()
}

/// `host:port` of the built-in MinIO's Service.
fn authority(n: &Naming) -> String {
    format!("{}:{PORT}", n.fqdn(&n.name(SERVER)))
}

fn bucket_job(
    n: &Naming,
    store: &EmbeddedStore,
    root: &S3KeyRefs,
    mut users: UserJob,
) -> BucketJob {
    let spec = &store.spec;
    let mut files = SecretFiles::default();
    let mut env = root_files(&mut files, root);
    env.push(EnvEntry::plain(
        "S3_ENDPOINT",
        format!("http://{}", authority(n)),
    ));
    env.push(EnvEntry::plain("BUCKET", spec.bucket.as_str()));
    if let Some(backups) = &store.backups {
        env.push(EnvEntry::plain("BACKUP_BUCKET", backups.as_str()));
    }
    let mut script = CREATE_BUCKET.to_owned();
    let keys = std::mem::take(&mut users.keys);
    if !users.lines.is_empty() {
        script.push_str(CREATE_USERS);
        for (file, key) in &users.files {
            files.file(file, key);
        }
        env.push(EnvEntry::plain("USERS_DIR", SECRETS_DIR));
        env.push(EnvEntry::plain("USERS", users.lines.join("\n")));
        env.push(EnvEntry::plain("RETIRED_USERS", users.retired.join(" ")));
    }
    // The root filesystem is read-only, and mc's aliases hold keys: they
    // go to the memory-backed credentials folder.
    let mc_config = format!("{}/mc", super::super::workload::build::CREDENTIALS);
    env.push(EnvEntry::plain("MC_CONFIG_DIR", mc_config));
    if let Some(v) = &spec.versioning {
        env.push(EnvEntry::plain(
            "VERSIONING_LIFECYCLE",
            super::lifecycle(v.noncurrent_days),
        ));
    }
    let annotated = !spec.service_account.annotations.is_empty();
    let account = annotated.then(|| {
        let annotations = spec.service_account.annotations_over(&n.annotations());
        (n.name(BUCKET_JOB), annotations)
    });
    let mut job = BucketJob {
        name: String::new(),
        labels: n.labels(BUCKET_JOB),
        image: spec.client_image().to_string(),
        env,
        secret_files: files.finish(),
        script,
        resources: Resources::new("10m", "32Mi", Some("100m"), "128Mi"),
        pod: n.pods(&spec.pods).template(
            &n.labels(BUCKET_JOB),
            &BTreeMap::new(),
            account.as_ref().map(|(name, _)| name.clone()),
            security::pod(security::MINIO_UID),
        ),
        service_account: account,
    };
    let mut content = serde_json::to_string(&(&job, security::container())).expect("serialisable");
    for key in &keys {
        if let SecretValue::Value(v) = key {
            content.push_str(v.expose());
        }
    }
    let hash: String = Sha256::digest(content.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    job.name = n.object(&format!("bucket-{hash}"));
    job
}
