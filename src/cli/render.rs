//! `mlk render` and `mlk profiles`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;

use super::Format;
use crate::emit;
use crate::layers::{self, BUILTIN_PROFILES, DEFAULT_PROFILE, Inputs, SetExpr};
use crate::lock;
use crate::pipeline::{Allowances, render_platform};
use crate::resolve::ALLOW_ENV_VAR;
use crate::resolve::Lookup;
use crate::spec_files::Grants;

/// What a render reads: the spec, its profile, overrides, the files it
/// may name, and its lock.
#[derive(clap::Args)]
pub struct SpecArgs {
    /// The platform spec (`-` reads standard input).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// A built-in profile (dev, prod, ha) or a profile file; else the
    /// spec's own `profile`, else dev. Must agree with the spec's.
    #[arg(long, value_name = "NAME|PATH")]
    profile: Option<String>,
    /// Override a spec value, e.g. tracking.replicas=3 (read as YAML).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Override a spec value, always as a string.
    #[arg(long = "set-string", value_name = "PATH=VALUE")]
    set_string: Vec<String>,
    /// Let the spec read this file, or files beneath this folder (through
    /// fromFile or htpasswdFile), besides its own folder. Repeatable.
    #[arg(long = "allow-file", value_name = "PATH")]
    allow_file: Vec<PathBuf>,
    /// Let the spec read this environment variable (through fromEnv);
    /// MLK_ALLOW_ENV names more, comma-separated. Repeatable.
    #[arg(long = "allow-env", value_name = "NAME")]
    allow_env: Vec<String>,
    /// Let the Ingress or HTTPRoute carry this annotation, which mlk does
    /// not know to be safe (a spec cannot allow one itself). Repeatable.
    #[arg(long = "allow-annotation", value_name = "KEY")]
    allow_annotation: Vec<String>,
    /// Let `generate: true` fall back to the public development key when
    /// MLK_SECRET_KEY is unset, whatever the profile (only the built-in
    /// dev profile does so by itself). Never for data you keep.
    #[arg(long)]
    allow_dev_secrets: bool,
    /// Let tracking.auth.oidc's issuer and redirect URI be plain http: a
    /// test's provider on loopback, never a real one.
    #[arg(long)]
    allow_insecure_issuer: bool,
    /// The lock file of served models' aliases and versions; default
    /// mlk.lock beside the spec.
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,
    #[command(flatten)]
    schemas: super::validate::SchemaArgs,
}

#[derive(clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    spec: SpecArgs,
    /// Print the merged spec (profile, spec file and --set, in that order)
    /// instead of the manifests; secret sources as written, `value`s
    /// masked.
    #[arg(long, conflicts_with_all = ["output_dir", "resolve"])]
    print_spec: bool,
    /// Output format on stdout.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Yaml)]
    output: Format,
    /// Write kustomize folders into DIR instead of printing: platform/
    /// (one file per component), secrets/ (every Secret) and a
    /// kustomization.yaml over both. Missing parent folders are made.
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    output_dir: Option<PathBuf>,
    /// Render, and compare with FILE instead of printing: exit 0 when it
    /// holds exactly this output, 1 when it is stale (for CI and
    /// pre-commit). A folder is compared with what --output-dir would
    /// write there (secrets/ only when it is there). Nothing is written,
    /// the lock included.
    #[arg(long, value_name = "FILE|DIR", conflicts_with_all = ["output_dir", "print_spec", "resolve"])]
    check: Option<PathBuf>,
    /// Leave every Secret out of the output (they are still checked), for
    /// those who create Secrets by other means.
    #[arg(long)]
    omit_secrets: bool,
    /// Look up registry aliases and versions of `serving.models` on the
    /// tracking server (--tracking-uri, MLFLOW_TRACKING_URI or
    /// serving.trackingUri), and write what they named into the lock.
    /// Without it, the lock is read. MLFLOW_TRACKING_USERNAME and
    /// MLFLOW_TRACKING_PASSWORD go only to a server named by the first two.
    #[arg(long)]
    resolve: bool,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// How `--resolve` and `mlk resolve` reach the registry.
#[derive(clap::Args)]
pub struct RegistryArgs {
    /// The tracking server to ask; wins over MLFLOW_TRACKING_URI.
    #[arg(long, value_name = "URL")]
    tracking_uri: Option<String>,
    /// Send tracking credentials over plain http://.
    #[arg(long)]
    allow_insecure_tracking: bool,
}

/// A render's inputs, read and checked, before anything runs.
pub struct Prepared {
    sets: Vec<SetExpr>,
    catalog: crate::validate::Catalog,
    allowed: Allowances,
    vars: BTreeMap<String, String>,
    lock_path: PathBuf,
}

