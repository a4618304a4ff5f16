//! No spec string can break the YAML or add keys: every hostile value
//! comes back exactly, in YAML and in JSON, and nothing else changes.

mod common;
use common::{env_value, find, mlk};
use serde_yaml::Value;

const HOSTILE: &[&str] = &[
    "\"",
    "'",
    "\\",
    "a\"b'c\\d",
    "line one\nline two",
    "trailing newline\n",
    "\n",
    "a: b",
    "a: b\nc: d",
    "# not a comment",
    "x #y",
    "{{ namespace }}",
    "{% if true %}x{% endif %}",
    "{{",
    "}}",
    "yes",
    "Yes",
    "on",
    "off",
    "n",
    "N",
    "y",
    "no",
    "true",
    "null",
    "~",
    "1_000",
    "0777",
    "0x1F",
    "1e3",
    "1:20",
    ".inf",
    "- item",
    "[a, b]",
    "{a: b}",
    "&anchor",
    "!mlk 0",
    "!mlk 999",
    "*alias",
    "!!binary aGk=",
    "<<",
    "%TAG",
    "@",
    "`",
    "|",
    ">",
    "---",
    "...",
    "---\nkind: Secret\nmetadata: {name: injected}",
    "x\n  injected: true",
    "]}\"'",
    "tab\there",
    "crlf\r\nend",
    "\u{2028}",
    "\u{85}",
    "\u{feff}",
    "ünïcødé",
    "日本語",
    "😀",
    " leading",
    "trailing ",
    "  ",
    "",
];

fn spec_with(s: &str) -> String {
    // JSON is YAML, and serde_json escapes everything: the spec file itself
    // is exact, so any difference in the output is mlk's.
    serde_json::json!({
        "apiVersion": "mlk/v1alpha1",
        "kind": "Platform",
        "metadata": {"annotations": {"example.com/hostile": s}},
        "tracking": {
            "extraEnv": [{"name": "HOSTILE", "value": s}],
            "extraArgs": ["--trace-archival-config", s],
        },
    })
    .to_string()
    // JSON leaves these raw, but YAML reads them as line breaks.
    .replace('\u{85}', "\\u0085")
    .replace('\u{2028}', "\\u2028")
}

#[test]
fn hostile_strings_round_trip_exactly() {
    let baseline = mlk(&["render"]).run().ok().docs().len();
    for s in HOSTILE {
        let run = mlk(&["render", "-f", "-"]).stdin(&spec_with(s)).run().ok();
        let docs = run.docs();
        assert_eq!(
            docs.len(),
            baseline,
            "{s:?} changed the number of documents"
        );
        for d in &docs {
            let ann = d["metadata"]["annotations"]
                .as_mapping()
                .expect("annotations");
            assert_eq!(
                ann.len(),
                1,
                "{s:?} added annotation keys in {:?}",
                d["kind"]
            );
            assert_eq!(
                ann["example.com/hostile"],
                Value::from(*s),
                "{s:?} in {:?}",
                d["kind"]
            );
        }
        let c = &find(&docs, "Deployment", "mlflow-tracking")["spec"]["template"]["spec"]["containers"]
            [0];
        assert_eq!(env_value(c, "HOSTILE"), Some(*s), "{s:?} in env");
        let args = c["args"].as_sequence().unwrap();
        assert_eq!(args[args.len() - 1], Value::from(*s), "{s:?} in args");
        assert_eq!(
            c.as_mapping().unwrap().len(),
            13,
            "{s:?} added keys to the container"
        );

        let json = mlk(&["render", "-f", "-", "-o", "json"])
            .stdin(&spec_with(s))
            .run()
            .ok();
        let list: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
        assert_eq!(
            list["items"][0]["metadata"]["annotations"]["example.com/hostile"],
            *s
        );
    }
}

/// Kubernetes reads YAML 1.1, where these unquoted are booleans or numbers.
#[test]
fn yaml_1_1_words_are_quoted_in_the_output() {
    for word in ["yes", "on", "n", "off", "Y", "1_000", "0777"] {
        let run = mlk(&["render", "-f", "-"])
            .stdin(&spec_with(word))
            .run()
            .ok();
        let quoted = format!("example.com/hostile: \"{word}\"");
        assert!(
            run.stdout.contains(&quoted),
            "{word} is not quoted:\n{}",
            run.stdout
        );
    }
}

