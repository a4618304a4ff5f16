//! The pipeline's stages depend one way: each may use the foundation, the
//! checker and the stages before it, never one after it; the checker
//! behind `mlk validate` uses only the foundation, so it is reusable
//! without the renderer. Read from every `crate::` path in `src/`.

use std::collections::BTreeSet;
use std::path::Path;

/// Modules every other may use; they use only each other.
const FOUNDATION: &[&str] = &[
    "bounds",
    "external",
    "field_path",
    "htpasswd",
    "located",
    "lock",
    "messages",
    "mlflow",
    "problems",
    "registry",
    "sensitive",
    "spec",
    "spec_files",
    "suggest",
    "types",
];
/// What `mlk validate` is made of; uses only itself and the foundation.
const CHECKER: &[&str] = &[
    "yaml11",
    "manifest",
    "validate",
    "gate",
    "checksums",
    "diff",
];
/// The render pipeline, in order.
const STAGES: &[&str] = &[
    "layers", "resolve", "context", "render", "pod_mut", "pod_wide", "disk", "patches", "emit",
];
/// Tie the rest together; may use anything.
const TOP: &[&str] = &["pipeline", "cli", "lib", "main"];

fn module_of(file: &Path, src: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// Top-level modules named by `crate::x` and `crate::{x, y::z}`.
fn uses(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group[..group.find('}').unwrap_or(0)]
                .split(',')
                .map(|s| s.trim())
                .collect(),
            None => vec![rest],
        };
        for n in names {
            let name: String = n
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn allowed(from: &str, to: &str) -> bool {
    let stage = |m: &str| STAGES.iter().position(|s| *s == m);
    let is = |list: &[&str], m: &str| list.contains(&m);
    if from == to || is(TOP, from) {
        return true;
    }
    if is(FOUNDATION, from) {
        return is(FOUNDATION, to);
    }
    if is(CHECKER, from) {
        return is(FOUNDATION, to) || is(CHECKER, to);
    }
    match (stage(from), stage(to)) {
        (Some(a), Some(b)) => b < a,
        (Some(_), None) => is(FOUNDATION, to) || is(CHECKER, to),
        _ => false,
    }
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn stages_depend_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let known: Vec<&str> = [FOUNDATION, CHECKER, STAGES, TOP].concat();
    let mut wrong = Vec::new();
    for file in &all {
        let from = module_of(file, &src);
        assert!(
            known.contains(&from.as_str()),
            "{from}: not placed in a layer here"
        );
        let text = std::fs::read_to_string(file).unwrap();
        for to in uses(&text) {
            if !allowed(&from, &to) {
                let shown = file.strip_prefix(&src).unwrap().display();
                wrong.push(format!("src/{shown}: {from} uses {to}"));
            }
        }
    }
    assert!(wrong.is_empty(), "backward imports:\n{}", wrong.join("\n"));
}

#[test]
fn the_rule_catches_a_backward_import() {
    assert!(!allowed("layers", "resolve"));
    assert!(!allowed("manifest", "render"));
    assert!(!allowed("validate", "resolve"));
    assert!(!allowed("spec", "layers"));
    assert!(allowed("context", "resolve"));
    assert_eq!(
        uses("use crate::{checksums, render::X};"),
        ["checksums", "render"].map(String::from).into()
    );
}
