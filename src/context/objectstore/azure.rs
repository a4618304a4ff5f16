//! An Azure Blob Storage container: reached with Azure Workload Identity
//! (the client ID on every consumer's ServiceAccount, the label on its
//! pods), or with the account key or a connection string, which mlk's
//! Secret holds.

use super::super::access::{AzureAccess, AzureKeyRef, StoreAccess};
use super::super::naming::Naming;
use super::super::secret::SecretBinder;
use super::KeyRef;
use super::elsewhere::Elsewhere;
use crate::resolve::{AzureKey, AzurePlan, SecretValue, Sensitive};

/// The Blob service (and Entra ID, for an identity's token), on 443
/// or the endpoint's port.
pub fn store(n: &Naming, plan: &AzurePlan) -> Elsewhere {
    let mut secret = SecretBinder::new(n.object("azure-blob"));
    let key = plan.key.as_ref().map(|k| match k {
        AzureKey::AccountKey(v) => AzureKeyRef::AccountKey(secret.bind("account-key", v)),
        AzureKey::ConnectionString(v) => {
            AzureKeyRef::ConnectionString(secret.bind("connection-string", v))
        }
    });
    // CloudNativePG reads even the account's name from a Secret.
    let account_ref = matches!(key, Some(AzureKeyRef::AccountKey(_))).then(|| {
        let name = SecretValue::Value(Sensitive::not_secret(plan.account.to_string()));
        secret.bind("account-name", &name)
    });
    let service_url = match &plan.endpoint {
        Some(e) => e.to_string(),
        None => format!("https://{}.{}", plan.account, plan.suffix),
    };
    let access = AzureAccess {
        account: plan.account.to_string(),
        container: plan.container.to_string(),
        prefix: plan.prefix.as_ref().map(|p| p.to_string()),
        suffix: plan.suffix,
        service_url,
        key,
        key_value: match &plan.key {
            Some(AzureKey::AccountKey(v)) => Some(v.clone()),
            _ => None,
        },
        account_ref,
        identity: plan
            .identity
            .as_ref()
            .map(|(c, t)| (c.to_string(), t.as_ref().map(|t| t.to_string()))),
    };
    let backup = AzureAccess {
        container: plan
            .backups
            .as_ref()
            .map_or(access.container.clone(), |b| b.to_string()),
        prefix: None,
        ..access.clone()
    };
    Elsewhere {
        access: StoreAccess::Azure(access),
        backup: StoreAccess::Azure(backup),
        secret: secret.finish(),
        port: plan.endpoint.as_ref().map_or(443, |e| e.port()),
    }
}

/// barman-cloud's Azure credentials: the account and its key, the
/// connection string, or the pods' Entra identity.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BarmanAzure {
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_account: Option<KeyRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_key: Option<KeyRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connection_string: Option<KeyRef>,
    #[serde(
        rename = "inheritFromAzureAD",
        skip_serializing_if = "std::ops::Not::not"
    )]
    inherit_from_azure_ad: bool,
}

pub fn barman(z: &AzureAccess) -> super::BarmanCloud {
    let mut out = BarmanAzure {
        storage_account: None,
        storage_key: None,
        connection_string: None,
        inherit_from_azure_ad: false,
    };
    match &z.key {
        Some(AzureKeyRef::AccountKey(k)) => {
            out.storage_account = z.account_ref.as_ref().map(KeyRef::of);
            out.storage_key = Some(KeyRef::of(k));
        }
        Some(AzureKeyRef::ConnectionString(c)) => out.connection_string = Some(KeyRef::of(c)),
        None => out.inherit_from_azure_ad = true,
    }
    super::BarmanCloud::Azure(out)
}
