//! Google Cloud Storage and Azure Blob Storage as they will be rendered:
//! where artifacts and backups go, and the one way each consumer takes
//! its credentials (the pods' cloud identity, or a key from a Secret).

use super::secrets::Resolver;
use super::{ArtifactsPlan, SecretValue, external_secret, required};
use crate::located::Located;
use crate::spec::{AzureBlobArtifacts, BlobEndpoint, GcsArtifacts, SecretSource};
use crate::types::{
    BlobContainer, BucketName, EntraId, GcpServiceAccount, GcsBucket, ObjectPrefix, StorageAccount,
};

#[derive(Debug, Clone)]
pub struct GcsPlan {
    pub bucket: GcsBucket,
    pub prefix: Option<ObjectPrefix>,
    /// The bucket of the database's backups, when there are any.
    pub backups: Option<GcsBucket>,
    pub service_account: Option<GcpServiceAccount>,
    /// The service account key's JSON; none with Workload Identity.
    pub key: Option<SecretValue>,
}

#[derive(Debug, Clone)]
pub struct AzurePlan {
    pub account: StorageAccount,
    pub container: BlobContainer,
    pub prefix: Option<ObjectPrefix>,
    /// The container of the database's backups, when there are any.
    pub backups: Option<BlobContainer>,
    /// The Blob service's host suffix of the account's cloud
    /// (`blob.core.windows.net`), which `wasbs://` URIs name.
    pub suffix: &'static str,
    /// A store outside Azure's clouds, reached through the connection
    /// string.
    pub endpoint: Option<BlobEndpoint>,
    pub key: Option<AzureKey>,
    pub identity: Option<(EntraId, Option<EntraId>)>,
}

#[derive(Debug, Clone)]
pub enum AzureKey {
    AccountKey(SecretValue),
    ConnectionString(SecretValue),
}

impl AzureKey {
    pub fn value(&self) -> &SecretValue {
        match self {
            AzureKey::AccountKey(v) | AzureKey::ConnectionString(v) => v,
        }
    }
}

fn err(path: &str, msg: impl Into<String>) -> Located {
    Located::new("spec", Some(path), msg)
}

/// The backups' bucket, by the cloud's own rules: mlk creates none in a
/// store it does not run.
fn backups_in<T: TryFrom<String, Error = String>>(
    backups: Option<(String, Option<BucketName>)>,
    store: &str,
) -> Result<Option<T>, Located> {
    match backups {
        None => Ok(None),
        Some((path, None)) => Err(err(
            &path,
            format!(
                "is required with artifacts.{store}: name one that exists, apart from the \
                 artifacts' (whoever reads artifacts through MLflow would reach dumps kept there)"
            ),
        )),
        Some((path, Some(b))) => T::try_from(b.to_string())
            .map(Some)
            .map_err(|e| err(&path, e)),
    }
}

pub fn gcs(
    spec: &GcsArtifacts,
    backups: Option<(String, Option<BucketName>)>,
    r: &mut Resolver,
) -> Result<ArtifactsPlan, Located> {
    let at = "artifacts.gcs";
    let bucket = required(
        spec.bucket.clone(),
        &format!("{at}.bucket"),
        "with artifacts.gcs",
    )?;
    let key = match (&spec.identity, &spec.key) {
        (Some(_), Some(_)) => {
            return Err(err(
                &format!("{at}.identity"),
                "takes the place of key: remove the key, or the identity",
            ));
        }
        (_, Some(k)) => {
            let key = external_secret(r, &format!("{at}.key"), Some(k.clone()))?;
            key_json_checks(&key, &format!("{at}.key"))?;
            Some(key)
        }
        (Some(_), None) => None,
        (None, None) => {
            r.warnings.push(
                "artifacts.gcs has no identity and no key: the pods use the credentials of \
                 their node's service account"
                    .into(),
            );
            None
        }
    };
    Ok(ArtifactsPlan::Gcs(GcsPlan {
        backups: backups_in::<GcsBucket>(backups, "gcs")?,
        bucket,
        prefix: spec.prefix.clone(),
        service_account: spec
            .identity
            .as_ref()
            .map(|i| i.gcp_service_account.clone()),
        key,
    }))
}

