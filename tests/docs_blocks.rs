//! Every `sh` and `yaml` block of the README and of docs/ is run or
//! rendered:
//! - a yaml block parses; a spec renders (`fromEnv` variables set and
//!   allowed); a Kubernetes object passes `mlk validate --checks
//!   schema,yaml`; anything else (a workflow, a pre-commit config) parses;
//! - an sh block passes `bash -n`, and each `mlk` command in it runs in a
//!   folder holding the files the docs name (platform.yaml, out.yaml,
//!   deploy/, crds/): it must be accepted, and succeed (`mlk diff` may
//!   report changes). The other commands need a cluster or a store.
//!
//! The README's length and its first screen are held here too.

mod common;
use common::fake_registry::{champion, registry};
use common::mlk;

use serde_yaml::Value;
use std::path::{Path, PathBuf};

#[derive(Clone)]
struct Block {
    at: String,
    lang: String,
    text: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// Every fenced block, with its language and `file:line`.
fn blocks() -> Vec<Block> {
    let mut out = Vec::new();
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        let mut open: Option<(usize, String, String)> = None;
        for (n, line) in text.lines().enumerate() {
            match (&mut open, line.trim_start().strip_prefix("```")) {
                (None, Some(lang)) => open = Some((n + 1, lang.trim().to_owned(), String::new())),
                (Some(_), Some(_)) => {
                    let (at, lang, text) = open.take().unwrap();
                    let at = format!("{name}:{at}");
                    out.push(Block { at, lang, text });
                }
                (Some((_, _, body)), None) => {
                    body.push_str(line);
                    body.push('\n');
                }
                (None, None) => {}
            }
        }
        assert!(open.is_none(), "{name}: a block is never closed");
    }
    out
}

/// The top-level keys of the spec, from `mlk schema`.
fn spec_keys() -> Vec<String> {
    let schema = mlk(&["schema"]).run().ok().stdout;
    let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
    schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// A spec, or a fragment of one (a section or two), rendered whole as
/// the docs say: with `mlk resolve` first when it serves a registry's
/// alias or version (against a stand-in registry).
fn render_spec(block: &Block, doc: &Value) {
    let mut doc = doc.clone();
    doc["apiVersion"] = "mlk/v1alpha1".into();
    doc["kind"] = "Platform".into();
    let text = serde_yaml::to_string(&doc).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("platform.yaml"), &text).unwrap();
    let mut args = vec!["render".to_owned(), "-f".into(), "platform.yaml".into()];
    let mut names = Vec::new();
    for name in text.split("fromEnv: ").skip(1) {
        let name: String = name
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        args.extend(["--allow-env".to_owned(), name.clone()]);
        names.push(name);
    }
    // The files a spec reads, beside it.
    for file in text.split("fromFile: ").skip(1) {
        let file: String = file.chars().take_while(|c| !"},\n ".contains(*c)).collect();
        std::fs::write(dir.path().join(file), "a-documented-password-0123456789\n").unwrap();
    }
    let render = || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut run = mlk(&args).key().dir(dir.path());
        for name in &names {
            run = run.env(name, "a-documented-password-0123456789");
        }
        run.run()
    };
    let mut run = render();
    if run.stderr.contains("there is no mlk.lock") {
        mlk(&["resolve", "-f", "platform.yaml"])
            .dir(dir.path())
            .env("MLFLOW_TRACKING_URI", &registry(champion::<3>))
            .run()
            .ok();
        run = render();
    }
    let at = &block.at;
    assert_eq!(
        run.code, 0,
        "{at}: the spec does not render:\n{}{}",
        block.text, run.stderr
    );
}

/// A lock, beside a spec that serves its models as it says they were
/// asked for: a plain render reads it.
fn render_with_lock(block: &Block, lock: &Value) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mlk.lock"), &block.text).unwrap();
    let mut models = Vec::new();
    for m in lock["models"].as_sequence().unwrap() {
        let mut model = serde_yaml::Mapping::new();
        for key in ["name", "registeredModel", "alias"] {
            if let Some(v) = m.get(key) {
                model.insert(key.into(), v.clone());
            }
        }
        if m.get("alias").is_none() {
            model.insert("version".into(), m["version"].clone());
        }
        models.push(Value::Mapping(model));
    }
    let spec = serde_json::json!({
        "apiVersion": "mlk/v1alpha1", "kind": "Platform", "serving": {"models": models},
    });
    let text = serde_yaml::to_string(&spec).unwrap();
    std::fs::write(dir.path().join("platform.yaml"), text).unwrap();
    let run = mlk(&["render", "-f", "platform.yaml"])
        .key()
        .dir(dir.path())
        .run();
    assert_eq!(
        run.code, 0,
        "{}: the lock does not serve:\n{}",
        block.at, run.stderr
    );
}

