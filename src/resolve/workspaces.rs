//! `tracking.workspaces`, and the workspace each served model is in:
//! what only the whole spec shows.

use crate::located::Located;
use crate::spec::PlatformSpec;

fn err(path: &str, msg: impl Into<String>) -> Located {
    Located::new("spec", Some(path), msg)
}

pub fn check(spec: &PlatformSpec, warnings: &mut Vec<String>) -> Vec<Located> {
    let t = &spec.tracking;
    let mut found = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for (i, w) in t.workspaces.iter().enumerate() {
        let at = |field: &str| format!("tracking.workspaces[{i}].{field}");
        if !names.insert(w.name.as_str()) {
            found.push(err(&at("name"), format!("{} is listed twice", w.name)));
        }
        if !w.groups.is_empty() && t.auth.oidc.is_none() {
            found.push(err(
                &at("groups"),
                "grants the provider's groups, which only single sign-on \
                 (tracking.auth.oidc) has; under tracking.auth, an admin assigns users to the \
                 workspace's `user` or `admin` role, which the migration step creates",
            ));
        }
        let mut groups = std::collections::BTreeSet::new();
        for (j, g) in w.groups.iter().enumerate() {
            if !groups.insert(g.group.as_str()) {
                found.push(err(
                    &at(&format!("groups[{j}].group")),
                    format!("{} is granted twice in this workspace", g.group),
                ));
            }
        }
    }
    if !t.workspaces.is_empty() {
        found.extend(release_check(spec));
        if !t.auth.enabled && t.auth.oidc.is_none() {
            warnings.push(
                "tracking.workspaces without a login (tracking.auth or tracking.auth.oidc): \
                 workspaces keep teams' experiments apart, but anyone who reaches the server \
                 may name any workspace"
                    .to_owned(),
            );
        }
    }
    found.extend(model_checks(spec));
    found
}

/// Workspaces came with MLflow 3.10; an older stock image would refuse
/// `--enable-workspaces` and never start. Another image's release is its
/// builder's to know.
fn release_check(spec: &PlatformSpec) -> Option<Located> {
    let image = &spec.tracking.image;
    let (major, minor, patch) = image.mlflow_release()?;
    let since = crate::mlflow::WORKSPACES_SINCE;
    ((major, minor, patch) < since).then(|| {
        err(
            "tracking.image",
            format!(
                "carries MLflow {major}.{minor}.{patch}, and tracking.workspaces needs {}.{}.{} \
                 or later: name a newer image, or leave the field out for {}",
                since.0,
                since.1,
                since.2,
                crate::mlflow::IMAGE
            ),
        )
    })
}

/// A model's workspace must be one the platform's server has: `default`
/// or one listed. A model from another server (`serving.trackingUri`)
/// may name any.
fn model_checks(spec: &PlatformSpec) -> Vec<Located> {
    if spec.serving.tracking_uri.is_some() {
        return Vec::new();
    }
    let listed = |name: &crate::spec::WorkspaceName| {
        spec.tracking.workspaces.iter().any(|w| w.name == *name)
    };
    let enabled = !spec.tracking.workspaces.is_empty();
    let models = spec.serving.models.iter().enumerate();
    models
        .filter_map(|(i, m)| {
            let name = m.workspace.as_ref()?;
            let msg = match (enabled, name.is_default() || listed(name)) {
                (true, true) => return None,
                (true, false) => format!("{name} is not in tracking.workspaces: list it there"),
                (false, _) => "names a workspace, and tracking.workspaces lists none: list \
                               the model's workspace there"
                    .to_owned(),
            };
            Some(err(&format!("serving.models[{i}].workspace"), msg))
        })
        .collect()
}
