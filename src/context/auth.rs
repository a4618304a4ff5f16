//! MLflow's own auth app (`mlflow server --app-name basic-auth`): its ini
//! in a Secret, mounted into the server; its user store in a schema of
//! the same PostgreSQL; the Flask secret key every replica shares; and the
//! login Prometheus scrapes `/metrics` with.

use std::collections::BTreeMap;

use serde::Serialize;

use super::secret::{EnvEntry, SecretBinder, SecretFiles, SecretMount};
use crate::resolve::{AuthSecrets, SecretValue, Sensitive};
use crate::spec::SecretRef;

/// The auth app's tables live here, beside MLflow's own in `public`:
/// both have an `alembic_version` table, so they cannot share a schema.
pub const SCHEMA: &str = "mlflow_auth";
const CONFIG_DIR: &str = "/var/run/secrets/mlk-auth";
const CONFIG_FILE: &str = "basic_auth.ini";

pub struct Auth {
    /// For the server container.
    pub env: Vec<EnvEntry>,
    pub args: Vec<String>,
    pub config: Option<SecretMount>,
    /// The user store's URI, for the migration step.
    pub db_uri: String,
    /// For MLflow clients the platform runs itself (the gc CronJob): the
    /// first admin's login, as MLflow's client reads it.
    pub client_env: Vec<EnvEntry>,
    pub metrics_login: BasicAuth,
}

/// A ServiceMonitor endpoint's `basicAuth`.
#[derive(Debug, Clone, Serialize)]
pub struct BasicAuth {
    pub username: SecretRef,
    pub password: SecretRef,
}

/// The auth app's pieces; its values go into the tracking server's own
/// Secret through `own`.
pub fn build(a: &AuthSecrets, db_uri: &str, own: &mut SecretBinder) -> Auth {
    let separator = if db_uri.contains('?') { '&' } else { '?' };
    let auth_db = format!("{db_uri}{separator}options=-csearch_path%3D{SCHEMA}");
    let username = own.bind(
        "admin-username",
        &SecretValue::Value(Sensitive::not_secret(a.admin_username.clone())),
    );
    let password = own.bind("admin-password", &a.admin_password);
    let ini = SecretValue::Value(Sensitive::new(ini(a, &auth_db)));
    let mut files = SecretFiles::at("auth-config", CONFIG_DIR);
    let config_path = files.file(CONFIG_FILE, &own.bind(CONFIG_FILE, &ini));
    let flask_key = own.bind("flask-secret-key", &a.flask_secret_key);
    let mut env = vec![
        EnvEntry::plain("MLFLOW_AUTH_CONFIG_PATH", config_path),
        // Flask reads it from the environment only.
        EnvEntry::secret("MLFLOW_FLASK_SERVER_SECRET_KEY", flask_key),
    ];
    if let SecretValue::Existing(r) = &a.admin_password {
        // Not known at render time, so not in the ini: MLflow reads it
        // from here on the first start.
        env.push(EnvEntry::secret("MLFLOW_AUTH_ADMIN_PASSWORD", r.clone()));
    }
    let client_env = vec![
        EnvEntry::secret("MLFLOW_TRACKING_USERNAME", username.clone()),
        EnvEntry::secret("MLFLOW_TRACKING_PASSWORD", password.clone()),
    ];
    Auth {
        env,
        client_env,
        args: vec!["--app-name".into(), "basic-auth".into()],
        config: files.finish(),
        db_uri: auth_db,
        metrics_login: BasicAuth { username, password },
    }
}

/// MLflow reads the ini with configparser's interpolation: a `%` is
/// written `%%`. The password is in it only when mlk knows it.
fn ini(a: &AuthSecrets, auth_db: &str) -> String {
    let escape = |v: &str| v.replace('%', "%%");
    let mut keys = BTreeMap::new();
    keys.insert(
        "default_permission",
        a.default_permission.as_str().to_owned(),
    );
    keys.insert("database_uri", escape(auth_db));
    keys.insert("admin_username", escape(&a.admin_username));
    if let SecretValue::Value(pw) = &a.admin_password {
        keys.insert("admin_password", escape(pw.expose()));
    }
    let mut text = String::from("[mlflow]\n");
    for (k, v) in keys {
        text.push_str(&format!("{k} = {v}\n"));
    }
    text
}

/// Where the first admin's login is, as a command that prints it.
pub fn admin_note(n: &super::naming::Naming, login: &BasicAuth) -> String {
    let get = |r: &SecretRef| {
        format!(
            "kubectl -n {} get secret {} -o jsonpath='{{.data.{}}}' | base64 -d",
            n.namespace(),
            r.name,
            r.key
        )
    };
    format!(
        "MLflow's login (tracking.auth): the first admin's name is `{}`, its password `{}`",
        get(&login.username),
        get(&login.password)
    )
}
