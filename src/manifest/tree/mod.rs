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

use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

mod ser;
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

#[derive(Clone, Debug, Default)]
pub struct Mapping {
    entries: Vec<(Value, Value)>,
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

impl Mapping {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        Mapping {
            entries: Vec::with_capacity(n),
        }
    }

    /// Entries whose keys are known to differ, in their order.
    pub fn from_unique(entries: Vec<(Value, Value)>) -> Self {
        Mapping { entries }
    }

    /// Entries in their order, or `None` when two keys are equal: YAML
    /// refuses a duplicate key. Linear in the entries for a large
    /// mapping, so no input can make the check quadratic.
    pub fn from_entries(entries: Vec<(Value, Value)>) -> Option<Self> {
        let unique = match entries.len() {
            0..=16 => entries
                .iter()
                .enumerate()
                .all(|(i, (k, _))| entries[..i].iter().all(|(o, _)| o != k)),
            _ => all_keys_differ(&entries),
        };
        unique.then_some(Mapping { entries })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|(k, _)| matches!(k, Value::String(s) if s == key))
    }

    fn position_of(&self, key: &Value) -> Option<usize> {
        match key {
            Value::String(s) => self.position(s),
            _ => self.entries.iter().position(|(k, _)| k == key),
        }
    }

    pub fn get<K: Key + ?Sized>(&self, key: &K) -> Option<&Value> {
        key.find_in(self).map(|i| &self.entries[i].1)
    }

    pub fn get_mut<K: Key + ?Sized>(&mut self, key: &K) -> Option<&mut Value> {
        key.find_in(self).map(|i| &mut self.entries[i].1)
    }

    pub fn contains_key<K: Key + ?Sized>(&self, key: &K) -> bool {
        key.find_in(self).is_some()
    }

    /// Sets `key`, in its place if it is there, else last; returns the
    /// value it replaced.
    pub fn insert(&mut self, key: Value, value: Value) -> Option<Value> {
        match self.position_of(&key) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Takes `key` out; the last entry takes its place.
    pub fn remove<K: Key + ?Sized>(&mut self, key: &K) -> Option<Value> {
        let i = key.find_in(self)?;
        Some(self.entries.swap_remove(i).1)
    }

    /// The value under `key`, set to null first if it is missing.
    fn entry_or_null(&mut self, key: &str) -> &mut Value {
        let i = match self.position(key) {
            Some(i) => i,
            None => {
                self.entries.push((Value::String(key.into()), Value::Null));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }

    /// An index for looking up many keys: a hash table of the keys that
    /// are strings, past a few entries.
    pub fn lookup(&self) -> Lookup<'_> {
        let index = (self.len() > SCAN).then(|| {
            let keys = self.entries.iter().enumerate();
            keys.filter_map(|(i, (k, _))| Some((k.as_str()?, i)))
                .collect()
        });
        Lookup { map: self, index }
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Value, &Value)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl ExactSizeIterator<Item = (&Value, &mut Value)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl ExactSizeIterator<Item = &Value> {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl ExactSizeIterator<Item = &mut Value> {
        self.entries.iter_mut().map(|(_, v)| v)
    }
}

/// Past this many entries, a mapping is indexed before many lookups.
const SCAN: usize = 16;

pub struct Lookup<'a> {
    map: &'a Mapping,
    index: Option<HashMap<&'a str, usize>>,
}

impl<'a> Lookup<'a> {
    pub fn get<K: Key + ?Sized>(&self, key: &K) -> Option<&'a Value> {
        let i = match (&self.index, key.text()) {
            (Some(index), Some(text)) => index.get(text).copied(),
            _ => key.find_in(self.map),
        };
        i.map(|i| &self.map.entries[i].1)
    }
}

/// What a mapping is looked up by: a key's text, or a key itself.
pub trait Key {
    fn find_in(&self, m: &Mapping) -> Option<usize>;
    /// The key's text, when it is a string.
    fn text(&self) -> Option<&str>;
}

impl Key for str {
    fn find_in(&self, m: &Mapping) -> Option<usize> {
        m.position(self)
    }
    fn text(&self) -> Option<&str> {
        Some(self)
    }
}

impl Key for String {
    fn find_in(&self, m: &Mapping) -> Option<usize> {
        m.position(self)
    }
    fn text(&self) -> Option<&str> {
        Some(self)
    }
}

