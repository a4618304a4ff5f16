//! The Job that creates the buckets (the artifacts', and the backups')
//! and sets versioning where the spec asks: the one holder of the admin
//! identity. Also the store's other Jobs' common shape (`job`).

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::JobSpec;
use k8s_openapi::api::core::v1::EnvVar;
use sha2::{Digest, Sha256};

use super::super::super::access::S3Access;
use super::super::super::component::Component;
use super::super::super::naming::Naming;
use super::super::super::network_policy::Group;
use super::super::super::secret::SecretFiles;
use super::super::super::security;
use super::super::super::subtree::Subtree;
use super::super::super::workload::build;
use super::super::lifecycle;
use super::{Object, SETUP};
use crate::resolve::EmbeddedStore;
use crate::spec::{EmbeddedArtifacts, Resources};

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
        ("S3_ENDPOINT", admin.endpoint.clone().unwrap_or_default()),
        ("AWS_DEFAULT_REGION", admin.region.clone()),
        ("BUCKETS", buckets.join(",")),
    ];
    let vars = ["MLK_S3_ACCESS_KEY_ID_FILE", "MLK_S3_SECRET_ACCESS_KEY_FILE"];
    env.extend(key_files(&mut files, vars, "s3", admin));
    if let Some(v) = &spec.versioning {
        env.push(("VERSIONED_BUCKET", spec.bucket.to_string()));
        env.push(("VERSIONING_LIFECYCLE", lifecycle(v.noncurrent_days)));
    }
    let account = (!spec.service_account.annotations.is_empty()).then(|| {
        let annotations = spec.service_account.annotations_over(&n.annotations());
        (n.name(SETUP), annotations)
    });
    let run = Run {
        container: "setup",
        image,
        script: SCRIPT,
        env,
        files,
        account: account.as_ref().map(|(name, _)| name.clone()),
    };
    // A cluster is a new store where one server was: its buckets are
    // made by a Job of its own, not the one the old server completed.
    let store_kind = if store.filer_password.is_some() {
        "cluster"
    } else {
        ""
    };
    Setup {
        job: job(n, spec, SETUP, ("bucket-setup", store_kind), run),
        account,
        group: Group {
            name: "bucket-setup".into(),
            pods: n.selector(SETUP),
        },
    }
}

/// The variables `vars` name the files where `access`'s keys are
/// mounted (`FILE-access-key-id`, `FILE-secret-access-key`), which the
/// script reads.
pub fn key_files(
    files: &mut SecretFiles,
    vars: [&'static str; 2],
    file: &str,
    access: &S3Access,
) -> Vec<(&'static str, String)> {
    let Some(keys) = &access.keys else {
        return Vec::new();
    };
    vec![
        (
            vars[0],
            files.file(&format!("{file}-access-key-id"), &keys.access_key),
        ),
        (
            vars[1],
            files.file(&format!("{file}-secret-access-key"), &keys.secret_key),
        ),
    ]
}

/// What a Job's one container runs: a Python script in `image`, with
/// `env` and the Secret keys in `files`.
pub struct Run<'a> {
    pub container: &'a str,
    pub image: &'a str,
    pub script: &'a str,
    pub env: Vec<(&'static str, String)>,
    pub files: SecretFiles,
    /// Its own ServiceAccount, when it has one.
    pub account: Option<String>,
}

/// A Job of the store's at the restricted level, retried on failure,
/// named `prefix` and a hash of its content and `salt` (what else makes
/// it a new Job): a Job's pod template cannot change, so a changed Job
/// is a new Job rather than a failed apply.
pub fn job(
    n: &Naming,
    spec: &EmbeddedArtifacts,
    who: Component,
    (prefix, salt): (&str, &str),
    run: Run,
) -> Object {
    let secret_files = run.files.finish();
    let resources = Resources::new("10m", "64Mi", Some("200m"), "256Mi");
    let mut c = build::container(run.container, run.image, &resources);
    c.command = Some(["python", "-c", run.script].map(String::from).to_vec());
    let base = [
        ("HOME", build::TMP.to_owned()),
        ("PYTHONDONTWRITEBYTECODE", "1".into()),
    ];
    c.env = Some(
        base.into_iter()
            .chain(run.env)
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
    let template = n.pods(&spec.pods).template(
        &n.labels(who),
        &Default::default(),
        run.account,
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
    let content = serde_json::to_string(&job).expect("a Job serialises") + salt + &template.wide;
    let hash: String = Sha256::digest(content.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Object {
        kind: "Job",
        api_version: "batch/v1",
        name: n.object(&format!("{prefix}-{hash}")),
        labels: n.labels(who),
        spec: Subtree::new(&job),
    }
}
