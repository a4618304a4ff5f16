//! Running as a non-root user (restricted): `runAsUser` of the pod and
//! of every container must not be 0.

use super::{Check, Level, PodView, security};
use crate::field_path::Trail;
use crate::manifest::Value;

pub const CHECK: Check = Check {
    id: "runAsUser",
    level: Level::Restricted,
    since: (1, 23),
    overrides: &[],
    run,
};

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    let mut user = |sc: &Value, at: &dyn Fn() -> Trail| {
        if sc["runAsUser"].as_i64() == Some(0) {
            out.push((at().key("runAsUser"), "must not be 0 (root)".into()));
        }
    };
    user(pod.security(), &|| pod.security_at());
    for c in &pod.containers {
        let sc = security(c);
        user(sc, &|| pod.container_security_at(c));
    }
}
