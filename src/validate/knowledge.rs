//! What the API server enforces that k8s-openapi's schemas leave out:
//! enum values (Go constants, not in the OpenAPI document) and the name,
//! label and quantity syntax of particular fields.

use super::schema::{Check, Defs, Schema};

const CORE: &str = "io.k8s.api.core.v1";
const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// (definition, property, allowed values). A list property's items get them.
const ENUMS: &[(&str, &str, &[&str])] = &[
    (
        "core.Container",
        "imagePullPolicy",
        &["Always", "Never", "IfNotPresent"],
    ),
    (
        "core.Container",
        "terminationMessagePolicy",
        &["File", "FallbackToLogsOnError"],
    ),
    ("core.ContainerPort", "protocol", &["TCP", "UDP", "SCTP"]),
    ("core.ServicePort", "protocol", &["TCP", "UDP", "SCTP"]),
    (
        "core.ServiceSpec",
        "type",
        &["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"],
    ),
    ("core.ServiceSpec", "sessionAffinity", &["ClientIP", "None"]),
    (
        "core.ServiceSpec",
        "externalTrafficPolicy",
        &["Cluster", "Local"],
    ),
    (
        "core.ServiceSpec",
        "internalTrafficPolicy",
        &["Cluster", "Local"],
    ),
    (
        "core.ServiceSpec",
        "ipFamilyPolicy",
        &["SingleStack", "PreferDualStack", "RequireDualStack"],
    ),
    (
        "core.PodSpec",
        "restartPolicy",
        &["Always", "OnFailure", "Never"],
    ),
    (
        "core.PodSpec",
        "dnsPolicy",
        &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
    ),
    (
        "core.PodSpec",
        "preemptionPolicy",
        &["PreemptLowerPriority", "Never"],
    ),
    (
        "core.PersistentVolumeClaimSpec",
        "accessModes",
        &[
            "ReadWriteOnce",
            "ReadOnlyMany",
            "ReadWriteMany",
            "ReadWriteOncePod",
        ],
    ),
    (
        "core.PersistentVolumeClaimSpec",
        "volumeMode",
        &["Block", "Filesystem"],
    ),
    (
        "core.SeccompProfile",
        "type",
        &["Localhost", "RuntimeDefault", "Unconfined"],
    ),
    ("core.HTTPGetAction", "scheme", &["HTTP", "HTTPS"]),
    ("core.Toleration", "operator", &["Exists", "Equal"]),
    (
        "core.Toleration",
        "effect",
        &["NoSchedule", "PreferNoSchedule", "NoExecute"],
    ),
    (
        "core.TopologySpreadConstraint",
        "whenUnsatisfiable",
        &["DoNotSchedule", "ScheduleAnyway"],
    ),
    (
        "apps.DeploymentStrategy",
        "type",
        &["Recreate", "RollingUpdate"],
    ),
    (
        "apps.StatefulSetSpec",
        "podManagementPolicy",
        &["OrderedReady", "Parallel"],
    ),
    (
        "apps.StatefulSetUpdateStrategy",
        "type",
        &["RollingUpdate", "OnDelete"],
    ),
    (
        "batch.JobSpec",
        "completionMode",
        &["NonIndexed", "Indexed"],
    ),
    (
        "batch.CronJobSpec",
        "concurrencyPolicy",
        &["Allow", "Forbid", "Replace"],
    ),
    (
        "networking.HTTPIngressPath",
        "pathType",
        &["Exact", "Prefix", "ImplementationSpecific"],
    ),
    (
        "networking.NetworkPolicySpec",
        "policyTypes",
        &["Ingress", "Egress"],
    ),
    (
        "networking.NetworkPolicyPort",
        "protocol",
        &["TCP", "UDP", "SCTP"],
    ),
    (
        "meta.LabelSelectorRequirement",
        "operator",
        &["In", "NotIn", "Exists", "DoesNotExist"],
    ),
];

/// (definition, property, check); an empty property means the definition.
const CHECKS: &[(&str, &str, Check)] = &[
    ("meta.ObjectMeta", "labels", Check::Labels),
    ("meta.ObjectMeta", "annotations", Check::Annotations),
    ("meta.LabelSelector", "matchLabels", Check::Labels),
    ("core.ServiceSpec", "selector", Check::Labels),
    ("core.Container", "name", Check::Dns1123Label),
    ("core.ContainerPort", "name", Check::PortName),
    ("core.ServicePort", "name", Check::Dns1123Label),
    ("core.Volume", "name", Check::Dns1123Label),
    ("core.VolumeMount", "name", Check::Dns1123Label),
    (
        "core.PodSpec",
        "serviceAccountName",
        Check::Dns1123Subdomain,
    ),
    ("core.SecretKeySelector", "name", Check::Dns1123Subdomain),
    ("core.ConfigMapKeySelector", "name", Check::Dns1123Subdomain),
    (
        "networking.IngressServiceBackend",
        "name",
        Check::Dns1123Label,
    ),
    ("resource.Quantity", "", Check::Quantity),
];

fn full_name(short: &str) -> String {
    let (group, name) = short.split_once('.').expect("group.Name");
    match group {
        "core" => format!("{CORE}.{name}"),
        "meta" => format!("{META}.{name}"),
        "resource" => format!("io.k8s.apimachinery.pkg.api.resource.{name}"),
        g => format!("io.k8s.api.{g}.v1.{name}"),
    }
}

/// Adds the enums and checks to the definitions k8s-openapi generated.
pub fn apply(defs: &mut Defs) {
    for (def, prop, values) in ENUMS {
        if values.is_empty() {
            continue;
        }
        if let Some(p) = property(defs, def, prop) {
            let values = values.iter().map(|v| v.to_string()).collect();
            match p.items.as_deref_mut() {
                Some(item) => item.enum_values = values,
                None => p.enum_values = values,
            }
        }
    }
    for (def, prop, check) in CHECKS {
        let target = if prop.is_empty() {
            defs.get_mut(&full_name(def))
        } else {
            property(defs, def, prop)
        };
        if let Some(t) = target {
            t.check = Some(*check);
        }
    }
}

fn property<'a>(defs: &'a mut Defs, def: &str, prop: &str) -> Option<&'a mut Schema> {
    defs.get_mut(&full_name(def))?.properties.get_mut(prop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A renamed definition or field upstream must not silently drop a check.
    #[test]
    fn every_entry_names_a_generated_definition() {
        let catalog = crate::validate::catalog::Catalog::builtin();
        let defs = catalog.defs();
        for (def, prop, _) in ENUMS.iter().filter(|e| !e.2.is_empty()) {
            let d = defs.get(&full_name(def)).unwrap_or_else(|| panic!("{def}"));
            assert!(d.properties.contains_key(*prop), "{def}.{prop}");
        }
        for (def, prop, _) in CHECKS {
            let d = defs.get(&full_name(def)).unwrap_or_else(|| panic!("{def}"));
            assert!(
                prop.is_empty() || d.properties.contains_key(*prop),
                "{def}.{prop}"
            );
        }
    }
}
