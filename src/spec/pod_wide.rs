//! What every container of every pod mlk renders carries besides its
//! own: a corporate proxy, a CA bundle, and env of the user's. Set in the
//! top-level `pods`, or a component's own.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use super::database::KeyOf;

/// `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY`, in both cases.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Proxy {
    /// The proxy for `http://` URLs.
    pub http: Option<ProxyUrl>,
    /// The proxy for `https://` URLs (a CONNECT tunnel).
    pub https: Option<ProxyUrl>,
    /// Hosts reached directly, besides the ones mlk adds: `.svc`, the
    /// cluster's domain (every address mlk writes is a full Service name
    /// under it), the API server, loopback and the metadata servers.
    pub no_proxy: Vec<NoProxyHost>,
    /// The port the NetworkPolicies let pods reach the proxy on, where its
    /// URL is in a Secret mlk does not read; else the URLs' own.
    #[serde(deserialize_with = "crate::types::int32_opt")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u32>,
}

impl Proxy {
    /// The ports pods reach the proxy on, for the NetworkPolicies: each
    /// written URL's, and `port` for a URL in a Secret.
    pub fn ports(&self) -> Vec<u16> {
        let mut out: Vec<u16> = [&self.http, &self.https]
            .into_iter()
            .flatten()
            .filter_map(|u| match u {
                ProxyUrl::Url(u) => Some(u.port()),
                ProxyUrl::Secret(_) => None,
            })
            .collect();
        out.extend(self.port.and_then(|p| u16::try_from(p).ok()));
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether a URL is in a Secret and no `port` says where it listens.
    pub fn port_unknown(&self) -> bool {
        self.port.is_none()
            && [&self.http, &self.https]
                .into_iter()
                .flatten()
                .any(|u| matches!(u, ProxyUrl::Secret(_)))
    }

    /// `NO_PROXY`: what never goes through the proxy. A function of the
    /// spec alone, so that a Job's name, a hash of its content, changes
    /// with it. `$(KUBERNETES_SERVICE_HOST)` is the API server's address,
    /// which the kubelet expands from the service variables it sets in
    /// every container: the operators' pods (CloudNativePG's instance
    /// manager) reach the API server by it. The node-local metadata
    /// servers hand out cloud identities (GKE's, Azure's and EC2's
    /// instance metadata, EKS Pod Identity's agent): a proxy would not
    /// reach them, nor should it see their tokens.
    pub fn no_proxy(&self, cluster_domain: &str) -> String {
        let mut hosts: Vec<String> = [
            "localhost",
            "127.0.0.1",
            "::1",
            ".svc",
            "$(KUBERNETES_SERVICE_HOST)",
            "169.254.169.254",
            "169.254.169.252",
            "169.254.170.23",
            "metadata.google.internal",
        ]
        .map(String::from)
        .to_vec();
        hosts.push(format!(".{cluster_domain}"));
        hosts.extend(self.no_proxy.iter().map(|h| h.to_string()));
        hosts.join(",")
    }
}

/// A proxy's URL, written out when it holds no credentials, or a key of a
/// Secret that holds it (with them).
#[derive(Debug, Clone, PartialEq)]
pub enum ProxyUrl {
    Url(PlainProxyUrl),
    Secret(KeyOf),
}

impl Serialize for ProxyUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ProxyUrl::Url(u) => u.serialize(s),
            ProxyUrl::Secret(k) => {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("existingSecret", k)?;
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ProxyUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        struct FromSecret {
            existing_secret: KeyOf,
        }
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => PlainProxyUrl::try_from(s)
                .map(ProxyUrl::Url)
                .map_err(D::Error::custom),
            v @ serde_json::Value::Object(_) => serde_json::from_value::<FromSecret>(v)
                .map(|f| ProxyUrl::Secret(f.existing_secret))
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "expected a URL or {{existingSecret: {{name, key}}}}, got {other}"
            ))),
        }
    }
}

impl JsonSchema for ProxyUrl {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ProxyUrl".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let key = generator.subschema_for::<KeyOf>();
        schemars::json_schema!({
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"existingSecret": key},
                    "required": ["existingSecret"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// `http://host[:port]` or `https://...`, with no credentials (those go
/// in a Secret: `{existingSecret: {name, key}}`), no path and nothing a
/// proxy variable cannot hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainProxyUrl(String);
crate::types::string_newtype!(PlainProxyUrl);

impl PlainProxyUrl {
    /// The port the proxy listens on: as written, else the scheme's.
    pub fn port(&self) -> u16 {
        let rest = self.0.split_once("://").map_or("", |(_, r)| r);
        let authority = rest.trim_end_matches('/');
        let after_host = authority.rsplit(']').next().unwrap_or_default();
        let written = after_host
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok());
        written.unwrap_or(if self.0.starts_with("https://") {
            443
        } else {
            80
        })
    }

    fn parse(s: &str) -> Result<(), String> {
        let rest = s
            .strip_prefix("http://")
            .or_else(|| s.strip_prefix("https://"))
            .ok_or("must start with http:// or https://")?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains('@') {
            return Err(
                "holds credentials, which would be in every pod's spec: put the whole URL in a \
                 Secret and write {existingSecret: {name, key}}"
                    .into(),
            );
        }
        let host_ok = !authority.is_empty()
            && authority
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
        if !host_ok {
            return Err("must be http(s)://HOST[:PORT], with no path".into());
        }
        Ok(())
    }
}

/// A `NO_PROXY` entry: a host, `.domain`, an IP or a CIDR block,
/// optionally with a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoProxyHost(String);
crate::types::string_newtype!(NoProxyHost);

impl NoProxyHost {
    fn parse(s: &str) -> Result<(), String> {
        let ok = !s.is_empty()
            && s.len() <= 253
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:/[]*".contains(&b));
        match ok {
            true => Ok(()),
            false => Err(format!(
                "{s:?} is not a host, .domain, IP or CIDR block (no commas or spaces: one \
                 entry each)"
            )),
        }
    }
}

/// A file of PEM certificates every container trusts: mounted read-only
/// and named by `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, `AWS_CA_BUNDLE`
/// and `CURL_CA_BUNDLE`. It replaces the image's own bundle for those
/// clients, so it holds every CA the pods need, public ones included.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct CaBundle {
    pub config_map: Option<KeyOf>,
    pub secret: Option<KeyOf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_url_with_credentials_is_refused() {
        let e = PlainProxyUrl::check("http://me:pw@proxy.corp:3128").unwrap_err();
        assert!(e.contains("Secret"), "{e}");
        assert!(PlainProxyUrl::check("http://proxy.corp:3128").is_ok());
        assert!(PlainProxyUrl::check("http://proxy.corp:3128/").is_ok());
        assert!(PlainProxyUrl::check("http://proxy.corp:3128/x").is_err());
        assert!(PlainProxyUrl::check("socks5://proxy.corp").is_err());
    }

    #[test]
    fn a_no_proxy_entry_is_one_host() {
        assert!(NoProxyHost::check(".corp.example").is_ok());
        assert!(NoProxyHost::check("10.0.0.0/8").is_ok());
        assert!(NoProxyHost::check("a,b").is_err());
        assert!(NoProxyHost::check("a b").is_err());
    }
}
