//! MinIO gives each consumer a user of its own, with only its policy:
//! the root keys are MinIO's and its bucket Job's alone.

mod common;
use std::collections::BTreeSet;

use common::{env_value, find, mlk, rendered};
use serde_yaml::Value;

const SPEC: &str = "\
apiVersion: mlk/v1alpha1
kind: Platform
profile: prod
tracking:
  gc: {schedule: '0 4 * * 0', olderThan: 14d}
artifacts:
  embedded: {engine: minio}
serving:
  models:
    - name: fraud
      registeredModel: fraud
      storageUri: s3://mlflow/5/models/m-fraud/artifacts
";

/// Every Secret a document names: in env, projected volumes and volumes.
fn secrets_named(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Mapping(m) => {
            for (k, v) in m {
                let holder = matches!(k.as_str(), Some("secretKeyRef" | "secret"));
                if let (true, Some(name)) = (holder, v["name"].as_str()) {
                    out.insert(name.to_owned());
                }
                if let (Some("secretName"), Some(name)) = (k.as_str(), v.as_str()) {
                    out.insert(name.to_owned());
                }
                secrets_named(v, out);
            }
        }
        Value::Sequence(s) => s.iter().for_each(|v| secrets_named(v, out)),
        _ => {}
    }
}

fn store_secrets(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    secrets_named(doc, &mut out);
    out.retain(|s| s.starts_with("mlflow-s3"));
    out
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn each_workload_reads_only_its_own_keys() {
    let docs = rendered(SPEC);
    let job = docs
        .iter()
        .find(|d| d["kind"] == "Job")
        .expect("the bucket Job");
    for (kind, name, own) in [
        ("StatefulSet", "mlflow-minio", &["mlflow-s3"][..]),
        ("Deployment", "mlflow-tracking", &["mlflow-s3-tracking"]),
        ("CronJob", "mlflow-gc", &["mlflow-s3-gc"]),
        ("CronJob", "mlflow-postgres-backup", &["mlflow-s3-backup"]),
    ] {
        assert_eq!(
            store_secrets(find(&docs, kind, name)),
            set(own),
            "{kind}/{name}"
        );
    }
    // The Job holds the root keys, and reads each user's secret key to
    // create it.
    assert_eq!(
        store_secrets(job),
        set(&[
            "mlflow-s3",
            "mlflow-s3-tracking",
            "mlflow-s3-gc",
            "mlflow-s3-backup",
            "mlflow-s3-predictor"
        ])
    );
    // KServe's Secret carries the predictor's keys, not the root's.
    let predictor = find(&docs, "Secret", "mlflow-s3-predictor");
    let serving = find(&docs, "Secret", "mlflow-serving-s3");
    for (from, to) in [
        ("access-key-id", "AWS_ACCESS_KEY_ID"),
        ("secret-access-key", "AWS_SECRET_ACCESS_KEY"),
    ] {
        assert_eq!(serving["data"][to], predictor["data"][from]);
    }
}

/// Each `NAME POLICY` line of the bucket Job.
fn users(docs: &[Value]) -> Vec<(String, serde_json::Value)> {
    let job = docs.iter().find(|d| d["kind"] == "Job").unwrap();
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    env_value(container, "USERS")
        .expect("USERS")
        .lines()
        .map(|l| {
            let (name, policy) = l.split_once(' ').unwrap();
            (name.to_owned(), serde_json::from_str(policy).unwrap())
        })
        .collect()
}

fn resources(policy: &serde_json::Value, action: &str) -> Vec<String> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Action"].as_array().unwrap().iter().any(|a| a == action))
        .flat_map(|s| s["Resource"].as_array().unwrap().clone())
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn each_user_may_do_only_what_its_consumer_does() {
    let docs = rendered(SPEC);
    let users = users(&docs);
    let names: Vec<&str> = users.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["mlk-tracking", "mlk-gc", "mlk-backup", "mlk-predictor"]
    );
    let policy = |name: &str| &users.iter().find(|(n, _)| n == name).unwrap().1;
    for writer in ["mlk-tracking", "mlk-gc"] {
        assert_eq!(
            resources(policy(writer), "s3:DeleteObject"),
            ["arn:aws:s3:::mlflow/*"]
        );
    }
    assert_eq!(
        resources(policy("mlk-backup"), "s3:PutObject"),
        ["arn:aws:s3:::mlflow-backups/*"]
    );
    let predictor = policy("mlk-predictor");
    assert!(resources(predictor, "s3:PutObject").is_empty());
    assert!(resources(predictor, "s3:DeleteObject").is_empty());
    assert_eq!(
        resources(predictor, "s3:GetObject"),
        [
            "arn:aws:s3:::mlflow/*/models/*",
            "arn:aws:s3:::mlflow/*/artifacts/*"
        ]
    );
    // No policy reaches the other bucket.
    for (name, p) in &users {
        let text = p.to_string();
        let other = if name == "mlk-backup" {
            "mlflow/"
        } else {
            "mlflow-backups"
        };
        assert!(!text.contains(other), "{name}: {text}");
    }
}

#[test]
fn a_consumer_that_goes_loses_its_user() {
    let without_serving = SPEC.split("serving:").next().unwrap();
    let docs = rendered(without_serving);
    let job = docs.iter().find(|d| d["kind"] == "Job").unwrap();
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(env_value(container, "RETIRED_USERS"), Some("mlk-predictor"));
    assert!(
        docs.iter()
            .all(|d| d["metadata"]["name"] != "mlflow-s3-predictor")
    );
}

#[test]
fn in_external_secrets_mode_consumers_share_the_root_keys_and_are_told() {
    let minio = "artifacts.embedded.engine=minio";
    let run = mlk(&[
        "render",
        "-f",
        "specs/external-secrets.yaml",
        "--set",
        minio,
    ])
    .key()
    .run()
    .ok();
    assert!(
        run.stderr.contains("shares its root keys"),
        "{}",
        run.stderr
    );
    let docs = run.docs();
    let job = docs.iter().find(|d| d["kind"] == "Job").unwrap();
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(env_value(container, "USERS"), None);
}

#[test]
fn new_user_keys_reach_minio_by_a_new_bucket_job() {
    let job = |key: &str| -> String {
        mlk(&["render", "-f", "-"])
            .stdin(SPEC)
            .env("MLK_SECRET_KEY", key)
            .run()
            .ok()
            .docs()
            .iter()
            .find(|d| d["kind"] == "Job")
            .map(|d| d["metadata"]["name"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let first = job("0123456789abcdef0123456789abcdef-first-key");
    assert_eq!(first, job("0123456789abcdef0123456789abcdef-first-key"));
    // The Job's template is the same; only the keys in the Secrets it
    // reads changed. The old Job would not run again.
    assert_ne!(first, job("0123456789abcdef0123456789abcdef-other-key"));
}
