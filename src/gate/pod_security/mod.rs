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

use std::sync::OnceLock;

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
    /// Checks of a lower level this one replaces when both run: it says
    /// what they would, more strictly.
    pub overrides: &'static [&'static str],
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

/// The checks that run at `level`: those of its level and below that
/// apply to the release, less those a stricter one replaces. Worked out
/// once per level, not once per pod.
fn active(level: Level) -> &'static [&'static Check] {
    static ACTIVE: [OnceLock<Vec<&'static Check>>; 3] = [const { OnceLock::new() }; 3];
    ACTIVE[level as usize].get_or_init(|| {
        let applies = |c: &Check| c.level <= level && c.since <= KUBE;
        let overridden = |c: &Check| {
            CHECKS
                .iter()
                .any(|o| applies(o) && o.overrides.contains(&c.id))
        };
        CHECKS
            .iter()
            .filter(|c| applies(c) && !overridden(c))
            .collect()
    })
}

/// Every problem of `pod` at `level`, as (where, what).
pub fn check(pod: &PodView, level: Level) -> Vec<(Trail, String)> {
    let mut out = Vec::new();
    for c in active(level) {
        let mut found = Vec::new();
        (c.run)(pod, &mut found);
        if found.is_empty() {
            continue;
        }
        let suffix = format!(" (Pod Security \"{}\")", c.level.name());
        out.extend(found.into_iter().map(|(at, msg)| (at, msg + &suffix)));
    }
    out
}

/// A container's securityContext.
fn security<'v>(c: &'v ContainerView) -> &'v Value {
    &c.security
}

fn items(v: &Value) -> &[Value] {
    v.as_sequence().map_or(&[], Vec::as_slice)
}
