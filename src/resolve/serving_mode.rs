//! What KServe's deployment mode allows a served model: Standard runs a
//! Deployment that an HPA scales, Knative the rest.

use crate::located::Located;
use crate::spec::{ScaleMetric, Serving};

/// What only Knative runs: KServe's Standard mode scales a Deployment
/// with an HPA, which neither scales to zero, nor counts requests, nor
/// splits traffic between revisions.
pub fn check(serving: &Serving) -> Result<(), Located> {
    if serving.deployment_mode == crate::spec::DeploymentMode::Knative {
        return Ok(());
    }
    for (i, m) in serving.models.iter().enumerate() {
        let needs = if m.min_replicas == 0 {
            Some(("minReplicas", "0 scales to zero"))
        } else if m.canary_traffic_percent.is_some() {
            Some(("canaryTrafficPercent", "a canary split between revisions"))
        } else {
            match m.scale_metric {
                Some(ScaleMetric::Concurrency | ScaleMetric::Rps) => Some((
                    "scaleMetric",
                    "scaling on requests (Standard's HPA scales on cpu or memory)",
                )),
                _ => None,
            }
        };
        if let Some((field, what)) = needs {
            let msg = format!(
                "{what}, which needs KServe's Knative mode: set serving.deploymentMode: Knative \
                 (with Knative Serving installed), or drop it"
            );
            return Err(Located::new(
                "spec",
                Some(&format!("serving.models[{i}].{field}")),
                msg,
            ));
        }
    }
    Ok(())
}
