//! A volume's StorageClass: a claim's class cannot change, so a new one
//! reaches only claims made after it. The data stays on the old class
//! until it is moved, in steps that keep a copy.

use super::unsafe_changes::Unsafe;
use crate::manifest::Value;

/// The class change of a StatefulSet's volume or a CloudNativePG Cluster.
pub fn check(old: &Value, new: &Value) -> Option<Unsafe> {
    match new["kind"].as_str()? {
        "StatefulSet" => stateful_set(old, new),
        "Cluster" => cluster(old, new),
        _ => None,
    }
}

fn class(v: &Value) -> String {
    v.as_str().unwrap_or("the cluster's default").to_owned()
}

fn names(v: &Value) -> (&str, &str) {
    let meta = &v["metadata"];
    (
        meta["namespace"].as_str().unwrap_or("default"),
        meta["name"].as_str().unwrap_or("?"),
    )
}

fn stateful_set(old: &Value, new: &Value) -> Option<Unsafe> {
    let templates = |v: &Value| v["spec"]["volumeClaimTemplates"].clone();
    let (before, after) = (templates(old), templates(new));
    let changed = after.as_sequence()?.iter().find_map(|t| {
        let name = &t["metadata"]["name"];
        let was = before
            .as_sequence()?
            .iter()
            .find(|o| o["metadata"]["name"] == *name)?;
        let (from, to) = (
            &was["spec"]["storageClassName"],
            &t["spec"]["storageClassName"],
        );
        (from != to).then(|| {
            (
                name.as_str().unwrap_or("data").to_owned(),
                class(from),
                class(to),
            )
        })
    })?;
    let (volume, from, to) = changed;
    let (ns, sts) = names(new);
    // That template's claims, and no other's.
    let replicas = new["spec"]["replicas"].as_u64().unwrap_or(1);
    let claims: Vec<String> = (0..replicas)
        .map(|i| format!("{volume}-{sts}-{i}"))
        .collect();
    Some(Unsafe {
        reason: format!(
            "the StatefulSet {sts}'s volume {volume} moves from StorageClass {from} to {to}: a \
             claim's class cannot change, so the data stays on {from} until it is moved"
        ),
        steps: vec![
            format!("or keep {from}: set the spec's storage.className back, and nothing moves"),
            "scale what writes to it to 0 (the tracking server, for the database), so nothing \
             is written after the copy"
                .into(),
            "copy the data out: pg_dump for PostgreSQL, an S3 copy (rclone, mc mirror) for a \
             store, and check the copy"
                .into(),
            format!("kubectl -n {ns} delete statefulset {sts}   # its pods stop"),
            format!("kubectl -n {ns} delete pvc {}", claims.join(" ")),
            format!("apply: new, empty claims on {to}"),
            "copy the data back (pg_restore, or the S3 copy the other way)".into(),
        ],
    })
}

/// CloudNativePG gives new instances the new class; each existing one is
/// replaced, replicas first, cloned from the primary.
fn cluster(old: &Value, new: &Value) -> Option<Unsafe> {
    let at = |v: &Value| v["spec"]["storage"]["storageClass"].clone();
    let (from, to) = (at(old), at(new));
    if from == to {
        return None;
    }
    let (from, to) = (class(&from), class(&to));
    let (ns, cluster) = names(new);
    Some(Unsafe {
        reason: format!(
            "the CloudNativePG Cluster {cluster} moves from StorageClass {from} to {to}: existing \
             instances keep their volumes on {from}, only new ones get {to}"
        ),
        steps: vec![
            format!("kubectl cnpg backup -n {ns} {cluster}   # and wait until it completes"),
            "with one instance: raise database.cloudnativepg.instances to 2 first, so that one \
             always holds the data"
                .into(),
            "apply".into(),
            format!(
                "kubectl cnpg destroy -n {ns} {cluster} INSTANCE, for each replica in turn: the \
                 operator makes it again on {to}, cloned from the primary"
            ),
            format!(
                "kubectl cnpg promote -n {ns} {cluster} REPLICA, then destroy the old primary the \
                 same way"
            ),
        ],
    })
}
