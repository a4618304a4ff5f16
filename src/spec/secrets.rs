//! Where the platform's Secrets come from: rendered by mlk (`inline`), or
//! fetched by the External Secrets Operator from a store (`externalSecrets`),
//! so that a GitOps repository holds no secret data.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::types::Subdomain;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    /// `inline` renders Secret objects with their values; `externalSecrets`
    /// renders an `external-secrets.io/v1` ExternalSecret in place of each,
    /// and every secret is then `{remote: {key, property}}` or
    /// `existingSecret`.
    pub mode: SecretsMode,
    /// The SecretStore or ClusterSecretStore the ExternalSecrets read;
    /// required in `externalSecrets` mode.
    pub store: Option<StoreRef>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SecretsMode {
    #[default]
    Inline,
    ExternalSecrets,
}

/// An External Secrets Operator store.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreRef {
    pub name: Subdomain,
    #[serde(default)]
    pub kind: StoreKind,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum StoreKind {
    #[default]
    SecretStore,
    ClusterSecretStore,
}
