//! The render pipeline, one stage after another: layers → resolve →
//! context → render → parse → pod-wide settings → patches → checksums →
//! gate → validate.
//! Nothing is emitted unless every stage succeeds.

mod attribute;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::bail;

use crate::layers::{self, Inputs};
use crate::located::Located;
use crate::manifest::Document;
use crate::problems::Problems;
use crate::resolve::{self, Lookup, SecretEnv};
use crate::spec_files::Grants;
use crate::{checksums, context, disk, gate, patches, pod_wide, render, validate};

/// What the person running mlk allows a spec, beyond what it may do on
/// its own: files outside its folder, environment variables, front-door
/// annotations mlk does not know to be safe, and the public development
/// key. A spec never grants
/// itself any of these.
#[derive(Debug, Clone, Default)]
pub struct Allowances {
    pub files: Grants,
    /// Environment variables `fromEnv` may read.
    pub env: BTreeSet<String>,
    pub annotations: BTreeSet<String>,
    pub dev_secrets: bool,
    /// `--allow-insecure-issuer`: an http OIDC issuer and redirect, for
    /// tests.
    pub insecure_issuer: bool,
}

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
    allowed: &Allowances,
) -> anyhow::Result<Rendered> {
    let merged = layers::load(inputs, &allowed.files)?;
    let mut files = allowed.files.clone();
    merged
        .folders
        .iter()
        .for_each(|f| files.add_layer_folder(f));
    let meta = &merged.spec.metadata;
    let env = SecretEnv {
        vars,
        allow_dev_key: merged.profile.allow_dev_secrets || allowed.dev_secrets,
        profile: merged.profile.name.clone(),
        platform_id: format!("{}/{}", meta.namespace, meta.name),
        files,
        allowed_vars: allowed.env.clone(),
        allow_insecure_issuer: allowed.insecure_issuer,
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
    pod_wide::apply(&mut docs, &merged.spec).map_err(|l| Problems::from(merged.locate(l)))?;
    disk::apply(&mut docs);
    let patches = &merged.spec.patches;
    let before = (!patches.is_empty()).then(|| gate::Snapshot::take(&docs));
    let touched = patches::apply(&mut docs, patches).map_err(|e| e.map(|l| merged.locate(l)))?;
    // Again, for what a patch added or removed: an old spec's patch that
    // adds a sidecar or an emptyDir is bounded, not refused.
    if !patches.is_empty() {
        disk::apply(&mut docs);
    }
    checksums::annotate(&mut docs);
    let secrets = crate::sensitive::known();
    let policy = gate::Policy {
        secrets: &secrets,
        before_patches: before.as_ref(),
        allowed_annotations: &allowed.annotations,
        secret_data: !external_secrets,
        pod_security: gate::Level::Restricted,
        insecure_issuer: allowed.insecure_issuer,
    };
    let findings = gate::check(&docs, &policy);
    if !findings.is_empty() {
        let sources = attribute::Sources {
            merged: &merged,
            touched: &touched,
            secrets: &secrets,
        };
        return Err(attribute::refuse(&findings, &sources).into());
    }
    // The spec names every object the platform expects outside itself.
    check(&docs, catalog, &external, &touched, &merged)?;
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

/// Validates the platform as it will be applied: its schemas and
/// references (the gate has held it to Pod Security). A problem in an
/// object a patch changed is reported against the patch; any other is
/// mlk's own.
fn check(
    docs: &[Document],
    catalog: &validate::Catalog,
    external: &validate::External,
    touched: &[patches::Touch],
    merged: &layers::Merged,
) -> anyhow::Result<()> {
    let report = validate::validate(docs, catalog, external, validate::Level::Privileged);
    if report.is_valid(true) {
        return Ok(());
    }
    // A problem in an object a patch changed is placed at the last such
    // patch, with its line; any other is mlk's own.
    let by_patch = |object: &str| {
        let last = touched.iter().rfind(|t| docs[t.object].id() == object)?;
        Some(format!("patches[{}]", last.patch))
    };
    let mut placed = Vec::new();
    let mut own: Vec<String> = Vec::new();
    for p in &report.problems {
        match by_patch(&p.object) {
            Some(path) => {
                let msg = format!("{p} (the platform after this patch fails validation)");
                placed.push(merged.locate(Located::new("spec", Some(&path), msg)));
            }
            None => own.push(p.to_string()),
        }
    }
    own.extend(
        report
            .unchecked
            .iter()
            .map(|id| format!("{id}: not checked")),
    );
    if !own.is_empty() {
        own.extend(placed.iter().map(ToString::to_string));
        bail!(
            "the rendered platform fails validation (a bug in mlk, unless a --crd file \
             disagrees):\n{}",
            own.join("\n")
        )
    }
    Err(Problems(placed).into())
}

/// Each template's output as documents.
fn parse_rendered(rendered: Vec<render::Rendered>) -> anyhow::Result<Vec<Document>> {
    let mut docs = Vec::new();
    for r in rendered {
        docs.extend(r.documents()?);
    }
    Ok(docs)
}
