//! HostPath volumes (baseline): no `spec.volumes[*].hostPath`.

use super::{Check, Level, PodView, items};
use crate::field_path::Trail;

pub const CHECK: Check = Check {
    id: "hostPathVolumes",
    level: Level::Baseline,
    since: (1, 0),
    overrides: &[],
    run,
};

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    for (i, v) in items(&pod.spec["volumes"]).iter().enumerate() {
        if v.get("hostPath").is_some() {
            let at = pod.at().key("volumes").index(i).key("hostPath");
            out.push((at, "hostPath volumes are not allowed".into()));
        }
    }
}
