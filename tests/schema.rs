//! `mlk schema` describes what mlk accepts: every spec that renders is
//! valid against it, and every fixture whose mistake is a schema matter
//! (an unknown key, a wrong type, a value outside a range or an enum) is
//! not.

mod common;
use common::mlk;

fn compile(args: &[&str]) -> jsonschema::Validator {
    let run = mlk(args).run().ok();
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).expect("the schema is JSON");
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "draft 2020-12"
    );
    jsonschema::draft202012::new(&schema).expect("the schema compiles")
}

fn as_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    serde_json::to_value(yaml).unwrap()
}

fn errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn every_spec_that_renders_is_valid() {
    let v = compile(&["schema"]);
    let root = common::fixtures();
    let mut specs: Vec<_> = std::fs::read_dir(root.join("specs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.push(root.join("../examples/platform.yaml"));
    assert!(specs.len() >= 10);
    for spec in specs {
        let found = errors(&v, &as_json(&spec));
        assert!(found.is_empty(), "{}: {found:#?}", spec.display());
    }
    let init = mlk(&["init"]).run().ok();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&init.stdout).unwrap();
    let found = errors(&v, &serde_json::to_value(yaml).unwrap());
    assert!(found.is_empty(), "mlk init: {found:#?}");
}

#[test]
fn schema_matters_are_refused_by_the_schema() {
    let v = compile(&["schema"]);
    let dir = common::fixtures().join("fixtures/spec-errors");
    let refused = [
        ("unknown-field.yaml", "/tracking"),
        ("wrong-type.yaml", ""),
        ("tls-true.yaml", "/ingress/tls"),
        ("negative-replicas.yaml", "/tracking/replicas"),
        ("replicas-over-int32.yaml", "/tracking/autoscaling"),
        ("zero-workers.yaml", "/tracking/workers"),
        (
            "cnpg-zero-instances.yaml",
            "/database/cloudnativepg/instances",
        ),
        ("serving-canary-over-100.yaml", ""),
        ("bad-cost.yaml", "/ingress/auth/cost"),
        (
            "auth-unknown-permission.yaml",
            "/tracking/auth/defaultPermission",
        ),
        ("wrong-api-version.yaml", "/apiVersion"),
        ("missing-kind.yaml", ""),
        ("bare-secret.yaml", ""),
        ("secret-two-sources.yaml", ""),
        ("five-mistakes.yaml", "/tracking"),
    ];
    for (name, at) in refused {
        let found = errors(&v, &as_json(&dir.join(name)));
        // An optional block reports at the block (`anyOf` with null).
        let placed = |e: &String| {
            let path = e.split(": ").next().unwrap_or_default();
            path.starts_with(at) || (!path.is_empty() && at.starts_with(path))
        };
        assert!(
            found.iter().any(placed),
            "{name}: want an error at {at:?}, got {found:#?}"
        );
    }
}

#[test]
fn built_in_profiles_are_valid_profile_files() {
    let v = compile(&["schema", "--profile"]);
    for name in ["dev", "prod", "ha"] {
        let path = common::fixtures().join(format!("../profiles/{name}.yaml"));
        let found = errors(&v, &as_json(&path));
        assert!(found.is_empty(), "{name}: {found:#?}");
    }
    let wrong = serde_json::json!({"apiVersion": "mlk/v1alpha1", "kind": "Profile",
        "description": "x", "spec": {"tracking": {"replica": 2}}});
    assert!(!errors(&v, &wrong).is_empty());
}
