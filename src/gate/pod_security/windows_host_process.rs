//! HostProcess (baseline): Windows pods may not run as host processes.
//! `spec.securityContext.windowsOptions.hostProcess` and each container's
//! must be unset or false.

use super::{Check, Level, PodView, security};
use crate::field_path::Trail;

pub const CHECK: Check = Check {
    id: "windowsHostProcess",
    level: Level::Baseline,
    since: (1, 0),
    overrides: &[],
    run,
};

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    let flag = |sc: &crate::manifest::Value| sc["windowsOptions"]["hostProcess"] == true;
    if flag(pod.security()) {
        let at = pod.security_at().key("windowsOptions").key("hostProcess");
        out.push((at, "must not be true".into()));
    }
    for c in &pod.containers {
        let sc = security(c);
        if flag(sc) {
            let at = pod
                .container_security_at(c)
                .key("windowsOptions")
                .key("hostProcess");
            out.push((at, "must not be true".into()));
        }
    }
}
