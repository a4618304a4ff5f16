//! A front door's annotations pass an allowlist. An Ingress's or a
//! Gateway API route's annotations configure the controller in front of
//! the platform, and some of them open it: `satisfy: any` with an open
//! source range lets anyone past the password, `auth-url` sends every
//! login elsewhere, `mirror-target` copies every request (credentials
//! included) to any host, snippets run arbitrary nginx configuration. So
//! only keys known to be safe pass; anything else needs the person
//! running mlk to say `--allow-annotation KEY`. No spec can allow itself.
//! A route's filters are a front door's settings too: none may mirror
//! requests elsewhere.

use super::{Evidence, Findings, Policy, Subject};
use crate::field_path::Trail;
use crate::manifest::{Document, Value};

/// Keys that change no one's access: mlk's own, size and time limits,
/// rate limits, source ranges that only narrow, certificates, DNS and
/// GitOps bookkeeping.
pub const SAFE: [&str; 48] = [
    // ingress-nginx, as mlk sets them
    "nginx.ingress.kubernetes.io/auth-type",
    "nginx.ingress.kubernetes.io/auth-secret",
    "nginx.ingress.kubernetes.io/auth-realm",
    "nginx.ingress.kubernetes.io/proxy-body-size",
    "nginx.ingress.kubernetes.io/proxy-read-timeout",
    "nginx.ingress.kubernetes.io/proxy-send-timeout",
    "nginx.ingress.kubernetes.io/ssl-redirect",
    // ingress-nginx limits and buffering
    "nginx.ingress.kubernetes.io/force-ssl-redirect",
    "nginx.ingress.kubernetes.io/proxy-connect-timeout",
    "nginx.ingress.kubernetes.io/proxy-buffering",
    "nginx.ingress.kubernetes.io/proxy-request-buffering",
    "nginx.ingress.kubernetes.io/proxy-buffer-size",
    "nginx.ingress.kubernetes.io/proxy-buffers-number",
    "nginx.ingress.kubernetes.io/proxy-max-temp-file-size",
    "nginx.ingress.kubernetes.io/proxy-http-version",
    "nginx.ingress.kubernetes.io/proxy-next-upstream",
    "nginx.ingress.kubernetes.io/proxy-next-upstream-timeout",
    "nginx.ingress.kubernetes.io/proxy-next-upstream-tries",
    "nginx.ingress.kubernetes.io/client-body-buffer-size",
    "nginx.ingress.kubernetes.io/limit-rps",
    "nginx.ingress.kubernetes.io/limit-rpm",
    "nginx.ingress.kubernetes.io/limit-connections",
    "nginx.ingress.kubernetes.io/limit-burst-multiplier",
    "nginx.ingress.kubernetes.io/limit-rate",
    "nginx.ingress.kubernetes.io/limit-rate-after",
    "nginx.ingress.kubernetes.io/enable-access-log",
    // source ranges narrow who may connect; `satisfy` is not here
    "nginx.ingress.kubernetes.io/whitelist-source-range",
    "nginx.ingress.kubernetes.io/allowlist-source-range",
    "nginx.ingress.kubernetes.io/denylist-source-range",
    // cert-manager
    "cert-manager.io/cluster-issuer",
    "cert-manager.io/issuer",
    "cert-manager.io/issuer-kind",
    "cert-manager.io/issuer-group",
    "cert-manager.io/common-name",
    "cert-manager.io/duration",
    "cert-manager.io/renew-before",
    "cert-manager.io/private-key-algorithm",
    "cert-manager.io/private-key-size",
    "cert-manager.io/private-key-rotation-policy",
    "acme.cert-manager.io/http01-edit-in-place",
    "acme.cert-manager.io/http01-ingress-class",
    // external-dns
    "external-dns.alpha.kubernetes.io/hostname",
    "external-dns.alpha.kubernetes.io/ttl",
    // GitOps bookkeeping
    "argocd.argoproj.io/sync-wave",
    "argocd.argoproj.io/sync-options",
    "argocd.argoproj.io/compare-options",
    "kustomize.toolkit.fluxcd.io/reconcile",
    "kubernetes.io/description",
];

/// The kinds whose annotations a front door's controller reads.
fn front_door(doc: &Document) -> bool {
    let api = doc.value["apiVersion"].as_str().unwrap_or_default();
    let group = api.split('/').next().unwrap_or_default();
    matches!(
        (group, doc.kind()),
        ("networking.k8s.io", "Ingress")
            | (
                "gateway.networking.k8s.io",
                "HTTPRoute" | "GRPCRoute" | "Gateway"
            )
    )
}

/// Gateway API route filters that send a request, credentials included,
/// somewhere else than the backend, or hand it to code no one can read
/// here.
const OPEN_FILTERS: [&str; 2] = ["RequestMirror", "ExtensionRef"];

fn filters(i: usize, doc: &Document, out: &mut Findings) {
    let rules = doc.value["spec"]["rules"]
        .as_sequence()
        .into_iter()
        .flatten();
    for (r, rule) in rules.enumerate() {
        let at = Trail::root().key("spec").key("rules").index(r);
        let mut each = |list: &Value, at: Trail| {
            for (f, filter) in list.as_sequence().into_iter().flatten().enumerate() {
                let kind = filter["type"].as_str().unwrap_or_default();
                if OPEN_FILTERS.contains(&kind) {
                    let msg = format!(
                        "a {kind} filter sends requests, credentials included, past the \
                         platform's backend; mlk does not render one"
                    );
                    out.push(
                        i,
                        at.key("filters").index(f).key("type"),
                        msg,
                        Evidence::Text(kind.into()),
                    );
                }
            }
        };
        each(&rule["filters"], at.clone());
        for (b, backend) in rule["backendRefs"]
            .as_sequence()
            .into_iter()
            .flatten()
            .enumerate()
        {
            each(&backend["filters"], at.key("backendRefs").index(b));
        }
    }
}

pub fn check(subject: &Subject, policy: &Policy, out: &mut Findings) {
    for (i, doc) in subject
        .docs
        .iter()
        .enumerate()
        .filter(|(_, d)| front_door(d))
    {
        filters(i, doc, out);
        let Some(m) = doc.value["metadata"]["annotations"].as_mapping() else {
            continue;
        };
        for key in m.keys().filter_map(Value::as_str) {
            if SAFE.contains(&key) || policy.allowed_annotations.contains(key) {
                continue;
            }
            let at = Trail::root().key("metadata").key("annotations").key(key);
            let msg = format!(
                "{key:?} is not an annotation mlk knows to be safe on an Ingress or a route; if \
                 you have checked what it does, run mlk with --allow-annotation {key}"
            );
            out.push(i, at, msg, Evidence::Text(key.to_owned()));
        }
    }
}
