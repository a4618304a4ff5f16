//! MLflow's own auth app (`mlflow server --app-name basic-auth`): its ini
//! in a Secret, mounted into the server; its user store in a schema of
//! the same PostgreSQL; the Flask secret key every replica shares; and the
//! platform's own logins, Prometheus' and gc's.

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
    /// The platform's own logins, which the migration step creates.
    pub machines: Vec<Machine>,
    /// Python the migration step needs before its own script to set
    /// them up, when `db-upgrade.py` cannot alone.
    pub step_prelude: Option<&'static str>,
}

/// A login the platform's own clients use, never the first admin's: a
/// user the migration step creates, or whose password it resets, in the
/// auth app's store; its name and password in a Secret of its own.
pub struct Machine {
    pub user: &'static str,
    pub admin: bool,
    pub login: BasicAuth,
    pub secret: Option<super::secret::SecretObject>,
}

impl Machine {
    /// The variable the migration step reads its password from.
    fn var(&self) -> String {
        format!(
            "MLK_LOGIN_{}",
            self.user.trim_start_matches("mlk-").to_uppercase()
        )
    }

    /// `USER:ROLE:VAR`, as db-upgrade.py reads it: no secret in argv.
    pub fn arg(&self) -> String {
        let role = if self.admin { "admin" } else { "user" };
        format!("{}:{role}:{}", self.user, self.var())
    }

    pub fn password_env(&self) -> EnvEntry {
        EnvEntry::secret(&self.var(), self.login.password.clone())
    }
}

/// Prometheus' login. MLflow's auth app (failing closed, as it does by
/// default) serves /metrics to admins only, so this is one: an admin of
/// its own, not the first admin, in a Secret only Prometheus reads.
const METRICS_USER: &str = "mlk-metrics";
/// gc's: it deletes artifacts through the server, which asks for MANAGE
/// on each run's experiment, and only an admin has that on every one.
pub const GC_USER: &str = "mlk-gc";

pub fn machine(n: &Naming, user: &'static str, admin: bool, password: &SecretValue) -> Machine {
    let mut own = SecretBinder::new(n.object(&format!("{}-login", &user[4..])));
    let name = SecretValue::Value(Sensitive::not_secret(user.to_owned()));
    let login = BasicAuth {
        username: own.bind("username", &name),
        password: own.bind("password", password),
    };
    Machine {
        user,
        admin,
        login,
        secret: own.finish(),
    }
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
    let metrics = machine(n, METRICS_USER, true, &a.metrics_password);
    let gc = a
        .gc_password
        .as_ref()
        .map(|pw| machine(n, GC_USER, true, pw));
    Auth {
        env,
        client_env: client_env(gc.as_ref()),
        args: vec!["--app-name".into(), "basic-auth".into()],
        config: files.finish(),
        store,
        note: admin_note(n, &BasicAuth { username, password }),
        metrics_login: Some(metrics.login.clone()),
        machines: [Some(metrics), gc].into_iter().flatten().collect(),
        step_prelude: None,
    }
}

/// gc's login, as MLflow's client reads it.
pub fn client_env(gc: Option<&Machine>) -> Vec<EnvEntry> {
    let logins = gc.iter().flat_map(|gc| {
        [
            EnvEntry::secret("MLFLOW_TRACKING_USERNAME", gc.login.username.clone()),
            EnvEntry::secret("MLFLOW_TRACKING_PASSWORD", gc.login.password.clone()),
        ]
    });
    logins.collect()
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
    if a.workspaces {
        keys.insert("grant_default_workspace_access", "true".to_owned());
    }
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
