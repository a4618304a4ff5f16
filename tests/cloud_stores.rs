//! Google Cloud Storage and Azure Blob Storage reach every consumer: the
//! tracking server, gc, the backups, the predictors and CloudNativePG's
//! barman, each with the store's one way in (the cloud identity, or the
//! key from mlk's Secret), and nothing else.

mod common;
use common::{find, mlk};
use serde_yaml::Value;

const GCS_KEY: &str =
    r#"{"type": "service_account", "client_email": "x@p.iam.gserviceaccount.com"}"#;

/// `spec` in `profile`: the embedded PostgreSQL in prod (backed up by a
/// CronJob), CloudNativePG in ha (archived by barman).
fn render(spec: &str, profile: &str, env: &[(&str, &str)]) -> Vec<Value> {
    let spec = match profile {
        "ha" => spec.replace("  embedded:\n    backup:", "  cloudnativepg:\n    backup:"),
        _ => spec.to_owned(),
    };
    let mut cmd = mlk(&["render", "-f", "-", "--profile", profile])
        .key()
        .stdin(&spec);
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    cmd.run().ok().docs()
}

fn spec(store: &str) -> String {
    format!(
        "apiVersion: mlk/v1alpha1
kind: Platform
artifacts:
{store}
database:
  embedded:
    backup: {{bucket: mlflow-backups}}
tracking:
  gc: {{}}
serving:
  models:
    - {{name: churn, registeredModel: churn, storageUri: gs://elsewhere/m}}
"
    )
}

/// The pod spec of a workload, whatever its kind.
fn pod<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let w = find(docs, kind, name);
    match kind {
        "CronJob" => &w["spec"]["jobTemplate"]["spec"]["template"],
        "InferenceService" => &w["spec"]["predictor"],
        _ => &w["spec"]["template"],
    }
}

fn containers(pod_spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|k| pod_spec[*k].as_sequence().into_iter().flatten())
        .collect()
}

/// The container `c` of a workload's pod, init containers included.
fn container<'a>(docs: &'a [Value], kind: &str, name: &str, c: &str) -> &'a Value {
    containers(&pod(docs, kind, name)["spec"])
        .into_iter()
        .find(|x| x["name"] == c)
        .unwrap_or_else(|| panic!("no container {c} in {kind}/{name}"))
}

/// The store's clients: the server, gc, and the backups' upload.
const CLIENTS: [(&str, &str, &str); 3] = [
    ("Deployment", "mlflow-tracking", "mlflow"),
    ("CronJob", "mlflow-gc", "gc"),
    ("CronJob", "mlflow-postgres-backup", "upload"),
];

fn env_ref<'a>(c: &'a Value, name: &str) -> Option<&'a Value> {
    c["env"]
        .as_sequence()?
        .iter()
        .find(|e| e["name"] == name)
        .map(|e| &e["valueFrom"]["secretKeyRef"])
}