#[test]
fn set_string_values_round_trip() {
    for s in ["yes", "a: b", "{{ x }}", "x\ny: z"] {
        let expr = format!(r"metadata.annotations.example\.com/set={s}");
        let run = mlk(&["render", "--set-string", &expr]).run().ok();
        let ns = &run.docs()[0];
        assert_eq!(
            ns["metadata"]["annotations"]["example.com/set"],
            Value::from(s)
        );
    }
}

/// A registered model's name is free text in MLflow; it comes back
/// exactly in the InferenceService's annotation and adds nothing.
#[test]
fn hostile_registered_model_names_round_trip() {
    let printable = HOSTILE
        .iter()
        .filter(|s| !s.trim().is_empty() && !s.chars().any(char::is_control));
    for s in printable {
        let spec = serde_json::json!({
            "apiVersion": "mlk/v1alpha1",
            "kind": "Platform",
            "serving": {"models": [{
                "name": "m",
                "registeredModel": s,
                "storageUri": "s3://mlflow/1/models/m-1/artifacts",
            }]},
        })
        .to_string()
        .replace('\u{85}', "\\u0085")
        .replace('\u{2028}', "\\u2028");
        let run = mlk(&["render", "-f", "-"]).stdin(&spec).run().ok();
        let docs = run.docs();
        let meta = &find(&docs, "InferenceService", "m")["metadata"];
        assert_eq!(meta["annotations"]["mlk/registered-model"], Value::from(*s));
        // Its own, and KServe's deployment mode.
        assert_eq!(meta["annotations"].as_mapping().unwrap().len(), 2, "{s:?}");
        assert_eq!(meta.as_mapping().unwrap().len(), 4, "{s:?} added keys");
    }
}

/// What the spec says of single sign-on reaches the plugin's environment
/// exactly, whatever YAML would make of it as a plain word; a value its
/// type refuses (a comma would split the plugin's list) never renders.
#[test]
fn oidc_settings_round_trip_exactly() {
    let spec = |client: &str, group: &str| {
        serde_json::json!({
            "apiVersion": "mlk/v1alpha1",
            "kind": "Platform",
            "tracking": {
                "image": "registry.example.com/mlflow-oidc:3.17.2",
                "auth": {"oidc": {
                    "issuer": "https://id.example.com/realms/ml",
                    "clientId": client,
                    "clientSecret": {"existingSecret": {"name": "oidc", "key": "secret"}},
                    "redirectUri": "https://mlflow.example.com/callback",
                    "groups": {"claim": client, "users": [group], "admins": [group]},
                }},
            },
        })
        .to_string()
    };
    for s in [
        "yes", "on", "null", "~", "1e3", "0777", "0x1F", "1:20", ".inf", "@", "-", "a/b",
    ] {
        let group = format!("{s} - x: y");
        let run = mlk(&["render", "-f", "-"])
            .stdin(&spec(s, &group))
            .run()
            .ok();
        let docs = run.docs();
        let c = &find(&docs, "Deployment", "mlflow-tracking")["spec"]["template"]["spec"]["containers"]
            [0];
        assert_eq!(env_value(c, "OIDC_CLIENT_ID"), Some(s), "{s:?}");
        assert_eq!(env_value(c, "OIDC_GROUPS_ATTRIBUTE"), Some(s), "{s:?}");
        assert_eq!(
            env_value(c, "OIDC_GROUP_NAME"),
            Some(group.as_str()),
            "{s:?}"
        );
        assert_eq!(env_value(c, "OIDC_ADMIN_GROUP_NAME"), Some(group.as_str()));
    }
    for (client, group) in [
        ("a b", "g"),
        ("a\nb", "g"),
        ("c", "a,b"),
        ("c", "a\nb"),
        ("c", "#x"),
    ] {
        let run = mlk(&["render", "-f", "-"])
            .stdin(&spec(client, group))
            .run()
            .failed();
        assert!(run.stdout.is_empty());
    }
}
