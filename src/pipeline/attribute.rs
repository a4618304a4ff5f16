//! Names, for each guarantee the gate found broken, the place in the spec
//! that broke it: the patch that wrote the field (and the field within
//! the patch), else the spec field that holds what the gate saw (a flag,
//! an annotation key, a container's name, a secret value). The gate's
//! decisions never depend on this; it only says where to look.

use crate::field_path::{Seg, Trail};
use crate::gate::{Evidence, Finding};
use crate::layers::Merged;
use crate::located::{Located, path_key};
use crate::patches::Touch;
use crate::problems::Problems;
use crate::sensitive::SecretSet;

pub struct Sources<'a> {
    pub merged: &'a Merged,
    pub touched: &'a [Touch],
    pub secrets: &'a SecretSet,
}

/// The gate's findings as errors, each placed where it was written.
pub fn refuse(findings: &[Finding], sources: &Sources) -> Problems {
    let mut out: Vec<Located> = Vec::new();
    for f in findings {
        let placed = match by_patch(f, sources).or_else(|| by_evidence(f, sources)) {
            Some(path) => {
                let msg = format!("{}: {}: {}", f.id, f.at, f.message);
                sources
                    .merged
                    .locate(Located::new("spec", Some(&path), msg))
            }
            None => Located::new(
                "the rendered platform",
                None,
                format!("{f}; mlk rendered this itself, which is a bug in mlk"),
            ),
        };
        if !out.contains(&placed) {
            out.push(placed);
        }
    }
    Problems(out)
}

/// The last patch that changed a field the finding lies in, or in it.
fn by_patch(f: &Finding, s: &Sources) -> Option<String> {
    let touch = s
        .touched
        .iter()
        .filter(|t| t.object == f.object)
        .rfind(|t| t.fields.iter().any(|field| field.related(&f.at)))?;
    let mut path = format!("patches[{}].{}", touch.patch, touch.part);
    if touch.part == "merge" {
        let merge = s.merged.spec.patches[touch.patch].merge.as_ref()?;
        path.push_str(&within_json(merge, &f.at));
    }
    Some(path)
}

/// The finding's path as deep as the merge patch itself goes.
fn within_json(mut v: &serde_json::Value, at: &Trail) -> String {
    let mut out = String::new();
    for seg in at.segs() {
        match seg {
            Seg::Key(k) => match v.get(k.as_str()) {
                Some(next) => {
                    out.push('.');
                    out.push_str(&path_key(k));
                    v = next;
                }
                None => break,
            },
            Seg::Index(i) => match v.get(*i) {
                Some(next) => {
                    out.push_str(&format!("[{i}]"));
                    v = next;
                }
                None => break,
            },
        }
    }
    out
}

/// The spec field that holds what the gate saw.
fn by_evidence(f: &Finding, s: &Sources) -> Option<String> {
    let mut found = Vec::new();
    let matches = |key: Option<&str>, value: Option<&str>| match &f.evidence {
        Evidence::None => false,
        Evidence::Text(t) => {
            let expansion = t.starts_with("$(");
            let same = |v: &str| v == t || (expansion && v.contains(t.as_str()));
            key == Some(t.as_str()) || value.is_some_and(same)
        }
        Evidence::Secret => {
            key.is_some_and(|k| s.secrets.found_in(k))
                || value.is_some_and(|v| s.secrets.found_in(v))
        }
    };
    walk(&s.merged.value, &mut String::new(), &matches, &mut found);
    if f.check == "pod_security" {
        // A container's name stands for a container a spec wrote, never
        // for a value that happens to be spelled the same.
        found.retain(|p| p.ends_with(".name") && p.contains("ontainers["));
    }
    let preferred = section(&f.id);
    let best = found
        .iter()
        .find(|p| preferred.is_some_and(|sec| p.starts_with(sec)))
        .or(found.first())?;
    match f.check {
        "pod_security" => Some(inside_container(best, &f.at)),
        _ => Some(best.clone()),
    }
}

/// The spec section an object's kind is written in, when there is one.
fn section(id: &str) -> Option<&'static str> {
    let kind = id.split('/').next().unwrap_or_default();
    match kind {
        "Ingress" => Some("ingress."),
        "HTTPRoute" => Some("gateway."),
        "InferenceService" => Some("serving."),
        "Namespace" => Some("metadata."),
        _ if id.contains("tracking") => Some("tracking."),
        _ => None,
    }
}

/// A container found by its name stands for the container: the rest of
/// the finding's path is appended to it.
fn inside_container(path: &str, at: &Trail) -> String {
    let Some(container) = path.strip_suffix(".name") else {
        return path.to_owned();
    };
    let segs = at.segs();
    let start = segs.iter().enumerate().rev().find_map(|(i, s)| match s {
        Seg::Key(k)
            if k.ends_with("ontainers") && matches!(segs.get(i + 1), Some(Seg::Index(_))) =>
        {
            Some(i + 2)
        }
        _ => None,
    });
    let mut out = container.to_owned();
    for seg in start.map_or(&[][..], |i| &segs[i..]) {
        match seg {
            Seg::Key(k) => {
                out.push('.');
                out.push_str(&path_key(k));
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Every spec field whose key or value matches, in the spec's order. A
/// secret written in the spec (`{value: ...}`) is where a secret belongs,
/// not where it leaked from.
fn walk(
    v: &serde_yaml::Value,
    at: &mut String,
    matches: &dyn Fn(Option<&str>, Option<&str>) -> bool,
    found: &mut Vec<String>,
) {
    match v {
        serde_yaml::Value::Mapping(m) => {
            let literal_secret = m.len() == 1 && m.contains_key("value");
            for (k, child) in m {
                let key = k.as_str().unwrap_or_default();
                if literal_secret {
                    continue;
                }
                let len = at.len();
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(&path_key(key));
                if matches(Some(key), child.as_str()) {
                    found.push(at.clone());
                }
                walk(child, at, matches, found);
                at.truncate(len);
            }
        }
        serde_yaml::Value::Sequence(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("[{i}]"));
                if matches(None, child.as_str()) {
                    found.push(at.clone());
                }
                walk(child, at, matches, found);
                at.truncate(len);
            }
        }
        _ => {}
    }
}
