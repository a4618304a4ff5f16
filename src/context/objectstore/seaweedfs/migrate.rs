//! The one-off Job that copies the objects of the MinIO a platform ran
//! (`migrateFrom`) into SeaweedFS: every bucket the store keeps, a check
//! that each object arrived with its size and checksum, and last a marker
//! object, which the tracking server's `wait-for-copy` step waits for.
//! MinIO is reached with its root keys, SeaweedFS with an identity of the
//! Job's own (read, write and list on the store's buckets).

use super::super::super::access::S3Access;
use super::super::super::component::Component;
use super::super::super::naming::Naming;
use super::super::super::network_policy::Group;
use super::super::super::secret::SecretFiles;
use super::setup::{self, Run};
use super::{Object, part};
use crate::resolve::EmbeddedStore;

const SCRIPT: &str = include_str!("../../../../templates/scripts/copy-from-minio.py");
const COPY: Component = part("artifacts-copy", "copy-from-minio");
/// The object the copy writes last, in the artifacts' bucket.
pub const MARKER: &str = "mlk-migration/copied-from-minio";
/// Where mlk kept the database's dumps before they had a bucket of their
/// own (the default `backup.path`): not copied among the artifacts.
const OLD_DUMPS: &str = "postgres-backups/";

pub struct Copy {
    pub job: Object,
    pub group: Group,
}

/// `source`: MinIO's root access; `target`: the Job's own identity.
pub fn build(
    n: &Naming,
    store: &EmbeddedStore,
    source: &S3Access,
    target: &S3Access,
    image: &str,
) -> Copy {
    let spec = &store.spec;
    let mut buckets = vec![spec.bucket.to_string()];
    buckets.extend(store.backups.iter().map(ToString::to_string));
    let mut files = SecretFiles::default();
    let mut env = vec![
        (
            "SOURCE_ENDPOINT",
            source.endpoint.clone().unwrap_or_default(),
        ),
        (
            "TARGET_ENDPOINT",
            target.endpoint.clone().unwrap_or_default(),
        ),
        ("AWS_DEFAULT_REGION", target.region.clone()),
        ("BUCKETS", buckets.join(",")),
        ("MARKER", format!("{}/{MARKER}", spec.bucket)),
        ("SKIP", format!("{}/{OLD_DUMPS}", spec.bucket)),
    ];
    let source_vars = [
        "MLK_SOURCE_ACCESS_KEY_ID_FILE",
        "MLK_SOURCE_SECRET_ACCESS_KEY_FILE",
    ];
    env.extend(setup::key_files(&mut files, source_vars, "source", source));
    let target_vars = [
        "MLK_TARGET_ACCESS_KEY_ID_FILE",
        "MLK_TARGET_SECRET_ACCESS_KEY_FILE",
    ];
    env.extend(setup::key_files(&mut files, target_vars, "target", target));
    let run = Run {
        container: "copy",
        image,
        script: SCRIPT,
        env,
        files,
        account: None,
    };
    Copy {
        job: setup::job(n, spec, COPY, ("copy-from-minio", ""), run),
        group: Group {
            name: "copy-from-minio".into(),
            pods: n.selector(COPY),
        },
    }
}
