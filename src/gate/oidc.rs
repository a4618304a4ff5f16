//! Single sign-on keeps what `tracking.auth.oidc` promises, whatever
//! produced the container: the identity provider and the redirect back
//! are https, so tokens and the client secret never cross the network in
//! clear (unless the person running mlk said `--allow-insecure-issuer`,
//! for a test's provider on loopback); a session cookie behind an https
//! redirect is `Secure`; and the client secret is read from a Secret,
//! never written into the pod's spec.

use super::{Evidence, Findings, Policy, Subject};
use crate::field_path::Trail;
use crate::manifest::Value;

/// The OIDC plugin's variables that name where it sends a login.
const ENDPOINTS: [&str; 2] = ["OIDC_DISCOVERY_URL", "OIDC_REDIRECT_URI"];

/// One container's variables, and where they lie.
struct Env<'v> {
    list: Vec<&'v Value>,
    at: Trail,
}

impl<'v> Env<'v> {
    /// The index and written-out value of `name`'s last entry, which
    /// Kubernetes keeps.
    fn get(&self, name: &str) -> Option<(usize, Option<&'v str>)> {
        let j = self.list.iter().rposition(|e| e["name"] == name)?;
        Some((j, self.list[j]["value"].as_str()))
    }
}

pub fn check(subject: &Subject, policy: &Policy, out: &mut Findings) {
    for (i, _, pods) in subject.objects() {
        for pod in pods {
            for c in &pod.containers {
                let env = Env {
                    list: c.value["env"].as_sequence().into_iter().flatten().collect(),
                    at: pod.container_at(c).key("env"),
                };
                let mut push = |at: Trail, msg: String, name: &str| {
                    out.push(i, at, msg, Evidence::Text(name.into()));
                };
                endpoints(&env, policy, &mut push);
                cookie(&env, &mut push);
                client_secret(&env, &mut push);
            }
        }
    }
}

type Push<'p> = dyn FnMut(Trail, String, &str) + 'p;

fn endpoints(env: &Env, policy: &Policy, push: &mut Push) {
    for name in ENDPOINTS {
        let Some((j, v)) = env.get(name) else {
            continue;
        };
        let https = v.is_some_and(|v| v.starts_with("https://"));
        let http = v.is_some_and(|v| v.starts_with("http://"));
        if !(https || http && policy.insecure_issuer) {
            let msg = format!(
                "{name} must be an https URL, written out: logins and the client secret would \
                 cross the network in clear (--allow-insecure-issuer lets a test use http)"
            );
            push(env.at.index(j).key("value"), msg, name);
        }
    }
}

fn cookie(env: &Env, push: &mut Push) {
    let redirect = env.get("OIDC_REDIRECT_URI").and_then(|(_, v)| v);
    if !redirect.is_some_and(|r| r.starts_with("https://")) {
        return;
    }
    let secure = env.get("SESSION_COOKIE_SECURE");
    if secure.is_none_or(|(_, v)| v != Some("true")) {
        let msg = "SESSION_COOKIE_SECURE must be \"true\" behind an https redirect: the \
                   session cookie would also go over http"
            .to_owned();
        let at = secure.map_or(env.at.clone(), |(j, _)| env.at.index(j));
        push(at, msg, "SESSION_COOKIE_SECURE");
    }
}

fn client_secret(env: &Env, push: &mut Push) {
    let Some((j, _)) = env.get("OIDC_CLIENT_SECRET") else {
        return;
    };
    if env.list[j]["valueFrom"]["secretKeyRef"].is_null() {
        let msg = "OIDC_CLIENT_SECRET must be read from a Secret (valueFrom.secretKeyRef): \
                   anyone who can read the pod would read it"
            .to_owned();
        push(env.at.index(j), msg, "OIDC_CLIENT_SECRET");
    }
}
