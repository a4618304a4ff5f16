//! Every pod's use of the node's disk is bounded: each container has an
//! `ephemeral-storage` request and limit, each emptyDir a `sizeLimit`,
//! the server's /tmp follows `tracking.maxArtifactSize` as the front
//! door's body limit does, and credential files are kept in memory. A
//! patch cannot take a bound away.

mod common;

use common::{find, fixtures, mlk, render_each_profile, rendered};
use serde_yaml::Value;

const MIB: f64 = 1024.0 * 1024.0;

/// A quantity as mlk writes one, in MiB.
fn mib(q: &Value) -> f64 {
    let s = q
        .as_str()
        .unwrap_or_else(|| panic!("not a quantity: {q:?}"));
    let (n, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let n: f64 = n.parse().unwrap();
    n * match unit {
        "Mi" => 1.0,
        "Gi" => 1024.0,
        "" => 1.0 / MIB,
        other => panic!("unit {other}"),
    }
}

/// Every pod spec (and its place) of the rendered objects.
fn pod_specs(docs: &[Value]) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for d in docs {
        let id = format!(
            "{}/{}",
            d["kind"].as_str().unwrap(),
            d["metadata"]["name"].as_str().unwrap()
        );
        let spec = match d["kind"].as_str().unwrap() {
            "Deployment" | "StatefulSet" | "Job" => &d["spec"]["template"]["spec"],
            "CronJob" => &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            "InferenceService" => &d["spec"]["predictor"],
            _ => continue,
        };
        out.push((id, spec));
    }
    out
}

fn containers(spec: &Value) -> Vec<&Value> {
    let listed = ["initContainers", "containers"]
        .into_iter()
        .flat_map(|l| spec[l].as_sequence().into_iter().flatten());
    listed
        .chain([&spec["model"]].into_iter().filter(|m| m.is_mapping()))
        .collect()
}

/// A model from the bucket and one from an image.
const MODELS: &str = r#"apiVersion: mlk/v1alpha1
kind: Platform
serving:
  models:
    - {name: churn, registeredModel: churn, storageUri: "s3://mlflow/1/models/m-abc/artifacts"}
    - {name: fraud, registeredModel: fraud, image: "registry.example/fraud:3", runAsUser: 1000}
"#;

/// `text` in a spec file of its own.
fn tempfile(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("mlk-disk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, text).unwrap();
    file.to_string_lossy().into_owned()
}

#[test]
fn every_container_and_empty_dir_is_bounded_in_every_profile() {
    for spec in ["models", "gateway", "monitoring", "fit-cluster", "keyless"] {
        let fixture = fixtures().join(format!("specs/{spec}.yaml"));
        let path = match spec {
            "models" => tempfile(spec, MODELS),
            _ => fixture.to_string_lossy().into_owned(),
        };
        for (profile, run) in render_each_profile(&path) {
            let docs = run.docs();
            let pods = pod_specs(&docs);
            assert!(!pods.is_empty(), "{spec} {profile}");
            for cluster in docs.iter().filter(|d| d["kind"] == "Cluster") {
                let spec = &cluster["spec"];
                assert!(mib(&spec["resources"]["limits"]["ephemeral-storage"]) > 0.0);
                assert!(mib(&spec["ephemeralVolumesSizeLimit"]["temporaryData"]) > 0.0);
            }
            for (id, pod) in pods {
                for c in containers(pod) {
                    let r = &c["resources"];
                    let (req, lim) = (
                        &r["requests"]["ephemeral-storage"],
                        &r["limits"]["ephemeral-storage"],
                    );
                    assert!(
                        mib(req) > 0.0 && mib(req) <= mib(lim),
                        "{profile} {id} {}: {r:?}",
                        c["name"].as_str().unwrap_or("model")
                    );
                }
                for v in pod["volumes"].as_sequence().into_iter().flatten() {
                    if v["emptyDir"].is_mapping() {
                        assert!(
                            mib(&v["emptyDir"]["sizeLimit"]) > 0.0,
                            "{profile} {id} {v:?}"
                        );
                    }
                }
            }
        }
    }
}

/// The server's /tmp holds an upload and a download of the largest
/// artifact, and nginx lets nothing larger through.
#[test]
fn max_artifact_size_sizes_the_body_limit_and_tmp() {
    let spec = "apiVersion: mlk/v1alpha1\nkind: Platform\ntracking: {maxArtifactSize: 3Gi}\n\
                ingress: {enabled: true, host: mlflow.example.com, auth: {enabled: false}}\n";
    let docs = rendered(spec);
    let ingress = find(&docs, "Ingress", "mlflow-tracking");
    let size = &ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"];
    assert_eq!(size, "3072m");
    let pod = &find(&docs, "Deployment", "mlflow-tracking")["spec"]["template"]["spec"];
    let tmp = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "tmp")
        .unwrap();
    assert_eq!(mib(&tmp["emptyDir"]["sizeLimit"]), 2.0 * 3072.0 + 1024.0);
    // The server's own limit holds its /tmp and its logs.
    let server = &pod["containers"][0];
    assert!(mib(&server["resources"]["limits"]["ephemeral-storage"]) > 7168.0);

    // A body limit of its own above the artifact size is a warning.
    let spec = spec.replace("auth:", "bodySize: \"0\", auth:");
    let run = mlk(&["render", "-f", "-"]).stdin(&spec).key().run().ok();
    assert!(
        run.stderr.contains(
            "ingress.bodySize 0 lets through uploads larger than tracking.maxArtifactSize"
        ),
        "{}",
        run.stderr
    );
}

