//! `--resolve` against a stand-in registry that misbehaves on purpose:
//! credentials it refuses, a server that never answers, answers that are
//! not MLflow's. The real server's answers are in tests/real_mlflow.rs.

mod common;
use common::fake_registry::registry;
use common::{find, mlk};

use std::net::{TcpListener, TcpStream};

const SPEC: &str = "apiVersion: mlk/v1alpha1
kind: Platform
serving:
  timeoutSeconds: 1
  models:
    - name: churn
      registeredModel: churn model
      alias: champion
";

/// alice:s3cret, as MLflow's client sends MLFLOW_TRACKING_USERNAME/PASSWORD.
const ALICE: &str = "authorization: basic YWxpY2U6czNjcmV0";

fn with_auth(request: &str, headers: &[String]) -> (u16, String) {
    if !headers.iter().any(|h| h.eq_ignore_ascii_case(ALICE)) {
        return (401, "Unauthorized".into());
    }
    if request.contains("/registered-models/alias?name=churn+model&alias=champion")
        || request.contains("/registered-models/alias?name=churn%20model&alias=champion")
    {
        return (
            200,
            r#"{"model_version": {"version": "7", "source": "models:/m-1"}}"#.into(),
        );
    }
    if request.contains("/model-versions/get-download-uri?") && request.contains("version=7") {
        return (
            200,
            r#"{"artifact_uri": "mlflow-artifacts:/3/models/m-1/artifacts"}"#.into(),
        );
    }
    (
        404,
        r#"{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "nope"}"#.into(),
    )
}

#[test]
fn credentials_come_from_mlflows_own_variables() {
    let uri = registry(with_auth);
    let run = mlk(&["render", "-f", "-", "--resolve"])
        .env("MLFLOW_TRACKING_URI", &uri)
        .env("MLFLOW_TRACKING_USERNAME", "alice")
        .env("MLFLOW_TRACKING_PASSWORD", "s3cret")
        .stdin(SPEC)
        .run()
        .ok();
    let docs = run.docs();
    let isvc = find(&docs, "InferenceService", "churn");
    assert_eq!(
        isvc["spec"]["predictor"]["model"]["storageUri"],
        "s3://mlflow/3/models/m-1/artifacts"
    );
    assert_eq!(isvc["metadata"]["annotations"]["mlk/model-version"], "7");
}

#[test]
fn a_refused_login_says_which_variables_to_set_and_shows_no_password() {
    let uri = registry(with_auth);
    let err = mlk(&["render", "-f", "-", "--resolve"])
        .env("MLFLOW_TRACKING_URI", &uri)
        .env("MLFLOW_TRACKING_USERNAME", "alice")
        .env("MLFLOW_TRACKING_PASSWORD", "wrong-password")
        .stdin(SPEC)
        .run()
        .failed()
        .stderr;
    assert!(
        err.contains("serving.models[0].alias: model churn"),
        "{err}"
    );
    assert!(err.contains("answered 401"), "{err}");
    assert!(err.contains("MLFLOW_TRACKING_PASSWORD"), "{err}");
    assert!(!err.contains("wrong-password"), "{err}");
}

fn resolve_fails(uri: &str) -> String {
    mlk(&["render", "-f", "-", "--resolve"])
        .env("MLFLOW_TRACKING_URI", uri)
        .stdin(SPEC)
        .run()
        .failed()
        .stderr
}

#[test]
fn a_server_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let held: Vec<TcpStream> = listener.incoming().flatten().collect();
        drop(held);
    });
    let err = resolve_fails(&uri);
    assert!(err.contains("no answer before the timeout"), "{err}");
}

#[test]
fn an_answer_that_is_not_mlflows_is_an_error() {
    let uri = registry(|_, _| (200, "<html>a login page</html>".into()));
    let err = resolve_fails(&uri);
    assert!(err.contains("not MLflow's"), "{err}");
}

#[test]
fn the_tracking_uri_may_come_from_the_spec() {
    let uri = registry(|_, _| (503, "down".into()));
    let spec = SPEC.replace("serving:\n", &format!("serving:\n  trackingUri: {uri}\n"));
    let err = mlk(&["render", "-f", "-", "--resolve"])
        .stdin(&spec)
        .run()
        .failed()
        .stderr;
    assert!(err.contains("answered 503: down"), "{err}");
    let err = mlk(&["render", "-f", "-", "--resolve"])
        .stdin(SPEC)
        .run()
        .failed()
        .stderr;
    assert!(
        err.contains("serving.trackingUri: is required by --resolve"),
        "{err}"
    );
}
