//! The render pipeline, one stage after another: layers → resolve →
//! context → render → parse → checksums → validate. Nothing is emitted unless every
//! stage succeeds.

use std::collections::BTreeMap;

use anyhow::bail;

use crate::layers::{self, Inputs};
use crate::manifest::{self, Document};
use crate::resolve::{self, Lookup, SecretEnv};
use crate::spec_files::Grants;
use crate::{checksums, context, render, validate};

pub struct Rendered {
    pub docs: Vec<Document>,
    pub warnings: Vec<String>,
    /// What a user needs to know, not a problem: how to log in.
    pub notes: Vec<String>,
    /// Every file the render read: the spec, its profile, and the files
    /// they name.
    pub inputs: Vec<std::path::PathBuf>,
    /// What the registry named, when it was asked.
    pub lock: Option<crate::lock::Lock>,
}

/// `vars` is the process environment, captured once by the caller.
/// `lookup` says whether and where registry aliases and versions are
/// looked up; `allowed` is what the person running mlk let the spec read.
pub fn render_platform(
    inputs: &Inputs,
    vars: BTreeMap<String, String>,
    catalog: &validate::Catalog,
    lookup: &Lookup,
    allowed: &Grants,
) -> anyhow::Result<Rendered> {
    let merged = layers::load(inputs)?;
    let mut files = allowed.clone();
    merged
        .folders
        .iter()
        .for_each(|f| files.add_layer_folder(f));
    let meta = &merged.spec.metadata;
    let env = SecretEnv {
        vars,
        allow_dev_key: merged.profile.allow_dev_secrets,
        profile: merged.profile.name.clone(),
        platform_id: format!("{}/{}", meta.namespace, meta.name),
        files,
    };
    let resolved =
        resolve::resolve(&merged, &env, lookup).map_err(|e| e.map(|l| merged.locate(l)))?;
    let ctx = context::build(&resolved.platform);
    let notes = ctx.tracking.admin_note.iter().cloned().collect();
    let mut docs = manifest::parse(&render::render(&ctx)?)?;
    checksums::annotate(&mut docs);
    if resolved.platform.secret_store.is_some() && docs.iter().any(|d| d.kind() == "Secret") {
        bail!(
            "externalSecrets mode rendered a Secret with values (a bug in mlk); nothing was emitted"
        );
    }
    let level = validate::Level::Restricted;
    let report = validate::validate(&docs, catalog, &resolved.external, level);
    if !report.is_valid(true) {
        let unchecked = report
            .unchecked
            .iter()
            .map(|id| format!("{id}: not checked"));
        let list: Vec<String> = report
            .problems
            .iter()
            .map(ToString::to_string)
            .chain(unchecked)
            .collect();
        bail!(
            "the rendered platform fails validation (a bug in mlk, unless a --crd file disagrees):\n{}",
            list.join("\n")
        );
    }
    let mut read = resolved.read_files;
    read.extend(
        inputs
            .file
            .filter(|f| *f != std::path::Path::new("-"))
            .map(Into::into),
    );
    if merged.profile.folder.is_some() {
        read.push(merged.profile.layer.origin.clone().into());
    }
    Ok(Rendered {
        docs,
        warnings: resolved.warnings,
        notes,
        inputs: read,
        lock: resolved.lock,
    })
}
