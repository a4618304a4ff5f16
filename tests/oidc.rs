//! Single sign-on as a spec asks for it: the redirect URI each front door
//! gives, the large headers nginx makes room for, and the image recipe
//! that `mlk image dockerfile` and the refusal of MLflow's own image
//! both print. (Each refusal has its fixture in fixtures/spec-errors; the
//! login itself runs in the end-to-end harness.)

mod common;
use common::{env_value, find, mlk};

const OIDC: &str = "tracking:
  image: registry.example.com/mlflow-oidc:3.17.2
  auth:
    oidc:
      issuer: https://id.example.com/realms/ml
      clientId: mlflow
      clientSecret: {existingSecret: {name: mlflow-oidc, key: client-secret}}
      groups: {admins: [mlflow-admins]}
";

fn render(front: &str) -> Vec<serde_yaml::Value> {
    let spec = format!("apiVersion: mlk/v1alpha1\nkind: Platform\n{front}{OIDC}");
    mlk(&["render", "-f", "-", "--allow-insecure-issuer"])
        .stdin(&spec)
        .run()
        .ok()
        .docs()
}

fn server_env(docs: &[serde_yaml::Value], name: &str) -> Option<String> {
    let d = find(docs, "Deployment", "mlflow-tracking");
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    env_value(c, name).map(str::to_owned)
}

#[test]
fn the_redirect_uri_is_the_front_doors() {
    let ingress = |tls: &str| {
        format!(
            "ingress:\n  enabled: true\n  host: ml.example.com\n  auth: {{enabled: false}}\n{tls}"
        )
    };
    let cases = [
        (ingress(""), "http://ml.example.com/callback", "false"),
        (
            ingress("  tls: {secretName: ml-tls}\n"),
            "https://ml.example.com/callback",
            "true",
        ),
        (
            "gateway:\n  enabled: true\n  parentRefs: [{name: public}]\n  hostnames: [a.example.com, b.example.com]\n"
                .to_owned(),
            "https://a.example.com/callback",
            "true",
        ),
    ];
    for (front, want, secure) in cases {
        let docs = render(&front);
        let got = server_env(&docs, "OIDC_REDIRECT_URI");
        assert_eq!(got.as_deref(), Some(want), "{front}");
        let cookies = server_env(&docs, "SESSION_COOKIE_SECURE");
        assert_eq!(cookies.as_deref(), Some(secure), "{front}");
    }
    // Another hostname of the same route is the front door too.
    let gateway = "gateway:\n  enabled: true\n  parentRefs: [{name: public}]\n  hostnames: [a.example.com, b.example.com]\n";
    let spec = format!(
        "apiVersion: mlk/v1alpha1\nkind: Platform\n{gateway}{OIDC}      redirectUri: https://b.example.com/callback\n"
    );
    let docs = mlk(&["render", "-f", "-"]).stdin(&spec).run().ok().docs();
    let got = server_env(&docs, "OIDC_REDIRECT_URI");
    assert_eq!(got.as_deref(), Some("https://b.example.com/callback"));
    // TLS may end before an Ingress: an https redirect on its host holds.
    let spec = format!(
        "apiVersion: mlk/v1alpha1\nkind: Platform\n{}{OIDC}      redirectUri: https://ml.example.com:443/callback\n",
        ingress("")
    );
    let docs = mlk(&["render", "-f", "-"]).stdin(&spec).run().ok().docs();
    let got = server_env(&docs, "OIDC_REDIRECT_URI");
    assert_eq!(got.as_deref(), Some("https://ml.example.com/callback"));
    // Plain http only where the person running mlk allows it.
    let spec = format!(
        "apiVersion: mlk/v1alpha1\nkind: Platform\n{}{OIDC}",
        ingress("")
    );
    let run = mlk(&["render", "-f", "-"]).stdin(&spec).run().failed();
    assert!(
        run.stderr.contains("redirectUri: is plain http"),
        "{}",
        run.stderr
    );
}

/// Tokens are held to the issuer (as discovery names it) and to the
/// client, or to the audience the spec names.
#[test]
fn tokens_are_held_to_the_issuer_and_the_client() {
    let front =
        "gateway:\n  enabled: true\n  parentRefs: [{name: public}]\n  hostnames: [a.example.com]\n";
    let docs = render(front);
    let env = |k: &str| server_env(&docs, k);
    assert_eq!(
        env("OIDC_ISSUER").as_deref(),
        Some("https://id.example.com/realms/ml")
    );
    assert_eq!(env("OIDC_AUDIENCE").as_deref(), Some("mlflow"));
    assert_eq!(
        env("DEFAULT_MLFLOW_PERMISSION").as_deref(),
        Some("NO_PERMISSIONS")
    );
    assert_eq!(env("TRUSTED_PROXIES"), None);
    let own = OIDC.replace(
        "      clientId: mlflow\n",
        "      clientId: mlflow\n      audience: api://mlflow\n",
    );
    let spec = format!("apiVersion: mlk/v1alpha1\nkind: Platform\n{front}{own}");
    let docs = mlk(&["render", "-f", "-"]).stdin(&spec).run().ok().docs();
    assert_eq!(
        server_env(&docs, "OIDC_AUDIENCE").as_deref(),
        Some("api://mlflow")
    );
}

