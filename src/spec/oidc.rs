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
    /// What an ID or access token's `aud` must name for the plugin to
    /// take it; unset: the client ID.
    pub audience: Option<ClientId>,
    /// The client's secret: from a Secret, a file, the environment or the
    /// external store; never written in the spec.
    pub client_secret: SecretSource,
    /// What the login asks the provider for.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<Scope>,
    #[serde(default)]
    pub groups: OidcGroups,
    /// What a user gets on what they did not create: nothing unless
    /// granted, as the plugin's own default.
    #[serde(default = "no_permissions")]
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
    /// headers the plugin believes for the URLs of its own pages (the
    /// redirect URI and cookies are set regardless). Default: none, as
    /// the plugin's own: any pod could send those headers.
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

fn no_permissions() -> Permission {
    Permission::NoPermissions
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
        let bad = "is not a URL: use https://host[:port][/path] in lower case, without spaces, a \
                   query or credentials (the value is not shown: it may hold a password)";
        let Some((scheme, rest)) = s.split_once("://") else {
            return Err(bad.into());
        };
        let authority = rest.split('/').next().unwrap_or(rest);
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
        let ok = matches!(scheme, "http" | "https")
            && crate::types::Host::try_from(host.to_owned()).is_ok()
            && port_ok
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

    fn parts(&self) -> (&str, &str, Option<u16>, &str) {
        let (scheme, rest) = self.0.split_once("://").expect("parsed");
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        match authority.rsplit_once(':') {
            Some((host, port)) => (scheme, host, port.parse().ok(), path),
            None => (scheme, authority, None, path),
        }
    }

    /// `scheme://host[:port]`, without the scheme's default port.
    pub fn origin(&self) -> String {
        let (scheme, host, _, _) = self.parts();
        match self.port() {
            443 if self.is_https() => format!("{scheme}://{host}"),
            80 if !self.is_https() => format!("{scheme}://{host}"),
            port => format!("{scheme}://{host}:{port}"),
        }
    }

    /// The path, `/` when there is none.
    pub fn path(&self) -> &str {
        match self.parts().3 {
            "" => "/",
            path => path,
        }
    }

    /// The port the URL connects to.
    pub fn port(&self) -> u16 {
        let default = if self.is_https() { 443 } else { 80 };
        self.parts().2.unwrap_or(default)
    }

    /// The issuer itself, where the spec gave its discovery document.
    pub fn issuer(&self) -> &str {
        self.0
            .strip_suffix("/.well-known/openid-configuration")
            .unwrap_or(&self.0)
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

/// Printable ASCII without spaces, as OAuth's client identifiers are;
/// `extra` may add some, never at either end (the plugin strips them).
/// At most 255: the plugin's columns (a group's name) hold no more.
fn token(what: &str, s: &str, extra: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 255
        && s.trim() == s
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/@+".contains(c) || extra.contains(c));
    match ok {
        true => Ok(()),
        false => Err(format!(
            "is not {what}: letters, digits and -._~:/@+{extra} only, at most 255, nothing \
             blank at either end"
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
            "https://:443",
            "https://h.example.com:abc",
            "https://h.example.com:99999",
            "https://h.example.com:0",
            "https://[::1",
            "https://ID.example.com",
            "https://u:pw@id.example.com",
            "https://id.example.com/?x=1",
            "https://id.example.com/a b",
        ] {
            let e = WebUrl::parse(bad).unwrap_err();
            assert!(!e.contains("example"), "{e}");
        }
    }

    #[test]
    fn origin_path_port_and_discovery() {
        let u = WebUrl("https://id.example.com:8443/realms/x/".into());
        assert_eq!(u.origin(), "https://id.example.com:8443");
        assert_eq!(
            u.discovery(),
            "https://id.example.com:8443/realms/x/.well-known/openid-configuration"
        );
        let d = WebUrl("https://id.example.com/.well-known/openid-configuration".into());
        assert_eq!(d.discovery(), d.as_str());
        assert_eq!(d.issuer(), "https://id.example.com");
        assert_eq!(WebUrl("http://h".into()).origin(), "http://h");
        assert_eq!(WebUrl("http://h".into()).path(), "/");
        assert_eq!(
            WebUrl("https://h:443/callback".into()).origin(),
            "https://h"
        );
        assert_eq!(u.port(), 8443);
        assert_eq!(d.port(), 443);
        assert_eq!(WebUrl("http://h/x:1".into()).port(), 80);
    }

    #[test]
    fn group_names_hold_no_comma() {
        assert!(GroupName::parse("ML Admins").is_ok());
        assert!(GroupName::parse("a,b").is_err());
        assert!(GroupName::parse("").is_err());
        assert!(GroupName::parse(" ").is_err());
        assert!(GroupName::parse("admins ").is_err());
    }
}
