use super::string_newtype;

/// A Prometheus duration such as `30s` or `1m30s`: units y, w, d, h, m, s
/// and ms, each at most once, largest first; or `0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duration(String);
string_newtype!(Duration);

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 86_400_000),
    ("w", 7 * 86_400_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

impl Duration {
    fn parse(s: &str) -> Result<(), String> {
        Self::millis_of(s)
            .map(|_| ())
            .ok_or_else(|| format!("{s:?} is not a duration such as 30s or 1m30s"))
    }

    pub fn millis(&self) -> u64 {
        Self::millis_of(&self.0).expect("validated")
    }

    /// The length of a duration in milliseconds, or `None` if `s` is not one.
    pub fn millis_of(s: &str) -> Option<u64> {
        if s == "0" {
            return Some(0);
        }
        let (mut rest, mut next_unit, mut total) = (s, 0, 0u64);
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let n: u64 = rest[..digits].parse().ok()?;
            rest = &rest[digits..];
            let i = (next_unit..UNITS.len())
                .filter(|i| rest.starts_with(UNITS[*i].0))
                .max_by_key(|i| UNITS[*i].0.len())?;
            total = total.checked_add(n.checked_mul(UNITS[i].1)?)?;
            rest = &rest[UNITS[i].0.len()..];
            next_unit = i + 1;
        }
        (!s.is_empty()).then_some(total)
    }
}

#[cfg(test)]
mod tests {
    use super::Duration;

    #[test]
    fn lengths() {
        assert_eq!(Duration::millis_of("1m30s"), Some(90_000));
        assert_eq!(Duration::millis_of("500ms"), Some(500));
        assert_eq!(Duration::millis_of("0"), Some(0));
        for bad in ["", "30", "s", "1s1m", "1m1m", "-1s", "1.5s"] {
            assert_eq!(Duration::millis_of(bad), None, "{bad}");
        }
    }
}