/// nginx's 4k proxy buffer is too small for some providers' redirects
/// and cookies; a size the spec sets itself is kept.
#[test]
fn nginx_gets_room_for_large_headers() {
    let buffer = "nginx.ingress.kubernetes.io/proxy-buffer-size";
    let front = "ingress:\n  enabled: true\n  host: ml.example.com\n  tls: {secretName: t}\n  auth: {enabled: false}\n";
    let docs = render(front);
    let ingress = find(&docs, "Ingress", "mlflow-tracking");
    assert_eq!(ingress["metadata"]["annotations"][buffer], "16k");
    let own = format!("{front}  annotations: {{{buffer}: 64k}}\n");
    let docs = render(&own);
    let ingress = find(&docs, "Ingress", "mlflow-tracking");
    assert_eq!(ingress["metadata"]["annotations"][buffer], "64k");
    // Without single sign-on, nothing changes.
    let plain = "apiVersion: mlk/v1alpha1\nkind: Platform\ningress:\n  enabled: true\n  host: ml.example.com\n  auth: {enabled: false}\n";
    let docs = mlk(&["render", "-f", "-"]).stdin(plain).run().ok().docs();
    let ingress = find(&docs, "Ingress", "mlflow-tracking");
    assert!(ingress["metadata"]["annotations"][buffer].is_null());
}

/// The recipe is what the refusal of MLflow's own image prints, and it
/// pins what it installs.
#[test]
fn the_image_recipe_is_printed_and_refused_with() {
    let recipe = mlk(&["image", "dockerfile", "--auth", "oidc"])
        .run()
        .ok()
        .stdout;
    for pin in [
        "FROM docker.io/library/python:3.12-slim-bookworm",
        "\"mlflow[extras,azure,db,gateway,genai,auth]==3.17.2\"",
        "\"mlflow-oidc-auth==11.0.2\"",
        "\"psycopg[binary]==3.3.9\" boto3==1.44.8",
        "USER 65532:65532",
    ] {
        assert!(recipe.contains(pin), "{pin}:\n{recipe}");
    }
    let spec = format!(
        "apiVersion: mlk/v1alpha1\nkind: Platform\ningress:\n  enabled: true\n  host: ml.example.com\n  auth: {{enabled: false}}\n{}",
        OIDC.replace(
            "registry.example.com/mlflow-oidc:3.17.2",
            "ghcr.io/mlflow/mlflow:v3.17.2-full"
        )
    );
    let refused = mlk(&["render", "-f", "-"]).stdin(&spec).run().failed();
    assert!(refused.stderr.contains(&recipe), "{}", refused.stderr);
    // The end-to-end run's image is the recipe's packages, at its pins.
    let venv = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/oidc-requirements.txt"),
    )
    .unwrap();
    let pins: Vec<&str> = recipe
        .split(['"', ' ', '\\', '\n'])
        .filter(|w| w.contains("=="))
        .collect();
    assert_eq!(pins.len(), 4, "{pins:?}");
    for pin in pins {
        assert!(
            venv.lines().any(|l| l == pin),
            "{pin} is not in oidc-requirements.txt"
        );
    }
    // A login it has no recipe for: clap's usage error, which names oidc.
    let unknown = mlk(&["image", "dockerfile", "--auth", "saml"]).run();
    assert_eq!(unknown.code, 2);
    assert!(unknown.stdout.is_empty());
    assert!(
        unknown.stderr.contains("possible values: oidc"),
        "{}",
        unknown.stderr
    );
}

/// The plugin's settings that would undo what the spec holds (TLS to the
/// provider, PKCE, the group gate, admins from tokens, other providers)
/// are refused wherever they come from, and the ones mlk sets are its own.
#[test]
fn the_plugin_is_not_reconfigured_around_the_spec() {
    let front =
        "gateway:\n  enabled: true\n  parentRefs: [{name: public}]\n  hostnames: [a.example.com]\n";
    for (name, value) in [
        ("OIDC_VERIFY_SSL", "false"),
        ("OIDC_CODE_CHALLENGE", "none"),
        ("OIDC_GROUP_NAME_PATTERN", "*"),
        ("OIDC_TRUST_BEARER_GROUP_CLAIMS", "true"),
        ("AUTH_PROVIDERS", "evil"),
        ("OIDC_GROUP_DETECTION_PLUGIN", "os"),
        ("OIDC_DISCOVERY_URL", "http://evil.example.net"),
        ("OIDC_USERS_DB_URI", "postgresql://evil.example.net/x"),
        ("SECRET_KEY", "known"),
    ] {
        let extra = format!("  extraEnv: [{{name: {name}, value: \"{value}\"}}]\n");
        let tracking = OIDC.replacen("tracking:\n", &format!("tracking:\n{extra}"), 1);
        let spec = format!("apiVersion: mlk/v1alpha1\nkind: Platform\n{front}{tracking}");
        let run = mlk(&["render", "-f", "-"]).stdin(&spec).run().failed();
        assert!(run.stderr.contains(name), "{name}: {}", run.stderr);
    }
}

