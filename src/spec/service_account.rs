//! A component's ServiceAccount, which is how a pod gets a cloud identity:
//! `eks.amazonaws.com/role-arn` (IRSA), `iam.gke.io/gcp-service-account`
//! (GKE), `azure.workload.identity/client-id` (Azure).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::types::LabelKey;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceAccount {
    /// Added to the platform's annotations on this ServiceAccount.
    pub annotations: BTreeMap<LabelKey, String>,
}

impl ServiceAccount {
    /// The platform's annotations with this account's own over them.
    pub fn annotations_over(
        &self,
        platform: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut out = platform.clone();
        out.extend(
            self.annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone())),
        );
        out
    }
}
