//! Checks one document against its schema, field by field, and reports
//! every problem with its path. Values are quoted in messages only where
//! they cannot be secret (enum values, names, quantities).

use serde_yaml::Value;

use super::format;
use super::schema::{Defs, Schema, Type};
use crate::field_path::Path;

pub struct Walker<'a> {
    defs: &'a Defs,
    pub found: Vec<(String, String)>,
}

impl<'a> Walker<'a> {
    pub fn new(defs: &'a Defs) -> Walker<'a> {
        Walker {
            defs,
            found: Vec::new(),
        }
    }

    fn report(&mut self, path: &Path, message: impl Into<String>) {
        self.found.push((path.to_string(), message.into()));
    }

    pub fn check(&mut self, v: &Value, s: &Schema, path: &Path) {
        let r = s.resolve(self.defs);
        if let Value::Tagged(t) = v {
            return self.check(&t.value, s, path);
        }
        if !self.type_matches(v, r, path) {
            return;
        }
        let check = s.check.or(r.check);
        let enums = if s.enum_values.is_empty() {
            &r.enum_values
        } else {
            &s.enum_values
        };
        self.leaf(v, r, enums, path);
        if let Some(c) = check {
            for (p, msg) in format::check(c, v, path) {
                self.found.push((p, msg));
            }
        }
        match v {
            Value::Mapping(m) => self.object(m, r, path),
            Value::Sequence(items) => {
                if let Some(item) = &r.items {
                    for (i, x) in items.iter().enumerate() {
                        self.check(x, item, &path.index(i));
                    }
                }
            }
            _ => {}
        }
    }

    fn type_matches(&mut self, v: &Value, r: &Schema, path: &Path) -> bool {
        let Some(want) = expected(r) else {
            return true;
        };
        let got = type_of(v);
        let ok = match (want, got) {
            (Want::Type(Type::Number), Some(Type::Integer)) => true,
            (Want::Type(t), Some(g)) => t == g,
            (Want::IntOrString, Some(g)) => g == Type::Integer || g == Type::String,
            (_, None) => r.nullable,
        };
        if !ok {
            let got = got.map_or("null", Type::name);
            self.report(path, format!("expected {}, got {got}", want.name()));
        }
        ok
    }

    fn leaf(&mut self, v: &Value, r: &Schema, enums: &[String], path: &Path) {
        if let (false, Some(s)) = (enums.is_empty(), v.as_str())
            && !enums.iter().any(|e| e == s)
        {
            let allowed = enums.join(", ");
            self.report(path, format!("{s:?} is not one of: {allowed}"));
        }
        if let Some(msg) = format::by_name(r.format.as_deref(), v) {
            self.report(path, msg);
        }
        if let Some(n) = v.as_f64() {
            if let Some(m) = r.minimum.filter(|m| n < *m) {
                self.report(path, format!("{n} is less than the minimum, {m}"));
            }
            if let Some(m) = r.maximum.filter(|m| n > *m) {
                self.report(path, format!("{n} is more than the maximum, {m}"));
            }
        }
        if let (Some(max), Some(s)) = (r.max_length, v.as_str())
            && s.chars().count() > max
        {
            self.report(path, format!("is longer than {max} characters"));
        }
    }

    fn object(&mut self, m: &serde_yaml::Mapping, r: &Schema, path: &Path) {
        for (k, v) in m {
            let Some(key) = k.as_str() else {
                self.report(path, "a key that is not a string");
                continue;
            };
            let child = path.key(key);
            if v.is_null() && !r.properties.get(key).is_some_and(|p| p.nullable) {
                continue; // null is "not set" to the API server
            }
            match (r.properties.get(key), &r.additional) {
                (Some(p), _) => self.check(v, p, &child),
                (None, Some(a)) => self.check(v, a, &child),
                (None, None) if r.open => {}
                (None, None) => {
                    let hint = did_you_mean(key, r.properties.keys());
                    self.report(&child, format!("unknown field {key:?}{hint}"));
                }
            }
        }
        for req in &r.required {
            let present = m.get(req.as_str()).is_some_and(|v| !v.is_null());
            if !present {
                self.report(&path.key(req), "required field is missing");
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Want {
    Type(Type),
    IntOrString,
}

impl Want {
    fn name(self) -> &'static str {
        match self {
            Want::Type(t) => t.name(),
            Want::IntOrString => "integer or string",
        }
    }
}

fn expected(r: &Schema) -> Option<Want> {
    if r.int_or_string {
        return Some(Want::IntOrString);
    }
    r.ty.map(Want::Type)
}

fn type_of(v: &Value) -> Option<Type> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(_) => Type::Boolean,
        Value::Number(n) if n.is_i64() || n.is_u64() => Type::Integer,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::Sequence(_) => Type::Array,
        Value::Mapping(_) => Type::Object,
        Value::Tagged(t) => return type_of(&t.value),
    })
}

/// The known field closest to a misspelt one, when it is close.
fn did_you_mean<'k>(key: &str, known: impl Iterator<Item = &'k String>) -> String {
    crate::suggest::closest(key, known.map(String::as_str))
        .map(|k| format!("; did you mean {k:?}?"))
        .unwrap_or_default()
}