/// Every file of credentials a program reads lies in the memory-backed
/// volume, which the pods mount where the files are written.
#[test]
fn credential_files_are_kept_in_memory() {
    let docs = mlk(&["render", "--profile", "prod"])
        .key()
        .run()
        .ok()
        .docs();
    let vars = [
        "PGPASSFILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "MC_CONFIG_DIR",
    ];
    let mut seen = 0;
    for (id, pod) in pod_specs(&docs) {
        let memory = pod["volumes"]
            .as_sequence()
            .into_iter()
            .flatten()
            .find(|v| v["emptyDir"]["medium"] == "Memory" && v["name"] == "credentials");
        for c in containers(pod) {
            for e in c["env"].as_sequence().into_iter().flatten() {
                if !vars.iter().any(|v| e["name"] == *v) {
                    continue;
                }
                seen += 1;
                assert!(
                    e["value"].as_str().unwrap().starts_with("/tmp/mlk/"),
                    "{id}: {e:?}"
                );
                assert!(
                    memory.is_some(),
                    "{id}: no memory-backed credentials volume"
                );
                let mounted = c["volumeMounts"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .any(|m| m["name"] == "credentials" && m["mountPath"] == "/tmp/mlk");
                assert!(
                    mounted,
                    "{id}: {} does not mount /tmp/mlk",
                    c["name"].as_str().unwrap()
                );
            }
        }
    }
    assert!(seen > 3, "{seen}");
}

/// What a patch adds is bounded too (an old spec's patch still renders),
/// a bound a patch removes comes back, and a size of 0, which bounds
/// nothing, is refused by the gate.
#[test]
fn patches_are_bounded_and_a_zero_bound_is_refused() {
    let spec = |patch: &str| {
        format!(
            "apiVersion: mlk/v1alpha1\nkind: Platform\npatches:\n  - target: {{kind: Deployment, name: mlflow-tracking}}\n    {patch}\n"
        )
    };
    let added = "json: [{op: add, path: /spec/template/spec/volumes/-, value: {name: cache, emptyDir: {}}}]";
    let docs = rendered(&spec(added));
    let pod = &find(&docs, "Deployment", "mlflow-tracking")["spec"]["template"]["spec"];
    let cache = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "cache")
        .unwrap();
    assert_eq!(cache["emptyDir"]["sizeLimit"], "1Gi");
    let removed = "json: [{op: remove, path: /spec/template/spec/containers/0/resources/limits/ephemeral-storage}]";
    let docs = rendered(&spec(removed));
    let server =
        &find(&docs, "Deployment", "mlflow-tracking")["spec"]["template"]["spec"]["containers"][0];
    assert!(mib(&server["resources"]["limits"]["ephemeral-storage"]) > 1024.0);
    let zero = "json: [{op: add, path: /spec/template/spec/volumes/-, value: {name: cache, emptyDir: {sizeLimit: \"0\"}}}]";
    let run = mlk(&["render", "-f", "-"])
        .stdin(&spec(zero))
        .key()
        .run()
        .failed();
    assert!(
        run.stderr
            .contains("emptyDir.sizeLimit: needs a sizeLimit above 0"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("<stdin>:5: patches[0]"),
        "the patch is named: {}",
        run.stderr
    );
}
