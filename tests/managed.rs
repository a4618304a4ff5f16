//! The lists of names mlk sets itself (`MANAGED_*`), which the spec may
//! not set again, cover every name mlk renders: a new flag, variable,
//! annotation or selector label that a list lacks would let a user's copy
//! fight mlk's.

mod common;

use std::collections::BTreeSet;

use common::mlk;
use mlk::mlflow::{Role, managed_env, option_of};
use mlk::resolve::{MANAGED_ANNOTATIONS, MANAGED_LABELS};
use serde_yaml::Value;

/// Specs that between them turn on every store, front door and option,
/// with the profile to render each in.
const SPECS: [(&str, &str); 10] = [
    ("specs/everything.yaml", "dev"),
    ("specs/external.yaml", "prod"),
    ("specs/keyless.yaml", "prod"),
    ("specs/fit-cluster.yaml", "ha"),
    ("specs/auth.yaml", "ha"),
    ("specs/monitoring.yaml", "dev"),
    ("specs/ingress-tls-secret.yaml", "dev"),
    ("specs/ingress-cert-manager.yaml", "dev"),
    ("specs/ingress-existing-auth.yaml", "dev"),
    ("specs/gateway-and-ingress.yaml", "dev"),
];

/// The variables the specs read their secrets from.
const ENV: [(&str, &str); 6] = [
    ("MINIO_USER", "minio-admin"),
    ("S3_KEY_ID", "AKIAEXAMPLE"),
    ("S3_SECRET", "s3-secret-value"),
    ("MLFLOW_ADMIN_PASSWORD", "admin-password-0123456789"),
    ("ALICE_PASSWORD", "alice-password-0123456789"),
    ("BOB_PASSWORD", "bob-password-0123456789"),
];

fn strings(v: &Value) -> impl Iterator<Item = &str> {
    v.as_sequence()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn keys(v: &Value) -> impl Iterator<Item = &str> {
    v.as_mapping()
        .into_iter()
        .flat_map(|m| m.keys())
        .filter_map(Value::as_str)
}

/// What the spec itself asks for, which mlk passes through.
fn from_spec(spec: &Value) -> BTreeSet<String> {
    let t = &spec["tracking"];
    let env = t["extraEnv"].as_sequence().into_iter().flatten();
    let env = env.filter_map(|e| e["name"].as_str());
    let args = strings(&t["extraArgs"]).map(|a| a.split('=').next().unwrap_or(a));
    let annotations = keys(&spec["ingress"]["annotations"]);
    env.chain(args)
        .chain(annotations)
        .chain(keys(&spec["metadata"]["annotations"]))
        .map(str::to_owned)
        .collect()
}

/// Every name mlk rendered of each managed kind, less the spec's own.
/// Whether mlk says it sets this name itself, for each kind of name.
type Managed = fn(&str) -> bool;

const MANAGED: [Managed; 4] = [
    |flag| option_of(flag).is_some_and(|o| matches!(o.role, Role::Managed(_))),
    |var| managed_env(var).is_some(),
    |key| MANAGED_ANNOTATIONS.contains(&key),
    |label| MANAGED_LABELS.contains(&label),
];

fn rendered(docs: &[Value], own: &BTreeSet<String>) -> [BTreeSet<String>; 4] {
    let mut found: [BTreeSet<String>; 4] = Default::default();
    for d in docs {
        let spec = &d["spec"];
        let selector = spec["selector"]
            .get("matchLabels")
            .unwrap_or(&spec["selector"]);
        found[3].extend(keys(selector).map(str::to_owned));
        match (d["kind"].as_str(), d["metadata"]["name"].as_str()) {
            (Some("Deployment"), Some(name)) if name.ends_with("tracking") => {
                let pod = &spec["template"]["spec"];
                let mlflow = pod["containers"].as_sequence().unwrap().iter();
                let server = mlflow.clone().find(|c| c["name"] == "mlflow").unwrap();
                let flags = strings(&server["args"]).filter(|a| a.starts_with("--"));
                found[0].extend(flags.map(|a| a.split('=').next().unwrap().to_owned()));
                let env = server["env"].as_sequence().unwrap().iter();
                found[1].extend(env.filter_map(|e| e["name"].as_str()).map(str::to_owned));
            }
            (Some("Ingress"), _) => {
                found[2].extend(keys(&d["metadata"]["annotations"]).map(str::to_owned));
            }
            _ => {}
        }
    }
    found.map(|f| &f - own)
}

#[test]
fn managed_lists_cover_every_rendered_name() {
    let mut checked = [0; 4];
    for (spec, profile) in SPECS {
        let mut render = mlk(&["render", "-f", spec, "--profile", profile]).key();
        for (var, value) in ENV {
            render = render.env(var, value);
        }
        let run = render.run().ok();
        let text = std::fs::read_to_string(common::fixtures().join(spec)).unwrap();
        let own = from_spec(&serde_yaml::from_str(&text).unwrap());
        for (i, names) in rendered(&run.docs(), &own).into_iter().enumerate() {
            for name in &names {
                assert!(MANAGED[i](name), "{spec}: {name} is not managed");
            }
            checked[i] += names.len();
        }
    }
    // Each kind of list was checked against something rendered.
    assert!(checked.iter().all(|n| *n > 0), "{checked:?}");
}
