//! The commands a user runs first: init, profiles, JSON output, and
//! `--output-dir`.

mod common;
use common::mlk;

#[test]
fn init_prints_a_spec_that_renders() {
    let init = mlk(&["init"]).run().ok();
    assert!(init.stdout.contains("# An mlk platform spec"));
    let run = mlk(&["render", "-f", "-"]).stdin(&init.stdout).run().ok();
    let default = mlk(&["render"]).run().ok();
    assert!(
        run.stdout == default.stdout,
        "the starter spec must render as the defaults do"
    );
    let prod = mlk(&["render", "-f", "-", "--profile", "prod"])
        .stdin(&init.stdout)
        .key()
        .run()
        .ok();
    let prod_default = mlk(&["render", "--profile", "prod"]).key().run().ok();
    assert!(
        prod.stdout == prod_default.stdout,
        "nor may it hide the prod profile's values"
    );
}

#[test]
fn profiles_lists_each_with_what_it_sets() {
    let run = mlk(&["profiles"]).run().ok();
    assert!(run.stdout.contains("dev (default)\n"));
    assert!(run.stdout.contains("\nprod\n"));
    assert!(run.stdout.contains("replicas: 2"), "{}", run.stdout);
    assert!(run.stdout.contains("prerequisites:"));
    let ha = &run.stdout[run.stdout.find("\nha\n").expect("the ha profile")..];
    for needs in [
        "CloudNativePG operator",
        "metrics-server",
        "NetworkPolicy",
        "3 schedulable nodes",
    ] {
        assert!(ha.contains(needs), "ha does not name {needs}:\n{ha}");
    }
    let prod =
        &run.stdout[run.stdout.find("\nprod\n").unwrap()..run.stdout.find("\nha\n").unwrap()];
    assert!(prod.contains("enforces NetworkPolicy"), "{prod}");
    assert!(!prod.contains("CloudNativePG"), "{prod}");
}

#[test]
fn a_profile_file_of_ones_own() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("staging.yaml");
    std::fs::write(
        &p,
        "apiVersion: mlk/v1alpha1\nkind: Profile\ndescription: staging\nspec:\n  tracking: {replicas: 4}\n",
    )
    .unwrap();
    let run = mlk(&["render", "--profile", p.to_str().unwrap()])
        .key()
        .run()
        .ok();
    let docs = run.docs();
    assert_eq!(
        common::find(&docs, "Deployment", "mlflow-tracking")["spec"]["replicas"],
        4
    );
    // A user's profile gets no development fallback.
    mlk(&["render", "--profile", p.to_str().unwrap()])
        .run()
        .failed();
}

/// A file that is no spec (a pgpass, an env file) named by mistake, or
/// by a hostile pull request, is refused without showing a word of it,
/// however short.
#[test]
fn a_file_that_is_no_spec_is_refused_unseen() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("pgpass", "localhost:5432:*:postgres:hunter2\n"),
        ("env", "TOKEN=hunter2\n"),
        (
            "variant",
            "apiVersion: mlk/v1alpha1\nkind: Platform\ntracking:\n  auth:\n    enabled: true\n    defaultPermission: hunter2\n",
        ),
    ];
    for (name, text) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let p = p.to_str().unwrap();
        for args in [["render", "--profile", p], ["render", "-f", p]] {
            let run = mlk(&args).key().run().failed();
            assert!(!run.stderr.contains("hunter2"), "{name}: {}", run.stderr);
            assert!(!run.stderr.contains("localhost:"), "{name}: {}", run.stderr);
        }
    }
}

