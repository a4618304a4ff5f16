//! `tracking.workspaces` as a render lays it out: the server's switch,
//! gc in every workspace, the list the migration step reads (exactly as
//! written, whatever a description holds), and the settings no spec field
//! but this one turns on. (Each refusal has its fixture in
//! fixtures/spec-errors; the workspaces themselves run in the end-to-end
//! harness.)

mod common;
use common::fake_registry::registry;
use common::{env_value, find, mlk, rendered};
use serde_yaml::Value;

fn spec(tracking: &str) -> String {
    format!("apiVersion: mlk/v1alpha1\nkind: Platform\ntracking:\n  gc: {{}}\n{tracking}")
}

fn server(docs: &[Value]) -> &Value {
    &find(docs, "Deployment", "mlflow-tracking")["spec"]["template"]["spec"]
}

fn migration_step(docs: &[Value]) -> &Value {
    let steps = server(docs)["initContainers"].as_sequence().unwrap();
    steps.iter().find(|s| s["name"] == "db-upgrade").unwrap()
}

fn gc_job(docs: &[Value]) -> &Value {
    &find(docs, "CronJob", "mlflow-gc")["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        [0]
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

#[test]
fn workspaces_turn_on_in_the_server_gc_and_the_migration_step() {
    let docs = rendered(&spec(
        "  workspaces:\n    - {name: team-a, description: Fraud}\n    - name: team-b\n",
    ));
    let args = strings(&server(&docs)["containers"][0]["args"]);
    assert!(args.contains(&"--enable-workspaces"), "{args:?}");
    let gc = gc_job(&docs);
    assert!(strings(&gc["command"]).contains(&"--all-workspaces"));
    assert_eq!(env_value(gc, "MLFLOW_ENABLE_WORKSPACES"), Some("true"));
    let step = migration_step(&docs);
    let list: serde_json::Value =
        serde_json::from_str(env_value(step, "MLK_WORKSPACES").unwrap()).unwrap();
    assert_eq!(
        list,
        serde_json::json!([
            {"name": "team-a", "description": "Fraud", "groups": {}},
            {"name": "team-b", "description": null, "groups": {}},
        ])
    );
    assert!(strings(&step["command"])[2].contains("def set_up_workspaces"));

    // Without workspaces, none of it.
    let docs = rendered(&spec(""));
    let args = strings(&server(&docs)["containers"][0]["args"]);
    assert!(!args.contains(&"--enable-workspaces"));
    assert!(!strings(&gc_job(&docs)["command"]).contains(&"--all-workspaces"));
    let step = migration_step(&docs);
    assert_eq!(env_value(step, "MLK_WORKSPACES"), None);
    assert!(!strings(&step["command"])[2].contains("def set_up_workspaces"));
}

/// A description reaches the step's JSON exactly; the kubelet's `$(NAME)`
/// (the step's env holds the platform's logins) is never there to expand.
#[test]
fn descriptions_reach_the_migration_step_exactly() {
    for s in [
        "$(MLK_LOGIN_METRICS)",
        "$$(X) $(",
        "a\"b'c\\d",
        "yes",
        "{{ x }}",
        "ünïcødé 😀",
        "- item: [a, b]",
    ] {
        let json = serde_json::json!({
            "apiVersion": "mlk/v1alpha1",
            "kind": "Platform",
            "tracking": {
                "auth": {"enabled": true},
                "workspaces": [{"name": "team-a", "description": s}],
            },
        });
        let docs = rendered(&json.to_string());
        let raw = env_value(migration_step(&docs), "MLK_WORKSPACES").unwrap();
        assert!(!raw.contains('$'), "{s:?}: {raw}");
        let list: serde_json::Value = serde_json::from_str(raw).unwrap();
        assert_eq!(list[0]["description"], s, "{s:?}");
    }
}

/// Under the OIDC plugin: the groups' grants go to the migration step,
/// and a token's `workspace` claim is read as no claim at all.
#[test]
fn under_single_sign_on_groups_are_granted_and_token_claims_ignored() {
    let oidc = "  image: registry.example.com/mlflow-oidc:3.17.2
  auth:
    oidc:
      issuer: https://id.example.com/realms/ml
      clientId: mlflow
      clientSecret: {existingSecret: {name: mlflow-oidc, key: client-secret}}
      redirectUri: https://mlflow.example.com/callback
      groups: {admins: [mlflow-admins]}
";
    let text = format!(
        "apiVersion: mlk/v1alpha1\nkind: Platform\ntracking:\n{oidc}  workspaces:\n    - name: team-a\n      groups: [{{group: team-a, permission: MANAGE}}, {{group: audit, permission: READ}}]\n"
    );
    let docs = rendered(&text);
    let step = migration_step(&docs);
    let list: serde_json::Value =
        serde_json::from_str(env_value(step, "MLK_WORKSPACES").unwrap()).unwrap();
    assert_eq!(
        list[0]["groups"],
        serde_json::json!({"audit": "READ", "team-a": "MANAGE"})
    );
    let c = &server(&docs)["containers"][0];
    assert_eq!(env_value(c, "OIDC_WORKSPACE_CLAIM_NAME"), Some(""));
    let without = format!("apiVersion: mlk/v1alpha1\nkind: Platform\ntracking:\n{oidc}");
    let docs = rendered(&without);
    assert_eq!(
        env_value(&server(&docs)["containers"][0], "OIDC_WORKSPACE_CLAIM_NAME"),
        None
    );
}

/// The switch is the spec field's: a second one through extraArgs or
/// extraEnv is sent to it, and a client's workspace would stop the server.
#[test]
fn only_the_field_turns_workspaces_on() {
    for (extra, said) in [
        (
            "  extraArgs: [--enable-workspaces]\n",
            "set tracking.workspaces",
        ),
        (
            "  extraEnv: [{name: MLFLOW_ENABLE_WORKSPACES, value: \"true\"}]\n",
            "set tracking.workspaces",
        ),
        (
            "  extraEnv: [{name: MLFLOW_WORKSPACE, value: team-a}]\n",
            "MLFLOW_WORKSPACE",
        ),
    ] {
        let run = mlk(&["render", "-f", "-"])
            .stdin(&spec(extra))
            .run()
            .failed();
        assert!(run.stdout.is_empty());
        assert!(run.stderr.contains(said), "{extra}: {}", run.stderr);
    }
}

/// A pin made in another workspace is not the model the spec asks for.
#[test]
fn a_lock_of_another_workspace_does_not_count() {
    let dir = tempfile::tempdir().unwrap();
    let lock = "apiVersion: mlk/v1alpha1
kind: Lock
models:
  - name: churn
    registeredModel: churn
    alias: champion
    version: 3
    storageUri: s3://mlflow/workspaces/default/1/models/m-abc/artifacts
";
    std::fs::write(dir.path().join("mlk.lock"), lock).unwrap();
    let platform = |workspace: &str| {
        format!(
            "apiVersion: mlk/v1alpha1\nkind: Platform\ntracking:\n  workspaces: [{{name: team-a}}]\nserving:\n  models:\n    - {{name: churn, registeredModel: churn, alias: champion{workspace}}}\n"
        )
    };
    let file = dir.path().join("platform.yaml");
    std::fs::write(&file, platform("")).unwrap();
    let path = file.to_str().unwrap();
    mlk(&["render", "-f", path]).run().ok();
    std::fs::write(&file, platform(", workspace: team-a")).unwrap();
    let run = mlk(&["render", "-f", path]).run().failed();
    assert!(
        run.stderr
            .contains("mlk.lock holds the model of workspace default, the spec asks for team-a"),
        "{}",
        run.stderr
    );
}

/// The workspace header of every request the spy registry saw, one
/// entry per request ("-" for none).
static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn spy(request: &str, headers: &[String]) -> (u16, String) {
    let workspace = headers
        .iter()
        .find_map(|h| {
            h.strip_prefix("x-mlflow-workspace: ")
                .or(h.strip_prefix("X-MLFLOW-WORKSPACE: "))
        })
        .unwrap_or("-");
    SEEN.lock().unwrap().push(workspace.to_owned());
    let folder = match workspace {
        "-" => "1".to_owned(),
        w => format!("workspaces/{w}/3"),
    };
    if request.contains("/registered-models/alias?") {
        return (
            200,
            r#"{"model_version": {"version": "4", "run_id": "abc"}}"#.into(),
        );
    }
    let uri = format!("mlflow-artifacts:/{folder}/models/m-4/artifacts");
    (200, format!(r#"{{"artifact_uri": "{uri}"}}"#))
}

/// `--resolve` asks for a model of a workspace with MLflow's header, and
/// for one of `default` without it.
#[test]
fn resolve_names_each_model_s_workspace() {
    let uri = registry(spy);
    let text = format!(
        "apiVersion: mlk/v1alpha1\nkind: Platform\ntracking:\n  workspaces: [{{name: team-a}}]\nserving:\n  trackingUri: {uri}\n  models:\n    - {{name: churn, registeredModel: churn, alias: champion, workspace: team-a}}\n    - {{name: fraud, registeredModel: fraud, alias: champion}}\n"
    );
    let docs = mlk(&["render", "-f", "-", "--resolve"])
        .stdin(&text)
        .run()
        .ok()
        .docs();
    let seen = SEEN.lock().unwrap().clone();
    assert!(
        seen.iter().filter(|w| *w == "team-a").count() >= 2,
        "{seen:?}"
    );
    assert!(seen.iter().filter(|w| *w == "-").count() >= 2, "{seen:?}");
    assert!(seen.iter().all(|w| w == "team-a" || w == "-"), "{seen:?}");
    let served = |name: &str| {
        find(&docs, "InferenceService", name)["spec"]["predictor"]["model"]["storageUri"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        served("churn"),
        "s3://mlflow/workspaces/team-a/3/models/m-4/artifacts"
    );
    assert_eq!(served("fraud"), "s3://mlflow/1/models/m-4/artifacts");
}

/// Under single sign-on, gc's password is an access token in the
/// plugin's format, only in its Secret, and the step that sets it carries
/// the code to; without gc, neither.
#[test]
fn gc_under_single_sign_on_logs_in_with_a_token_of_its_own() {
    let spec = |gc: &str| {
        format!(
            "apiVersion: mlk/v1alpha1
kind: Platform
tracking:
  image: registry.example.com/mlflow-oidc:3.17.2
{gc}  auth:
    oidc:
      issuer: https://id.example.com/realms/ml
      clientId: mlflow
      clientSecret: {{existingSecret: {{name: mlflow-oidc, key: client-secret}}}}
      redirectUri: https://mlflow.example.com/callback
      groups: {{admins: [mlflow-admins]}}
"
        )
    };
    let run = mlk(&["render", "-f", "-"])
        .stdin(&spec("  gc: {}\n"))
        .key()
        .run()
        .ok();
    let docs = run.docs();
    let secret = find(&docs, "Secret", "mlflow-gc-login");
    let raw = secret["data"]["password"].as_str().unwrap();
    let token = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, raw).unwrap();
    let token = String::from_utf8(token).unwrap();
    let parts: Vec<&str> = token.splitn(3, '_').collect();
    assert_eq!(
        (parts[0], parts[1].len(), parts[2].len()),
        ("mlf", 8, 32),
        "{token}"
    );
    assert_eq!(
        run.stdout.matches(raw).count(),
        1,
        "the token is only in its Secret"
    );
    assert!(
        !run.stdout.contains(parts[2]),
        "the token is never in clear"
    );
    let step = migration_step(&docs);
    let script = strings(&step["command"])[2];
    assert!(script.contains("def oidc_logins"));
    assert!(strings(&step["command"]).contains(&"mlk-gc:admin:MLK_LOGIN_GC"));
    let docs = mlk(&["render", "-f", "-"])
        .stdin(&spec(""))
        .key()
        .run()
        .ok()
        .docs();
    assert!(!strings(&migration_step(&docs)["command"])[2].contains("def oidc_logins"));
}

/// A model the registry lacks is named with its workspace, where the same
/// name may be another team's model.
#[test]
fn a_missing_model_is_named_with_its_workspace() {
    fn missing(_: &str, _: &[String]) -> (u16, String) {
        let body = r#"{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no such alias"}"#;
        (404, body.into())
    }
    let uri = registry(missing);
    let text = format!(
        "apiVersion: mlk/v1alpha1\nkind: Platform\ntracking:\n  workspaces: [{{name: team-a}}]\nserving:\n  trackingUri: {uri}\n  models:\n    - {{name: churn, registeredModel: churn, alias: champion, workspace: team-a}}\n"
    );
    let run = mlk(&["render", "-f", "-", "--resolve"])
        .stdin(&text)
        .run()
        .failed();
    let want = "alias \"champion\" of \"churn\" in workspace \"team-a\" is not in the registry";
    assert!(run.stderr.contains(want), "{}", run.stderr);
}
