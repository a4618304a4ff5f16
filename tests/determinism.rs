//! The same inputs give byte-identical output, whatever the run, the
//! working folder or the rest of the environment.

mod common;
use common::mlk;

#[test]
fn same_inputs_same_bytes() {
    let spec = "specs/everything.yaml";
    let a = mlk(&["render", "-f", spec, "--profile", "prod"])
        .key()
        .env("MINIO_USER", "u")
        .run()
        .ok();
    let other_dir = tempfile::tempdir().unwrap();
    let abs = common::fixtures().join(spec);
    let b = mlk(&["render", "-f", abs.to_str().unwrap(), "--profile", "prod"])
        .key()
        .env("MINIO_USER", "u")
        .env("UNRELATED", "changes nothing")
        .dir(other_dir.path())
        .run()
        .ok();
    assert_eq!(a.stdout, b.stdout);
    for _ in 0..3 {
        let again = mlk(&["render", "-f", spec, "--profile", "prod"])
            .key()
            .env("MINIO_USER", "u")
            .run()
            .ok();
        assert_eq!(a.stdout, again.stdout);
    }
    let j1 = mlk(&["render", "-o", "json"]).run().ok();
    let j2 = mlk(&["render", "-o", "json"]).run().ok();
    assert_eq!(j1.stdout, j2.stdout);
}

/// Generated secrets depend on the key and the platform, never on the run:
/// a re-render must not rotate a password PostgreSQL already holds.
#[test]
fn generated_secrets_are_stable_and_keyed() {
    let secret = |key: &str, name: &str| {
        let run = mlk(&["render", "--set", &format!("metadata.name={name}")])
            .env("MLK_SECRET_KEY", key)
            .run()
            .ok();
        let docs = run.docs();
        common::find(&docs, "Secret", &format!("{name}-db"))["data"]["password"].clone()
    };
    let k1 = "k".repeat(40);
    let k2 = "j".repeat(40);
    assert_eq!(secret(&k1, "mlflow"), secret(&k1, "mlflow"));
    assert_ne!(secret(&k1, "mlflow"), secret(&k2, "mlflow"));
    assert_ne!(secret(&k1, "mlflow"), secret(&k1, "other"));
}

/// A large platform's objects come out in the spec's order, each one
/// whole and its own.
#[test]
fn many_models_keep_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("models.yaml");
    let mut text = String::from("apiVersion: mlk/v1alpha1\nkind: Platform\nserving:\n  models:\n");
    for i in 0..600 {
        text.push_str(&format!(
            "    - {{name: m{i}, registeredModel: r{i}, storageUri: \"s3://mlflow/1/models/m-{i}/artifacts\"}}\n"
        ));
    }
    std::fs::write(&spec, text).unwrap();
    let run = || mlk(&["render", "-f", spec.to_str().unwrap()]).run().ok();
    let first = run();
    let docs = first.docs();
    let services: Vec<_> = docs
        .iter()
        .filter(|d| d["kind"] == "InferenceService")
        .collect();
    assert_eq!(services.len(), 600);
    for (i, s) in services.iter().enumerate() {
        assert_eq!(s["metadata"]["name"], format!("m{i}").as_str());
        let uri = &s["spec"]["predictor"]["model"]["storageUri"];
        assert_eq!(
            uri,
            format!("s3://mlflow/1/models/m-{i}/artifacts").as_str()
        );
    }
    assert_eq!(first.stdout, run().stdout);
}

/// `mlk validate` of a long stream reports each object's problems in the
/// stream's order, and a repeated object after all the others.
#[test]
fn many_problems_keep_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let stream = dir.path().join("stream.yaml");
    let mut text = String::new();
    for i in 0..600 {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  namespace: ns\nunknown{i}: x\n"
        ));
    }
    text.push_str("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c0\n  namespace: ns\n");
    std::fs::write(&stream, text).unwrap();
    let run = mlk(&["validate", stream.to_str().unwrap()]).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 601, "{}", run.stdout);
    let file = stream.display();
    for (i, line) in lines[..600].iter().enumerate() {
        // Each problem names its object's file and the line it starts on.
        let want = format!("{file}:{}: ConfigMap/ns/c{i}: unknown{i}: ", 7 * i + 2);
        assert!(line.starts_with(&want), "line {i}: {line}");
    }
    assert!(lines[600].contains("ConfigMap/ns/c0: metadata.name: another object"));
}
