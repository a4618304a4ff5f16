//! What a user may do with an experiment or a model they did not
//! create: MLflow's permission names, as its auth app and the OIDC plugin
//! both read them.

use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Permission {
    #[serde(rename = "READ")]
    Read,
    #[serde(rename = "EDIT")]
    Edit,
    #[serde(rename = "MANAGE")]
    Manage,
    #[serde(rename = "NO_PERMISSIONS")]
    NoPermissions,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "READ",
            Permission::Edit => "EDIT",
            Permission::Manage => "MANAGE",
            Permission::NoPermissions => "NO_PERMISSIONS",
        }
    }
}
