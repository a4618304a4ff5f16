use schemars::JsonSchema;
use serde::Deserialize;

use super::SecretSource;
use super::permission::Permission;
use super::resources::Resources;
use crate::types::{EnvName, HostPattern, Image, Origin, Quantity, int32};

/// The pinned release's `-full` image (see `crate::mlflow`).
pub const MLFLOW_IMAGE: &str = crate::mlflow::IMAGE;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Tracking {
    pub image: Image,
    #[serde(deserialize_with = "int32")]
    #[schemars(range(max = 2147483647))]
    pub replicas: u32,
    pub workers: Workers,
    /// Derived from `workers` (and `jobExecution`) when not given.
    pub resources: Option<Resources>,
    pub extra_args: Vec<String>,
    pub extra_env: Vec<EnvVar>,
    /// More volumes for the tracking server's pod, as the Pod API takes
    /// them.
    pub extra_volumes: Vec<crate::types::Strict<k8s_openapi::api::core::v1::Volume>>,
    /// Where the server's container mounts them.
    pub extra_volume_mounts: Vec<crate::types::Strict<k8s_openapi::api::core::v1::VolumeMount>>,
    /// Sidecars; each gets the restricted securityContext every mlk
    /// container has, unless it sets its own (then checked like it).
    /// With `startsBeforeInit` one runs before the init steps (a proxy
    /// that the migration reaches the database through).
    pub extra_containers: Vec<super::ExtraContainer>,
    pub allowed_hosts: Vec<HostPattern>,
    pub cors_origins: Vec<Origin>,
    /// Serve MLflow under a path (`/mlflow`); probes follow it.
    pub static_prefix: Option<StaticPrefix>,
    /// The largest artifact a client uploads through the server: the
    /// front door's body limit (`ingress.bodySize` unless set), and the
    /// size of the server's /tmp, which holds each upload and download
    /// whole while it passes through.
    pub max_artifact_size: Quantity,
    /// MLflow's job runner: seven more processes, about 2 GB.
    pub job_execution: bool,
    /// A HorizontalPodAutoscaler owns the replica count; `replicas` is
    /// then not rendered, so an apply never resets what it scaled to.
    pub autoscaling: Option<Autoscaling>,
    /// Spread replicas across nodes (required) and zones (preferred).
    pub topology_spread: bool,
    /// A PodDisruptionBudget: a drain takes one replica at a time.
    pub disruption_budget: bool,
    /// MLflow's AI Gateway (on by default since MLflow 3.17). Off sets
    /// MLFLOW_ENABLE_AI_GATEWAY=false.
    pub ai_gateway: bool,
    /// Where the AI Gateway's providers are, as address blocks it may
    /// reach on 443 when NetworkPolicies are on (`0.0.0.0/0` for any).
    /// A proxy in `pods.proxy` reaches them without.
    pub ai_gateway_egress: Vec<crate::types::Cidr>,
    /// The passphrase the AI Gateway derives its key-encryption key from,
    /// to encrypt the provider API keys it stores. Unset, MLflow uses a
    /// public constant. Keep it stable: a changed passphrase makes every
    /// stored key unreadable.
    pub kek_passphrase: SecretSource,
    /// MLflow's own login and permissions (`--app-name basic-auth`), or
    /// single sign-on (`auth.oidc`).
    pub auth: TrackingAuth,
    /// MLflow's workspaces (`--enable-workspaces`): each its own
    /// experiments, models and artifacts, created by the migration step.
    /// A request without a workspace goes to `default`. Without a login
    /// they keep teams apart but do not keep anyone out.
    pub workspaces: Vec<super::workspace::Workspace>,
    /// A CronJob running `mlflow gc`: runs deleted long enough ago, and
    /// their artifacts, are removed for good.
    pub gc: Option<Gc>,
    /// This component's pods; wins over the top-level `pods`.
    pub pods: super::Pods,
    /// The tracking server's ServiceAccount: a cloud identity for S3.
    pub service_account: super::ServiceAccount,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Gc {
    pub schedule: CronSchedule,
    /// How long a deleted run stays restorable (`#d#h#m#s`).
    pub older_than: GcAge,
    /// Native sidecars (each `startsBeforeInit: true`): a container
    /// beside gc's would keep the Job from ever completing.
    pub extra_containers: Vec<super::ExtraContainer>,
}

impl Default for Gc {
    fn default() -> Self {
        Gc {
            schedule: CronSchedule("17 3 * * *".into()),
            older_than: GcAge("30d".into()),
            extra_containers: Vec::new(),
        }
    }
}

/// A CronJob schedule: five fields, or a macro such as `@daily`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule(String);
crate::types::string_newtype!(CronSchedule);

impl CronSchedule {
    pub fn daily_at_two() -> CronSchedule {
        CronSchedule("0 2 * * *".into())
    }

    fn parse(s: &str) -> Result<(), String> {
        let field_ok = |f: &str| {
            !f.is_empty()
                && f.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "*/,-?".contains(c))
        };
        let macros = [
            "@yearly",
            "@annually",
            "@monthly",
            "@weekly",
            "@daily",
            "@midnight",
            "@hourly",
        ];
        let fields: Vec<&str> = s.split(' ').collect();
        if macros.contains(&s) || (fields.len() == 5 && fields.iter().all(|f| field_ok(f))) {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is not a schedule: five cron fields such as \"17 3 * * *\", or @daily"
            ))
        }
    }
}

