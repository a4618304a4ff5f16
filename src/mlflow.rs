//! The MLflow release mlk pins, and what its `mlflow server` accepts:
//! every option with its aliases and environment variable, and whether
//! mlk sets it, refuses it, or lets a spec pass it. Kept beside the pinned
//! version, so that moving the pin means reading this table again;
//! `tests/mlflow_flags.rs` compares it with that release's
//! `mlflow server --help`.

/// The release the default image carries, and the end-to-end harness runs.
pub const VERSION: &str = "3.17.2";

/// The `-full` variant is the one that carries psycopg (PostgreSQL), the
/// clients of every artifact store, and prometheus-flask-exporter
/// (`/metrics`); the plain image has none.
pub const IMAGE: &str = "ghcr.io/mlflow/mlflow:v3.17.2-full";

/// The extras the `-full` image installs MLflow with
/// (`docker/Dockerfile.full` in mlflow/mlflow).
pub const IMAGE_EXTRAS: [&str; 6] = ["extras", "azure", "db", "gateway", "genai", "auth"];

/// The Python distributions the platform's processes import, and what
/// for: each must come with one of `IMAGE_EXTRAS`. `tests/mlflow_flags.rs`
/// checks them against the pinned release's own metadata.
pub const IMAGE_CARRIES: [(&str, &str); 6] = [
    ("psycopg", "PostgreSQL"),
    ("boto3", "S3"),
    ("google-cloud-storage", "Google Cloud Storage"),
    ("azure-storage-blob", "Azure Blob Storage"),
    ("azure-identity", "Azure Workload Identity"),
    ("prometheus-flask-exporter", "/metrics"),
];

/// The first release with workspaces (`--enable-workspaces`).
pub const WORKSPACES_SINCE: (u32, u32, u32) = (3, 10, 0);

/// What mlk makes of one `mlflow server` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// mlk sets it from the spec field named here; no one else may.
    Managed(&'static str),
    /// It turns off a protection or replaces how the server runs: never.
    Denied(&'static str),
    /// A spec may pass it through `tracking.extraArgs`.
    Allowed,
}

#[derive(Debug)]
pub struct ServerOption {
    /// Every spelling, long and short (`--host`, `-h`), and the negated
    /// form of a switch (`--no-serve-artifacts`).
    pub flags: &'static [&'static str],
    /// The variable click reads it from when no flag is given.
    pub env: Option<&'static str>,
    /// A switch takes no value.
    pub switch: bool,
    pub role: Role,
}

const fn option(
    flags: &'static [&'static str],
    env: Option<&'static str>,
    switch: bool,
    role: Role,
) -> ServerOption {
    ServerOption {
        flags,
        env,
        switch,
        role,
    }
}

use Role::{Allowed, Denied, Managed};

const OWN_SERVER: &str = "replaces the server mlk runs (uvicorn, its workers and its limits)";
const SECURITY: &str = "turns off MLflow's Host, CORS and framing protections";

