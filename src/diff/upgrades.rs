//! Changes that apply cleanly, or that the cluster refuses, and cost a
//! planned upgrade: a new MLflow (a schema migration), a new PostgreSQL
//! major version, a new StorageClass, a removed Namespace, a KServe
//! deployment mode. Each
//! comes with its steps, in order.

use super::unsafe_changes::Unsafe;
use crate::manifest::Value;

/// The costly upgrades between two versions of one object.
pub fn check(old: Option<&Value>, new: Option<&Value>) -> Vec<Unsafe> {
    match (old, new) {
        (Some(old), Some(new)) => match new["kind"].as_str().unwrap_or_default() {
            "Deployment" => mlflow_upgrade(old, new).into_iter().collect(),
            "StatefulSet" => postgres_major(old, new)
                .into_iter()
                .chain(super::storage_class::check(old, new))
                .collect(),
            "Cluster" => cloudnativepg_major(old, new)
                .into_iter()
                .chain(super::storage_class::check(old, new))
                .collect(),
            "InferenceService" => deployment_mode(old, new).into_iter().collect(),
            _ => Vec::new(),
        },
        (Some(old), None) if old["kind"] == "Namespace" => vec![namespace_removed(old)],
        _ => Vec::new(),
    }
}

fn name(v: &Value) -> (&str, &str) {
    let meta = &v["metadata"];
    (
        meta["namespace"].as_str().unwrap_or("default"),
        meta["name"].as_str().unwrap_or("?"),
    )
}

/// The image of the container named `container` in a workload's pods.
fn image<'a>(workload: &'a Value, container: &str) -> Option<&'a str> {
    let containers = workload["spec"]["template"]["spec"]["containers"].as_sequence()?;
    let c = containers.iter().find(|c| c["name"] == container)?;
    c["image"].as_str()
}

/// A plain env var of the container named `container`.
fn env<'a>(workload: &'a Value, container: &str, var: &str) -> Option<&'a str> {
    let containers = workload["spec"]["template"]["spec"]["containers"].as_sequence()?;
    let c = containers.iter().find(|c| c["name"] == container)?;
    let e = c["env"].as_sequence()?.iter().find(|e| e["name"] == var)?;
    e["value"].as_str()
}

/// A workload's pods, as `kubectl -l` selects them.
fn selector(workload: &Value) -> String {
    let labels = workload["spec"]["selector"]["matchLabels"].as_mapping();
    let pairs = labels
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some(format!("{}={}", k.as_str()?, v.as_str()?)));
    pairs.collect::<Vec<_>>().join(",")
}

/// `registry/name:tag` → `tag`, without a digest.
fn tag(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map_or("latest", |(_, t)| t)
}

