//! Single sign-on (`tracking.auth.oidc`): what a spec must hold for a
//! login that works, and the plugin's settings, every secret resolved.

use super::secrets::{Resolver, SecretValue};
use crate::located::Located;
use crate::spec::{Oidc, Permission, PlatformSpec, SecretSource};

/// The plugin mlk's image recipe installs, and the Python it needs
/// (its metadata says >= 3.11; on 3.11 its server does not start).
pub const PLUGIN: &str = "mlflow-oidc-auth";
pub const PLUGIN_VERSION: &str = "11.0.2";
pub const PYTHON: &str = "3.12";

/// Where the plugin's callback is served.
pub const CALLBACK: &str = "/callback";

/// What the front door's proxies are, when the spec does not say: the
/// private ranges a cluster's pods get their addresses from.
const POD_RANGES: [&str; 5] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "fd00::/8",
];

#[derive(Debug, Clone)]
pub struct OidcPlan {
    pub discovery_url: String,
    pub client_id: String,
    pub client_secret: SecretValue,
    /// The plugin's SECRET_KEY: one for every replica.
    pub session_key: SecretValue,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub groups_claim: String,
    pub user_groups: Vec<String>,
    pub admin_groups: Vec<String>,
    pub default_permission: Permission,
    /// Cookies only over https: the redirect URI's scheme.
    pub secure_cookies: bool,
    pub trusted_proxies: Vec<String>,
    /// Where the tracking server may reach the provider, with
    /// NetworkPolicies on, and on which port.
    pub egress: Vec<crate::types::Cidr>,
    pub issuer_port: u16,
}

fn err(path: &str, msg: impl Into<String>) -> Located {
    Located::new("spec", Some(path), msg)
}

/// `spec` is the merged spec as written (images not yet moved to a
/// private registry); `front` the origins of the Ingress and HTTPRoute.
pub fn resolve(
    spec: &PlatformSpec,
    front: &[String],
    insecure_issuer: bool,
    r: &mut Resolver,
) -> Result<Option<OidcPlan>, Vec<Located>> {
    let Some(o) = &spec.tracking.auth.oidc else {
        return Ok(None);
    };
    let mut found = conflicts(spec);
    if !o.issuer.is_https() && !insecure_issuer {
        found.push(err(
            "tracking.auth.oidc.issuer",
            "must be https: tokens and the client secret would cross the network in clear \
             (--allow-insecure-issuer lets a test use http)",
        ));
    }
    if matches!(o.client_secret, SecretSource::Literal(_)) {
        found.push(err(
            "tracking.auth.oidc.clientSecret",
            "is never written in the spec: take it from existingSecret, fromFile, fromEnv or \
             remote",
        ));
    }
    if o.groups.admins.is_empty() {
        found.push(err(
            "tracking.auth.oidc.groups.admins",
            "names no group: name the provider's group whose members administer MLflow \
             (permissions, users), or no one can",
        ));
    }
    let proxied = spec.tracking.pods.proxy.is_some() || spec.pods.proxy.is_some();
    if spec.network_policy.enabled && !proxied && o.egress.is_empty() {
        found.push(err(
            "tracking.auth.oidc.egress",
            format!(
                "names no address block: the NetworkPolicies let the tracking server reach no \
                 provider, so no login completes. Name the provider's blocks (0.0.0.0/0 for \
                 any, on port {}), or route it through pods.proxy",
                o.issuer.port()
            ),
        ));
    }
    let redirect_uri = redirect_uri(o, front).map_err(|e| found.push(e)).ok();
    if !found.is_empty() {
        return Err(found);
    }
    let redirect_uri = redirect_uri.expect("checked above");
    let words = |v: &[crate::spec::GroupName]| v.iter().map(ToString::to_string).collect();
    let trusted_proxies = match o.trusted_proxies.is_empty() {
        true => POD_RANGES.map(str::to_owned).to_vec(),
        false => o.trusted_proxies.iter().map(ToString::to_string).collect(),
    };
    Ok(Some(OidcPlan {
        discovery_url: o.issuer.discovery(),
        client_id: o.client_id.to_string(),
        client_secret: r.resolve("tracking.auth.oidc.clientSecret", &o.client_secret),
        session_key: r.resolve("tracking.auth.oidc.sessionKey", &o.session_key),
        secure_cookies: redirect_uri.starts_with("https://"),
        redirect_uri,
        scopes: o.scopes.iter().map(ToString::to_string).collect(),
        groups_claim: o.groups.claim.to_string(),
        user_groups: words(&o.groups.users),
        admin_groups: words(&o.groups.admins),
        default_permission: o.default_permission,
        trusted_proxies,
        egress: o.egress.clone(),
        issuer_port: o.issuer.port(),
    }))
}

