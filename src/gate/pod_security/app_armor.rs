//! AppArmor (baseline): the pod's and every container's
//! `securityContext.appArmorProfile.type` must be unset, RuntimeDefault or
//! Localhost, and the older `container.apparmor.security.beta.kubernetes.io/*`
//! annotations unset, `runtime/default` or `localhost/*`.

use super::{Check, Level, PodView, security};
use crate::field_path::Trail;
use crate::manifest::Value;

pub const CHECK: Check = Check {
    id: "appArmorProfile",
    level: Level::Baseline,
    since: (1, 0),
    overrides: &[],
    run,
};

const ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    let mut profile = |sc: &Value, at: &dyn Fn() -> Trail| {
        let t = &sc["appArmorProfile"]["type"];
        if t.as_str()
            .is_some_and(|t| t != "RuntimeDefault" && t != "Localhost")
        {
            let at = at().key("appArmorProfile").key("type");
            out.push((at, "must be RuntimeDefault or Localhost".into()));
        }
    };
    profile(pod.security(), &|| pod.security_at());
    for c in &pod.containers {
        let sc = security(c);
        profile(sc, &|| pod.container_security_at(c));
    }
    for (annotations, place) in &pod.annotations {
        for (k, v) in annotations.as_mapping().into_iter().flatten() {
            let (Some(k), v) = (k.as_str(), v.as_str().unwrap_or_default()) else {
                continue;
            };
            let allowed = v.is_empty() || v == "runtime/default" || v.starts_with("localhost/");
            if k.starts_with(ANNOTATION) && !allowed {
                let at = place.trail().key(k);
                out.push((at, "must be runtime/default or localhost/*".into()));
            }
        }
    }
}
