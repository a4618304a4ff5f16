//! Single sign-on: `tracking.auth.oidc`, served by the mlflow-oidc-auth
//! plugin (`mlflow server --app-name oidc-auth`).

use schemars::JsonSchema;
use serde::Deserialize;

use super::SecretSource;
use super::permission::Permission;
use crate::types::Cidr;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Oidc {
    /// The provider's issuer (https); its discovery document is read from
    /// `ISSUER/.well-known/openid-configuration`.
    pub issuer: WebUrl,
    pub client_id: ClientId,
    /// The client's secret: from a Secret, a file, the environment or the
    /// external store; never written in the spec.
    pub client_secret: SecretSource,
    /// What the login asks the provider for.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<Scope>,
    #[serde(default)]
    pub groups: OidcGroups,
    /// What a user gets on what they did not create.
    #[serde(default = "read")]
    pub default_permission: Permission,
    /// Where the provider sends the browser back; derived from the
    /// Ingress or HTTPRoute (its host and TLS, then `/callback`) unless
    /// given. Its origin must be the front door's.
    pub redirect_uri: Option<WebUrl>,
    /// Signs the plugin's session cookies: the same on every replica and
    /// stable across re-renders (generated from MLK_SECRET_KEY unless
    /// given).
    #[serde(default = "generate")]
    pub session_key: SecretSource,
    /// Address blocks of the front door's proxies, whose X-Forwarded-*
    /// headers the plugin believes (so it builds https URLs behind TLS
    /// termination). Default: the private ranges a cluster's pods use.
    #[serde(default)]
    pub trusted_proxies: Vec<Cidr>,
    /// With NetworkPolicies on: the provider's address blocks, which the
    /// tracking server reaches on the issuer's port (0.0.0.0/0 for any).
    /// A proxy in `pods.proxy` reaches it without.
    #[serde(default)]
    pub egress: Vec<Cidr>,
}

/// Who may log in, from the provider's group claim.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OidcGroups {
    /// The claim of the ID token that lists a user's groups.
    pub claim: ClaimName,
    /// Members log in as users.
    pub users: Vec<GroupName>,
    /// Members log in as admins: at least one group.
    pub admins: Vec<GroupName>,
}

impl Default for OidcGroups {
    fn default() -> Self {
        OidcGroups {
            claim: ClaimName("groups".into()),
            users: vec![GroupName("mlflow".into())],
            admins: Vec::new(),
        }
    }
}

fn default_scopes() -> Vec<Scope> {
    ["openid", "email", "profile"]
        .map(|s| Scope(s.into()))
        .to_vec()
}

fn read() -> Permission {
    Permission::Read
}

fn generate() -> SecretSource {
    SecretSource::Generate
}

/// An http(s) URL with a host, and no credentials, query or fragment.
/// Errors never quote it: a mistyped one may hold a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl(String);
crate::types::string_newtype!(WebUrl);

impl WebUrl {
    fn parse(s: &str) -> Result<(), String> {
        let bad = "is not a URL: use https://host[:port][/path], without spaces, a query or \
                   credentials (the value is not shown: it may hold a password)";
        let Some((scheme, rest)) = s.split_once("://") else {
            return Err(bad.into());
        };
        let authority = rest.split('/').next().unwrap_or(rest);
        let ok = matches!(scheme, "http" | "https")
            && !authority.is_empty()
            && !authority.contains('@')
            && !rest.contains(['?', '#'])
            && s.chars().all(|c| c.is_ascii_graphic());
        match ok {
            true => Ok(()),
            false => Err(bad.into()),
        }
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> &str {
        let after = self.0.find("://").map_or(0, |i| i + 3);
        let end = self.0[after..]
            .find('/')
            .map_or(self.0.len(), |i| after + i);
        &self.0[..end]
    }

    /// The port the URL connects to.
    pub fn port(&self) -> u16 {
        let authority = self.origin().split_once("://").map_or("", |(_, a)| a);
        let explicit = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
                port.parse().ok()
            }
            _ => None,
        };
        explicit.unwrap_or(if self.is_https() { 443 } else { 80 })
    }

    /// The discovery document of an issuer.
    pub fn discovery(&self) -> String {
        let well_known = "/.well-known/openid-configuration";
        match self.0.ends_with(well_known) {
            true => self.0.clone(),
            false => format!("{}{well_known}", self.0.trim_end_matches('/')),
        }
    }
}

/// Printable ASCII without spaces, as OAuth's client identifiers are.
fn token(what: &str, s: &str, extra: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 256
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/@+".contains(c) || extra.contains(c));
    match ok {
        true => Ok(()),
        false => Err(format!(
            "is not {what}: letters, digits and -._~:/@+ only, at most 256"
        )),
    }
}

/// A string newtype that holds a `token` of `what`, `extra` besides.
macro_rules! token_newtype {
    ($(#[$doc:meta])* $ty:ident, $what:literal, $extra:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty(String);
        crate::types::string_newtype!($ty);

        impl $ty {
            fn parse(s: &str) -> Result<(), String> {
                token($what, s, $extra)
            }
        }
    };
}

token_newtype!(ClientId, "a client ID", "");
token_newtype!(Scope, "a scope", "");
token_newtype!(ClaimName, "a claim name", "");
token_newtype!(
    /// A group name; the plugin reads its lists comma-separated, so a name
    /// holds no comma.
    GroupName,
    "a group name",
    " "
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_with_a_host_and_nothing_hidden() {
        for good in ["https://id.example.com", "http://127.0.0.1:9400/realms/x"] {
            assert!(WebUrl::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "id.example.com",
            "ftp://id.example.com",
            "https://",
            "https://u:pw@id.example.com",
            "https://id.example.com/?x=1",
            "https://id.example.com/a b",
        ] {
            let e = WebUrl::parse(bad).unwrap_err();
            assert!(!e.contains("example"), "{e}");
        }
    }

    #[test]
    fn origin_and_discovery() {
        let u = WebUrl("https://id.example.com:8443/realms/x/".into());
        assert_eq!(u.origin(), "https://id.example.com:8443");
        assert_eq!(
            u.discovery(),
            "https://id.example.com:8443/realms/x/.well-known/openid-configuration"
        );
        let d = WebUrl("https://id.example.com/.well-known/openid-configuration".into());
        assert_eq!(d.discovery(), d.as_str());
        assert_eq!(WebUrl("http://h".into()).origin(), "http://h");
        assert_eq!(u.port(), 8443);
        assert_eq!(d.port(), 443);
        assert_eq!(WebUrl("http://h/x:1".into()).port(), 80);
    }

    #[test]
    fn group_names_hold_no_comma() {
        assert!(GroupName::parse("ML Admins").is_ok());
        assert!(GroupName::parse("a,b").is_err());
        assert!(GroupName::parse("").is_err());
    }
}
