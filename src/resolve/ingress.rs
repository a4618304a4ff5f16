//! The Ingress as it will be rendered: host, TLS and the users that may
//! pass, their passwords already hashed.

use std::collections::BTreeMap;

use super::secrets::{Resolver, SecretValue, Sensitive};
use crate::htpasswd::{self, Entry};
use crate::located::Located;
use crate::spec::{Auth, BodySize, Ingress, Realm, SecretSource};
use crate::types::Quantity;
use crate::types::{Host, Name, Origin, Subdomain};

#[derive(Debug, Clone)]
pub struct IngressPlan {
    pub host: Host,
    pub class_name: Name,
    /// Whether the class is ingress-nginx's, the one controller that reads
    /// the `nginx.ingress.kubernetes.io/*` annotations.
    pub nginx: bool,
    pub path: String,
    pub tls: Option<TlsPlan>,
    pub body_size: BodySize,
    pub read_timeout: u32,
    pub send_timeout: u32,
    pub annotations: BTreeMap<String, String>,
    pub auth: AuthPlan,
    /// Room for the large headers a single sign-on brings (cookies, long
    /// redirects): nginx's 4k proxy buffer is too small for some.
    pub large_headers: bool,
}

impl IngressPlan {
    /// Where browsers reach the platform: `https://HOST` with TLS.
    pub fn origin(&self) -> Origin {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        Origin::try_from(format!("{scheme}://{}", self.host)).expect("a host makes an origin")
    }
}

