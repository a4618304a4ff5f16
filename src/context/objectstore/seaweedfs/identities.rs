//! Who may do what in the store. SeaweedFS reads its S3 identities from a
//! JSON file (`-s3.config`): each with its keys and its actions, each
//! action scoped to a bucket or to a pattern of keys in one. mlk gives
//! every consumer an identity of its own and only the actions it needs:
//! - setup: Admin, to create the buckets and set their versioning;
//! - tracking and gc: read, write (which deletes) and list the artifacts;
//! - predictor: list the models MLflow logged (`*/models/*`) and read the
//!   bucket: SeaweedFS checks HeadBucket, which KServe's storage
//!   initializer calls first, against read on the whole bucket;
//! - backup: read, write and list the backups' bucket, nothing else;
//! - migrate (with `migrateFrom`): read, write and list both buckets, to
//!   copy the old store's objects in.

use std::collections::BTreeMap;

use serde::Serialize;

use super::super::super::access::S3KeyRefs;
use super::super::super::naming::Naming;
use super::super::super::secret::{SecretBinder, SecretObject};
use crate::resolve::{Identity, SecretValue};
use crate::sensitive::Sensitive;

#[derive(Serialize)]
struct File<'a> {
    identities: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Entry<'a> {
    name: &'a str,
    credentials: [Keys<'a>; 1],
    actions: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Keys<'a> {
    access_key: &'a str,
    secret_key: &'a str,
}

/// What each identity may do, on the artifacts' bucket and the backups'.
pub fn actions(name: &str, artifacts: &str, backups: Option<&str>) -> Vec<String> {
    let on = |bucket: &str, verbs: &[&str]| -> Vec<String> {
        verbs.iter().map(|v| format!("{v}:{bucket}")).collect()
    };
    match name {
        "setup" => vec!["Admin".into()],
        "tracking" | "gc" => on(artifacts, &["Read", "Write", "List"]),
        "predictor" => vec![
            format!("Read:{artifacts}"),
            format!("List:{artifacts}/*/models/*"),
        ],
        "backup" => backups.map_or(Vec::new(), |b| on(b, &["Read", "Write", "List"])),
        "migrate" => [Some(artifacts), backups]
            .into_iter()
            .flatten()
            .flat_map(|b| on(b, &["Read", "Write", "List"]))
            .collect(),
        _ => Vec::new(),
    }
}

/// The identities file, as a Secret's only key, and each identity's keys
/// in a Secret of its own, so that a pod mounts only its own.
pub struct Identities {
    pub file: SecretObject,
    pub keys: BTreeMap<&'static str, (S3KeyRefs, (SecretValue, SecretValue))>,
    pub secrets: Vec<SecretObject>,
}

pub fn build(
    n: &Naming,
    name: &str,
    ids: &[Identity],
    artifacts: &str,
    backups: Option<&str>,
) -> Identities {
    let mut entries = Vec::new();
    let mut keys = BTreeMap::new();
    let mut secrets = Vec::new();
    for id in ids {
        let actions = actions(id.name, artifacts, backups);
        let (SecretValue::Value(access), SecretValue::Value(secret)) =
            (&id.access_key, &id.secret_key)
        else {
            // Resolved as `generate`: always values.
            continue;
        };
        if actions.is_empty() {
            continue;
        }
        entries.push(Entry {
            name: id.name,
            credentials: [Keys {
                access_key: access.expose(),
                secret_key: secret.expose(),
            }],
            actions,
        });
        let mut binder = SecretBinder::new(n.object(&format!("s3-{}", id.name)));
        let refs = S3KeyRefs {
            access_key: binder.bind("access-key-id", &id.access_key),
            secret_key: binder.bind("secret-access-key", &id.secret_key),
        };
        secrets.extend(binder.finish());
        keys.insert(
            id.name,
            (refs, (id.access_key.clone(), id.secret_key.clone())),
        );
    }
    let json = serde_json::to_string(&File {
        identities: entries,
    })
    .expect("identities serialise");
    let mut binder = SecretBinder::new(name.to_owned());
    // Each key in it is recorded as a secret already, and is found in the
    // file in any form; the file itself need not be searched for.
    binder.bind("s3.json", &SecretValue::Value(Sensitive::not_secret(json)));
    Identities {
        file: binder.finish().expect("a Secret with one value"),
        keys,
        secrets,
    }
}
