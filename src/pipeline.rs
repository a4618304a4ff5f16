//! The render pipeline, one stage after another: layers → resolve →
//! context → render → parse → validate. Nothing is emitted unless every
//! stage succeeds.

use std::collections::BTreeMap;

use anyhow::bail;

use crate::layers::{self, Inputs};
use crate::manifest::{self, Document};
use crate::resolve::{self, Lookup, SecretEnv};
use crate::{context, render, validate};

pub struct Rendered {
    pub docs: Vec<Document>,
    pub warnings: Vec<String>,
}

/// `vars` is the process environment, captured once by the caller.
/// With `resolve_models`, registry aliases and versions are looked up on
/// the live tracking server.
pub fn render_platform(
    inputs: &Inputs,
    vars: BTreeMap<String, String>,
    catalog: &validate::Catalog,
    resolve_models: bool,
) -> anyhow::Result<Rendered> {
    let merged = layers::load(inputs)?;
    let meta = &merged.spec.metadata;
    let lookup = Lookup::from_env(resolve_models, &vars);
    let env = SecretEnv {
        vars,
        allow_dev_key: merged.profile.allow_dev_secrets,
        profile: merged.profile.name.clone(),
        platform_id: format!("{}/{}", meta.namespace, meta.name),
    };
    let resolved = resolve::resolve(&merged, &env, &lookup).map_err(|e| merged.locate(e))?;
    let ctx = context::build(&resolved.platform);
    let docs = manifest::parse(&render::render(&ctx)?)?;
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
    Ok(Rendered {
        docs,
        warnings: resolved.warnings,
    })
}
