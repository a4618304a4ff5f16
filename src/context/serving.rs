//! KServe InferenceServices for registered models, the ServiceAccount
//! their predictors run as, and the Secret the storage initializer reads.

use super::component::Component;
use super::drain::Drain;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Lifecycle, PodSecurityContext, SecurityContext};
use serde::Serialize;

use super::naming::{Labels, Naming};
use super::objectstore::Kserve;
use super::pod::{PodSettings, Scheduling};
use super::secret::SecretObject;
use super::security;
use super::subtree::Subtree;
use crate::resolve::{Credentials, ModelPlan, ServingPlan, Source};
use crate::spec::{DeploymentMode, Resources, ScaleMetric};

/// What `mlflow models build-docker` images listen on: their nginx, in
/// front of the scoring server.
const IMAGE_PORT: u16 = 8080;
/// MLflow's scoring server itself, when the image's nginx is off.
const SCORING_SERVER_PORT: u16 = 8000;
const ANNOTATION_MODEL: &str = "mlk/registered-model";
/// KServe's: how it runs the predictor, which it refuses to change later.
pub const ANNOTATION_MODE: &str = "serving.kserve.io/deploymentMode";
const ANNOTATION_VERSION: &str = "mlk/model-version";
const ANNOTATION_ALIAS: &str = "mlk/model-alias";

#[derive(Debug, Serialize)]
pub struct ServingContext {
    pub service_account: String,
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    /// The Secret the ServiceAccount lists, rendered or existing.
    pub secret_name: Option<String>,
    pub secret: Option<SecretObject>,
    /// Every InferenceService's labels: the same for each, so held once.
    pub model_labels: Labels,
    pub models: Vec<InferenceService>,
}

#[derive(Debug, Serialize)]
pub struct InferenceService {
    pub name: String,
    pub annotations: BTreeMap<String, String>,
    /// Built whole: thousands of predictors are no work for a template.
    pub predictor: Subtree,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Predictor {
    /// On the predictor's pods, where NetworkPolicies find them.
    labels: Labels,
    service_account_name: String,
    automount_service_account_token: bool,
    security_context: PodSecurityContext,
    min_replicas: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    termination_grace_period_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_replicas: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scale_metric: Option<ScaleMetric>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scale_target: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    canary_traffic_percent: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<PredictorModel>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    containers: Vec<Container>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
    #[serde(flatten)]
    scheduling: Scheduling,
}

/// KServe's MLflow support: the `mlflow` format on protocol v2, which the
/// MLServer runtime serves. Without `protocolVersion` no runtime matches.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PredictorModel {
    model_format: ModelFormat,
    protocol_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime: Option<String>,
    storage_uri: String,
    resources: Resources,
    #[serde(skip_serializing_if = "Option::is_none")]
    lifecycle: Option<Lifecycle>,
    /// Restricted, but the root stays writable: MLServer writes beside
    /// its code (its metrics folder, model environments).
    security_context: SecurityContext,
}

#[derive(Debug, Serialize)]
struct ModelFormat {
    name: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    name: &'static str,
    image: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    env: Vec<k8s_openapi::api::core::v1::EnvVar>,
    ports: Vec<ContainerPort>,
    readiness_probe: ImageProbe,
    resources: Resources,
    #[serde(skip_serializing_if = "Option::is_none")]
    lifecycle: Option<Lifecycle>,
    security_context: SecurityContext,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainerPort {
    container_port: u16,
    protocol: &'static str,
}

/// MLflow's scoring server answers `/ping` once the model is loaded.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ImageProbe {
    http_get: HttpGet,
}

#[derive(Debug, Serialize)]
struct HttpGet {
    path: &'static str,
    port: u16,
}

pub fn build(n: &Naming, plan: &ServingPlan, store: &Kserve) -> ServingContext {
    let service_account = n.name(Component::Predictor);
    let mut annotations = plan.service_account.annotations_over(&n.annotations());
    let (secret_name, secret) = match &plan.credentials {
        Credentials::Unneeded => (None, None),
        Credentials::Existing(name) => (Some(name.to_string()), None),
        Credentials::Render => {
            let s = store.secret.clone();
            (s.as_ref().map(|s| s.name.clone()), s)
        }
        Credentials::Identity => {
            annotations.extend(store.annotations.clone());
            annotations.extend(store.identity.clone());
            (None, None)
        }
    };
    let every = EveryModel {
        service_account: &service_account,
        mode: plan.deployment_mode,
        drain: (plan.deployment_mode == DeploymentMode::Standard).then(Drain::for_predictor),
        pods: n.pods(&plan.pods),
        labels: {
            let mut labels = predictor_labels(n);
            if let Credentials::Identity = plan.credentials {
                labels.extend(store.pod_labels.clone());
            }
            labels
        },
    };
    ServingContext {
        labels: n.labels(Component::Serving),
        annotations,
        model_labels: n.labels(Component::Model),
        models: plan
            .models
            .iter()
            .map(|m| inference_service(n, m, &every))
            .collect(),
        service_account,
        secret_name,
        secret,
    }
}

