//! Builds the schema catalog's data at compile time, so no run of mlk
//! pays for it: k8s-openapi's schemars output for the core kinds mlk
//! checks, each definition read as mlk reads schemas and written in
//! `schema_code`'s compact form, and mlk's built-in custom kinds
//! (`schemas/*.yaml`) as JSON. The binary reads a definition the first
//! time a document needs it (src/validate/defs.rs).

use std::fmt::Write as _;
use std::path::Path;

use schemars::{JsonSchema, SchemaGenerator};
use serde_json::Value as Json;

#[path = "build/kinds.rs"]
#[macro_use]
mod kinds;

#[path = "src/validate/schema_keys.rs"]
mod schema_keys;

// The same reading of a schema as the binary's, and its compact form.
#[allow(dead_code)]
#[path = "src/validate/schema.rs"]
mod schema;
#[allow(dead_code)]
#[path = "src/validate/schema_code.rs"]
mod schema_code;

const CUSTOM: [&str; 7] = [
    "schemas/servicemonitor.yaml",
    "schemas/inferenceservice.yaml",
    "schemas/cluster.yaml",
    "schemas/scheduledbackup.yaml",
    "schemas/database.yaml",
    "schemas/httproute.yaml",
    "schemas/externalsecret.yaml",
];

/// (apiVersion, kind, definition), sorted by apiVersion and kind.
fn core_kinds(g: &mut SchemaGenerator) -> Vec<(&'static str, &'static str, String)> {
    macro_rules! schemas {
        ($($api:literal $kind:literal $($ty:ident)::+),* $(,)?) => {
            vec![$(($api, $kind, root_def::<k8s_openapi::$($ty)::+>(g))),*]
        };
    }
    let mut kinds = for_each_kind!(schemas);
    kinds.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    kinds
}

/// A kind's schema is a `$ref` to its definition: the definition's name.
fn root_def<T: JsonSchema>(generator: &mut SchemaGenerator) -> String {
    let root = generator.subschema_for::<T>().to_value();
    let reference = root["$ref"].as_str().expect("a kind's schema is a $ref");
    assert_eq!(root.as_object().map(|o| o.len()), Some(1), "{root}");
    reference.rsplit('/').next().unwrap_or(reference).to_owned()
}

fn main() {
    let mut generator = SchemaGenerator::default();
    let g = &mut generator;
    let kinds = core_kinds(g);
    let mut out = String::new();
    out.push_str("/// (apiVersion, kind, definition): the core kinds.\n");
    out.push_str("pub static CORE_KINDS: &[(&str, &str, &str)] = &[\n");
    for (api, kind, def) in &kinds {
        writeln!(out, "    ({api:?}, {kind:?}, {def:?}),").unwrap();
    }
    let defs: std::collections::BTreeMap<_, _> = generator.definitions().iter().collect();
    let mut code = String::new();
    let mut json = String::new();
    for (name, def) in defs {
        let mut def = def.clone();
        keep_read_keys(&mut def);
        let text = def.to_string();
        let read = schema::Schema::from_json_text(&text, schema::EmptyObject::AnyFields)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut compact = String::new();
        schema_code::encode(&read, &mut compact);
        writeln!(code, "    ({name:?}, {compact:?}),").unwrap();
        writeln!(json, "    ({name:?}, {text:?}),").unwrap();
    }
    out.push_str("];\n\n/// (name, schema in `schema_code`'s form), sorted by name.\n");
    writeln!(out, "pub static CORE_DEFS: &[(&str, &str)] = &[\n{code}];").unwrap();
    out.push_str("\n/// The same definitions as JSON, which tests read both ways.\n");
    writeln!(
        out,
        "#[cfg(test)]\npub static CORE_DEFS_JSON: &[(&str, &str)] = &[\n{json}];"
    )
    .unwrap();
    out.push_str("\n/// (apiVersion, kind, file, openAPIV3Schema as JSON).\n");
    out.push_str("pub static CUSTOM_KINDS: &[(&str, &str, &str, &str)] = &[\n");
    for file in CUSTOM {
        println!("cargo::rerun-if-changed={file}");
        let (api, kind, schema) = custom_kind(Path::new(file));
        writeln!(out, "    ({api:?}, {kind:?}, {file:?}, {schema:?}),").unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("catalog_data.rs");
    std::fs::write(dest, out).unwrap();
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=build/kinds.rs");
    println!("cargo::rerun-if-changed=src/validate/schema_keys.rs");
    println!("cargo::rerun-if-changed=src/validate/schema.rs");
    println!("cargo::rerun-if-changed=src/validate/schema_code.rs");
    println!("cargo::rustc-env=MLK_BUILD_COMMIT={}", commit());
}

/// The commit mlk is built from, for `mlk --version`: `MLK_COMMIT` (a
/// container build passes it), else the commit `cargo package` recorded
/// in `.cargo_vcs_info.json`, else git's HEAD, else `unknown`.
fn commit() -> String {
    println!("cargo::rerun-if-env-changed=MLK_COMMIT");
    if let Ok(given) = std::env::var("MLK_COMMIT")
        && !given.is_empty()
        && given != "unknown"
    {
        return given;
    }
    // A packaged crate says which commit it is, even unpacked inside
    // another repository.
    let vcs = std::fs::read_to_string(".cargo_vcs_info.json").unwrap_or_default();
    let info: Json = serde_json::from_str(&vcs).unwrap_or(Json::Null);
    if let Some(sha) = info["git"]["sha1"].as_str() {
        return sha.chars().take(12).collect();
    }
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    if let Some(sha) = git(&["rev-parse", "--short=12", "HEAD"]) {
        // A new commit moves HEAD's branch, or HEAD itself when detached.
        let mut refs = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
        refs.extend(git(&["symbolic-ref", "-q", "HEAD"]));
        for r in refs {
            let path = git(&["rev-parse", "--git-path", &r]);
            if let Some(path) = path.filter(|p| Path::new(p).exists()) {
                println!("cargo::rerun-if-changed={path}");
            }
        }
        return sha;
    }
    "unknown".to_owned()
}

fn custom_kind(file: &Path) -> (String, String, String) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
    let doc: Json = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file:?}: {e}"));
    let field = |k: &str| {
        doc[k]
            .as_str()
            .unwrap_or_else(|| panic!("{file:?}: no {k}"))
            .to_owned()
    };
    let schema = &doc["openAPIV3Schema"];
    assert!(schema.is_object(), "{file:?}: no openAPIV3Schema");
    (field("apiVersion"), field("kind"), schema.to_string())
}

/// Keeps only the keywords mlk reads: descriptions alone are most of
/// k8s-openapi's schema text. A property may itself be called like a
/// keyword, so a `properties` map keeps all its names.
fn keep_read_keys(schema: &mut Json) {
    let Some(o) = schema.as_object_mut() else {
        return;
    };
    o.retain(|k, _| schema_keys::READ_KEYS.contains(&k.as_str()));
    if let Some(props) = o.get_mut("properties").and_then(Json::as_object_mut) {
        props.values_mut().for_each(keep_read_keys);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(sub) = o.get_mut(key) {
            keep_read_keys(sub);
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(list) = o.get_mut(key).and_then(Json::as_array_mut) {
            list.iter_mut().for_each(keep_read_keys);
        }
    }
}
