//! The embedded MinIO: a StatefulSet with its own volume, a Service, and
//! the Job that creates the bucket.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::naming::{Labels, Naming};
use super::secret::{EnvEntry, SecretBinder, SecretObject};
use crate::resolve::SecretValue;
use crate::spec::{EmbeddedArtifacts, Resources, SecretRef, Storage};

pub const PORT: u16 = 9000;
const CONSOLE_PORT: u16 = 9001;
const CREATE_BUCKET: &str = include_str!("../../templates/scripts/create-bucket.sh");

#[derive(Debug, Serialize)]
pub struct MinioContext {
    pub name: String,
    pub labels: Labels,
    pub selector: Labels,
    pub secret: Option<SecretObject>,
    pub image: String,
    pub port: u16,
    pub console_port: u16,
    pub env: Vec<EnvEntry>,
    pub resources: Resources,
    pub storage: Storage,
    pub bucket_job: BucketJob,
}

#[derive(Debug, Serialize)]
pub struct BucketJob {
    /// Suffixed with a hash of its content: a Job's pod template cannot
    /// change, so a changed Job is a new Job rather than a failed apply.
    pub name: String,
    pub labels: Labels,
    pub image: String,
    pub env: Vec<EnvEntry>,
    pub script: String,
}

/// Where the tracking server and KServe find the built-in MinIO.
pub struct MinioAccess {
    pub endpoint: String,
    pub access_key: SecretRef,
    pub secret_key: SecretRef,
}

pub fn build(
    n: &Naming,
    spec: &EmbeddedArtifacts,
    user: &SecretValue,
    password: &SecretValue,
) -> (MinioContext, MinioAccess) {
    let name = n.object("minio");
    let mut secret = SecretBinder::new(n.object("s3"));
    let access_key = secret.bind("access-key-id", user);
    let secret_key = secret.bind("secret-access-key", password);
    let credentials = vec![
        EnvEntry::secret("MINIO_ROOT_USER", access_key.clone()),
        EnvEntry::secret("MINIO_ROOT_PASSWORD", secret_key.clone()),
    ];
    let endpoint = format!("http://{}", authority(n));
    let bucket_job = bucket_job(n, spec, &credentials, &endpoint);
    let ctx = MinioContext {
        labels: n.labels("minio", "artifacts"),
        selector: n.selector("minio", "artifacts"),
        secret: secret.finish(),
        image: spec.image.to_string(),
        port: PORT,
        console_port: CONSOLE_PORT,
        env: credentials,
        resources: spec.resources.clone(),
        storage: spec.storage.clone(),
        bucket_job,
        name,
    };
    let access = MinioAccess {
        endpoint,
        access_key,
        secret_key,
    };
    (ctx, access)
}

/// `host:port` of the built-in MinIO's Service.
pub fn authority(n: &Naming) -> String {
    format!("{}:{PORT}", n.fqdn(&n.object("minio")))
}

fn bucket_job(
    n: &Naming,
    spec: &EmbeddedArtifacts,
    creds: &[EnvEntry],
    endpoint: &str,
) -> BucketJob {
    let mut env = creds.to_vec();
    env.push(EnvEntry::plain("S3_ENDPOINT", endpoint));
    env.push(EnvEntry::plain("BUCKET", spec.bucket.as_str()));
    let image = spec.mc_image.to_string();
    let labels = n.labels("minio", "bucket-job");
    let env_json = serde_json::to_string(&env).expect("serialisable");
    let labels_json = serde_json::to_string(&labels).expect("serialisable");
    let mut hasher = Sha256::new();
    for part in [image.as_str(), CREATE_BUCKET, &env_json, &labels_json] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let hash: String = hasher.finalize()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    BucketJob {
        name: n.object(&format!("bucket-{hash}")),
        labels,
        image,
        env,
        script: CREATE_BUCKET.to_owned(),
    }
}
