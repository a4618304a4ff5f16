//! Privilege escalation (restricted): every container's
//! `securityContext.allowPrivilegeEscalation` must be false. Windows pods
//! are exempt.

use super::{Check, Level, PodView, security};
use crate::field_path::Trail;

pub const CHECK: Check = Check {
    id: "allowPrivilegeEscalation",
    level: Level::Restricted,
    since: (1, 25),
    overrides: &[],
    run,
};

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    if pod.is_windows() {
        return;
    }
    for c in &pod.containers {
        let sc = security(c);
        if sc["allowPrivilegeEscalation"] != false {
            out.push((
                pod.container_security_at(c).key("allowPrivilegeEscalation"),
                "must be false".into(),
            ));
        }
    }
}
