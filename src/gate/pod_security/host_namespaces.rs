//! Host namespaces (baseline): `spec.hostNetwork`, `spec.hostPID` and
//! `spec.hostIPC` must be unset or false.

use super::{Check, Level, PodView};
use crate::field_path::Trail;

pub const CHECK: Check = Check {
    id: "hostNamespaces",
    level: Level::Baseline,
    since: (1, 0),
    overrides: &[],
    run,
};

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod.spec[field] == true {
            out.push((pod.at().key(field), "must not be true".into()));
        }
    }
}
