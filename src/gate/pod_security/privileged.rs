//! Privileged containers (baseline): every container's
//! `securityContext.privileged` must be unset or false.

use super::{Check, Level, PodView, security};
use crate::field_path::Trail;

pub const CHECK: Check = Check {
    id: "privileged",
    level: Level::Baseline,
    since: (1, 0),
    overrides: &[],
    run,
};

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    for c in &pod.containers {
        let sc = security(c);
        if sc["privileged"] == true {
            out.push((
                pod.container_security_at(c).key("privileged"),
                "must not be true".into(),
            ));
        }
    }
}
