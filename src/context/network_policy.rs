//! NetworkPolicies: default-deny in the namespace, DNS for every pod, then
//! exactly the paths the platform uses. Each path is written once, from
//! one group of pods to another, and becomes the egress rule of its
//! source and the ingress rule of its destination, so the two sides
//! always agree.

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::naming::{Labels, Naming};
use crate::spec::NamespaceLabels;

#[derive(Debug, Serialize)]
pub struct PolicyContext {
    pub name: String,
    pub labels: Labels,
    pub spec: NetworkPolicySpec,
}

/// Pods the platform renders (or has an operator create) in its own
/// namespace, under the name of their policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    pub name: String,
    pub pods: Labels,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Peer {
    Group(Group),
    Namespaces(Vec<NamespaceLabels>),
    /// Outside the cluster, or an address no selector names (the API
    /// server, an external database).
    Anywhere,
    /// One address block, such as a node-local metadata server's.
    Block(&'static str),
    /// Address blocks the spec names.
    Blocks(Vec<crate::types::Cidr>),
}

/// One allowed connection: who opens it, to whom, on which TCP ports
/// (none: any port).
pub struct Path {
    pub from: Peer,
    pub to: Peer,
    pub ports: Vec<u16>,
}

impl Path {
    pub fn new(from: &Peer, to: &Peer, ports: &[u16]) -> Path {
        Path {
            from: from.clone(),
            to: to.clone(),
            ports: ports.to_vec(),
        }
    }
}

pub fn build(n: &Naming, groups: &[Group], paths: &[Path]) -> Vec<PolicyContext> {
    let labels = n.common_labels();
    let policy = |name: String, spec| PolicyContext {
        name,
        labels: labels.clone(),
        spec,
    };
    let mut out = vec![
        policy(n.object("default-deny"), default_deny()),
        policy(n.object("dns"), dns()),
    ];
    for g in groups {
        out.push(policy(n.object(&g.name), group_policy(g, paths)));
    }
    out
}

fn all_pods() -> Option<LabelSelector> {
    Some(LabelSelector::default())
}

fn select(labels: &Labels) -> Option<LabelSelector> {
    Some(LabelSelector {
        match_labels: Some(labels.clone()),
        match_expressions: None,
    })
}

fn types() -> Option<Vec<String>> {
    Some(vec!["Ingress".into(), "Egress".into()])
}

fn default_deny() -> NetworkPolicySpec {
    NetworkPolicySpec {
        pod_selector: all_pods(),
        policy_types: types(),
        ..NetworkPolicySpec::default()
    }
}

/// To port 53 anywhere: the cluster DNS service, or a node-local cache
/// on a link-local address, which no pod selector could name.
fn dns() -> NetworkPolicySpec {
    let ports = ["UDP", "TCP"].map(|protocol| NetworkPolicyPort {
        port: Some(IntOrString::Int(53)),
        protocol: Some(protocol.into()),
        end_port: None,
    });
    NetworkPolicySpec {
        pod_selector: all_pods(),
        policy_types: Some(vec!["Egress".into()]),
        egress: Some(vec![NetworkPolicyEgressRule {
            ports: Some(ports.to_vec()),
            to: None,
        }]),
        ..NetworkPolicySpec::default()
    }
}

fn group_policy(g: &Group, paths: &[Path]) -> NetworkPolicySpec {
    let me = |p: &Peer| matches!(p, Peer::Group(x) if x == g);
    let ingress = paths
        .iter()
        .filter(|p| me(&p.to))
        .map(|p| NetworkPolicyIngressRule {
            from: peers(&p.from),
            ports: ports(&p.ports),
        })
        .collect();
    let egress = paths
        .iter()
        .filter(|p| me(&p.from))
        .map(|p| NetworkPolicyEgressRule {
            to: peers(&p.to),
            ports: ports(&p.ports),
        })
        .collect();
    NetworkPolicySpec {
        pod_selector: select(&g.pods),
        policy_types: types(),
        ingress: Some(ingress),
        egress: Some(egress),
    }
}

fn peers(p: &Peer) -> Option<Vec<NetworkPolicyPeer>> {
    match p {
        Peer::Group(g) => Some(vec![NetworkPolicyPeer {
            pod_selector: select(&g.pods),
            ..NetworkPolicyPeer::default()
        }]),
        Peer::Namespaces(all) => Some(
            all.iter()
                .map(|ns| NetworkPolicyPeer {
                    namespace_selector: select(
                        &ns.iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                    ),
                    ..NetworkPolicyPeer::default()
                })
                .collect(),
        ),
        // Every address, IPv4 and IPv6: a rule without peers would say
        // the same, but this one reads as meant.
        Peer::Anywhere => Some(vec![block("0.0.0.0/0"), block("::/0")]),
        Peer::Block(cidr) => Some(vec![block(cidr)]),
        Peer::Blocks(all) => Some(all.iter().map(|c| block(c.as_str())).collect()),
    }
}

fn block(cidr: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        ip_block: Some(IPBlock {
            cidr: cidr.into(),
            except: None,
        }),
        ..NetworkPolicyPeer::default()
    }
}

fn ports(ports: &[u16]) -> Option<Vec<NetworkPolicyPort>> {
    if ports.is_empty() {
        return None;
    }
    let tcp = |p: &u16| NetworkPolicyPort {
        port: Some(IntOrString::Int(i32::from(*p))),
        protocol: Some("TCP".into()),
        end_port: None,
    };
    Some(ports.iter().map(tcp).collect())
}
