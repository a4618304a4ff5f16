use schemars::JsonSchema;
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::secret_source::SecretSource;
use crate::types::{Host, LabelKey, Name, Subdomain};

/// An nginx Ingress in front of the tracking server, with basic auth.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Ingress {
    pub enabled: bool,
    /// Required when enabled; checked once layers are merged.
    pub host: Option<Host>,
    pub class_name: Name,
    pub path: UrlPath,
    pub tls: Option<Tls>,
    /// nginx's `client_max_body_size`: `0` is unlimited. Model artifacts
    /// are often larger than nginx's 1m default, which answers 413.
    /// Unset, `tracking.maxArtifactSize`.
    pub body_size: Option<BodySize>,
    pub read_timeout_seconds: Seconds,
    pub send_timeout_seconds: Seconds,
    pub annotations: BTreeMap<LabelKey, String>,
    pub auth: Auth,
}

impl Default for Ingress {
    fn default() -> Self {
        Ingress {
            enabled: false,
            host: None,
            class_name: Name::try_from("nginx".to_owned()).expect("built-in"),
            path: UrlPath("/".into()),
            tls: None,
            body_size: None,
            read_timeout_seconds: Seconds(600),
            send_timeout_seconds: Seconds(600),
            annotations: BTreeMap::new(),
            auth: Auth::default(),
        }
    }
}

/// TLS from a Secret that exists, or from a cert-manager issuer (which
/// then writes the Secret `secretName`, by default `NAME-tls`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tls {
    pub secret_name: Option<Subdomain>,
    pub cluster_issuer: Option<Subdomain>,
    pub issuer: Option<Subdomain>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Auth {
    /// `false` exposes MLflow without a login: an explicit choice.
    pub enabled: bool,
    pub users: Vec<User>,
    /// Ready-made htpasswd lines (bcrypt), relative to the spec.
    pub htpasswd_file: Option<PathBuf>,
    /// A Secret with key `auth` that exists; mlk renders none.
    pub existing_secret: Option<Subdomain>,
    pub realm: Realm,
    pub cost: Cost,
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            enabled: true,
            users: Vec::new(),
            htpasswd_file: None,
            existing_secret: None,
            realm: Realm("MLflow".into()),
            cost: Cost(DEFAULT_COST),
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    pub password: SecretSource,
}

/// nginx verifies the hash on every request, blocking a worker while it
/// does: each step of cost doubles that time. docs/ingress-gateway-login.md
/// has figures.
pub const DEFAULT_COST: u32 = 6;
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost(pub u32);
crate::types::bounded_int!(
    Cost,
    crate::htpasswd::COSTS,
    "bcrypt cost {n} is outside 4..=12: nginx checks the hash on every request, and each step \
     doubles the time it takes"
);

/// A URL path for the Ingress rule: `/`, or `/a/b`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPath(pub(super) String);
crate::types::string_newtype!(UrlPath);

impl UrlPath {
    fn parse(s: &str) -> Result<(), String> {
        let ok = |c: char| c.is_ascii_alphanumeric() || "-._~/".contains(c);
        if s.starts_with('/') && s.chars().all(ok) && !s.contains("//") {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is not a path: start with / and use letters, digits, '-', '.', '_', '~'"
            ))
        }
    }
}

/// nginx's size syntax: a number with an optional k, m or g.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodySize(String);
crate::types::string_newtype!(BodySize);

impl BodySize {
    const MIB: f64 = 1024.0 * 1024.0;

    /// The nginx size that holds `bytes`, in whole mebibytes.
    pub fn holding(bytes: f64) -> BodySize {
        BodySize(format!("{}m", (bytes / Self::MIB).ceil() as u64))
    }

    /// The limit in bytes; none for `0`, unlimited.
    pub fn bytes(&self) -> Option<f64> {
        let (digits, unit) = match self.0.char_indices().last() {
            Some((i, c)) if c.is_ascii_alphabetic() => (&self.0[..i], c.to_ascii_lowercase()),
            _ => (self.0.as_str(), 'b'),
        };
        let n: f64 = digits.parse().ok()?;
        let scale = match unit {
            'k' => 1024.0,
            'm' => Self::MIB,
            'g' => Self::MIB * 1024.0,
            _ => 1.0,
        };
        (n > 0.0).then_some(n * scale)
    }

    fn parse(s: &str) -> Result<(), String> {
        let digits = s.strip_suffix(['k', 'K', 'm', 'M', 'g', 'G']).unwrap_or(s);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is not an nginx size: e.g. 0 (unlimited), 512m, 5g"
            ))
        }
    }
}

/// A timeout in seconds, 1 to 86400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub u32);
crate::types::bounded_int!(Seconds, 1..=86400, "{n} is not between 1 and 86400 seconds");

/// The basic-auth realm. ingress-nginx writes it into nginx's config
/// inside quotes, so quotes, backslashes, `$`, `;` and braces are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realm(String);
crate::types::string_newtype!(Realm);

impl Realm {
    fn parse(s: &str) -> Result<(), String> {
        let ok = |c: char| (' '..='~').contains(&c) && !"\"\\$;{}".contains(c);
        if !s.is_empty() && s.len() <= 100 && s.chars().all(ok) {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is not a realm: printable ASCII without quotes, backslashes, '$', ';' or braces"
            ))
        }
    }
}
