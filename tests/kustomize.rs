//! `--output-dir` as kustomize reads it: the folder's kustomization
//! builds the whole platform, and `platform/` builds alone once
//! `secrets/` is kept out of git. With `kubectl` on PATH the builds are
//! kustomize's own (`kubectl kustomize`); without it this test says so
//! on stderr and checks kustomize's layout rules only.

mod common;
use common::kustomize::{check_layout, kinds, kustomize};
use common::mlk;

#[test]
fn the_folder_builds_whole_and_platform_builds_without_its_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("deploy");
    mlk(&["render", "--output-dir", dir.to_str().unwrap()])
        .key()
        .run()
        .ok();
    let rendered = kinds(&mlk(&["render"]).key().run().ok().stdout);
    assert!(rendered.contains(&"Secret".to_owned()));

    let listed = kinds(&check_layout(&dir).concat());
    assert_eq!(
        listed, rendered,
        "the kustomizations list every object once"
    );

    // A GitOps repository without the Secrets.
    std::fs::remove_dir_all(dir.join("secrets")).unwrap();
    let platform = kinds(&check_layout(&dir.join("platform")).concat());
    assert!(!platform.contains(&"Secret".to_owned()));
    assert_eq!(platform.len() + 5, rendered.len());

    let Some(whole) = kustomize(&dir.join("platform")) else {
        eprintln!("kubectl not found: checked kustomize's layout rules only");
        return;
    };
    assert_eq!(
        kinds(&whole.unwrap()),
        platform,
        "kubectl kustomize platform/"
    );
    mlk(&["render", "--output-dir", dir.to_str().unwrap()])
        .key()
        .run()
        .ok();
    let all = kinds(&kustomize(&dir).unwrap().unwrap());
    assert_eq!(all, rendered, "kubectl kustomize on the whole folder");
}

#[test]
fn without_secrets_the_folder_lists_none() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("deploy");
    mlk(&[
        "render",
        "--omit-secrets",
        "--output-dir",
        dir.to_str().unwrap(),
    ])
    .key()
    .run()
    .ok();
    assert!(!dir.join("secrets").exists());
    let listed = kinds(&check_layout(&dir).concat());
    assert!(!listed.contains(&"Secret".to_owned()));
    if let Some(built) = kustomize(&dir) {
        assert_eq!(kinds(&built.unwrap()), listed);
    }
}

/// `mlk render --check DIR`: a folder is current, in a repository that
/// keeps its Secrets out too, and stale once the spec changes.
#[test]
fn check_compares_a_folder_with_what_output_dir_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("deploy");
    let shown = dir.to_str().unwrap();
    mlk(&["render", "--output-dir", shown]).key().run().ok();
    mlk(&["render", "--check", shown]).key().run().ok();
    std::fs::remove_dir_all(dir.join("secrets")).unwrap();
    mlk(&["render", "--check", shown]).key().run().ok();
    let stale = mlk(&["render", "--check", shown, "--set", "tracking.replicas=3"])
        .key()
        .run()
        .failed();
    assert!(
        // More replicas need more database connections: postgres.yaml,
        // the first file written, is the first to differ.
        stale.stderr.contains("platform/postgres.yaml is stale"),
        "{}",
        stale.stderr
    );
}

/// `mlk diff` on folders: one without `secrets/` (a GitOps checkout)
/// diffs the rest; a kustomization.yaml that is a symlink out of its
/// folder is refused, and nothing of its target shows.
#[test]
fn diff_reads_a_checkout_and_never_leaves_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
    mlk(&["render", "--output-dir", old.to_str().unwrap()])
        .key()
        .run()
        .ok();
    mlk(&["render", "--output-dir", new.to_str().unwrap()])
        .key()
        .run()
        .ok();
    std::fs::remove_dir_all(old.join("secrets")).unwrap();
    let run = mlk(&["diff", old.to_str().unwrap(), new.to_str().unwrap()]).run();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("+ Secret/"), "{}", run.stdout);

    let outside = tmp.path().join("outside.yaml");
    std::fs::write(&outside, "resources:\n  - /root/hunter2-token\n").unwrap();
    let k = new.join("secrets/kustomization.yaml");
    std::fs::remove_file(&k).unwrap();
    std::os::unix::fs::symlink(&outside, &k).unwrap();
    let run = mlk(&["diff", old.to_str().unwrap(), new.to_str().unwrap()]).run();
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
}
