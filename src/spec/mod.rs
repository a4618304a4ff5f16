//! The platform spec: what a user writes, typed. Every field has a
//! default, so any one layer (a profile, a file, a `--set`) is a valid
//! spec on its own and is checked on its own, with its own line numbers.

mod artifacts;
mod cloud_store;
mod database;
mod extra_container;
mod gateway;
mod images;
mod ingress;
mod metadata;
mod monitoring;
mod network_policy;
mod oidc;
mod patches;
mod permission;
mod pod_wide;
mod pods;
mod resources;
pub mod schema;
mod secret_source;
mod secrets;
mod service_account;
mod serving;
mod tracking;
mod workspace;

use schemars::JsonSchema;
use serde::Deserialize;

pub use artifacts::{
    Artifacts, EmbeddedArtifacts, Endpoint, Engine, MC_IMAGE, MINIO_IMAGE, RoleArn,
    SEAWEEDFS_IMAGE, SeaweedfsCluster,
};
pub use cloud_store::{AzureBlobArtifacts, BLOB_SUFFIXES, BlobEndpoint, GcsArtifacts};
pub use database::{
    CNPG_IMAGE, CloudNativePg, Database, EmbeddedBackup, EmbeddedDatabase, KeyOf, POSTGRES_IMAGE,
    PgIdent, RootCert, SslMode,
};
pub use extra_container::ExtraContainer;
pub use gateway::{Gateway, ParentRef};
pub use images::Images;
pub use ingress::{Auth, BodySize, Cost, DEFAULT_COST, Ingress, Realm, Tls};
pub use metadata::Metadata;
pub use monitoring::Monitoring;
pub use network_policy::{NamespaceLabels, NetworkPolicy, by_name};
pub use oidc::{GroupName, Oidc};
pub use patches::Patch;
pub use permission::Permission;
pub use pod_wide::{CaBundle, Proxy, ProxyUrl};
pub use pods::Pods;
pub use resources::{ResourceList, Resources, Storage};
pub use secret_source::{RemoteRef, SecretRef, SecretSource};
pub use secrets::{Secrets, SecretsMode, StoreRef};
pub use service_account::ServiceAccount;
pub use serving::{
    Alias, DeploymentMode, Model, ModelVersion, NamespaceLevel, RegisteredModel, ScaleMetric,
    ServiceName, Serving, StorageUri, TrackingUri, with_model_disk,
};
pub use tracking::{Autoscaling, CronSchedule, EnvVar, Gc, Tracking};
pub use workspace::{DEFAULT_WORKSPACE, WorkspaceName};

pub const API_VERSION: &str = "mlk/v1alpha1";

/// The body of a `kind: Platform` document, without `apiVersion` and `kind`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PlatformSpec {
    /// Checked by the loader: required in a spec file, absent elsewhere.
    #[serde(rename = "apiVersion")]
    pub api_version: Option<String>,
    pub kind: Option<String>,
    /// The profile the spec is written for (`dev`, `prod`, `ha` or a
    /// profile file): `--profile` may be left out, and must agree when
    /// given, so a forgotten flag cannot deploy the wrong one. Only in a
    /// spec file.
    pub profile: Option<String>,
    pub metadata: Metadata,
    pub database: Database,
    pub artifacts: Artifacts,
    pub tracking: Tracking,
    pub ingress: Ingress,
    pub gateway: Gateway,
    pub monitoring: Monitoring,
    pub serving: Serving,
    #[serde(rename = "networkPolicy")]
    pub network_policy: NetworkPolicy,
    /// Where the platform's Secrets come from.
    pub secrets: Secrets,
    /// Scheduling, pull secrets and metadata of every pod; each
    /// component's own `pods` wins.
    pub pods: Pods,
    /// Where the default images are pulled from.
    pub images: Images,
    /// Changes to single rendered objects, applied before validation.
    pub patches: Vec<Patch>,
}