/// Every option of `mlflow server` in the pinned release, in `--help`'s
/// order.
pub const SERVER_OPTIONS: [ServerOption; 26] = [
    option(
        &["--backend-store-uri"],
        Some("MLFLOW_BACKEND_STORE_URI"),
        false,
        Managed("database"),
    ),
    option(
        &["--read-replica-backend-store-uri"],
        Some("MLFLOW_READ_REPLICA_BACKEND_STORE_URI"),
        false,
        Denied("reads runs from a database the platform does not run or check"),
    ),
    option(
        &["--registry-store-uri"],
        Some("MLFLOW_REGISTRY_STORE_URI"),
        false,
        Denied("moves the model registry out of the platform's database"),
    ),
    option(
        &["--default-artifact-root"],
        Some("MLFLOW_DEFAULT_ARTIFACT_ROOT"),
        false,
        Denied("sends clients around the artifact proxy, to a store mlk does not configure"),
    ),
    option(
        &["--serve-artifacts", "--no-serve-artifacts"],
        Some("MLFLOW_SERVE_ARTIFACTS"),
        true,
        Managed("artifacts"),
    ),
    option(
        &["--artifacts-only"],
        Some("MLFLOW_ARTIFACTS_ONLY"),
        true,
        Denied("turns the tracking server into an artifact proxy alone"),
    ),
    option(
        &["--artifacts-destination"],
        Some("MLFLOW_ARTIFACTS_DESTINATION"),
        false,
        Managed("artifacts"),
    ),
    option(&["--host", "-h"], Some("MLFLOW_HOST"), false, Managed("")),
    option(&["--port", "-p"], Some("MLFLOW_PORT"), false, Managed("")),
    option(
        &["--workers", "-w"],
        Some("MLFLOW_WORKERS"),
        false,
        Managed("tracking.workers"),
    ),
    option(
        &["--static-prefix"],
        Some("MLFLOW_STATIC_PREFIX"),
        false,
        Managed("tracking.staticPrefix"),
    ),
    option(
        &["--allowed-hosts"],
        Some("MLFLOW_SERVER_ALLOWED_HOSTS"),
        false,
        Managed("tracking.allowedHosts"),
    ),
    option(
        &["--cors-allowed-origins"],
        Some("MLFLOW_SERVER_CORS_ALLOWED_ORIGINS"),
        false,
        Managed("tracking.corsOrigins"),
    ),
    option(
        &["--disable-security-middleware"],
        Some("MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE"),
        true,
        Denied(SECURITY),
    ),
    option(
        &["--x-frame-options"],
        Some("MLFLOW_SERVER_X_FRAME_OPTIONS"),
        false,
        Denied("changes the header that keeps the UI out of other sites' frames"),
    ),
    option(
        &["--gunicorn-opts"],
        Some("MLFLOW_GUNICORN_OPTS"),
        false,
        Denied(OWN_SERVER),
    ),
    option(&["--waitress-opts"], None, false, Denied(OWN_SERVER)),
    // mlk sets the graceful shutdown that matches the pod's drain.
    option(
        &["--uvicorn-opts"],
        Some("MLFLOW_UVICORN_OPTS"),
        false,
        Managed(""),
    ),
    option(
        &["--dev"],
        None,
        true,
        Denied("runs a debug server that reloads code"),
    ),
    option(
        &["--expose-prometheus"],
        Some("MLFLOW_EXPOSE_PROMETHEUS"),
        false,
        Managed("monitoring"),
    ),
    option(&["--app-name"], None, false, Managed("tracking.auth")),
    option(
        &["--trace-archival-config"],
        Some("MLFLOW_TRACE_ARCHIVAL_CONFIG"),
        false,
        Allowed,
    ),
    option(&["--secrets-cache-ttl"], None, false, Allowed),
    option(&["--secrets-cache-max-size"], None, false, Allowed),
    option(
        &["--workspace-store-uri"],
        Some("MLFLOW_WORKSPACE_STORE_URI"),
        false,
        Denied("routes requests through a workspace provider the platform does not run"),
    ),
    option(
        &["--enable-workspaces", "--disable-workspaces"],
        None,
        true,
        Managed("tracking.workspaces"),
    ),
];

