//! The tracking server's own secrets: the AI Gateway's passphrase, and
//! MLflow's auth app (first admin, Flask secret key).

use super::secrets::{Resolver, SecretValue};
use crate::htpasswd;
use crate::located::Located;
use crate::spec::{Metadata, Monitoring, Permission, SecretSource, Tracking, TrackingAuth};

/// MLflow refuses a shorter first admin password.
const MIN_ADMIN_PASSWORD: usize = 12;

#[derive(Debug, Clone)]
pub struct TrackingSecrets {
    /// The AI Gateway's passphrase; none when the gateway is off.
    pub kek_passphrase: Option<SecretValue>,
    pub auth: Option<AuthSecrets>,
}

#[derive(Debug, Clone)]
pub struct AuthSecrets {
    pub admin_username: String,
    pub admin_password: SecretValue,
    /// Signs the auth app's sessions and form tokens: the same on every
    /// replica, and stable across re-renders.
    pub flask_secret_key: SecretValue,
    pub default_permission: Permission,
}

fn err(path: &str, msg: impl Into<String>) -> Located {
    Located::new("spec", Some(path), msg)
}

pub fn resolve(
    t: &Tracking,
    metadata: &Metadata,
    monitoring: &Monitoring,
    r: &mut Resolver,
) -> Result<TrackingSecrets, Located> {
    let kek_passphrase = match t.ai_gateway {
        true => Some(r.resolve_or(
            "tracking.kekPassphrase",
            &t.kek_passphrase,
            "; or, if nothing uses MLflow's AI Gateway, set tracking.aiGateway: false",
        )),
        false => None,
    };
    // In externalSecrets mode the auth app is refused as a whole.
    let auth = match t.auth.enabled && !r.external_store() {
        true => Some(auth(&t.auth, metadata, monitoring, r)?),
        false => None,
    };
    Ok(TrackingSecrets {
        kek_passphrase,
        auth,
    })
}

fn auth(
    a: &TrackingAuth,
    metadata: &Metadata,
    monitoring: &Monitoring,
    r: &mut Resolver,
) -> Result<AuthSecrets, Located> {
    let username = a.admin.username.as_str();
    htpasswd::check_user(username).map_err(|e| err("tracking.auth.admin.username", e))?;
    let path = "tracking.auth.admin.password";
    let admin_password = r.resolve(path, &a.admin.password);
    if let SecretValue::Value(pw) = &admin_password {
        check_admin_password(pw.expose()).map_err(|e| err(path, e))?;
    }
    // Prometheus logs in to scrape /metrics, with a Secret of the
    // ServiceMonitor's own namespace.
    let sm = &monitoring.service_monitor;
    if sm.enabled
        && sm
            .namespace
            .as_ref()
            .is_some_and(|ns| *ns != metadata.namespace)
    {
        return Err(err(
            "monitoring.serviceMonitor.namespace",
            "with tracking.auth, Prometheus needs the admin's credentials from a Secret in the \
             ServiceMonitor's own namespace: leave namespace unset, so it is the platform's",
        ));
    }
    let flask_key = r.resolve("tracking.auth.flaskSecretKey", &SecretSource::Generate);
    Ok(AuthSecrets {
        admin_username: username.to_owned(),
        admin_password,
        flask_secret_key: flask_key,
        default_permission: a.default_permission,
    })
}

/// It goes into an ini file, whose reader would end it at a line break and
/// cut spaces at either end: refused rather than changed. Never quoted.
fn check_admin_password(pw: &str) -> Result<(), String> {
    if pw.chars().count() < MIN_ADMIN_PASSWORD {
        return Err(format!(
            "must be at least {MIN_ADMIN_PASSWORD} characters: MLflow refuses a shorter one"
        ));
    }
    if pw.chars().any(char::is_control) || pw.trim() != pw {
        return Err("must be one line without control characters or spaces at either end".into());
    }
    Ok(())
}
