//! `--output-dir`: kustomize folders (platform/, secrets/ and one over both),
//! written whole, privately, and by one render at a time.
//!
//! The folder is built in a fresh staging folder beside the target, with
//! an unpredictable name and mode 0700, its files 0600 (they hold Secret
//! data). An exclusive lock beside the target makes concurrent renders
//! take turns. The staging folder is then exchanged with the target in one
//! `renameat2(RENAME_EXCHANGE)`, so at every moment the target is either
//! the old folder or the new one. On any failure the old folder stays as
//! it was and the staging folder is removed. mlk records the files it
//! wrote and refuses to replace a folder that holds anything else.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use rustix::fs::{CWD, FlockOperation, RenameFlags};
use rustix::io::Errno;

use super::yaml::to_yaml_stream;
use crate::manifest::Document;

const MARKER: &str = "# Written by mlk: `mlk render --output-dir` replaces this folder whole.";
/// The list of files mlk wrote, one per line after the header.
const RECORD: &str = ".mlk-written";
const RECORD_HEADER: &str = "# Files written by mlk render --output-dir; it replaces only these.";

pub struct Written {
    /// The files, in apply order.
    pub files: Vec<String>,
    pub warnings: Vec<String>,
}

/// Writes the folder. `inputs` are the files the render read: none of them
/// may be inside the folder it replaces.
pub fn write_dir(dir: &Path, docs: &[Document], inputs: &[PathBuf]) -> anyhow::Result<Written> {
    let target = Target::new(dir)?;
    // `--output-dir deploy/mlflow` in a fresh checkout: deploy/ is made.
    std::fs::create_dir_all(&target.parent)
        .with_context(|| format!("creating {}", target.parent.display()))?;
    let _lock = target.lock()?;
    target.check_replaceable(inputs)?;
    let files = folder_files(docs);
    let staging = Staging::create(&target)?;
    for (name, text) in &files {
        staging.write(name, text)?;
    }
    let names: Vec<String> = files.into_iter().map(|(name, _)| name).collect();
    staging.write(RECORD, &record(&names))?;
    let warnings = staging.swap_in(&target)?;
    Ok(Written {
        files: names,
        warnings,
    })
}

struct Target {
    path: PathBuf,
    parent: PathBuf,
    base: String,
}

impl Target {
    fn new(dir: &Path) -> anyhow::Result<Target> {
        let base = dir
            .file_name()
            .context("--output-dir needs a folder name")?
            .to_str()
            .context("--output-dir needs a UTF-8 folder name")?
            .to_owned();
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();
        Ok(Target {
            path: dir.to_owned(),
            parent,
            base,
        })
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        self.parent.join(format!(".{}.{suffix}", self.base))
    }

    /// Held until the new folder is in place; never follows a symlink.
    fn lock(&self) -> anyhow::Result<File> {
        let path = self.sibling("mlk-lock");
        let file = private_file()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening the lock file {}", path.display()))?;
        rustix::fs::flock(&file, FlockOperation::LockExclusive)
            .with_context(|| format!("locking {}", path.display()))?;
        Ok(file)
    }

    fn exists(&self) -> anyhow::Result<bool> {
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) if m.file_type().is_symlink() => bail!(
                "--output-dir {}: is a symlink; name the folder itself",
                self.path.display()
            ),
            Ok(m) if !m.is_dir() => {
                bail!(
                    "--output-dir {}: exists and is not a folder",
                    self.path.display()
                )
            }
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e).with_context(|| format!("--output-dir {}", self.path.display())),
        }
    }

    /// Refuses a folder that holds what mlk did not write, or the render's
    /// own inputs: replacing it would lose them.
    fn check_replaceable(&self, inputs: &[PathBuf]) -> anyhow::Result<()> {
        if !self.exists()? {
            return Ok(());
        }
        let shown = self.path.display();
        let canonical = std::fs::canonicalize(&self.path)?;
        for input in inputs {
            if std::fs::canonicalize(input).is_ok_and(|i| i.starts_with(&canonical)) {
                bail!(
                    "--output-dir {shown}: holds {}, which this render reads; write the \
                     platform somewhere else",
                    input.display()
                );
            }
        }
        let present = entries(&self.path)?;
        if present.is_empty() {
            return Ok(());
        }
        let recorded = recorded(&self.path)?.ok_or_else(|| {
            anyhow::anyhow!(
                "--output-dir {shown}: the folder is not empty and was not written by mlk; \
                 name a new or empty folder, so that none of your files is replaced"
            )
        })?;
        let foreign: Vec<&String> = present
            .iter()
            .filter(|(name, kind)| !is_recorded(name, *kind, &recorded))
            .map(|(name, _)| name)
            .collect();
        if !foreign.is_empty() {
            let list: Vec<&str> = foreign.iter().map(|s| s.as_str()).collect();
            bail!(
                "--output-dir {shown}: holds files mlk did not write: {}. Move them out, or \
                 name another folder; mlk replaces only a folder of its own files",
                list.join(", ")
            );
        }
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Entry {
    File,
    Folder,
    /// A symlink or anything else mlk never writes.
    Other,
}

/// Every entry's path relative to `dir` (a folder's as `name/`, then its
/// own entries), and what it is. Symlinks are never followed.
fn entries(dir: &Path) -> anyhow::Result<Vec<(String, Entry)>> {
    let mut out = Vec::new();
    list_into(dir, "", &mut out)?;
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn list_into(dir: &Path, prefix: &str, out: &mut Vec<(String, Entry)>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            out.push((format!("{name}/"), Entry::Folder));
            list_into(&entry.path(), &format!("{name}/"), out)?;
        } else {
            let kind = if kind.is_file() {
                Entry::File
            } else {
                Entry::Other
            };
            out.push((name, kind));
        }
    }
    Ok(())
}