#[test]
fn set_beats_the_spec_file_which_beats_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("p.yaml");
    std::fs::write(
        &spec,
        "apiVersion: mlk/v1alpha1\nkind: Platform\ntracking: {replicas: 5, workers: 3}\n",
    )
    .unwrap();
    let run = mlk(&[
        "render",
        "-f",
        spec.to_str().unwrap(),
        "--profile",
        "prod",
        "--set",
        "tracking.replicas=7",
    ])
    .key()
    .run()
    .ok();
    let docs = run.docs();
    let dep = common::find(&docs, "Deployment", "mlflow-tracking");
    assert_eq!(dep["spec"]["replicas"], 7);
    let args = dep["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_sequence()
        .unwrap();
    assert_eq!(
        args[args.iter().position(|a| a == "--workers").unwrap() + 1],
        "3"
    );
    // The prod profile's resources survive where neither file nor --set speaks.
    let pg = common::find(&docs, "StatefulSet", "mlflow-postgres");
    assert_eq!(
        pg["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "50Gi"
    );
}

#[test]
fn json_is_a_v1_list_of_the_same_objects() {
    let yaml = mlk(&["render"]).run().ok();
    let json = mlk(&["render", "-o", "json"]).run().ok();
    let list: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(list["kind"], "List");
    let from_yaml: Vec<serde_json::Value> = yaml
        .docs()
        .iter()
        .map(|d| serde_json::to_value(d).unwrap())
        .collect();
    assert_eq!(list["items"].as_array().unwrap(), &from_yaml);
}

#[test]
fn output_dir_writes_one_file_per_component() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("deploy");
    mlk(&["render", "--output-dir", dir.to_str().unwrap()])
        .run()
        .ok();
    assert_eq!(common::tree(&dir), common::OUTPUT_DIR_FILES);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    assert!(read("kustomization.yaml").ends_with("resources:\n  - platform\n  - secrets\n"));
    assert!(read("platform/kustomization.yaml").ends_with(
        "resources:\n  - namespace.yaml\n  - postgres.yaml\n  - seaweedfs.yaml\n  - tracking.yaml\n"
    ));
    assert!(read("secrets/kustomization.yaml").ends_with("resources:\n  - secrets.yaml\n"));
    let docs = |text: &str| -> Vec<String> {
        let mut d: Vec<String> = text
            .split("---\n")
            .filter(|d| !d.trim().is_empty())
            .map(str::to_owned)
            .collect();
        d.sort();
        d
    };
    let all: String = ["namespace", "postgres", "seaweedfs", "tracking"]
        .iter()
        .map(|c| read(&format!("platform/{c}.yaml")))
        .chain([read("secrets/secrets.yaml")])
        .collect();
    let secrets = read("secrets/secrets.yaml");
    assert!(docs(&secrets).iter().all(|d| d.contains("kind: Secret")));
    assert_eq!(
        docs(&all),
        docs(&mlk(&["render"]).run().ok().stdout),
        "the files hold the same objects"
    );

    // Re-rendering into its own folder replaces it whole.
    mlk(&[
        "render",
        "--output-dir",
        dir.to_str().unwrap(),
        "--set",
        "metadata.createNamespace=false",
    ])
    .run()
    .ok();
    assert!(!dir.join("platform/namespace.yaml").exists());

    // A folder whose parent is not there yet.
    let nested = tmp.path().join("deploy-new/mlflow");
    mlk(&["render", "--output-dir", nested.to_str().unwrap()])
        .run()
        .ok();
    assert!(nested.join("platform/tracking.yaml").is_file());
}

#[test]
fn output_dir_is_untouched_on_error_and_never_replaces_foreign_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("deploy");
    mlk(&["render", "--output-dir", dir.to_str().unwrap()])
        .run()
        .ok();
    let before = std::fs::read_to_string(dir.join("platform/tracking.yaml")).unwrap();
    mlk(&[
        "render",
        "--output-dir",
        dir.to_str().unwrap(),
        "--set",
        "tracking.replicas=-1",
    ])
    .run()
    .failed();
    assert_eq!(
        std::fs::read_to_string(dir.join("platform/tracking.yaml")).unwrap(),
        before
    );

    // A file of the user's inside one of mlk's subfolders is kept too.
    std::fs::write(dir.join("platform/patch.yaml"), "mine").unwrap();
    let run = mlk(&["render", "--output-dir", dir.to_str().unwrap()])
        .run()
        .failed();
    assert!(run.stderr.contains("platform/patch.yaml"), "{}", run.stderr);
    assert!(dir.join("platform/patch.yaml").exists());

    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me").unwrap();
    let run = mlk(&["render", "--output-dir", mine.to_str().unwrap()])
        .run()
        .failed();
    assert!(
        run.stderr.contains("was not written by mlk"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "keep me"
    );
}

