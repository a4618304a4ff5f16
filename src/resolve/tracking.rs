//! The tracking server's own secrets: the AI Gateway's passphrase, and
//! MLflow's auth app (first admin, Flask secret key).

use super::secrets::{Resolver, SecretValue};
use crate::htpasswd;
use crate::located::Located;
use crate::spec::{Metadata, Monitoring, Permission, SecretSource, Tracking};

/// MLflow refuses a shorter first admin password.
const MIN_ADMIN_PASSWORD: usize = 12;

#[derive(Debug, Clone)]
pub struct TrackingSecrets {
    /// The AI Gateway's passphrase; none when the gateway is off.
    pub kek_passphrase: Option<SecretValue>,
    pub auth: Option<AuthSecrets>,
    /// Single sign-on, set once the front door is known.
    pub oidc: Option<super::OidcPlan>,
}

#[derive(Debug, Clone)]
pub struct AuthSecrets {
    pub admin_username: String,
    pub admin_password: SecretValue,
    /// Signs the auth app's sessions and form tokens: the same on every
    /// replica, and stable across re-renders.
    pub flask_secret_key: SecretValue,
    pub default_permission: Permission,
    /// The platform's own logins, none of them the first admin's: the
    /// one Prometheus scrapes /metrics with, and gc's when gc runs.
    pub metrics_password: SecretValue,
    pub gc_password: Option<SecretValue>,
    /// With workspaces, users keep `defaultPermission` in `default`, as
    /// they had it before workspaces; other workspaces take a role.
    pub workspaces: bool,
}

/// The purpose gc's login is derived for, under either login app: one
/// value, whichever app a platform moves to.
pub const GC_LOGIN: &str = "tracking.auth.gcLogin";

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
        true => Some(auth(t, metadata, monitoring, r)?),
        false => None,
    };
    Ok(TrackingSecrets {
        kek_passphrase,
        auth,
        oidc: None,
    })
}

fn auth(
    t: &Tracking,
    metadata: &Metadata,
    monitoring: &Monitoring,
    r: &mut Resolver,
) -> Result<AuthSecrets, Located> {
    let (a, gc) = (&t.auth, t.gc.is_some());
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
            "with tracking.auth, Prometheus logs in with credentials from a Secret in the \
             ServiceMonitor's own namespace: leave namespace unset, so it is the platform's",
        ));
    }
    let flask_key = r.resolve("tracking.auth.flaskSecretKey", &SecretSource::Generate);
    let machine = |r: &mut Resolver, path: &str| r.resolve(path, &SecretSource::Generate);
    Ok(AuthSecrets {
        admin_username: username.to_owned(),
        admin_password,
        flask_secret_key: flask_key,
        default_permission: a.default_permission,
        metrics_password: machine(r, "tracking.auth.metricsLogin"),
        gc_password: gc.then(|| machine(r, GC_LOGIN)),
        workspaces: !t.workspaces.is_empty(),
    })
}

