//! MLflow's workspaces: the server's switch, what gc needs to collect in
//! each, and the list the migration step creates.

use std::collections::BTreeMap;

use serde::Serialize;

use super::secret::EnvEntry;
use crate::spec::Tracking;

/// Defines `set_up_workspaces`, which the migration step calls when
/// it is there: a platform without workspaces runs without it.
const SCRIPT: &str = include_str!("../../templates/scripts/workspaces.py");

/// The migration step's script, with the workspaces' part first when
/// the spec lists any.
pub fn step_script(t: &Tracking, base: &str) -> String {
    match enabled(t) {
        true => format!("{SCRIPT}\n\n{base}"),
        false => base.to_owned(),
    }
}

/// The variable the migration step reads the workspaces from: JSON, so
/// no description reads as a flag or a second argument.
const STEP_VAR: &str = "MLK_WORKSPACES";

/// What `db-upgrade.py` makes of one workspace.
#[derive(Serialize)]
struct StepWorkspace<'a> {
    name: &'a str,
    description: Option<&'a str>,
    /// Group to permission, under the OIDC plugin: the workspace's only
    /// group grants.
    groups: BTreeMap<&'a str, &'static str>,
}

pub fn enabled(t: &Tracking) -> bool {
    !t.workspaces.is_empty()
}

pub fn server_args(t: &Tracking) -> Vec<String> {
    match enabled(t) {
        true => vec!["--enable-workspaces".into()],
        false => Vec::new(),
    }
}

/// Under the OIDC plugin, workspaces are the spec's alone: an empty
/// claim name keeps a token's `workspace` claim from creating one at
/// login, and from granting its holder a user-level permission that
/// would hide the spec's group grants.
pub fn oidc_env(t: &Tracking) -> Vec<EnvEntry> {
    match enabled(t) {
        true => vec![EnvEntry::plain("OIDC_WORKSPACE_CLAIM_NAME", "")],
        false => Vec::new(),
    }
}

/// `mlflow gc` collects in one workspace unless told every one, and
/// reads the switch from its environment.
pub fn gc(t: &Tracking) -> (Vec<String>, Vec<EnvEntry>) {
    match enabled(t) {
        true => (
            vec!["--all-workspaces".into()],
            vec![EnvEntry::plain("MLFLOW_ENABLE_WORKSPACES", "true")],
        ),
        false => (Vec::new(), Vec::new()),
    }
}

pub fn step_env(t: &Tracking) -> Vec<EnvEntry> {
    if !enabled(t) {
        return Vec::new();
    }
    let list: Vec<StepWorkspace> = t
        .workspaces
        .iter()
        .map(|w| StepWorkspace {
            name: w.name.as_str(),
            description: w.description.as_ref().map(|d| d.as_str()),
            groups: w
                .groups
                .iter()
                .map(|g| (g.group.as_str(), g.permission.as_str()))
                .collect(),
        })
        .collect();
    let json = serde_json::to_string(&list).expect("plain data serializes");
    // The kubelet expands `$(NAME)` in a value, and the step's env holds
    // the platform's logins: `\u0024` is JSON's own `$`, which it leaves
    // alone, so a description reaches the database as written.
    vec![EnvEntry::plain(STEP_VAR, json.replace('$', "\\u0024"))]
}
