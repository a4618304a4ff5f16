//! Secrets by provenance. Every secret value mlk read, resolved or derived
//! (or, for a stream from elsewhere, every value its Secrets hold) may
//! appear only in a Secret's `data` or `stringData`: not in an annotation,
//! an env value, an argument, a ConfigMap or a name, as written or in
//! base64. And no argument may name, as `$(NAME)`, a variable that comes
//! from a Secret: Kubernetes would expand it into the process's argv,
//! which anyone who can list pods reads. Where an external store holds
//! the secrets, no Secret with values is printed at all.

use base64::Engine;

use super::{Evidence, Findings, Policy, Subject};
use crate::field_path::{Step, Steps, Trail};
use crate::manifest::Value;
use crate::sensitive::SecretSet;

/// Keys a Secret holds that name something rather than guard it: a
/// stream's Secrets are searched for without them.
const NOT_SECRET_KEYS: [&str; 13] = [
    "username",
    "user",
    "host",
    "hostname",
    "port",
    "dbname",
    "database",
    "endpoint",
    "region",
    "bucket",
    "ca.crt",
    "tls.crt",
    "account-name",
];

pub fn check(subject: &Subject, policy: &Policy, out: &mut Findings) {
    for (i, doc, pods) in subject.objects() {
        let secret = is_secret(&doc.value);
        if secret && !policy.secret_data {
            let msg = "a Secret with values, where an external store holds every secret".into();
            out.push(i, Trail::root(), msg, Evidence::None);
        }
        if !policy.secrets.is_empty() && holds(&doc.value, secret, true, policy.secrets) {
            let mut found = Vec::new();
            let mut at = Steps::default();
            scan(&doc.value, secret, &mut at, policy.secrets, &mut found);
            for at in found {
                let msg = "holds a secret value, which belongs only in a Secret's data".into();
                out.push(i, at, msg, Evidence::Secret);
            }
        }
        for pod in pods {
            for c in &pod.containers {
                expansions(c.value, &|| pod.container_at(c), &mut |at, name| {
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

/// A core Secret; a custom resource of that kind holds no secret data in
/// Kubernetes' eyes, and its values are searched like any other.
pub fn is_secret(v: &Value) -> bool {
    v["kind"] == "Secret" && v["apiVersion"] == "v1"
}

/// Whether any string of `v`, keys included, holds a secret, a Secret's
/// own data aside: the quick look every object gets, which keeps no path.
fn holds(v: &Value, secret: bool, top: bool, set: &SecretSet) -> bool {
    match v {
        Value::String(s) => set.found_in(s),
        Value::Mapping(m) => m.iter().any(|(k, v)| {
            let key = k.as_str().unwrap_or_default();
            let data = secret && top && (key == "data" || key == "stringData");
            set.found_in(key) || (!data && holds(v, secret, false, set))
        }),
        Value::Sequence(items) => items.iter().any(|v| holds(v, secret, false, set)),
        Value::Tagged(t) => holds(&t.value, secret, top, set),
        _ => false,
    }
}

/// Every string of `v`, keys included, but a Secret's own data. The path
/// is kept as borrowed steps, and written out only where a secret is.
fn scan<'v>(
    v: &'v Value,
    secret: bool,
    at: &mut Steps<'v>,
    set: &SecretSet,
    found: &mut Vec<Trail>,
) {
    match v {
        Value::String(s) if set.found_in(s) => found.push(at.trail(&[])),
        Value::Mapping(m) => {
            for (k, v) in m {
                let key = k.as_str().unwrap_or_default();
                if set.found_in(key) {
                    found.push(at.trail(&[Step::Key(key)]));
                }
                if secret && at.is_empty() && (key == "data" || key == "stringData") {
                    continue;
                }
                at.push(Step::Key(key));
                scan(v, secret, at, set, found);
                at.pop();
            }
        }
        Value::Sequence(items) => {
            for (j, v) in items.iter().enumerate() {
                at.push(Step::Index(j));
                scan(v, secret, at, set, found);
                at.pop();
            }
        }
        Value::Tagged(t) => scan(&t.value, secret, at, set, found),
        _ => {}
    }
}

/// `$(NAME)` in a container's command and args where NAME is an env var
/// that holds a Secret's value.
fn expansions(c: &Value, at: &dyn Fn() -> Trail, found: &mut dyn FnMut(Trail, &str)) {
    let from_secret = secret_vars(c);
    let any_secret_env_from = c["envFrom"]
        .as_sequence()
        .into_iter()
        .flatten()
        .any(|e| !e["secretRef"].is_null());
    for list in ["command", "args"] {
        for (j, arg) in c[list].as_sequence().into_iter().flatten().enumerate() {
            for name in referenced(arg.as_str().unwrap_or_default()) {
                if from_secret.contains(&name) || any_secret_env_from {
                    found(at().key(list).index(j), name);
                }
            }
        }
    }
}

/// The env vars that hold a Secret's value: read from one, or written as
/// a value that references one listed before it, which the kubelet
/// expands (`X: "$(PASSWORD)"`).
fn secret_vars(c: &Value) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for e in c["env"].as_sequence().into_iter().flatten() {
        let Some(name) = e["name"].as_str() else {
            continue;
        };
        let from_secret = !e["valueFrom"]["secretKeyRef"].is_null();
        let via = referenced(e["value"].as_str().unwrap_or_default());
        if from_secret || via.iter().any(|v| out.contains(v)) {
            out.push(name);
        }
    }
    out
}

/// The names `$(NAME)` references, as the kubelet expands them: `$$`
/// escapes a dollar.
pub fn referenced(arg: &str) -> Vec<&str> {
    let mut out = Vec::new();
    // Most arguments (whole scripts among them) reference nothing.
    if !arg.contains("$(") {
        return out;
    }
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

/// The values a stream's own Secrets hold, decoded: what `mlk validate`
/// and `mlk diff` look for, when no render told them.
pub fn stream_secrets<'a>(objects: impl IntoIterator<Item = &'a Value>) -> SecretSet {
    let mut values = Vec::new();
    for d in objects.into_iter().filter(|d| is_secret(d)) {
        for (field, encoded) in [("data", true), ("stringData", false)] {
            let Some(m) = d[field].as_mapping() else {
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
    use super::{referenced, secret_vars};
    use crate::manifest::Value;

    #[test]
    fn references_are_read_as_the_kubelet_reads_them() {
        assert_eq!(referenced("$(A) x $(B_C)"), ["A", "B_C"]);
        assert_eq!(referenced("$$(A) $(B"), Vec::<&str>::new());
        assert_eq!(referenced("--pw=$(PW)"), ["PW"]);
    }

    #[test]
    fn a_variable_that_expands_a_secret_holds_it() {
        let c: Value = serde_yaml::from_str(
            "env:\n- {name: B, value: '$(PW)'}\n- {name: PW, valueFrom: {secretKeyRef: {name: s, key: k}}}\n- {name: X, value: 'a$(PW)'}\n- {name: Y, value: '$(X)'}\n- {name: Z, value: '$$(PW)'}\n",
        )
        .unwrap();
        // B comes before PW, so the kubelet leaves `$(PW)` as written.
        assert_eq!(secret_vars(&c), ["PW", "X", "Y"]);
    }
}
