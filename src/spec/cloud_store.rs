//! Artifact stores of the clouds that do not speak S3: Google Cloud
//! Storage and Azure Blob Storage. Each takes the pods' cloud identity
//! (no key at all) or a key from a Secret. Required fields are options
//! here and checked once all layers are merged.

use schemars::JsonSchema;
use serde::Deserialize;

use super::secret_source::SecretSource;
use crate::types::{
    BlobContainer, EntraId, GcpServiceAccount, GcsBucket, ObjectPrefix, StorageAccount,
};

/// Google Cloud Storage: artifacts under `gs://BUCKET/PREFIX`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct GcsArtifacts {
    pub bucket: Option<GcsBucket>,
    /// The folder in the bucket that holds the artifacts.
    pub prefix: Option<ObjectPrefix>,
    /// GKE Workload Identity: the Google service account every consumer's
    /// ServiceAccount acts as. No key then.
    pub identity: Option<GcsIdentity>,
    /// A service account key (its JSON), where there is no Workload
    /// Identity.
    pub key: Option<SecretSource>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GcsIdentity {
    /// `NAME@PROJECT.iam.gserviceaccount.com`, set as
    /// `iam.gke.io/gcp-service-account` on every consumer's ServiceAccount.
    pub gcp_service_account: GcpServiceAccount,
}

/// Azure Blob Storage: artifacts under
/// `wasbs://CONTAINER@ACCOUNT.blob.core.windows.net/PREFIX`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct AzureBlobArtifacts {
    pub account: Option<StorageAccount>,
    pub container: Option<BlobContainer>,
    /// The folder in the container that holds the artifacts.
    pub prefix: Option<ObjectPrefix>,
    /// The Blob service's URL, for a sovereign cloud
    /// (`https://ACCOUNT.blob.core.chinacloudapi.cn`) or a store elsewhere
    /// (Azurite, Azure Stack: `http://HOST:PORT/ACCOUNT`, reached through
    /// `connectionString`). Azure's public cloud when unset.
    pub endpoint: Option<BlobEndpoint>,
    /// Azure Workload Identity: the managed identity or app every
    /// consumer acts as. No key then.
    pub identity: Option<AzureIdentity>,
    /// The storage account's access key.
    pub account_key: Option<SecretSource>,
    /// A connection string, in place of the account key.
    pub connection_string: Option<SecretSource>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AzureIdentity {
    /// The client ID set as `azure.workload.identity/client-id` on every
    /// consumer's ServiceAccount.
    pub azure_client_id: EntraId,
    /// The tenant, when it is not the cluster's.
    pub tenant_id: Option<EntraId>,
}

/// The clouds whose Blob service MLflow's `wasbs://` URIs name.
pub const BLOB_SUFFIXES: [&str; 3] = [
    "blob.core.windows.net",
    "blob.core.chinacloudapi.cn",
    "blob.core.usgovcloudapi.net",
];

/// A Blob service URL: `https://ACCOUNT.SUFFIX` of a known cloud, or
/// `http(s)://HOST[:PORT][/ACCOUNT]` of a store elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobEndpoint(String);
crate::types::string_newtype!(BlobEndpoint);

impl BlobEndpoint {
    fn parse(s: &str) -> Result<(), String> {
        let ok = Self::parts(s).is_some_and(|(host, port, path)| {
            let host_ok = |c: char| c.is_ascii_alphanumeric() || "-.[]:".contains(c);
            !host.is_empty()
                && host.chars().all(host_ok)
                && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0))
                && path
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
        match ok {
            true => Ok(()),
            false => Err(format!(
                "{s:?} is not a Blob endpoint: https://ACCOUNT.blob.core.chinacloudapi.cn, or \
                 http(s)://HOST[:PORT][/ACCOUNT]"
            )),
        }
    }

    /// The host, the port if written, and the path (without the slashes
    /// around it), of an http(s) URL.
    fn parts(s: &str) -> Option<(&str, Option<&str>, &str)> {
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let after_bracket = authority.rfind(']').map_or(0, |i| i + 1);
        let (host, port) = match authority[after_bracket..].rfind(':') {
            Some(i) => {
                let at = after_bracket + i;
                (&authority[..at], Some(&authority[at + 1..]))
            }
            None => (authority, None),
        };
        Some((host, port, path.trim_end_matches('/')))
    }

    /// The cloud's suffix when this is `https://ACCOUNT.SUFFIX` of a
    /// known cloud (on its own port, without a path) and ACCOUNT is
    /// `account`.
    pub fn cloud_suffix(&self, account: &str) -> Option<&'static str> {
        if !self.uses_https() {
            return None;
        }
        let (host, port, path) = Self::parts(&self.0)?;
        if !path.is_empty() || port.is_some_and(|p| p != "443") {
            return None;
        }
        let rest = host.strip_prefix(account)?.strip_prefix('.')?;
        BLOB_SUFFIXES.into_iter().find(|s| *s == rest)
    }

    /// The account an https URL of the cloud with `suffix` names.
    pub fn account_of(&self, suffix: &str) -> Option<&str> {
        if !self.uses_https() {
            return None;
        }
        let (host, _, _) = Self::parts(&self.0)?;
        host.strip_suffix(suffix)?.strip_suffix('.')
    }

    pub fn uses_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        let written = Self::parts(&self.0).and_then(|(_, p, _)| p?.parse().ok());
        written.unwrap_or(if self.uses_https() { 443 } else { 80 })
    }
}

#[cfg(test)]
mod tests {
    use super::BlobEndpoint;

    #[test]
    fn a_blob_endpoint_is_a_cloud_or_a_host_with_an_account() {
        let china = BlobEndpoint::try_from("https://acct.blob.core.chinacloudapi.cn".to_owned());
        let china = china.unwrap();
        assert_eq!(
            china.cloud_suffix("acct"),
            Some("blob.core.chinacloudapi.cn")
        );
        assert_eq!(china.cloud_suffix("other"), None);
        assert_eq!(china.port(), 443);
        let azurite = BlobEndpoint::try_from("http://127.0.0.1:10000/devstore1".to_owned());
        let azurite = azurite.unwrap();
        assert_eq!(azurite.cloud_suffix("devstore1"), None);
        assert_eq!(azurite.port(), 10000);
        for bad in [
            "ftp://x",
            "https://",
            "https://a b",
            "https://h/Acct",
            "https://h/a/b",
        ] {
            assert!(BlobEndpoint::check(bad).is_err(), "{bad}");
        }
    }
}
