//! The tree as serde sees it, and serde_yaml's values in and out: what
//! the code that reads specs and files exchanges with the documents.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{Mapping, TaggedValue, Value};

/// serde_yaml's reading of any YAML, in this form.
impl From<serde_yaml::Value> for Value {
    fn from(v: serde_yaml::Value) -> Self {
        use serde_yaml::Value as Yaml;
        match v {
            Yaml::Null => Value::Null,
            Yaml::Bool(b) => Value::Bool(b),
            Yaml::Number(n) => Value::Number(n),
            Yaml::String(s) => Value::String(s.into()),
            Yaml::Sequence(s) => Value::Sequence(s.into_iter().map(Value::from).collect()),
            Yaml::Mapping(m) => Value::Mapping(Mapping::from_unique(
                m.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
            )),
            Yaml::Tagged(t) => Value::Tagged(Box::new(TaggedValue {
                tag: t.tag.to_string(),
                value: t.value.into(),
            })),
        }
    }
}

/// The same value as serde_yaml's, for the code that reads specs.
impl From<Value> for serde_yaml::Value {
    fn from(v: Value) -> Self {
        use serde_yaml::Value as Yaml;
        match v {
            Value::Null => Yaml::Null,
            Value::Bool(b) => Yaml::Bool(b),
            Value::Number(n) => Yaml::Number(n),
            Value::String(s) => Yaml::String(s.into()),
            Value::Sequence(s) => Yaml::Sequence(s.into_iter().map(Yaml::from).collect()),
            Value::Mapping(m) => {
                let mut out = serde_yaml::Mapping::with_capacity(m.len());
                out.extend(m.into_iter().map(|(k, v)| (k.into(), v.into())));
                Yaml::Mapping(out)
            }
            Value::Tagged(t) => Yaml::Tagged(Box::new(serde_yaml::value::TaggedValue {
                tag: serde_yaml::value::Tag::new(t.tag),
                value: t.value.into(),
            })),
        }
    }
}

/// As serde_yaml serialises its values: a tagged value is a one-entry
/// map from its tag.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => n.serialize(serializer),
            Value::String(s) => serializer.serialize_str(s),
            Value::Sequence(s) => s.serialize(serializer),
            Value::Mapping(m) => {
                let mut map = serializer.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Value::Tagged(t) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry(&t.tag, &t.value)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.into()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s.into()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Mapping::from_entries(entries)
            .map(Value::Mapping)
            .ok_or_else(|| serde::de::Error::custom("duplicate key in a mapping"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Through serde_yaml and back is the same value.
    #[test]
    fn converts_to_and_from_serde_yaml() {
        let text = "a: [1, -2, 3.5, null, true, x]\nb: {c: !t d}\n";
        let theirs: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        let ours = Value::from(theirs.clone());
        assert_eq!(serde_yaml::Value::from(ours.clone()), theirs);
        assert_eq!(ours["b"]["c"].as_str(), Some("d"));
    }
}