/// A file mlk recorded, or a folder that holds one.
fn is_recorded(name: &str, kind: Entry, recorded: &[String]) -> bool {
    match kind {
        Entry::File => recorded.iter().any(|r| r == name),
        Entry::Folder => recorded.iter().any(|r| r.starts_with(name)),
        Entry::Other => false,
    }
}

/// What mlk recorded writing, from its record file, or from the marked
/// kustomization.yaml of a folder written before there was a record.
/// Neither counts when it is a symlink: that marker could be anyone's.
fn recorded(dir: &Path) -> anyhow::Result<Option<Vec<String>>> {
    let read_plain = |name: &str| -> Option<String> {
        let path = dir.join(name);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > 1 << 20 {
            return None;
        }
        std::fs::read_to_string(path).ok()
    };
    if let Some(text) = read_plain(RECORD).filter(|t| t.starts_with(RECORD_HEADER)) {
        let mut names: Vec<String> = text.lines().skip(1).map(str::to_owned).collect();
        names.push(RECORD.to_owned());
        return Ok(Some(names));
    }
    let marked = |name: &str| read_plain(name).filter(|k| k.starts_with(MARKER));
    let Some(k) = marked("kustomization.yaml") else {
        return Ok(None);
    };
    let listed = |k: &str| -> Vec<String> {
        let lines = k.lines().filter_map(|l| l.strip_prefix("  - "));
        lines
            .filter(|n| !n.contains(".."))
            .map(str::to_owned)
            .collect()
    };
    let mut names = vec!["kustomization.yaml".to_owned()];
    for name in listed(&k) {
        // A listed subfolder (platform/, secrets/) with a marked
        // kustomization of its own: its files are mlk's too.
        let inner = format!("{name}/kustomization.yaml");
        match marked(&inner) {
            Some(sub) => {
                names.extend(listed(&sub).iter().map(|f| format!("{name}/{f}")));
                names.push(inner);
            }
            None => names.push(name),
        }
    }
    Ok(Some(names))
}

fn record(names: &[String]) -> String {
    let mut text = format!("{RECORD_HEADER}\n");
    for name in names {
        text.push_str(&format!("{name}\n"));
    }
    text
}

/// A fresh folder beside the target, removed on drop unless swapped in.
struct Staging {
    path: PathBuf,
    done: bool,
}

