//! The spec's JSON Schema (draft 2020-12), derived from the types that
//! parse it, so the two cannot drift: an editor checks what mlk accepts.

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use super::{API_VERSION, PlatformSpec};

/// The schema of a spec file: the spec with its `apiVersion` and `kind`.
pub fn platform() -> Value {
    let mut schema = root::<PlatformSpec>("mlk Platform spec");
    header(&mut schema, "Platform");
    schema
}

/// The schema of a profile file, whose `spec` is a Platform spec without
/// a header.
pub fn profile<P: schemars::JsonSchema>() -> Value {
    let mut schema = root::<P>("mlk Profile");
    header(&mut schema, "Profile");
    let spec = json!({"$ref": "#/$defs/PlatformSpec"});
    schema["properties"]["spec"] = spec;
    let inner = root::<PlatformSpec>("");
    let defs = schema["$defs"]
        .as_object_mut()
        .expect("a profile has definitions");
    for (name, def) in inner["$defs"].as_object().into_iter().flatten() {
        defs.insert(name.clone(), def.clone());
    }
    let mut body = inner;
    for key in ["$schema", "$defs", "title"] {
        body.as_object_mut().map(|o| o.remove(key));
    }
    for key in ["apiVersion", "kind", "profile"] {
        body["properties"].as_object_mut().map(|o| o.remove(key));
    }
    defs.insert("PlatformSpec".into(), body);
    schema
}

fn root<T: schemars::JsonSchema>(title: &str) -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    if let Some(defs) = schema.get_mut("$defs").and_then(Value::as_object_mut) {
        defs.values_mut().for_each(allow_empty);
    }
    schema["title"] = json!(title);
    schema
}

/// A section with every field defaulted may be left empty (`pods:` with
/// its keys commented out), which YAML reads as null and mlk as the
/// defaults; the schema says the same.
fn allow_empty(def: &mut Value) {
    let defaulted = def.get("properties").is_some()
        && def["required"].as_array().is_none_or(Vec::is_empty)
        && def["type"] == "object";
    if defaulted {
        def["type"] = json!(["object", "null"]);
    }
}

/// `apiVersion` and `kind` are plain strings to the types (the loader
/// checks them); the schema says what they must be.
fn header(schema: &mut Value, kind: &str) {
    schema["properties"]["apiVersion"] = json!({"const": API_VERSION});
    schema["properties"]["kind"] = json!({"const": kind});
    schema["required"] = json!(["apiVersion", "kind"]);
}
