//! Sysctls (baseline): `spec.securityContext.sysctls[*].name` may name
//! only the namespaced, safe set.

use super::{Check, Level, PodView, items};
use crate::field_path::Trail;

pub const CHECK: Check = Check {
    id: "sysctls",
    level: Level::Baseline,
    since: (1, 29),
    overrides: &[],
    run,
};

const SAFE: [&str; 10] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    for (i, s) in items(&pod.security()["sysctls"]).iter().enumerate() {
        let name = s["name"].as_str().unwrap_or_default();
        if !SAFE.contains(&name) {
            let at = pod.security_at().key("sysctls").index(i).key("name");
            out.push((at, format!("{name:?} is not a safe sysctl")));
        }
    }
}
