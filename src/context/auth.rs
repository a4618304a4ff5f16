//! MLflow's own auth app (`mlflow server --app-name basic-auth`): its ini
//! in a Secret, mounted into the server; its user store in a schema of
//! the same PostgreSQL; the Flask secret key every replica shares; and the
//! login Prometheus scrapes `/metrics` with.

use std::collections::BTreeMap;

use serde::Serialize;

use super::naming::Naming;
use super::secret::{EnvEntry, SecretBinder, SecretFiles, SecretMount};
use crate::resolve::{AuthSecrets, SecretValue, Sensitive};
use crate::spec::SecretRef;

/// The auth app's tables live here, beside MLflow's own in `public`:
/// both have an `alembic_version` table, so they cannot share a schema.
pub const SCHEMA: &str = "mlflow_auth";
const CONFIG_DIR: &str = "/var/run/secrets/mlk-auth";
const CONFIG_FILE: &str = "basic_auth.ini";

/// A login in front of MLflow, its own app or single sign-on: what the
/// server, the migration step and the platform's own clients need.
pub struct Auth {
    /// For the server container.
    pub env: Vec<EnvEntry>,
    pub args: Vec<String>,
    pub config: Option<SecretMount>,
    /// The user store, migrated by the init step: its URI, its schema,
    /// and which app's migrations (`db-upgrade.py` knows each).
    pub store: UserStore,
    /// For MLflow clients the platform runs itself (the gc CronJob): the
    /// first admin's login, as MLflow's client reads it.
    pub client_env: Vec<EnvEntry>,
    /// What Prometheus logs in with; none where `/metrics` is open.
    pub metrics_login: Option<BasicAuth>,
    /// How a person logs in, for the render's notes.
    pub note: String,
}

pub struct UserStore {
    pub uri: String,
    pub schema: &'static str,
    pub app: &'static str,
}

impl UserStore {
    /// The platform's database, with the app's tables in a schema of
    /// their own: every app keeps an `alembic_version` table.
    pub fn new(db_uri: &str, schema: &'static str, app: &'static str) -> UserStore {
        let separator = if db_uri.contains('?') { '&' } else { '?' };
        UserStore {
            uri: format!("{db_uri}{separator}options=-csearch_path%3D{schema}"),
            schema,
            app,
        }
    }
}

/// A ServiceMonitor endpoint's `basicAuth`.
#[derive(Debug, Clone, Serialize)]
pub struct BasicAuth {
    pub username: SecretRef,
    pub password: SecretRef,
}

/// The auth app's pieces; its values go into the tracking server's own
/// Secret through `own`.
pub fn build(n: &Naming, a: &AuthSecrets, db_uri: &str, own: &mut SecretBinder) -> Auth {
    let store = UserStore::new(db_uri, SCHEMA, "basic-auth");
    let auth_db = store.uri.clone();
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
    let metrics_login = BasicAuth { username, password };
    Auth {
        env,
        client_env,
        args: vec!["--app-name".into(), "basic-auth".into()],
        config: files.finish(),
        store,
        note: admin_note(n, &metrics_login),
        metrics_login: Some(metrics_login),
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
fn admin_note(n: &Naming, login: &BasicAuth) -> String {
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
