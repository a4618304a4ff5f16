//! The HTTPRoute (`gateway.networking.k8s.io/v1`) from a Gateway to the
//! tracking Service.

use super::component::Component;
use serde::Serialize;

use super::naming::{Labels, Naming};
use super::tracking::Audience;
use crate::resolve::GatewayPlan;
use crate::types::HostPattern;

#[derive(Debug, Serialize)]
pub struct HttpRouteContext {
    pub name: String,
    pub labels: Labels,
    pub spec: HttpRouteSpec,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    parent_refs: Vec<ParentRef>,
    hostnames: Vec<String>,
    rules: Vec<Rule>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ParentRef {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    section_name: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    matches: Vec<Match>,
    backend_refs: Vec<BackendRef>,
}

#[derive(Debug, Serialize)]
struct Match {
    path: PathMatch,
}

#[derive(Debug, Serialize)]
struct PathMatch {
    #[serde(rename = "type")]
    kind: &'static str,
    value: String,
}

#[derive(Debug, Serialize)]
struct BackendRef {
    name: String,
    port: u16,
}

/// The route, and its hosts and origins for the tracking server, which
/// answers 403 to a Host it was not told about.
pub fn build(n: &Naming, plan: &GatewayPlan, service: &str) -> (HttpRouteContext, Audience) {
    let mut audience = Audience {
        origins: plan.origins(),
        ..Audience::default()
    };
    for host in &plan.hostnames {
        let pattern = HostPattern::try_from(host.to_string()).expect("a host is a host pattern");
        audience.hosts.push(pattern);
    }
    let parent_refs = plan
        .parent_refs
        .iter()
        .map(|p| ParentRef {
            name: p.name.to_string(),
            namespace: p.namespace.as_ref().map(ToString::to_string),
            section_name: p.section_name.as_ref().map(ToString::to_string),
        })
        .collect();
    let rule = Rule {
        matches: vec![Match {
            path: PathMatch {
                kind: "PathPrefix",
                value: plan.path.clone(),
            },
        }],
        backend_refs: vec![BackendRef {
            name: service.to_owned(),
            port: super::tracking::PORT,
        }],
    };
    let route = HttpRouteContext {
        name: n.name(Component::Tracking),
        labels: n.labels(Component::Tracking),
        spec: HttpRouteSpec {
            parent_refs,
            hostnames: plan.hostnames.iter().map(ToString::to_string).collect(),
            rules: vec![rule],
        },
    };
    (route, audience)
}
