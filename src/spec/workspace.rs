//! MLflow's workspaces (`tracking.workspaces`): one server, and each team
//! with its own experiments, models and artifacts.

use schemars::JsonSchema;
use serde::Deserialize;

use super::oidc::GroupName;
use crate::types::string_newtype;

/// A workspace the migration step creates, or whose description it sets
/// again, and who may use it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    pub name: WorkspaceName,
    #[serde(default)]
    pub description: Option<Description>,
    /// Under `tracking.auth.oidc`: the provider's groups and what each
    /// may do in this workspace. These are the only group grants on it:
    /// one removed here is revoked on the next rollout.
    #[serde(default)]
    pub groups: Vec<WorkspaceGrant>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceGrant {
    pub group: GroupName,
    pub permission: WorkspacePermission,
}

/// What a group may do in a workspace. Creating an experiment or a
/// registered model there takes MANAGE under the OIDC plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum WorkspacePermission {
    #[serde(rename = "READ")]
    Read,
    #[serde(rename = "USE")]
    Use,
    #[serde(rename = "EDIT")]
    Edit,
    #[serde(rename = "MANAGE")]
    Manage,
}

impl WorkspacePermission {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkspacePermission::Read => "READ",
            WorkspacePermission::Use => "USE",
            WorkspacePermission::Edit => "EDIT",
            WorkspacePermission::Manage => "MANAGE",
        }
    }
}

/// The workspace every server has, where a request without one goes.
pub const DEFAULT_WORKSPACE: &str = "default";

/// Names MLflow reserves for its own routes.
const RESERVED: [&str; 4] = ["workspaces", "api", "ajax-api", "static-files"];

/// A workspace's name, as MLflow takes it: 2 to 63 lower-case letters,
/// digits and `-`, a letter or digit at either end.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorkspaceName(String);
string_newtype!(WorkspaceName);

impl WorkspaceName {
    fn parse(s: &str) -> Result<(), String> {
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !(2..=63).contains(&s.len())
            || !s.chars().all(ok)
            || s.starts_with('-')
            || s.ends_with('-')
        {
            return Err(format!(
                "{s:?} is not a workspace name: 2 to 63 lower-case letters, digits and '-', \
                 a letter or digit at either end"
            ));
        }
        if RESERVED.contains(&s) {
            return Err(format!("{s:?} is reserved by MLflow for its own routes"));
        }
        Ok(())
    }

    pub fn is_default(&self) -> bool {
        self.0 == DEFAULT_WORKSPACE
    }
}

/// A workspace's description: one line of at most 500 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);
string_newtype!(Description);

impl Description {
    fn parse(s: &str) -> Result<(), String> {
        if s.chars().count() > 500 || s.chars().any(char::is_control) {
            return Err("a description is one line of at most 500 characters".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::WorkspaceName;

    #[test]
    fn workspace_names_follow_mlflow_s_rule() {
        for ok in ["team-a", "ab", "default", "a1", &"x".repeat(63)] {
            assert!(WorkspaceName::try_from(ok.to_owned()).is_ok(), "{ok}");
        }
        for bad in [
            "a",
            "Team",
            "-ab",
            "ab-",
            "a_b",
            "api",
            "workspaces",
            &"x".repeat(64),
        ] {
            assert!(WorkspaceName::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }
}
