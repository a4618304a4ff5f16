//! The artifact store as it will be rendered: which store, its bucket and
//! the backups', and the credentials of each consumer, resolved.

use super::secrets::Resolver;
use super::{
    ArtifactsPlan, EmbeddedStore, ExternalS3, Identity, S3Keys, SecretValue, StoreCredentials,
};
use super::{external_secret, required};
use crate::located::Located;
use crate::sensitive::Sensitive;
use crate::spec::{Artifacts, Database, EmbeddedArtifacts, Engine, Metadata, SecretSource};
use crate::types::BucketName;

/// The identities of an embedded store that gives each consumer its own:
/// the bucket-setup step (admin), the tracking server, gc, the backups
/// and the predictors; and the Job that copies a replaced store's objects.
pub const IDENTITIES: [&str; 6] = ["setup", "tracking", "gc", "backup", "predictor", "migrate"];

fn err(path: &str, msg: impl Into<String>) -> Located {
    Located::new("spec", Some(path), msg)
}

/// Where the spec names the backups' bucket, and the name it gives, when
/// the platform backs the database up into the store.
pub fn backups(db: &Database) -> Option<(String, Option<BucketName>)> {
    let (path, given) = match (&db.external, &db.cloudnativepg, &db.embedded) {
        (Some(_), ..) => return None,
        (None, Some(c), _) => (
            "database.cloudnativepg.backup.bucket",
            &c.backup.as_ref()?.bucket,
        ),
        (None, None, e) => (
            "database.embedded.backup.bucket",
            &e.as_ref()?.backup.as_ref()?.bucket,
        ),
    };
    Some((path.to_owned(), given.clone()))
}

fn default_backups(meta: &Metadata) -> Option<BucketName> {
    BucketName::try_from(format!("{}-backups", meta.name)).ok()
}

/// Which consumers besides the tracking server the platform runs: only
/// they get an identity.
pub struct Consumers {
    pub gc: bool,
    pub predictors: bool,
    /// The platform's PostgreSQL is a CloudNativePG cluster, where a
    /// SeaweedFS cluster's filers may keep their file tree.
    pub cloudnativepg: bool,
}

pub fn resolve(
    a: &Artifacts,
    backups: Option<(String, Option<BucketName>)>,
    consumers: &Consumers,
    meta: &Metadata,
    r: &mut Resolver,
) -> Result<ArtifactsPlan, Located> {
    let elsewhere = store_elsewhere(a)?;
    let bucket = match (&a.external, &a.gcs, &a.azure_blob) {
        (Some(e), ..) => e.bucket.as_ref().map(|b| b.to_string()),
        (_, Some(g), _) => g.bucket.as_ref().map(|b| b.to_string()),
        (.., Some(z)) => z.container.as_ref().map(|c| c.to_string()),
        _ => Some(
            a.embedded
                .as_ref()
                .map_or("mlflow".into(), |e| e.bucket.to_string()),
        ),
    };
    let backups = match backups {
        Some((path, Some(b))) if Some(b.as_str()) == bucket.as_deref() => {
            return Err(err(
                &path,
                format!(
                    "{b} is the artifacts' bucket: whoever reads artifacts through MLflow would \
                     reach the database's dumps; name a bucket of their own"
                ),
            ));
        }
        // mlk creates no bucket in a store it does not run: the spec names
        // one that exists.
        Some((path, None)) if a.external.is_some() => {
            return Err(err(
                &path,
                "is required with artifacts.external: name a bucket that exists, apart from the \
                 artifacts' (whoever reads artifacts through MLflow would reach dumps kept there)",
            ));
        }
        Some((path, b)) if elsewhere.is_some() => Some((path, b)),
        // In a store mlk runs, `NAME-backups`, which the setup Job creates.
        Some((path, b)) => Some((path, b.or_else(|| default_backups(meta)))),
        None => None,
    };
    let migrating = a
        .embedded
        .as_ref()
        .is_some_and(|e| e.migrate_from.is_some());
    if let (Some(store), true) = (elsewhere, migrating) {
        return Err(err(
            "artifacts.embedded.migrateFrom",
            format!(
                "copies into the store mlk runs, and artifacts.{store} replaces it: copy into \
                 that store with your own tools, or remove artifacts.{store}"
            ),
        ));
    }
    match elsewhere {
        Some("external") => external(a, backups.and_then(|(_, b)| b), r),
        Some("gcs") => super::cloud_store::gcs(&a.gcs.clone().unwrap_or_default(), backups, r),
        Some(_) => super::cloud_store::azure(&a.azure_blob.clone().unwrap_or_default(), backups, r),
        None => {
            let spec = a.embedded.clone().unwrap_or_default();
            let used = |name: &&str| match *name {
                "gc" => consumers.gc,
                "predictor" => consumers.predictors,
                "backup" => backups.is_some(),
                "migrate" => spec.migrate_from.is_some(),
                _ => true,
            };
            let names: Vec<&'static str> = IDENTITIES.into_iter().filter(used).collect();
            let backups = backups.and_then(|(_, b)| b);
            embedded(spec, backups, &names, consumers.cloudnativepg, r)
        }
    }
}

