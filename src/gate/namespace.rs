//! The Namespace's own Pod Security. A Namespace in the stream enforces
//! `restricted` when every pod in it is written in the stream; where
//! KServe adds containers of its own (the storage initializer, Knative's
//! queue proxy), which the stream cannot vouch for, `baseline` at least.
//! Its `-version` labels pin nothing older than the running release. No
//! label or patch lowers either.

use super::{Evidence, Findings, Level, Policy, Subject};
use crate::field_path::Trail;

const PREFIX: &str = "pod-security.kubernetes.io/";

pub fn check(subject: &Subject, policy: &Policy, out: &mut Findings) {
    let docs = subject.docs;
    for (i, doc) in docs.iter().enumerate() {
        if doc.kind() != "Namespace" {
            continue;
        }
        let name = doc.name();
        let injected = docs
            .iter()
            .any(|d| d.kind() == "InferenceService" && d.namespace().is_none_or(|ns| ns == name));
        let (least, why) = match injected {
            true => (
                Level::Baseline,
                "KServe adds containers to predictor pods, so at least baseline",
            ),
            false => (Level::Restricted, "every pod in it is the platform's own"),
        };
        // A stream checked at a lower level (`mlk validate --pod-security`)
        // asks no more of its Namespaces.
        let (least, why) = match policy.pod_security < least {
            true => (policy.pod_security, "the level asked for"),
            false => (least, why),
        };
        let labels = &doc.value["metadata"]["labels"];
        let at = |key: &str| Trail::root().key("metadata").key("labels").key(key);
        let enforce = format!("{PREFIX}enforce");
        let given = labels[enforce.as_str()].as_str();
        let lower = given.and_then(Level::parse).is_none_or(|l| l < least);
        if lower && least > Level::Privileged {
            let msg = format!(
                "is {}: the namespace must enforce {} ({why})",
                given.map_or("unset".to_owned(), |g| format!("{g:?}")),
                least.name()
            );
            out.push(i, at(&enforce), msg, Evidence::Text(enforce.clone()));
        }
        for mode in ["enforce", "warn", "audit"] {
            let key = format!("{PREFIX}{mode}-version");
            if let Some(v) = labels[key.as_str()].as_str().filter(|v| *v != "latest") {
                let msg = format!(
                    "pins the {v:?} rules; leave it out, or `latest`, so the running release's \
                     rules apply"
                );
                out.push(i, at(&key), msg, Evidence::Text(key.clone()));
            }
        }
    }
}
