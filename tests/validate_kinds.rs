//! `mlk validate --checks schema` on every kind of Kubernetes 1.37's API:
//! for each, an object k8s-openapi writes passes, and the same object with
//! one field of the wrong type fails at that field. And the list of kinds
//! (build/kinds.rs) is every kind k8s-openapi's `v1_37` knows.

mod common;
use common::mlk;

#[path = "../build/kinds.rs"]
#[macro_use]
mod kinds;

use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Value, json};

struct Kind {
    api: &'static str,
    kind: &'static str,
    /// An object of the kind, as k8s-openapi serializes its default.
    object: Value,
    /// The same object, one field given a value of the wrong type, and
    /// that field's path.
    wrong: (Value, String),
}

fn kind<T: JsonSchema + serde::Serialize + Default>(api: &'static str, kind: &'static str) -> Kind {
    let mut object = serde_json::to_value(T::default()).unwrap();
    assert_eq!(object["apiVersion"], api);
    assert_eq!(object["kind"], kind);
    if object.get("metadata").is_some() {
        object["metadata"]["name"] = json!("example");
    }
    // A required field k8s-openapi leaves null (ControllerRevision's
    // `data`, a RawExtension) holds any value.
    for value in object.as_object_mut().unwrap().values_mut() {
        if value.is_null() {
            *value = json!({});
        }
    }
    let wrong = wrong_type::<T>(&object);
    Kind {
        api,
        kind,
        object,
        wrong,
    }
}

/// The first field of the kind's own (not `apiVersion`, `kind` or
/// `metadata`) that takes an object, a string or a list, set to a value
/// of another type; `metadata.labels` for a kind with none.
fn wrong_type<T: JsonSchema>(object: &Value) -> (Value, String) {
    let mut generator = SchemaGenerator::default();
    let root = generator.subschema_for::<T>().to_value();
    let name = root["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
    let def = generator.definitions()[name].clone();
    let mut wrong = object.clone();
    let props = def["properties"].as_object().cloned().unwrap_or_default();
    for (field, schema) in props {
        if ["apiVersion", "kind", "metadata"].contains(&field.as_str()) {
            continue;
        }
        let value = match (schema["type"].as_str(), schema.get("$ref")) {
            (Some("string"), _) => json!({"a": 1}),
            (Some("array"), _) => json!("a string"),
            // A list is no object, string, quantity or int-or-string.
            (Some("object"), _) | (None, Some(_)) => json!([1]),
            _ => continue,
        };
        wrong[&field] = value;
        return (wrong, field);
    }
    wrong["metadata"]["labels"] = json!("a string");
    (wrong, "metadata.labels".into())
}

fn all() -> Vec<Kind> {
    macro_rules! objects {
        ($($api:literal $kind:literal $($ty:ident)::+),* $(,)?) => {
            vec![$(kind::<k8s_openapi::$($ty)::+>($api, $kind)),*]
        };
    }
    for_each_kind!(objects)
}

/// An API group as Kubernetes stores objects: events.k8s.io's Event is
/// the core Event (no other kind of it is both).
fn group(api: &str) -> &str {
    if api == "events.k8s.io/v1" {
        return "";
    }
    api.rsplit_once('/').map_or("", |(g, _)| g)
}

fn stream<'a>(objects: impl Iterator<Item = &'a Value>) -> String {
    objects
        .map(|o| serde_json::to_string(o).unwrap())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

#[test]
fn every_kind_passes_its_schema_and_a_wrong_type_fails_it() {
    let kinds = all();
    assert!(kinds.len() > 100, "{}", kinds.len());
    // One stream per version of a kind: versions of one group's kind are
    // one object to Kubernetes.
    let mut streams: Vec<Vec<&Kind>> = Vec::new();
    for k in &kinds {
        let same = |o: &&Kind| o.kind == k.kind && group(o.api) == group(k.api);
        match streams.iter_mut().find(|s| !s.iter().any(same)) {
            Some(s) => s.push(k),
            None => streams.push(vec![k]),
        }
    }
    for kinds in streams {
        let valid = mlk(&["validate", "--strict", "--checks", "schema", "-"])
            .stdin(&stream(kinds.iter().map(|k| &k.object)))
            .run();
        assert_eq!(valid.code, 0, "{}{}", valid.stdout, valid.stderr);
        let summary = format!("{} documents, 0 problems, 0 not checked", kinds.len());
        assert!(valid.stderr.contains(&summary), "{}", valid.stderr);

        let invalid = mlk(&["validate", "--checks", "schema", "-o", "json", "-"])
            .stdin(&stream(kinds.iter().map(|k| &k.wrong.0)))
            .run();
        assert_eq!(invalid.code, 1, "{}", invalid.stderr);
        let report: Value = serde_json::from_str(&invalid.stdout).unwrap();
        let problems = report["problems"].as_array().unwrap();
        for k in &kinds {
            let id = format!("{}/example", k.kind);
            let mine: Vec<&Value> = problems
                .iter()
                .filter(|p| p["object"] == id.as_str())
                .collect();
            let at = |p: &&Value| {
                p["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with(&k.wrong.1))
            };
            assert!(
                mine.iter().any(at),
                "{} {}: {} gave {mine:?}",
                k.api,
                k.kind,
                k.wrong.1
            );
        }
    }
}

/// k8s-openapi's own list, read from its source: each type that says
/// `impl crate::Resource` (but the API's discovery and status types).
#[test]
fn every_kind_of_the_api_is_listed() {
    let lock = include_str!("../Cargo.lock");
    let at = lock.find("name = \"k8s-openapi\"\nversion = \"").unwrap();
    let version = lock[at..].split('"').nth(3).unwrap();
    let home = std::env::var("CARGO_HOME")
        .unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap()));
    let registry = std::path::Path::new(&home).join("registry/src");
    let source = std::fs::read_dir(&registry)
        .unwrap()
        .map(|d| {
            d.unwrap()
                .path()
                .join(format!("k8s-openapi-{version}/src/v1_37"))
        })
        .find(|p| p.is_dir())
        .unwrap_or_else(|| panic!("k8s-openapi {version} not in {}", registry.display()));
    let mut found = Vec::new();
    collect(&source, &mut found);
    found.retain(|(api, kind)| !(api == "v1" && DISCOVERY.contains(&kind.as_str())));
    found.sort();
    let mut listed: Vec<(String, String)> = all()
        .iter()
        .map(|k| (k.api.to_owned(), k.kind.to_owned()))
        .collect();
    listed.sort();
    assert_eq!(listed, found);
}

const DISCOVERY: [&str; 5] = [
    "APIGroup",
    "APIGroupList",
    "APIResourceList",
    "APIVersions",
    "Status",
];

fn collect(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for block in text.split("impl crate::Resource for ").skip(1) {
            let field = |name: &str| {
                let at = block
                    .find(&format!("const {name}: &'static str = \""))
                    .unwrap();
                block[at..].split('"').nth(1).unwrap().to_owned()
            };
            out.push((field("API_VERSION"), field("KIND")));
        }
    }
}
