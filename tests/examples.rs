//! The example GitHub Actions workflow holds together: it parses, pins
//! every action to a version, and every mlk command and flag it runs is
//! one mlk has. (actionlint does not install here; this is no substitute
//! for it on GitHub's side.)

mod common;
use common::mlk;

#[test]
fn the_github_workflow_uses_commands_and_flags_mlk_has() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/github-actions.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let steps = doc["jobs"]["mlk"]["steps"].as_sequence().unwrap();
    let mut scripts = vec![doc["env"]["RENDER_FLAGS"].as_str().unwrap().to_owned()];
    for step in steps {
        if let Some(uses) = step["uses"].as_str() {
            let (_, version) = uses.split_once('@').expect("a pinned action");
            assert!(version.starts_with('v'), "{uses}");
        }
        scripts.extend(step["run"].as_str().map(str::to_owned));
    }
    let mut seen = 0;
    for line in scripts.iter().flat_map(|s| s.lines()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            let sub = match (*w, words.get(i + 1)) {
                ("mlk", Some(sub)) => *sub,
                ("--profile", _) | ("--allow-dev-secrets", _) | ("--omit-secrets", _) => "render",
                _ => continue,
            };
            let help = mlk(&[sub, "--help"]).run().ok().stdout;
            let flags = words[i..]
                .iter()
                .take_while(|w| !["|", ">", ">>", "&&", ")"].contains(w))
                .filter(|w| w.starts_with("--") || (w.starts_with('-') && w.len() == 2));
            for flag in flags {
                assert!(help.contains(flag), "mlk {sub} has no {flag}: {line}");
                seen += 1;
            }
        }
    }
    assert!(seen >= 6, "only {seen} flags checked");
}
