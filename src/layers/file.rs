//! A spec file: `apiVersion: mlk/v1alpha1`, `kind: Platform`, the rest.

use std::path::Path;

use serde_yaml::Value;

use super::{Layer, parse_layer};
use crate::located::Located;
use crate::problems::Problems;
use crate::spec::{API_VERSION, PlatformSpec};

pub fn load(path: &Path) -> Result<Layer, Problems> {
    let origin = path.display().to_string();
    let text = crate::spec_files::read_spec_file(path)
        .map_err(|e| Located::new(&origin, None, format!("cannot read the spec file: it {e}")))?;
    let text = crate::bounds::strip_bom(&text);
    let base = path.parent().unwrap_or(Path::new(""));
    parse(&origin, text, base)
}

/// Checks `text` as a spec on its own, then returns it as a layer with
/// `apiVersion` and `kind` removed and `fromFile` paths made absolute.
pub fn parse(origin: &str, text: &str, base: &Path) -> Result<Layer, Problems> {
    let (spec, mut value): (PlatformSpec, Value) = parse_layer(origin, text)?;
    let header = |key: &str, got: Option<&str>, want: &str| -> Result<(), Located> {
        if got == Some(want) {
            return Ok(());
        }
        let mut err = Located::new(origin, Some(key), format!("must be `{want}`"));
        err.line = line_of_top_level_key(text, key);
        Err(err)
    };
    header("apiVersion", spec.api_version.as_deref(), API_VERSION)?;
    header("kind", spec.kind.as_deref(), "Platform")?;

    if let Value::Mapping(m) = &mut value {
        m.remove("apiVersion");
        m.remove("kind");
        m.remove("profile");
    }
    anchor_file_paths(&mut value, base);
    Ok(Layer {
        origin: origin.to_owned(),
        value,
        source: Some(text.to_owned()),
        profile: spec.profile,
    })
}

/// `fromFile` and `htpasswdFile` paths are relative to the file that names them, as paths in
/// a kustomization are; once layers merge, that file is no longer known.
pub(super) fn anchor_file_paths(value: &mut Value, base: &Path) {
    match value {
        Value::Mapping(m) => {
            for (k, v) in m.iter_mut() {
                match (k.as_str(), &v) {
                    (Some("fromFile" | "htpasswdFile"), Value::String(p))
                        if Path::new(p).is_relative() =>
                    {
                        let joined = base.join(p);
                        let absolute = std::path::absolute(&joined).unwrap_or(joined);
                        *v = Value::String(absolute.display().to_string());
                    }
                    _ => anchor_file_paths(v, base),
                }
            }
        }
        Value::Sequence(s) => s.iter_mut().for_each(|v| anchor_file_paths(v, base)),
        _ => {}
    }
}

pub(super) fn line_of_top_level_key(text: &str, key: &str) -> Option<usize> {
    let prefix = format!("{key}:");
    text.lines()
        .position(|l| l.starts_with(&prefix))
        .map(|i| i + 1)
}
