//! Value syntax the API server checks: DNS-1123 names, port names, label
//! keys and values, annotation keys, quantities, base64, int32, durations.
//! A message quotes the value only where it cannot be secret.

use crate::manifest::Value;
use base64::Engine;

use super::schema::Check;
use crate::field_path::{Step, Steps};
use crate::types::{LabelKey, LabelValue, Name, Quantity, Subdomain};

/// Annotations of one object may total 256 KiB.
const ANNOTATIONS_MAX: usize = 256 * 1024;

pub fn check(c: Check, v: &Value, path: &Steps) -> Vec<(String, String)> {
    let at = |msg: String| vec![(path.path(&[]).to_string(), msg)];
    match (c, v) {
        (Check::Labels, Value::Mapping(m)) => labels(m, path),
        (Check::Annotations, Value::Mapping(m)) => annotations(m, path),
        (Check::Quantity, Value::String(s)) => Quantity::check(s).err().map_or(vec![], at),
        (Check::Dns1123Label, Value::String(s)) => Name::check(s).err().map_or(vec![], at),
        (Check::Dns1123Subdomain, Value::String(s)) => Subdomain::check(s).err().map_or(vec![], at),
        (Check::PortName, Value::String(s)) => port_name(s).err().map_or(vec![], at),
        _ => vec![],
    }
}

fn labels(m: &crate::manifest::Mapping, path: &Steps) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (k, v) in m {
        let Some(k) = k.as_str() else { continue };
        let at = || path.path(&[Step::Key(k)]).to_string();
        if let Err(e) = LabelKey::check(k) {
            found.push((at(), e));
        }
        if let Some(Err(e)) = v.as_str().map(LabelValue::check) {
            found.push((at(), e));
        }
    }
    found
}

fn annotations(m: &crate::manifest::Mapping, path: &Steps) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut total = 0;
    for (k, v) in m {
        let Some(k) = k.as_str() else { continue };
        total += k.len() + v.as_str().map_or(0, str::len);
        if let Err(e) = LabelKey::check(k) {
            found.push((path.path(&[Step::Key(k)]).to_string(), e));
        }
    }
    if total > ANNOTATIONS_MAX {
        found.push((
            path.path(&[]).to_string(),
            format!("annotations total {total} bytes, more than the {ANNOTATIONS_MAX} allowed"),
        ));
    }
    found
}

/// IANA_SVC_NAME: at most 15 lowercase letters, digits and single '-',
/// with at least one letter.
fn port_name(s: &str) -> Result<(), String> {
    let ok = s.len() <= 15
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && s.bytes().any(|c| c.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a valid port name: at most 15 lowercase letters, digits and single \
             '-', with at least one letter"
        ))
    }
}

/// Checks named by a schema's `format`.
pub fn by_name(format: Option<&str>, v: &Value) -> Option<String> {
    match (format?, v) {
        ("byte", Value::String(s)) => base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .err()
            .map(|_| "is not valid base64 (use stringData for plain text)".to_owned()),
        ("int32", Value::Number(n)) => n
            .as_i64()
            .filter(|i| i32::try_from(*i).is_err())
            .map(|i| format!("{i} does not fit in 32 bits")),
        ("prometheus-duration", Value::String(s)) => {
            (!is_duration(s)).then(|| format!("{s:?} is not a duration such as 30s or 1m30s"))
        }
        _ => None,
    }
}

fn is_duration(s: &str) -> bool {
    crate::types::Duration::millis_of(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_port_names() {
        for ok in ["30s", "1m30s", "1h", "500ms", "0", "2d12h"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "s", "30", "1s1m", "1.5s", "30sec"] {
            assert!(!is_duration(bad), "{bad}");
        }
        assert!(port_name("http").is_ok());
        assert!(port_name("metrics-9090").is_ok());
        for bad in ["HTTP", "9090", "a--b", "-a", "sixteen-chars-xx"] {
            assert!(port_name(bad).is_err(), "{bad}");
        }
    }
}