/// What OIDC cannot share the platform with.
fn conflicts(spec: &PlatformSpec) -> Vec<Located> {
    let t = &spec.tracking;
    let mut found = Vec::new();
    if t.auth.enabled {
        found.push(err(
            "tracking.auth.enabled",
            "MLflow's own logins and tracking.auth.oidc are two logins: keep one",
        ));
    }
    if spec.ingress.enabled && spec.ingress.auth.enabled {
        found.push(err(
            "ingress.auth.enabled",
            "nginx's basic auth in front of tracking.auth.oidc asks for two logins: turn it off",
        ));
    }
    if is_stock_image(t.image.as_str()) {
        found.push(err(
            "tracking.image",
            format!(
                "MLflow's own image does not carry the {PLUGIN} plugin that tracking.auth.oidc \
                 runs: build one (`mlk image dockerfile --auth oidc` prints this recipe), push \
                 it, and name it here.\n{}",
                dockerfile()
            ),
        ));
    }
    if t.static_prefix.is_some() {
        found.push(err(
            "tracking.staticPrefix",
            "is not supported with tracking.auth.oidc yet: the plugin serves its login and \
             callback at the root",
        ));
    }
    if t.gc.is_some() {
        found.push(err(
            "tracking.gc",
            "deletes artifacts through the tracking server, which under tracking.auth.oidc \
             needs a machine login mlk does not create yet: leave gc out",
        ));
    }
    found
}

/// MLflow's published images (`ghcr.io/mlflow/mlflow`, any tag), which
/// carry no plugin.
fn is_stock_image(image: &str) -> bool {
    let name = image.split(['@']).next().unwrap_or(image);
    let repository = match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => name,
    };
    repository == "ghcr.io/mlflow/mlflow"
}

/// The redirect URI: the one given, whose origin must be the front
/// door's, or the front door's own.
fn redirect_uri(o: &Oidc, front: &[String]) -> Result<String, Located> {
    let path = "tracking.auth.oidc.redirectUri";
    let Some(given) = &o.redirect_uri else {
        return match front.first() {
            Some(origin) => Ok(format!("{origin}{CALLBACK}")),
            None => Err(err(
                path,
                "is required without a front door: there is no Ingress or HTTPRoute host to \
                 derive it from (https://HOST/callback, as the provider has it)",
            )),
        };
    };
    if !front.is_empty() && !front.iter().any(|f| f == given.origin()) {
        return Err(err(
            path,
            format!(
                "is not on the front door ({}): the browser would come back to a host whose \
                 cookies the login never set",
                front.join(", ")
            ),
        ));
    }
    if !given.as_str().ends_with(CALLBACK) {
        return Err(err(
            path,
            format!("must end with {CALLBACK}, where the plugin finishes the login"),
        ));
    }
    Ok(given.to_string())
}

/// The tracking image for tracking.auth.oidc: what MLflow's `-full`
/// image installs, on the Python the plugin needs, with the plugin.
pub fn dockerfile() -> String {
    let version = crate::mlflow::VERSION;
    let extras = crate::mlflow::IMAGE_EXTRAS.join(",");
    format!(
        "# The tracking server for mlk's tracking.auth.oidc: MLflow {version} as its -full\n\
         # image installs it (psycopg, boto3 and every store's client), with the\n\
         # {PLUGIN} plugin, on Python {PYTHON} (the plugin does not run on the -full\n\
         # image's Python 3.11).\n\
         FROM docker.io/library/python:{PYTHON}-slim-bookworm\n\
         RUN pip install --no-cache-dir \\\n    \
         \"mlflow[{extras}]=={version}\" \\\n    \
         \"{PLUGIN}=={PLUGIN_VERSION}\" \\\n    \
         \"psycopg[binary]\" boto3\n\
         USER 65532:65532\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stock_image_is_known_by_its_repository() {
        assert!(is_stock_image("ghcr.io/mlflow/mlflow:v3.17.2-full"));
        assert!(is_stock_image("ghcr.io/mlflow/mlflow:v3.18.0"));
        assert!(is_stock_image("ghcr.io/mlflow/mlflow@sha256:abc"));
        assert!(!is_stock_image(
            "registry.example.com/mlflow/mlflow-oidc:3.17.2"
        ));
        assert!(!is_stock_image("localhost:5000/ghcr.io/mlflow/mlflow:v1"));
    }

    #[test]
    fn the_recipe_pins_every_version() {
        let d = dockerfile();
        assert!(d.contains(&format!(
            "mlflow[extras,azure,db,gateway,genai,auth]=={}",
            crate::mlflow::VERSION
        )));
        assert!(d.contains("mlflow-oidc-auth==11.0.2"));
        assert!(d.contains("python:3.12-slim"));
    }
}
