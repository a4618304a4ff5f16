//! SELinux (baseline): `seLinuxOptions.type` of the pod and of every
//! container may be only one of the container types, and `user` and
//! `role` must be unset.

use super::{Check, Level, PodView, security};
use crate::field_path::Trail;
use crate::manifest::Value;

pub const CHECK: Check = Check {
    id: "seLinuxOptions",
    level: Level::Baseline,
    since: (1, 0),
    overrides: &[],
    run,
};

const TYPES: [&str; 5] = [
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    let mut options = |sc: &Value, at: &dyn Fn() -> Trail| {
        let se = &sc["seLinuxOptions"];
        if se.is_null() {
            return;
        }
        let at = at().key("seLinuxOptions");
        if let Some(t) = se["type"].as_str().filter(|t| !TYPES.contains(t)) {
            out.push((
                at.key("type"),
                format!("{t:?} is not an allowed SELinux type"),
            ));
        }
        for field in ["user", "role"] {
            if !se[field].is_null() {
                out.push((at.key(field), "must not be set".into()));
            }
        }
    };
    options(pod.security(), &|| pod.security_at());
    for c in &pod.containers {
        let sc = security(c);
        options(sc, &|| pod.container_security_at(c));
    }
}