/// What every model's predictor shares, worked out once for all.
struct EveryModel<'a> {
    service_account: &'a str,
    mode: DeploymentMode,
    /// How a predictor leaves, where mlk says (Standard mode).
    drain: Option<Drain>,
    pods: PodSettings,
    /// The selector's, and what the store's cloud identity needs.
    labels: Labels,
}

fn inference_service(n: &Naming, m: &ModelPlan, every: &EveryModel) -> InferenceService {
    let spec = &m.spec;
    let pods = every.pods.under(&spec.pods);
    let mut annotations = n.annotations();
    annotations.insert(ANNOTATION_MODE.into(), every.mode.as_str().into());
    annotations.insert(ANNOTATION_MODEL.into(), spec.registered_model.to_string());
    if let Some(v) = m.version {
        annotations.insert(ANNOTATION_VERSION.into(), v.to_string());
    }
    if let Some(alias) = &spec.alias {
        annotations.insert(ANNOTATION_ALIAS.into(), alias.to_string());
    }
    let (model, containers) = match &m.source {
        Source::Storage(uri) => {
            let model = PredictorModel {
                model_format: ModelFormat { name: "mlflow" },
                protocol_version: "v2",
                runtime: spec.runtime.as_ref().map(ToString::to_string),
                storage_uri: uri.to_string(),
                resources: crate::spec::with_model_disk(spec.resources.clone()),
                lifecycle: every.drain.map(|d| d.lifecycle()),
                security_context: security::container_writable_root(),
            };
            (Some(model), Vec::new())
        }
        Source::Image(image) => {
            let (env, port) = image_server(spec.run_as_user);
            let container = Container {
                name: "kserve-container",
                image: image.to_string(),
                env,
                ports: vec![ContainerPort {
                    container_port: port,
                    protocol: "TCP",
                }],
                readiness_probe: ImageProbe {
                    http_get: HttpGet {
                        path: "/ping",
                        port,
                    },
                },
                resources: crate::spec::with_model_disk(spec.resources.clone()),
                lifecycle: every.drain.map(|d| d.lifecycle()),
                security_context: security::container_writable_root(),
            };
            (None, vec![container])
        }
    };
    InferenceService {
        name: spec.name.to_string(),
        annotations,
        predictor: Subtree::new(&Predictor {
            labels: pods.labels(&every.labels),
            annotations: pods.annotations(&BTreeMap::new()),
            scheduling: pods.scheduling(),
            service_account_name: every.service_account.to_owned(),
            automount_service_account_token: false,
            security_context: match spec.run_as_user {
                Some(uid) => security::pod(i64::from(uid)),
                None => security::pod_any_user(),
            },
            min_replicas: spec.min_replicas,
            termination_grace_period_seconds: every.drain.map(|d| d.grace_period),
            max_replicas: spec.max_replicas,
            scale_metric: spec.scale_metric,
            scale_target: spec.scale_target,
            canary_traffic_percent: spec.canary_traffic_percent.map(|p| p.0),
            model,
            containers,
        }),
    }
}

/// How a `build-docker` image serves, and on which port. As root, its
/// nginx listens on 8080. As another user, nginx cannot start (its pid
/// file, logs and temp folders are root's), so MLflow's scoring server
/// answers itself: uvicorn reads UVICORN_HOST, which MLflow leaves to
/// 127.0.0.1 behind nginx.
fn image_server(run_as_user: Option<u32>) -> (Vec<k8s_openapi::api::core::v1::EnvVar>, u16) {
    let var = |name: &str, value: &str| k8s_openapi::api::core::v1::EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    };
    match run_as_user {
        Some(_) => (
            vec![var("DISABLE_NGINX", "true"), var("UVICORN_HOST", "0.0.0.0")],
            SCORING_SERVER_PORT,
        ),
        None => (Vec::new(), IMAGE_PORT),
    }
}

/// Every model's predictor pods: what may reach the artifact store.
pub fn predictor_labels(n: &Naming) -> Labels {
    n.selector(Component::Predictor)
}
