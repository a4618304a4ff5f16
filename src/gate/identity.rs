//! Identity and shape: what a patch may not change. The objects keep
//! their apiVersion, kind, name and namespace, none is added or removed,
//! and Secrets and ExternalSecrets are not changed at all, so no patch
//! turns an object into another (a RoleBinding to cluster-admin) or
//! carries a Secret's data somewhere it is printed; nor the fields that
//! `frozen` names.

use super::frozen::{self, Frozen};
use super::{Evidence, Findings, Policy, Subject};
use crate::field_path::Trail;
use crate::manifest::{Document, Value};

/// What the gate compares the final objects with: the list as rendered,
/// before the spec's patches.
pub struct Snapshot {
    ids: Vec<[Option<String>; 4]>,
    /// Secrets and ExternalSecrets whole, by index.
    secrets: Vec<(usize, Value)>,
    frozen: Vec<Frozen>,
}

const FIELDS: [&[&str]; 4] = [
    &["apiVersion"],
    &["kind"],
    &["metadata", "name"],
    &["metadata", "namespace"],
];

fn fields(doc: &Document) -> [Option<String>; 4] {
    FIELDS.map(|path| {
        let mut v = &doc.value;
        for k in path {
            v = &v[*k];
        }
        v.as_str().map(str::to_owned)
    })
}

fn unpatchable(doc: &Document) -> bool {
    matches!(doc.kind(), "Secret" | "ExternalSecret")
}

impl Snapshot {
    /// `kind/namespace/name` of object `i` as it was.
    fn id(&self, i: usize) -> String {
        let [_, kind, name, ns] = &self.ids[i];
        let s = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
        match ns {
            Some(ns) => format!("{}/{ns}/{}", s(kind), s(name)),
            None => format!("{}/{}", s(kind), s(name)),
        }
    }

    pub fn take(docs: &[Document]) -> Snapshot {
        Snapshot {
            ids: docs.iter().map(fields).collect(),
            secrets: docs
                .iter()
                .enumerate()
                .filter(|(_, d)| unpatchable(d))
                .map(|(i, d)| (i, d.value.clone()))
                .collect(),
            frozen: docs
                .iter()
                .enumerate()
                .flat_map(|(i, d)| frozen::take(i, d))
                .collect(),
        }
    }
}

pub fn check(subject: &Subject, policy: &Policy, out: &mut Findings) {
    let Some(before) = policy.before_patches else {
        return;
    };
    let docs = subject.docs;
    if docs.len() != before.ids.len() {
        // Patches work inside one object each; a count that moved is a bug.
        let at = Trail::root();
        let msg = format!(
            "the platform has {} objects after the patches, {} before: patches may not add or \
             remove objects",
            docs.len(),
            before.ids.len()
        );
        out.push(0, at, msg, Evidence::None);
        return;
    }
    for (i, doc) in docs.iter().enumerate() {
        let now = fields(doc);
        let moved: Vec<usize> = (0..FIELDS.len())
            .filter(|j| now[*j] != before.ids[i][*j])
            .collect();
        let Some(first) = moved.first() else { continue };
        let at = FIELDS[*first].iter().fold(Trail::root(), |t, k| t.key(k));
        let was: Vec<String> = moved
            .iter()
            .map(|j| {
                let field = FIELDS[*j].join(".");
                let old = before.ids[i][*j].as_deref().unwrap_or("(unset)");
                format!("{field} was {old:?}")
            })
            .collect();
        let msg = format!(
            "{}: a patch may not change what an object is",
            was.join(", ")
        );
        out.push_as(i, before.id(i), at, msg, Evidence::None);
    }
    for (i, value) in &before.secrets {
        if docs[*i].value != *value {
            let msg = format!(
                "a {} cannot be patched: set its values through the spec's secret sources",
                docs[*i].kind()
            );
            out.push_as(*i, before.id(*i), Trail::root(), msg, Evidence::None);
        }
    }
    for (i, at, msg) in frozen::changed(&before.frozen, docs) {
        out.push_as(i, before.id(i), at, msg, Evidence::None);
    }
}
