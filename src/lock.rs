//! `mlk.lock`: what each served model's alias or version named in the
//! registry when it was last resolved. A plain render reads it, so it
//! needs no network and stays deterministic; `mlk resolve` rewrites it,
//! and its diff in a pull request is the deployment being reviewed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::spec::{
    API_VERSION, Alias, Model, ModelVersion, RegisteredModel, ServiceName, StorageUri,
    WorkspaceName,
};

pub const FILE_NAME: &str = "mlk.lock";

const HEADER: &str = "# Written by `mlk resolve` (or `mlk render --resolve`): what each served\n\
# model's alias or version named in the registry. Commit it; a plain\n\
# `mlk render` serves exactly this.\n";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Lock {
    pub api_version: String,
    pub kind: String,
    /// By name, so that a diff shows one model per hunk.
    pub models: Vec<Pin>,
}

/// One model as it was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pin {
    pub name: ServiceName,
    pub registered_model: RegisteredModel,
    /// The tracking workspace it is in, when not `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<WorkspaceName>,
    /// What the spec asked for: an alias, or else a version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<Alias>,
    pub version: ModelVersion,
    pub storage_uri: StorageUri,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

impl Lock {
    pub fn new(mut models: Vec<Pin>) -> Lock {
        models.sort_by(|a, b| a.name.cmp(&b.name));
        Lock {
            api_version: API_VERSION.into(),
            kind: "Lock".into(),
            models,
        }
    }

    /// The pin for `m`, if it holds what the spec asks for.
    pub fn pin_for(&self, m: &Model) -> Result<&Pin, String> {
        let rerun = "run `mlk resolve` to update mlk.lock";
        let pin = self
            .models
            .iter()
            .find(|p| p.name == m.name)
            .ok_or_else(|| format!("is not in mlk.lock: {rerun}"))?;
        if workspace_of(pin.workspace.as_ref()) != workspace_of(m.workspace.as_ref()) {
            return Err(format!(
                "mlk.lock holds the model of workspace {}, the spec asks for {}: {rerun}",
                workspace_of(pin.workspace.as_ref()),
                workspace_of(m.workspace.as_ref())
            ));
        }
        if pin.registered_model != m.registered_model {
            return Err(format!(
                "mlk.lock holds registered model {:?}, the spec asks for {:?}: {rerun}",
                pin.registered_model.as_str(),
                m.registered_model.as_str()
            ));
        }
        let asked = match (&m.alias, m.version) {
            (Some(a), _) => pin.alias.as_ref() == Some(a),
            (None, Some(v)) => pin.alias.is_none() && pin.version == v,
            (None, None) => false,
        };
        match asked {
            true => Ok(pin),
            false => Err(format!(
                "mlk.lock holds {}, the spec asks for {}: {rerun}",
                asked_for(pin.alias.as_ref(), Some(pin.version)),
                asked_for(m.alias.as_ref(), m.version)
            )),
        }
    }

    pub fn to_yaml(&self) -> String {
        let body = serde_yaml::to_string(self).expect("a lock serializes");
        format!("{HEADER}{body}")
    }

    /// One line per model that changed, was added or was removed:
    /// `wine: champion 3 → 4`.
    pub fn changes(&self, new: &Lock) -> Vec<String> {
        let mut out = Vec::new();
        for p in &new.models {
            let asked = asked_for(p.alias.as_ref(), None);
            match self.models.iter().find(|o| o.name == p.name) {
                None => out.push(format!("{}: {asked} {} (new)", p.name, p.version)),
                Some(o) if o.version != p.version => {
                    out.push(format!("{}: {asked} {} → {}", p.name, o.version, p.version));
                }
                Some(o) if o != p => {
                    out.push(format!("{}: {asked} {} (changed)", p.name, p.version))
                }
                Some(_) => {}
            }
        }
        for o in &self.models {
            if !new.models.iter().any(|p| p.name == o.name) {
                out.push(format!("{}: removed", o.name));
            }
        }
        out
    }
}

fn workspace_of(w: Option<&WorkspaceName>) -> &str {
    w.map_or(crate::spec::DEFAULT_WORKSPACE, |w| w.as_str())
}

fn asked_for(alias: Option<&Alias>, version: Option<ModelVersion>) -> String {
    match (alias, version) {
        (Some(a), _) => a.as_str().to_owned(),
        (None, Some(v)) => format!("version {v}"),
        (None, None) => "version".into(),
    }
}

/// Where the lock of a spec lives: `--lock`, else beside the spec (the
/// working directory for stdin).
pub fn path_for(flag: Option<&Path>, spec: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_owned();
    }
    match spec.and_then(Path::parent) {
        Some(parent) if spec != Some(Path::new("-")) => parent.join(FILE_NAME),
        _ => PathBuf::from(FILE_NAME),
    }
}

/// The lock at `path`, or `None` when there is none.
pub fn read(path: &Path) -> Result<Option<Lock>, String> {
    let shown = path.display();
    let text = match crate::spec_files::read_spec_file(path) {
        Ok(text) => text,
        Err(_) if !path.exists() => return Ok(None),
        Err(e) => return Err(format!("{shown}: cannot read the lock file: it {e}")),
    };
    let lock: Lock = crate::located::Located::parse_yaml(&shown.to_string(), &text)
        .map_err(|e| e.to_string())?;
    if lock.api_version != API_VERSION || lock.kind != "Lock" {
        return Err(format!(
            "{shown}: a lock file has `apiVersion: {API_VERSION}` and `kind: Lock`"
        ));
    }
    // Two pins of one name: which one serves would depend on the order.
    let mut names = std::collections::BTreeSet::new();
    if let Some(twice) = lock.models.iter().find(|p| !names.insert(&p.name)) {
        return Err(format!(
            "{shown}: model {} is listed twice; run `mlk resolve` to write the lock anew",
            twice.name
        ));
    }
    Ok(Some(lock))
}

/// Replaces the lock in one rename, so a reader never sees half of it.
pub fn write(path: &Path, lock: &Lock) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let staging = folder.join(format!(".{}.mlk-tmp", name.unwrap_or_default()));
    // A leftover, or a symlink planted there, is removed, never followed.
    match std::fs::remove_file(&staging) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&staging)?;
    std::io::Write::write_all(&mut file, lock.to_yaml().as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&staging, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&staging);
    })
}
