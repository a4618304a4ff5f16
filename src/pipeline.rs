//! The render pipeline, one stage after another: layers → resolve →
//! context → render → parse → checksums → validate. Nothing is emitted unless every
//! stage succeeds.

use std::collections::BTreeMap;

use anyhow::bail;

use crate::layers::{self, Inputs};
use crate::manifest::Document;
use crate::resolve::{self, Lookup, SecretEnv};
use crate::spec_files::Grants;
use crate::{checksums, context, patches, render, validate};

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
    /// The merged spec the documents came from, handed on rather than
    /// freed here: a caller that ends the process without freeing the
    /// documents (`mlk render`) need not free the spec either, which for
    /// thousands of models costs as much as a stage.
    pub spec: layers::Merged,
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
    let resolve::Resolved {
        platform,
        warnings,
        external,
        read_files,
        lock,
    } = resolve::resolve(&merged, &env, lookup).map_err(|e| e.map(|l| merged.locate(l)))?;
    let ctx = context::build(&platform);
    let external_secrets = platform.secret_store.is_some();
    // The context holds all the templates need: the resolved platform's
    // memory is free for them and for the documents.
    drop(platform);
    let notes = ctx.tracking.admin_note.iter().cloned().collect();
    let rendered = render::render(&ctx)?;
    // The templates hold their own copy of what they laid out: the
    // context's memory is free for the documents.
    drop(ctx);
    let mut docs = parse_rendered(rendered)?;
    let patched =
        patches::apply(&mut docs, &merged.spec.patches).map_err(|e| e.map(|l| merged.locate(l)))?;
    checksums::annotate(&mut docs);
    if external_secrets && docs.iter().any(|d| d.kind() == "Secret") {
        bail!(
            "externalSecrets mode rendered a Secret with values (a bug in mlk); nothing was emitted"
        );
    }
    check(&docs, catalog, &external, &patched)?;
    let mut read = read_files;
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
        warnings,
        notes,
        inputs: read,
        lock,
        spec: merged,
    })
}

/// Validates the platform as it will be applied. A problem in an object a
/// patch changed is reported against the patch; any other is mlk's own.
fn check(
    docs: &[Document],
    catalog: &validate::Catalog,
    external: &validate::External,
    patched: &patches::Patched,
) -> anyhow::Result<()> {
    let report = validate::validate(docs, catalog, external, validate::Level::Restricted);
    if report.is_valid(true) {
        return Ok(());
    }
    let by_patch = |object: &str| {
        let doc = patched.iter().find(|(d, _)| docs[*d].id() == object)?;
        let names: Vec<String> = doc.1.iter().map(|i| format!("patches[{i}]")).collect();
        Some(names.join(", "))
    };
    let mut any_patched = false;
    let mut list: Vec<String> = Vec::new();
    for p in &report.problems {
        match by_patch(&p.object) {
            Some(names) => {
                any_patched = true;
                list.push(format!("{names}: {p}"));
            }
            None => list.push(p.to_string()),
        }
    }
    list.extend(
        report
            .unchecked
            .iter()
            .map(|id| format!("{id}: not checked")),
    );
    let why = match any_patched {
        true => "after the spec's patches",
        false => "a bug in mlk, unless a --crd file disagrees",
    };
    bail!(
        "the rendered platform fails validation ({why}):\n{}",
        list.join("\n")
    )
}

/// Each template's output as documents.
fn parse_rendered(rendered: Vec<render::Rendered>) -> anyhow::Result<Vec<Document>> {
    let mut docs = Vec::new();
    for r in rendered {
        docs.extend(r.documents()?);
    }
    Ok(docs)
}
