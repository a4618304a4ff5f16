use schemars::JsonSchema;
use serde::Deserialize;

use super::resources::Resources;
use crate::types::{Image, Name, Subdomain, int32, int32_opt, string_newtype};

/// Registered models served by KServe, one InferenceService each.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Serving {
    /// The registry `--resolve` asks; `MLFLOW_TRACKING_URI` overrides it.
    pub tracking_uri: Option<TrackingUri>,
    /// Per request to the registry; each request is tried at most 3 times.
    pub timeout_seconds: TimeoutSeconds,
    /// A Secret that exists, annotated for KServe's storage initializer;
    /// mlk then renders none. Required when the artifact store's
    /// credentials come from an existing Secret.
    pub credentials_secret: Option<Subdomain>,
    pub models: Vec<Model>,
    /// This component's pods; wins over the top-level `pods`.
    pub pods: super::Pods,
    /// The predictors' ServiceAccount: a cloud identity for S3.
    pub service_account: super::ServiceAccount,
    /// The Pod Security level the Namespace enforces while models are
    /// served (it warns and audits at `restricted` either way). KServe
    /// adds containers of its own to predictor pods, so the default is
    /// `baseline`. `restricted` holds those too, once KServe and Knative
    /// are set up to meet it: a restricted `securityContext` in the
    /// `default` ClusterStorageContainer (KServe's Helm value
    /// `kserve.storage.containerSecurityContext`), and, in Knative mode,
    /// `secure-pod-defaults: enabled` in Knative Serving's
    /// `config-features`.
    pub pod_security: NamespaceLevel,
    /// How KServe runs the predictors, written on every InferenceService
    /// (KServe refuses a change of mode once one runs). `Standard` (KServe's
    /// default since 0.16): a Deployment scaled by an HPA on cpu or memory.
    /// `Knative` (the former `Serverless`): scale to zero, concurrency and
    /// rps metrics, canary rollouts; Knative Serving must be installed.
    pub deployment_mode: DeploymentMode,
}

/// KServe's deployment modes, by their names since 0.16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
pub enum DeploymentMode {
    #[default]
    Standard,
    Knative,
}

impl DeploymentMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentMode::Standard => "Standard",
            DeploymentMode::Knative => "Knative",
        }
    }
}

/// A level a namespace may enforce while KServe adds containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NamespaceLevel {
    #[default]
    Baseline,
    Restricted,
}

impl NamespaceLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            NamespaceLevel::Baseline => "baseline",
            NamespaceLevel::Restricted => "restricted",
        }
    }
}

impl Default for Serving {
    fn default() -> Self {
        Serving {
            tracking_uri: None,
            timeout_seconds: TimeoutSeconds(10),
            credentials_secret: None,
            models: Vec::new(),
            pods: super::Pods::default(),
            service_account: super::ServiceAccount::default(),
            pod_security: NamespaceLevel::Baseline,
            deployment_mode: DeploymentMode::Standard,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Model {
    pub name: ServiceName,
    pub registered_model: RegisteredModel,
    /// The tracking workspace the registered model is in; unset: `default`.
    pub workspace: Option<super::workspace::WorkspaceName>,
    pub version: Option<ModelVersion>,
    pub alias: Option<Alias>,
    pub storage_uri: Option<StorageUri>,
    /// An image from `mlflow models build-docker`, which holds the model.
    pub image: Option<Image>,
    /// The user an `image` runs as. `build-docker` images run as root,
    /// which the predictor's `runAsNonRoot` refuses; with a user, mlk
    /// serves the model without the image's nginx (whose files only root
    /// may write): MLflow's scoring server itself, on port 8000.
    #[serde(default, deserialize_with = "int32_opt")]
    #[schemars(range(min = 1, max = 2147483647))]
    pub run_as_user: Option<u32>,
    /// A ServingRuntime by name; KServe picks one for `mlflow` otherwise.
    pub runtime: Option<Name>,
    #[serde(default = "one", deserialize_with = "int32")]
    #[schemars(range(max = 2147483647))]
    pub min_replicas: u32,
    #[serde(default, deserialize_with = "int32_opt")]
    #[schemars(range(max = 2147483647))]
    pub max_replicas: Option<u32>,
    pub scale_metric: Option<ScaleMetric>,
    #[serde(default, deserialize_with = "int32_opt")]
    #[schemars(range(max = 2147483647))]
    pub scale_target: Option<u32>,
    pub canary_traffic_percent: Option<Percent>,
    #[serde(default = "predictor_resources")]
    pub resources: Resources,
    /// This model's pods; wins over `serving.pods` and the top-level `pods`.
    #[serde(default)]
    pub pods: super::Pods,
}

fn one() -> u32 {
    1
}

/// MLServer loads the model's Python environment: half a core and 1 GiB
/// is a floor, not a guess at any one model.
fn predictor_resources() -> Resources {
    with_model_disk(Resources::new("500m", "1Gi", None, "2Gi"))
}

/// A predictor's local disk, unless its resources say: KServe downloads
/// the model into an emptyDir of the pod, and the server writes its
/// environment to a writable root, so the limit holds a model of up to
/// about 15 GiB. A larger model needs `resources.limits.ephemeral-storage`.
pub fn with_model_disk(mut r: Resources) -> Resources {
    if r.requests.ephemeral_storage.is_none() && r.limits.ephemeral_storage.is_none() {
        let q = |s: &str| Some(crate::types::Quantity::parse(s).expect("built-in quantity"));
        r.requests.ephemeral_storage = q("1Gi");
        r.limits.ephemeral_storage = q("20Gi");
    }
    r
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScaleMetric {
    Cpu,
    Memory,
    Concurrency,
    Rps,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent(pub u32);
crate::types::bounded_int!(Percent, 0..=100, "{n} is not a percentage (0 to 100)");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutSeconds(pub u32);
crate::types::bounded_int!(
    TimeoutSeconds,
    1..=120,
    "timeoutSeconds must be between 1 and 120, not {n}"
);

/// A registered model's version: a positive integer, written as a number
/// or a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelVersion(pub u64);

impl<'de> Deserialize<'de> for ModelVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        let n = match Raw::deserialize(d)? {
            Raw::Number(n) => Some(n),
            Raw::Text(s) => s.parse().ok(),
        };
        match n {
            Some(n) if n > 0 => Ok(ModelVersion(n)),
            _ => Err(serde::de::Error::custom(
                "a model version is a positive whole number, such as 3",
            )),
        }
    }
}

impl serde::Serialize for ModelVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl JsonSchema for ModelVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ModelVersion".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A registered model's version, such as 3.",
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "pattern": "^[0-9]*[1-9][0-9]*$"},
            ],
        })
    }
}

