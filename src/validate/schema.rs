//! The part of OpenAPI v3 that Kubernetes validates objects with: types,
//! properties, required fields, enums, formats and the `x-kubernetes-*`
//! extensions. Core kinds (from k8s-openapi), mlk's built-in custom kinds
//! and a cluster's CRDs all become this one model.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value as Json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
}

impl Type {
    pub fn parse(s: &str) -> Result<Type, String> {
        Ok(match s {
            "object" => Type::Object,
            "array" => Type::Array,
            "string" => Type::String,
            "integer" => Type::Integer,
            "number" => Type::Number,
            "boolean" => Type::Boolean,
            other => return Err(format!("unknown schema type {other:?}")),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Type::Object => "object",
            Type::Array => "array",
            Type::String => "string",
            Type::Integer => "integer",
            Type::Number => "number",
            Type::Boolean => "boolean",
        }
    }
}

/// What Kubernetes checks of a value beyond its schema: names, labels,
/// quantities. Attached by `knowledge`, never read from a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Dns1123Label,
    Dns1123Subdomain,
    /// A container port's name: IANA_SVC_NAME, at most 15 characters.
    PortName,
    Quantity,
    /// Keys and values of a label map.
    Labels,
    /// Keys of an annotation map.
    Annotations,
}

/// A string in a schema (a property, a reference, an enum value):
/// borrowed from the compiled-in definitions, owned when read from a CRD
/// at run time.
pub type Text = Cow<'static, str>;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    /// A named definition, looked up in `Defs`.
    pub reference: Option<Text>,
    pub ty: Option<Type>,
    pub int_or_string: bool,
    pub properties: BTreeMap<Text, Schema>,
    pub required: Vec<Text>,
    /// The schema of a map's values.
    pub additional: Option<Box<Schema>>,
    pub items: Option<Box<Schema>>,
    /// Any field is allowed (`x-kubernetes-preserve-unknown-fields`).
    pub open: bool,
    pub enum_values: Vec<Text>,
    pub format: Option<Text>,
    pub nullable: bool,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub max_length: Option<usize>,
    pub check: Option<Check>,
}

/// How an object schema without properties reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyObject {
    /// k8s-openapi writes free-form objects (`FieldsV1`) this way.
    AnyFields,
    /// A CRD's structural schema: the API server prunes every field.
    NoFields,
}

/// A schema object's keywords as mlk reads them (the `READ_KEYS` that
/// build.rs keeps), before any is interpreted. Every other keyword is
/// skipped unread.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Keywords {
    #[serde(rename = "$ref")]
    reference: Option<String>,
    #[serde(rename = "type")]
    ty: Option<String>,
    #[serde(rename = "x-kubernetes-int-or-string")]
    int_or_string: bool,
    #[serde(rename = "x-kubernetes-preserve-unknown-fields")]
    preserve_unknown_fields: bool,
    #[serde(rename = "x-kubernetes-embedded-resource")]
    embedded_resource: bool,
    nullable: bool,
    format: Option<String>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    #[serde(rename = "maxLength")]
    max_length: Option<u64>,
    properties: BTreeMap<String, Keywords>,
    required: Vec<String>,
    /// Only string values are checked; others are kept out.
    #[serde(rename = "enum")]
    enum_values: Vec<Json>,
    #[serde(rename = "additionalProperties")]
    additional: Option<Additional>,
    items: Option<Box<Keywords>>,
    #[serde(rename = "anyOf")]
    any_of: Option<IgnoredAny>,
    #[serde(rename = "oneOf")]
    one_of: Option<IgnoredAny>,
    #[serde(rename = "allOf")]
    all_of: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Additional {
    Any(bool),
    Schema(Box<Keywords>),
}

