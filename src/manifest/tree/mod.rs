//! The document tree mlk reads, checks and writes: serde_yaml's data
//! model, stored for speed. A mapping is a vector of entries in their
//! order, with no hash table: objects hold a few keys each, a render
//! holds thousands of objects, and a table per mapping (and a hash per
//! key) cost more than scanning a handful of keys. Lookups see through
//! tags, and `remove` swaps the last entry in, as serde_yaml's do, so
//! every stage reads and orders the tree as it did with serde_yaml's.
//!
//! A lookup scans, so code that looks up many keys in one mapping (a
//! diff of two Secrets' data) takes a [`Lookup`] first: a mapping from a
//! file can be large, and scanning it once per key would be quadratic.

mod convert;
mod mapping;
mod ser;

pub use mapping::{Key, Lookup, Mapping};
pub use ser::to_value;
pub use serde_yaml::Number;
pub use smol_str::SmolStr;

#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    /// Inline up to 23 bytes: most keys and values need no allocation.
    String(SmolStr),
    Sequence(Vec<Value>),
    Mapping(Mapping),
    Tagged(Box<TaggedValue>),
}

/// A value under a tag, such as the placeholder `!mlk 0`.
#[derive(Clone, Debug)]
pub struct TaggedValue {
    pub tag: String,
    pub value: Value,
}

impl TaggedValue {
    /// Whether the tag is `tag`, with or without its `!`, as serde_yaml
    /// compares tags.
    pub fn is(&self, tag: &str) -> bool {
        fn bare(t: &str) -> &str {
            t.strip_prefix('!').unwrap_or(t)
        }
        bare(&self.tag) == bare(tag)
    }
}

impl PartialEq for TaggedValue {
    fn eq(&self, other: &Self) -> bool {
        self.is(&other.tag) && self.value == other.value
    }
}

static NULL: Value = Value::Null;

impl Value {
    fn untag(&self) -> &Value {
        match self {
            Value::Tagged(t) => t.value.untag(),
            v => v,
        }
    }

    fn untag_mut(&mut self) -> &mut Value {
        match self {
            Value::Tagged(t) => t.value.untag_mut(),
            v => v,
        }
    }

    /// The value under `key`, when this is a mapping that has it.
    pub fn get<K: Key + ?Sized>(&self, key: &K) -> Option<&Value> {
        self.as_mapping()?.get(key)
    }

    pub fn get_mut<K: Key + ?Sized>(&mut self, key: &K) -> Option<&mut Value> {
        self.as_mapping_mut()?.get_mut(key)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.untag() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_string(&self) -> bool {
        self.as_str().is_some()
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.untag() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.as_number()?.as_u64()
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.as_number()?.as_i64()
    }

    pub fn as_f64(&self) -> Option<f64> {
        self.as_number()?.as_f64()
    }

    fn as_number(&self) -> Option<&Number> {
        match self.untag() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    pub fn is_u64(&self) -> bool {
        self.as_u64().is_some()
    }

    pub fn is_null(&self) -> bool {
        matches!(self.untag(), Value::Null)
    }

    pub fn as_sequence(&self) -> Option<&Vec<Value>> {
        match self.untag() {
            Value::Sequence(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_sequence_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self.untag_mut() {
            Value::Sequence(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_sequence(&self) -> bool {
        self.as_sequence().is_some()
    }

    pub fn as_mapping(&self) -> Option<&Mapping> {
        match self.untag() {
            Value::Mapping(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_mapping_mut(&mut self) -> Option<&mut Mapping> {
        match self.untag_mut() {
            Value::Mapping(m) => Some(m),
            _ => None,
        }
    }

    pub fn is_mapping(&self) -> bool {
        self.as_mapping().is_some()
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialEq<String> for Value {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == Some(other.as_str())
    }
}

impl PartialEq<i32> for Value {
    fn eq(&self, other: &i32) -> bool {
        self.as_i64() == Some(i64::from(*other))
    }
}

impl PartialEq<bool> for Value {
    fn eq(&self, other: &bool) -> bool {
        self.as_bool() == Some(*other)
    }
}

impl std::ops::Index<&str> for Value {
    type Output = Value;

    /// Null when this is not a mapping or `key` is not in it.
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl std::ops::IndexMut<&str> for Value {
    /// Makes null a mapping and adds `key` set to null if it is missing,
    /// as serde_yaml does.
    fn index_mut(&mut self, key: &str) -> &mut Value {
        if self.is_null() {
            *self = Value::Mapping(Mapping::new());
        }
        match self.untag_mut() {
            Value::Mapping(m) => m.entry_or_null(key),
            v => panic!("cannot index {v:?} with {key:?}"),
        }
    }
}

impl std::ops::Index<usize> for Value {
    type Output = Value;

    fn index(&self, i: usize) -> &Value {
        self.as_sequence().and_then(|s| s.get(i)).unwrap_or(&NULL)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s.into())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Number(n.into())
    }
}

impl From<Mapping> for Value {
    fn from(m: Mapping) -> Self {
        Value::Mapping(m)
    }
}

impl From<Vec<Value>> for Value {
    fn from(s: Vec<Value>) -> Self {
        Value::Sequence(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A missing key reads as null, and writing it adds it last.
    #[test]
    fn index_reads_null_and_writes_in_place() {
        let mut v = Value::Null;
        v["a"]["b"] = "x".into();
        v["c"] = "y".into();
        assert_eq!(v["a"]["b"].as_str(), Some("x"));
        assert!(v["missing"]["deeper"].is_null());
        let keys: Vec<_> = v.as_mapping().unwrap().keys().cloned().collect();
        assert_eq!(keys, vec![Value::from("a"), Value::from("c")]);
    }
}
