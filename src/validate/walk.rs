//! Checks one document against its schema, field by field, and reports
//! every problem with its path. Values are quoted in messages only where
//! they cannot be secret (enum values, names, quantities).

use crate::manifest::Value;

use super::defs::Defs;
use super::format;
use super::schema::{Schema, Text, Type};
use crate::field_path::{Step, Steps};

/// The path of the value being checked grows and shrinks with the walk;
/// it is written out only for a problem.
pub struct Walker<'a, 'v> {
    defs: &'a Defs,
    path: Steps<'v>,
    pub found: Vec<(String, String)>,
}

impl<'a, 'v> Walker<'a, 'v> {
    pub fn new(defs: &'a Defs) -> Walker<'a, 'v> {
        Walker {
            defs,
            path: Steps::default(),
            found: Vec::new(),
        }
    }

    fn report(&mut self, message: impl Into<String>) {
        self.found
            .push((self.path.path(&[]).to_string(), message.into()));
    }

    /// Checks `v` against `s`; `v` is the root of its document.
    pub fn check(&mut self, v: &'v Value, s: &Schema) {
        let r = s.resolve(self.defs);
        if let Value::Tagged(t) = v {
            return self.check(&t.value, s);
        }
        if !self.type_matches(v, r) {
            return;
        }
        let check = s.check.or(r.check);
        let enums = if s.enum_values.is_empty() {
            &r.enum_values
        } else {
            &s.enum_values
        };
        self.leaf(v, r, enums);
        if let Some(c) = check {
            self.found.extend(format::check(c, v, &self.path));
        }
        match v {
            Value::Mapping(m) => self.object(m, r),
            Value::Sequence(items) => {
                if let Some(item) = &r.items {
                    for (i, x) in items.iter().enumerate() {
                        self.path.push(Step::Index(i));
                        self.check(x, item);
                        self.path.pop();
                    }
                }
            }
            _ => {}
        }
    }

    fn type_matches(&mut self, v: &Value, r: &Schema) -> bool {
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
            self.report(format!("expected {}, got {got}", want.name()));
        }
        ok
    }

    fn leaf(&mut self, v: &Value, r: &Schema, enums: &[Text]) {
        if let (false, Some(s)) = (enums.is_empty(), v.as_str())
            && !enums.iter().any(|e| e == s)
        {
            let allowed = enums.join(", ");
            self.report(format!("{s:?} is not one of: {allowed}"));
        }
        if let Some(msg) = format::by_name(r.format.as_deref(), v) {
            self.report(msg);
        }
        if let Some(n) = v.as_f64() {
            if let Some(m) = r.minimum.filter(|m| n < *m) {
                self.report(format!("{n} is less than the minimum, {m}"));
            }
            if let Some(m) = r.maximum.filter(|m| n > *m) {
                self.report(format!("{n} is more than the maximum, {m}"));
            }
        }
        if let (Some(max), Some(s)) = (r.max_length, v.as_str())
            && s.chars().count() > max
        {
            self.report(format!("is longer than {max} characters"));
        }
    }

    fn object(&mut self, m: &'v crate::manifest::Mapping, r: &Schema) {
        for (k, v) in m {
            let Some(key) = k.as_str() else {
                self.report("a key that is not a string");
                continue;
            };
            if v.is_null() && !r.properties.get(key).is_some_and(|p| p.nullable) {
                continue; // null is "not set" to the API server
            }
            self.path.push(Step::Key(key));
            match (r.properties.get(key), &r.additional) {
                (Some(p), _) => self.check(v, p),
                (None, Some(a)) => self.check(v, a),
                (None, None) if r.open => {}
                (None, None) => {
                    let hint = did_you_mean(key, r.properties.keys());
                    self.report(format!("unknown field {key:?}{hint}"));
                }
            }
            self.path.pop();
        }
        for req in &r.required {
            let present = m.get(req.as_ref()).is_some_and(|v| !v.is_null());
            if !present {
                let path = self.path.path(&[Step::Key(req)]).to_string();
                self.found.push((path, "required field is missing".into()));
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
fn did_you_mean<'k>(key: &str, known: impl Iterator<Item = &'k Text>) -> String {
    crate::suggest::closest(key, known.map(|k| k.as_ref()))
        .map(|k| format!("; did you mean {k:?}?"))
        .unwrap_or_default()
}
