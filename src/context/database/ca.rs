//! The CA an external PostgreSQL's certificate is verified with: one key
//! of a Secret or ConfigMap the cluster holds, mounted read-only where
//! the database URI's `sslrootcert` names it.

use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, KeyToPath, SecretVolumeSource, Volume, VolumeMount,
};

use super::super::secret::SecretMount;
use crate::spec::KeyOf;

const VOLUME: &str = "postgres-ca";
const DIR: &str = "/etc/mlk/postgres-ca";
/// What libpq is told to read (`sslrootcert`).
pub const FILE: &str = "/etc/mlk/postgres-ca/root.crt";

/// `kind` is `Secret` or `ConfigMap`.
pub fn mount(kind: &str, k: &KeyOf) -> SecretMount {
    let items = Some(vec![KeyToPath {
        key: k.key.clone(),
        path: "root.crt".into(),
        ..KeyToPath::default()
    }]);
    let mut volume = Volume {
        name: VOLUME.into(),
        ..Volume::default()
    };
    match kind {
        "Secret" => {
            volume.secret = Some(SecretVolumeSource {
                secret_name: Some(k.name.to_string()),
                items,
                ..SecretVolumeSource::default()
            })
        }
        _ => {
            volume.config_map = Some(ConfigMapVolumeSource {
                name: k.name.to_string(),
                items,
                ..ConfigMapVolumeSource::default()
            })
        }
    }
    SecretMount {
        volume,
        mount: VolumeMount {
            name: VOLUME.into(),
            mount_path: DIR.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        },
    }
}
