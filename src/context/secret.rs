//! Secrets as the templates see them: the Secret objects mlk renders, and
//! env vars that read from them or from Secrets the user manages.

use std::collections::BTreeMap;

use base64::Engine;
use k8s_openapi::api::core::v1::{
    KeyToPath, ProjectedVolumeSource, SecretProjection, Volume, VolumeMount, VolumeProjection,
};
use serde::Serialize;

use crate::resolve::SecretValue;
use crate::spec::{RemoteRef, SecretRef};
use crate::types::Subdomain;

/// A Secret to render. `data` is base64, as the API stores it; `remote`
/// keys are fetched from the external store, and then the Secret is
/// rendered as an ExternalSecret that writes it.
#[derive(Debug, Clone, Serialize)]
pub struct SecretObject {
    pub name: String,
    /// `type`: Opaque unless a reader asks for another
    /// (`kubernetes.io/basic-auth` for CloudNativePG's roles).
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub data: BTreeMap<String, String>,
    pub remote: Vec<RemoteEntry>,
    /// Its own annotations, in place of the platform's.
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Default for SecretObject {
    fn default() -> Self {
        SecretObject {
            name: String::new(),
            kind: "Opaque",
            data: BTreeMap::new(),
            remote: Vec::new(),
            annotations: None,
        }
    }
}

/// One `spec.data` item of an ExternalSecret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteEntry {
    pub secret_key: String,
    pub remote_ref: RemoteRef,
}

/// Collects the values that go into one Secret of mlk's and hands out
/// references; a value from an existing Secret is referenced where it is.
pub struct SecretBinder {
    name: String,
    data: BTreeMap<String, String>,
    remote: Vec<RemoteEntry>,
}

impl SecretBinder {
    pub fn new(name: String) -> Self {
        SecretBinder {
            name,
            data: BTreeMap::new(),
            remote: Vec::new(),
        }
    }

    fn own(&self, key: &str) -> SecretRef {
        let name = Subdomain::try_from(self.name.clone()).expect("derived names are valid");
        SecretRef::new(name, key)
    }

    pub fn bind(&mut self, key: &str, value: &SecretValue) -> SecretRef {
        match value {
            SecretValue::Existing(r) => r.clone(),
            SecretValue::Value(v) => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(v.expose());
                self.data.insert(key.to_owned(), encoded);
                self.own(key)
            }
            SecretValue::Remote(r) => {
                self.remote.push(RemoteEntry {
                    secret_key: key.to_owned(),
                    remote_ref: r.clone(),
                });
                self.own(key)
            }
        }
    }

    /// The Secret, unless every value lives in an existing one.
    pub fn finish(self) -> Option<SecretObject> {
        (!self.data.is_empty() || !self.remote.is_empty()).then_some(SecretObject {
            name: self.name,
            data: self.data,
            remote: self.remote,
            ..SecretObject::default()
        })
    }
}

/// A container env var in the API's own shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvEntry {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from: Option<ValueFrom>,
}

/// A Secret key of mlk's, or any source the user named (`extraEnv`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ValueFrom {
    #[serde(rename_all = "camelCase")]
    Secret {
        secret_key_ref: SecretRef,
    },
    Source(Box<k8s_openapi::api::core::v1::EnvVarSource>),
}

impl EnvEntry {
    pub fn plain(name: &str, value: impl Into<String>) -> Self {
        EnvEntry {
            name: name.to_owned(),
            value: Some(value.into()),
            value_from: None,
        }
    }

    pub fn from_source(name: &str, source: k8s_openapi::api::core::v1::EnvVarSource) -> Self {
        EnvEntry {
            name: name.to_owned(),
            value: None,
            value_from: Some(ValueFrom::Source(Box::new(source))),
        }
    }

    pub fn secret(name: &str, r: SecretRef) -> Self {
        EnvEntry {
            name: name.to_owned(),
            value: None,
            value_from: Some(ValueFrom::Secret { secret_key_ref: r }),
        }
    }
}

/// Where every pod mlk renders finds the Secret keys it reads as files.
pub const SECRETS_DIR: &str = "/var/run/secrets/mlk";
const SECRETS_VOLUME: &str = "secrets";

/// Secret keys a pod reads as files rather than env vars, which every
/// child process inherits: one read-only projected volume at
/// [`SECRETS_DIR`], a file per key, readable by the pod's group only.
#[derive(Debug, Clone)]
pub struct SecretFiles {
    volume: &'static str,
    dir: &'static str,
    sources: Vec<(String, Vec<KeyToPath>)>,
}

impl Default for SecretFiles {
    fn default() -> Self {
        SecretFiles::at(SECRETS_VOLUME, SECRETS_DIR)
    }
}

/// The volume and its mount, as a pod template lists them.
#[derive(Debug, Clone, Serialize)]
pub struct SecretMount {
    pub volume: Volume,
    pub mount: VolumeMount,
}

impl SecretFiles {
    /// Another volume, mounted at `dir`, for files only some containers
    /// of a pod may see.
    pub fn at(volume: &'static str, dir: &'static str) -> Self {
        SecretFiles {
            volume,
            dir,
            sources: Vec::new(),
        }
    }

    /// Mounts `r` as `DIR/file` and returns that path.
    pub fn file(&mut self, file: &str, r: &SecretRef) -> String {
        let item = KeyToPath {
            key: r.key.clone(),
            path: file.to_owned(),
            ..KeyToPath::default()
        };
        let secret = r.name.to_string();
        match self.sources.iter_mut().find(|(name, _)| *name == secret) {
            Some((_, items)) => items.push(item),
            None => self.sources.push((secret, vec![item])),
        }
        format!("{}/{file}", self.dir)
    }

    /// None when no key is read as a file.
    pub fn finish(self) -> Option<SecretMount> {
        if self.sources.is_empty() {
            return None;
        }
        let sources = self
            .sources
            .into_iter()
            .map(|(name, items)| VolumeProjection {
                secret: Some(SecretProjection {
                    name,
                    items: Some(items),
                    optional: None,
                }),
                ..VolumeProjection::default()
            });
        let volume = Volume {
            name: self.volume.into(),
            projected: Some(ProjectedVolumeSource {
                default_mode: Some(0o440),
                sources: Some(sources.collect()),
                ..ProjectedVolumeSource::default()
            }),
            ..Volume::default()
        };
        let mount = VolumeMount {
            name: self.volume.into(),
            mount_path: self.dir.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        };
        Some(SecretMount { volume, mount })
    }
}