impl Staging {
    fn create(target: &Target) -> anyhow::Result<Staging> {
        for _ in 0..16 {
            let path = target.sibling(&format!("mlk-{}", random_hex()?));
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(Staging { path, done: false }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| format!("creating {}", path.display()));
                }
            }
        }
        bail!(
            "could not create a staging folder in {}",
            target.parent.display()
        )
    }

    /// A new private file, in a new private folder for a name with a
    /// `/`; nothing is followed or overwritten.
    fn write(&self, name: &str, text: &str) -> anyhow::Result<()> {
        let path = self.path.join(name);
        if let Some((folder, _)) = name.rsplit_once('/') {
            let folder = self.path.join(folder);
            if !folder.is_dir() {
                std::fs::DirBuilder::new()
                    .mode(0o700)
                    .create(&folder)
                    .with_context(|| format!("creating {}", folder.display()))?;
            }
        }
        let mut file = private_file()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| format!("writing {name}"))
    }

    /// Exchanges the staging folder with the target in one step (or moves
    /// it in when there is none), then removes the old folder.
    fn swap_in(mut self, target: &Target) -> anyhow::Result<Vec<String>> {
        let shown = target.path.display();
        let flags = match target.exists()? {
            true => RenameFlags::EXCHANGE,
            false => RenameFlags::NOREPLACE,
        };
        match rustix::fs::renameat_with(CWD, &self.path, CWD, &target.path, flags) {
            Ok(()) => {}
            Err(Errno::INVAL | Errno::NOSYS) => self.swap_by_renames(target)?,
            Err(e) => {
                return Err(std::io::Error::from(e))
                    .with_context(|| format!("moving the new files into {shown}"));
            }
        }
        let mut warnings = Vec::new();
        if flags == RenameFlags::EXCHANGE {
            // The staging path now holds the old folder.
            if let Err(e) = std::fs::remove_dir_all(&self.path) {
                warnings.push(format!(
                    "{shown} is written, but its old files could not be removed from {}: {e}",
                    self.path.display()
                ));
            }
        }
        self.done = true;
        Ok(warnings)
    }

    /// For file systems without RENAME_EXCHANGE: the old folder aside,
    /// the new one in, and the old one back if that fails.
    fn swap_by_renames(&self, target: &Target) -> anyhow::Result<()> {
        let shown = target.path.display();
        let aside = target.sibling(&format!("mlk-old-{}", random_hex()?));
        let had_old = target.exists()?;
        if had_old {
            std::fs::rename(&target.path, &aside)
                .with_context(|| format!("moving {shown} aside"))?;
        }
        if let Err(e) = std::fs::rename(&self.path, &target.path) {
            if had_old {
                let _ = std::fs::rename(&aside, &target.path);
            }
            return Err(e).with_context(|| format!("moving the new files into {shown}"));
        }
        // The staging path is gone; the old folder takes its place, so
        // that swap_in removes it.
        if had_old {
            std::fs::rename(&aside, &self.path)?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn random_hex() -> anyhow::Result<String> {
    let mut bytes = [0u8; 12];
    rustix::rand::getrandom(&mut bytes, rustix::rand::GetRandomFlags::empty())
        .context("reading random bytes for the staging folder's name")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Owner-only, and never opened through a symlink.
fn private_file() -> OpenOptions {
    let mut options = OpenOptions::new();
    let nofollow = rustix::fs::OFlags::NOFOLLOW.bits() as i32;
    options.mode(0o600).custom_flags(nofollow);
    options
}

/// Three kustomizations: `platform/`, one file per component without the
/// Secrets; `secrets/`, every Secret; and the folder's own over both. A
/// GitOps repository can keep `secrets/` out of git (or encrypt it) and
/// point its controller at `platform/`, which then still builds.
pub fn folder_files(docs: &[Document]) -> Vec<(String, String)> {
    let mut platform: Vec<(String, String)> = Vec::new();
    for component in crate::render::TEMPLATES.iter().map(|c| c.name) {
        let mine: Vec<Document> = docs
            .iter()
            .filter(|d| d.component == component && d.kind() != "Secret")
            .cloned()
            .collect();
        if !mine.is_empty() {
            platform.push((format!("{component}.yaml"), to_yaml_stream(&mine)));
        }
    }
    let secrets: Vec<Document> = docs
        .iter()
        .filter(|d| d.kind() == "Secret")
        .cloned()
        .collect();
    let mut parts = vec![(PLATFORM, platform)];
    if !secrets.is_empty() {
        parts.push((
            SECRETS,
            vec![("secrets.yaml".into(), to_yaml_stream(&secrets))],
        ));
    }
    let mut files = Vec::new();
    for (folder, mine) in &parts {
        let names: Vec<&str> = mine.iter().map(|(n, _)| n.as_str()).collect();
        for (name, text) in mine {
            files.push((format!("{folder}/{name}"), text.clone()));
        }
        files.push((
            format!("{folder}/kustomization.yaml"),
            kustomization(&names),
        ));
    }
    let folders: Vec<&str> = parts.iter().map(|(f, _)| *f).collect();
    files.push(("kustomization.yaml".into(), kustomization(&folders)));
    files
}

/// The folder of every object but the Secrets: what a GitOps controller
/// reads.
const PLATFORM: &str = "platform";
/// The folder of every Secret.
const SECRETS: &str = "secrets";

fn kustomization(resources: &[&str]) -> String {
    let mut k = format!(
        "{MARKER}\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
    );
    for name in resources {
        k.push_str(&format!("  - {name}\n"));
    }
    k
}