/// The `run:` scripts of a GitHub Actions workflow, as sh blocks.
fn workflow_scripts(block: &Block) -> Vec<Block> {
    let doc: Value = serde_yaml::from_str(&block.text).unwrap_or(Value::Null);
    let Some(jobs) = doc["jobs"].as_mapping() else {
        return Vec::new();
    };
    let steps = jobs
        .values()
        .filter_map(|j| j["steps"].as_sequence())
        .flatten();
    let scripts = steps.filter_map(|step| step["run"].as_str());
    let block = |text: &str| Block {
        at: format!("{} (a run: step)", block.at),
        lang: "sh".into(),
        text: text.to_owned(),
    };
    scripts.map(block).collect()
}

/// How many documents were rendered and how many validated.
fn check_yaml(block: &Block, spec_keys: &[String]) -> (usize, usize) {
    let mut counts = (0, 0);
    let docs: Vec<Value> = serde_yaml::Deserializer::from_str(&block.text)
        .map(serde::Deserialize::deserialize)
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: not YAML: {e}\n{}", block.at, block.text));
    for doc in docs {
        let Some(map) = doc.as_mapping() else {
            continue;
        };
        let keys: Vec<&str> = map.keys().filter_map(Value::as_str).collect();
        let api = doc["apiVersion"].as_str().unwrap_or_default();
        let known = keys
            .iter()
            .filter(|k| spec_keys.iter().any(|s| s == *k))
            .count();
        // A fragment of a spec with one key misspelt is no other format.
        assert!(
            !api.is_empty() || known == 0 || known == keys.len(),
            "{}: a spec fragment with keys the spec does not have: {keys:?}",
            block.at
        );
        let is_spec = api.starts_with("mlk/") && doc["kind"] == "Platform"
            || api.is_empty() && known == keys.len();
        if api.starts_with("mlk/") && doc["kind"] == "Lock" {
            render_with_lock(block, &doc);
            counts.0 += 1;
        } else if is_spec {
            render_spec(block, &doc);
            counts.0 += 1;
        } else if !api.is_empty() && doc["kind"].is_string() && !api.starts_with("mlk/") {
            let text = serde_yaml::to_string(&doc).unwrap();
            let run = mlk(&["validate", "--checks", "schema,yaml", "-"])
                .stdin(&text)
                .run();
            assert_eq!(run.code, 0, "{}: {}{}", block.at, run.stdout, run.stderr);
            counts.1 += 1;
        }
    }
    counts
}

#[test]
fn every_yaml_block_renders_validates_or_parses() {
    let keys = spec_keys();
    let yaml: Vec<Block> = blocks().into_iter().filter(|b| b.lang == "yaml").collect();
    assert!(yaml.len() >= 20, "{}", yaml.len());
    let (mut rendered, mut validated) = (0, 0);
    for block in &yaml {
        let (r, v) = check_yaml(block, &keys);
        rendered += r;
        validated += v;
    }
    eprintln!(
        "{} yaml blocks: {rendered} specs rendered, {validated} objects validated",
        yaml.len()
    );
    assert!(rendered >= 20, "{rendered} specs rendered");
}

/// The files the docs' commands name, in a fresh folder.
fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spec = mlk(&["init"]).run().ok().stdout;
    std::fs::write(d.join("platform.yaml"), &spec).unwrap();
    let out = mlk(&["render", "-f", "-"])
        .key()
        .stdin(&spec)
        .run()
        .ok()
        .stdout;
    for name in ["out.yaml", "new.yaml", "old.yaml", "deployed.yaml"] {
        std::fs::write(d.join(name), &out).unwrap();
    }
    let deploy = d.join("deploy");
    mlk(&["render", "--output-dir", deploy.to_str().unwrap()])
        .key()
        .run()
        .ok();
    std::fs::create_dir(d.join("crds")).unwrap();
    std::fs::write(d.join("crds/widgets.yaml"), WIDGET_CRD).unwrap();
    dir
}

