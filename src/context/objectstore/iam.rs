//! The least each consumer needs, as an IAM policy document (the S3 API's
//! own language, which MinIO's `mc admin policy create` takes):
//! - tracking and gc: read, write and delete the artifacts, and list them;
//! - predictor: list the artifacts' bucket (KServe's storage initializer
//!   asks HeadBucket first) and read what a model can be served from: a
//!   logged model (`EXPERIMENT/models/m-ID/artifacts`) or a run's
//!   artifacts (`EXPERIMENT/RUN/artifacts/PATH`);
//! - backup: read, write, delete and list the backups' bucket only.

use serde_json::{Value, json};

const WRITE: [&str; 5] = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
];
const LIST: [&str; 3] = [
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:ListBucketMultipartUploads",
];

fn arn(resource: &str) -> String {
    format!("arn:aws:s3:::{resource}")
}

fn statement(actions: &[&str], resources: &[String]) -> Value {
    json!({"Effect": "Allow", "Action": actions, "Resource": resources})
}

/// Full use of the objects in `bucket`.
fn read_write(bucket: &str) -> Vec<Value> {
    vec![
        statement(&LIST, &[arn(bucket)]),
        statement(&WRITE, &[arn(&format!("{bucket}/*"))]),
    ]
}

/// The policy of consumer `name`; none for a name that needs no access.
pub fn policy(name: &str, artifacts: &str, backups: Option<&str>) -> Option<String> {
    let statements = match name {
        "tracking" | "gc" => read_write(artifacts),
        "predictor" => vec![
            statement(&LIST[..2], &[arn(artifacts)]),
            statement(
                &["s3:GetObject"],
                &[
                    arn(&format!("{artifacts}/*/models/*")),
                    arn(&format!("{artifacts}/*/artifacts/*")),
                ],
            ),
        ],
        "backup" => read_write(backups?),
        _ => return None,
    };
    let doc = json!({"Version": "2012-10-17", "Statement": statements});
    Some(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(doc: &str) -> Vec<String> {
        let v: Value = serde_json::from_str(doc).unwrap();
        v["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Resource"].as_array().unwrap().clone())
            .map(|r| r.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn each_consumer_reaches_only_its_own_bucket() {
        let tracking = policy("tracking", "art", Some("bak")).unwrap();
        assert!(resources(&tracking).iter().all(|r| !r.contains("bak")));
        let backup = policy("backup", "art", Some("bak")).unwrap();
        assert_eq!(
            resources(&backup),
            ["arn:aws:s3:::bak", "arn:aws:s3:::bak/*"]
        );
        assert!(policy("backup", "art", None).is_none());
        assert!(policy("setup", "art", None).is_none());
    }

    #[test]
    fn a_predictor_reads_models_and_writes_nothing() {
        let doc = policy("predictor", "art", None).unwrap();
        assert!(!doc.contains("PutObject") && !doc.contains("DeleteObject"));
        assert!(resources(&doc).iter().all(|r| !r.ends_with("art/*")));
    }
}
