//! Single sign-on (`mlflow server --app-name oidc-auth`): the
//! mlflow-oidc-auth plugin reads its settings from the environment; its
//! client secret and session key come from Secrets, its users and
//! permissions live in a schema of the platform's PostgreSQL.

use super::auth::{self, Auth, UserStore};
use super::naming::Naming;
use super::secret::{EnvEntry, SecretBinder};
use crate::resolve::OidcPlan;

/// The plugin's tables, beside MLflow's in `public` and the auth app's.
pub const SCHEMA: &str = "mlflow_oidc";
/// Sets the plugin's logins up: db-upgrade.py calls it when it is there.
const LOGINS: &str = include_str!("../../templates/scripts/oidc-logins.py");

pub fn build(n: &Naming, p: &OidcPlan, db_uri: &str, own: &mut SecretBinder) -> Auth {
    let store = UserStore::new(db_uri, SCHEMA, "oidc-auth");
    let client_secret = own.bind("oidc-client-secret", &p.client_secret);
    let session_key = own.bind("oidc-session-key", &p.session_key);
    use crate::resolve::connections::{MAX_OVERFLOW, POOL_RECYCLE_SECONDS, POOL_SIZE};
    let mut env = vec![
        EnvEntry::plain("OIDC_DISCOVERY_URL", p.discovery_url.clone()),
        // Tokens are held to this issuer and to this client: a token the
        // provider gave another of its clients logs no one in here.
        EnvEntry::plain("OIDC_ISSUER", p.issuer.clone()),
        EnvEntry::plain("OIDC_AUDIENCE", p.audience.clone()),
        EnvEntry::plain("OIDC_CLIENT_ID", p.client_id.clone()),
        EnvEntry::secret("OIDC_CLIENT_SECRET", client_secret),
        EnvEntry::plain("OIDC_REDIRECT_URI", p.redirect_uri.clone()),
        EnvEntry::plain("OIDC_SCOPE", p.scopes.join(" ")),
        EnvEntry::plain("OIDC_GROUPS_ATTRIBUTE", p.groups_claim.clone()),
        EnvEntry::plain("OIDC_GROUP_NAME", p.user_groups.join(",")),
        EnvEntry::plain("OIDC_ADMIN_GROUP_NAME", p.admin_groups.join(",")),
        EnvEntry::plain("DEFAULT_MLFLOW_PERMISSION", p.default_permission.as_str()),
        // The password comes from the pgpass file, as MLflow's own does;
        // its pool is the size the connection budget counts.
        EnvEntry::plain("OIDC_USERS_DB_URI", store.uri.clone()),
        EnvEntry::plain("OIDC_DB_POOL_SIZE", POOL_SIZE.to_string()),
        EnvEntry::plain("OIDC_DB_POOL_MAX_OVERFLOW", MAX_OVERFLOW.to_string()),
        EnvEntry::plain(
            "OIDC_DB_POOL_RECYCLE_SECONDS",
            POOL_RECYCLE_SECONDS.to_string(),
        ),
        // Every replica signs and reads the same session cookies.
        EnvEntry::secret("SECRET_KEY", session_key),
        EnvEntry::plain("SESSION_COOKIE_SECURE", p.secure_cookies.to_string()),
        // A browser that opens MLflow without a session goes to the
        // provider, not to the plugin's page with a login button.
        EnvEntry::plain("AUTOMATIC_LOGIN_REDIRECT", "true"),
    ];
    if !p.trusted_proxies.is_empty() {
        env.push(EnvEntry::plain(
            "TRUSTED_PROXIES",
            p.trusted_proxies.join(","),
        ));
    }
    // gc's login: a service account of the plugin's, an admin, whose
    // access token the migration step sets from gc's own Secret.
    let gc = p
        .gc_token
        .as_ref()
        .map(|token| auth::machine(n, auth::GC_USER, true, token));
    let origin = p
        .redirect_uri
        .trim_end_matches(crate::resolve::OIDC_CALLBACK);
    Auth {
        env,
        args: vec!["--app-name".into(), "oidc-auth".into()],
        config: None,
        store,
        client_env: auth::client_env(gc.as_ref()),
        // The plugin serves /metrics to anyone who reaches the port:
        // Prometheus needs no login.
        metrics_login: None,
        step_prelude: gc.is_some().then_some(LOGINS),
        machines: gc.into_iter().collect(),
        note: format!(
            "MLflow's login (tracking.auth.oidc): {origin} sends you to the provider; members \
             of {} log in as admins",
            p.admin_groups.join(", ")
        ),
    }
}
