//! Single sign-on (`tracking.auth.oidc`): what a spec must hold for a
//! login that works, and the plugin's settings, every secret resolved.

use super::secrets::{Resolver, SecretValue, Sensitive};
use crate::located::Located;
use crate::spec::{Oidc, Permission, PlatformSpec, SecretSource};

/// The plugin mlk's image recipe installs, and the Python it needs
/// (its metadata says >= 3.11; on 3.11 its server does not start).
pub const PLUGIN: &str = "mlflow-oidc-auth";
pub const PLUGIN_VERSION: &str = "11.0.2";
pub const PYTHON: &str = "3.12";

/// Where the plugin's callback is served.
pub const CALLBACK: &str = "/callback";

#[derive(Debug, Clone)]
pub struct OidcPlan {
    pub discovery_url: String,
    /// What tokens' `iss` must be (the discovery document's issuer).
    pub issuer: String,
    pub client_id: String,
    /// What tokens' `aud` must name.
    pub audience: String,
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
    /// gc's access token, in the plugin's own format, when gc runs.
    pub gc_token: Option<SecretValue>,
}

fn err(path: &str, msg: impl Into<String>) -> Located {
    Located::new("spec", Some(path), msg)
}

/// `spec` is the merged spec as written (images not yet moved to a
/// private registry); `front` the origins of the Ingress and HTTPRoute;
/// `insecure` lets the issuer and the redirect be plain http (tests).
pub fn resolve(
    spec: &PlatformSpec,
    front: &[String],
    insecure: bool,
    r: &mut Resolver,
) -> Result<Option<OidcPlan>, Vec<Located>> {
    let Some(o) = &spec.tracking.auth.oidc else {
        return Ok(None);
    };
    let mut found = conflicts(spec);
    if !o.issuer.is_https() && !insecure {
        found.push(err(
            "tracking.auth.oidc.issuer",
            "must be https: tokens and the client secret would cross the network in clear \
             (--allow-insecure-issuer lets a test use http)",
        ));
    }
    found.extend(secret_sources(o));
    if !o.scopes.iter().any(|s| s.as_str() == "openid") {
        found.push(err(
            "tracking.auth.oidc.scopes",
            "lacks openid: without it the provider issues no ID token, and no login completes",
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
    if spec.tracking.gc.is_some() && r.external_store() {
        found.push(err(
            "tracking.gc",
            "logs in to the plugin with an access token mlk generates, and in externalSecrets \
             mode mlk generates no value: leave gc out",
        ));
    }
    let redirect_uri = redirect_uri(o, front, insecure)
        .map_err(|e| found.push(e))
        .ok();
    if !found.is_empty() {
        return Err(found);
    }
    let redirect_uri = redirect_uri.expect("checked above");
    let words = |v: &[crate::spec::GroupName]| v.iter().map(ToString::to_string).collect();
    let trusted_proxies = o.trusted_proxies.iter().map(ToString::to_string).collect();
    Ok(Some(OidcPlan {
        discovery_url: o.issuer.discovery(),
        issuer: o.issuer.issuer().to_owned(),
        client_id: o.client_id.to_string(),
        audience: o.audience.as_ref().unwrap_or(&o.client_id).to_string(),
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
        gc_token: spec
            .tracking
            .gc
            .as_ref()
            .map(|_| access_token(r.resolve(super::tracking::GC_LOGIN, &SecretSource::Generate))),
    }))
}

/// The plugin's access tokens are `mlf_PREFIX_SECRET`, found by their
/// 8-character prefix, which it stores in clear: a derived value's first
/// 8 characters, the other 32 (128 bits) secret.
fn access_token(derived: SecretValue) -> SecretValue {
    match derived {
        SecretValue::Value(v) if v.expose() != super::secrets::STAND_IN => {
            // A derived value: 40 hex characters (`secrets::derive`).
            assert_eq!(v.expose().len(), 40, "a derived value is 40 characters");
            let (prefix, secret) = v.expose().split_at(8);
            SecretValue::Value(Sensitive::new(format!("mlf_{prefix}_{secret}")))
        }
        // A stand-in for a value that could not be made: nothing renders.
        other => other,
    }
}

/// The client secret goes to the provider, the session key signs every
/// session: neither is written in the spec, and the client secret is
/// the provider's, never one mlk derives.
fn secret_sources(o: &Oidc) -> Vec<Located> {
    let mut found = Vec::new();
    if matches!(
        o.client_secret,
        SecretSource::Literal(_) | SecretSource::Generate
    ) {
        found.push(err(
            "tracking.auth.oidc.clientSecret",
            "is never written in the spec, nor generated: it is the one the provider issued; \
             take it from existingSecret, fromFile, fromEnv or remote",
        ));
    }
    if matches!(o.session_key, SecretSource::Literal(_)) {
        found.push(err(
            "tracking.auth.oidc.sessionKey",
            "is never written in the spec: it signs every session; generate it (the default), \
             or take it from existingSecret, fromFile, fromEnv or remote",
        ));
    }
    found
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
    if t.image.is_stock_mlflow() {
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
    let paths = [
        (
            "ingress.path",
            spec.ingress.enabled,
            spec.ingress.path.to_string(),
        ),
        (
            "gateway.path",
            spec.gateway.enabled,
            spec.gateway.path.to_string(),
        ),
    ];
    for (field, on, path) in paths {
        if on && path != "/" {
            found.push(err(
                field,
                "must be / with tracking.auth.oidc: the plugin serves its login and callback at \
                 the root, which another path leaves unrouted",
            ));
        }
    }
    if t.static_prefix.is_some() {
        found.push(err(
            "tracking.staticPrefix",
            "is not supported with tracking.auth.oidc yet: the plugin serves its login and \
             callback at the root",
        ));
    }
    found
}

/// The redirect URI: the one given, whose origin must be the front
/// door's (https on a host the front door serves over http is allowed:
/// TLS may end before it), or the front door's own, https first. Plain
/// http only where the person running mlk allows it.
fn redirect_uri(o: &Oidc, front: &[String], insecure: bool) -> Result<String, Located> {
    let path = "tracking.auth.oidc.redirectUri";
    let uri = match &o.redirect_uri {
        None => {
            let Some(origin) = front
                .iter()
                .find(|f| f.starts_with("https://"))
                .or(front.first())
            else {
                return Err(err(
                    path,
                    "is required without a front door: there is no Ingress or HTTPRoute host to \
                     derive it from (https://HOST/callback, as the provider has it)",
                ));
            };
            format!("{origin}{CALLBACK}")
        }
        Some(given) => {
            let origin = given.origin();
            let upgraded = origin.replacen("https://", "http://", 1);
            let on_front = front.iter().any(|f| *f == origin || *f == upgraded);
            if !front.is_empty() && !on_front {
                return Err(err(
                    path,
                    format!(
                        "is not on the front door ({}): the browser would come back to a host \
                         whose cookies the login never set",
                        front.join(", ")
                    ),
                ));
            }
            if given.path() != CALLBACK {
                return Err(err(
                    path,
                    format!("must have the path {CALLBACK}, where the plugin finishes the login"),
                ));
            }
            format!("{origin}{CALLBACK}")
        }
    };
    if uri.starts_with("http://") && !insecure {
        return Err(err(
            path,
            "is plain http: the login's code and the session cookie would cross the network in \
             clear. Serve the front door over TLS (ingress.tls, gateway.https), or give an https \
             redirectUri where TLS ends before it (--allow-insecure-issuer lets a test use http)",
        ));
    }
    Ok(uri)
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
         \"psycopg[binary]==3.3.9\" boto3==1.44.8\n\
         USER 65532:65532\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plugin finds a token by its `mlf_` scheme and 8-character
    /// prefix, and hashes the whole of it.
    #[test]
    fn gc_s_token_is_in_the_plugin_s_format() {
        let derived = "0123abcd".to_owned() + &"f".repeat(32);
        let SecretValue::Value(token) = access_token(SecretValue::Value(Sensitive::new(derived)))
        else {
            panic!("a value stays a value");
        };
        let parts: Vec<&str> = token.expose().splitn(3, '_').collect();
        assert_eq!(parts, ["mlf", "0123abcd", &"f".repeat(32)]);
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
