use super::dns::Subdomain;
use super::string_newtype;

/// A host name (DNS-1123 subdomain) or an IPv4 address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host(String);
string_newtype!(Host);

impl Host {
    fn parse(s: &str) -> Result<(), String> {
        if s.parse::<std::net::Ipv4Addr>().is_ok() {
            return Ok(());
        }
        Subdomain::parse(s).map_err(|_| {
            format!("{s:?} is not a host name (lowercase DNS name) or an IPv4 address")
        })
    }
}

/// An entry of MLflow's allowed-hosts list: a Host header value, optionally
/// with `:port`, where `*` matches anything (MLflow matches with fnmatch).
/// Commas are refused: MLflow splits the list on them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HostPattern(String);
string_newtype!(HostPattern);

impl HostPattern {
    fn parse(s: &str) -> Result<(), String> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || "-.*:[]".contains(c);
        if !s.is_empty() && s.chars().all(ok_char) && !crate::mlflow::lets_anyone_in(s) {
            Ok(())
        } else if crate::mlflow::lets_anyone_in(s) {
            Err(format!(
                "{s:?} matches any host, which turns MLflow's Host check off; list the hosts \
                 instead"
            ))
        } else {
            Err(format!(
                "{s:?} is not a host pattern: letters, digits, '-', '.', ':', '[', ']' and '*' only"
            ))
        }
    }
}

/// A browser origin for MLflow's CORS list: `http://host[:port]` or
/// `https://host[:port]`, with no path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin(String);
string_newtype!(Origin);

impl Origin {
    fn parse(s: &str) -> Result<(), String> {
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"));
        let ok_char = |c: char| c.is_ascii_alphanumeric() || "-.:*[]".contains(c);
        match rest {
            _ if crate::mlflow::lets_anyone_in(s) => Err(format!(
                "{s:?} matches any origin, which turns MLflow's CORS check off; list the origins \
                 instead"
            )),
            Some(r) if !r.is_empty() && r.chars().all(ok_char) => Ok(()),
            _ => Err(format!(
                "{s:?} is not an origin: use http://host or https://host[:port], without a path"
            )),
        }
    }
}