/// Variables the server, or the web server it starts, reads besides its
/// options' own, that undo a protection.
pub const DENIED_ENV: [(&str, &str); 17] = [
    ("GUNICORN_CMD_ARGS", OWN_SERVER),
    (
        "MLFLOW_BASIC_AUTH_FAIL_CLOSED",
        "lets requests through when the auth app cannot decide",
    ),
    (
        "MLFLOW_SERVER_ENABLE_GRAPHQL_AUTH",
        "turns off permission checks on the GraphQL API",
    ),
    // The OIDC plugin's settings that undo what tracking.auth.oidc holds.
    (
        "OIDC_VERIFY_SSL",
        "turns off TLS checks of the identity provider",
    ),
    ("OIDC_CODE_CHALLENGE", "can turn off PKCE"),
    ("OIDC_PUBLIC_CLIENT", "logs in without the client secret"),
    ("AUTH_PROVIDERS", OIDC_PROVIDERS),
    ("AUTH_PROVIDERS_FILE", OIDC_PROVIDERS),
    (
        "OIDC_GROUP_NAME_PATTERN",
        "lets in whoever has a group that matches a pattern",
    ),
    ("OIDC_GROUP_DETECTION_PLUGIN", OIDC_IMPORTS),
    ("OIDC_WORKSPACE_DETECTION_PLUGIN", OIDC_IMPORTS),
    (
        "OIDC_TRUST_BEARER_GROUP_CLAIMS",
        "makes an admin of whoever a token says is one",
    ),
    (
        "OIDC_PROVISION_ON_BEARER_AUTH",
        "creates users from tokens, without a login",
    ),
    (
        "OIDC_USERINFO_GROUPS",
        "takes groups from the provider's userinfo, not the ID token",
    ),
    (
        "SESSION_COOKIE_SAMESITE",
        "can send the session cookie along cross-site requests",
    ),
    (
        "SESSION_TOKEN_ENCRYPTION_KEY",
        "replaces the key mlk derives from the session key",
    ),
    (
        "MLFLOW_WORKSPACE",
        "is a client's workspace, which the server refuses to start with",
    ),
];

const OIDC_PROVIDERS: &str = "adds identity providers beside tracking.auth.oidc's";
const OIDC_IMPORTS: &str = "imports a module of the spec's choosing into the server";

/// Prefixes of variables that configure the server's internals: uvicorn
/// reads every `UVICORN_*` as an option, and `_MLFLOW_*` are the ones
/// MLflow's CLI hands its workers.
pub const DENIED_ENV_PREFIXES: [(&str, &str); 2] = [
    ("UVICORN_", OWN_SERVER),
    (
        "_MLFLOW_",
        "is MLflow's own hand-over between its CLI and its workers",
    ),
];

/// Variables mlk sets in the server's container besides options, with the
/// spec field that decides each.
pub const MANAGED_ENV: [(&str, &str); 42] = [
    ("MLFLOW_ENABLE_WORKSPACES", "tracking.workspaces"),
    ("OIDC_WORKSPACE_CLAIM_NAME", "tracking.workspaces"),
    ("HOME", ""),
    ("PYTHONDONTWRITEBYTECODE", ""),
    ("PGPASSWORD", "database"),
    ("PGPASSFILE", "database"),
    ("MLFLOW_SQLALCHEMYSTORE_POOL_SIZE", ""),
    ("MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW", ""),
    ("MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE", ""),
    ("AWS_ACCESS_KEY_ID", "artifacts"),
    ("AWS_SECRET_ACCESS_KEY", "artifacts"),
    ("AWS_SHARED_CREDENTIALS_FILE", "artifacts"),
    ("AWS_DEFAULT_REGION", "artifacts"),
    ("MLFLOW_S3_ENDPOINT_URL", "artifacts"),
    ("MLFLOW_DISABLE_TELEMETRY", ""),
    (
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION",
        "tracking.jobExecution",
    ),
    ("MLFLOW_ENABLE_AI_GATEWAY", "tracking.aiGateway"),
    ("MLFLOW_CRYPTO_KEK_PASSPHRASE", "tracking.kekPassphrase"),
    ("MLFLOW_AUTH_CONFIG_PATH", "tracking.auth"),
    ("MLFLOW_FLASK_SERVER_SECRET_KEY", "tracking.auth"),
    ("MLFLOW_AUTH_ADMIN_USERNAME", "tracking.auth"),
    ("MLFLOW_AUTH_ADMIN_PASSWORD", "tracking.auth"),
    ("OIDC_DISCOVERY_URL", OIDC),
    ("OIDC_ISSUER", OIDC),
    ("OIDC_AUDIENCE", OIDC),
    ("OIDC_CLIENT_ID", OIDC),
    ("OIDC_CLIENT_SECRET", OIDC),
    ("OIDC_REDIRECT_URI", OIDC),
    ("OIDC_SCOPE", OIDC),
    ("OIDC_GROUPS_ATTRIBUTE", OIDC),
    ("OIDC_GROUP_NAME", OIDC),
    ("OIDC_ADMIN_GROUP_NAME", OIDC),
    ("DEFAULT_MLFLOW_PERMISSION", OIDC),
    ("OIDC_USERS_DB_URI", OIDC),
    ("OIDC_DB_POOL_SIZE", OIDC),
    ("OIDC_DB_POOL_MAX_OVERFLOW", OIDC),
    ("OIDC_DB_POOL_RECYCLE_SECONDS", OIDC),
    ("SECRET_KEY", OIDC),
    ("SESSION_COOKIE_SECURE", OIDC),
    ("AUTOMATIC_LOGIN_REDIRECT", OIDC),
    ("TRUSTED_PROXIES", OIDC),
    ("OIDC_ALEMBIC_VERSION_TABLE", OIDC),
];