impl Key for Value {
    fn find_in(&self, m: &Mapping) -> Option<usize> {
        m.position_of(self)
    }
    fn text(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl<K: Key + ?Sized> Key for &K {
    fn find_in(&self, m: &Mapping) -> Option<usize> {
        (**self).find_in(m)
    }
    fn text(&self) -> Option<&str> {
        (**self).text()
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

/// Whether no two keys are equal, by sorting: keys that are strings by
/// their text, any others (rare) compared with each other directly.
fn all_keys_differ(entries: &[(Value, Value)]) -> bool {
    let mut texts: Vec<&str> = Vec::with_capacity(entries.len());
    let mut others: Vec<&Value> = Vec::new();
    for (k, _) in entries {
        match k {
            Value::String(s) => texts.push(s),
            k => others.push(k),
        }
    }
    texts.sort_unstable();
    texts.windows(2).all(|w| w[0] != w[1])
        && others
            .iter()
            .enumerate()
            .all(|(i, k)| others[..i].iter().all(|o| o != k))
}

/// Equal when both hold the same entries, in any order, as serde_yaml's
/// mappings are.
impl PartialEq for Mapping {
    fn eq(&self, other: &Self) -> bool {
        if self.len() != other.len() {
            return false;
        }
        if self.entries == other.entries {
            return true;
        }
        let theirs = other.lookup();
        self.entries.iter().all(|(k, v)| theirs.get(k) == Some(v))
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

impl<'a> IntoIterator for &'a Mapping {
    type Item = (&'a Value, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Value, Value)>,
        fn(&'a (Value, Value)) -> (&'a Value, &'a Value),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl IntoIterator for Mapping {
    type Item = (Value, Value);
    type IntoIter = std::vec::IntoIter<(Value, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl FromIterator<(Value, Value)> for Mapping {
    /// Later entries replace earlier ones with an equal key.
    fn from_iter<I: IntoIterator<Item = (Value, Value)>>(iter: I) -> Self {
        let mut m = Mapping::new();
        m.extend(iter);
        m
    }
}

impl Extend<(Value, Value)> for Mapping {
    fn extend<I: IntoIterator<Item = (Value, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
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

    fn map(pairs: &[(&str, u64)]) -> Mapping {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    /// Order does not make mappings differ, as with serde_yaml.
    #[test]
    fn mappings_are_equal_in_any_order() {
        assert_eq!(map(&[("a", 1), ("b", 2)]), map(&[("b", 2), ("a", 1)]));
        assert_ne!(map(&[("a", 1), ("b", 2)]), map(&[("b", 1), ("a", 2)]));
        assert_ne!(map(&[("a", 1)]), map(&[("a", 1), ("b", 2)]));
    }

    /// Insert keeps a key's place; remove moves the last entry into the
    /// gap. Both are what serde_yaml's mapping does, and emit order
    /// depends on them.
    #[test]
    fn insert_and_remove_order_as_serde_yaml() {
        let ours = |ops: &dyn Fn(&mut Mapping)| {
            let mut m = map(&[("a", 1), ("b", 2), ("c", 3), ("d", 4)]);
            ops(&mut m);
            m.keys()
                .map(|k| k.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let theirs = |ops: &dyn Fn(&mut serde_yaml::Mapping)| {
            let mut m: serde_yaml::Mapping = [("a", 1), ("b", 2), ("c", 3), ("d", 4)]
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect();
            ops(&mut m);
            m.keys()
                .map(|k| k.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ours(&|m| {
                m.remove("a");
                m.insert("b".into(), 9.into());
                m.insert("e".into(), 5.into());
            }),
            theirs(&|m| {
                m.remove("a");
                m.insert("b".into(), 9.into());
                m.insert("e".into(), 5.into());
            })
        );
    }

    /// Large mappings compare and look up as small ones do.
    #[test]
    fn large_mappings_look_up_by_index() {
        let keys: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
        let m: Mapping = keys
            .iter()
            .map(|k| (k.as_str().into(), k.as_str().into()))
            .collect();
        let reversed: Mapping = m
            .iter()
            .rev()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(m, reversed);
        let lookup = m.lookup();
        assert!(
            keys.iter()
                .all(|k| lookup.get(k).and_then(Value::as_str) == Some(k))
        );
        assert!(lookup.get("k100").is_none());
        let mut changed = reversed.clone();
        changed.insert("k5".into(), "other".into());
        assert_ne!(m, changed);
    }

    /// A duplicate key is found in small and large mappings alike.
    #[test]
    fn duplicate_keys_are_refused() {
        for n in [2, 16, 17, 5_000] {
            let mut entries: Vec<(Value, Value)> = (0..n)
                .map(|i| (Value::String(format!("k{i}").into()), Value::Null))
                .collect();
            assert!(Mapping::from_entries(entries.clone()).is_some(), "{n}");
            entries.push(("k0".into(), Value::Null));
            assert!(Mapping::from_entries(entries).is_none(), "{n}");
        }
    }

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
