//! The Job that creates the buckets (the artifacts', and the backups')
//! and sets versioning where the spec asks: the one holder of the admin
//! identity. It is named after a hash of its content: a Job's pod template
//! cannot change, so a changed Job is a new Job rather than a failed apply.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::JobSpec;
use k8s_openapi::api::core::v1::EnvVar;
use sha2::{Digest, Sha256};

use super::super::super::access::S3Access;
use super::super::super::naming::Naming;
use super::super::super::network_policy::Group;
use super::super::super::secret::SecretFiles;
use super::super::super::security;
use super::super::super::subtree::Subtree;
use super::super::super::workload::build;
use super::super::lifecycle;
use super::{Object, SETUP};
use crate::resolve::EmbeddedStore;
use crate::spec::Resources;

const SCRIPT: &str = include_str!("../../../../templates/scripts/setup-buckets.py");

pub struct Setup {
    pub job: Object,
    pub account: Option<(String, BTreeMap<String, String>)>,
    pub group: Group,
}

pub fn build(n: &Naming, store: &EmbeddedStore, admin: &S3Access, image: &str) -> Setup {
    let spec = &store.spec;
    let mut buckets = vec![spec.bucket.to_string()];
    buckets.extend(store.backups.iter().map(ToString::to_string));
    let mut files = SecretFiles::default();
    let mut env = vec![
        ("HOME", build::TMP.to_owned()),
        ("PYTHONDONTWRITEBYTECODE", "1".into()),
        ("S3_ENDPOINT", admin.endpoint.clone().unwrap_or_default()),
        ("AWS_DEFAULT_REGION", admin.region.clone()),
        ("BUCKETS", buckets.join(",")),
    ];
    if let Some(keys) = &admin.keys {
        env.push((
            "MLK_S3_ACCESS_KEY_ID_FILE",
            files.file("s3-access-key-id", &keys.access_key),
        ));
        env.push((
            "MLK_S3_SECRET_ACCESS_KEY_FILE",
            files.file("s3-secret-access-key", &keys.secret_key),
        ));
    }
    if let Some(v) = &spec.versioning {
        env.push(("VERSIONED_BUCKET", spec.bucket.to_string()));
        env.push(("VERSIONING_LIFECYCLE", lifecycle(v.noncurrent_days)));
    }
    let secret_files = files.finish();
    let resources = Resources::new("10m", "64Mi", Some("200m"), "256Mi");
    let mut c = build::container("setup", image, &resources);
    c.command = Some(["python", "-c", SCRIPT].map(String::from).to_vec());
    c.env = Some(
        env.into_iter()
            .map(|(name, value)| EnvVar {
                name: name.into(),
                value: Some(value),
                ..EnvVar::default()
            })
            .collect(),
    );
    if let (Some(mounts), Some(f)) = (&mut c.volume_mounts, &secret_files) {
        mounts.push(f.mount.clone());
    }
    let account = (!spec.service_account.annotations.is_empty()).then(|| {
        let annotations = spec.service_account.annotations_over(&n.annotations());
        (n.name(SETUP), annotations)
    });
    let template = n.pods(&spec.pods).template(
        &n.labels(SETUP),
        &Default::default(),
        account.as_ref().map(|(name, _)| name.clone()),
        security::pod(security::MLFLOW_UID),
    );
    let mut pod = build::pod(
        &template,
        vec![c],
        secret_files.into_iter().map(|f| f.volume).collect(),
    );
    if let Some(spec) = &mut pod.spec {
        spec.restart_policy = Some("OnFailure".into());
    }
    let job = JobSpec {
        backoff_limit: Some(10),
        template: pod,
        ..JobSpec::default()
    };
    let content = serde_json::to_string(&job).expect("a Job serialises");
    let hash: String = Sha256::digest(content.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Setup {
        job: Object {
            kind: "Job",
            api_version: "batch/v1",
            name: n.object(&format!("bucket-setup-{hash}")),
            labels: n.labels(SETUP),
            spec: Subtree::new(&job),
        },
        account,
        group: Group {
            name: "bucket-setup".into(),
            pods: n.selector(SETUP),
        },
    }
}
