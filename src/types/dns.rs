use super::string_newtype;

/// A DNS-1123 label: what Kubernetes requires of namespaces, Services and
/// most object names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);
string_newtype!(Name);

impl Name {
    fn parse(s: &str) -> Result<(), String> {
        check_label(s, 63)
    }
}

/// The platform's name. Every object name is derived from it with a suffix
/// (the longest is `-bucket-` plus an 8-character hash), so it is kept short
/// enough that each derived name still fits Kubernetes' 63 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformName(String);
string_newtype!(PlatformName);

pub const PLATFORM_NAME_MAX: usize = 40;

impl PlatformName {
    fn parse(s: &str) -> Result<(), String> {
        check_label(s, PLATFORM_NAME_MAX).map_err(|e| {
            if s.len() > PLATFORM_NAME_MAX {
                format!("{e}: object names are derived from it with suffixes such as `-postgres`")
            } else {
                e
            }
        })
    }
}

/// A DNS-1123 subdomain: dot-separated labels, at most 253 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Subdomain(String);
string_newtype!(Subdomain);

impl Subdomain {
    pub(crate) fn parse(s: &str) -> Result<(), String> {
        if s.len() > 253 {
            return Err(format!("{s:?} is longer than 253 characters"));
        }
        for part in s.split('.') {
            check_label(part, 63).map_err(|_| {
                format!(
                    "{s:?} is not a valid DNS-1123 subdomain: lowercase letters, digits, \
                     '-' and '.', each dot-separated part starting and ending with a letter or digit"
                )
            })?;
        }
        Ok(())
    }
}

pub(crate) fn check_label(s: &str, max: usize) -> Result<(), String> {
    let b = s.as_bytes();
    let ok_inner = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-';
    let ok_edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() {
        return Err("must not be empty".into());
    }
    if b.len() > max {
        return Err(format!("{s:?} is longer than {max} characters"));
    }
    if !b.iter().all(ok_inner) || !ok_edge(&b[0]) || !ok_edge(&b[b.len() - 1]) {
        return Err(format!(
            "{s:?} is not a valid DNS-1123 label: use lowercase letters, digits and '-', \
             starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert!(Name::parse("mlflow-0").is_ok());
        assert!(Name::parse("a").is_ok());
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"a".repeat(64)] {
            assert!(Name::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(PlatformName::parse(&"a".repeat(41)).is_err());
        assert!(Subdomain::parse("cluster.local").is_ok());
        assert!(Subdomain::parse("cluster..local").is_err());
    }
}
