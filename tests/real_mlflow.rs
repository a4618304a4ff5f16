//! `mlk render --resolve` against a real MLflow tracking server (from
//! PyPI, the default image's version) on 127.0.0.1: a model logged and
//! registered with MLflow's own client, an alias set and moved, and each
//! way the lookup can fail.
//!
//! Ignored by a plain `cargo test`: it needs the venv that
//! `scripts/install-test-deps.sh` builds. `bash .ci/run` runs it.

mod common;
use common::live::{Process, free_port, python, venv_bin};
use common::{find, mlk};

use std::path::Path;
use std::process::Command;
use std::time::Duration;

struct Tracking {
    _server: Process,
    uri: String,
    artifacts: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// `--artifacts-destination` is a local folder here: `s3://mlflow/PATH`
/// in a rendered storageUri is then `artifacts/PATH` on disk.
fn tracking_server() -> Tracking {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let artifacts = dir.path().join("artifacts");
    let mut cmd = Command::new(venv_bin("mlflow"));
    cmd.args(["server", "--host", "127.0.0.1", "--port", &port.to_string()])
        .arg("--backend-store-uri")
        .arg(format!(
            "sqlite:///{}",
            dir.path().join("mlflow.db").display()
        ))
        .arg("--artifacts-destination")
        .arg(format!("file://{}", artifacts.display()))
        .args(["--serve-artifacts", "--workers", "1"])
        .env("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
        .env("MLFLOW_DISABLE_TELEMETRY", "true");
    let mut server = Process::start("mlflow server", cmd, dir.path().join("mlflow.log"));
    server.wait_for_port(port, Duration::from_secs(120));
    Tracking {
        _server: server,
        uri: format!("http://127.0.0.1:{port}"),
        artifacts,
        _dir: dir,
    }
}

/// Logs `count` versions of a tiny pyfunc model as "churn model".
const LOG_MODELS: &str = r#"
import sys, mlflow
class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return model_input
for _ in range(int(sys.argv[1])):
    with mlflow.start_run():
        mlflow.pyfunc.log_model(name="model", python_model=Echo(),
            registered_model_name="churn model", pip_requirements=["mlflow==3.17.2"])
"#;

const SET_ALIAS: &str = r#"
import sys, mlflow
mlflow.MlflowClient().set_registered_model_alias("churn model", sys.argv[1], sys.argv[2])
"#;

fn py(t: &Tracking, script: &str, args: &[&str]) {
    let mut full = String::from("import sys; sys.argv = ['x'");
    for a in args {
        full.push_str(&format!(", {a:?}"));
    }
    full.push_str("]\n");
    full.push_str(script);
    python(&full, &[("MLFLOW_TRACKING_URI", &t.uri)]);
}

fn spec(models: &str) -> String {
    format!(
        "apiVersion: mlk/v1alpha1\nkind: Platform\nserving:\n  timeoutSeconds: 5\n  models:\n{models}"
    )
}

const CHAMPION: &str = "    - {name: churn, registeredModel: churn model, alias: champion}\n";
const PINNED: &str = "    - {name: churn-v1, registeredModel: churn model, version: 1}\n";

fn render(t: &Tracking, models: &str) -> common::Run {
    mlk(&["render", "-f", "-", "--resolve"])
        .env("MLFLOW_TRACKING_URI", &t.uri)
        .stdin(&spec(models))
        .run()
}

fn storage_uri(run: &common::Run, name: &str) -> String {
    let docs = run.docs();
    let isvc = find(&docs, "InferenceService", name);
    isvc["spec"]["predictor"]["model"]["storageUri"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn holds_mlmodel(t: &Tracking, uri: &str) -> bool {
    let path = uri
        .strip_prefix("s3://mlflow/")
        .expect("in the platform's bucket");
    Path::new(&t.artifacts).join(path).join("MLmodel").is_file()
}

#[test]
#[ignore = "needs the MLflow venv; run by .ci/run"]
fn aliases_and_versions_resolve_to_the_folder_that_holds_the_model() {
    let t = tracking_server();
    py(&t, LOG_MODELS, &["2"]);
    py(&t, SET_ALIAS, &["champion", "1"]);

    let first = render(&t, &format!("{CHAMPION}{PINNED}")).ok();
    let champion = storage_uri(&first, "churn");
    assert!(holds_mlmodel(&t, &champion), "{champion} holds no MLmodel");
    assert_eq!(
        champion,
        storage_uri(&first, "churn-v1"),
        "alias and version 1 agree"
    );
    let docs = first.docs();
    let annotations = &find(&docs, "InferenceService", "churn")["metadata"]["annotations"];
    assert_eq!(annotations["mlk/model-version"], "1");
    assert_eq!(annotations["mlk/model-alias"], "champion");
    assert_eq!(annotations["mlk/registered-model"], "churn model");

    py(&t, SET_ALIAS, &["champion", "2"]);
    let second = render(&t, &format!("{CHAMPION}{PINNED}")).ok();
    let promoted = storage_uri(&second, "churn");
    assert_ne!(promoted, champion);
    assert!(holds_mlmodel(&t, &promoted), "{promoted} holds no MLmodel");
    assert_eq!(
        changed_lines(&first.stdout, &second.stdout),
        vec![
            format!("    mlk/model-version: \"2\""),
            format!("      storageUri: {promoted}"),
        ],
        "a promotion changes that model's version and storageUri, nothing else"
    );
}

/// The lines of `after` that differ from `before`, which must have as
/// many lines.
fn changed_lines(before: &str, after: &str) -> Vec<String> {
    let (b, a): (Vec<_>, Vec<_>) = (before.lines().collect(), after.lines().collect());
    assert_eq!(b.len(), a.len(), "the re-render has other lines");
    b.iter()
        .zip(&a)
        .filter(|(x, y)| x != y)
        .map(|(_, y)| y.to_string())
        .collect()
}

#[test]
#[ignore = "needs the MLflow venv; run by .ci/run"]
fn each_lookup_failure_is_a_clear_error() {
    let t = tracking_server();
    py(&t, LOG_MODELS, &["1"]);

    let unknown_model = "    - {name: ghost, registeredModel: no such model, version: 1}\n";
    let err = render(&t, unknown_model).failed().stderr;
    assert!(err.contains("serving.models[0].version"), "{err}");
    assert!(
        err.contains("model ghost") && err.contains("no such model"),
        "{err}"
    );

    let err = render(&t, CHAMPION).failed().stderr;
    assert!(err.contains("serving.models[0].alias"), "{err}");
    assert!(
        err.contains("alias \"champion\" of \"churn model\" is not in the registry"),
        "{err}"
    );

    let unknown_version = "    - {name: churn, registeredModel: churn model, version: 9}\n";
    let err = render(&t, unknown_version).failed().stderr;
    assert!(err.contains("version 9 of \"churn model\""), "{err}");

    let closed = format!("http://127.0.0.1:{}", free_port());
    let err = mlk(&["render", "-f", "-", "--resolve"])
        .env("MLFLOW_TRACKING_URI", &closed)
        .stdin(&spec(CHAMPION))
        .run()
        .failed()
        .stderr;
    assert!(
        err.contains("model churn") && err.contains("unreachable"),
        "{err}"
    );

    let err = mlk(&["render", "-f", "-"])
        .stdin(&spec(CHAMPION))
        .run()
        .failed()
        .stderr;
    assert!(err.contains("pass --resolve"), "{err}");
}
