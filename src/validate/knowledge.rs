//! What the API server enforces that k8s-openapi's schemas leave out:
//! enum values (Go constants, not in the OpenAPI document) and the name,
//! label and quantity syntax of particular fields.

use super::schema::{Check, Schema};

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

/// Whether a table's short name (`core.Container`) names definition `full`.
fn names(short: &str, full: &str) -> bool {
    let (group, name) = short.split_once('.').expect("group.Name");
    let Some(prefix) = full.strip_suffix(name).and_then(|p| p.strip_suffix('.')) else {
        return false;
    };
    match group {
        "core" => prefix == CORE,
        "meta" => prefix == META,
        "resource" => prefix == "io.k8s.apimachinery.pkg.api.resource",
        g => {
            prefix
                .strip_prefix("io.k8s.api.")
                .and_then(|p| p.strip_prefix(g))
                == Some(".v1")
        }
    }
}

/// Adds the enums and checks that concern definition `name`, as it is
/// read from k8s-openapi's schema.
pub fn apply(name: &str, def: &mut Schema) {
    // Most definitions have no entry: compare the type name first.
    let type_name = name.rsplit('.').next().unwrap_or(name);
    let concerns = |short: &str| short.ends_with(type_name) && names(short, name);
    for (_, prop, values) in ENUMS.iter().filter(|e| concerns(e.0)) {
        if let Some(p) = def.properties.get_mut(*prop) {
            let values = values.iter().map(|v| (*v).into()).collect();
            match p.items.as_deref_mut() {
                Some(item) => item.enum_values = values,
                None => p.enum_values = values,
            }
        }
    }
    for (_, prop, check) in CHECKS.iter().filter(|e| concerns(e.0)) {
        let target = match prop.is_empty() {
            true => Some(&mut *def),
            false => def.properties.get_mut(*prop),
        };
        if let Some(t) = target {
            t.check = Some(*check);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_name(short: &str) -> String {
        let (group, name) = short.split_once('.').expect("group.Name");
        match group {
            "core" => format!("{CORE}.{name}"),
            "meta" => format!("{META}.{name}"),
            "resource" => format!("io.k8s.apimachinery.pkg.api.resource.{name}"),
            g => format!("io.k8s.api.{g}.v1.{name}"),
        }
    }

    /// A renamed definition or field upstream must not silently drop a check.
    #[test]
    fn every_entry_names_a_generated_definition() {
        let defs = super::super::defs::Defs::core();
        for (def, prop, _) in ENUMS {
            let d = defs.get(&full_name(def)).unwrap_or_else(|| panic!("{def}"));
            let p = d
                .properties
                .get(*prop)
                .unwrap_or_else(|| panic!("{def}.{prop}"));
            let item = p.items.as_ref().map(|i| &i.enum_values);
            assert!(
                !p.enum_values.is_empty() || item.is_some_and(|e| !e.is_empty()),
                "{def}.{prop}: not applied"
            );
        }
        for (def, prop, _) in CHECKS {
            assert!(names(def, &full_name(def)), "{def}");
            let d = defs.get(&full_name(def)).unwrap_or_else(|| panic!("{def}"));
            let target = match prop.is_empty() {
                true => Some(d),
                false => d.properties.get(*prop),
            };
            let applied = target.and_then(|t| t.check);
            assert!(applied.is_some(), "{def}.{prop}: not applied");
        }
    }
}
