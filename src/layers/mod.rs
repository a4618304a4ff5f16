//! Stage 1 and 2 of the pipeline: read the spec's layers and merge them.
//! Precedence: built-in defaults < profile < spec file < `--set`.

mod file;
mod merge;
mod profile;
mod set;

use std::path::Path;

use serde_yaml::{Mapping, Value};

pub use profile::{
    BUILTIN as BUILTIN_PROFILES, DEFAULT as DEFAULT_PROFILE, Profile, load as load_profile,
    schema as profile_schema,
};

use crate::spec_files::Grants;
pub use set::SetExpr;

use crate::located::Located;
use crate::problems::Problems;
use crate::spec::PlatformSpec;

/// A layer's text as `T` and as its YAML value. A text that keeps to the
/// YAML mlk writes, as most specs and every profile do, is read by the
/// manifest stage's reader of that subset; any other, and any `T` refuses,
/// by serde_yaml, with every error and its line.
fn parse_layer<T: serde::de::DeserializeOwned>(
    origin: &str,
    text: &str,
) -> Result<(T, Value), Problems> {
    if let Some(value) = crate::manifest::read_mapping(text)
        && let Ok(typed) = T::deserialize(&value)
    {
        return Ok((typed, value));
    }
    crate::problems::parse_with_value(origin, text)
}

/// One source of spec values, already checked on its own.
#[derive(Debug, Clone)]
pub struct Layer {
    pub origin: String,
    pub value: Value,
    /// The text it was read from, to find lines in.
    pub source: Option<String>,
    /// The profile a spec file names.
    pub profile: Option<String>,
}

pub struct Inputs<'a> {
    /// The spec file; `-` reads standard input.
    pub file: Option<&'a Path>,
    /// `--profile`; else the spec's own `profile`, else the default.
    pub profile: Option<&'a str>,
    pub sets: &'a [SetExpr],
}

pub struct Merged {
    pub spec: PlatformSpec,
    pub profile: Profile,
    /// The profile and the spec file, lowest first.
    files: Vec<Layer>,
    /// The `--set` labels with their dotted paths, in order.
    sets: Vec<(String, String)>,
    /// The folder of each layer that may name files: a file read for the
    /// spec is read beneath one of these.
    pub folders: Vec<std::path::PathBuf>,
    /// The merged layers, as written (for `--print-spec`).
    pub value: Value,
}

impl Merged {
    /// Places an error about a merged field where it was written: the
    /// last `--set` that touched it, else the highest file holding it (or,
    /// for a missing field, its nearest parent), with the line there.
    pub fn locate(&self, mut err: Located) -> Located {
        // Errors about the environment are already placed.
        if err.origin != "spec" {
            return err;
        }
        let path = err.path.clone().unwrap_or_default();
        let mut prefix = path.as_str();
        loop {
            let touches = |p: &str| p.starts_with(prefix) || prefix.starts_with(p);
            if let Some((label, _)) = self.sets.iter().rev().find(|(_, p)| touches(p)) {
                err.origin = label.clone();
                return err;
            }
            if let Some(layer) = self.files.iter().rev().find(|l| has_path(&l.value, prefix)) {
                err.origin = layer.origin.clone();
                return match &layer.source {
                    Some(source) => err.with_line_in(source),
                    None => err,
                };
            }
            match parent_path(prefix) {
                Some(p) => prefix = p,
                None => break,
            }
        }
        err.origin = "defaults".into();
        err
    }
}

/// The path one segment up, minding quoted keys.
fn parent_path(path: &str) -> Option<&str> {
    let mut quoted = false;
    let mut last = None;
    for (i, c) in path.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => last = Some(i),
            _ => {}
        }
    }
    last.map(|i| &path[..i])
}

fn has_path(value: &Value, dotted: &str) -> bool {
    let mut v = value;
    for seg in crate::located::segments(dotted) {
        let (key, index) = match seg.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg.as_str(), None),
        };
        let Some(next) = v.get(key) else { return false };
        v = match index {
            Some(i) => match next.get(i) {
                Some(item) => item,
                None => return false,
            },
            None => next,
        };
    }
    true
}

