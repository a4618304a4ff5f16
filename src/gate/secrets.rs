//! Secrets by provenance. Every secret value mlk read, resolved or derived
//! (or, for a stream from elsewhere, every value its Secrets hold) may
//! appear only in a Secret's `data` or `stringData`: not in an annotation,
//! an env value, an argument, a ConfigMap or a name, as written or in
//! base64. And no argument may name, as `$(NAME)`, a variable that comes
//! from a Secret: Kubernetes would expand it into the process's argv,
//! which anyone who can list pods reads.

use base64::Engine;

use super::{Evidence, Findings, Policy, pods};
use crate::field_path::Trail;
use crate::manifest::{Document, Value};
use crate::sensitive::SecretSet;

/// Keys a Secret holds that name something rather than guard it: a
/// stream's Secrets are searched for without them.
const NOT_SECRET_KEYS: [&str; 12] = [
    "username", "user", "host", "hostname", "port", "dbname", "database", "endpoint", "region",
    "bucket", "ca.crt", "tls.crt",
];

pub fn check(docs: &[Document], policy: &Policy, out: &mut Findings) {
    for (i, doc) in docs.iter().enumerate() {
        if !policy.secrets.is_empty() {
            let mut at = Trail::root();
            scan(
                &doc.value,
                doc.kind() == "Secret",
                &mut at,
                policy.secrets,
                &mut |at| {
                    let msg = "holds a secret value, which belongs only in a Secret's data".into();
                    out.push(i, at, msg, Evidence::Secret);
                },
            );
        }
        for pod in pods(doc) {
            for c in &pod.containers {
                expansions(&c.value, &c.at, &mut |at, name| {
                    let msg = format!(
                        "$({name}) expands a Secret's value into the process's arguments, \
                         which anyone who can list pods can read: read it from the \
                         environment or a file instead"
                    );
                    out.push(i, at, msg, Evidence::Text(format!("$({name})")));
                });
            }
        }
    }
}

/// Every string of `v`, keys included, but a Secret's own data.
fn scan(v: &Value, secret: bool, at: &mut Trail, set: &SecretSet, found: &mut dyn FnMut(Trail)) {
    match v {
        Value::String(s) if set.found_in(s) => found(at.clone()),
        Value::Mapping(m) => {
            for (k, v) in m {
                let key = k.as_str().unwrap_or_default();
                if set.found_in(key) {
                    found(at.key(key));
                }
                let data = secret && at.segs().is_empty() && (key == "data" || key == "stringData");
                if data {
                    continue;
                }
                let mut next = at.key(key);
                scan(v, secret, &mut next, set, found);
            }
        }
        Value::Sequence(items) => {
            for (j, v) in items.iter().enumerate() {
                let mut next = at.index(j);
                scan(v, secret, &mut next, set, found);
            }
        }
        Value::Tagged(t) => scan(&t.value, secret, at, set, found),
        _ => {}
    }
}

/// `$(NAME)` in a container's command and args where NAME is an env var
/// read from a Secret.
fn expansions(c: &Value, at: &Trail, found: &mut dyn FnMut(Trail, &str)) {
    let from_secret: Vec<&str> = c["env"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter(|e| !e["valueFrom"]["secretKeyRef"].is_null())
        .filter_map(|e| e["name"].as_str())
        .collect();
    let any_secret_env_from = c["envFrom"]
        .as_sequence()
        .into_iter()
        .flatten()
        .any(|e| !e["secretRef"].is_null());
    for list in ["command", "args"] {
        for (j, arg) in c[list].as_sequence().into_iter().flatten().enumerate() {
            for name in referenced(arg.as_str().unwrap_or_default()) {
                if from_secret.contains(&name) || any_secret_env_from {
                    found(at.key(list).index(j), name);
                }
            }
        }
    }
}

/// The names `$(NAME)` references, as the kubelet expands them: `$$`
/// escapes a dollar.
pub fn referenced(arg: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = arg.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'$', b'$') => i += 2,
            (b'$', b'(') => match arg[i + 2..].find(')') {
                Some(end) => {
                    out.push(&arg[i + 2..i + 2 + end]);
                    i += end + 3;
                }
                None => break,
            },
            _ => i += 1,
        }
    }
    out
}

/// The values a stream's own Secrets hold, decoded: what `mlk validate
/// --policy` and `mlk diff` look for, when no render told them.
pub fn stream_secrets(docs: &[Document]) -> SecretSet {
    let mut values = Vec::new();
    for d in docs.iter().filter(|d| d.kind() == "Secret") {
        for (field, encoded) in [("data", true), ("stringData", false)] {
            let Some(m) = d.value[field].as_mapping() else {
                continue;
            };
            for (k, v) in m {
                let key = k.as_str().unwrap_or_default();
                let Some(text) = v.as_str() else { continue };
                if NOT_SECRET_KEYS.contains(&key) {
                    continue;
                }
                let decoded = match encoded {
                    true => base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok()),
                    false => Some(text.to_owned()),
                };
                values.extend(decoded);
            }
        }
    }
    SecretSet::new(values.iter().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::referenced;

    #[test]
    fn references_are_read_as_the_kubelet_reads_them() {
        assert_eq!(referenced("$(A) x $(B_C)"), ["A", "B_C"]);
        assert_eq!(referenced("$$(A) $(B"), Vec::<&str>::new());
        assert_eq!(referenced("--pw=$(PW)"), ["PW"]);
    }
}
