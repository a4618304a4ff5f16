//! Decodes each object into its Kubernetes type: a wrong type or a
//! malformed value fails here with its path.

use k8s_openapi::api::{apps, batch, core, networking};
use serde::de::DeserializeOwned;

use super::Problem;
use crate::manifest::Document;

pub fn check(doc: &Document) -> Option<Problem> {
    let api_version = doc
        .value
        .get("apiVersion")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let result = match (api_version, doc.kind()) {
        ("v1", "Namespace") => decode::<core::v1::Namespace>(doc),
        ("v1", "Secret") => decode::<core::v1::Secret>(doc),
        ("v1", "Service") => decode::<core::v1::Service>(doc),
        ("v1", "ServiceAccount") => decode::<core::v1::ServiceAccount>(doc),
        ("apps/v1", "Deployment") => decode::<apps::v1::Deployment>(doc),
        ("apps/v1", "StatefulSet") => decode::<apps::v1::StatefulSet>(doc),
        ("batch/v1", "Job") => decode::<batch::v1::Job>(doc),
        ("networking.k8s.io/v1", "Ingress") => decode::<networking::v1::Ingress>(doc),
        (api, kind) => Err((
            "apiVersion".into(),
            format!("{api} {kind} is not a kind mlk checks"),
        )),
    };
    result.err().map(|(path, message)| Problem {
        object: doc.id(),
        path,
        message,
    })
}

fn decode<T: DeserializeOwned>(doc: &Document) -> Result<(), (String, String)> {
    serde_yaml::from_value::<T>(doc.value.clone())
        .map(drop)
        .map_err(|e| (".".into(), e.to_string()))
}
