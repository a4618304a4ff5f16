//! kustomize's view of a folder: its layout rules, checked by hand, and
//! its own build (`kubectl kustomize`): the tools venv's kubectl
//! (scripts/tools-requirements.txt), else one on PATH. CI must have one.

use std::path::{Path, PathBuf};
use std::process::Command;

fn kubectl() -> Option<PathBuf> {
    let home = std::env::var("HOME").unwrap_or_default();
    let venv = std::env::var("MLK_TOOLS_VENV").unwrap_or(format!("{home}/.cache/mlk/tools-venv"));
    let own = Path::new(&venv).join("bin/kubectl");
    if own.exists() {
        return Some(own);
    }
    let on_path = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return Some("kubectl".into());
    }
    assert!(
        std::env::var("CI").is_err(),
        "no kubectl: scripts/install-test-deps.sh installs one into {venv}"
    );
    None
}

/// What each kustomization.yaml lists, checked against kustomize's rules:
/// every resource exists beneath the kustomization's own folder (the
/// default load restriction), and none is a parent (a cycle).
pub fn check_layout(folder: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(folder.join("kustomization.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(doc["kind"], "Kustomization");
    let mut files = Vec::new();
    for r in doc["resources"].as_sequence().unwrap() {
        let r = r.as_str().unwrap();
        assert!(!r.contains("..") && !r.starts_with('/'), "{r}");
        let path = folder.join(r);
        assert!(
            path.exists(),
            "{} lists {r}, which is missing",
            folder.display()
        );
        match path.is_dir() {
            true => files.extend(check_layout(&path)),
            false => files.push(std::fs::read_to_string(path).unwrap()),
        }
    }
    files
}

/// What `kubectl kustomize FOLDER` builds, or None without kubectl.
pub fn kustomize(folder: &Path) -> Option<Result<String, String>> {
    let out = Command::new(kubectl()?)
        .arg("kustomize")
        .arg(folder)
        .output()
        .ok()?;
    if !out.status.success() {
        return Some(Err(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    Some(Ok(String::from_utf8(out.stdout).unwrap()))
}

/// The kinds of a stream, sorted.
pub fn kinds(text: &str) -> Vec<String> {
    let mut kinds: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .map(str::to_owned)
        .collect();
    kinds.sort();
    kinds
}
