//! Where secret values go: into Secret objects, and nowhere else.

mod common;
use common::{find, mlk};

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn values_appear_only_inside_secrets() {
    let pw = "pg-password-from-env-7731";
    let run = mlk(&[
        "render",
        "--set",
        "database.embedded.password.fromEnv=PG_PW",
    ])
    .env("PG_PW", pw)
    .run()
    .ok();
    assert!(
        !run.stdout.contains(pw),
        "a secret is in plain text in the output"
    );
    assert!(!run.stderr.contains(pw));
    let docs = run.docs();
    let secret = find(&docs, "Secret", "mlflow-db");
    assert_eq!(secret["data"]["password"], b64(pw).as_str());
    for d in docs.iter().filter(|d| d["kind"] != "Secret") {
        let text = serde_yaml::to_string(d).unwrap();
        assert!(!text.contains(&b64(pw)), "{:?} holds the secret", d["kind"]);
    }
}

#[test]
fn from_file_is_relative_to_the_spec_and_loses_one_newline() {
    let run = mlk(&["render", "-f", "specs/everything.yaml"])
        .env("MINIO_USER", "minio-admin")
        .run()
        .ok();
    let docs = run.docs();
    let s3 = find(&docs, "Secret", "ml-platform-s3");
    assert_eq!(
        s3["data"]["secret-access-key"],
        b64("minio-file-secret-1234").as_str()
    );
    assert_eq!(s3["data"]["access-key-id"], b64("minio-admin").as_str());
}

#[test]
fn existing_secret_renders_no_secret() {
    let run = mlk(&[
        "render",
        "--set",
        "database.embedded.password={existingSecret: {name: pg, key: pw}}",
    ])
    .run()
    .ok();
    let docs = run.docs();
    assert!(
        !docs
            .iter()
            .any(|d| d["kind"] == "Secret" && d["metadata"]["name"] == "mlflow-db")
    );
    let sts = find(&docs, "StatefulSet", "mlflow-postgres");
    let env = &sts["spec"]["template"]["spec"]["containers"][0]["env"];
    let pw = env
        .as_sequence()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "POSTGRES_PASSWORD")
        .unwrap();
    assert_eq!(pw["valueFrom"]["secretKeyRef"]["name"], "pg");
    assert_eq!(pw["valueFrom"]["secretKeyRef"]["key"], "pw");
}

#[test]
fn the_database_password_never_reaches_args() {
    let run = mlk(&[
        "render",
        "--set",
        "database.embedded.password.value=lit-3141",
    ])
    .run()
    .ok();
    assert!(
        run.stderr
            .contains("warning: database.embedded.password: the secret is written in the spec")
    );
    assert!(!run.stderr.contains("lit-3141"));
    let docs = run.docs();
    let pod = &find(&docs, "Deployment", "mlflow-tracking")["spec"]["template"]["spec"];
    let text = serde_yaml::to_string(pod).unwrap();
    assert!(!text.contains("lit-3141") && !text.contains(&b64("lit-3141")));
    let c = &pod["containers"][0];
    let uri_at = c["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .position(|a| a == "--backend-store-uri")
        .unwrap();
    assert_eq!(
        c["args"][uri_at + 1],
        "postgresql+psycopg://mlflow@mlflow-postgres.mlflow.svc.cluster.local:5432/mlflow"
    );
    let pgpassword = c["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "PGPASSWORD")
        .unwrap();
    assert_eq!(pgpassword["valueFrom"]["secretKeyRef"]["name"], "mlflow-db");
}

#[test]
fn dev_fallback_warns_loudly_and_key_silences_it() {
    let run = mlk(&["render"]).run().ok();
    assert!(
        run.stderr.contains("PUBLIC development key"),
        "{}",
        run.stderr
    );
    let keyed = mlk(&["render"]).key().run().ok();
    assert!(keyed.stderr.is_empty(), "{}", keyed.stderr);
}