/// A key mlk holds must be a Google credentials file: JSON with a `type`.
/// The message never quotes it.
fn key_json_checks(key: &SecretValue, at: &str) -> Result<(), Located> {
    let SecretValue::Value(v) = key else {
        return Ok(());
    };
    let json: Option<serde_json::Value> = serde_json::from_str(v.expose()).ok();
    match json.as_ref().and_then(|j| j["type"].as_str()) {
        Some(_) => Ok(()),
        None => Err(err(
            at,
            "is not a Google credentials file: JSON with a \"type\", as `gcloud iam \
             service-accounts keys create` writes it",
        )),
    }
}

pub fn azure(
    spec: &AzureBlobArtifacts,
    backups: Option<(String, Option<BucketName>)>,
    r: &mut Resolver,
) -> Result<ArtifactsPlan, Located> {
    let at = "artifacts.azureBlob";
    let why = "with artifacts.azureBlob";
    let account = required(spec.account.clone(), &format!("{at}.account"), why)?;
    let container = required(spec.container.clone(), &format!("{at}.container"), why)?;
    let suffix = match &spec.endpoint {
        None => Some(crate::spec::BLOB_SUFFIXES[0]),
        Some(e) => e.cloud_suffix(account.as_str()),
    };
    let mut secret = |field: &str, s: &SecretSource| {
        external_secret(r, &format!("{at}.{field}"), Some(s.clone()))
    };
    let key = match (&spec.identity, &spec.account_key, &spec.connection_string) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(err(
                &format!("{at}.identity"),
                "takes the place of accountKey and connectionString: remove the key, or the \
                 identity",
            ));
        }
        (None, Some(_), Some(_)) => {
            return Err(err(
                &format!("{at}.connectionString"),
                "and accountKey are two ways to give the same key: keep one",
            ));
        }
        (None, Some(k), None) => Some(AzureKey::AccountKey(secret("accountKey", k)?)),
        (None, None, Some(c)) => Some(AzureKey::ConnectionString(secret("connectionString", c)?)),
        (_, None, None) => None,
    };
    let elsewhere = suffix.is_none();
    if let Some(e) = spec.endpoint.as_ref().filter(|_| elsewhere) {
        let other = crate::spec::BLOB_SUFFIXES
            .iter()
            .find_map(|s| e.account_of(s));
        if let Some(other) = other.filter(|o| *o != account.as_str()) {
            return Err(err(
                &format!("{at}.endpoint"),
                format!("names the account {other}, and artifacts.azureBlob.account is {account}"),
            ));
        }
    }
    if elsewhere && !matches!(key, Some(AzureKey::ConnectionString(_))) {
        return Err(err(
            &format!("{at}.endpoint"),
            format!(
                "is not https://{account}.<a Blob suffix of Azure's clouds>, so it is a store \
                 elsewhere, which MLflow reaches only through connectionString: give one (its \
                 BlobEndpoint is this URL)"
            ),
        ));
    }
    if spec.identity.is_none() && key.is_none() {
        r.warnings.push(
            "artifacts.azureBlob has no identity and no key: the pods use the managed identity \
             of their node"
                .into(),
        );
    }
    Ok(ArtifactsPlan::Azure(AzurePlan {
        backups: backups_in::<BlobContainer>(backups, "azureBlob")?,
        account,
        container,
        prefix: spec.prefix.clone(),
        suffix: suffix.unwrap_or(crate::spec::BLOB_SUFFIXES[0]),
        endpoint: spec.endpoint.clone().filter(|_| elsewhere),
        key,
        identity: spec
            .identity
            .as_ref()
            .map(|i| (i.azure_client_id.clone(), i.tenant_id.clone())),
    }))
}
