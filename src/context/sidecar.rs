//! The user's containers in a pod of mlk's: held to the restricted level
//! unless they say otherwise (and are then checked like mlk's own), and
//! split into native sidecars, which start before the init steps, and
//! the containers that run beside mlk's.

use k8s_openapi::api::core::v1::Container;
use serde::Serialize;

use super::security;
use crate::spec::ExtraContainer;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Sidecars {
    /// First among the init containers, each with `restartPolicy: Always`.
    pub native: Vec<Container>,
    /// After mlk's containers.
    pub regular: Vec<Container>,
}

pub fn split(extra: &[ExtraContainer]) -> Sidecars {
    let mut out = Sidecars::default();
    for e in extra {
        let mut c = e.container.clone();
        if c.security_context.is_none() {
            c.security_context = Some(security::container());
        }
        if e.starts_before_init {
            c.restart_policy = Some("Always".into());
            out.native.push(c);
        } else {
            out.regular.push(c);
        }
    }
    out
}
