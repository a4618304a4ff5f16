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

/// `--check DIR` against the ways a repository holds its Secrets: written
/// with `--omit-secrets`, checked with or without it, encrypted by SOPS,
/// or a `secrets` symlink to a folder elsewhere. Only the plain, present
/// folder is compared, and a stale one then fails.
#[test]
fn check_a_folder_whatever_became_of_its_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("deploy");
    let shown = dir.to_str().unwrap();
    let check = |extra: &[&str]| {
        let mut args = vec!["render", "--check", shown];
        args.extend_from_slice(extra);
        mlk(&args).key().run()
    };
    mlk(&["render", "--output-dir", shown, "--omit-secrets"])
        .key()
        .run()
        .ok();
    check(&[]).ok();
    check(&["--omit-secrets"]).ok();
    mlk(&["render", "--output-dir", shown]).key().run().ok();
    check(&["--omit-secrets"]).ok();
    let secrets = dir.join("secrets/secrets.yaml");
    let plain = std::fs::read_to_string(&secrets).unwrap();
    // A Secret changed by hand is stale; encrypted, it can't be compared.
    std::fs::write(&secrets, plain.replacen("data:", "data:\n  x: eA==", 1)).unwrap();
    let stale = check(&[]).failed();
    assert!(
        stale.stderr.contains("secrets.yaml is stale"),
        "{}",
        stale.stderr
    );
    check(&["--omit-secrets"]).ok();
    std::fs::write(&secrets, "apiVersion: v1\nkind: Secret\ndata:\n  x: ENC[AES256_GCM,data:aa==]\nsops:\n  version: 3.9.0\n").unwrap();
    check(&[]).ok();
    // A symlinked folder is not read.
    std::fs::remove_dir_all(dir.join("secrets")).unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("secrets.yaml"), "hunter2").unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("secrets")).unwrap();
    let run = check(&[]).ok();
    assert!(!run.stderr.contains("hunter2"));
    // Nor is a symlinked platform/, though it holds the very files.
    std::fs::rename(dir.join("platform"), tmp.path().join("platform")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("platform"), dir.join("platform")).unwrap();
    let outside = check(&[]).failed();
    assert!(outside.stderr.contains("platform/"), "{}", outside.stderr);
    let json = check(&["-o", "json"]).failed();
    assert!(json.stderr.contains("leave out -o json"), "{}", json.stderr);
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
