//! KServe's deployment mode: mlk always writes it, allows only what the
//! mode runs, drains Standard predictors as it drains the server, and
//! `mlk diff` calls a change of mode unsafe, since KServe refuses it.

mod common;
use common::{find, mlk, rendered as render};

use serde_yaml::Value;

fn spec(mode: &str, model: &str) -> String {
    format!(
        "apiVersion: mlk/v1alpha1\nkind: Platform\nserving:\n  deploymentMode: {mode}\n  models:\n    - {{name: churn, registeredModel: churn, storageUri: \"s3://mlflow/1/models/m-1/artifacts\"{model}}}\n"
    )
}

fn stream(docs: &[Value]) -> String {
    docs.iter()
        .map(|d| format!("---\n{}", serde_yaml::to_string(d).unwrap()))
        .collect()
}

#[test]
fn the_mode_is_written_and_standard_predictors_drain() {
    let standard = render(&spec("Standard", ""));
    let isvc = find(&standard, "InferenceService", "churn");
    assert_eq!(
        isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"],
        "Standard"
    );
    let predictor = &isvc["spec"]["predictor"];
    let sleep = predictor["model"]["lifecycle"]["preStop"]["sleep"]["seconds"]
        .as_u64()
        .unwrap();
    let grace = predictor["terminationGracePeriodSeconds"].as_u64().unwrap();
    // The sleep, KServe's 60 s request deadline, and the exit.
    assert!(grace >= sleep + 60, "{grace}");

    // Knative drains its own pods and refuses `lifecycle`.
    let knative = render(&spec(
        "Knative",
        ", minReplicas: 0, canaryTrafficPercent: 10",
    ));
    let isvc = find(&knative, "InferenceService", "churn");
    assert_eq!(
        isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"],
        "Knative"
    );
    assert!(isvc["spec"]["predictor"]["model"]["lifecycle"].is_null());
    assert!(isvc["spec"]["predictor"]["terminationGracePeriodSeconds"].is_null());
}

/// What only Knative runs is refused in Standard mode, naming the field.
#[test]
fn knative_features_need_the_knative_mode() {
    for (model, field) in [
        (", minReplicas: 0", "minReplicas"),
        (", canaryTrafficPercent: 10", "canaryTrafficPercent"),
        (", scaleMetric: rps", "scaleMetric"),
    ] {
        let run = mlk(&["render", "-f", "-"])
            .stdin(&spec("Standard", model))
            .key()
            .run()
            .failed();
        let want = format!("serving.models[0].{field}: ");
        assert!(run.stderr.contains(&want), "{}", run.stderr);
        assert!(
            run.stderr.contains("serving.deploymentMode: Knative"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_changed_mode_is_unsafe_with_its_steps() {
    let standard = render(&spec("Standard", ""));
    let knative = render(&spec("Knative", ""));
    // A render from before mlk wrote the mode: the cluster's default.
    let mut unnamed = standard.clone();
    for d in unnamed
        .iter_mut()
        .filter(|d| d["kind"] == "InferenceService")
    {
        let annotations = d["metadata"]["annotations"].as_mapping_mut().unwrap();
        annotations.remove("serving.kserve.io/deploymentMode");
    }
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, docs: &[Value]| {
        let path = dir.path().join(name);
        std::fs::write(&path, stream(docs)).unwrap();
        path.to_string_lossy().into_owned()
    };
    let (s, k, u) = (
        write("s.yaml", &standard),
        write("k.yaml", &knative),
        write("u.yaml", &unnamed),
    );
    let run = mlk(&["diff", &s, &k]).run();
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("moves from the Standard mode to Knative"),
        "{}",
        run.stdout
    );
    let status = run
        .stdout
        .find(".status.deploymentMode")
        .expect("a check step");
    let delete = run
        .stdout
        .find("kubectl delete inferenceservice")
        .expect("a step");
    assert!(status < delete, "{}", run.stdout);
    let run = mlk(&["diff", &u, &s]).run();
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(
        run.stdout.contains("the cluster's default mode"),
        "{}",
        run.stdout
    );
    // The same mode, named the old way, is no change of mode.
    let mut legacy = knative.clone();
    for d in legacy
        .iter_mut()
        .filter(|d| d["kind"] == "InferenceService")
    {
        d["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] = "Serverless".into();
    }
    let l = write("l.yaml", &legacy);
    let run = mlk(&["diff", &l, &k]).run();
    assert!(!run.stdout.contains("UNSAFE"), "{}", run.stdout);
}
