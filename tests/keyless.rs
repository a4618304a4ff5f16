//! Keyless S3: with an IAM role (IRSA) or the node's own credentials,
//! no key reaches any object, and every pod that talks to S3 runs as the
//! ServiceAccount that carries the identity.

mod common;
use common::{find, mlk};
use serde_yaml::Value;

const ROLE: &str = "arn:aws:iam::111122223333:role/mlflow";

fn env_names(pod: &Value) -> Vec<String> {
    let containers = ["initContainers", "containers"].map(|k| pod[k].as_sequence().cloned());
    containers
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|c| c["env"].as_sequence().cloned().unwrap_or_default())
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_role_renders_no_key_and_names_the_role() {
    let run = mlk(&["render", "-f", "specs/keyless.yaml"]).run().ok();
    let docs = run.docs();
    assert!(
        !docs.iter().any(|d| d["kind"] == "Secret"
            && d["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.contains("s3"))),
        "no S3 key Secret"
    );
    let tracking = find(&docs, "Deployment", "mlflow-tracking");
    let names = env_names(&tracking["spec"]["template"]["spec"]);
    for var in [
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "MLFLOW_S3_ENDPOINT_URL",
    ] {
        assert!(!names.iter().any(|n| n == var), "{var} set: {names:?}");
    }
    let role = |d: &Value| d["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].clone();
    assert_eq!(role(find(&docs, "ServiceAccount", "mlflow-tracking")), ROLE);
    let predictor = find(&docs, "ServiceAccount", "mlflow-predictor");
    assert_eq!(role(predictor), ROLE);
    assert_eq!(
        predictor["metadata"]["annotations"]["serving.kserve.io/s3-region"],
        "eu-west-1"
    );
    assert!(
        predictor["secrets"].is_null(),
        "no credentials Secret listed"
    );
    let gc = find(&docs, "CronJob", "mlflow-gc");
    let gc_pod = &gc["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(gc_pod["serviceAccountName"], "mlflow-tracking");
    assert!(!run.stdout.contains("aws-credentials"));
}

#[test]
fn no_keys_and_no_role_means_ambient_credentials_and_says_so() {
    let run = mlk(&[
        "render",
        "-f",
        "specs/keyless.yaml",
        "--set",
        "artifacts.external.identity=null",
    ])
    .run()
    .ok();
    assert!(run.stderr.contains("EKS Pod Identity"), "{}", run.stderr);
    assert!(!run.stdout.contains("eks.amazonaws.com/role-arn"));
    let docs = run.docs();
    let tracking = find(&docs, "Deployment", "mlflow-tracking");
    let names = env_names(&tracking["spec"]["template"]["spec"]);
    assert!(
        !names.iter().any(|n| n == "AWS_SHARED_CREDENTIALS_FILE"),
        "{names:?}"
    );
}

#[test]
fn a_role_with_keys_is_refused() {
    let run = mlk(&[
        "render",
        "-f",
        "specs/keyless.yaml",
        "--set",
        "artifacts.external.accessKeyId.fromEnv=KEY_ID",
    ])
    .run()
    .failed();
    assert!(
        run.stderr.contains(
            "artifacts.external.identity: takes the place of accessKeyId and secretAccessKey"
        ),
        "{}",
        run.stderr
    );
}
