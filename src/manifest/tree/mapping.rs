//! A mapping: its entries in their order, looked up by scanning, and a
//! [`Lookup`] that indexes a large one before many lookups.

use foldhash::HashMap;

use super::Value;

#[derive(Clone, Debug, Default)]
pub struct Mapping {
    entries: Vec<(Value, Value)>,
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
    pub(super) fn entry_or_null(&mut self, key: &str) -> &mut Value {
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
}
