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

/// A built-in profile by name, or a profile file by path.
pub fn load(name_or_path: &str) -> Result<Profile, Problems> {
    if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
        return parse(
            name,
            &format!("built-in profile {name}"),
            text,
            Path::new(""),
        );
    }
    let path = Path::new(name_or_path);
    let text = crate::spec_files::read_spec_file(path).map_err(|e| {
        let names: Vec<_> = BUILTIN.iter().map(|(n, _)| *n).collect();
        Located::new(
            name_or_path,
            None,
            format!(
                "not a built-in profile ({}) and not a readable profile file: it {e}",
                names.join(", ")
            ),
        )
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    let text = crate::bounds::strip_bom(&text);
    let mut profile = parse(name_or_path, name_or_path, text, base)?;
    profile.folder = Some(match base.as_os_str().is_empty() {
        true => ".".into(),
        false => base.to_owned(),
    });
    Ok(profile)
}

fn parse(name: &str, origin: &str, text: &str, base: &Path) -> Result<Profile, Problems> {
    let (file, mut doc): (ProfileFile, Value) = super::parse_layer(origin, text)?;
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
