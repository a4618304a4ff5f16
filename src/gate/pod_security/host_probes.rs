//! Host probes and lifecycle hooks (baseline, from 1.34): a probe's or
//! hook's `httpGet.host` and `tcpSocket.host` must be unset or empty, so
//! that the kubelet is never sent to another host.

use super::{Check, Level, PodView};
use crate::field_path::Trail;

pub const CHECK: Check = Check {
    id: "hostProbesAndHostLifecycle",
    level: Level::Baseline,
    since: (1, 34),
    overrides: &[],
    run,
};

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    let handlers: [&[&str]; 5] = [
        &["livenessProbe"],
        &["readinessProbe"],
        &["startupProbe"],
        &["lifecycle", "postStart"],
        &["lifecycle", "preStop"],
    ];
    for c in &pod.containers {
        for path in handlers {
            let handler = path.iter().fold(c.value, |v, k| &v[*k]);
            for kind in ["httpGet", "tcpSocket"] {
                let host = &handler[kind]["host"];
                if host.as_str().is_some_and(|h| !h.is_empty()) {
                    let at = path.iter().fold(pod.container_at(c), |t, k| t.key(k));
                    out.push((at.key(kind).key("host"), "must not be set".into()));
                }
            }
        }
    }
}
