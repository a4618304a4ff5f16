//! An S3 bucket the platform does not run: AWS S3 or any store that speaks
//! its API, reached with static keys (in a Secret of mlk's), or with the
//! pods' cloud identity and no keys at all.

use super::super::access::{S3Access, S3KeyRefs, StoreAccess};
use super::super::naming::Naming;
use super::super::secret::SecretBinder;
use super::elsewhere::Elsewhere;
use crate::resolve::ExternalS3;
use crate::spec::Endpoint;

pub fn store(n: &Naming, plan: &ExternalS3) -> Elsewhere {
    let ExternalS3 {
        endpoint,
        bucket,
        region,
        keys,
        role_arn,
        backups,
    } = plan;
    let mut secret = SecretBinder::new(n.object("s3"));
    let key_refs = keys.as_ref().map(|k| S3KeyRefs {
        access_key: secret.bind("access-key-id", &k.access_key_id),
        secret_key: secret.bind("secret-access-key", &k.secret_access_key),
    });
    let key_values = keys
        .as_ref()
        .map(|k| (k.access_key_id.clone(), k.secret_access_key.clone()));
    // Without keys on AWS itself, the SDK finds the endpoint.
    let sdk_endpoint = endpoint
        .as_ref()
        .filter(|e| key_refs.is_some() || !e.is_aws());
    let access = S3Access {
        endpoint: sdk_endpoint.map(|e| e.to_string()),
        bucket: bucket.to_string(),
        region: region.clone(),
        keys: key_refs,
        role_arn: role_arn.as_ref().map(|r| r.to_string()),
        authority: endpoint.as_ref().map(|e| e.authority().to_owned()),
        https: endpoint.as_ref().is_none_or(|e| e.uses_https()),
        key_values,
    };
    Elsewhere {
        backup: StoreAccess::S3(super::on_bucket(&access, backups.as_ref())),
        access: StoreAccess::S3(access),
        secret: secret.finish(),
        port: endpoint.as_ref().map_or(443, port),
    }
}

/// The endpoint's port: as written, else the scheme's.
fn port(e: &Endpoint) -> u16 {
    let after_host = e.authority().rsplit(']').next().unwrap_or_default();
    let explicit = after_host
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok());
    explicit.unwrap_or(if e.uses_https() { 443 } else { 80 })
}
