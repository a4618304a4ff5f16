//! The Gateway API route as it will be rendered: checked for what only an
//! enabled route needs.

use crate::located::Located;
use crate::spec::{Gateway, ParentRef};
use crate::types::{Host, Origin};

#[derive(Debug, Clone)]
pub struct GatewayPlan {
    pub parent_refs: Vec<ParentRef>,
    pub hostnames: Vec<Host>,
    pub path: String,
    pub https: bool,
}

impl GatewayPlan {
    /// Where browsers reach the platform, one origin per hostname.
    pub fn origins(&self) -> Vec<Origin> {
        let scheme = if self.https { "https" } else { "http" };
        let origin = |h: &Host| Origin::try_from(format!("{scheme}://{h}")).expect("an origin");
        self.hostnames.iter().map(origin).collect()
    }
}

pub fn resolve(g: &Gateway) -> Result<Option<GatewayPlan>, Located> {
    if !g.enabled {
        return Ok(None);
    }
    let err = |field: &str, msg: &str| Err(Located::new("spec", Some(field), msg));
    if g.parent_refs.is_empty() {
        return err(
            "gateway.parentRefs",
            "name the Gateway the route attaches to ({name, namespace, sectionName}): a route \
             without one is served by nothing",
        );
    }
    if g.hostnames.is_empty() {
        return err(
            "gateway.hostnames",
            "list the host names the route answers: MLflow refuses any Host it was not told \
             about (403 \"Invalid Host header\")",
        );
    }
    Ok(Some(GatewayPlan {
        parent_refs: g.parent_refs.clone(),
        hostnames: g.hostnames.clone(),
        path: g.path.to_string(),
        https: g.https,
    }))
}
