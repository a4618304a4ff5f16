//! A spec from a pull request, written by someone who wants the platform
//! weaker, a secret out, or the runner stuck: one fixture per attack in
//! `fixtures/hostile/`, as kubeconform keeps one per failure mode. Each
//! must end with exit 1, nothing on stdout, stderr naming where (the
//! fixture's `# expect:`), no byte of a secret or of a file outside the
//! spec's folder (`# never:`), no control character, and no line a CI
//! runner would act on. `# env:` and `# args:` set up the run.

mod common;
use common::mlk;

struct Fixture {
    name: String,
    expect: String,
    never: Vec<String>,
    env: Vec<(String, String)>,
    args: Vec<String>,
}

fn fixtures() -> Vec<Fixture> {
    let dir = common::fixtures().join("fixtures/hostile");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let header = |key: &str| -> Vec<String> {
            let prefix = format!("# {key}: ");
            text.lines()
                .filter_map(|l| l.strip_prefix(&prefix))
                .map(str::to_owned)
                .collect()
        };
        let Some(expect) = header("expect").pop() else {
            continue;
        };
        out.push(Fixture {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            expect,
            never: header("never"),
            env: header("env")
                .iter()
                .map(|e| {
                    let (k, v) = e.split_once('=').expect("NAME=value");
                    (k.to_owned(), v.to_owned())
                })
                .collect(),
            args: header("args")
                .iter()
                .flat_map(|a| a.split(' ').map(str::to_owned).collect::<Vec<_>>())
                .collect(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[test]
fn every_attack_is_refused_where_it_is_written() {
    let all = fixtures();
    assert!(all.len() >= 40, "only {} hostile fixtures", all.len());
    let mut wrong = Vec::new();
    for f in &all {
        let file = format!("fixtures/hostile/{}", f.name);
        let mut args = vec!["render", "-f", file.as_str()];
        args.extend(f.args.iter().map(String::as_str));
        let mut run = mlk(&args).key();
        for (k, v) in &f.env {
            run = run.env(k, v);
        }
        let run = run.run();
        let problems = [
            (run.code != 1, format!("exit {}", run.code)),
            (!run.stdout.is_empty(), "stdout is not empty".to_owned()),
            (
                !run.stderr.contains(&f.expect),
                format!("stderr lacks {:?}", f.expect),
            ),
            (
                run.stderr
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t'),
                "stderr holds a control character".to_owned(),
            ),
            (
                run.stderr.lines().any(|l| l.trim_start().starts_with("::")),
                "a stderr line starts with ::".to_owned(),
            ),
        ];
        for (bad, what) in problems {
            if bad {
                wrong.push(format!("{}: {what}; stderr:\n{}", f.name, run.stderr));
            }
        }
        for marker in &f.never {
            if run.stderr.contains(marker.as_str()) {
                wrong.push(format!("{}: stderr shows {marker:?}", f.name));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// Thousands of patches are refused before any is applied: one line, not
/// one per patch, and no memory spent on them.
#[test]
fn a_flood_of_patches_is_refused_at_once() {
    let mut spec = String::from("apiVersion: mlk/v1alpha1\nkind: Platform\npatches:\n");
    for i in 0..3000 {
        spec.push_str(&format!(
            "  - {{target: {{kind: Service, name: mlflow-tracking}}, merge: {{metadata: {{labels: {{n{i}: x}}}}}}}}\n"
        ));
    }
    let run = mlk(&["render", "-f", "-"]).stdin(&spec).run().failed();
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("patches: holds 3000 patches; at most 256"),
        "{}",
        run.stderr
    );
}

/// `mlk htpasswd --verify` refuses a cost it would spend minutes on before
/// it hashes anything, and reads no more of stdin than a password can be.
#[test]
fn htpasswd_refuses_a_stalling_cost_and_a_flood_on_stdin() {
    let file = "fixtures/hostile/cost-31.htpasswd";
    let run = mlk(&["htpasswd", "--verify", file, "alice"])
        .stdin("password\n")
        .run()
        .failed();
    assert!(
        run.stderr.contains("cost is outside 4 to 12"),
        "{}",
        run.stderr
    );
    let run = mlk(&["htpasswd", "--cost", "31", "alice"])
        .stdin("password\n")
        .run()
        .failed();
    assert!(run.stderr.contains("outside 4..=12"), "{}", run.stderr);
    let flood = "p".repeat(50 << 20);
    let run = mlk(&["htpasswd", "alice"]).stdin(&flood).run().failed();
    assert!(
        run.stderr.contains("longer than 72 bytes"),
        "{}",
        run.stderr
    );
}

/// `--allow-annotation` is the runner's, and the only way past the
/// allowlist; the same annotation in the spec alone stays refused.
#[test]
fn only_the_runner_can_allow_an_annotation() {
    let file = "fixtures/hostile/annotation-upstream-vhost.yaml";
    mlk(&["render", "-f", file]).run().failed();
    let key = "nginx.ingress.kubernetes.io/upstream-vhost";
    mlk(&["render", "-f", file, "--allow-annotation", key])
        .run()
        .ok();
}