/// The client secret goes to the issuer the spec names: it may come from
/// a Secret of the spec's own, never from one of the platform's (the
/// database's password, the session key), whichever way the spec names it.
#[test]
fn the_client_secret_is_no_other_secret_of_the_platform() {
    let front =
        "gateway:\n  enabled: true\n  parentRefs: [{name: public}]\n  hostnames: [a.example.com]\n";
    let docs = render(front);
    let secrets: Vec<(String, String)> = docs
        .iter()
        .filter(|d| d["kind"] == "Secret")
        .flat_map(|d| {
            let name = d["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let keys = d["data"].as_mapping().cloned().unwrap_or_default();
            keys.into_iter()
                .filter_map(move |(k, _)| Some((name.clone(), k.as_str()?.to_owned())))
        })
        .collect();
    assert!(secrets.len() >= 4, "{secrets:?}");
    for (name, key) in secrets {
        let own = OIDC.replace(
            "{existingSecret: {name: mlflow-oidc, key: client-secret}}",
            &format!("{{existingSecret: {{name: {name}, key: {key}}}}}"),
        );
        let spec = format!("apiVersion: mlk/v1alpha1\nkind: Platform\n{front}{own}");
        let run = mlk(&["render", "-f", "-"]).stdin(&spec).run().failed();
        assert!(
            run.stderr.contains("OIDC_CLIENT_SECRET is sent to a host"),
            "{name}/{key}: {}",
            run.stderr
        );
    }
}

/// The gate holds single sign-on's guarantees on the final objects, so
/// `mlk validate` finds them broken in any stream: a provider or redirect
/// over http, a session cookie sent over http behind an https redirect,
/// a client secret written into the pod. The render itself passes.
#[test]
fn the_gate_holds_single_sign_on_to_https_and_a_secret_client_secret() {
    let front = "ingress:\n  enabled: true\n  host: ml.example.com\n  auth: {enabled: false}\n  tls: {secretName: ml-tls}\n";
    let spec = format!("apiVersion: mlk/v1alpha1\nkind: Platform\n{front}{OIDC}");
    let docs = mlk(&["render", "-f", "-"]).stdin(&spec).run().ok().docs();
    let stream = |docs: &[serde_yaml::Value]| {
        let texts: Vec<String> = docs
            .iter()
            .map(|d| serde_yaml::to_string(d).unwrap())
            .collect();
        texts.join("---\n")
    };
    let validate = |text: &str, extra: &[&str]| {
        let mut args = vec!["validate", "--checks", "policy"];
        args.extend(extra);
        args.push("-");
        mlk(&args).stdin(text).run()
    };
    assert_eq!(validate(&stream(&docs), &[]).code, 0);
    let with = |name: &str, entry: &str| {
        let mut docs = docs.clone();
        let d = docs
            .iter_mut()
            .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "mlflow-tracking")
            .unwrap();
        let env = d["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_sequence_mut()
            .unwrap();
        let j = env.iter().position(|e| e["name"] == name).unwrap();
        env[j] = serde_yaml::from_str(entry).unwrap();
        stream(&docs)
    };
    let cases = [
        (
            "OIDC_DISCOVERY_URL",
            "{name: OIDC_DISCOVERY_URL, value: 'http://id.example.com/.well-known/openid-configuration'}",
            "OIDC_DISCOVERY_URL must be an https URL",
        ),
        (
            "OIDC_REDIRECT_URI",
            "{name: OIDC_REDIRECT_URI, valueFrom: {configMapKeyRef: {name: c, key: k}}}",
            "OIDC_REDIRECT_URI must be an https URL, written out",
        ),
        (
            "SESSION_COOKIE_SECURE",
            "{name: SESSION_COOKIE_SECURE, value: 'false'}",
            "SESSION_COOKIE_SECURE must be \"true\"",
        ),
        (
            "OIDC_CLIENT_SECRET",
            "{name: OIDC_CLIENT_SECRET, value: not-from-a-secret}",
            "OIDC_CLIENT_SECRET must be read from a Secret",
        ),
    ];
    for (name, entry, want) in cases {
        let run = validate(&with(name, entry), &[]);
        assert_eq!(run.code, 1, "{name}: {}", run.stdout);
        assert!(run.stdout.contains(want), "{name}: {}", run.stdout);
    }
    // A test's provider on loopback, as the person running mlk allows.
    let http = with("OIDC_DISCOVERY_URL", cases[0].1);
    let allowed = validate(&http, &["--allow-insecure-issuer"]);
    assert_eq!(allowed.code, 0, "{}", allowed.stdout);
}
