//! The render pipeline, one stage after another: layers → resolve →
//! context → render → parse → validate. Nothing is emitted unless every
//! stage succeeds.

use std::collections::BTreeMap;

use anyhow::bail;

use crate::layers::{self, Inputs};
use crate::manifest::{self, Document};
use crate::resolve::{self, SecretEnv};
use crate::{context, render, validate};

pub struct Rendered {
    pub docs: Vec<Document>,
    pub warnings: Vec<String>,
}

/// `vars` is the process environment, captured once by the caller.
pub fn render_platform(
    inputs: &Inputs,
    vars: BTreeMap<String, String>,
) -> anyhow::Result<Rendered> {
    let merged = layers::load(inputs)?;
    let meta = &merged.spec.metadata;
    let env = SecretEnv {
        vars,
        allow_dev_key: merged.profile.allow_dev_secrets,
        profile: merged.profile.name.clone(),
        platform_id: format!("{}/{}", meta.namespace, meta.name),
    };
    let resolved = resolve::resolve(&merged, &env).map_err(|e| merged.locate(e))?;
    let ctx = context::build(&resolved.platform);
    let docs = manifest::parse(&render::render(&ctx)?)?;
    let problems = validate::validate(&docs);
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        bail!(
            "internal error: the rendered platform is invalid:\n{}",
            list.join("\n")
        );
    }
    Ok(Rendered {
        docs,
        warnings: resolved.warnings,
    })
}
