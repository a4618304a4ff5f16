//! `gateway`: a Gateway API HTTPRoute to the tracking server, for clusters
//! whose front door is a Gateway (Envoy Gateway, Istio, Cilium, NGINX
//! Gateway Fabric, Traefik, kgateway) rather than ingress-nginx.

use schemars::JsonSchema;
use serde::Deserialize;

use super::ingress::UrlPath;
use crate::types::{Host, Name, Subdomain};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Gateway {
    pub enabled: bool,
    /// The Gateways (and their listeners) the route attaches to; the
    /// cluster admin owns them.
    pub parent_refs: Vec<ParentRef>,
    /// The host names the route answers; each joins the tracking server's
    /// allowed hosts and CORS origins.
    pub hostnames: Vec<Host>,
    /// A path prefix.
    pub path: UrlPath,
    /// Whether browsers reach the listener over https (TLS terminates at
    /// the Gateway): the scheme of the CORS origins.
    pub https: bool,
}

impl Default for Gateway {
    fn default() -> Self {
        Gateway {
            enabled: false,
            parent_refs: Vec::new(),
            hostnames: Vec::new(),
            path: UrlPath("/".into()),
            https: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ParentRef {
    pub name: Subdomain,
    /// The Gateway's namespace, when it is not the platform's; its
    /// `allowedRoutes` must admit routes from the platform's namespace.
    pub namespace: Option<Name>,
    /// One listener of the Gateway.
    pub section_name: Option<Subdomain>,
}
