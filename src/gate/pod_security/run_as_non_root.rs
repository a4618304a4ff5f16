//! Running as non-root (restricted): `runAsNonRoot` must be true in the
//! pod's securityContext or in every container's, and neither the pod
//! nor a container may set it to false.

use super::{Check, Level, PodView, security};
use crate::field_path::Trail;

pub const CHECK: Check = Check {
    id: "runAsNonRoot",
    level: Level::Restricted,
    since: (1, 0),
    overrides: &[],
    run,
};

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    let pod_says = pod.security()["runAsNonRoot"] == true;
    if pod.security()["runAsNonRoot"] == false {
        let at = pod.security_at().key("runAsNonRoot");
        out.push((at, "must not be false".into()));
    }
    let mut all_say = true;
    for c in &pod.containers {
        let sc = security(c);
        match sc["runAsNonRoot"].as_bool() {
            Some(false) => out.push((
                pod.container_security_at(c).key("runAsNonRoot"),
                "must not be false".into(),
            )),
            Some(true) => {}
            None => all_say = false,
        }
    }
    if !pod_says && !all_say && pod.security()["runAsNonRoot"] != false {
        let at = pod.security_at().key("runAsNonRoot");
        out.push((at, "must be true, here or in every container".into()));
    }
}