impl SpecArgs {
    fn inputs<'a>(&'a self, sets: &'a [SetExpr]) -> Inputs<'a> {
        Inputs {
            file: self.file.as_deref(),
            profile: self.profile.as_deref(),
            sets,
        }
    }

    pub fn prepare(&self) -> anyhow::Result<Prepared> {
        let mut sets = Vec::new();
        for s in &self.set {
            sets.push(SetExpr::parse(s, false).map_err(anyhow::Error::msg)?);
        }
        for s in &self.set_string {
            sets.push(SetExpr::parse(s, true).map_err(anyhow::Error::msg)?);
        }
        let mut files = Grants::default();
        for path in &self.allow_file {
            files.allow(path).map_err(anyhow::Error::msg)?;
        }
        let vars = environment();
        let listed = vars.get(ALLOW_ENV_VAR).map_or("", String::as_str);
        let env = listed
            .split([',', ' '])
            .filter(|v| !v.is_empty())
            .chain(self.allow_env.iter().map(String::as_str))
            .map(str::to_owned)
            .collect();
        let allowed = Allowances {
            files,
            env,
            annotations: self.allow_annotation.iter().cloned().collect(),
            dev_secrets: self.allow_dev_secrets,
            insecure_issuer: self.allow_insecure_issuer,
        };
        Ok(Prepared {
            sets,
            catalog: self.schemas.catalog()?,
            allowed,
            vars,
            lock_path: lock::path_for(self.lock.as_deref(), self.file.as_deref()),
        })
    }
}

impl Prepared {
    /// Renders with the registry asked (`resolve`), or with the lock.
    pub fn render(
        self,
        spec: &SpecArgs,
        resolve: bool,
        registry: &RegistryArgs,
    ) -> anyhow::Result<(crate::pipeline::Rendered, PathBuf)> {
        let mut lookup = Lookup::from_env(
            resolve,
            &self.vars,
            registry.tracking_uri.as_deref(),
            registry.allow_insecure_tracking,
        );
        if !resolve {
            lookup.lock = lock::read(&self.lock_path).map_err(anyhow::Error::msg)?;
        }
        let inputs = spec.inputs(&self.sets);
        let rendered = render_platform(&inputs, self.vars, &self.catalog, &lookup, &self.allowed);
        // A command renders once and then the process ends: the schemas
        // it read need not be freed node by node.
        std::mem::forget(self.catalog);
        Ok((rendered?, self.lock_path))
    }
}

/// Writes the new lock when the registry named something, or a lock is
/// there to update; returns what changed.
pub fn write_lock(path: &std::path::Path, new: &lock::Lock) -> anyhow::Result<Vec<String>> {
    let old = lock::read(path).map_err(anyhow::Error::msg)?;
    if new.models.is_empty() && old.is_none() {
        return Ok(Vec::new());
    }
    let changes = old.unwrap_or_default().changes(new);
    lock::write(path, new).with_context(|| format!("writing {}", path.display()))?;
    Ok(changes)
}

pub fn run(args: RenderArgs, notes: &mut Vec<String>) -> anyhow::Result<String> {
    let prepared = args.spec.prepare()?;
    if args.print_spec {
        let inputs = args.spec.inputs(&prepared.sets);
        let merged = layers::load(&inputs, &prepared.allowed.files).map_err(anyhow::Error::new)?;
        return Ok(print_spec(&merged));
    }
    let (mut rendered, lock_path) = prepared.render(&args.spec, args.resolve, &args.registry)?;
    notes.extend(rendered.warnings.iter().map(|w| format!("warning: {w}")));
    notes.extend(rendered.notes.iter().map(|n| format!("note: {n}")));
    // `--check DIR` sees the Secrets: whether the folder's kustomization
    // lists `secrets` depends on them, not on this flag.
    let folder = match &args.check {
        Some(dir) if dir.is_dir() => Some(emit::folder_files(&rendered.docs)),
        _ => None,
    };
    if args.omit_secrets {
        rendered.docs.retain(|d| d.kind() != "Secret");
    }
    if let Some(dir) = &args.output_dir {
        let written = emit::write_dir(dir, &rendered.docs, &rendered.inputs)
            .with_context(|| format!("writing {}", dir.display()))?;
        notes.extend(written.warnings.iter().map(|w| format!("warning: {w}")));
        let files = written.files.join(", ");
        notes.push(format!("wrote {files} into {}", dir.display()));
    }
    let out = match (&args.output_dir, args.output) {
        (Some(_), _) => String::new(),
        (None, Format::Yaml) => emit::to_yaml_stream(&rendered.docs),
        (None, Format::Json) => emit::to_json_list(&rendered.docs),
    };
    if let Some(file) = &args.check {
        let checked = match folder {
            Some(_) if matches!(args.output, Format::Json) => Err(anyhow::anyhow!(
                "--check {}: a folder is written as YAML; leave out -o json",
                file.display()
            )),
            Some(files) => check_folder(file, &files, args.omit_secrets, notes),
            None => check_file(file, &out, notes),
        };
        std::mem::forget(rendered);
        return checked;
    }
    // Last, so that no failed render leaves a changed lock behind.
    if let Some(new) = &rendered.lock {
        for change in write_lock(&lock_path, new)? {
            notes.push(format!("{}: {change}", lock_path.display()));
        }
    }
    // The process ends once `out` is written. Freeing every node of every
    // document one by one costs about as much as emitting them did.
    std::mem::forget(rendered);
    Ok(out)
}

