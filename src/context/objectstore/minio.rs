//! The embedded MinIO: a StatefulSet with its own volume, a Service, and
//! the Job that creates the bucket. Its root credentials are every
//! consumer's: MinIO's image receives no fixes any more (its community
//! edition is archived), and it stays for platforms that run it.

use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::super::access::{S3Access, S3KeyRefs};
use super::super::availability;
use super::super::component::Component;
use super::super::naming::{Labels, Naming};
use super::super::network_policy::{Group, Path, Peer};
use super::super::pod::PodTemplate;
use super::super::secret::{EnvEntry, SecretBinder, SecretFiles, SecretMount, SecretObject};
use super::super::security;
use super::{Consumer, Network, ObjectStore, Objects};
use crate::resolve::{EmbeddedStore, SecretValue};
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
    pub service_account: Option<(String, std::collections::BTreeMap<String, String>)>,
}

/// Where the tracking server and KServe find the built-in MinIO.
struct MinioAccess {
    endpoint: String,
    access_key: SecretRef,
    secret_key: SecretRef,
}

/// The provider: MinIO's objects, and the one way every consumer reaches it.
pub struct Minio {
    ctx: MinioContext,
    access: S3Access,
    /// The same root keys, on the backups' bucket.
    backup: S3Access,
    distributed: bool,
}

impl Minio {
    pub fn new(
        n: &Naming,
        store: &EmbeddedStore,
        user: &SecretValue,
        password: &SecretValue,
    ) -> Minio {
        let spec = &store.spec;
        let (ctx, access) = build(n, store, user, password);
        let access = S3Access {
            endpoint: Some(access.endpoint),
            bucket: spec.bucket.to_string(),
            region: "us-east-1".into(),
            keys: Some(S3KeyRefs {
                access_key: access.access_key,
                secret_key: access.secret_key,
            }),
            role_arn: None,
            authority: Some(authority(n)),
            https: false,
            key_values: Some((user.clone(), password.clone())),
        };
        Minio {
            ctx,
            backup: super::on_bucket(&access, store.backups.as_ref()),
            access,
            distributed: spec.replicas.distributed(),
        }
    }
}

impl ObjectStore for Minio {
    fn access(&self, who: Consumer) -> &S3Access {
        match who {
            Consumer::Backup => &self.backup,
            _ => &self.access,
        }
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
) -> (MinioContext, MinioAccess) {
    let spec = &store.spec;
    let name = n.name(SERVER);
    let mut secret = SecretBinder::new(n.object("s3"));
    let access_key = secret.bind("access-key-id", user);
    let secret_key = secret.bind("secret-access-key", password);
    // MinIO reads MINIO_ROOT_USER_FILE and MINIO_ROOT_PASSWORD_FILE
    // (cmd/common-main.go, loadEnvVarsFromFiles); the bucket Job's script
    // reads the same variables.
    let mut files = SecretFiles::default();
    let credentials = vec![
        EnvEntry::plain(
            "MINIO_ROOT_USER_FILE",
            files.file("minio-root-user", &access_key),
        ),
        EnvEntry::plain(
            "MINIO_ROOT_PASSWORD_FILE",
            files.file("minio-root-password", &secret_key),
        ),
    ];
    let secret_files = files.finish();
    let endpoint = format!("http://{}", authority(n));
    let bucket_job = bucket_job(n, store, &credentials, &secret_files, &endpoint);
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
            &std::collections::BTreeMap::new(),
            None,
            security::pod(security::MINIO_UID),
        ),
        name,
    };
    let access = MinioAccess {
        endpoint,
        access_key,
        secret_key,
    };
    (ctx, access)
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
    creds: &[EnvEntry],
    secret_files: &Option<SecretMount>,
    endpoint: &str,
) -> BucketJob {
    let spec = &store.spec;
    let mut env = creds.to_vec();
    env.push(EnvEntry::plain("S3_ENDPOINT", endpoint));
    env.push(EnvEntry::plain("BUCKET", spec.bucket.as_str()));
    if let Some(backups) = &store.backups {
        env.push(EnvEntry::plain("BACKUP_BUCKET", backups.as_str()));
    }
    // The root filesystem is read-only: mc keeps its aliases in /tmp.
    env.push(EnvEntry::plain("MC_CONFIG_DIR", "/tmp/mc"));
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
        secret_files: secret_files.clone(),
        script: CREATE_BUCKET.to_owned(),
        resources: Resources::new("10m", "32Mi", Some("100m"), "128Mi"),
        pod: n.pods(&spec.pods).template(
            &n.labels(BUCKET_JOB),
            &std::collections::BTreeMap::new(),
            account.as_ref().map(|(name, _)| name.clone()),
            security::pod(security::MINIO_UID),
        ),
        service_account: account,
    };
    let content = serde_json::to_string(&(&job, security::container())).expect("serialisable");
    let hash: String = Sha256::digest(content.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    job.name = n.object(&format!("bucket-{hash}"));
    job
}
