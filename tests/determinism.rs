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