/// Whether `file` holds `out` byte for byte; where it first differs
/// when not, by line, never by content (the output may hold secrets).
fn check_file(
    file: &std::path::Path,
    out: &str,
    notes: &mut Vec<String>,
) -> anyhow::Result<String> {
    let shown = file.display();
    let text = crate::spec_files::read_stream_file(file)
        .map_err(|e| anyhow::anyhow!("--check {shown}: it {e}"))?;
    if text == out {
        notes.push(format!("{shown} is up to date"));
        return Ok(String::new());
    }
    let line = first_difference(&text, out);
    anyhow::bail!(
        "{shown} is stale: the spec renders differently from line {line} on; render it again \
         with the same flags, writing to {shown}"
    )
}

/// Whether `dir` holds what `--output-dir` would write: each file byte
/// for byte. `secrets/` is compared only when it is there, in plain text
/// (not SOPS-encrypted) and not left out with `--omit-secrets`: a
/// repository keeps it out or encrypted, and the kustomization's
/// `- secrets` line is then not held against it. Files are read as a
/// spec's are: none through a symlink that leaves its folder.
fn check_folder(
    dir: &std::path::Path,
    files: &[(String, String)],
    omit_secrets: bool,
    notes: &mut Vec<String>,
) -> anyhow::Result<String> {
    let compare_secrets = !omit_secrets && plain_secrets(dir)?;
    for (name, text) in files {
        if name.starts_with("secrets/") && !compare_secrets {
            continue;
        }
        let path = dir.join(name);
        let shown = path.display();
        let held = crate::spec_files::read_beneath(dir, std::path::Path::new(name))
            .map_err(|e| anyhow::anyhow!("{shown} is stale: it {e}; render the folder again"))?;
        let same = match name == "kustomization.yaml" && !compare_secrets {
            true => without_secrets(&held) == without_secrets(text),
            false => held == *text,
        };
        if !same {
            let line = first_difference(&held, text);
            anyhow::bail!(
                "{shown} is stale: the spec renders differently from line {line} on; render \
                 the folder again with the same flags (--output-dir {})",
                dir.display()
            );
        }
    }
    if compare_secrets && !files.iter().any(|(name, _)| name.starts_with("secrets/")) {
        anyhow::bail!(
            "{} is stale: it holds secrets/, and the spec renders no Secret",
            dir.display()
        );
    }
    notes.push(format!("{} is up to date", dir.display()));
    Ok(String::new())
}

/// Whether `dir/secrets/` is there as a real folder, its Secrets in plain
/// text. Encrypted Secrets (SOPS writes a top-level `sops:` key) can't be
/// compared without the key that decrypts them.
fn plain_secrets(dir: &std::path::Path) -> anyhow::Result<bool> {
    let folder = dir.join("secrets");
    let is_folder = std::fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir());
    if !is_folder {
        return Ok(false);
    }
    let file = std::path::Path::new("secrets/secrets.yaml");
    let Ok(text) = crate::spec_files::read_beneath(dir, file) else {
        return Ok(true);
    };
    Ok(!text.lines().any(|l| l.starts_with("sops:")))
}

/// A kustomization's text without its `- secrets` entry.
fn without_secrets(text: &str) -> String {
    text.lines()
        .filter(|l| l.trim() != "- secrets")
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first line (from 1) where `a` and `b` differ.
fn first_difference(a: &str, b: &str) -> usize {
    a.lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()))
        + 1
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
    emit::to_yaml(&serde_yaml::Value::Mapping(doc).into())
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
        for line in emit::to_yaml(&p.layer.value.clone().into()).lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    Ok(out)
}
