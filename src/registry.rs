//! A client for the MLflow model registry's REST API: the two questions
//! `mlk render --resolve` asks. Every request has a deadline and is tried
//! a bounded number of times, so a render never hangs on the network.

use std::time::Duration;

use base64::Engine;
use serde::Deserialize;

use crate::spec::TrackingUri;

/// A connection refused or a 5xx may be a server that is restarting;
/// anything else will not change on a retry.
const ATTEMPTS: u32 = 3;
const BACKOFF: Duration = Duration::from_millis(500);
/// The header an MLflow client names its workspace in.
const WORKSPACE_HEADER: &str = "X-MLFLOW-WORKSPACE";

pub struct Registry {
    base: String,
    authorization: Option<String>,
    /// What a reply must never carry into a message: the password, and the
    /// header that holds it.
    secrets: Vec<String>,
    agent: ureq::Agent,
}

/// Why the registry gave no answer. Messages name the server, never the
/// credentials.
#[derive(Debug, PartialEq, Eq)]
pub enum RegistryError {
    Unreachable(String),
    /// The status, and whether credentials were sent.
    Unauthorized(u16, bool),
    NotFound(String),
    Refused(u16, String),
    BadAnswer(String),
}

impl std::fmt::Display for RegistryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryError::Unreachable(why) => {
                write!(f, "the tracking server is unreachable: {why}")
            }
            RegistryError::Unauthorized(code, false) => write!(
                f,
                "the tracking server answered {code}, and mlk sent it no credentials: they go \
                 only to a server named by --tracking-uri or MLFLOW_TRACKING_URI, never to one \
                 the spec chose"
            ),
            RegistryError::Unauthorized(code, true) => write!(
                f,
                "the tracking server answered {code}: set MLFLOW_TRACKING_USERNAME and \
                 MLFLOW_TRACKING_PASSWORD to a user it accepts"
            ),
            RegistryError::NotFound(msg) => write!(f, "not in the registry: {msg}"),
            RegistryError::Refused(code, msg) => {
                write!(f, "the tracking server answered {code}: {msg}")
            }
            RegistryError::BadAnswer(why) => {
                write!(f, "the tracking server's answer is not MLflow's: {why}")
            }
        }
    }
}

#[derive(Deserialize)]
struct AliasAnswer {
    model_version: VersionAnswer,
}

#[derive(Deserialize)]
struct VersionAnswer {
    version: String,
    #[serde(default)]
    run_id: String,
}

#[derive(Deserialize, Default)]
struct ModelVersionAnswer {
    #[serde(default)]
    model_version: RunOnly,
}

#[derive(Deserialize, Default)]
struct RunOnly {
    #[serde(default)]
    run_id: String,
}

#[derive(Deserialize)]
struct DownloadAnswer {
    artifact_uri: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorAnswer {
    error_code: String,
    message: String,
}

impl Registry {
    pub fn new(
        uri: &TrackingUri,
        user: Option<&str>,
        password: Option<&str>,
        timeout: Duration,
    ) -> Self {
        let authorization = user.map(|u| {
            let pair = format!("{u}:{}", password.unwrap_or_default());
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            format!("Basic {encoded}")
        });
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("mlk/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let secrets = authorization
            .iter()
            .map(|a| a.trim_start_matches("Basic ").to_owned())
            .chain(password.filter(|p| !p.is_empty()).map(str::to_owned))
            .collect();
        Registry {
            base: uri.as_str().trim_end_matches('/').to_owned(),
            authorization,
            secrets,
            agent,
        }
    }

    /// The version an alias points at, and the run that made it.
    pub fn alias_version(
        &self,
        (workspace, model): (Option<&str>, &str),
        alias: &str,
    ) -> Result<(u64, Option<String>), RegistryError> {
        let query = [("name", model), ("alias", alias)];
        let answer: AliasAnswer = self.get(workspace, "registered-models/alias", &query)?;
        let v = answer.model_version.version;
        let version = v.parse().map_err(|_| {
            let v = self.excerpt(&v);
            RegistryError::BadAnswer(format!("version {v:?} is not a number"))
        })?;
        Ok((version, self.run_id(answer.model_version.run_id)))
    }

    /// The run that made a version, when the registry says.
    pub fn version_run(
        &self,
        (workspace, model): (Option<&str>, &str),
        version: u64,
    ) -> Result<Option<String>, RegistryError> {
        let version = version.to_string();
        let query = [("name", model), ("version", version.as_str())];
        let answer: ModelVersionAnswer = self.get(workspace, "model-versions/get", &query)?;
        Ok(self.run_id(answer.model_version.run_id))
    }

    /// A run id is hex (MLflow's uuid4().hex); anything else is not kept.
    fn run_id(&self, id: String) -> Option<String> {
        let plain =
            !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric());
        (plain && !self.echoes(&id)).then_some(id)
    }