#[derive(Debug, Clone)]
pub struct TlsPlan {
    /// `None`: cert-manager writes `NAME-tls`.
    pub secret_name: Option<Subdomain>,
    /// The cert-manager annotation and issuer, when one is named.
    pub issuer: Option<(&'static str, Subdomain)>,
}

#[derive(Debug, Clone)]
pub enum AuthPlan {
    Off,
    Existing(Subdomain),
    /// htpasswd lines, one a user, sorted by name.
    Rendered {
        realm: Realm,
        htpasswd: Sensitive,
    },
}

/// Annotations mlk writes; a user's copy would fight them.
pub const MANAGED_ANNOTATIONS: [&str; 9] = [
    "nginx.ingress.kubernetes.io/auth-type",
    "nginx.ingress.kubernetes.io/auth-secret",
    "nginx.ingress.kubernetes.io/auth-realm",
    "nginx.ingress.kubernetes.io/proxy-body-size",
    "nginx.ingress.kubernetes.io/proxy-read-timeout",
    "nginx.ingress.kubernetes.io/proxy-send-timeout",
    "nginx.ingress.kubernetes.io/ssl-redirect",
    "cert-manager.io/cluster-issuer",
    "cert-manager.io/issuer",
];

/// `nginx`, or an ingress-nginx install's own class such as
/// `nginx-internal`.
fn is_ingress_nginx(class: &Name) -> bool {
    class.as_str() == "nginx" || class.as_str().starts_with("nginx-")
}

fn err(path: &str, msg: impl Into<String>) -> Located {
    Located::new("spec", Some(path), msg)
}

pub fn resolve(
    i: &Ingress,
    max_artifact: &Quantity,
    r: &mut Resolver,
) -> Result<Option<IngressPlan>, Located> {
    if !i.enabled {
        return Ok(None);
    }
    let host = i
        .host
        .clone()
        .ok_or_else(|| err("ingress.host", "is required when ingress.enabled is true"))?;
    let mut annotations = BTreeMap::new();
    for (k, v) in &i.annotations {
        if MANAGED_ANNOTATIONS.contains(&k.as_str()) {
            let path = format!("ingress.annotations.{k}");
            return Err(err(
                &path,
                "mlk sets this annotation itself; use the matching ingress field",
            ));
        }
        annotations.insert(k.to_string(), v.clone());
    }
    let nginx = is_ingress_nginx(&i.class_name);
    if !nginx && i.auth.enabled {
        let msg = format!(
            "basic auth is rendered as ingress-nginx annotations, which the {} class's \
             controller ignores: anyone could log in. Set ingress.auth.enabled: false and turn \
             on tracking.auth (MLflow's own login, behind any controller), or use the \
             controller's own authentication",
            i.class_name
        );
        return Err(err("ingress.auth.enabled", msg));
    }
    Ok(Some(IngressPlan {
        host,
        nginx,
        class_name: i.class_name.clone(),
        path: i.path.to_string(),
        tls: i.tls.as_ref().map(tls).transpose()?,
        body_size: body_size(i.body_size.as_ref(), max_artifact, &mut r.warnings),
        read_timeout: i.read_timeout_seconds.0,
        send_timeout: i.send_timeout_seconds.0,
        annotations,
        auth: auth(&i.auth, r)?,
        large_headers: false,
    }))
}

/// `tracking.maxArtifactSize` unless the spec sets its own; one above it
/// lets through uploads the server's /tmp is not sized for.
fn body_size(given: Option<&BodySize>, max: &Quantity, warnings: &mut Vec<String>) -> BodySize {
    let Some(given) = given else {
        return BodySize::holding(max.value());
    };
    if given.bytes().is_none_or(|b| b > max.value()) {
        warnings.push(format!(
            "ingress.bodySize {given} lets through uploads larger than tracking.maxArtifactSize \
             ({max}), which the server's /tmp is sized for: one such upload gets the pod \
             evicted. Set tracking.maxArtifactSize instead, and leave ingress.bodySize unset"
        ));
    }
    given.clone()
}

fn tls(t: &crate::spec::Tls) -> Result<TlsPlan, Located> {
    let issuer = match (&t.cluster_issuer, &t.issuer) {
        (Some(_), Some(_)) => {
            return Err(err("ingress.tls", "name clusterIssuer or issuer, not both"));
        }
        (Some(c), None) => Some(("cert-manager.io/cluster-issuer", c.clone())),
        (None, Some(i)) => Some(("cert-manager.io/issuer", i.clone())),
        (None, None) => None,
    };
    if issuer.is_none() && t.secret_name.is_none() {
        return Err(err(
            "ingress.tls",
            "needs secretName (an existing Secret), or clusterIssuer or issuer",
        ));
    }
    Ok(TlsPlan {
        secret_name: t.secret_name.clone(),
        issuer,
    })
}

fn auth(a: &Auth, r: &mut Resolver) -> Result<AuthPlan, Located> {
    let given = !a.users.is_empty() || a.htpasswd_file.is_some();
    match (a.enabled, &a.existing_secret, given) {
        (false, None, false) => Ok(AuthPlan::Off),
        (false, _, _) => Err(err(
            "ingress.auth",
            "users, htpasswdFile or existingSecret are set, but enabled is false",
        )),
        (true, Some(_), true) => Err(err(
            "ingress.auth.existingSecret",
            "an existing Secret holds all users; leave out users and htpasswdFile",
        )),
        (true, Some(s), false) => Ok(AuthPlan::Existing(s.clone())),
        (true, None, false) => Err(err(
            "ingress.auth",
            "list users, an htpasswdFile or an existingSecret; or set enabled: false to let anyone in",
        )),
        (true, None, true) => rendered(a, r),
    }
}

fn rendered(a: &Auth, r: &mut Resolver) -> Result<AuthPlan, Located> {
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    let mut add = |e: Entry, path: &str| match entries.insert(e.user.clone(), e) {
        // A name read from a file is not quoted: the file may hold anything.
        Some(_) if path.ends_with("htpasswdFile") => Err(err(
            path,
            "a user in the file is listed twice, or also in users".to_owned(),
        )),
        Some(dup) => Err(err(path, format!("user {} is listed twice", dup.user))),
        None => Ok(()),
    };
    for (i, u) in a.users.iter().enumerate() {
        let path = format!("ingress.auth.users[{i}]");
        htpasswd::check_user(&u.name).map_err(|e| err(&format!("{path}.name"), e))?;
        let pw_path = format!("{path}.password");
        if matches!(u.password, SecretSource::Generate) {
            return Err(err(
                &pw_path,
                "a generated password would reach its user only as a hash; use fromEnv or fromFile",
            ));
        }
        let SecretValue::Value(pw) = r.resolve(&pw_path, &u.password) else {
            return Err(err(
                &pw_path,
                "existingSecret cannot give a password to hash; use auth.existingSecret",
            ));
        };
        let entry = htpasswd::hash(r.platform_id(), &u.name, pw.expose(), a.cost.0)
            .map_err(|e| err(&pw_path, e))?;
        add(entry, &path)?;
    }
    if let Some(file) = &a.htpasswd_file {
        let path = "ingress.auth.htpasswdFile";
        let text = r.read_file(file).map_err(|e| err(path, e))?;
        let parsed =
            htpasswd::parse(&text).map_err(|e| err(path, format!("{}: {e}", file.display())))?;
        for entry in parsed {
            add(entry, path)?;
        }
    }
    let lines: String = entries
        .values()
        .map(|e| format!("{}\n", e.line()))
        .collect();
    Ok(AuthPlan::Rendered {
        realm: a.realm.clone(),
        htpasswd: Sensitive::new(lines),
    })
}
