//! No module of `src/` depends on a sibling that depends on it again,
//! through any number of steps: the modules of each folder form a graph
//! without cycles, so each can be read, changed and tested from the
//! bottom up. Edges are read from every `crate::` and `super::` path in
//! the source; a module's use of its own parent (the items its `mod.rs`
//! defines) or of its own children is no edge between siblings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

fn modules(dir: &Path, prefix: &Module, out: &mut BTreeMap<Module, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            let mut m = prefix.clone();
            m.push(name);
            modules(&path, &m, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut m = prefix.clone();
            if !["mod", "lib", "main"].contains(&name.as_str()) {
                m.push(name);
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Unit tests may reach anywhere.
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            out.entry(m).or_default().push_str(text);
        }
    }
}

/// The paths a source names after `crate::` and `super::`, with `super`
/// resolved against `module` (whose parent is `super`).
fn references(module: &Module, text: &str) -> Vec<Module> {
    let mut out = Vec::new();
    for (start, base) in [("crate::", Vec::new()), ("super::", parent(module))] {
        for (i, _) in text.match_indices(start) {
            // `super::super::x` counts from its first `super`.
            if start == "super::" && text[..i].ends_with("super::") {
                continue;
            }
            let mut base = base.clone();
            let mut rest = &text[i + start.len()..];
            while let Some(r) = rest.strip_prefix("super::") {
                base = parent(&base);
                rest = r;
            }
            for path in paths(rest) {
                let mut m = base.clone();
                m.extend(path);
                out.push(m);
            }
        }
    }
    out
}

fn parent(m: &Module) -> Module {
    m[..m.len().saturating_sub(1)].to_vec()
}

/// `a::b::C`, or each path of `{a, b::c}`.
fn paths(rest: &str) -> Vec<Vec<String>> {
    let ident = |s: &str| -> Vec<String> {
        s.split("::")
            .map(|p| {
                p.trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .take_while(|p| !p.is_empty())
            .collect()
    };
    match rest.strip_prefix('{') {
        Some(group) => group[..group.find('}').unwrap_or(0)]
            .split(',')
            .map(ident)
            .collect(),
        None => vec![ident(rest)],
    }
}

/// The deepest module `path` names.
fn resolve(path: &Module, known: &BTreeMap<Module, String>) -> Option<Module> {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|m| known.contains_key(m))
}

/// For each folder, the edges between its modules.
fn sibling_edges(known: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<(String, String)>> {
    let mut edges: BTreeMap<Module, BTreeSet<(String, String)>> = BTreeMap::new();
    for (from, text) in known {
        for r in references(from, text) {
            let Some(to) = resolve(&r, known) else {
                continue;
            };
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common < from.len() && common < to.len() {
                let folder = from[..common].to_vec();
                edges
                    .entry(folder)
                    .or_default()
                    .insert((from[common].clone(), to[common].clone()));
            }
        }
    }
    edges
}

/// Modules that reach themselves again, each cycle once.
fn cycles(edges: &BTreeSet<(String, String)>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = edges.iter().flat_map(|(a, b)| [a, b]).collect();
    let reaches = |from: &String, to: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(n) = stack.pop() {
            for (_, next) in edges.iter().filter(|(a, _)| a == n) {
                if next == to {
                    return true;
                }
                if seen.insert(next) {
                    stack.push(next);
                }
            }
        }
        false
    };
    let mut found: Vec<Vec<String>> = Vec::new();
    for n in &nodes {
        if found.iter().any(|c| c.contains(n)) || !reaches(n, n) {
            continue;
        }
        let mut cycle: Vec<String> = nodes
            .iter()
            .filter(|m| reaches(n, m) && reaches(m, n))
            .map(|m| (*m).clone())
            .collect();
        cycle.sort();
        found.push(cycle);
    }
    found
}

#[test]
fn no_module_depends_on_a_sibling_that_depends_on_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut known = BTreeMap::new();
    modules(&src, &Vec::new(), &mut known);
    let mut wrong = Vec::new();
    for (folder, edges) in sibling_edges(&known) {
        for cycle in cycles(&edges) {
            let at = if folder.is_empty() {
                "src".to_owned()
            } else {
                format!("src/{}", folder.join("/"))
            };
            wrong.push(format!("{at}: {}", cycle.join(" <-> ")));
        }
    }
    assert!(wrong.is_empty(), "import cycles:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_a_cycle() {
    let edges: BTreeSet<(String, String)> = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    assert_eq!(cycles(&edges), vec![vec!["a", "b", "c"]]);
    let m = |s: &str| s.split('/').map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        references(
            &m("context/tracking"),
            "use super::{stores::S3Access, naming};"
        ),
        vec![m("context/stores/S3Access"), m("context/naming")]
    );
}