    /// Where a version's files are: the folder that holds `MLmodel`.
    pub fn download_uri(
        &self,
        (workspace, model): (Option<&str>, &str),
        version: u64,
    ) -> Result<String, RegistryError> {
        let version = version.to_string();
        let query = [("name", model), ("version", version.as_str())];
        let endpoint = "model-versions/get-download-uri";
        let answer: DownloadAnswer = self.get(workspace, endpoint, &query)?;
        if self.echoes(&answer.artifact_uri) {
            return Err(RegistryError::BadAnswer(self.excerpt(&answer.artifact_uri)));
        }
        Ok(answer.artifact_uri)
    }

    /// A model in a workspace is asked for with MLflow's header; without
    /// one the server answers from `default`.
    fn get<T: serde::de::DeserializeOwned>(
        &self,
        workspace: Option<&str>,
        endpoint: &str,
        query: &[(&str, &str)],
    ) -> Result<T, RegistryError> {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.base);
        let mut attempt = 1;
        loop {
            match self.try_get(&url, workspace, query) {
                Err(Retry::Again(_)) if attempt < ATTEMPTS => {
                    std::thread::sleep(BACKOFF * attempt);
                    attempt += 1;
                }
                Err(Retry::Again(e) | Retry::Final(e)) => return Err(e),
                Ok(body) => {
                    return serde_json::from_str(&body)
                        .map_err(|e| RegistryError::BadAnswer(self.excerpt(&e.to_string())));
                }
            }
        }
    }

    fn try_get(
        &self,
        url: &str,
        workspace: Option<&str>,
        query: &[(&str, &str)],
    ) -> Result<String, Retry> {
        let mut request = self.agent.get(url).query_pairs(query.iter().copied());
        if let Some(workspace) = workspace {
            request = request.header(WORKSPACE_HEADER, workspace);
        }
        if let Some(auth) = &self.authorization {
            request = request.header("Authorization", auth);
        }
        let mut response = request.call().map_err(|e| transport(&self.base, e))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .map_err(|e| transport(&self.base, e))?;
        match status {
            200 => Ok(body),
            401 | 403 => {
                let sent = self.authorization.is_some();
                Err(Retry::Final(RegistryError::Unauthorized(status, sent)))
            }
            429 | 500..=599 => Err(Retry::Again(RegistryError::Refused(
                status,
                self.summary(&body),
            ))),
            _ => {
                let e: ErrorAnswer = serde_json::from_str(&body).unwrap_or_default();
                // MLflow answers a missing alias with 400 INVALID_PARAMETER_VALUE.
                let missing = e.error_code == "RESOURCE_DOES_NOT_EXIST"
                    || status == 404
                    || (status == 400 && e.message.contains("not found"));
                let error = if missing {
                    RegistryError::NotFound(self.summary(&body))
                } else {
                    RegistryError::Refused(status, self.summary(&body))
                };
                Err(Retry::Final(error))
            }
        }
    }
}

enum Retry {
    Again(RegistryError),
    Final(RegistryError),
}

fn transport(base: &str, e: ureq::Error) -> Retry {
    let why = match &e {
        ureq::Error::Timeout(_) => "no answer before the timeout".to_owned(),
        ureq::Error::ConnectionFailed | ureq::Error::Io(_) => format!("cannot connect ({e})"),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        _ => e.to_string(),
    };
    Retry::Again(RegistryError::Unreachable(format!("{base}: {why}")))
}

/// The most of a reply a message quotes.
const EXCERPT_CHARS: usize = 120;

impl Registry {
    /// MLflow's own message when there is one, else the first line of the
    /// body.
    fn summary(&self, body: &str) -> String {
        match serde_json::from_str::<ErrorAnswer>(body) {
            Ok(e) if !e.message.is_empty() => self.excerpt(&e.message),
            _ => self.excerpt(body.lines().next().unwrap_or_default()),
        }
    }

    /// Server text as a message may quote it: short, and withheld whole
    /// when it echoes the request (a header, the credentials), as a
    /// misbehaving proxy's reply may.
    fn excerpt(&self, text: &str) -> String {
        if self.echoes(text) {
            return "(the reply echoes the request; not shown)".to_owned();
        }
        let mut excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
        if text.chars().count() > EXCERPT_CHARS {
            excerpt.push('…');
        }
        excerpt.trim().to_owned()
    }

    fn echoes(&self, text: &str) -> bool {
        let lower = text.to_ascii_lowercase();
        ["authorization", "cookie", "user-agent", "host:"]
            .iter()
            .any(|h| lower.contains(h))
            || self.secrets.iter().any(|s| text.contains(s.as_str()))
    }
}