/// The one store mlk does not run that the spec sets, if any: two are
/// refused, as the platform keeps artifacts in one place.
fn store_elsewhere(a: &Artifacts) -> Result<Option<&'static str>, Located> {
    let set: Vec<&'static str> = [
        ("external", a.external.is_some()),
        ("gcs", a.gcs.is_some()),
        ("azureBlob", a.azure_blob.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    match set.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        [first, second, ..] => Err(err(
            &format!("artifacts.{second}"),
            format!(
                "and artifacts.{first} are both set, and artifacts live in one store: remove one"
            ),
        )),
    }
}

fn embedded(
    spec: EmbeddedArtifacts,
    backups: Option<BucketName>,
    identities: &[&'static str],
    cloudnativepg: bool,
    r: &mut Resolver,
) -> Result<ArtifactsPlan, Located> {
    let (credentials, filer_password, migrate_from) = match spec.engine {
        Engine::Minio if spec.migrate_from.is_some() => {
            return Err(err(
                "artifacts.embedded.migrateFrom",
                "copies a MinIO's objects into SeaweedFS, and engine is minio: remove \
                 engine: minio (SeaweedFS is the default), or remove migrateFrom",
            ));
        }
        Engine::Minio => (minio(&spec, identities, r)?, None, None),
        Engine::Seaweedfs => {
            // The identities first: their errors (externalSecrets mode)
            // say what to change before any derived secret is asked for.
            let ids = seaweedfs(&spec, identities, r)?;
            let filer = seaweedfs_cluster(&spec, cloudnativepg, r)?;
            let source = source(&spec, backups.clone(), r)?;
            (ids, filer, source)
        }
    };
    Ok(ArtifactsPlan::Embedded(EmbeddedStore {
        spec: Box::new(spec),
        credentials,
        backups,
        filer_password,
        migrate_from,
    }))
}

/// The MinIO `migrateFrom` names, as mlk rendered it before: the same
/// bucket, root keys and volume, in the shape it had.
fn source(
    spec: &EmbeddedArtifacts,
    backups: Option<BucketName>,
    r: &mut Resolver,
) -> Result<Option<Box<EmbeddedStore>>, Located> {
    let Some(from) = &spec.migrate_from else {
        return Ok(None);
    };
    let n = from.replicas.0;
    if n != 1 && n < 4 {
        return Err(err(
            "artifacts.embedded.migrateFrom.replicas",
            format!("MinIO ran 1 server or 4 to 16 (distributed), not {n}: give the count it runs"),
        ));
    }
    let old = EmbeddedArtifacts {
        engine: Engine::Minio,
        replicas: from.replicas,
        cluster: None,
        storage: from.storage.clone().unwrap_or_else(|| spec.storage.clone()),
        image: None,
        migrate_from: None,
        ..spec.clone()
    };
    r.warnings.push(
        "artifacts.embedded.migrateFrom: MinIO runs beside SeaweedFS until the copy Job has \
         copied its objects, and the tracking server waits for that copy; then remove \
         migrateFrom (mlk diff old.yaml new.yaml prints each step)"
            .into(),
    );
    let source = |s: &Option<SecretSource>| s.clone().unwrap_or(SecretSource::Generate);
    Ok(Some(Box::new(EmbeddedStore {
        credentials: StoreCredentials::Root {
            user: r.resolve("artifacts.embedded.rootUser", &source(&spec.root_user)),
            password: r.resolve(
                "artifacts.embedded.rootPassword",
                &source(&spec.root_password),
            ),
            // Its consumers are SeaweedFS's now; only the copy Job reads
            // it, with the root keys, and it renders as it did.
            users: Vec::new(),
        },
        spec: Box::new(old),
        backups,
        filer_password: None,
        migrate_from: None,
    })))
}

fn minio(
    spec: &EmbeddedArtifacts,
    names: &[&'static str],
    r: &mut Resolver,
) -> Result<StoreCredentials, Located> {
    if spec.cluster.is_some() {
        return Err(err(
            "artifacts.embedded.cluster",
            "is SeaweedFS's: MinIO's distributed mode is set by replicas alone; remove it, or \
             use engine: seaweedfs",
        ));
    }
    let n = spec.replicas.0;
    if n != 1 && n < 4 {
        return Err(err(
            "artifacts.embedded.replicas",
            format!(
                "replicas must be 1 (one server) or 4 to 16 (distributed: erasure coding needs at \
                 least 4 drives), not {n}{}",
                match n {
                    3 =>
                        "; the ha profile's 3 counts SeaweedFS volume servers: a distributed \
                          MinIO that ha rendered before keeps its 4 with replicas: 4",
                    _ => "",
                }
            ),
        ));
    }
    let instead = match n {
        1 => {
            "SeaweedFS (engine: seaweedfs, the default) replaces it, and migrateFrom: {engine: \
              minio} copies its objects: see \"Moving from MinIO to SeaweedFS\" in docs/day-two.md"
        }
        _ => {
            "a SeaweedFS cluster (engine: seaweedfs, replicas: 3 or more) replaces it, and \
              migrateFrom: {engine: minio, replicas: N} copies its objects: see \"Moving from \
              MinIO to SeaweedFS\" in docs/day-two.md"
        }
    };
    r.warnings.push(format!(
        "artifacts.embedded.engine: minio: MinIO's community edition is archived and its image \
         receives no fixes; {instead}"
    ));
    let source = |s: &Option<SecretSource>| s.clone().unwrap_or(SecretSource::Generate);
    Ok(StoreCredentials::Root {
        user: r.resolve("artifacts.embedded.rootUser", &source(&spec.root_user)),
        password: r.resolve(
            "artifacts.embedded.rootPassword",
            &source(&spec.root_password),
        ),
        users: minio_users(names, r),
    })
}

/// The MinIO user of consumer `name` (MinIO wants 3 characters or more).
pub fn minio_user(name: &str) -> String {
    format!("mlk-{name}")
}

/// A MinIO user for each consumer but the bucket Job, which holds the
/// root keys. The access key is the user's name (`mlk-tracking`), which
/// `mc admin policy attach --user` names and MinIO's log shows; the
/// secret key is derived. In externalSecrets mode mlk invents no value,
/// so the consumers share the root keys, as MinIO platforms did before.
fn minio_users(names: &[&'static str], r: &mut Resolver) -> Vec<Identity> {
    if r.external_store() {
        r.warnings.push(
            "artifacts.embedded: in externalSecrets mode every consumer of MinIO shares its \
             root keys, since mlk derives each consumer's own; SeaweedFS (the default) with an \
             external store, or secrets.mode: inline, gives each its own"
                .into(),
        );
        return Vec::new();
    }
    names
        .iter()
        .filter(|name| !matches!(**name, "setup" | "migrate"))
        .map(|name| Identity {
            name,
            access_key: SecretValue::Value(Sensitive::not_secret(minio_user(name))),
            secret_key: r.resolve(
                &format!("artifacts.embedded.users.{name}.secretKey"),
                &SecretSource::Generate,
            ),
        })
        .collect()
}

fn seaweedfs(
    spec: &EmbeddedArtifacts,
    names: &[&'static str],
    r: &mut Resolver,
) -> Result<StoreCredentials, Located> {
    // With migrateFrom they are the old MinIO's, which still runs.
    let old = spec.migrate_from.is_none();
    let minio_only = [
        ("rootUser", old && spec.root_user.is_some()),
        ("rootPassword", old && spec.root_password.is_some()),
        ("mcImage", old && spec.mc_image.is_some()),
    ];
    if let Some((field, _)) = minio_only.iter().find(|(_, set)| *set) {
        return Err(err(
            &format!("artifacts.embedded.{field}"),
            "is MinIO's: SeaweedFS (engine: seaweedfs, the default) gives each consumer keys of \
             its own; remove it, or set engine: minio to keep running MinIO",
        ));
    }
    if r.external_store() {
        return Err(err(
            "artifacts.embedded.engine",
            "SeaweedFS's identities file holds every consumer's keys, which mlk derives, and \
             externalSecrets mode renders no secret value: use secrets.mode: inline, an external \
             store, or engine: minio with remote keys",
        ));
    }
    let identities = names
        .iter()
        .map(|name| {
            let at = |key: &str| format!("artifacts.embedded.identities.{name}.{key}");
            Identity {
                name,
                access_key: r.resolve(&at("accessKey"), &SecretSource::Generate),
                secret_key: r.resolve(&at("secretKey"), &SecretSource::Generate),
            }
        })
        .collect();
    Ok(StoreCredentials::Identities(identities))
}

/// With 3 or more volume servers, SeaweedFS runs as a cluster whose
/// filers keep the file tree in the platform's PostgreSQL: the password
/// of their own role there.
fn seaweedfs_cluster(
    spec: &EmbeddedArtifacts,
    cloudnativepg: bool,
    r: &mut Resolver,
) -> Result<Option<SecretValue>, Located> {
    let n = spec.replicas.0;
    if n == 1 {
        if spec.cluster.is_some() {
            return Err(err(
                "artifacts.embedded.cluster",
                "shapes a cluster of 3 or more volume servers (replicas), and replicas is 1: \
                 set replicas: 3 or more, or remove cluster",
            ));
        }
        return Ok(None);
    }
    if n < 3 {
        return Err(err(
            "artifacts.embedded.replicas",
            format!(
                "a SeaweedFS cluster needs 3 or more volume servers, not {n}: each file is \
                 written to two of them, and a third takes over when one is lost; use 1 for one \
                 process"
            ),
        ));
    }
    let shape = spec.cluster.clone().unwrap_or_default();
    if ![3, 5, 7].contains(&shape.masters) {
        let why = if shape.masters < 3 {
            "with fewer than 3 masters, losing one leaves no raft majority and the store stops"
        } else {
            "raft needs 3, 5 or 7 masters (an even number survives no more losses than one \
             fewer, and more than 7 slow every election)"
        };
        return Err(err(
            "artifacts.embedded.cluster.masters",
            format!("{why}: use 3, 5 or 7, not {}", shape.masters),
        ));
    }
    for (field, count) in [("filers", shape.filers), ("gateways", shape.gateways)] {
        if !(2..=16).contains(&count) {
            return Err(err(
                &format!("artifacts.embedded.cluster.{field}"),
                format!("must be 2 to 16, so that one can be lost, not {count}"),
            ));
        }
    }
    if !cloudnativepg {
        return Err(err(
            "artifacts.embedded.replicas",
            "a SeaweedFS cluster keeps its filers' file tree in the platform's PostgreSQL, which \
             must then survive a lost node too: use database.cloudnativepg (as the ha profile \
             does), or replicas: 1",
        ));
    }
    Ok(Some(r.resolve(
        "artifacts.embedded.cluster.filerPassword",
        &SecretSource::Generate,
    )))
}

fn external(
    a: &Artifacts,
    backups: Option<BucketName>,
    r: &mut Resolver,
) -> Result<ArtifactsPlan, Located> {
    let ext = a.external.clone().unwrap_or_default();
    let keys = match (ext.access_key_id, ext.secret_access_key, &ext.identity) {
        (None, None, _) => None,
        (_, _, Some(_)) => {
            return Err(err(
                "artifacts.external.identity",
                "takes the place of accessKeyId and secretAccessKey: remove the keys, or the \
                 identity",
            ));
        }
        (id, secret, None) => Some(S3Keys {
            access_key_id: external_secret(r, "artifacts.external.accessKeyId", id)?,
            secret_access_key: external_secret(r, "artifacts.external.secretAccessKey", secret)?,
        }),
    };
    if keys.is_none() && ext.identity.is_none() {
        r.warnings.push(
            "artifacts.external has no keys and no identity: the pods use the credentials EKS \
             Pod Identity (or, without NetworkPolicies, their node) gives them"
                .into(),
        );
    }
    Ok(ArtifactsPlan::External(ExternalS3 {
        bucket: required(
            ext.bucket,
            "artifacts.external.bucket",
            "when artifacts.external is set",
        )?,
        endpoint: ext.endpoint,
        region: ext.region,
        keys,
        role_arn: ext.identity.map(|i| i.aws_role_arn),
        backups,
    }))
}
