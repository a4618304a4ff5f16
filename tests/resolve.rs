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

/// `mlk render --resolve` as a CI job logged in as alice would run it.
fn as_alice(uri: &str, password: &str) -> common::Mlk {
    mlk(&[
        "render",
        "-f",
        "-",
        "--resolve",
        "--allow-insecure-tracking",
    ])
    .env("MLFLOW_TRACKING_URI", uri)
    .env("MLFLOW_TRACKING_USERNAME", "alice")
    .env("MLFLOW_TRACKING_PASSWORD", password)
    .stdin(SPEC)
}

#[test]
fn credentials_come_from_mlflows_own_variables() {
    let uri = registry(with_auth);
    let run = as_alice(&uri, "s3cret").run().ok();
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
    let err = as_alice(&uri, "wrong-password").run().failed().stderr;
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

/// The headers of every request the spy registry saw.
static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn spy(request: &str, headers: &[String]) -> (u16, String) {
    SEEN.lock().unwrap().extend(headers.iter().cloned());
    with_auth(request, headers)
}

#[test]
fn a_server_the_spec_chose_never_gets_the_credentials() {
    let uri = registry(spy);
    let spec = SPEC.replace("serving:\n", &format!("serving:\n  trackingUri: {uri}\n"));
    let err = mlk(&[
        "render",
        "-f",
        "-",
        "--resolve",
        "--allow-insecure-tracking",
    ])
    .env("MLFLOW_TRACKING_USERNAME", "alice")
    .env("MLFLOW_TRACKING_PASSWORD", "s3cret")
    .stdin(&spec)
    .run()
    .failed()
    .stderr;
    assert!(
        err.contains("answered 401, and mlk sent it no credentials"),
        "{err}"
    );
    let seen = SEEN.lock().unwrap();
    assert!(!seen.is_empty(), "the spy saw no request");
    assert!(
        seen.iter()
            .all(|h| !h.to_ascii_lowercase().starts_with("authorization")),
        "{seen:?}"
    );
}

#[test]
fn the_flag_names_the_server_and_wins_over_the_environment() {
    let uri = registry(with_auth);
    let args = [
        "render",
        "-f",
        "-",
        "--resolve",
        "--allow-insecure-tracking",
    ];
    let run = mlk(&[&args[..], &["--tracking-uri", &uri]].concat())
        .env("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
        .env("MLFLOW_TRACKING_USERNAME", "alice")
        .env("MLFLOW_TRACKING_PASSWORD", "s3cret")
        .stdin(SPEC)
        .run()
        .ok();
    let docs = run.docs();
    let isvc = find(&docs, "InferenceService", "churn");
    assert_eq!(isvc["metadata"]["annotations"]["mlk/model-version"], "7");
}

#[test]
fn credentials_never_cross_plain_http_unless_allowed() {
    fn never(_: &str, _: &[String]) -> (u16, String) {
        panic!("mlk sent a request it should have refused to send")
    }
    let uri = registry(never);
    let err = mlk(&["render", "-f", "-", "--resolve"])
        .env("MLFLOW_TRACKING_URI", &uri)
        .env("MLFLOW_TRACKING_USERNAME", "alice")
        .env("MLFLOW_TRACKING_PASSWORD", "s3cret")
        .stdin(SPEC)
        .run()
        .failed()
        .stderr;
    assert!(err.contains("--allow-insecure-tracking"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn a_malformed_uri_is_never_quoted() {
    for uri in [
        "HTTPS://ci:PW-marker@host",
        "ftp://ci:PW-marker@host/x",
        " https://ci:PW-marker@host",
        "https://host/PW-marker with space",
    ] {
        let err = mlk(&["render", "-f", "-", "--resolve"])
            .env("MLFLOW_TRACKING_URI", uri)
            .stdin(SPEC)
            .run()
            .failed()
            .stderr;
        assert!(err.contains("MLFLOW_TRACKING_URI"), "{err}");
        assert!(!err.contains("PW-marker"), "{uri}: {err}");
    }
}

/// A proxy or a debugging server that echoes the request back.
fn echo(request: &str, headers: &[String]) -> (u16, String) {
    (400, format!("{request}\n{}", headers.join("\n")))
}

fn echo_json(request: &str, headers: &[String]) -> (u16, String) {
    let text = format!("{request} {}", headers.join(" "));
    (
        500,
        serde_json::json!({"error_code": "X", "message": text}).to_string(),
    )
}

#[test]
fn a_reply_that_echoes_the_request_is_not_printed() {
    for answer in [echo as fn(&str, &[String]) -> (u16, String), echo_json] {
        let uri = registry(answer);
        let err = as_alice(&uri, "s3cret").run().failed().stderr;
        assert!(err.contains("answered"), "{err}");
        for leak in ["s3cret", "YWxpY2U6czNjcmV0", "uthorization"] {
            assert!(!err.contains(leak), "{leak} in: {err}");
        }
    }
}