impl Schema {
    /// A schema from its JSON: a CRD's `openAPIV3Schema`, or one of the
    /// definitions build.rs compiles in. Errors name the field path.
    pub fn from_json(v: &Json, empty: EmptyObject) -> Result<Schema, String> {
        let keywords: Keywords = serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            format!("{path}: {}", e.inner())
        })?;
        Schema::from_keywords(keywords, empty)
    }

    /// The same from JSON text, without building a JSON value first.
    pub fn from_json_text(text: &str, empty: EmptyObject) -> Result<Schema, String> {
        let keywords: Keywords = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Schema::from_keywords(keywords, empty)
    }

    fn from_keywords(k: Keywords, empty: EmptyObject) -> Result<Schema, String> {
        let mut s = Schema {
            reference: k
                .reference
                .map(|r| r.rsplit('/').next().unwrap_or(&r).to_owned().into()),
            ty: k.ty.as_deref().map(Type::parse).transpose()?,
            int_or_string: k.int_or_string,
            open: k.preserve_unknown_fields,
            nullable: k.nullable,
            format: k.format.map(Text::from),
            minimum: k.minimum,
            maximum: k.maximum,
            max_length: k.max_length.map(|n| n as usize),
            required: k.required.into_iter().map(Text::from).collect(),
            enum_values: k
                .enum_values
                .into_iter()
                .filter_map(|v| v.as_str().map(|s| Text::from(s.to_owned())))
                .collect(),
            ..Schema::default()
        };
        for (name, p) in k.properties {
            let child = Schema::from_keywords(p, empty).map_err(|e| format!("{name}: {e}"))?;
            s.properties.insert(name.into(), child);
        }
        match k.additional {
            Some(Additional::Any(true)) => s.open = true,
            Some(Additional::Schema(a)) => {
                s.additional = Some(Box::new(Schema::from_keywords(*a, empty)?))
            }
            _ => {}
        }
        if let Some(i) = k.items {
            s.items = Some(Box::new(Schema::from_keywords(*i, empty)?));
        }
        // One of several shapes (anyOf, oneOf): mlk checks none of them
        // rather than guess which was meant.
        let shapes = k.any_of.is_some() || k.one_of.is_some() || k.all_of.is_some();
        if shapes && !s.int_or_string {
            s.open |= s.properties.is_empty();
        }
        let free_form = s.ty == Some(Type::Object)
            && s.properties.is_empty()
            && s.additional.is_none()
            && s.reference.is_none();
        if free_form && (empty == EmptyObject::AnyFields || k.embedded_resource) {
            s.open = true;
        }
        if s.ty.is_none() && s.reference.is_none() && !s.int_or_string && s.properties.is_empty() {
            // No type at all: any JSON value (`JSON` in CRDs, `default`).
            s.open = true;
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use serde::de::{self, Deserializer, Visitor};

    /// A deserializer that only notes which fields a struct asks for.
    struct FieldNames(Option<&'static [&'static str]>);

    #[derive(Debug)]
    struct Stop;

    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stop")
        }
    }

    impl std::error::Error for Stop {}

    impl de::Error for Stop {
        fn custom<T: std::fmt::Display>(_: T) -> Self {
            Stop
        }
    }

    impl<'de> Deserializer<'de> for &mut FieldNames {
        type Error = Stop;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = Some(fields);
            Err(Stop)
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    /// A keyword of the wrong type is an error that names where it is.
    #[test]
    fn a_bad_keyword_is_named_by_its_path() {
        let bad = serde_json::json!({"properties": {"spec": {"type": 5}}});
        let err = super::Schema::from_json(&bad, super::EmptyObject::NoFields).unwrap_err();
        assert!(
            err.starts_with("properties.spec.type: invalid type"),
            "{err}"
        );
        let ok = serde_json::json!({"type": "object", "enum": [1, "a"], "description": 5});
        let s = super::Schema::from_json(&ok, super::EmptyObject::NoFields).unwrap();
        assert_eq!(s.enum_values, ["a"]);
    }

    /// build.rs keeps only `READ_KEYS` in the compiled-in definitions, so
    /// the keywords `Keywords` reads must be exactly those, or the core
    /// kinds would silently lose one.
    #[test]
    fn every_keyword_read_is_kept() {
        let mut names = FieldNames(None);
        let _ = <super::Keywords as serde::Deserialize>::deserialize(&mut names);
        let mut read = names.0.expect("a struct").to_vec();
        let mut kept = super::super::schema_keys::READ_KEYS.to_vec();
        read.sort();
        kept.sort();
        assert_eq!(read, kept);
    }
}
