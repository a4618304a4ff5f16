//! A credential goes only where it is for. Some variables send their
//! value to a host the spec names (the OIDC client secret goes to the
//! issuer's token endpoint): such a variable may read a Secret the
//! platform renders only at the key mlk bound for it there, never
//! another of the platform's secrets (the database's password, the
//! session key), which would then leave for that host.

use std::collections::BTreeSet;

use super::{Evidence, Findings, Policy, Subject};
use crate::manifest::Value;

/// Each variable that sends its value away, and the one key of a
/// platform Secret it may read.
const SENT_AWAY: [(&str, &str); 1] = [("OIDC_CLIENT_SECRET", "oidc-client-secret")];

pub fn check(subject: &Subject, _: &Policy, out: &mut Findings) {
    let own = platform_secrets(subject);
    for (i, _, pods) in subject.objects() {
        for pod in pods {
            for c in &pod.containers {
                let env = c.value["env"].as_sequence().into_iter().flatten();
                for (j, e) in env.enumerate() {
                    let Some((var, key)) = SENT_AWAY.iter().find(|(v, _)| e["name"] == *v) else {
                        continue;
                    };
                    let from = &e["valueFrom"]["secretKeyRef"];
                    let (Some(name), Some(read)) = (from["name"].as_str(), from["key"].as_str())
                    else {
                        continue;
                    };
                    if own.contains(name) && read != *key {
                        let at = pod.container_at(c).key("env").index(j).key("valueFrom");
                        let msg = format!(
                            "{var} is sent to a host the spec names, and reads {name}/{read}, \
                             another of the platform's own secrets: name a Secret of its own"
                        );
                        out.push(i, at, msg, Evidence::None);
                    }
                }
            }
        }
    }
}

/// The Secrets the stream makes: its own (core `v1` Secrets; a custom
/// resource of that kind holds none), and those ExternalSecrets write.
fn platform_secrets<'d>(subject: &Subject<'d>) -> BTreeSet<&'d str> {
    let mut names = BTreeSet::new();
    for (_, doc, _) in subject.objects() {
        let v: &Value = &doc.value;
        let group = v["apiVersion"].as_str().unwrap_or_default();
        let name = match v["kind"].as_str() {
            Some("Secret") if super::secrets::is_secret(v) => v["metadata"]["name"].as_str(),
            Some("ExternalSecret") if group.starts_with("external-secrets.io/") => {
                v["spec"]["target"]["name"]
                    .as_str()
                    .or(v["metadata"]["name"].as_str())
            }
            _ => None,
        };
        names.extend(name);
    }
    names
}
