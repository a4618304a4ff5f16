//! `--output-dir`: one file per component and a kustomization.yaml,
//! swapped into place whole, so a failed run leaves the old folder as it was.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::yaml::to_yaml_stream;
use crate::manifest::Document;

const MARKER: &str = "# Written by mlk: `mlk render --output-dir` replaces this folder whole.";

/// Writes the folder and returns the files in it, in apply order.
pub fn write_dir(dir: &Path, docs: &[Document]) -> anyhow::Result<Vec<String>> {
    check_replaceable(dir)?;
    let files = files(docs);
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let base = dir
        .file_name()
        .context("--output-dir needs a folder name")?
        .to_string_lossy();
    let staging = parent.join(format!(".{base}.mlk-new"));
    let retired = parent.join(format!(".{base}.mlk-old"));
    for stale in [&staging, &retired] {
        if stale.exists() {
            std::fs::remove_dir_all(stale)
                .with_context(|| format!("removing {}", stale.display()))?;
        }
    }
    std::fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
    for (name, text) in &files {
        std::fs::write(staging.join(name), text).with_context(|| format!("writing {name}"))?;
    }
    swap_in(&staging, dir, &retired)?;
    Ok(files.into_iter().map(|(name, _)| name).collect())
}

fn files(docs: &[Document]) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = Vec::new();
    for (component, _) in crate::render::COMPONENTS {
        let mine: Vec<Document> = docs
            .iter()
            .filter(|d| d.component == component)
            .cloned()
            .collect();
        if !mine.is_empty() {
            files.push((format!("{component}.yaml"), to_yaml_stream(&mine)));
        }
    }
    let mut k = format!(
        "{MARKER}\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
    );
    for (name, _) in &files {
        k.push_str(&format!("  - {name}\n"));
    }
    files.push(("kustomization.yaml".into(), k));
    files
}

/// Refuses to replace a folder mlk did not write: it may hold the user's
/// own files.
fn check_replaceable(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        bail!("--output-dir {}: exists and is not a folder", dir.display());
    }
    let empty = std::fs::read_dir(dir)?.next().is_none();
    let ours = std::fs::read_to_string(dir.join("kustomization.yaml"))
        .is_ok_and(|k| k.starts_with(MARKER));
    if !empty && !ours {
        bail!(
            "--output-dir {}: the folder is not empty and was not written by mlk; \
             name a new or empty folder, so that none of your files is replaced",
            dir.display()
        );
    }
    Ok(())
}

fn swap_in(staging: &PathBuf, dir: &Path, retired: &PathBuf) -> anyhow::Result<()> {
    let had_old = dir.exists();
    if had_old {
        std::fs::rename(dir, retired).with_context(|| format!("moving {} aside", dir.display()))?;
    }
    if let Err(e) = std::fs::rename(staging, dir) {
        if had_old {
            let _ = std::fs::rename(retired, dir);
        }
        return Err(e).with_context(|| format!("moving the new files into {}", dir.display()));
    }
    if had_old {
        std::fs::remove_dir_all(retired)
            .with_context(|| format!("removing {}", retired.display()))?;
    }
    Ok(())
}
