//! The part of OpenAPI v3 that Kubernetes validates objects with: types,
//! properties, required fields, enums, formats and the `x-kubernetes-*`
//! extensions. Core kinds (from k8s-openapi), mlk's built-in custom kinds
//! and a cluster's CRDs all become this one model.

use std::collections::BTreeMap;

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
    fn parse(s: &str) -> Result<Type, String> {
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

#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// A named definition, looked up in `Defs`.
    pub reference: Option<String>,
    pub ty: Option<Type>,
    pub int_or_string: bool,
    pub properties: BTreeMap<String, Schema>,
    pub required: Vec<String>,
    /// The schema of a map's values.
    pub additional: Option<Box<Schema>>,
    pub items: Option<Box<Schema>>,
    /// Any field is allowed (`x-kubernetes-preserve-unknown-fields`).
    pub open: bool,
    pub enum_values: Vec<String>,
    pub format: Option<String>,
    pub nullable: bool,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub max_length: Option<usize>,
    pub check: Option<Check>,
}

pub use super::defs::Defs;

/// How an object schema without properties reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyObject {
    /// k8s-openapi writes free-form objects (`FieldsV1`) this way.
    AnyFields,
    /// A CRD's structural schema: the API server prunes every field.
    NoFields,
}

impl Schema {
    pub fn from_json(v: &Json, empty: EmptyObject) -> Result<Schema, String> {
        let o = v.as_object().ok_or("a schema must be an object")?;
        let mut s = Schema {
            reference: o
                .get("$ref")
                .and_then(Json::as_str)
                .map(|r| r.rsplit('/').next().unwrap_or(r).to_owned()),
            ty: o
                .get("type")
                .and_then(Json::as_str)
                .map(Type::parse)
                .transpose()?,
            int_or_string: flag(o, "x-kubernetes-int-or-string"),
            open: flag(o, "x-kubernetes-preserve-unknown-fields"),
            nullable: flag(o, "nullable"),
            format: o.get("format").and_then(Json::as_str).map(str::to_owned),
            minimum: o.get("minimum").and_then(Json::as_f64),
            maximum: o.get("maximum").and_then(Json::as_f64),
            max_length: o
                .get("maxLength")
                .and_then(Json::as_u64)
                .map(|n| n as usize),
            ..Schema::default()
        };
        if let Some(props) = o.get("properties").and_then(Json::as_object) {
            for (k, p) in props {
                let child = Schema::from_json(p, empty).map_err(|e| format!("{k}: {e}"))?;
                s.properties.insert(k.clone(), child);
            }
        }
        s.required = strings(o.get("required"));
        s.enum_values = strings(o.get("enum"));
        match o.get("additionalProperties") {
            Some(Json::Bool(true)) => s.open = true,
            Some(a @ Json::Object(_)) => {
                s.additional = Some(Box::new(Schema::from_json(a, empty)?))
            }
            _ => {}
        }
        if let Some(i) = o.get("items") {
            s.items = Some(Box::new(Schema::from_json(i, empty)?));
        }
        // One of several shapes (anyOf, oneOf): mlk checks none of them
        // rather than guess which was meant.
        if ["anyOf", "oneOf", "allOf"]
            .iter()
            .any(|k| o.contains_key(*k))
            && !s.int_or_string
        {
            s.open |= s.properties.is_empty();
        }
        let free_form = s.ty == Some(Type::Object)
            && s.properties.is_empty()
            && s.additional.is_none()
            && s.reference.is_none();
        if free_form
            && (empty == EmptyObject::AnyFields || flag(o, "x-kubernetes-embedded-resource"))
        {
            s.open = true;
        }
        if s.ty.is_none() && s.reference.is_none() && !s.int_or_string && s.properties.is_empty() {
            // No type at all: any JSON value (`JSON` in CRDs, `default`).
            s.open = true;
        }
        Ok(s)
    }

    /// Follows `reference` through `defs`.
    pub fn resolve<'a>(&'a self, defs: &'a Defs) -> &'a Schema {
        let mut s = self;
        while let Some(r) = &s.reference {
            match defs.get(r) {
                Some(d) => s = d,
                None => break,
            }
        }
        s
    }
}

fn flag(o: &serde_json::Map<String, Json>, key: &str) -> bool {
    o.get(key).and_then(Json::as_bool).unwrap_or(false)
}

fn strings(v: Option<&Json>) -> Vec<String> {
    v.and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    /// build.rs keeps only `READ_KEYS` in the compiled-in definitions, so
    /// a keyword `from_json` reads must be listed there, or the core
    /// kinds would silently lose it.
    #[test]
    fn every_keyword_read_is_kept() {
        let source = include_str!("schema.rs");
        let reads = source
            .split(['(', ','])
            .filter_map(|s| s.trim().strip_prefix('"')?.split_once('"'))
            .map(|(word, _)| word)
            .filter(|w| w.starts_with(|c: char| c == '$' || c.is_ascii_lowercase()));
        let mut checked = 0;
        for word in reads.filter(|w| !w.contains(' ') && !w.starts_with("object")) {
            if super::Type::parse(word).is_ok() || word == "schema.rs" {
                continue;
            }
            assert!(
                super::super::schema_keys::READ_KEYS.contains(&word),
                "{word}"
            );
            checked += 1;
        }
        assert!(checked >= 16, "{checked}");
    }
}
