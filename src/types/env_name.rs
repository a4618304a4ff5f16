use super::string_newtype;

/// An environment variable name that a shell, and `$(VAR)` expansion, can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvName(String);
string_newtype!(EnvName);

impl EnvName {
    fn parse(s: &str) -> Result<(), String> {
        let mut chars = s.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is not a valid environment variable name: letters, digits and '_', \
                 not starting with a digit"
            ))
        }
    }
}