/// A spec may name its profile; `--profile` may then be left out, and must
/// agree when given.
#[test]
fn a_spec_names_its_profile_and_the_flag_must_agree() {
    let spec = "apiVersion: mlk/v1alpha1\nkind: Platform\nprofile: prod\n";
    let prod = mlk(&["render", "-f", "-"]).key().stdin(spec).run().ok();
    assert!(
        prod.stdout.contains("kind: NetworkPolicy"),
        "the prod profile was used"
    );
    mlk(&["render", "-f", "-", "--profile", "prod"])
        .key()
        .stdin(spec)
        .run()
        .ok();
    let run = mlk(&["render", "-f", "-", "--profile", "dev"])
        .key()
        .stdin(spec)
        .run()
        .failed();
    assert!(
        run.stderr.contains(
            "<stdin>:3: profile: the spec is written for the prod profile, but --profile dev was given"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn print_spec_shows_the_merged_spec_with_secrets_as_sources() {
    let spec = "apiVersion: mlk/v1alpha1\nkind: Platform\ndatabase:\n  embedded:\n    password: {value: lit-secret-31415}\nartifacts:\n  embedded:\n    rootPassword: {fromEnv: MINIO_PW}\n";
    let run = mlk(&[
        "render",
        "-f",
        "-",
        "--profile",
        "prod",
        "--print-spec",
        "--set",
        "tracking.replicas=5",
    ])
    .stdin(spec)
    .run()
    .ok();
    let printed: serde_yaml::Value = serde_yaml::from_str(&run.stdout).unwrap();
    assert_eq!(printed["profile"], "prod");
    assert_eq!(printed["tracking"]["replicas"], 5);
    assert_eq!(printed["database"]["embedded"]["storage"]["size"], "50Gi");
    assert_eq!(printed["database"]["embedded"]["password"]["value"], "***");
    assert_eq!(
        printed["artifacts"]["embedded"]["rootPassword"]["fromEnv"],
        "MINIO_PW"
    );
    assert!(!run.stdout.contains("lit-secret") && !run.stderr.contains("lit-secret"));
    // What it prints renders as the spec did.
    let again = mlk(&["render", "-f", "-", "--print-spec"])
        .stdin(&run.stdout)
        .run()
        .ok();
    assert_eq!(again.stdout, run.stdout);
}

/// `source <(mlk completions bash)`, then `mlk ren<TAB>` in bash.
#[test]
fn bash_completes_a_subcommand() {
    let script = mlk(&["completions", "bash"]).run().ok().stdout;
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{script}\nCOMP_WORDS=(mlk ren); COMP_CWORD=1; _mlk mlk ren mlk; echo \"${{COMPREPLY[*]}}\""
        ))
        .output()
        .unwrap();
    let completed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        completed.trim(),
        "render",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        assert!(!mlk(&["completions", shell]).run().ok().stdout.is_empty());
    }
}

/// `mlk man | man -l -`: a man page that names every command.
#[test]
#[ignore = "needs man-db; run by .ci/run"]
fn the_man_page_renders() {
    let roff = mlk(&["man"]).run().ok().stdout;
    let mut man = std::process::Command::new("man")
        .args(["-l", "-"])
        .env("MANWIDTH", "100")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(man.stdin.as_mut().unwrap(), roff.as_bytes()).unwrap();
    let out = man.wait_with_output().unwrap();
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for word in ["SYNOPSIS", "render", "validate", "diff", "completions"] {
        assert!(page.contains(word), "{word} missing from:\n{page}");
    }
}

/// For those who create Secrets by other means (a GitOps repository that
/// holds no secret data): none in the output, all still checked.
#[test]
fn omit_secrets_leaves_every_secret_out() {
    let run = mlk(&["render", "--omit-secrets"]).key().run().ok();
    assert!(!run.stdout.contains("kind: Secret"));
    assert!(run.stdout.contains("kind: StatefulSet"));
    // --output-dir's folder without them: tests/kustomize.rs.
}
