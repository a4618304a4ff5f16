//! Stage 6: every document is checked before anything is printed, and
//! `mlk validate` checks any manifest stream the same way:
//! - against its kind's schema (unknown fields, types, required fields,
//!   enums, names, labels, quantities);
//! - for YAML 1.1 traps in its text;
//! - for references between objects that must resolve;
//! - for pod templates that break a Pod Security level.

pub mod catalog;
pub mod defs;
mod format;
mod index;
mod knowledge;
mod network_policy;
mod operators;
mod pods;
mod refs;
pub mod schema;
mod schema_code;
#[cfg(test)]
mod schema_keys;
mod walk;

use foldhash::{HashSet, HashSetExt};
use std::fmt;

use crate::manifest::Value;
use serde::Serialize;

pub use crate::gate::Level;
pub use catalog::{Catalog, KUBE_VERSION, Source};

use crate::manifest::Document;
use crate::types::{Name, Subdomain};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `kind/namespace/name`.
    pub object: String,
    /// Where in the object, as a JSON path (`spec.replicas`).
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(doc: &Document, path: String, message: String) -> Problem {
        Problem {
            object: doc.id(),
            path,
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.object, self.path, self.message)
    }
}

pub use crate::external::External;
pub use crate::field_path::Path;

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub documents: usize,
    pub problems: Vec<Problem>,
    /// Objects of a kind mlk has no schema for.
    pub unchecked: Vec<String>,
    /// References to Secrets and ConfigMaps outside the stream, taken to
    /// exist in the cluster (unless the [`External`] set is complete).
    pub assumed: Vec<Problem>,
}

impl Report {
    pub fn is_valid(&self, strict: bool) -> bool {
        self.problems.is_empty() && (!strict || self.unchecked.is_empty())
    }
}

/// Which checks run: a render runs them all; `mlk validate --checks`
/// picks, so that a file holding part of an application validates on
/// its own (`refs` off). Pod Security is off at `Level::Privileged`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checks {
    /// Each object against its kind's schema, its identity, duplicates.
    pub schema: bool,
    /// Plain scalars that YAML 1.1 reads as another type.
    pub yaml: bool,
    /// References between objects: selectors, Secrets, ConfigMaps, ports.
    pub refs: bool,
}

impl Checks {
    pub const ALL: Checks = Checks {
        schema: true,
        yaml: true,
        refs: true,
    };
}

pub fn validate(docs: &[Document], catalog: &Catalog, external: &External, level: Level) -> Report {
    validate_with(docs, catalog, external, level, Checks::ALL)
}

pub fn validate_with(
    docs: &[Document],
    catalog: &Catalog,
    external: &External,
    level: Level,
    checks: Checks,
) -> Report {
    let mut report = Report {
        documents: docs.len(),
        ..Report::default()
    };
    let mut seen = HashSet::with_capacity(docs.len());
    let mut index = index::Builder::default();
    for doc in docs {
        let id = doc.id();
        // Kubernetes tells objects apart by API group too: policy/v1's
        // Eviction is not lifecycle.k8s.io's, but v1 and v1beta1 of one
        // group are one object, and so are core and events.k8s.io Events.
        let group = match doc.api_version().rsplit_once('/').map_or("", |(g, _)| g) {
            "events.k8s.io" if doc.kind() == "Event" => "",
            g => g,
        };
        if checks.schema && !seen.insert((group.to_owned(), id.clone())) {
            let msg = "another object has the same kind, namespace and name".to_owned();
            report
                .problems
                .push(Problem::new(doc, "metadata.name".into(), msg));
        }
        for t in doc.traps.iter().filter(|_| checks.yaml) {
            let p = Problem::new(doc, t.path.clone(), trap_message(doc, t));
            report.problems.push(p);
        }
        if checks.schema {
            report.problems.extend(identity(doc));
        }
        match schema_of(doc, catalog).filter(|_| checks.schema) {
            Some(root) => {
                let mut w = walk::Walker::new(catalog.defs());
                w.check(&doc.value, root);
                let found = w.found.into_iter();
                report
                    .problems
                    .extend(found.map(|(p, m)| Problem::new(doc, p, m)));
            }
            None if checks.schema => report.unchecked.push(id),
            None => {}
        }
        let pods = match level {
            Level::Privileged => Vec::new(),
            _ => crate::gate::pods(doc),
        };
        for pod in pods {
            let found = crate::gate::pod_security::check(&pod, level).into_iter();
            report
                .problems
                .extend(found.map(|(p, m)| Problem::new(doc, p.to_string(), m)));
        }
        let pod = pods::template_of(doc);
        // Indexed now, while the object is at hand: a large stream is
        // read once.
        index.add(doc, pod);
    }
    if checks.refs {
        let index = index.finish();
        let (problems, assumed) = refs::check(docs, &index, external);
        report.problems.extend(problems);
        report.assumed = assumed;
    }
    report
}

/// A trap in a Secret's data is reported without its value: that value
/// is a secret.
fn trap_message(doc: &Document, trap: &crate::yaml11::Trap) -> String {
    let secret_value = ["data.", "stringData."]
        .iter()
        .any(|p| trap.path.starts_with(p));
    if doc.kind() == "Secret" && secret_value {
        return "a plain scalar that Kubernetes (YAML 1.1) reads as another type than YAML 1.2 \
                tools do; quote it (the value is not shown: it is a secret)"
            .to_owned();
    }
    trap.message.clone()
}

fn schema_of<'a>(doc: &Document, catalog: &'a Catalog) -> Option<&'a schema::Schema> {
    let api = doc.value.get("apiVersion").and_then(Value::as_str)?;
    Some(&catalog.lookup(api, doc.kind())?.root)
}

/// apiVersion, kind, and a name of the syntax the kind requires.
fn identity(doc: &Document) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut report = |path: &str, msg: String| out.push(Problem::new(doc, path.into(), msg));
    for field in ["apiVersion", "kind"] {
        if !doc.value.get(field).is_some_and(Value::is_string) {
            report(field, "required field is missing".into());
        }
    }
    let meta = &doc.value["metadata"];
    let name = meta["name"].as_str();
    match (name, meta["generateName"].as_str()) {
        (None, None) => report("metadata.name", "required field is missing".into()),
        (Some(n), _) => {
            if let Some(e) = name_error(doc.kind(), n) {
                report("metadata.name", e);
            }
        }
        _ => {}
    }
    if let Some(Err(e)) = meta["namespace"].as_str().map(Name::check) {
        report("metadata.namespace", e);
    }
    out
}

/// Services and Namespaces take DNS labels (a Service's must start with
/// a letter: RFC 1035); most other kinds take DNS subdomains.
fn name_error(kind: &str, name: &str) -> Option<String> {
    match kind {
        "Service" if name.starts_with(|c: char| c.is_ascii_digit()) => Some(format!(
            "{name:?} must start with a letter (a Service name is a DNS-1035 label)"
        )),
        "Service" | "Namespace" => Name::check(name).err(),
        _ => Subdomain::check(name).err(),
    }
}
