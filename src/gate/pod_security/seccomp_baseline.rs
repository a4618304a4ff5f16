//! Seccomp (baseline): the pod's and every container's
//! `seccompProfile.type` must not be Unconfined.

use super::{Check, Level, PodView, security};
use crate::field_path::Trail;
use crate::manifest::Value;

pub const CHECK: Check = Check {
    id: "seccompProfile_baseline",
    level: Level::Baseline,
    since: (1, 0),
    overrides: &[],
    run,
};

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    let mut profile = |sc: &Value, at: &dyn Fn() -> Trail| {
        if sc["seccompProfile"]["type"] == "Unconfined" {
            let at = at().key("seccompProfile").key("type");
            out.push((at, "must not be Unconfined".into()));
        }
    };
    profile(pod.security(), &|| pod.security_at());
    for c in &pod.containers {
        let sc = security(c);
        profile(sc, &|| pod.container_security_at(c));
    }
}
