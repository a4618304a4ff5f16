//! The platform's own clients under `tracking.auth` log in as themselves,
//! never as the first admin: Prometheus as `mlk-metrics`, gc as `mlk-gc`,
//! each from a Secret of its own that the migration step reads to create
//! the user. (That the logins work, and what each may do, the end-to-end
//! harness shows on a real server.)

mod common;
use common::{find, mlk};
use serde_yaml::Value;

const SPEC: &str = "apiVersion: mlk/v1alpha1
kind: Platform
tracking:
  auth:
    enabled: true
    admin: {username: platform-admin, password: {generate: true}}
  gc: {}
monitoring:
  serviceMonitor: {enabled: true}
";

fn render(spec: &str) -> Vec<Value> {
    mlk(&["render", "-f", "-"])
        .key()
        .stdin(spec)
        .run()
        .ok()
        .docs()
}

fn secret_ref(v: &Value) -> (String, String) {
    let r = &v["valueFrom"]["secretKeyRef"];
    let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
    (s("name"), s("key"))
}

fn env_ref(container: &Value, name: &str) -> (String, String) {
    let env = container["env"].as_sequence().expect("env");
    let e = env.iter().find(|e| e["name"] == name);
    secret_ref(e.unwrap_or_else(|| panic!("no {name}")))
}

fn decoded(docs: &[Value], secret: &str, key: &str) -> String {
    use base64::Engine;
    let data = &find(docs, "Secret", secret)["data"][key];
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.as_str().unwrap_or_default())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn prometheus_and_gc_log_in_as_themselves() {
    let docs = render(SPEC);
    let monitor = docs.iter().find(|d| d["kind"] == "ServiceMonitor").unwrap();
    let login = &monitor["spec"]["endpoints"][0]["basicAuth"];
    assert_eq!(login["username"]["name"], "mlflow-metrics-login");
    assert_eq!(login["password"]["name"], "mlflow-metrics-login");
    assert_eq!(
        decoded(&docs, "mlflow-metrics-login", "username"),
        "mlk-metrics"
    );
    let cron = find(&docs, "CronJob", "mlflow-gc");
    let gc = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    let user = env_ref(gc, "MLFLOW_TRACKING_USERNAME");
    let password = env_ref(gc, "MLFLOW_TRACKING_PASSWORD");
    assert_eq!(user, ("mlflow-gc-login".into(), "username".into()));
    assert_eq!(password, ("mlflow-gc-login".into(), "password".into()));
    assert_eq!(decoded(&docs, "mlflow-gc-login", "username"), "mlk-gc");
    // Three passwords, none the same: the admin's and each login's.
    let admin = decoded(&docs, "mlflow-tracking", "admin-password");
    let metrics = decoded(&docs, "mlflow-metrics-login", "password");
    let gc_pw = decoded(&docs, "mlflow-gc-login", "password");
    assert!(admin != metrics && admin != gc_pw && metrics != gc_pw);
    // The migration step makes them, each password from its Secret by
    // env, none in argv.
    let pod = &find(&docs, "Deployment", "mlflow-tracking")["spec"]["template"]["spec"];
    let steps = pod["initContainers"].as_sequence().unwrap();
    let step = steps.iter().find(|c| c["name"] == "db-upgrade").unwrap();
    let args: Vec<&str> = step["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .chain(step["args"].as_sequence().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    assert!(
        args.contains(&"mlk-metrics:admin:MLK_LOGIN_METRICS"),
        "{args:?}"
    );
    assert!(args.contains(&"mlk-gc:admin:MLK_LOGIN_GC"), "{args:?}");
    for secret in [&admin, &metrics, &gc_pw] {
        assert!(!args.iter().any(|a| a.contains(secret.as_str())));
    }
    assert_eq!(
        env_ref(step, "MLK_LOGIN_METRICS"),
        ("mlflow-metrics-login".into(), "password".into())
    );
    assert_eq!(
        env_ref(step, "MLK_LOGIN_GC"),
        ("mlflow-gc-login".into(), "password".into())
    );
}

#[test]
fn without_gc_there_is_no_gc_login() {
    let docs = render(&SPEC.replace("  gc: {}\n", ""));
    let secrets: Vec<&str> = docs
        .iter()
        .filter(|d| d["kind"] == "Secret")
        .filter_map(|d| d["metadata"]["name"].as_str())
        .collect();
    assert!(secrets.contains(&"mlflow-metrics-login"), "{secrets:?}");
    assert!(!secrets.contains(&"mlflow-gc-login"), "{secrets:?}");
}