const WIDGET_CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n\
    metadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n\
    \x20 scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n\
    \x20     schema: {openAPIV3Schema: {type: object}}\n";

/// Words of one shell line, quotes honoured, up to a comment.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut started = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, '#') if !started => break,
            (None, c) if c.is_whitespace() => {
                if started {
                    out.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(word);
    }
    out
}

/// An `mlk` command of a line: its arguments (redirections dropped), the
/// variables set before it, whether it reads a pipe, and the command
/// before that pipe.
#[derive(Debug, PartialEq)]
struct MlkCommand {
    args: Vec<String>,
    env: Vec<(String, String)>,
    piped: bool,
    source: Vec<String>,
}

fn mlk_commands(line: &str) -> Vec<MlkCommand> {
    let mut out = Vec::new();
    let mut piped = false;
    let mut source = Vec::new();
    for segment in words(line).split(|w| ["|", "&&", ";", "&"].contains(&w.as_str())) {
        let mut env = Vec::new();
        let mut rest = segment;
        while let Some((first, tail)) = rest.split_first() {
            match first.split_once('=') {
                Some((k, v)) if k.chars().all(|c| c.is_ascii_uppercase() || c == '_') => {
                    env.push((k.to_owned(), v.to_owned()));
                    rest = tail;
                }
                _ => break,
            }
        }
        if rest.first().is_some_and(|w| w == "mlk") {
            let mut args = Vec::new();
            let mut skip = false;
            for w in &rest[1..] {
                match w.as_str() {
                    ">" | ">>" | "<" | "2>" => skip = true,
                    _ if skip => skip = false,
                    _ if w.starts_with(['>', '<']) || w.starts_with("2>") => {}
                    _ => args.push(w.clone()),
                }
            }
            out.push(MlkCommand {
                args,
                env,
                piped,
                source: source.clone(),
            });
        } else {
            // mlk run by another command (`$(mlk ...)`, `xargs mlk`)
            // would go unchecked: no block may hide it there. Named as a
            // word (`cargo install ... mlk`), it is not run.
            const RUNNERS: [&str; 7] = ["xargs", "sudo", "exec", "time", "nohup", "watch", "env"];
            let runner = rest.first().is_some_and(|w| RUNNERS.contains(&w.as_str()));
            let hidden = rest
                .iter()
                .skip(1)
                .any(|w| (runner && w == "mlk") || w.contains("$(mlk") || w.contains("`mlk"));
            assert!(!hidden, "an mlk command this test cannot run: {line}");
        }
        source = rest.to_vec();
        piped = true;
    }
    out
}

/// What the command before a pipe prints: `kubectl kustomize DIR`'s own
/// build of the folder where kubectl is here, else the rendered platform.
fn piped_input(source: &[String], dir: &Path, rendered: &str) -> String {
    if let [kubectl, kustomize, folder] = source
        && kubectl == "kubectl"
        && kustomize == "kustomize"
        && let Some(built) = common::kustomize::kustomize(&dir.join(folder))
    {
        return built.unwrap_or_else(|e| panic!("kubectl kustomize {folder}: {e}"));
    }
    rendered.to_owned()
}

fn run_sh(block: &Block, dir: &Path, stdin: &str) {
    let syntax = std::process::Command::new("bash")
        .args(["-n", "-c", &block.text])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&syntax.stderr);
    assert!(syntax.status.success(), "{}: bash -n: {err}", block.at);
    for line in block.text.lines() {
        for MlkCommand {
            args,
            env,
            piped,
            source,
        } in mlk_commands(line)
        {
            // A path outside the folder (`/run/secrets/mlflow`) is made
            // beneath it.
            let args: Vec<String> = args
                .iter()
                .map(|a| match a.strip_prefix('/') {
                    Some(inside) => {
                        std::fs::create_dir_all(dir.join(inside)).unwrap();
                        dir.join(inside).display().to_string()
                    }
                    None => a.clone(),
                })
                .collect();
            // A spec named where the folder has none (`-f deploy/platform.yaml`)
            // is the folder's platform.yaml.
            for pair in args.windows(2).filter(|w| w[0] == "-f" && w[1] != "-") {
                let spec = dir.join(&pair[1]);
                if !spec.exists() {
                    std::fs::create_dir_all(spec.parent().unwrap()).unwrap();
                    std::fs::copy(dir.join("platform.yaml"), &spec).unwrap();
                }
            }
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut run = mlk(&argv).dir(dir).key();
            for (k, v) in &env {
                let v = if v == "..." {
                    "a-documented-password-0123456789"
                } else {
                    v
                };
                run = run.env(k, v);
            }
            if piped || argv.last() == Some(&"-") {
                run = run.stdin(&piped_input(&source, dir, stdin));
            }
            let run = run.run();
            let may = if argv.first() == Some(&"diff") {
                &[0, 1, 3][..]
            } else {
                &[0]
            };
            assert!(
                may.contains(&run.code),
                "{}: `mlk {}` exited {}:\n{}",
                block.at,
                args.join(" "),
                run.code,
                run.stderr
            );
        }
    }
}

