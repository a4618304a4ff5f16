//! The one gate every rendered platform passes before it is printed, and
//! that `mlk validate` puts in front of any manifest stream. It
//! reads the final list of objects only: it neither knows nor cares which
//! stage, feature or patch produced an object, so a new feature is held to
//! the same guarantees the day it is written.
//!
//! Each guarantee is one check over the objects:
//! - `identity`: patches change no object's apiVersion, kind, name or
//!   namespace, add or remove none, leave Secrets alone, and leave the
//!   fields through which an object reaches out as mlk wrote them
//!   (`frozen`);
//! - `secrets`: no secret value outside a Secret's data, and no argument
//!   that makes Kubernetes expand a secret into a process's argv;
//! - `credentials`: a variable that sends its value to a host the spec
//!   names reads none of the platform's other secrets;
//! - `pod_security`: every pod, CRDs' included, meets `restricted`;
//! - `namespace`: the Namespace enforces a level no label can lower;
//! - `mlflow_server`: the tracking server keeps its protections;
//! - `oidc`: single sign-on speaks https to the provider and back, with
//!   `Secure` cookies and a client secret read from a Secret;
//! - `annotations`: a front door's annotations are known to be safe;
//! - `disk`: every container and emptyDir has a bound on the node's disk.

mod annotations;
mod credentials;
mod disk;
mod frozen;
mod identity;
mod mlflow_server;
mod namespace;
mod oidc;
pub mod pod_security;
pub mod pods;
mod secrets;

use std::collections::BTreeSet;

pub use identity::Snapshot;
pub use pod_security::Level;
pub use pods::{PodView, pods};
pub use secrets::stream_secrets;

use crate::field_path::Trail;
use crate::manifest::Document;
use crate::sensitive::SecretSet;

/// What the gate is given besides the objects.
pub struct Policy<'a> {
    /// Every secret value the objects must not show outside Secrets.
    pub secrets: &'a SecretSet,
    /// The objects as they were before the spec's patches, when patches
    /// could change them.
    pub before_patches: Option<&'a Snapshot>,
    /// Annotation keys the person running mlk allowed on a front door
    /// (`--allow-annotation`); a spec cannot add to them.
    pub allowed_annotations: &'a BTreeSet<String>,
    /// Whether the output may hold Secrets with values at all: not when
    /// an external store holds them (GitOps repositories keep none).
    pub secret_data: bool,
    /// The Pod Security level every pod meets and a Namespace enforces at
    /// least: `restricted` for a render; what `mlk validate
    /// --pod-security` asks for a stream from elsewhere.
    pub pod_security: Level,
    /// Whether the OIDC provider and redirect may be plain http
    /// (`--allow-insecure-issuer`, for a test's provider on loopback).
    pub insecure_issuer: bool,
}

/// One broken guarantee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    /// The object's index in the list.
    pub object: usize,
    /// `kind/namespace/name`.
    pub id: String,
    pub at: Trail,
    pub message: String,
    /// What a spec would have written to cause it (a flag, a key, a
    /// container's name), to find where; `Secret` when a secret value
    /// was found, which is never shown.
    pub evidence: Evidence,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    None,
    Text(String),
    /// The value held a secret: look for the field whose value holds one.
    Secret,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.id, self.at, self.message)
    }
}

/// The findings of every check, each tagged with the check that made it.
pub struct Findings<'d> {
    docs: &'d [Document],
    check: &'static str,
    list: Vec<Finding>,
}

impl Findings<'_> {
    pub fn push(&mut self, object: usize, at: Trail, message: String, evidence: Evidence) {
        let id = self.docs[object].id();
        self.push_as(object, id, at, message, evidence);
    }

    /// As `push`, for an object known by another identity than it now
    /// has (the one it had before a patch changed it).
    pub fn push_as(
        &mut self,
        object: usize,
        id: String,
        at: Trail,
        message: String,
        evidence: Evidence,
    ) {
        self.list.push(Finding {
            check: self.check,
            object,
            id,
            at,
            message,
            evidence,
        });
    }
}

/// The objects a check reads, and every pod in each, found once.
pub struct Subject<'d> {
    pub docs: &'d [Document],
    /// `pods[i]`: the pods object `i` runs.
    pub pods: Vec<Vec<PodView<'d>>>,
}

impl<'d> Subject<'d> {
    fn new(docs: &'d [Document]) -> Self {
        Subject {
            docs,
            pods: docs.iter().map(pods).collect(),
        }
    }

    /// Every object with its index and pods.
    pub fn objects(&self) -> impl Iterator<Item = (usize, &'d Document, &[PodView<'d>])> {
        self.docs
            .iter()
            .enumerate()
            .map(|(i, d)| (i, d, self.pods[i].as_slice()))
    }
}

type Check = fn(&Subject, &Policy, &mut Findings);

/// Every check, in the order findings are reported.
const CHECKS: [(&str, Check); 9] = [
    ("identity", identity::check),
    ("secrets", secrets::check),
    ("credentials", credentials::check),
    ("pod_security", pod_security_check),
    ("namespace", namespace::check),
    ("mlflow_server", mlflow_server::check),
    ("oidc", oidc::check),
    ("annotations", annotations::check),
    ("disk", disk::check),
];

/// Every finding about `docs`.
pub fn check(docs: &[Document], policy: &Policy) -> Vec<Finding> {
    let subject = Subject::new(docs);
    let mut findings = Findings {
        docs,
        check: "",
        list: Vec::new(),
    };
    for (name, run) in CHECKS {
        findings.check = name;
        run(&subject, policy, &mut findings);
        // Every later check reads objects by what they are; once one is
        // something else than it was, that is the finding to fix first.
        if name == "identity" && !findings.list.is_empty() {
            break;
        }
    }
    findings.list
}

/// Every pod of every object, at the policy's level.
fn pod_security_check(subject: &Subject, policy: &Policy, out: &mut Findings) {
    for (i, _, pods) in subject.objects() {
        for pod in pods {
            for (at, message) in pod_security::check(pod, policy.pod_security) {
                let evidence = container_name(pod, &at);
                out.push(i, at, message, evidence);
            }
        }
    }
}

/// The name of the container a path lies in: what a spec names it by.
fn container_name(pod: &PodView, at: &Trail) -> Evidence {
    pod.containers
        .iter()
        .filter(|c| !matches!(c.slot, pods::Slot::Spec))
        .filter(|c| at.after(&pod.container_at(c)).is_some())
        .find_map(|c| c.value["name"].as_str())
        .map_or(Evidence::None, |n| Evidence::Text(n.to_owned()))
}
