//! The user's containers in the pods of mlk's that take them: the
//! tracking server's, gc's and the backup's. Each name is the pod's
//! only one, and a Job's pod takes native sidecars only.

use std::collections::BTreeSet;

use crate::located::Located;
use crate::spec::{ExtraContainer, PlatformSpec};

/// The names of mlk's own containers and init steps in those pods.
/// `tests/sidecars.rs` checks this list against what mlk renders.
pub const OWN_CONTAINERS: [&str; 8] = [
    "mlflow",
    "credential-files",
    "wait-for-bucket",
    "wait-for-copy",
    "db-upgrade",
    "gc",
    "pg-dump",
    "upload",
];

pub fn check(spec: &PlatformSpec) -> (Vec<Located>, Vec<String>) {
    let mut found = Vec::new();
    let mut warnings = Vec::new();
    let t = &spec.tracking;
    let backup = spec
        .database
        .embedded
        .as_ref()
        .and_then(|e| e.backup.as_ref());
    let pods = [
        ("tracking.extraContainers", Some(&t.extra_containers), false),
        (
            "tracking.gc.extraContainers",
            t.gc.as_ref().map(|g| &g.extra_containers),
            true,
        ),
        (
            "database.embedded.backup.extraContainers",
            backup.map(|b| &b.extra_containers),
            true,
        ),
    ];
    for (at, list, job) in pods {
        let Some(list) = list else { continue };
        one_pod(at, list, job, &mut found, &mut warnings);
    }
    (found, warnings)
}

fn one_pod(
    at: &str,
    list: &[ExtraContainer],
    job: bool,
    found: &mut Vec<Located>,
    warnings: &mut Vec<String>,
) {
    let mut seen = BTreeSet::new();
    for (i, e) in list.iter().enumerate() {
        let here = |f: &str| format!("{at}[{i}]{f}");
        let name = e.container.name.as_str();
        if OWN_CONTAINERS.contains(&name) || !seen.insert(name) {
            found.push(Located::new(
                "spec",
                Some(&here(".name")),
                format!(
                    "{name:?} is taken by another container of the pod (mlk's own are {}): \
                     name it otherwise",
                    OWN_CONTAINERS.join(", ")
                ),
            ));
        }
        if job && !e.starts_before_init {
            found.push(Located::new(
                "spec",
                Some(&here(".startsBeforeInit")),
                "must be true here: a container beside the Job's own would keep running after \
                 it ends, so the Job would never complete; a native sidecar is stopped when it \
                 ends",
            ));
        }
        if !e.starts_before_init && e.container.restart_policy.is_some() {
            found.push(Located::new(
                "spec",
                Some(&here(".restartPolicy")),
                "is for init containers only: write startsBeforeInit: true for a native \
                 sidecar, or remove it",
            ));
        }
        if e.starts_before_init && e.container.startup_probe.is_none() {
            warnings.push(format!(
                "{}: has no startupProbe, so the init steps start as soon as it has started, \
                 before it is ready; give it one (a proxy's health port) so that they wait",
                here("")
            ));
        }
    }
}
