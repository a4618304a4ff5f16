//! Where a secret value comes from. Deserialised by hand so that no error
//! message can ever quote what was written at a secret's place.

use std::path::PathBuf;

use serde::de::Error as _;
use serde_yaml::Value;

use crate::types::{EnvName, Subdomain};

const FORMS: &str = "fromEnv: VAR, fromFile: PATH, existingSecret: {name, key}, generate: true, \
     remote: {key, property}, or value: LITERAL";

#[derive(Debug, Clone, PartialEq)]
pub enum SecretSource {
    /// The value of an environment variable at render time.
    FromEnv(EnvName),
    /// The content of a file, one trailing newline removed. Relative paths
    /// were made absolute against the spec file's folder when it was read.
    FromFile(PathBuf),
    /// A Secret that already exists in the cluster; mlk renders none.
    Existing(SecretRef),
    /// Derived from `MLK_SECRET_KEY` and the secret's purpose, so that a
    /// re-render never rotates it.
    Generate,
    /// Written in the spec itself: allowed, with a warning.
    Literal(String),
    /// A key in the external secret store (`secrets.mode: externalSecrets`).
    Remote(RemoteRef),
}

/// A value in an External Secrets Operator store: its `key`, and the
/// `property` within it when the stored value is a structure.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RemoteRef {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
}

/// A key of a Kubernetes Secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecretRef {
    pub name: Subdomain,
    pub key: String,
}

impl SecretRef {
    pub fn new(name: Subdomain, key: &str) -> SecretRef {
        SecretRef {
            name,
            key: key.to_owned(),
        }
    }
}

impl<'de> serde::Deserialize<'de> for SecretSource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        SecretSource::from_value(&value).map_err(D::Error::custom)
    }
}

/// One mapping with exactly one of the forms, as `from_value` reads it.
impl schemars::JsonSchema for SecretSource {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SecretSource".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let one = |key: &str, description: &str, schema: serde_json::Value| {
            serde_json::json!({
                "type": "object",
                "description": description,
                "properties": {key: schema},
                "required": [key],
                "additionalProperties": false,
            })
        };
        let name = serde_json::json!({"type": "string", "minLength": 1});
        let forms = [
            one(
                "fromEnv",
                "The value of an environment variable at render time.",
                name.clone(),
            ),
            one(
                "fromFile",
                "A file's content, beside the spec.",
                name.clone(),
            ),
            one(
                "existingSecret",
                "A Secret that already exists in the cluster.",
                serde_json::json!({
                    "type": "object",
                    "properties": {"name": name, "key": name},
                    "required": ["name", "key"],
                    "additionalProperties": false,
                }),
            ),
            one(
                "generate",
                "Derived from MLK_SECRET_KEY: stable across renders.",
                serde_json::json!({"const": true}),
            ),
            one(
                "remote",
                "A key in the external secret store (secrets.mode: externalSecrets).",
                serde_json::json!({
                    "type": "object",
                    "properties": {"key": name, "property": name},
                    "required": ["key"],
                    "additionalProperties": false,
                }),
            ),
            one("value", "Written in the spec itself (warned about).", name),
        ];
        schemars::json_schema!({
            "description": format!("Where a secret comes from: {FORMS}."),
            "oneOf": forms,
        })
    }
}

impl SecretSource {
    fn from_value(value: &Value) -> Result<SecretSource, String> {
        let Value::Mapping(map) = value else {
            return Err(format!(
                "a secret is given as a mapping with one of: {FORMS} \
                 (a bare value here is refused, so that no secret is written by accident)"
            ));
        };
        if map.len() != 1 {
            return Err(format!("a secret takes exactly one of: {FORMS}"));
        }
        let (key, inner) = map.iter().next().expect("one entry");
        match key.as_str().unwrap_or("") {
            "fromEnv" => {
                let name = inner.as_str().ok_or("fromEnv takes a variable name")?;
                EnvName::try_from(name.to_owned())
                    .map(SecretSource::FromEnv)
                    .map_err(|e| format!("fromEnv: {e}"))
            }
            "fromFile" => match inner.as_str() {
                Some(p) if !p.is_empty() => Ok(SecretSource::FromFile(PathBuf::from(p))),
                _ => Err("fromFile takes a file path".into()),
            },
            "existingSecret" => existing(inner).map(SecretSource::Existing),
            "remote" => remote(inner).map(SecretSource::Remote),
            "generate" => match inner {
                Value::Bool(true) => Ok(SecretSource::Generate),
                _ => Err("generate takes `true`; to not generate, choose another source".into()),
            },
            "value" => match inner {
                Value::String(s) if !s.is_empty() => Ok(SecretSource::Literal(s.clone())),
                Value::String(_) => Err("value must not be empty".into()),
                _ => Err("value takes a string; quote it".into()),
            },
            _ => Err(format!("not a secret source; use one of: {FORMS}")),
        }
    }
}

fn remote(v: &Value) -> Result<RemoteRef, String> {
    let usage = "remote takes {key: KEY} or {key: KEY, property: PROPERTY}";
    let map = v.as_mapping().ok_or(usage)?;
    if map
        .keys()
        .any(|k| !matches!(k.as_str(), Some("key" | "property")))
    {
        return Err(format!("unknown key in remote; {usage}"));
    }
    let text = |field: &str| match map.get(field) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && !s.chars().any(char::is_control) => {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(format!("remote.{field} must be a non-empty string")),
    };
    let key = text("key")?.ok_or(usage)?;
    Ok(RemoteRef {
        key,
        property: text("property")?,
    })
}

fn existing(v: &Value) -> Result<SecretRef, String> {
    let usage = "existingSecret takes {name: SECRET, key: KEY}";
    let map = v.as_mapping().ok_or(usage)?;
    for k in map.keys() {
        match k.as_str() {
            Some("name" | "key") => {}
            _ => return Err(format!("unknown key in existingSecret; {usage}")),
        }
    }
    let name = map.get("name").and_then(Value::as_str).ok_or(usage)?;
    let key = map.get("key").and_then(Value::as_str).ok_or(usage)?;
    let name =
        Subdomain::try_from(name.to_owned()).map_err(|e| format!("existingSecret.name: {e}"))?;
    let key_ok = |c: char| c.is_ascii_alphanumeric() || "-._".contains(c);
    if key.is_empty() || !key.chars().all(key_ok) {
        return Err(format!(
            "existingSecret.key {key:?} is not a Secret key: letters, digits, '-', '_' and '.'"
        ));
    }
    Ok(SecretRef::new(name, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(y: &str) -> Result<SecretSource, String> {
        SecretSource::from_value(&serde_yaml::from_str(y).unwrap())
    }

    #[test]
    fn forms() {
        assert_eq!(parse("{generate: true}"), Ok(SecretSource::Generate));
        assert!(matches!(
            parse("{fromEnv: PG_PASS}"),
            Ok(SecretSource::FromEnv(_))
        ));
        assert!(matches!(
            parse("{existingSecret: {name: pg, key: password}}"),
            Ok(SecretSource::Existing(_))
        ));
    }

    #[test]
    fn errors_never_quote_the_secret() {
        for y in [
            "hunter2-secret",
            "{vaule: hunter2-secret}",
            "{hunter2-secret}",
            "{value: hunter2-secret, fromEnv: X}",
            "{value: [hunter2-secret]}",
            "{generate: hunter2-secret}",
            "{existingSecret: {name: x, key: x, hunter2-secret: 1}}",
        ] {
            let err = parse(y).unwrap_err();
            assert!(!err.contains("hunter2"), "{y}: {err}");
        }
    }
}
