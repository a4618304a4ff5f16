use super::string_newtype;

/// A container image reference pinned by tag or digest. `latest`, and a
/// reference without tag or digest, are refused: a re-render must mean
/// the same bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image(String);
string_newtype!(Image);

impl Image {
    fn parse(s: &str) -> Result<(), String> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || "-._/:@".contains(c);
        if s.is_empty() || !s.chars().all(ok_char) {
            return Err(format!("{s:?} is not an image reference"));
        }
        if s.contains('@') {
            return Ok(());
        }
        let last = s.rsplit('/').next().unwrap_or(s);
        match last.split_once(':') {
            Some((_, "latest")) => Err(format!("{s:?} uses the tag `latest`; pin a version")),
            Some((_, tag)) if !tag.is_empty() => Ok(()),
            _ => Err(format!("{s:?} has no tag; pin a version, e.g. `{s}:1.2.3`")),
        }
    }

    pub(crate) fn builtin(s: &str) -> Image {
        debug_assert!(Image::parse(s).is_ok(), "{s:?}");
        Image(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_only() {
        assert!(Image::parse("ghcr.io/mlflow/mlflow:v3.17.2-full").is_ok());
        assert!(Image::parse("localhost:5000/x@sha256:abc").is_ok());
        assert!(Image::parse("localhost:5000/x").is_err());
        assert!(Image::parse("postgres:latest").is_err());
        assert!(Image::parse("postgres").is_err());
        assert!(Image::parse("a b:1").is_err());
    }
}
