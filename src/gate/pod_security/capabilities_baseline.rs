//! Capabilities (baseline): `securityContext.capabilities.add` may hold
//! only the runtime's default set.

use super::{Check, Level, PodView, items, security};
use crate::field_path::Trail;

pub const CHECK: Check = Check {
    id: "capabilities_baseline",
    level: Level::Baseline,
    since: (1, 0),
    overrides: &[],
    run,
};

pub const DEFAULT_SET: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    for c in &pod.containers {
        let sc = security(c);
        for (i, cap) in items(&sc["capabilities"]["add"]).iter().enumerate() {
            let name = cap.as_str().unwrap_or_default();
            if !DEFAULT_SET.contains(&name) {
                let at = pod
                    .container_security_at(c)
                    .key("capabilities")
                    .key("add")
                    .index(i);
                out.push((at, format!("{name:?} may not be added")));
            }
        }
    }
}