/// `mlflow gc --older-than`'s `#d#h#m#s`, such as `30d` or `1d12h`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcAge(String);
crate::types::string_newtype!(GcAge);

impl GcAge {
    fn parse(s: &str) -> Result<(), String> {
        let mut rest = s;
        for unit in ['d', 'h', 'm', 's'] {
            if let Some(i) = rest.find(unit) {
                let digits = &rest[..i];
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    break;
                }
                rest = &rest[i + 1..];
            }
        }
        match rest.is_empty() && !s.is_empty() {
            true => Ok(()),
            false => Err(format!("{s:?} is not an age such as 30d or 1d12h")),
        }
    }
}

/// MLflow's basic-auth app: users and per-experiment and per-model
/// permissions, behind any Ingress controller or Gateway.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct TrackingAuth {
    pub enabled: bool,
    /// The first admin, created when the user store is empty.
    pub admin: AuthAdmin,
    /// What users get on what they did not create.
    pub default_permission: Permission,
    /// Single sign-on instead of MLflow's own logins: the mlflow-oidc-auth
    /// plugin (`--app-name oidc-auth`), in a tracking image that carries
    /// it (`mlk image dockerfile --auth oidc`). Not with `enabled`.
    pub oidc: Option<super::oidc::Oidc>,
}

impl Default for TrackingAuth {
    fn default() -> Self {
        TrackingAuth {
            enabled: false,
            admin: AuthAdmin::default(),
            default_permission: Permission::Read,
            oidc: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AuthAdmin {
    pub username: String,
    /// At least 12 characters; MLflow reads it only while no user exists.
    pub password: SecretSource,
}

impl Default for AuthAdmin {
    fn default() -> Self {
        AuthAdmin {
            username: "admin".into(),
            password: SecretSource::Generate,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Autoscaling {
    #[serde(deserialize_with = "int32")]
    #[schemars(range(max = 2147483647))]
    pub min_replicas: u32,
    #[serde(deserialize_with = "int32")]
    #[schemars(range(max = 2147483647))]
    pub max_replicas: u32,
    /// Average CPU use, as a share of the request, that the autoscaler
    /// keeps the replicas at.
    #[serde(deserialize_with = "int32")]
    #[schemars(range(max = 2147483647))]
    pub target_cpu_percent: u32,
}

impl Default for Autoscaling {
    fn default() -> Self {
        Autoscaling {
            min_replicas: 2,
            max_replicas: 6,
            target_cpu_percent: 70,
        }
    }
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            image: Image::builtin(MLFLOW_IMAGE),
            replicas: 1,
            workers: Workers(1),
            resources: None,
            extra_args: Vec::new(),
            extra_env: Vec::new(),
            extra_volumes: Vec::new(),
            extra_volume_mounts: Vec::new(),
            extra_containers: Vec::new(),
            allowed_hosts: Vec::new(),
            cors_origins: Vec::new(),
            static_prefix: None,
            max_artifact_size: Quantity::parse("5Gi").expect("built-in quantity"),
            job_execution: false,
            autoscaling: None,
            topology_spread: false,
            disruption_budget: false,
            ai_gateway: true,
            ai_gateway_egress: Vec::new(),
            kek_passphrase: SecretSource::Generate,
            auth: TrackingAuth::default(),
            workspaces: Vec::new(),
            gc: None,
            pods: super::Pods::default(),
            service_account: super::ServiceAccount::default(),
        }
    }
}

/// uvicorn worker processes: at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workers(pub u32);
crate::types::bounded_int!(Workers, 1..=64, "workers must be between 1 and 64, not {n}");

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    pub name: EnvName,
    /// A literal value, or:
    pub value: Option<String>,
    /// A key of a Secret or ConfigMap (`secretKeyRef`, `configMapKeyRef`),
    /// or a field of the pod (`fieldRef`).
    #[serde(rename = "valueFrom")]
    pub value_from: Option<crate::types::Strict<k8s_openapi::api::core::v1::EnvVarSource>>,
}

/// A URL path prefix: `/` and then segments of letters, digits, `-`, `_`
/// and `.`, without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticPrefix(String);
crate::types::string_newtype!(StaticPrefix);

impl StaticPrefix {
    fn parse(s: &str) -> Result<(), String> {
        let segment_ok = |seg: &str| {
            !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        match s.strip_prefix('/') {
            Some(rest) if rest.split('/').all(segment_ok) => Ok(()),
            _ => Err(format!(
                "{s:?} is not a path prefix: use /name or /a/b, without a trailing /"
            )),
        }
    }
}
