//! The pre-commit hooks in `.pre-commit-hooks.yaml`, run by pre-commit
//! itself (`pre-commit try-repo`, as a user tries a hook repository) in a
//! repository of manifests: mlk-validate passes a file that holds part of
//! an application and fails a broken one; mlk-render-check passes the
//! committed render and fails once the spec changes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn pre_commit() -> PathBuf {
    let home = std::env::var("HOME").unwrap();
    let venv = std::env::var("MLK_TOOLS_VENV").unwrap_or(format!("{home}/.cache/mlk/tools-venv"));
    Path::new(&venv).join("bin/pre-commit")
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `pre-commit try-repo` of this checkout's hook `id`, on every file of
/// `repo`: (passed, output).
fn try_hook(repo: &Path, id: &str) -> (bool, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_mlk")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = Command::new(pre_commit())
        .args(["try-repo", env!("CARGO_MANIFEST_DIR"), id, "--all-files"])
        .current_dir(repo)
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", repo.join(".cache"))
        .env("MLK_SECRET_KEY", common::KEY)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

const SPEC: &str = "apiVersion: mlk/v1alpha1\nkind: Platform\nmetadata: {name: ml}\n";

#[test]
#[ignore = "needs pre-commit (scripts/install-test-deps.sh); run by bash .ci/run"]
fn the_hooks_run_under_pre_commit() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    // A Deployment whose ConfigMap lives in another repository: on its
    // own it is valid.
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n\
        spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    \
        spec:\n      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n      \
        containers:\n        - name: web\n          image: nginx:1.27\n          envFrom: [{configMapRef: {name: web-config}}]\n          \
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n";
    std::fs::create_dir(repo.join("manifests")).unwrap();
    std::fs::write(repo.join("manifests/web.yaml"), deployment).unwrap();
    std::fs::write(repo.join("platform.yaml"), SPEC).unwrap();
    let rendered = common::mlk(&["render", "-f", "-", "--omit-secrets"])
        .stdin(SPEC)
        .key()
        .run()
        .ok()
        .stdout;
    std::fs::write(repo.join("platform.rendered.yaml"), &rendered).unwrap();
    git(repo, &["add", "-A"]);

    let (ok, out) = try_hook(repo, "mlk-validate");
    assert!(ok, "{out}");
    let (ok, out) = try_hook(repo, "mlk-render-check");
    assert!(ok, "{out}");

    // A broken manifest, and a spec changed without a new render.
    let broken = deployment.replace(
        "image: nginx:1.27",
        "image: nginx:1.27\n          imagePullPolicy: Sometimes",
    );
    std::fs::write(repo.join("manifests/web.yaml"), broken).unwrap();
    std::fs::write(
        repo.join("platform.yaml"),
        format!("{SPEC}tracking: {{replicas: 2}}\n"),
    )
    .unwrap();
    git(repo, &["add", "-A"]);
    let (ok, out) = try_hook(repo, "mlk-validate");
    assert!(!ok, "{out}");
    assert!(out.contains("imagePullPolicy"), "{out}");
    let (ok, out) = try_hook(repo, "mlk-render-check");
    assert!(!ok, "{out}");
    assert!(out.contains("platform.rendered.yaml is stale"), "{out}");
}
