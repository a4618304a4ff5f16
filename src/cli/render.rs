//! `mlk render` and `mlk profiles`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;

use super::Format;
use crate::emit;
use crate::layers::{self, BUILTIN_PROFILES, DEFAULT_PROFILE, Inputs, SetExpr};
use crate::pipeline::render_platform;
use crate::resolve::Lookup;
use crate::spec_files::Grants;

#[derive(clap::Args)]
pub struct RenderArgs {
    /// The platform spec (`-` reads standard input).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// A built-in profile (dev, prod, ha) or a profile file; else the
    /// spec's own `profile`, else dev. Must agree with the spec's.
    #[arg(long, value_name = "NAME|PATH")]
    profile: Option<String>,
    /// Print the merged spec (profile, spec file and --set, in that order)
    /// instead of the manifests; secret sources as written, `value`s
    /// masked.
    #[arg(long, conflicts_with_all = ["output_dir", "resolve"])]
    print_spec: bool,
    /// Override a spec value, e.g. tracking.replicas=3 (read as YAML).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Override a spec value, always as a string.
    #[arg(long = "set-string", value_name = "PATH=VALUE")]
    set_string: Vec<String>,
    /// Output format on stdout.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Yaml)]
    output: Format,
    /// Write one file per component and a kustomization.yaml into DIR
    /// instead of printing.
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    output_dir: Option<PathBuf>,
    /// Leave every Secret out of the output (they are still checked), for
    /// those who create Secrets by other means.
    #[arg(long)]
    omit_secrets: bool,
    /// Look up registry aliases and versions of `serving.models` on the
    /// tracking server (--tracking-uri, MLFLOW_TRACKING_URI or
    /// serving.trackingUri). MLFLOW_TRACKING_USERNAME and
    /// MLFLOW_TRACKING_PASSWORD go only to a server named by the first two.
    #[arg(long)]
    resolve: bool,
    /// The tracking server for --resolve; wins over MLFLOW_TRACKING_URI.
    #[arg(long, value_name = "URL", requires = "resolve")]
    tracking_uri: Option<String>,
    /// Send tracking credentials over plain http://.
    #[arg(long, requires = "resolve")]
    allow_insecure_tracking: bool,
    /// Let the spec read this file, or files beneath this folder (through
    /// fromFile or htpasswdFile), besides its own folder. Repeatable.
    #[arg(long = "allow-file", value_name = "PATH")]
    allow_file: Vec<PathBuf>,
    #[command(flatten)]
    schemas: super::validate::SchemaArgs,
}

pub fn run(args: RenderArgs, notes: &mut Vec<String>) -> anyhow::Result<String> {
    let mut sets = Vec::new();
    for s in &args.set {
        sets.push(SetExpr::parse(s, false).map_err(anyhow::Error::msg)?);
    }
    for s in &args.set_string {
        sets.push(SetExpr::parse(s, true).map_err(anyhow::Error::msg)?);
    }
    let inputs = Inputs {
        file: args.file.as_deref(),
        profile: args.profile.as_deref(),
        sets: &sets,
    };
    if args.print_spec {
        let merged = layers::load(&inputs).map_err(anyhow::Error::new)?;
        return Ok(print_spec(&merged));
    }
    let catalog = args.schemas.catalog()?;
    let mut allowed = Grants::default();
    for path in &args.allow_file {
        allowed.allow(path).map_err(anyhow::Error::msg)?;
    }
    let vars = environment();
    let lookup = Lookup::from_env(
        args.resolve,
        &vars,
        args.tracking_uri.as_deref(),
        args.allow_insecure_tracking,
    );
    let mut rendered = render_platform(&inputs, vars, &catalog, &lookup, &allowed)?;
    notes.extend(rendered.warnings.iter().map(|w| format!("warning: {w}")));
    notes.extend(rendered.notes.iter().map(|n| format!("note: {n}")));
    if args.omit_secrets {
        rendered.docs.retain(|d| d.kind() != "Secret");
    }
    if let Some(dir) = args.output_dir {
        let written = emit::write_dir(&dir, &rendered.docs, &rendered.inputs)
            .with_context(|| format!("writing {}", dir.display()))?;
        notes.extend(written.warnings.iter().map(|w| format!("warning: {w}")));
        let files = written.files.join(", ");
        notes.push(format!("wrote {files} into {}", dir.display()));
        return Ok(String::new());
    }
    Ok(match args.output {
        Format::Yaml => emit::to_yaml_stream(&rendered.docs),
        Format::Json => emit::to_json_list(&rendered.docs),
    })
}

/// The merged spec as a spec file, with its profile named; a secret
/// written in the spec (`value`) shows as `***`.
fn print_spec(merged: &layers::Merged) -> String {
    let mut value = merged.value.clone();
    mask_values(&mut value);
    let mut doc = serde_yaml::Mapping::new();
    doc.insert("apiVersion".into(), crate::spec::API_VERSION.into());
    doc.insert("kind".into(), "Platform".into());
    doc.insert("profile".into(), merged.profile.name.clone().into());
    if let serde_yaml::Value::Mapping(m) = value {
        doc.extend(m);
    }
    emit::to_yaml(&serde_yaml::Value::Mapping(doc))
}

/// A secret source `{value: ...}`: the one form that holds a secret.
fn mask_values(v: &mut serde_yaml::Value) {
    match v {
        serde_yaml::Value::Mapping(m) if m.len() == 1 && m.contains_key("value") => {
            m.insert("value".into(), "***".into());
        }
        serde_yaml::Value::Mapping(m) => m.values_mut().for_each(mask_values),
        serde_yaml::Value::Sequence(s) => s.iter_mut().for_each(mask_values),
        _ => {}
    }
}

fn environment() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

pub fn profiles() -> anyhow::Result<String> {
    let mut out = String::new();
    for (name, _) in BUILTIN_PROFILES {
        let p = layers::load_profile(name)?;
        out.push_str(&format!(
            "{name}{}\n",
            if name == DEFAULT_PROFILE {
                " (default)"
            } else {
                ""
            }
        ));
        out.push_str(&format!("  {}\n", p.description));
        out.push_str("  prerequisites:\n");
        for pre in &p.prerequisites {
            out.push_str(&format!("    - {pre}\n"));
        }
        out.push_str("  sets:\n");
        for line in emit::to_yaml(&p.layer.value).lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    Ok(out)
}
