//! "Did you mean …?" for a misspelt name, shared by the spec loader and
//! `mlk validate`.

/// The known name closest to `given`, when it is close enough to be a
/// typo of it: at most two edits, or a quarter of the name's length.
pub fn closest<'k>(given: &str, known: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    known
        .into_iter()
        .map(|k| (strsim::levenshtein(given, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn finds_a_typo_and_nothing_far() {
        let known = ["image", "replicas", "workers"];
        assert_eq!(closest("replica", known), Some("replicas"));
        assert_eq!(closest("Replicas", known), Some("replicas"));
        assert_eq!(closest("storage", known), None);
    }
}
