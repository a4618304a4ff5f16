//! Profiles: presets between the built-in defaults and the user's spec.
//! The built-in ones are embedded, so a lone binary has them.

use std::path::Path;

use serde::Deserialize;
use serde_yaml::Value;

use super::Layer;
use super::file::anchor_file_paths;
use crate::located::Located;
use crate::problems::Problems;
use crate::spec::{API_VERSION, PlatformSpec};
use crate::spec_files::Grants;

pub const BUILTIN: [(&str, &str); 3] = [
    ("dev", include_str!("../../profiles/dev.yaml")),
    ("prod", include_str!("../../profiles/prod.yaml")),
    ("ha", include_str!("../../profiles/ha.yaml")),
];

pub const DEFAULT: &str = "dev";

/// The JSON Schema of a profile file.
pub fn schema() -> serde_json::Value {
    crate::spec::schema::profile::<ProfileFile>()
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub description: String,
    /// Whether secrets may fall back to a public development key.
    pub allow_dev_secrets: bool,
    pub prerequisites: Vec<String>,
    pub layer: Layer,
    /// A profile file's folder, beneath which the files it names are read.
    pub folder: Option<std::path::PathBuf>,
}

/// A profile file: presets for a spec, and what a cluster needs first.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProfileFile {
    api_version: String,
    kind: String,
    description: String,
    #[serde(default)]
    allow_dev_secrets: bool,
    #[serde(default)]
    prerequisites: Vec<String>,
    #[serde(default)]
    spec: PlatformSpec,
}

fn builtin(name: &str) -> Option<Result<Profile, Problems>> {
    let (name, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
    let origin = format!("built-in profile {name}");
    Some(parse(name, &origin, text, Path::new(""), true))
}

fn builtin_names() -> String {
    BUILTIN.map(|(n, _)| n).join(", ")
}

/// A built-in profile by name, or a profile file by the path the person
/// running mlk gave (`--profile`).
pub fn load(name_or_path: &str) -> Result<Profile, Problems> {
    if let Some(profile) = builtin(name_or_path) {
        return profile;
    }
    let path = Path::new(name_or_path);
    let text = crate::spec_files::read_spec_file(path).map_err(|e| {
        Located::new(
            name_or_path,
            None,
            format!(
                "not a built-in profile ({}) and not a readable profile file: it {e}",
                builtin_names()
            ),
        )
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    let text = crate::bounds::strip_bom(&text);
    let mut profile = parse(name_or_path, name_or_path, text, base, false)?;
    profile.folder = Some(match base.as_os_str().is_empty() {
        true => ".".into(),
        false => base.to_owned(),
    });
    Ok(profile)
}

/// A profile a spec names (`profile:`): a built-in one, or a file read as
/// `fromFile` reads one, beneath the spec's folder (or what `--allow-file`
/// granted). The file may be anything the spec's author pointed at, so
/// a mistake in it is reported by line alone, never with its text.
pub fn load_named_by_spec(
    name: &str,
    spec_origin: &str,
    folder: &Path,
    grants: &Grants,
) -> Result<Profile, Problems> {
    if let Some(profile) = builtin(name) {
        return profile;
    }
    let mut grants = grants.clone();
    grants.add_layer_folder(folder);
    let path = folder.join(name);
    let text = grants.read(&path).map_err(|e| {
        let msg = format!(
            "is not a built-in profile ({}), and a profile file is read only beneath the \
             spec's folder: {e}",
            builtin_names()
        );
        Located::new(spec_origin, Some("profile"), msg)
    })?;
    let shown = path.display().to_string();
    let text = crate::bounds::strip_bom(&text);
    let base = path.parent().unwrap_or(folder);
    let read = super::parse_layer::<ProfileFile>(&shown, text).map_err(|e| {
        let first = e.0.into_iter().next();
        let mut quiet = Located::new(
            &shown,
            None,
            "is not a profile file (its content is not shown, as for every file a spec names)",
        );
        quiet.line = first.and_then(|l| l.line);
        Problems::from(quiet)
    })?;
    let mut profile = build(name, &shown, text, read, base, false)?;
    profile.folder = Some(base.to_owned());
    Ok(profile)
}

fn parse(
    name: &str,
    origin: &str,
    text: &str,
    base: &Path,
    builtin: bool,
) -> Result<Profile, Problems> {
    let read = super::parse_layer(origin, text)?;
    build(name, origin, text, read, base, builtin)
}

/// A profile from its file, read: what mlk itself refuses in it names
/// its fields, never their values.
fn build(
    name: &str,
    origin: &str,
    text: &str,
    (file, mut doc): (ProfileFile, Value),
    base: &Path,
    builtin: bool,
) -> Result<Profile, Problems> {
    if file.allow_dev_secrets && !builtin {
        return Err(Located::new(
            origin,
            Some("allowDevSecrets"),
            "only the built-in dev profile may fall back to the public development key, or the \
             person running mlk with --allow-dev-secrets; a profile file cannot",
        )
        .into());
    }
    if file.api_version != API_VERSION || file.kind != "Profile" {
        return Err(Located::new(
            origin,
            None,
            format!("a profile file has `apiVersion: {API_VERSION}` and `kind: Profile`"),
        )
        .into());
    }
    if file.spec.api_version.is_some() || file.spec.kind.is_some() || file.spec.profile.is_some() {
        return Err(Located::new(
            origin,
            Some("spec"),
            "apiVersion and kind belong at the top, and a profile names no profile",
        )
        .into());
    }
    let mut value = doc
        .as_mapping_mut()
        .and_then(|m| m.remove("spec"))
        .unwrap_or(Value::Mapping(Default::default()));
    anchor_file_paths(&mut value, base);
    Ok(Profile {
        name: name.to_owned(),
        description: file.description,
        allow_dev_secrets: file.allow_dev_secrets,
        prerequisites: file.prerequisites,
        layer: Layer {
            origin: origin.to_owned(),
            value,
            source: Some(text.to_owned()),
            profile: None,
        },
        folder: None,
    })
}
