//! A Kubernetes API type read from a spec, strictly: k8s-openapi's
//! deserializers skip keys they do not know, so a misspelt `nodeSelectorTerms`
//! would vanish without a word. `Strict<T>` reads through `T`, writes it
//! back, and refuses any key of the input that did not survive.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Strict<T>(pub T);

impl<'de, T: serde::de::DeserializeOwned + Serialize> Deserialize<'de> for Strict<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let input = Value::deserialize(d)?;
        let typed: T = serde_path_to_error::deserialize(input.clone()).map_err(|e| {
            let at = e.path().to_string();
            let msg = e.into_inner().to_string();
            serde::de::Error::custom(match at.as_str() {
                "." => msg,
                _ => format!("{at}: {msg}"),
            })
        })?;
        let back = serde_json::to_value(&typed).map_err(serde::de::Error::custom)?;
        match lost_key(&input, &back, "") {
            Some(path) => Err(serde::de::Error::custom(format!("unknown field `{path}`"))),
            None => Ok(Strict(typed)),
        }
    }
}

/// The first key of `input` (a dotted path) that `back` lacks.
fn lost_key(input: &Value, back: &Value, at: &str) -> Option<String> {
    let join = |k: &str| match at {
        "" => k.to_owned(),
        _ => format!("{at}.{k}"),
    };
    match (input, back) {
        (Value::Object(i), Value::Object(b)) => i.iter().find_map(|(k, v)| match b.get(k) {
            None if !v.is_null() => Some(join(k)),
            None => None,
            Some(bv) => lost_key(v, bv, &join(k)),
        }),
        (Value::Array(i), Value::Array(b)) => i
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(n, (iv, bv))| lost_key(iv, bv, &format!("{at}[{n}]"))),
        _ => None,
    }
}

impl<T: Serialize> Serialize for Strict<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<T: JsonSchema> JsonSchema for Strict<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Affinity;

    #[test]
    fn a_misspelt_key_is_refused_by_its_path() {
        let ok: Result<Strict<Affinity>, _> = serde_json::from_str(
            r#"{"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                {"nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "In", "values": ["ml"]}]}]}}}"#,
        );
        assert!(ok.is_ok());
        let typo: Result<Strict<Affinity>, _> = serde_json::from_str(
            r#"{"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                {"nodeSelectorTerm": []}}}"#,
        );
        let err = typo.unwrap_err().to_string();
        assert!(
            err.contains(
                "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerm"
            ),
            "{err}"
        );
        let shape: Result<Strict<Affinity>, _> = serde_json::from_str(r#"{"nodeAffinity": []}"#);
        assert!(shape.unwrap_err().to_string().contains("nodeAffinity"));
    }
}
