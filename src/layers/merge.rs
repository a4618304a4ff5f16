//! Deep merge of spec layers, as Helm merges values: mappings merge key
//! by key, anything else (scalars, lists) is replaced, and `null` removes.

use serde_yaml::{Mapping, Value};

/// Keys that make a mapping a secret source. A secret source is one
/// choice, so an upper layer replaces it whole: merging `{generate: true}`
/// with `{fromEnv: X}` key by key would give a source with two choices.
pub(super) const SECRET_SOURCE_KEYS: [&str; 5] =
    ["fromEnv", "fromFile", "existingSecret", "generate", "value"];

pub fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Mapping(base), Value::Mapping(overlay)) if !is_secret_source(&overlay) => {
            merge_mappings(base, overlay)
        }
        (base, overlay) => *base = overlay,
    }
}

fn merge_mappings(base: &mut Mapping, overlay: Mapping) {
    for (key, value) in overlay {
        if value.is_null() {
            base.remove(&key);
        } else if let Some(existing) = base.get_mut(&key) {
            merge(existing, value);
        } else {
            base.insert(key, value);
        }
    }
}

fn is_secret_source(m: &Mapping) -> bool {
    m.keys()
        .filter_map(Value::as_str)
        .any(|k| SECRET_SOURCE_KEYS.contains(&k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn mappings_merge_lists_replace_null_removes() {
        let mut base = y("{a: {b: 1, c: 2}, l: [1, 2], d: 4}");
        merge(&mut base, y("{a: {c: 3}, l: [9], d: null}"));
        assert_eq!(base, y("{a: {b: 1, c: 3}, l: [9]}"));
    }

    #[test]
    fn secret_sources_replace_whole() {
        let mut base = y("{password: {generate: true}}");
        merge(&mut base, y("{password: {fromEnv: PG}}"));
        assert_eq!(base, y("{password: {fromEnv: PG}}"));
    }
}