const OIDC: &str = "tracking.auth.oidc";

/// The option a flag spells (`-h`, `--host`, `--host=x`, `-h0.0.0.0`).
pub fn option_of(arg: &str) -> Option<&'static ServerOption> {
    let name = flag_name(arg)?;
    SERVER_OPTIONS.iter().find(|o| o.flags.contains(&name))
}

/// The flag an argument starts with: `--name` up to any `=`, or a short
/// `-x` with its value attached.
pub fn flag_name(arg: &str) -> Option<&str> {
    if let Some(long) = arg.strip_prefix("--") {
        let end = long.find('=').map_or(arg.len(), |i| i + 2);
        return (!long.is_empty()).then(|| &arg[..end]);
    }
    let short = arg.strip_prefix('-')?;
    let c = short.chars().next()?;
    Some(&arg[..1 + c.len_utf8()])
}

/// The option whose variable this is.
pub fn option_of_env(name: &str) -> Option<&'static ServerOption> {
    SERVER_OPTIONS.iter().find(|o| o.env == Some(name))
}

/// Why a variable may never reach the server, when it may not.
pub fn denied_env(name: &str) -> Option<&'static str> {
    if let Some(ServerOption {
        role: Denied(why), ..
    }) = option_of_env(name)
    {
        return Some(why);
    }
    let exact = DENIED_ENV.iter().find(|(n, _)| *n == name);
    let prefix = DENIED_ENV_PREFIXES
        .iter()
        .find(|(p, _)| name.starts_with(p));
    exact.or(prefix).map(|(_, why)| *why)
}

/// The spec field that sets a variable mlk manages, when it is one.
pub fn managed_env(name: &str) -> Option<&'static str> {
    if let Some(ServerOption {
        role: Managed(field),
        ..
    }) = option_of_env(name)
    {
        return Some(field);
    }
    MANAGED_ENV
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
}

/// Where a spec says what a managed flag or variable would have said.
pub fn instead(field: &str) -> String {
    match field {
        "" => "nothing in the spec changes it".to_owned(),
        f => format!("set {f} instead"),
    }
}

/// What `--uvicorn-opts` (or `MLFLOW_UVICORN_OPTS`) may hold: the graceful
/// shutdown mlk sets, and nothing else. Any other uvicorn option changes
/// who may connect or what the server loads (`--proxy-headers`,
/// `--forwarded-allow-ips`, `--root-path`, `--env-file`).
pub fn uvicorn_opts_allowed(value: &str) -> bool {
    let seconds = |n: &str| n.parse::<u32>().is_ok();
    match value.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["--timeout-graceful-shutdown", n] => seconds(n),
        [one] => one
            .strip_prefix("--timeout-graceful-shutdown=")
            .is_some_and(seconds),
        _ => false,
    }
}