#[test]
fn every_sh_block_parses_and_its_mlk_commands_run() {
    let dir = sandbox();
    let stdin = std::fs::read_to_string(dir.path().join("out.yaml")).unwrap();
    let all = blocks();
    let mut sh: Vec<Block> = all.iter().filter(|b| b.lang == "sh").cloned().collect();
    let yaml = all.iter().filter(|b| b.lang == "yaml");
    sh.extend(yaml.flat_map(workflow_scripts));
    assert!(sh.len() >= 10, "{}", sh.len());
    let mut ran = 0;
    for block in &sh {
        run_sh(block, dir.path(), &stdin);
        ran += block
            .text
            .lines()
            .map(|l| mlk_commands(l).len())
            .sum::<usize>();
    }
    assert!(ran >= 15, "{ran} mlk commands");
}

#[test]
fn words_and_commands_read_a_line_as_the_shell_does() {
    assert_eq!(
        mlk_commands("PG_PW=... mlk render -f 'a b.yaml' > out.yaml  # a comment | mlk x"),
        [MlkCommand {
            args: vec!["render".to_owned(), "-f".into(), "a b.yaml".into()],
            env: vec![("PG_PW".to_owned(), "...".to_owned())],
            piped: false,
            source: vec![],
        }]
    );
    let piped = mlk_commands("kubectl kustomize deploy/ | mlk validate >> report.txt <in");
    let want = MlkCommand {
        args: vec!["validate".to_owned()],
        env: vec![],
        piped: true,
        source: vec!["kubectl".into(), "kustomize".into(), "deploy/".into()],
    };
    assert_eq!(piped, [want]);
    let hidden = std::panic::catch_unwind(|| mlk_commands("echo $(mlk render)"));
    assert!(hidden.is_err(), "mlk inside $(...) is refused");
    let hidden = std::panic::catch_unwind(|| mlk_commands("ls | xargs mlk validate"));
    assert!(hidden.is_err(), "mlk run by xargs is refused");
    let named = mlk_commands("cargo install --locked --git https://example.com/mlk mlk");
    assert!(named.is_empty(), "a crate named mlk is no command");
}

/// The README is a first screen and recipes; the rest lives in docs/.
#[test]
fn the_readme_is_short_and_its_first_screen_says_what_to_run() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    assert!(lines.len() <= 350, "README.md has {} lines", lines.len());
    let first = lines[..40.min(lines.len())].join("\n");
    for want in [
        "cargo install --locked --path .",
        "Containerfile",
        "mlk render | kubectl apply -f -",
        "mlk init > platform.yaml",
        "mlk render -f platform.yaml --profile prod",
        "bash .ci/run",
    ] {
        assert!(first.contains(want), "the first screen lacks {want:?}");
    }
    let labelled = lines[..40]
        .iter()
        .any(|l| l.contains("bash .ci/run") && l.contains("contributor"));
    assert!(
        labelled,
        "the test command is labelled as the contributors'"
    );
    // Every link into docs/ names a file that exists.
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for link in text.split("](").skip(1) {
            let target = link.split(')').next().unwrap().split('#').next().unwrap();
            if target.is_empty() || target.contains("://") {
                continue;
            }
            let base = file.parent().unwrap();
            assert!(
                base.join(target).exists(),
                "{}: links to {target}",
                file.display()
            );
        }
    }
}
