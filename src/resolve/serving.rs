//! Decides what each served model runs: a storage location (from the
//! spec, or looked up in the registry with `--resolve`) or an image.

use std::time::Duration;

use super::model_location::model_location;
use super::model_root::ModelRoot;
use super::{ArtifactsPlan, StoreKeys};
use crate::located::Located;
use crate::lock::{Lock, Pin};
use crate::registry::{Registry, RegistryError};
use crate::spec::{Alias, Model, ModelVersion, Serving, StorageUri, TrackingUri};
use crate::types::{Image, Subdomain};

/// Whether `--resolve` may ask the tracking server, and how to reach it.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    pub enabled: bool,
    /// The server the person running mlk named (`--tracking-uri`, else
    /// MLFLOW_TRACKING_URI), with where it was named. Only this server is
    /// sent credentials.
    pub uri: Option<(&'static str, String)>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// `--allow-insecure-tracking`: credentials may cross plain http.
    pub allow_insecure: bool,
    /// `mlk.lock`, used when the registry is not asked.
    pub lock: Option<Lock>,
}

impl Lookup {
    /// MLflow's own client variables, so a CI job set up for MLflow
    /// needs nothing more; `--tracking-uri` wins over MLFLOW_TRACKING_URI.
    pub fn from_env(
        enabled: bool,
        vars: &std::collections::BTreeMap<String, String>,
        flag_uri: Option<&str>,
        allow_insecure: bool,
    ) -> Self {
        let var = |k: &str| vars.get(k).filter(|v| !v.is_empty()).cloned();
        if let Some(password) = var("MLFLOW_TRACKING_PASSWORD") {
            crate::sensitive::record(&password);
        }
        let uri = match flag_uri {
            Some(u) => Some(("--tracking-uri", u.to_owned())),
            None => var("MLFLOW_TRACKING_URI").map(|u| ("MLFLOW_TRACKING_URI", u)),
        };
        Lookup {
            enabled,
            uri,
            user: var("MLFLOW_TRACKING_USERNAME"),
            password: var("MLFLOW_TRACKING_PASSWORD"),
            allow_insecure,
            lock: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServingPlan {
    pub models: Vec<ModelPlan>,
    pub credentials: Credentials,
    /// `serving.pods`, under which each model's own `pods` apply.
    pub pods: crate::spec::Pods,
    pub service_account: crate::spec::ServiceAccount,
    /// What the namespace enforces while KServe adds containers.
    pub pod_security: crate::spec::NamespaceLevel,
    pub deployment_mode: crate::spec::DeploymentMode,
}

/// The Secret KServe's storage initializer reads.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Rendered by mlk from the artifact store's credentials.
    Render,
    Existing(Subdomain),
    /// Every model is an image: nothing to download.
    Unneeded,
    /// No keys: the ServiceAccount carries the store's annotations, and
    /// the identity the store's provider names.
    Identity,
}

#[derive(Debug, Clone)]
pub struct ModelPlan {
    pub spec: Model,
    pub source: Source,
    /// The version served, when known: pinned, or what the alias named.
    pub version: Option<ModelVersion>,
    /// The run that made it, when the registry said.
    pub run_id: Option<String>,
}

impl ServingPlan {
    /// What the registry named for each alias and version, for mlk.lock.
    pub fn pins(&self) -> Vec<Pin> {
        let pin = |m: &ModelPlan| {
            let asked = m.spec.image.is_none() && m.spec.storage_uri.is_none();
            match (&m.source, m.version, asked) {
                (Source::Storage(uri), Some(version), true) => Some(Pin {
                    name: m.spec.name.clone(),
                    registered_model: m.spec.registered_model.clone(),
                    workspace: m.spec.workspace.clone(),
                    alias: m.spec.alias.clone(),
                    version,
                    storage_uri: uri.clone(),
                    run_id: m.run_id.clone(),
                }),
                _ => None,
            }
        };
        self.models.iter().filter_map(pin).collect()
    }
}

#[derive(Debug, Clone)]
pub enum Source {
    Storage(StorageUri),
    Image(Image),
}

pub fn resolve(
    serving: &Serving,
    artifacts: &ArtifactsPlan,
    lookup: &Lookup,
    warnings: &mut Vec<String>,
) -> Result<Option<ServingPlan>, Located> {
    if serving.models.is_empty() {
        return Ok(None);
    }
    checks(serving)?;
    let registry = registry(serving, lookup, warnings)?;
    let root = artifacts.model_root();
    let models = serving
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| plan(i, m, registry.as_ref(), lookup.lock.as_ref(), &root))
        .collect::<Result<Vec<_>, _>>()?;
    let credentials = credentials(serving, artifacts, &models)?;
    Ok(Some(ServingPlan {
        models,
        credentials,
        pods: serving.pods.clone(),
        service_account: serving.service_account.clone(),
        pod_security: serving.pod_security,
        deployment_mode: serving.deployment_mode,
    }))
}

fn at(i: usize, field: &str) -> String {
    format!("serving.models[{i}].{field}")
}

fn checks(serving: &Serving) -> Result<(), Located> {
    super::serving_mode::check(serving)?;
    let mut names = std::collections::BTreeSet::new();
    for (i, m) in serving.models.iter().enumerate() {
        let err = |field: &str, msg: String| Err(Located::new("spec", Some(&at(i, field)), msg));
        if !names.insert(m.name.as_str()) {
            return err("name", format!("{} is used by two models", m.name));
        }
        let chosen = [
            m.version.is_some(),
            m.alias.is_some(),
            m.storage_uri.is_some(),
        ];
        let count = chosen.iter().filter(|c| **c).count();
        if m.image.is_some() {
            if m.alias.is_some() || m.storage_uri.is_some() {
                return err(
                    "image",
                    "an image holds its model: drop alias and storageUri (version may stay, \
                     to record which version the image was built from)"
                        .into(),
                );
            }
            if m.runtime.is_some() {
                return err("runtime", "an image is its own server: drop runtime".into());
            }
        } else if m.alias.is_some() && m.storage_uri.is_some() {
            return err(
                "storageUri",
                "pins what the alias names, which is mlk.lock's job: drop storageUri and run \
                 `mlk resolve`, which records the alias's version and location in the lock"
                    .into(),
            );
        } else if count != 1 {
            let path = format!("serving.models[{i}]");
            let msg = format!(
                "set exactly one of version, alias or storageUri (or image); {count} are set"
            );
            return Err(Located::new("spec", Some(&path), msg));
        }
        if let Some(max) = m.max_replicas
            && (max == 0 || max < m.min_replicas)
        {
            let msg = format!("{max} is below minReplicas ({}) or zero", m.min_replicas);
            return err("maxReplicas", msg);
        }
        if m.scale_target.is_some() && m.scale_metric.is_none() {
            return err("scaleMetric", "is required with scaleTarget".into());
        }
    }
    Ok(())
}

fn registry(
    serving: &Serving,
    lookup: &Lookup,
    warnings: &mut Vec<String>,
) -> Result<Option<Registry>, Located> {
    if !lookup.enabled {
        return Ok(None);
    }
    let has_credentials = lookup.user.is_some() || lookup.password.is_some();
    let (uri, trusted) = match &lookup.uri {
        Some((named_by, u)) => {
            let uri = TrackingUri::try_from(u.clone())
                .map_err(|e| Located::new("environment", Some(*named_by), e))?;
            (uri, Some(*named_by))
        }
        None => {
            let uri = serving.tracking_uri.clone().ok_or_else(|| {
                Located::new(
                    "spec",
                    Some("serving.trackingUri"),
                    "is required by --resolve unless --tracking-uri or MLFLOW_TRACKING_URI is set",
                )
            })?;
            if has_credentials {
                warnings.push(
                    "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD are not sent to \
                     serving.trackingUri, a server the spec chose: name the server with \
                     --tracking-uri or MLFLOW_TRACKING_URI to send them"
                        .to_owned(),
                );
            }
            (uri, None)
        }
    };
    let send = trusted.is_some() && has_credentials;
    if send && uri.is_plain_http() && !lookup.allow_insecure {
        return Err(Located::new(
            "environment",
            trusted,
            "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD would cross the network \
             unencrypted to an http:// server: use https://, or pass --allow-insecure-tracking \
             if the connection cannot be read by others",
        ));
    }
    let timeout = Duration::from_secs(serving.timeout_seconds.0.into());
    let (user, password) = match send {
        true => (lookup.user.as_deref(), lookup.password.as_deref()),
        false => (None, None),
    };
    Ok(Some(Registry::new(&uri, user, password, timeout)))
}

/// Where a model's files are: in the spec, asked of the registry, or
/// read from the lock.
fn plan(
    i: usize,
    m: &Model,
    registry: Option<&Registry>,
    lock: Option<&Lock>,
    root: &ModelRoot,
) -> Result<ModelPlan, Located> {
    let field = if m.alias.is_some() {
        "alias"
    } else {
        "version"
    };
    let fail = |msg: String| {
        Located::new(
            "spec",
            Some(&at(i, field)),
            format!("model {}: {msg}", m.name),
        )
    };
    let (source, version, run_id) = match (&m.image, &m.storage_uri, registry, lock) {
        (Some(image), ..) => (Source::Image(image.clone()), m.version, None),
        (None, Some(uri), ..) => (Source::Storage(uri.clone()), None, None),
        (None, None, Some(registry), _) => from_registry(m, registry, root).map_err(fail)?,
        (None, None, None, Some(lock)) => {
            let pin = lock.pin_for(m).map_err(fail)?;
            let source = Source::Storage(pin.storage_uri.clone());
            (source, Some(pin.version), pin.run_id.clone())
        }
        (None, None, None, None) => return Err(fail(needs_resolve(m))),
    };
    if let (Source::Storage(_), Some(_)) = (&source, m.run_as_user) {
        return Err(Located::new(
            "spec",
            Some(&at(i, "runAsUser")),
            format!(
                "model {}: runAsUser is for an image (from `mlflow models build-docker`); \
                 a model from storage runs in its ServingRuntime's own non-root user",
                m.name
            ),
        ));
    }
    if let Source::Storage(uri) = &source {
        let field = match m.storage_uri {
            Some(_) => "storageUri",
            None => field,
        };
        model_location(uri, root, workspace(m)).map_err(|e| {
            Located::new(
                "spec",
                Some(&at(i, field)),
                format!("model {}: {e}", m.name),
            )
        })?;
    }
    Ok(ModelPlan {
        spec: m.clone(),
        source,
        version,
        run_id,
    })
}

/// The workspace a model is in: its own, or `default`.
fn workspace(m: &Model) -> &str {
    m.workspace
        .as_ref()
        .map_or(crate::spec::DEFAULT_WORKSPACE, |w| w.as_str())
}

/// The registered model as an error names it: with its workspace, when
/// it names one, since the same name may be another model elsewhere.
fn registered(m: &Model) -> String {
    let name = m.registered_model.as_str();
    match &m.workspace {
        Some(w) => format!("{name:?} in workspace {:?}", w.as_str()),
        None => format!("{name:?}"),
    }
}

/// What the registry says of the version or alias `m` asks for.
fn from_registry(
    m: &Model,
    registry: &Registry,
    root: &ModelRoot,
) -> Result<(Source, Option<ModelVersion>, Option<String>), String> {
    let name = m.registered_model.as_str();
    let model = (m.workspace.as_ref().map(|w| w.as_str()), name);
    let (version, run_id) = match (&m.alias, m.version) {
        (Some(alias), _) => lookup_alias(registry, m, alias)?,
        (None, Some(v)) => {
            let run = registry.version_run(model, v.0);
            (
                v,
                run.map_err(|e| format!("version {v} of {}: {e}", registered(m)))?,
            )
        }
        (None, None) => return Err("names neither a version nor an alias".into()),
    };
    let uri = registry
        .download_uri(model, version.0)
        .map_err(|e| format!("version {version} of {}: {e}", registered(m)))?;
    let uri = storage_uri(&uri, root)?;
    Ok((Source::Storage(uri), Some(version), run_id))
}

fn needs_resolve(m: &Model) -> String {
    let what = match (&m.alias, m.version) {
        (Some(a), _) => format!("alias {:?}", a.as_str()),
        (None, v) => format!("version {}", v.map(|v| v.0).unwrap_or_default()),
    };
    format!(
        "{what} of {:?} is looked up in the registry, and there is no mlk.lock: run `mlk \
         resolve` (with --tracking-uri, MLFLOW_TRACKING_URI or serving.trackingUri) to write \
         one, or pass --resolve",
        m.registered_model.as_str()
    )
}

fn lookup_alias(
    registry: &Registry,
    m: &Model,
    alias: &Alias,
) -> Result<(ModelVersion, Option<String>), String> {
    let name = m.registered_model.as_str();
    registry
        .alias_version(
            (m.workspace.as_ref().map(|w| w.as_str()), name),
            alias.as_str(),
        )
        .map(|(v, run)| (ModelVersion(v), run))
        .map_err(|e| match e {
            RegistryError::NotFound(msg) => {
                format!(
                    "alias {:?} of {} is not in the registry ({msg})",
                    alias.as_str(),
                    registered(m)
                )
            }
            e => format!("alias {:?} of {}: {e}", alias.as_str(), registered(m)),
        })
}

/// The tracking server proxies artifacts to the store's root (its
/// `--artifacts-destination`), so `mlflow-artifacts:/PATH` and
/// `mlflow-artifacts://HOST/PATH` are the root's `PATH`, as KServe names it.
fn storage_uri(artifact_uri: &str, root: &ModelRoot) -> Result<StorageUri, String> {
    if let Some(rest) = artifact_uri.strip_prefix("mlflow-artifacts:") {
        let path = match rest.strip_prefix("//") {
            Some(with_host) => with_host.split_once('/').map_or("", |(_, p)| p),
            None => rest,
        };
        return StorageUri::try_from(root.uri(path));
    }
    StorageUri::try_from(artifact_uri.to_owned()).map_err(|_| {
        format!(
            "the registry stores this version at {artifact_uri:?}, which KServe cannot download; \
             log models through the tracking server's artifact proxy"
        )
    })
}

/// The Secret keys KServe's storage initializer reads a GCS key file and
/// an Azure account key from (pkg/credentials/{gcs,azure} in KServe).
pub const KSERVE_GCS_KEY: &str = "gcloud-application-credentials.json";
pub const KSERVE_AZURE_KEY: &str = "AZURE_STORAGE_ACCESS_KEY";

fn credentials(
    serving: &Serving,
    artifacts: &ArtifactsPlan,
    models: &[ModelPlan],
) -> Result<Credentials, Located> {
    if let Some(name) = &serving.credentials_secret {
        return Ok(Credentials::Existing(name.clone()));
    }
    if models.iter().all(|m| matches!(m.source, Source::Image(_))) {
        return Ok(Credentials::Unneeded);
    }
    // KServe's storage initializer signs in to Azure with a key or a
    // client ID only; without either it tries anonymous access.
    if let ArtifactsPlan::Azure(z) = artifacts
        && z.key.is_none()
        && z.identity.is_none()
    {
        return Err(Located::new(
            "spec",
            Some("serving.credentialsSecret"),
            format!(
                "is required with artifacts.azureBlob without a key or an identity: KServe's \
                 storage initializer signs in with an account key or a client ID only; name a \
                 Secret with the account key as {KSERVE_AZURE_KEY}, or set artifacts.azureBlob.identity"
            ),
        ));
    }
    let hint = match artifacts {
        ArtifactsPlan::Gcs(_) => format!("a Secret with the key as {KSERVE_GCS_KEY}"),
        ArtifactsPlan::Azure(_) => format!("a Secret with the account key as {KSERVE_AZURE_KEY}"),
        _ => "a Secret that carries KServe's serving.kserve.io/s3-* annotations".to_owned(),
    };
    let why = match artifacts.keys() {
        StoreKeys::Own => return Ok(Credentials::Render),
        StoreKeys::Identity => return Ok(Credentials::Identity),
        StoreKeys::Existing => "when the artifact store's credentials come from an existing Secret",
        StoreKeys::ConnectionString => {
            "with artifacts.azureBlob.connectionString, which KServe does not read"
        }
    };
    Err(Located::new(
        "spec",
        Some("serving.credentialsSecret"),
        format!("is required {why}: name {hint}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::{ModelRoot, model_location, storage_uri};
    use crate::spec::StorageUri;

    fn mlflow() -> ModelRoot {
        ModelRoot::new("s3://mlflow".into(), None)
    }

    #[test]
    fn artifact_proxy_locations_map_into_the_bucket() {
        let s3 = |u: &str| storage_uri(u, &mlflow()).map(|s| s.to_string());
        assert_eq!(
            s3("mlflow-artifacts:/1/models/m-abc/artifacts").unwrap(),
            "s3://mlflow/1/models/m-abc/artifacts"
        );
        assert_eq!(
            s3("mlflow-artifacts://tracking:5000/1/models/m-abc/artifacts").unwrap(),
            "s3://mlflow/1/models/m-abc/artifacts"
        );
        assert_eq!(s3("s3://other/x").unwrap(), "s3://other/x");
        assert!(s3("file:///tmp/mlruns/1").is_err());
    }

    /// GCS and Azure Blob: under the store's prefix, as KServe names them.
    #[test]
    fn artifact_proxy_locations_map_under_a_cloud_store_s_prefix() {
        let gcs = ModelRoot::new("gs://b".into(), Some("team/a"));
        let azure = ModelRoot::new("https://acct.blob.core.windows.net/c".into(), Some("p"));
        let path = "mlflow-artifacts:/1/models/m-abc/artifacts";
        assert_eq!(
            storage_uri(path, &gcs).unwrap().to_string(),
            "gs://b/team/a/1/models/m-abc/artifacts"
        );
        let uri = storage_uri(path, &azure).unwrap();
        assert_eq!(
            uri.to_string(),
            "https://acct.blob.core.windows.net/c/p/1/models/m-abc/artifacts"
        );
        assert!(model_location(&uri, &azure, "default").is_ok());
        let beside =
            StorageUri::try_from("https://acct.blob.core.windows.net/c/other/x/y".to_owned());
        assert!(model_location(&beside.unwrap(), &azure, "default").is_err());
        let root = StorageUri::try_from("https://acct.blob.core.windows.net/c".to_owned());
        assert!(
            model_location(&root.unwrap(), &azure, "default")
                .unwrap_err()
                .contains("bucket's root")
        );
    }
}
