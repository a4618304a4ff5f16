//! A compact text form of a `Schema`: build.rs writes each compiled-in
//! definition in it (build.rs includes this file), and a run reads it
//! back with no JSON parser and no keyword interpretation, which build.rs
//! has already done. Each keyword that is set is one letter and its
//! value; `.` ends a schema. A string is its length in bytes, `:`, and
//! the string; a number ends with `;`.

use std::fmt::Write as _;

use super::schema::{Schema, Type};

/// `s` in the compact form. mlk's own knowledge (`check`) is added when a
/// definition is read, never written here. Only build.rs and tests write.
#[cfg_attr(not(test), allow(dead_code))]
pub fn encode(s: &Schema, out: &mut String) {
    assert!(s.check.is_none(), "knowledge is added on reading");
    if let Some(r) = &s.reference {
        string(out, 'r', r);
    }
    if let Some(t) = s.ty {
        string(out, 't', t.name());
    }
    for (set, letter) in [(s.int_or_string, 'i'), (s.open, 'o'), (s.nullable, 'n')] {
        if set {
            out.push(letter);
        }
    }
    for (name, p) in &s.properties {
        string(out, 'p', name);
        encode(p, out);
    }
    s.required.iter().for_each(|r| string(out, 'q', r));
    for (letter, sub) in [('a', &s.additional), ('m', &s.items)] {
        if let Some(sub) = sub {
            out.push(letter);
            encode(sub, out);
        }
    }
    s.enum_values.iter().for_each(|e| string(out, 'e', e));
    if let Some(f) = &s.format {
        string(out, 'f', f);
    }
    for (letter, n) in [('<', s.minimum), ('>', s.maximum)] {
        if let Some(n) = n {
            // `{:?}` is the shortest text that parses back to the same f64.
            let _ = write!(out, "{letter}{n:?};");
        }
    }
    if let Some(n) = s.max_length {
        let _ = write!(out, "l{n};");
    }
    out.push('.');
}

#[cfg_attr(not(test), allow(dead_code))]
fn string(out: &mut String, letter: char, s: &str) {
    let _ = write!(out, "{letter}{}:{s}", s.len());
}

/// The schema `text` holds, or `None` if it is not in this form. Its
/// names are borrowed from `text`, which is compiled in.
pub fn decode(text: &'static str) -> Option<Schema> {
    let mut cursor = Cursor { text, at: 0 };
    let schema = cursor.schema()?;
    (cursor.at == text.len()).then_some(schema)
}

struct Cursor {
    text: &'static str,
    at: usize,
}

impl Cursor {
    fn schema(&mut self) -> Option<Schema> {
        let mut s = Schema::default();
        loop {
            match self.letter()? {
                '.' => return Some(s),
                'r' => s.reference = Some(self.string()?.into()),
                't' => s.ty = Some(Type::parse(self.string()?).ok()?),
                'i' => s.int_or_string = true,
                'o' => s.open = true,
                'n' => s.nullable = true,
                'p' => {
                    let name = self.string()?.into();
                    let property = self.schema()?;
                    s.properties.insert(name, property);
                }
                'q' => s.required.push(self.string()?.into()),
                'a' => s.additional = Some(Box::new(self.schema()?)),
                'm' => s.items = Some(Box::new(self.schema()?)),
                'e' => s.enum_values.push(self.string()?.into()),
                'f' => s.format = Some(self.string()?.into()),
                '<' => s.minimum = Some(self.until(';')?.parse().ok()?),
                '>' => s.maximum = Some(self.until(';')?.parse().ok()?),
                'l' => s.max_length = Some(self.until(';')?.parse().ok()?),
                _ => return None,
            }
        }
    }

    fn letter(&mut self) -> Option<char> {
        let c = self.text[self.at..].chars().next()?;
        self.at += c.len_utf8();
        Some(c)
    }

    fn until(&mut self, end: char) -> Option<&'static str> {
        let rest = &self.text[self.at..];
        let n = rest.find(end)?;
        self.at += n + 1;
        Some(&rest[..n])
    }

    fn string(&mut self) -> Option<&'static str> {
        let len: usize = self.until(':')?.parse().ok()?;
        let s = self.text.get(self.at..self.at.checked_add(len)?)?;
        self.at += len;
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::schema::EmptyObject;

    #[test]
    fn every_keyword_reads_back() {
        let json = serde_json::json!({
            "$ref": "#/definitions/x.Y",
            "type": "object",
            "x-kubernetes-int-or-string": true,
            "nullable": true,
            "properties": {
                "a:b.c": {"type": "string", "enum": ["On", "x:1;."], "format": "int-or-string"},
                "n": {"type": "number", "minimum": -0.5, "maximum": 1e300, "maxLength": 7},
                "list": {"type": "array", "items": {"type": "integer"}},
                "map": {"type": "object", "additionalProperties": {"type": "boolean"}},
                "any": {}
            },
            "required": ["n", "list"]
        });
        let schema = Schema::from_json(&json, EmptyObject::AnyFields).unwrap();
        let mut code = String::new();
        encode(&schema, &mut code);
        assert_eq!(decode(code.leak()), Some(schema));
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "t6:object",
            "t6:objectx.",
            "p9:a.",
            "q99:a.",
            "<x;.",
            "..",
        ] {
            assert_eq!(decode(text), None, "{text:?}");
        }
    }
}
