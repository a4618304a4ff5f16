use schemars::JsonSchema;
use std::collections::BTreeMap;

use serde::Deserialize;

use crate::types::{LabelKey, LabelValue, Name, PlatformName, Subdomain};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
    pub name: PlatformName,
    pub namespace: Name,
    /// Render the Namespace object; `false` when it exists already.
    pub create_namespace: bool,
    pub labels: BTreeMap<LabelKey, LabelValue>,
    pub annotations: BTreeMap<LabelKey, String>,
    pub cluster_domain: Subdomain,
}

impl Default for Metadata {
    fn default() -> Self {
        let s = |v: &str| v.to_owned();
        Metadata {
            name: PlatformName::try_from(s("mlflow")).expect("built-in"),
            namespace: Name::try_from(s("mlflow")).expect("built-in"),
            create_namespace: true,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            cluster_domain: Subdomain::try_from(s("cluster.local")).expect("built-in"),
        }
    }
}