/// Hosts and origins no one would name: a pattern that matches one of
/// them matches anyone's.
const STRANGERS: [&str; 5] = [
    "attacker.invalid",
    "attacker.invalid:8443",
    "http://attacker.invalid",
    "https://attacker.invalid",
    "https://attacker.invalid:8443",
];

/// Whether an allowed-hosts or CORS pattern, which MLflow matches with
/// Python's `fnmatch`, lets in a host no one named.
pub fn lets_anyone_in(pattern: &str) -> bool {
    // Most entries are host names, or a host with `:*`: a pattern
    // matches only strangers that start with its plain beginning.
    let plain = pattern.split(['*', '?', '[']).next().unwrap_or_default();
    STRANGERS
        .iter()
        .filter(|s| s.starts_with(plain))
        .any(|s| matches(pattern.as_bytes(), s.as_bytes()))
}

/// Python's `fnmatch` on a pattern: `*`, `?`, and `[...]`, read here as
/// any one character, which matches at least what Python would. Row by
/// row, so a pattern of many stars costs no more than its length.
fn matches(p: &[u8], s: &[u8]) -> bool {
    // reach[k]: the pattern so far matches the first k bytes of `s`.
    let mut reach = vec![false; s.len() + 1];
    let mut next = vec![false; s.len() + 1];
    reach[0] = true;
    let mut i = 0;
    while i < p.len() {
        let (width, token) = match p[i] {
            b'[' => match p[i..].iter().position(|c| *c == b']') {
                Some(end) => (end + 1, b'?'),
                None => (1, b'['),
            },
            c => (1, c),
        };
        next.fill(false);
        match token {
            b'*' => {
                let mut any = false;
                for k in 0..=s.len() {
                    any |= reach[k];
                    next[k] = any;
                }
            }
            t => {
                for k in 0..s.len() {
                    next[k + 1] = reach[k] && (t == b'?' || s[k] == t);
                }
            }
        }
        std::mem::swap(&mut reach, &mut next);
        i += width;
    }
    reach[s.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_found_in_every_spelling() {
        for arg in ["--host", "--host=1.2.3.4", "-h", "-h0.0.0.0"] {
            assert_eq!(option_of(arg).unwrap().flags[0], "--host", "{arg}");
        }
        assert!(option_of("--no-serve-artifacts").unwrap().switch);
        assert!(option_of("--unknown").is_none());
        assert!(option_of("value").is_none());
        assert_eq!(flag_name("-"), None);
        assert_eq!(flag_name("--"), None);
    }

    #[test]
    fn variables_are_denied_by_name_option_and_prefix() {
        assert!(denied_env("MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE").is_some());
        assert!(denied_env("GUNICORN_CMD_ARGS").is_some());
        assert!(denied_env("UVICORN_PROXY_HEADERS").is_some());
        assert!(denied_env("MLFLOW_TRACKING_URI").is_none());
        assert_eq!(
            managed_env("MLFLOW_SERVER_ALLOWED_HOSTS"),
            Some("tracking.allowedHosts")
        );
        assert_eq!(managed_env("HOME"), Some(""));
    }

    #[test]
    fn the_image_carries_the_pinned_version() {
        assert!(IMAGE.contains(&format!(":v{VERSION}-")), "{IMAGE}");
    }

    #[test]
    fn a_pattern_that_matches_anyone_is_open() {
        for open in [
            "*",
            "**",
            "*:*",
            "*.*",
            "http*",
            "https://*",
            "*invalid*",
            "[a]*",
        ] {
            assert!(lets_anyone_in(open), "{open}");
        }
        for closed in [
            "mlflow.example.com",
            "*.example.com",
            "10.*",
            "https://mlflow.example.com:*",
        ] {
            assert!(!lets_anyone_in(closed), "{closed}");
        }
    }
}
