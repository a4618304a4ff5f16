//! Host ports (baseline): every container port's `hostPort` must be unset
//! or 0 (the standard's list of allowed ports is empty by default).

use super::{Check, Level, PodView, items};
use crate::field_path::Trail;

pub const CHECK: Check = Check {
    id: "hostPorts",
    level: Level::Baseline,
    since: (1, 0),
    overrides: &[],
    run,
};

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    for c in &pod.containers {
        for (i, port) in items(&c.value["ports"]).iter().enumerate() {
            if port["hostPort"].as_i64().is_some_and(|h| h != 0) {
                let at = pod.container_at(c).key("ports").index(i).key("hostPort");
                out.push((at, "host ports are not allowed".into()));
            }
        }
    }
}