/// `grants` is what the person running mlk let the spec read besides its
/// own folder; a profile the spec names is read as its files are.
pub fn load(inputs: &Inputs, grants: &Grants) -> Result<Merged, Problems> {
    let spec_layer = inputs.file.map(read_spec).transpose()?;
    let named = spec_layer.as_ref().and_then(|l| l.profile.clone());
    let chosen = chosen_profile(inputs.profile, named.clone(), spec_layer.as_ref())?;
    let profile = match (inputs.profile, inputs.file, &spec_layer) {
        (None, Some(path), Some(layer)) if named.is_some() => {
            profile::load_named_by_spec(&chosen, &layer.origin, &folder_of(path), grants).map_err(
                |e| {
                    e.map(|mut l| {
                        if l.origin == layer.origin {
                            l.line = layer
                                .source
                                .as_deref()
                                .and_then(|t| file::line_of_top_level_key(t, "profile"));
                        }
                        l
                    })
                },
            )?
        }
        _ => profile::load(&chosen)?,
    };
    let mut value = Value::Mapping(Mapping::new());
    merge::merge(&mut value, profile.layer.value.clone());
    let mut files = vec![profile.layer.clone()];
    let mut folders: Vec<_> = profile.folder.iter().cloned().collect();
    if let (Some(path), Some(layer)) = (inputs.file, spec_layer) {
        folders.push(folder_of(path));
        merge::merge(&mut value, layer.value.clone());
        files.push(layer);
    }
    let mut spec = check(&value, "the merged spec")?;
    for set in inputs.sets {
        set.apply(&mut value)
            .map_err(|e| Located::new(&set.label, None, e))?;
        spec = check(&value, &set.label)?;
    }
    let sets: Vec<(String, String)> = inputs
        .sets
        .iter()
        .map(|s| (s.label.clone(), s.dotted_path()))
        .collect();
    if inputs.sets.iter().any(SetExpr::names_a_file) {
        folders.push(folder_of(Path::new("-")));
    }
    Ok(Merged {
        spec,
        profile,
        files,
        sets,
        folders,
        value,
    })
}

/// `--profile`, the spec's `profile`, or the default; the first two must
/// agree when both are given.
fn chosen_profile(
    flag: Option<&str>,
    named: Option<String>,
    spec: Option<&Layer>,
) -> Result<String, Located> {
    match (flag, named) {
        (Some(f), Some(n)) if f != n => {
            let origin = spec.map_or("spec", |l| l.origin.as_str());
            let mut err = Located::new(
                origin,
                Some("profile"),
                format!(
                    "the spec is written for the {n} profile, but --profile {f} was given: drop \
                     --profile, or make the two agree"
                ),
            );
            err.line = spec
                .and_then(|l| l.source.as_deref())
                .and_then(|t| t.lines().position(|l| l.starts_with("profile:")))
                .map(|i| i + 1);
            Err(err)
        }
        (Some(f), _) => Ok(f.to_owned()),
        (None, Some(n)) => Ok(n),
        (None, None) => Ok(DEFAULT_PROFILE.to_owned()),
    }
}

/// The folder whose files a layer may name: the file's own, or the
/// working directory for stdin and `--set`.
fn folder_of(path: &Path) -> std::path::PathBuf {
    match path.parent() {
        _ if path == Path::new("-") => ".".into(),
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => ".".into(),
    }
}

fn read_spec(path: &Path) -> Result<Layer, Problems> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        let cap = crate::spec_files::MAX_SPEC_BYTES;
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin(), cap + 1),
            &mut bytes,
        )
        .map_err(|e| Located::new("<stdin>", None, format!("cannot read: {e}")))?;
        if bytes.len() as u64 > cap {
            let msg = format!("the spec is larger than {} MiB", cap >> 20);
            return Err(Located::new("<stdin>", None, msg).into());
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| Located::new("<stdin>", None, "the spec is not UTF-8 text"))?;
        return file::parse("<stdin>", crate::bounds::strip_bom(&text), Path::new(""));
    }
    file::load(path)
}

/// Each layer was checked alone; a combination can still be wrong (a
/// request from the profile above a limit from the file, a `--set` of the
/// wrong type), so the merged value is checked too.
fn check(value: &Value, origin: &str) -> Result<PlatformSpec, Located> {
    serde::Deserialize::deserialize(value).map_err(|e| Located::from_yaml(origin, &e))
}
