//! A Google Cloud Storage bucket: reached with GKE Workload Identity (the
//! Google service account named on every consumer's ServiceAccount) or
//! with a service account key, which mlk's Secret holds.

use super::super::access::{GcsAccess, StoreAccess};
use super::super::naming::Naming;
use super::super::secret::SecretBinder;
use super::KeyRef;
use super::elsewhere::Elsewhere;
use crate::resolve::GcsPlan;

/// Google's APIs, on 443.
pub fn store(n: &Naming, plan: &GcsPlan) -> Elsewhere {
    let mut secret = SecretBinder::new(n.object("gcs"));
    let access = GcsAccess {
        bucket: plan.bucket.to_string(),
        prefix: plan.prefix.as_ref().map(|p| p.to_string()),
        key: plan.key.as_ref().map(|k| secret.bind("key.json", k)),
        key_value: plan.key.clone(),
        service_account: plan.service_account.as_ref().map(|s| s.to_string()),
    };
    let backup = GcsAccess {
        bucket: plan
            .backups
            .as_ref()
            .map_or(access.bucket.clone(), |b| b.to_string()),
        prefix: None,
        ..access.clone()
    };
    Elsewhere {
        access: StoreAccess::Gcs(access),
        backup: StoreAccess::Gcs(backup),
        secret: secret.finish(),
        port: 443,
    }
}

/// barman-cloud's Google credentials: the key, or the GKE environment
/// (Workload Identity, or the node's service account).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BarmanGoogle {
    #[serde(skip_serializing_if = "Option::is_none")]
    application_credentials: Option<KeyRef>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    gke_environment: bool,
}

pub fn barman(g: &GcsAccess) -> super::BarmanCloud {
    super::BarmanCloud::Google(BarmanGoogle {
        application_credentials: g.key.as_ref().map(KeyRef::of),
        gke_environment: g.key.is_none(),
    })
}
