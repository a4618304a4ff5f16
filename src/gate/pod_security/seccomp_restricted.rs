//! Seccomp (restricted): `seccompProfile.type` must be RuntimeDefault or
//! Localhost in the pod's securityContext or in every container's, and no
//! container may set another. Windows pods are exempt.

use super::{Check, Level, PodView, security};
use crate::field_path::Trail;
use crate::manifest::Value;

pub const CHECK: Check = Check {
    id: "seccompProfile_restricted",
    level: Level::Restricted,
    since: (1, 19),
    overrides: &["seccompProfile_baseline"],
    run,
};

fn confined(sc: &Value) -> Option<bool> {
    let t = sc["seccompProfile"]["type"].as_str()?;
    Some(t == "RuntimeDefault" || t == "Localhost")
}

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    if pod.is_windows() {
        return;
    }
    let mut all = true;
    for c in &pod.containers {
        let sc = security(c);
        match confined(sc) {
            Some(false) => {
                let at = pod
                    .container_security_at(c)
                    .key("seccompProfile")
                    .key("type");
                out.push((at, "must be RuntimeDefault or Localhost".into()));
            }
            Some(true) => {}
            None => all = false,
        }
    }
    if confined(pod.security()) == Some(false) || (confined(pod.security()).is_none() && !all) {
        let at = pod.security_at().key("seccompProfile").key("type");
        let what = "must be RuntimeDefault or Localhost, here or in every container";
        out.push((at, what.into()));
    }
}
