//! Nothing a spec, a lock, a registry or a manifest stream says can make
//! mlk panic: no `panic!`, `unreachable!`, `todo!` or `unimplemented!`
//! outside tests, but for the few listed here, each guarding data mlk
//! builds itself (the compiled-in schemas, its own templates' output).

use std::path::Path;

/// (file, what the panic guards), each checked to be still there.
const ALLOWED: [(&str, &str); 4] = [
    ("src/validate/defs.rs", "a schema build.rs compiled in"),
    ("src/validate/catalog.rs", "a schema build.rs compiled in"),
    (
        "src/emit/yaml.rs",
        "an inline value that only emit itself passes",
    ),
    (
        "src/manifest/tree/mod.rs",
        "IndexMut on a value that is no mapping",
    ),
];

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
fn nothing_outside_tests_panics_on_input() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    files(&root.join("src"), &mut all);
    let mut found = Vec::new();
    for file in all {
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let rel = file.strip_prefix(root).unwrap().display().to_string();
        for (i, line) in code.lines().enumerate() {
            let comment = line.trim_start().starts_with("//");
            let panics = ["panic!(", "unreachable!(", "todo!(", "unimplemented!("]
                .iter()
                .any(|m| line.contains(m));
            if panics && !comment && !ALLOWED.iter().any(|(f, _)| *f == rel) {
                found.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "panics outside tests:\n{}",
        found.join("\n")
    );
}
