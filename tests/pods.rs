//! `pods` reaches every pod template mlk renders, in every profile: the
//! defaults everywhere, and a component's own block over them.

mod common;
use common::mlk;
use serde_yaml::Value;

/// One pod template, however its kind holds it.
struct Pod {
    id: String,
    labels: Value,
    annotations: Value,
    node_selector: Value,
    tolerations: Value,
    priority: Value,
    pull_secrets: Value,
}

fn pods(doc: &Value) -> Option<Pod> {
    let kind = doc["kind"].as_str()?;
    let id = format!("{kind}/{}", doc["metadata"]["name"].as_str()?);
    let template = match kind {
        "Deployment" | "StatefulSet" | "Job" => &doc["spec"]["template"],
        "CronJob" => &doc["spec"]["jobTemplate"]["spec"]["template"],
        "Cluster" => {
            let s = &doc["spec"];
            return Some(Pod {
                id,
                labels: s["inheritedMetadata"]["labels"].clone(),
                annotations: s["inheritedMetadata"]["annotations"].clone(),
                node_selector: s["affinity"]["nodeSelector"].clone(),
                tolerations: s["affinity"]["tolerations"].clone(),
                priority: s["priorityClassName"].clone(),
                pull_secrets: s["imagePullSecrets"].clone(),
            });
        }
        "InferenceService" => {
            let p = &doc["spec"]["predictor"];
            return Some(Pod {
                id,
                labels: p["labels"].clone(),
                annotations: p["annotations"].clone(),
                node_selector: p["nodeSelector"].clone(),
                tolerations: p["tolerations"].clone(),
                priority: p["priorityClassName"].clone(),
                pull_secrets: p["imagePullSecrets"].clone(),
            });
        }
        _ => return None,
    };
    let spec = &template["spec"];
    Some(Pod {
        id,
        labels: template["metadata"]["labels"].clone(),
        annotations: template["metadata"]["annotations"].clone(),
        node_selector: spec["nodeSelector"].clone(),
        tolerations: spec["tolerations"].clone(),
        priority: spec["priorityClassName"].clone(),
        pull_secrets: spec["imagePullSecrets"].clone(),
    })
}

fn check(pod: &Pod) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut want = |what: &str, ok: bool, got: &Value| {
        if !ok {
            wrong.push(format!("{}: {what}, got {got:?}", pod.id));
        }
    };
    let id = pod.id.as_str();
    want("the team label", pod.labels["team"] == "ml", &pod.labels);
    want(
        "the mesh annotation",
        pod.annotations["sidecar.istio.io/inject"] == "false",
        &pod.annotations,
    );
    want(
        "the pull secret",
        pod.pull_secrets[0]["name"] == "corp-registry",
        &pod.pull_secrets,
    );
    let tracking = id.ends_with("-tracking") || id.ends_with("-gc");
    let pool = match () {
        _ if tracking => "ml-tracking",
        _ if id.starts_with("InferenceService/") => "gpu",
        _ => "ml",
    };
    want(pool, pod.node_selector["pool"] == pool, &pod.node_selector);
    let database = id.contains("postgres");
    let priority = if database {
        "ml-database"
    } else {
        "ml-platform"
    };
    want(priority, pod.priority == priority, &pod.priority);
    let minio = id.contains("seaweedfs") || id.contains("minio") || id.contains("bucket");
    let toleration = if minio { "storage" } else { "dedicated" };
    want(
        toleration,
        pod.tolerations[0]["key"] == toleration,
        &pod.tolerations,
    );
    if tracking {
        let merged = pod.annotations.get("proxy.istio.io/config").is_some();
        want("both annotations", merged, &pod.annotations);
    }
    if id == "InferenceService/churn" {
        want("its own label", pod.labels["model"] == "churn", &pod.labels);
    }
    wrong
}

#[test]
fn every_pod_template_in_every_profile_carries_pods() {
    for (profile, run) in common::render_each_profile("specs/fit-cluster.yaml") {
        let found: Vec<Pod> = run.docs().iter().filter_map(pods).collect();
        let kinds = [
            "Deployment/",
            "StatefulSet/",
            "Job/",
            "CronJob/",
            "InferenceService/",
        ];
        for kind in kinds {
            assert!(
                found.iter().any(|p| p.id.starts_with(kind)),
                "{profile}: no {kind}"
            );
        }
        if profile == "ha" {
            assert!(found.iter().any(|p| p.id.starts_with("Cluster/")));
        }
        let wrong: Vec<String> = found.iter().flat_map(check).collect();
        assert!(wrong.is_empty(), "{profile}:\n{}", wrong.join("\n"));
    }
}

#[test]
fn default_images_move_to_the_mirror_and_set_ones_stay() {
    let run = mlk(&[
        "render",
        "-f",
        "specs/fit-cluster.yaml",
        "--set",
        "tracking.image=ghcr.io/corp/mlflow:3.17.2",
    ])
    .run()
    .ok();
    let images: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("image: "))
        .collect();
    assert!(images.len() > 3);
    for image in images {
        let set_in_spec = [
            "ghcr.io/corp/mlflow:3.17.2",
            "registry.corp.example/log-shipper:2.1.0",
        ];
        let ok = image.starts_with("registry.corp.example/mirror/") || set_in_spec.contains(&image);
        assert!(ok, "{image}");
    }
}

#[test]
fn service_accounts_carry_the_cloud_identity() {
    let run = mlk(&["render", "-f", "specs/fit-cluster.yaml", "--profile", "ha"])
        .key()
        .run()
        .ok();
    let docs = run.docs();
    let role = |d: &Value| d["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].clone();
    let sa = |name: &str| common::find(&docs, "ServiceAccount", name).clone();
    assert_eq!(
        role(&sa("mlflow-tracking")),
        "arn:aws:iam::111122223333:role/mlflow"
    );
    assert_eq!(
        role(&sa("mlflow-predictor")),
        "arn:aws:iam::111122223333:role/kserve"
    );
    let bucket_role = "arn:aws:iam::111122223333:role/bucket-job";
    assert_eq!(role(&sa("mlflow-bucket-setup")), bucket_role);
    let job = docs
        .iter()
        .find(|d| d["kind"] == "Job")
        .expect("the bucket Job");
    let job_account = &job["spec"]["template"]["spec"]["serviceAccountName"];
    assert_eq!(job_account, "mlflow-bucket-setup");
    let cluster = common::find(&docs, "Cluster", "mlflow-postgres");
    assert_eq!(
        role(&cluster["spec"]["serviceAccountTemplate"]),
        "arn:aws:iam::111122223333:role/pg-backup"
    );
}
