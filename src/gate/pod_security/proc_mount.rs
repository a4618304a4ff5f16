//! /proc mount type (baseline): every container's
//! `securityContext.procMount` must be unset or Default.

use super::{Check, Level, PodView, security};
use crate::field_path::Trail;

pub const CHECK: Check = Check {
    id: "procMount",
    level: Level::Baseline,
    since: (1, 0),
    overrides: &[],
    run,
};

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    for c in &pod.containers {
        let sc = security(c);
        if sc["procMount"].as_str().is_some_and(|m| m != "Default") {
            out.push((
                pod.container_security_at(c).key("procMount"),
                "must be Default".into(),
            ));
        }
    }
}