/// With NetworkPolicies on, the AI Gateway reaches its providers only
/// through a proxy or to the blocks `aiGatewayEgress` names: on without
/// either, every call to a provider hangs until it times out. A warning,
/// not an error, so a spec that rendered before still renders.
pub fn ai_gateway_checks(spec: &crate::spec::PlatformSpec, warnings: &mut Vec<String>) {
    let t = &spec.tracking;
    let proxied = t.pods.proxy.is_some() || spec.pods.proxy.is_some();
    let warning = match (t.ai_gateway, t.ai_gateway_egress.is_empty()) {
        (false, false) => {
            "tracking.aiGatewayEgress: the AI Gateway is off (tracking.aiGateway), \
                           so nothing uses it"
        }
        (true, true) if spec.network_policy.enabled && !proxied => {
            "tracking.aiGateway: the AI Gateway is on, but the NetworkPolicies let the tracking \
             server reach no provider: name their address blocks in tracking.aiGatewayEgress \
             (0.0.0.0/0 for any, on port 443), route it through pods.proxy, or set \
             tracking.aiGateway: false"
        }
        _ => return,
    };
    warnings.push(warning.into());
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

/// Flags and variables of the server that a spec field sets: a second
/// copy would silently win or lose depending on the program's parser, so
/// the spec is sent to the field. (Whether the server keeps its
/// protections is the output gate's to check, whatever set them.)
pub fn tracking_checks(t: &Tracking) -> Result<(), Located> {
    // 0 would be unlimited to nginx, and nothing fits a smaller /tmp.
    if t.max_artifact_size.value() < 1024.0 * 1024.0 {
        return Err(Located::new(
            "spec",
            Some("tracking.maxArtifactSize"),
            format!(
                "{} is below 1Mi: it is the largest artifact a client may upload, e.g. 5Gi",
                t.max_artifact_size
            ),
        ));
    }
    for (i, arg) in t.extra_args.iter().enumerate() {
        if let Some(crate::mlflow::ServerOption {
            role: crate::mlflow::Role::Managed(field),
            flags,
            ..
        }) = crate::mlflow::option_of(arg)
        {
            return Err(Located::new(
                "spec",
                Some(&format!("tracking.extraArgs[{i}]")),
                format!(
                    "mlk sets {} itself; {}",
                    flags[0],
                    crate::mlflow::instead(field)
                ),
            ));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, var) in t.extra_env.iter().enumerate() {
        let path = format!("tracking.extraEnv[{i}].name");
        let name = var.name.as_str();
        if let Some(field) = crate::mlflow::managed_env(name) {
            let msg = format!("mlk sets {name} itself; {}", crate::mlflow::instead(field));
            return Err(Located::new("spec", Some(&path), msg));
        }
        if !seen.insert(name) {
            return Err(Located::new(
                "spec",
                Some(&path),
                format!("{name} is listed twice"),
            ));
        }
    }
    Ok(())
}

/// The autoscaler's bounds; its target is a share of the CPU request.
pub fn autoscaling_checks(t: &Tracking) -> Result<(), Located> {
    let Some(a) = &t.autoscaling else {
        return Ok(());
    };
    let fail = |field: &str, msg: String| {
        let path = format!("tracking.autoscaling.{field}");
        Err(Located::new("spec", Some(&path), msg))
    };
    if a.min_replicas == 0 {
        return fail("minReplicas", "must be at least 1".into());
    }
    if a.max_replicas < a.min_replicas {
        let msg = format!(
            "{} is below minReplicas ({})",
            a.max_replicas, a.min_replicas
        );
        return fail("maxReplicas", msg);
    }
    if !(1..=100).contains(&a.target_cpu_percent) {
        let msg = format!(
            "{} is not a share of the request (1 to 100)",
            a.target_cpu_percent
        );
        return fail("targetCpuPercent", msg);
    }
    Ok(())
}

/// `extraEnv`, `extraVolumes` and `extraContainers`: what each may name,
/// and the Secrets and ConfigMaps they read, which must exist.
pub fn extras(t: &Tracking, existing: &mut crate::external::External) -> Vec<Located> {
    let found = env_checks("tracking.extraEnv", &t.extra_env, existing);
    for v in &t.extra_volumes {
        if let Some(s) = v.0.secret.as_ref().and_then(|s| s.secret_name.as_ref()) {
            existing.insert("Secret", s);
        }
        if let Some(c) = &v.0.config_map {
            existing.insert("ConfigMap", &c.name);
        }
    }
    found
}

/// Env of the user's (`tracking.extraEnv`, `pods.env`): each a value or
/// one source, whose Secret or ConfigMap must exist.
pub fn env_checks(
    list_at: &str,
    list: &[crate::spec::EnvVar],
    existing: &mut crate::external::External,
) -> Vec<Located> {
    let mut found = Vec::new();
    for (i, var) in list.iter().enumerate() {
        let at = |f: &str| format!("{list_at}[{i}]{f}");
        match (&var.value, &var.value_from) {
            (Some(_), Some(_)) | (None, None) => {
                found.push(err(&at(""), "takes one of value or valueFrom"));
            }
            (_, Some(source)) => {
                let s = &source.0;
                let kinds = [
                    s.secret_key_ref.is_some(),
                    s.config_map_key_ref.is_some(),
                    s.field_ref.is_some(),
                ];
                if kinds.iter().filter(|k| **k).count() != 1 || s.resource_field_ref.is_some() {
                    found.push(err(
                        &at(".valueFrom"),
                        "takes one of secretKeyRef, configMapKeyRef or fieldRef",
                    ));
                }
                if let Some(r) = &s.secret_key_ref {
                    existing.insert("Secret", &r.name);
                }
                if let Some(r) = &s.config_map_key_ref {
                    existing.insert("ConfigMap", &r.name);
                }
            }
            (Some(_), None) => {}
        }
    }
    found
}