impl std::fmt::Display for ModelVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An InferenceService name. KServe requires a DNS-1035 label (a letter
/// first) and derives `NAME-predictor-...` names from it, which must
/// still fit 63 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceName(String);
string_newtype!(ServiceName);

const SERVICE_NAME_MAX: usize = 45;

impl ServiceName {
    fn parse(s: &str) -> Result<(), String> {
        crate::types::check_label(s, SERVICE_NAME_MAX)?;
        if s.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!(
                "{s:?} starts with a digit; KServe needs a letter first"
            ));
        }
        Ok(())
    }
}

/// A registered model's name in the MLflow registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredModel(String);
string_newtype!(RegisteredModel);

impl RegisteredModel {
    fn parse(s: &str) -> Result<(), String> {
        if s.trim().is_empty() || s.len() > 256 || s.chars().any(char::is_control) {
            return Err(format!(
                "{s:?} is not a registered model name: 1 to 256 characters, no control characters"
            ));
        }
        Ok(())
    }
}

/// A registry alias, such as `champion`. MLflow reserves `latest` and
/// `v<number>`, which name versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias(String);
string_newtype!(Alias);

impl Alias {
    fn parse(s: &str) -> Result<(), String> {
        let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if s.is_empty() || s.len() > 255 || !s.chars().all(ok) {
            return Err(format!(
                "{s:?} is not an alias: letters, digits, '_' and '-' only"
            ));
        }
        let reserved = s.eq_ignore_ascii_case("latest")
            || s.strip_prefix(['v', 'V'])
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if reserved {
            return Err(format!("{s:?} names a version in MLflow, not an alias"));
        }
        Ok(())
    }
}

/// Where KServe's storage initializer downloads a model from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageUri(String);
string_newtype!(StorageUri);

const STORAGE_SCHEMES: [&str; 7] = [
    "s3://", "gs://", "https://", "http://", "pvc://", "hf://", "oci://",
];

impl StorageUri {
    fn parse(s: &str) -> Result<(), String> {
        let rest = STORAGE_SCHEMES.iter().find_map(|p| s.strip_prefix(p));
        let ok = |b: u8| {
            b.is_ascii_graphic()
                && !matches!(
                    b,
                    b'"' | b'\'' | b'\\' | b'`' | b'<' | b'>' | b'{' | b'}' | b'|' | b'^'
                )
        };
        match rest {
            Some(r) if !r.is_empty() && s.bytes().all(ok) => Ok(()),
            _ => Err(format!(
                "{s:?} is not a storage URI KServe reads: use {}",
                STORAGE_SCHEMES.map(|p| format!("{p}...")).join(", ")
            )),
        }
    }
}

/// The MLflow tracking server's base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingUri(String);
string_newtype!(TrackingUri);

impl TrackingUri {
    /// Messages never quote the value: a malformed URL may still hold a
    /// password (`HTTPS://ci:PW@host`, a leading space, `ftp://`).
    fn parse(s: &str) -> Result<(), String> {
        let authority = s
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(rest));
        if authority.is_some_and(|a| a.contains('@')) {
            return Err(
                "the tracking URL holds credentials: set MLFLOW_TRACKING_USERNAME and \
                 MLFLOW_TRACKING_PASSWORD instead"
                    .into(),
            );
        }
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"));
        match rest {
            Some(r)
                if !r.is_empty()
                    && !r.starts_with('/')
                    && s.chars().all(|c| c.is_ascii_graphic()) =>
            {
                Ok(())
            }
            _ => Err(
                "is not a tracking server URL: use http(s)://host[:port][/path] in lower \
                 case, without spaces (the value is not shown: it may hold credentials)"
                    .into(),
            ),
        }
    }

    pub fn is_plain_http(&self) -> bool {
        self.0.starts_with("http://")
    }
}

#[cfg(test)]
mod tests {
    use super::StorageUri;

    /// KServe's schemes with a path of printable ASCII; quotes, brackets,
    /// spaces and anything beyond ASCII are refused.
    #[test]
    fn storage_uris_are_printable_ascii_under_a_known_scheme() {
        for ok in [
            "s3://mlflow/1/m",
            "gs://b/x",
            "https://h/m.tar.gz",
            "hf://org/m",
            "pvc://c/p",
        ] {
            assert!(StorageUri::try_from(ok.to_owned()).is_ok(), "{ok}");
        }
        let bad = ["s3://", "file:///m", "s3://a b", "s3://ü", "s3://a\n"];
        let quoted = "\"'\\`<>{}|^".chars().map(|c| format!("s3://a{c}b"));
        for uri in bad.iter().map(|s| s.to_string()).chain(quoted) {
            assert!(StorageUri::try_from(uri.clone()).is_err(), "{uri:?}");
        }
    }
}
