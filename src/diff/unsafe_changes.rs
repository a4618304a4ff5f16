//! Changes `kubectl apply` refuses, or accepts and then breaks: fields the
//! API server will not change, data a removal loses, and credentials an
//! initialised store keeps. Each comes with the steps that carry it out.

use crate::manifest::Value;
use serde::Serialize;

/// One unsafe change of one object.
#[derive(Debug, Clone, Serialize)]
pub struct Unsafe {
    pub reason: String,
    /// What carries the change out safely, one command or step a line.
    pub steps: Vec<String>,
}

/// An object's identity and its two versions, as the rules see them.
pub struct Pair<'a> {
    pub old: Option<&'a Value>,
    pub new: Option<&'a Value>,
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut at = v;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str()
}

fn seq(v: &Value) -> &[Value] {
    v.as_sequence().map_or(&[], Vec::as_slice)
}

fn ns_name(v: &Value) -> (String, String) {
    let ns = s(v, &["metadata", "namespace"])
        .unwrap_or("default")
        .to_owned();
    let name = s(v, &["metadata", "name"]).unwrap_or("?").to_owned();
    (ns, name)
}

/// The unsafe changes between `pair.old` and `pair.new`; `new_stream` is
/// everything NEW holds, to tell which Secret keys a store reads.
pub fn check(pair: &Pair, new_stream: &[Value]) -> Vec<Unsafe> {
    match (pair.old, pair.new) {
        (Some(old), Some(new)) => changed(old, new, new_stream),
        (Some(old), None) => removed(old).into_iter().collect(),
        (None, Some(new)) => copy_from_minio(new).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn changed(old: &Value, new: &Value, stream: &[Value]) -> Vec<Unsafe> {
    match new["kind"].as_str().unwrap_or_default() {
        "StatefulSet" => stateful_set(old, new),
        "Deployment" if old["spec"]["selector"] != new["spec"]["selector"] => {
            let (ns, name) = ns_name(new);
            vec![Unsafe {
                reason: "a Deployment's selector cannot change: apply would be refused".into(),
                steps: vec![
                    format!("kubectl -n {ns} delete deployment {name}   # its pods stop"),
                    "then apply again".into(),
                ],
            }]
        }
        "Job" if old["spec"]["template"] != new["spec"]["template"] => {
            let (ns, name) = ns_name(new);
            vec![Unsafe {
                reason: "a Job's pod template cannot change: apply would be refused".into(),
                steps: vec![
                    format!("kubectl -n {ns} delete job {name}"),
                    "then apply again".into(),
                ],
            }]
        }
        "Service" => service(old, new),
        "PersistentVolumeClaim" => claim(old, new),
        "Secret" => kept_credentials(old, new, stream),
        "Cluster" => barman_moves(old, new).into_iter().collect(),
        "CronJob" => dumps_move(old, new).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// The backup CronJob's uploads going to another bucket: the dumps taken
/// so far stay where they were (beneath the artifacts, when they were
/// there, where anyone who reads artifacts can list them).
fn dumps_move(old: &Value, new: &Value) -> Option<Unsafe> {
    if s(new, &["metadata", "labels", "app.kubernetes.io/component"]) != Some("backup") {
        return None;
    }
    let env = |w: &Value, var: &str| -> Option<String> {
        let spec = &w["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        seq(&spec["containers"])
            .iter()
            .flat_map(|c| seq(&c["env"]))
            .find(|e| e["name"] == var)
            .and_then(|e| e["value"].as_str().map(str::to_owned))
    };
    // Where dumps go, as a URI; an mlk before GCS and Azure wrote only
    // an S3 bucket's name.
    let store =
        |w: &Value| env(w, "DESTINATION").or_else(|| env(w, "BUCKET").map(|b| format!("s3://{b}")));
    let place = |w: &Value| Some((store(w)?, env(w, "PREFIX")?));
    let ((from, from_path), (to, to_path)) = (place(old)?, place(new)?);
    if (&from, &from_path) == (&to, &to_path) {
        return None;
    }
    Some(Unsafe {
        reason: format!(
            "the database's dumps go to {to}/{to_path} instead of {from}/{from_path}: the dumps \
             so far stay behind, and a restore looks for them in the new place"
        ),
        steps: vec![
            "apply".into(),
            format!(
                "rclone copy OLD:{from}/{from_path} NEW:{to}/{to_path}   # or mc mirror, aws s3 sync, gcloud storage rsync, azcopy: with keys that read the old place and write the new"
            ),
            format!(
                "rclone purge OLD:{from}/{from_path}   # once copied: whoever reads {from} can read them"
            ),
        ],
    })
}

/// A CloudNativePG Cluster that archives somewhere else from now on: the
/// backups taken so far stay where they are, and the new place holds no
/// base backup to restore from until one is taken.
fn barman_moves(old: &Value, new: &Value) -> Option<Unsafe> {
    // The same path in another store (MinIO to SeaweedFS) is a move too.
    let place = |v: &Value| -> Option<String> {
        let store = &v["spec"]["backup"]["barmanObjectStore"];
        let path = store["destinationPath"].as_str()?;
        Some(match store["endpointURL"].as_str() {
            Some(endpoint) => format!("{path} at {endpoint}"),
            None => path.to_owned(),
        })
    };
    let (from, to) = (place(old)?, place(new)?);
    if from == to {
        return None;
    }
    let (ns, name) = ns_name(new);
    Some(Unsafe {
        reason: format!(
            "Cluster {name} archives to {to} instead of {from}: the backups so far stay at {from}, \
             and nothing can be restored from {to} until a base backup is taken there"
        ),
        steps: vec![
            "apply".into(),
            format!(
                "kubectl cnpg backup -n {ns} {name}   # or a Backup object: the first base backup in the new place"
            ),
            format!("keep {from} until that backup completes"),
        ],
    })
}

fn stateful_set(old: &Value, new: &Value) -> Vec<Unsafe> {
    let (ns, name) = ns_name(new);
    let mut out = Vec::new();
    let orphan = format!(
        "kubectl -n {ns} delete statefulset {name} --cascade=orphan   # pods and volumes stay"
    );
    for field in ["selector", "serviceName", "podManagementPolicy"] {
        if old["spec"][field] != new["spec"][field] {
            out.push(Unsafe {
                reason: format!("a StatefulSet's {field} cannot change: apply would be refused"),
                steps: vec![
                    orphan.clone(),
                    "then apply again: the new StatefulSet adopts the pods".into(),
                ],
            });
        }
    }
    let (old_t, new_t) = (
        &old["spec"]["volumeClaimTemplates"],
        &new["spec"]["volumeClaimTemplates"],
    );
    // A class alone is the storage_class rule's: the data must move.
    if old_t != new_t && !only_class_differs(old_t, new_t) {
        out.push(volume_templates(old, new, &ns, &name, &orphan));
    }
    out.extend(minio_goes_distributed(old, new));
    out.extend(volume_servers_leave(old, new));
    out
}

/// Whether two claim templates differ in their class alone: the change
/// `storage_class` explains, rather than the generic one of the templates.
pub fn only_class_differs(old: &Value, new: &Value) -> bool {
    let without_class = |v: &Value| {
        let mut v = v.clone();
        for t in v.as_sequence_mut().into_iter().flatten() {
            if let Some(spec) = t.get_mut("spec").and_then(Value::as_mapping_mut) {
                spec.remove("storageClassName");
            }
        }
        v
    };
    old != new && without_class(old) == without_class(new)
}

/// Fewer SeaweedFS volume servers: the StatefulSet removes the last ones
/// at once, and a file whose two copies were on them is gone.
fn volume_servers_leave(old: &Value, new: &Value) -> Option<Unsafe> {
    let labels = ["metadata", "labels", "app.kubernetes.io/component"];
    if s(new, &labels) != Some("seaweedfs-volume") {
        return None;
    }
    let count = |v: &Value| v["spec"]["replicas"].as_u64();
    let (from, to) = (count(old)?, count(new)?);
    if to >= from {
        return None;
    }
    let (ns, name) = ns_name(new);
    let master = name.replace("-volume", "-master");
    let shell = format!("kubectl -n {ns} exec -i {master}-0 -- weed shell");
    let mut steps: Vec<String> = (to..from)
        .rev()
        .map(|i| {
            format!(
                "echo 'lock; volumeServer.evacuate -node {name}-{i}.{name}.{ns}.svc.cluster.local:8080 -apply; unlock' | {shell}   # its files move to the others, one server at a time"
            )
        })
        .collect();
    steps.push("apply: the StatefulSet removes the emptied servers".into());
    steps.push(format!(
        "echo 'lock; volume.fix.replication -apply; unlock' | {shell}   # every file has two copies again"
    ));
    Some(Unsafe {
        reason: format!(
            "SeaweedFS goes from {from} volume servers to {to}: the StatefulSet removes the last \
             ones together, and a file with both copies on them would be lost"
        ),
        steps,
    })
}

fn storage(template: &Value) -> Option<&str> {
    s(template, &["spec", "resources", "requests", "storage"])
}

/// A volume that grows can be grown in place, claim by claim, and the
/// StatefulSet recreated around its pods; one that shrinks cannot.
fn volume_templates(old: &Value, new: &Value, ns: &str, name: &str, orphan: &str) -> Unsafe {
    let replicas = new["spec"]["replicas"].as_u64().unwrap_or(1);
    let mut steps = Vec::new();
    let mut reason =
        "a StatefulSet's volumeClaimTemplates cannot change: apply would be refused".to_owned();
    for t in seq(&new["spec"]["volumeClaimTemplates"]) {
        let tname = s(t, &["metadata", "name"]).unwrap_or("data");
        let before = seq(&old["spec"]["volumeClaimTemplates"])
            .iter()
            .find(|o| s(o, &["metadata", "name"]) == Some(tname))
            .and_then(storage);
        let (Some(before), Some(after)) = (before, storage(t)) else {
            continue;
        };
        if before == after {
            continue;
        }
        if bytes(after) < bytes(before) {
            reason = format!(
                "volume {tname} would shrink from {before} to {after}: a volume cannot shrink; keep {before}"
            );
            return Unsafe {
                reason,
                steps: Vec::new(),
            };
        }
        reason = format!(
            "volume {tname} grows from {before} to {after}, and volumeClaimTemplates cannot change in place"
        );
        let patch =
            format!("{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"{after}\"}}}}}}}}");
        for i in 0..replicas {
            steps.push(format!("kubectl -n {ns} patch pvc {tname}-{name}-{i} -p '{patch}'   # needs allowVolumeExpansion"));
        }
    }
    steps.push(orphan.to_owned());
    steps
        .push("then apply again: the new StatefulSet adopts the pods and the grown volumes".into());
    Unsafe { reason, steps }
}

fn minio_goes_distributed(old: &Value, new: &Value) -> Option<Unsafe> {
    let component = s(new, &["metadata", "labels", "app.kubernetes.io/component"]);
    let replicas = |v: &Value| v["spec"]["replicas"].as_u64().unwrap_or(1);
    let to_many = replicas(old) == 1 && replicas(new) > 1;
    (component == Some("artifacts") && to_many).then(|| Unsafe {
        reason:
            "MinIO moves from one server to a distributed erasure set: its objects are not moved, \
                 and the new set starts empty"
                .into(),
        steps: vec![
            "copy the bucket out first: mc mirror OLD/BUCKET backup/BUCKET".into(),
            "apply, then copy it back: mc mirror backup/BUCKET NEW/BUCKET".into(),
        ],
    })
}

fn service(old: &Value, new: &Value) -> Vec<Unsafe> {
    let mut out = Vec::new();
    let ip = |v: &Value| {
        s(v, &["spec", "clusterIP"])
            .filter(|ip| !ip.is_empty())
            .map(str::to_owned)
    };
    if let (Some(a), Some(b)) = (ip(old), ip(new))
        && a != b
    {
        out.push(Unsafe {
            reason: format!(
                "a Service's clusterIP cannot change ({a} → {b}): apply would be refused"
            ),
            steps: recreate("service", new),
        });
    }
    let external = |v: &Value| s(v, &["spec", "type"]) == Some("ExternalName");
    if external(old) != external(new) {
        out.push(Unsafe {
            reason: "a Service turns into or out of an ExternalName: its cluster IP comes or goes"
                .into(),
            steps: recreate("service", new),
        });
    }
    out
}

fn recreate(kind: &str, v: &Value) -> Vec<String> {
    let (ns, name) = ns_name(v);
    vec![
        format!("kubectl -n {ns} delete {kind} {name}"),
        "then apply again".into(),
    ]
}

/// A storage quantity's size, to compare two.
fn bytes(q: &str) -> Option<f64> {
    crate::types::Quantity::parse(q).ok().map(|q| q.value())
}

fn claim(old: &Value, new: &Value) -> Vec<Unsafe> {
    let size = |v: &Value| storage(v).and_then(bytes);
    match (size(old), size(new)) {
        (Some(a), Some(b)) if b < a => vec![Unsafe {
            reason: format!(
                "the claim would shrink from {} to {}: a volume cannot shrink",
                storage(old).unwrap_or_default(),
                storage(new).unwrap_or_default()
            ),
            steps: Vec::new(),
        }],
        _ => Vec::new(),
    }
}

/// The Job `migrateFrom: {engine: minio}` adds: the artifacts move from
/// MinIO into SeaweedFS, in steps that lose nothing.
fn copy_from_minio(new: &Value) -> Option<Unsafe> {
    let labels = ["metadata", "labels", "app.kubernetes.io/component"];
    if new["kind"] != "Job" || s(new, &labels) != Some("artifacts-copy") {
        return None;
    }
    let (ns, job) = ns_name(new);
    let name = s(new, &["metadata", "labels", "app.kubernetes.io/instance"]).unwrap_or("NAME");
    Some(Unsafe {
        reason: format!(
            "Job {job} copies MinIO's objects into SeaweedFS; the tracking server moves to \
             SeaweedFS once the copy is complete"
        ),
        steps: vec![
            format!(
                "kubectl -n {ns} scale deployment {name}-tracking --replicas=0   # optional: no run writes to MinIO during the copy"
            ),
            "apply: MinIO keeps running; SeaweedFS starts, and the Job copies every bucket".into(),
            format!(
                "kubectl -n {ns} logs job/{job}   # verify the counts: \"N objects in MinIO, all N in SeaweedFS\" for each bucket"
            ),
            format!(
                "kubectl -n {ns} rollout status deployment {name}-tracking   # its wait-for-copy init step lets it start once the Job has written its marker"
            ),
            format!(
                "remove migrateFrom, render and apply, then kubectl -n {ns} delete statefulset {name}-minio && kubectl -n {ns} delete service {name}-minio   # keep MinIO's volume a while"
            ),
            "to go back before MinIO is removed: engine: minio without migrateFrom, and apply: the tracking server returns to MinIO, which holds everything logged before the switch".into(),
        ],
    })
}

/// What a removal loses: the data on its volumes.
fn removed(old: &Value) -> Option<Unsafe> {
    let kind = old["kind"].as_str().unwrap_or_default();
    let (ns, name) = ns_name(old);
    let store = match s(old, &["metadata", "labels", "app.kubernetes.io/component"]) {
        Some("database") => "the database",
        Some("artifacts") => "the artifact store",
        _ => "its volumes",
    };
    let steps = match kind {
        "StatefulSet" if store == "the artifact store" => vec![
            format!(
                "copy its buckets into the new store first (see \"{}\" in docs/day-two.md)",
                match s(old, &["metadata", "labels", "app.kubernetes.io/name"]) {
                    Some("seaweedfs") => "Moving SeaweedFS into a cluster",
                    _ => "Moving from MinIO to SeaweedFS",
                }
            ),
            format!(
                "kubectl -n {ns} delete statefulset {name} --cascade=orphan   # keeps pods and volumes while you move the data"
            ),
            format!(
                "kubectl -n {ns} label pod {name}-0 app.kubernetes.io/component=artifacts-old --overwrite   # out of the S3 Service, which the new store's pods take over"
            ),
        ],
        "StatefulSet" => vec![
            format!(
                "back up {store} first (for PostgreSQL: kubectl -n {ns} exec {name}-0 -- pg_dump -Fc ... > mlflow.dump)"
            ),
            format!(
                "kubectl -n {ns} delete statefulset {name} --cascade=orphan   # keeps pods and volumes while you move the data"
            ),
        ],
        "PersistentVolumeClaim" => vec![format!("back up what {name} holds first")],
        "Cluster" => vec![format!(
            "back up the CloudNativePG cluster {name} first (a Backup, or pg_dump)"
        )],
        _ => return None,
    };
    Some(Unsafe {
        reason: format!(
            "{kind} {name} is removed: {store} would be lost (a database or artifact store switched \
             without a migration, or a component turned off)"
        ),
        steps,
    })
}

/// A changed Secret key that a store read when it was initialised and
/// keeps: PostgreSQL's and MinIO's credentials, MLflow's KEK passphrase
/// and its first admin's password.
fn kept_credentials(old: &Value, new: &Value, stream: &[Value]) -> Vec<Unsafe> {
    let (ns, secret) = ns_name(new);
    let mut out = Vec::new();
    if managed_role(stream, &secret) {
        return out;
    }
    let data = |v: &Value| v["data"].as_mapping().cloned().unwrap_or_default();
    let (before, after) = (data(old), data(new));
    let before = before.lookup();
    for (key, value) in &after {
        let Some(key) = key.as_str() else { continue };
        if before.get(key).is_none_or(|b| b == value) {
            continue;
        }
        for reader in readers(stream, &secret, key) {
            if let Some(u) = kept_by(&reader, &ns, key, old, new) {
                out.push(u);
            }
        }
    }
    out
}

/// Who reads a Secret key: the workload's kind and name, and the env var
/// (when it is read from the environment).
struct Reader {
    kind: String,
    name: String,
    env: Option<String>,
    /// PostgreSQL's user and database, from the workload's env.
    postgres: Option<(String, String)>,
}

/// A Secret that a CloudNativePG Cluster sets a managed role's password
/// from: the operator changes the role's password with it, so a reader
/// (a SeaweedFS filer) logs in with the new one once it restarts.
fn managed_role(stream: &[Value], secret: &str) -> bool {
    stream
        .iter()
        .filter(|d| d["kind"] == "Cluster")
        .flat_map(|c| seq(&c["spec"]["managed"]["roles"]))
        .any(|role| s(role, &["passwordSecret", "name"]) == Some(secret))
}

fn plain_env<'a>(w: &'a Value, var: &str) -> Option<&'a str> {
    let spec = &w["spec"]["template"]["spec"];
    seq(&spec["containers"])
        .iter()
        .flat_map(|c| seq(&c["env"]))
        .find(|e| e["name"] == var)
        .and_then(|e| e["value"].as_str())
}

fn readers(stream: &[Value], secret: &str, key: &str) -> Vec<Reader> {
    let mut out = Vec::new();
    for w in stream {
        let spec = &w["spec"]["template"]["spec"];
        let kind = w["kind"].as_str().unwrap_or_default().to_owned();
        let name = s(w, &["metadata", "name"]).unwrap_or_default().to_owned();
        let postgres = plain_env(w, "POSTGRES_USER")
            .zip(plain_env(w, "POSTGRES_DB"))
            .map(|(u, d)| (u.to_owned(), d.to_owned()));
        let containers = seq(&spec["initContainers"])
            .iter()
            .chain(seq(&spec["containers"]));
        for c in containers {
            for e in seq(&c["env"]) {
                let r = &e["valueFrom"]["secretKeyRef"];
                if r["name"] == secret && r["key"] == key {
                    let env = e["name"].as_str().map(str::to_owned);
                    out.push(Reader {
                        kind: kind.clone(),
                        name: name.clone(),
                        env,
                        postgres: postgres.clone(),
                    });
                }
            }
        }
        for v in seq(&spec["volumes"]) {
            let sources = seq(&v["projected"]["sources"]).iter().map(|p| &p["secret"]);
            for src in sources.filter(|p| p["name"] == secret) {
                if seq(&src["items"]).iter().any(|i| i["key"] == key) {
                    out.push(Reader {
                        kind: kind.clone(),
                        name: name.clone(),
                        env: None,
                        postgres: postgres.clone(),
                    });
                }
            }
        }
    }
    out
}

fn kept_by(reader: &Reader, ns: &str, key: &str, old: &Value, new: &Value) -> Option<Unsafe> {
    let (kind, name) = (reader.kind.as_str(), reader.name.as_str());
    if reader.env.as_deref() == Some("MLFLOW_CRYPTO_KEK_PASSPHRASE") {
        return Some(Unsafe {
            reason: format!("the AI Gateway's passphrase ({key}) changes: every provider key stored under the old one becomes unreadable"),
            steps: vec![
                format!("kubectl -n {ns} scale deployment {name} --replicas=0"),
                "run `mlflow crypto rotate-kek` once against the database, with the OLD passphrase in MLFLOW_CRYPTO_KEK_PASSPHRASE and the new one given to it".into(),
                "then apply".into(),
            ],
        });
    }
    if key == "basic_auth.ini" && admin_password(old) == admin_password(new) {
        return None;
    }
    if key == "basic_auth.ini" || key == "admin-password" {
        return Some(Unsafe {
            reason: "the first admin's password changes, but MLflow reads it only while no user exists: the new one would be ignored".into(),
            steps: vec!["change it through MLflow's API first: POST /api/2.0/mlflow/users/update-password as that admin".into(), "then apply".into()],
        });
    }
    if kind != "StatefulSet" {
        return None;
    }
    let steps = if let Some((user, db)) = &reader.postgres {
        vec![
            format!(
                "kubectl -n {ns} exec -it {name}-0 -- psql -U {user} -d {db} -c '\\password {user}'   # type the new password"
            ),
            "then apply".into(),
        ]
    } else {
        vec!["keep the old value (for example as an existingSecret), or rotate it as the store's own documentation says, then apply".into()]
    };
    Some(Unsafe {
        reason: format!(
            "{key} of {kind} {name} changes, but the store keeps the credentials it was first started with: the new value would be refused"
        ),
        steps,
    })
}

/// The `admin_password` line of an auth ini in a Secret's data.
fn admin_password(secret: &Value) -> Option<String> {
    use base64::Engine;
    let encoded = secret["data"]["basic_auth.ini"].as_str()?;
    let text = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(text).ok()?;
    text.lines()
        .find(|l| l.starts_with("admin_password"))
        .map(str::to_owned)
}
