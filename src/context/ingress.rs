//! The Ingress to the tracking Service, and the Secret nginx reads the
//! users from.

use super::component::Component;
use std::collections::BTreeMap;

use base64::Engine;
use serde::Serialize;

use super::naming::{Labels, Naming};
use super::secret::SecretObject;
use super::tracking::Audience;
use crate::resolve::{AuthPlan, IngressPlan};
use crate::types::HostPattern;

#[derive(Debug, Serialize)]
pub struct IngressContext {
    pub name: String,
    pub labels: Labels,
    /// The user's platform annotations, then the Ingress's own.
    pub annotations: BTreeMap<String, String>,
    pub class_name: String,
    pub host: String,
    pub path: String,
    pub tls_secret: Option<String>,
    pub service: String,
    pub auth_secret: Option<SecretObject>,
}

pub fn build(n: &Naming, plan: &IngressPlan, service: &str) -> (IngressContext, Audience) {
    let name = n.name(Component::Tracking);
    let labels = n.labels(Component::Tracking);
    let mut annotations = n.annotations();
    annotations.extend(plan.annotations.clone());
    let mut nginx_annotations = BTreeMap::new();
    let mut nginx = |k: &str, v: String| {
        nginx_annotations.insert(format!("nginx.ingress.kubernetes.io/{k}"), v)
    };
    nginx("proxy-body-size", plan.body_size.to_string());
    nginx("proxy-read-timeout", plan.read_timeout.to_string());
    nginx("proxy-send-timeout", plan.send_timeout.to_string());
    let buffer = "nginx.ingress.kubernetes.io/proxy-buffer-size";
    if plan.large_headers && !plan.annotations.contains_key(buffer) {
        nginx("proxy-buffer-size", "16k".into());
    }

    let mut auth_secret = None;
    let secret_name = match &plan.auth {
        AuthPlan::Off => None,
        AuthPlan::Existing(s) => Some(s.to_string()),
        AuthPlan::Rendered { realm, htpasswd } => {
            nginx("auth-realm", realm.to_string());
            let name = n.object("basic-auth");
            let encoded = base64::engine::general_purpose::STANDARD.encode(htpasswd.expose());
            auth_secret = Some(SecretObject {
                name: name.clone(),
                data: BTreeMap::from([("auth".to_owned(), encoded)]),
                ..SecretObject::default()
            });
            Some(name)
        }
    };
    if let Some(secret) = secret_name {
        nginx("auth-type", "basic".into());
        nginx("auth-secret", secret);
    }

    let tls_secret = plan.tls.as_ref().map(|tls| {
        nginx("ssl-redirect", "true".into());
        if let Some((key, issuer)) = &tls.issuer {
            annotations.insert((*key).to_owned(), issuer.to_string());
        }
        tls.secret_name
            .as_ref()
            .map_or_else(|| n.object("tls"), ToString::to_string)
    });

    // Other controllers ignore these: rendering them would only mislead.
    if plan.nginx {
        annotations.extend(nginx_annotations);
    }

    // MLflow must answer to the Ingress host (nginx passes it without a
    // port on 80/443), and browsers there send it as their Origin.
    let host = plan.host.to_string();
    let audience = Audience {
        hosts: vec![HostPattern::try_from(host.clone()).expect("a host is a host pattern")],
        origins: vec![plan.origin()],
    };

    let ingress = IngressContext {
        name,
        labels,
        annotations,
        class_name: plan.class_name.to_string(),
        host,
        path: plan.path.clone(),
        tls_secret,
        service: service.to_owned(),
        auth_secret,
    };
    (ingress, audience)
}
