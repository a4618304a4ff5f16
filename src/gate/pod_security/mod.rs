//! The Pod Security Standards of Kubernetes 1.37, as the API server's
//! admission enforces them on a namespace labelled
//! `pod-security.kubernetes.io/enforce`: one file per check, each opening
//! with the rule it keeps, each registered once in [`CHECKS`] with its
//! level and the release it applies from. A check sees a pod through the
//! one visitor (`gate::pods`), so it covers every kind of container and
//! every place a pod spec sits.

mod allow_privilege_escalation;
mod app_armor;
mod capabilities_baseline;
mod capabilities_restricted;
mod host_namespaces;
mod host_path_volumes;
mod host_ports;
mod host_probes;
mod privileged;
mod proc_mount;
mod restricted_volumes;
mod run_as_non_root;
mod run_as_user;
mod se_linux;
mod seccomp_baseline;
mod seccomp_restricted;
mod sysctls;
mod windows_host_process;

use clap::ValueEnum;

pub use super::pods::{ContainerView, PodView};
use crate::field_path::Trail;
use crate::manifest::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Level {
    /// No checks.
    Privileged,
    /// Known privilege escalations: host namespaces, privileged
    /// containers, added capabilities, hostPath volumes.
    Baseline,
    /// Baseline, and non-root, seccomp, no privilege escalation, every
    /// capability dropped, and only ephemeral or claimed volumes.
    Restricted,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// As a namespace label writes it.
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "privileged" => Some(Level::Privileged),
            "baseline" => Some(Level::Baseline),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }
}

/// One rule of the standard.
pub struct Check {
    pub id: &'static str,
    pub level: Level,
    /// The Kubernetes release this form of the rule holds from. A rule
    /// that changes gets a second entry, not an `if`.
    pub since: (u32, u32),
    pub run: fn(&PodView, &mut Vec<(Trail, String)>),
}

/// Every check, baseline first.
pub const CHECKS: [Check; 18] = [
    windows_host_process::CHECK,
    host_namespaces::CHECK,
    privileged::CHECK,
    capabilities_baseline::CHECK,
    host_path_volumes::CHECK,
    host_ports::CHECK,
    host_probes::CHECK,
    app_armor::CHECK,
    se_linux::CHECK,
    proc_mount::CHECK,
    seccomp_baseline::CHECK,
    sysctls::CHECK,
    restricted_volumes::CHECK,
    allow_privilege_escalation::CHECK,
    run_as_non_root::CHECK,
    run_as_user::CHECK,
    seccomp_restricted::CHECK,
    capabilities_restricted::CHECK,
];

/// The release whose rules apply: the one mlk's schemas are of.
const KUBE: (u32, u32) = (1, 37);

/// Every problem of `pod` at `level`, as (where, what).
pub fn check(pod: &PodView, level: Level) -> Vec<(Trail, String)> {
    let mut out = Vec::new();
    for c in CHECKS
        .iter()
        .filter(|c| c.level <= level && c.since <= KUBE)
    {
        let mut found = Vec::new();
        (c.run)(pod, &mut found);
        let suffix = format!(" (Pod Security \"{}\")", c.level.name());
        out.extend(found.into_iter().map(|(at, msg)| (at, msg + &suffix)));
    }
    out
}

/// A container's securityContext, and where it is written.
fn security<'v>(c: &'v ContainerView) -> (&'v Value, Trail) {
    (&c.value["securityContext"], c.at.key("securityContext"))
}

fn items(v: &Value) -> &[Value] {
    v.as_sequence().map_or(&[], Vec::as_slice)
}
