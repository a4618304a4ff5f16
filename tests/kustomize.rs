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
