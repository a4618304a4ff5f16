//! What keeps a component up through a drain, a lost node or a load
//! spike: PodDisruptionBudgets, spreading across failure domains, and the
//! HorizontalPodAutoscaler.

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::naming::Labels;
use crate::spec::Autoscaling;

fn selector(labels: &Labels) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels.clone()),
        match_expressions: None,
    }
}

/// Voluntary evictions (a drain, a node upgrade) take one pod at a time
/// and wait for its replacement to be ready.
pub fn disruption_budget(pods: &Labels) -> PodDisruptionBudgetSpec {
    PodDisruptionBudgetSpec {
        max_unavailable: Some(IntOrString::Int(1)),
        selector: Some(selector(pods)),
        // A pod that never became ready may be evicted: it serves nothing,
        // and keeping it would block the drain for good.
        unhealthy_pod_eviction_policy: Some("AlwaysAllow".into()),
        ..PodDisruptionBudgetSpec::default()
    }
}

/// One pod per node where the nodes allow it (a lost node takes one
/// replica), and across zones where the nodes have them. Zones are a
/// preference: on nodes without the zone label a requirement would leave
/// every pod pending.
pub fn spread(pods: &Labels) -> Vec<TopologySpreadConstraint> {
    [
        ("kubernetes.io/hostname", "DoNotSchedule"),
        ("topology.kubernetes.io/zone", "ScheduleAnyway"),
    ]
    .map(|(key, when)| TopologySpreadConstraint {
        max_skew: 1,
        topology_key: key.into(),
        when_unsatisfiable: when.into(),
        label_selector: Some(selector(pods)),
        ..TopologySpreadConstraint::default()
    })
    .to_vec()
}

pub fn autoscaler(deployment: &str, a: &Autoscaling) -> HorizontalPodAutoscalerSpec {
    HorizontalPodAutoscalerSpec {
        scale_target_ref: CrossVersionObjectReference {
            api_version: Some("apps/v1".into()),
            kind: "Deployment".into(),
            name: deployment.into(),
        },
        min_replicas: Some(a.min_replicas as i32),
        max_replicas: a.max_replicas as i32,
        metrics: Some(vec![MetricSpec {
            type_: "Resource".into(),
            resource: Some(ResourceMetricSource {
                name: "cpu".into(),
                target: MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: Some(a.target_cpu_percent as i32),
                    ..MetricTarget::default()
                },
            }),
            ..MetricSpec::default()
        }]),
        behavior: None,
    }
}
