//! Stage 6: every document is checked before anything is printed.

mod typed;

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::manifest::Document;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `kind/namespace/name`.
    pub object: String,
    /// Where in the object, as a JSON path (`spec.replicas`).
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.object, self.path, self.message)
    }
}

pub fn validate(docs: &[Document]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for doc in docs {
        let id = doc.id();
        if !seen.insert(id.clone()) {
            problems.push(Problem {
                object: id.clone(),
                path: "metadata.name".into(),
                message: "another object has the same kind, namespace and name".into(),
            });
        }
        problems.extend(typed::check(doc));
    }
    problems
}