/// The release line of a tag: `v3.17.2-full` → (3, 17).
fn minor(tag: &str) -> Option<(u32, u32)> {
    let mut parts = tag.trim_start_matches('v').split(['.', '-']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The leading number of a tag: `17.6-bookworm` → 17, `v3.17.2` → 3.
fn major(tag: &str) -> Option<u32> {
    let digits: String = tag
        .trim_start_matches('v')
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The tracking server's image: MLflow migrates its schema when a new
/// release starts, and an old server must not run against the new schema.
fn mlflow_upgrade(old: &Value, new: &Value) -> Option<Unsafe> {
    let (before, after) = (image(old, "mlflow")?, image(new, "mlflow")?);
    // MLflow adds migrations in minor releases: a patch release, or the
    // same release from another registry, migrates nothing. A tag that is
    // no version counts as a new release.
    let (from, to) = (minor(tag(before)), minor(tag(after)));
    if from.is_some() && from == to {
        return None;
    }
    let (ns, deployment) = name(new);
    Some(Unsafe {
        reason: format!(
            "MLflow changes ({} -> {}): its first pod migrates the database's schema, which an \
             older server cannot read, and which cannot be rolled back without a backup",
            tag(before),
            tag(after)
        ),
        steps: vec![
            "back up the database first (a CloudNativePG Backup, the backup CronJob's dump, or \
             pg_dump)"
                .into(),
            format!(
                "kubectl -n {ns} scale deployment {deployment} --replicas=0   # no old server on the new schema"
            ),
            format!(
                "kubectl -n {ns} wait --for=delete pod -l {} --timeout=10m",
                selector(new)
            ),
            "apply: the new pods' migration step migrates once, under its lock, before any server \
             starts; the replicas (or the HPA) come back"
                .into(),
            "to go back: restore the backup, then apply the old render".into(),
        ],
    })
}

/// The embedded PostgreSQL's major version: a new major cannot open the
/// old one's data directory.
fn postgres_major(old: &Value, new: &Value) -> Option<Unsafe> {
    let (before, after) = (image(old, "postgres")?, image(new, "postgres")?);
    let (from, to) = (major(tag(before))?, major(tag(after))?);
    if from == to {
        return None;
    }
    let (ns, sts) = name(new);
    let user = env(new, "postgres", "POSTGRES_USER").unwrap_or("mlflow");
    let db = env(new, "postgres", "POSTGRES_DB").unwrap_or("mlflow");
    let claims = selector(new);
    Some(Unsafe {
        reason: format!(
            "PostgreSQL {from} -> {to}: the new major version cannot open the old one's data \
             directory, and the server would not start"
        ),
        steps: vec![
            "scale the tracking server to 0 (kubectl scale deployment ... --replicas=0)".into(),
            format!("kubectl -n {ns} exec {sts}-0 -- pg_dump -Fc -U {user} {db} > mlflow.dump"),
            format!(
                "kubectl -n {ns} delete statefulset {sts} && kubectl -n {ns} delete pvc -l {claims}   # after checking the dump"
            ),
            "apply: PostgreSQL starts empty on the new version".into(),
            format!(
                "kubectl -n {ns} exec -i {sts}-0 -- pg_restore -U {user} -d {db} --no-owner < mlflow.dump"
            ),
            "scale the tracking server back up (or apply again)".into(),
        ],
    })
}

/// A CloudNativePG Cluster's major version.
fn cloudnativepg_major(old: &Value, new: &Value) -> Option<Unsafe> {
    let image = |v: &Value| v["spec"]["imageName"].as_str().map(tag).and_then(major);
    let (from, to) = (image(old)?, image(new)?);
    if from == to {
        return None;
    }
    let (ns, cluster) = name(new);
    Some(Unsafe {
        reason: format!(
            "PostgreSQL {from} -> {to} in the CloudNativePG Cluster {cluster}: a major upgrade, \
             which stops the cluster while it runs (CloudNativePG 1.26 or later does it in place; \
             older operators refuse it)"
        ),
        steps: vec![
            format!("kubectl cnpg backup -n {ns} {cluster}   # and wait until it completes"),
            "apply: the operator shuts the instances down, runs pg_upgrade, and starts them \
             again"
                .into(),
            "before CloudNativePG 1.26: create a new Cluster on the new version that imports this \
             one (bootstrap.initdb.import), then point the platform at it"
                .into(),
        ],
    })
}

/// KServe's mode, by its names since 0.16; none when the object leaves
/// it to the cluster's default.
fn mode(isvc: &Value) -> Option<&str> {
    let given = isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"].as_str()?;
    Some(match given {
        "Serverless" => "Knative",
        "RawDeployment" => "Standard",
        other => other,
    })
}

/// KServe's webhook refuses an InferenceService whose mode differs from
/// the one it runs in; an object that named none runs in the cluster's
/// default (Knative's `Serverless` before KServe 0.16, `Standard` since).
fn deployment_mode(old: &Value, new: &Value) -> Option<Unsafe> {
    let to = mode(new)?;
    let from = mode(old);
    if from == Some(to) {
        return None;
    }
    let (ns, isvc) = name(new);
    let was = from.map_or(
        "the cluster's default mode (KServe's config)".to_owned(),
        |m| format!("the {m} mode"),
    );
    Some(Unsafe {
        reason: format!(
            "the InferenceService {isvc} moves from {was} to {to}: KServe refuses to change the \
             mode of one that runs, so the apply fails"
        ),
        steps: vec![
            format!(
                "kubectl get inferenceservice -n {ns} {isvc} -o jsonpath='{{.status.deploymentMode}}'   # the mode it runs in"
            ),
            "if it is the one you want to keep: set serving.deploymentMode to it (Knative for \
             Serverless, Standard for RawDeployment) and render again"
                .into(),
            format!(
                "to move it: kubectl delete inferenceservice -n {ns} {isvc}, then apply (the model \
                 is not served in between)"
            ),
        ],
    })
}

fn namespace_removed(old: &Value) -> Unsafe {
    let (_, ns) = name(old);
    Unsafe {
        reason: format!(
            "the Namespace {ns} is removed: deleting it deletes everything in it, the \
             databases' and stores' volumes with their data"
        ),
        steps: vec![
            "keep the Namespace: leave it out of what your tool prunes".into(),
            format!(
                "move the data out first, if the platform really goes (kubectl -n {ns} get pvc)"
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_majors() {
        assert_eq!(tag("ghcr.io/mlflow/mlflow:v3.17.2-full"), "v3.17.2-full");
        assert_eq!(tag("localhost:5000/postgres"), "latest");
        assert_eq!(tag("postgres:17.6@sha256:abc"), "17.6");
        assert_eq!(major("17.6-bookworm"), Some(17));
        assert_eq!(major("v3.17.2"), Some(3));
        assert_eq!(major("latest"), None);
        assert_eq!(minor("v3.17.2-full"), Some((3, 17)));
        assert_eq!(minor("latest"), None);
    }
}