fn secret_value(docs: &[Value], name: &str, key: &str) -> String {
    use base64::Engine;
    let b64 = find(docs, "Secret", name)["data"][key].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn gcs_with_a_key_reaches_every_consumer_through_files_and_secrets() {
    let store =
        "  gcs:\n    bucket: corp-artifacts\n    prefix: team/a\n    key: {fromEnv: GCS_KEY}";
    let docs = render(&spec(store), "prod", &[("GCS_KEY", GCS_KEY)]);
    let tracking = &pod(&docs, "Deployment", "mlflow-tracking")["spec"];
    let server = &tracking["containers"][0];
    let args: Vec<&str> = server["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        args.windows(2)
            .any(|w| w == ["--artifacts-destination", "gs://corp-artifacts/team/a"]),
        "{args:?}"
    );
    // The key becomes a file in /tmp; every client of the store reads it there.
    let files = &tracking["initContainers"][0];
    assert_eq!(files["name"], "credential-files");
    assert!(common::env_value(files, "MLK_GCS_KEY_FILE").is_some());
    for (kind, name, c) in CLIENTS {
        let container = container(&docs, kind, name, c);
        assert_eq!(
            common::env_value(container, "GOOGLE_APPLICATION_CREDENTIALS"),
            Some("/tmp/mlk/gcs-key.json"),
            "{name}/{c}"
        );
    }
    let backup = &pod(&docs, "CronJob", "mlflow-postgres-backup")["spec"]["containers"][0];
    assert_eq!(
        common::env_value(backup, "DESTINATION"),
        Some("gs://mlflow-backups")
    );
    // The predictors' own Secret, under the name KServe mounts.
    let kserve = find(&docs, "ServiceAccount", "mlflow-predictor");
    assert_eq!(kserve["secrets"][0]["name"], "mlflow-serving-gcs");
    assert_eq!(
        secret_value(
            &docs,
            "mlflow-serving-gcs",
            "gcloud-application-credentials.json"
        ),
        GCS_KEY
    );

    let ha = render(&spec(store), "ha", &[("GCS_KEY", GCS_KEY)]);
    let barman = &find(&ha, "Cluster", "mlflow-postgres")["spec"]["backup"]["barmanObjectStore"];
    assert_eq!(
        barman["destinationPath"],
        "gs://mlflow-backups/postgres-backups"
    );
    assert_eq!(
        barman["googleCredentials"]["applicationCredentials"]["name"],
        "mlflow-gcs"
    );
    assert!(barman["googleCredentials"]["gkeEnvironment"].is_null());
}

#[test]
fn gcs_with_workload_identity_names_the_google_account_on_every_consumer() {
    let sa = "mlflow@corp-ml.iam.gserviceaccount.com";
    let store =
        format!("  gcs:\n    bucket: corp-artifacts\n    identity: {{gcpServiceAccount: {sa}}}");
    let docs = render(&spec(&store), "ha", &[]);
    let annotation = "iam.gke.io/gcp-service-account";
    for account in ["mlflow-tracking", "mlflow-predictor"] {
        let a = find(&docs, "ServiceAccount", account);
        assert_eq!(a["metadata"]["annotations"][annotation], sa, "{account}");
    }
    let cluster = &find(&docs, "Cluster", "mlflow-postgres")["spec"];
    assert_eq!(
        cluster["serviceAccountTemplate"]["metadata"]["annotations"][annotation],
        sa
    );
    assert_eq!(
        cluster["backup"]["barmanObjectStore"]["googleCredentials"]["gkeEnvironment"],
        true
    );
    let gc = &pod(&docs, "CronJob", "mlflow-gc")["spec"];
    assert_eq!(gc["serviceAccountName"], "mlflow-tracking");
    // google-auth's default chain asks the metadata server, which GKE's
    // Workload Identity answers as the annotated account (platform facts,
    // "Cloud identity"), only when GOOGLE_APPLICATION_CREDENTIALS is unset.
    for (kind, name, c) in [CLIENTS[0], CLIENTS[1]] {
        let container = container(&docs, kind, name, c);
        assert!(common::env_value(container, "GOOGLE_APPLICATION_CREDENTIALS").is_none());
    }
    assert!(
        !docs
            .iter()
            .any(|d| d["kind"] == "Secret"
                && d["metadata"]["name"].as_str().unwrap().contains("gcs")),
        "a key Secret without a key"
    );
    // Google's APIs on 443, and GKE's metadata server, which gives the
    // identity's tokens, from every consumer.
    for group in [
        "mlflow-tracking",
        "mlflow-gc",
        "mlflow-predictors",
        "mlflow-postgres",
    ] {
        let policy = find(&docs, "NetworkPolicy", group);
        let egress = serde_yaml::to_string(&policy["spec"]["egress"]).unwrap();
        for want in ["port: 443", "cidr: 169.254.169.252/32", "port: 988"] {
            assert!(egress.contains(want), "{group}: no {want} in {egress}");
        }
    }
}

#[test]
fn azure_with_workload_identity_labels_every_consumer_s_pods() {
    let store = "  azureBlob:\n    account: corpmlflow\n    container: artifacts\n    identity: {azureClientId: 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b}";
    let spec = spec(store).replace(
        "gs://elsewhere/m",
        "https://other.blob.core.windows.net/c/m",
    );
    let label = "azure.workload.identity/use";
    for profile in ["prod", "ha"] {
        let docs = render(&spec, profile, &[]);
        let mut labelled = vec![
            ("Deployment", "mlflow-tracking"),
            ("CronJob", "mlflow-gc"),
            ("InferenceService", "churn"),
        ];
        if profile == "prod" {
            labelled.push(("CronJob", "mlflow-postgres-backup"));
            // The database holds no store client: no identity there.
            let pg = &pod(&docs, "StatefulSet", "mlflow-postgres")["metadata"]["labels"];
            assert!(pg[label].is_null());
        } else {
            let cluster = &find(&docs, "Cluster", "mlflow-postgres")["spec"];
            assert_eq!(cluster["inheritedMetadata"]["labels"][label], "true");
            let barman = &cluster["backup"]["barmanObjectStore"];
            assert_eq!(barman["azureCredentials"]["inheritFromAzureAD"], true);
        }
        for (kind, name) in labelled {
            let labels = &pod(&docs, kind, name)["metadata"]["labels"];
            let labels = if kind == "InferenceService" {
                &pod(&docs, kind, name)["labels"]
            } else {
                labels
            };
            assert_eq!(labels[label], "true", "{profile} {kind}/{name}");
        }
        let sa = find(&docs, "ServiceAccount", "mlflow-tracking");
        assert_eq!(
            sa["metadata"]["annotations"]["azure.workload.identity/client-id"],
            "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
        );
        // MLflow's Azure client (azure_blob_artifact_repo.py) takes
        // DefaultAzureCredential, which reads what Azure's webhook injects
        // into labelled pods, only when neither of these is in its env.
        let server = container(&docs, "Deployment", "mlflow-tracking", "mlflow");
        for var in [
            "AZURE_STORAGE_ACCESS_KEY",
            "AZURE_STORAGE_CONNECTION_STRING",
        ] {
            assert!(env_ref(server, var).is_none(), "{profile}: {var}");
        }
    }
}

#[test]
fn azure_with_a_key_gives_it_in_the_env_mlflow_reads_it_from() {
    let store = "  azureBlob:\n    account: corpmlflow\n    container: artifacts\n    accountKey: {fromEnv: AZ_KEY}";
    let spec = spec(store).replace(
        "gs://elsewhere/m",
        "https://other.blob.core.windows.net/c/m",
    );
    let docs = render(&spec, "prod", &[("AZ_KEY", "a2V5")]);
    for (kind, name, c) in CLIENTS {
        let container = container(&docs, kind, name, c);
        let r = env_ref(container, "AZURE_STORAGE_ACCESS_KEY").expect("the key");
        assert_eq!(
            (r["name"].as_str(), r["key"].as_str()),
            (Some("mlflow-azure-blob"), Some("account-key"))
        );
    }
    let server = &pod(&docs, "Deployment", "mlflow-tracking")["spec"]["containers"][0];
    let args = serde_yaml::to_string(&server["args"]).unwrap();
    assert!(
        args.contains("wasbs://artifacts@corpmlflow.blob.core.windows.net"),
        "{args}"
    );
    assert_eq!(
        secret_value(
            &docs,
            "mlflow-serving-azure-blob",
            "AZURE_STORAGE_ACCESS_KEY"
        ),
        "a2V5"
    );
    let ha = render(&spec, "ha", &[("AZ_KEY", "a2V5")]);
    let creds = &find(&ha, "Cluster", "mlflow-postgres")["spec"]["backup"]["barmanObjectStore"]["azureCredentials"];
    assert_eq!(creds["storageKey"]["key"], "account-key");
    assert_eq!(creds["storageAccount"]["key"], "account-name");
    assert_eq!(
        secret_value(&ha, "mlflow-azure-blob", "account-name"),
        "corpmlflow"
    );
}

/// A model in the platform's own store must be one model's folder under
/// the prefix, in GCS as in S3.
#[test]
fn a_model_in_the_store_is_one_models_folder_under_the_prefix() {
    let store = "  gcs:\n    bucket: corp-artifacts\n    prefix: team\n    identity: {gcpServiceAccount: mlflow@corp-ml.iam.gserviceaccount.com}";
    for (uri, ok) in [
        ("gs://corp-artifacts/team/1/models/m-abc/artifacts", true),
        ("gs://corp-artifacts/1/models/m-abc/artifacts", false),
        ("gs://corp-artifacts/team/backups/x/y", false),
        ("gs://other/any/path", true),
    ] {
        let spec = spec(store).replace("gs://elsewhere/m", uri);
        let run = mlk(&["render", "-f", "-"]).key().stdin(&spec).run();
        assert_eq!(run.code == 0, ok, "{uri}: {}", run.stderr);
    }
}

/// Only what takes a cloud identity from the node reaches the node's
/// metadata: keyless S3 without a role, EKS Pod Identity's agent alone
/// (not the node's own role); predictors with a Secret of their own,
/// nothing.
#[test]
fn the_node_s_metadata_is_open_only_to_what_takes_its_identity_there() {
    let s3 = "  external:\n    bucket: corp-artifacts\n    region: eu-west-1";
    let docs = render(
        &spec(s3).replace("gs://elsewhere/m", "s3://other/m"),
        "prod",
        &[],
    );
    let egress = |group: &str| {
        let policy = find(&docs, "NetworkPolicy", group);
        serde_yaml::to_string(&policy["spec"]["egress"]).unwrap()
    };
    let tracking = egress("mlflow-tracking");
    assert!(tracking.contains("169.254.170.23/32"), "{tracking}");
    assert!(!tracking.contains("169.254.169.254"), "{tracking}");
    let gcs = "  gcs:\n    bucket: corp-artifacts\n    identity: {gcpServiceAccount: mlflow@corp-ml.iam.gserviceaccount.com}";
    let with_secret =
        spec(gcs).replace("serving:\n", "serving:\n  credentialsSecret: kserve-gcs\n");
    let docs = render(&with_secret, "prod", &[]);
    let predictors = find(&docs, "NetworkPolicy", "mlflow-predictors");
    let egress = serde_yaml::to_string(&predictors["spec"]["egress"]).unwrap();
    assert!(!egress.contains("169.254"), "{egress}");
}
