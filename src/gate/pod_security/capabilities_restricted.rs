//! Capabilities (restricted): every container drops ALL and adds back at
//! most NET_BIND_SERVICE. Windows pods are exempt.

use super::{Check, Level, PodView, items, security};
use crate::field_path::Trail;

pub const CHECK: Check = Check {
    id: "capabilities_restricted",
    level: Level::Restricted,
    since: (1, 22),
    overrides: &["capabilities_baseline"],
    run,
};

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    if pod.is_windows() {
        return;
    }
    for c in &pod.containers {
        let sc = security(c);
        let caps = &sc["capabilities"];
        let at = || pod.container_security_at(c).key("capabilities");
        if !items(&caps["drop"]).iter().any(|c| *c == "ALL") {
            out.push((at().key("drop"), "must include ALL".into()));
        }
        for (i, cap) in items(&caps["add"]).iter().enumerate() {
            let name = cap.as_str().unwrap_or_default();
            if name != "NET_BIND_SERVICE" {
                let what = format!("{name:?} may not be added; only NET_BIND_SERVICE");
                out.push((at().key("add").index(i), what));
            }
        }
    }
}
