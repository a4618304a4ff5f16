//! Turns each secret source into a value to render, or a reference to a
//! Secret that exists already. Values never reach an error or a warning.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::located::Located;
pub use crate::sensitive::Sensitive;
use crate::spec::{RemoteRef, SecretRef, SecretSource, SecretsMode};

/// The key `generate` falls back to when MLK_SECRET_KEY is unset, in
/// profiles that allow it. It is public: anyone can derive the same values.
const DEV_KEY: &str = "mlk-public-development-key-do-not-use-in-production";
const MIN_KEY_LEN: usize = 32;
/// Stands in for a value that could not be read, so later checks run;
/// long and plain enough to pass any check a real value must pass.
pub(super) const STAND_IN: &str = "mlk-stand-in-for-a-value-that-could-not-be-read";
pub const SECRET_KEY_VAR: &str = "MLK_SECRET_KEY";

#[derive(Debug, Clone, PartialEq)]
pub enum SecretValue {
    /// mlk renders it into a Secret of its own.
    Value(Sensitive),
    /// Read from a Secret the user manages.
    Existing(SecretRef),
    /// Fetched from the external store into a Secret of mlk's naming.
    Remote(RemoteRef),
}

impl SecretValue {
    /// Whether mlk writes it into a Secret of its own (directly, or
    /// through an ExternalSecret), so that it may copy it into another.
    pub fn is_own(&self) -> bool {
        matches!(self, SecretValue::Value(_) | SecretValue::Remote(_))
    }
}

/// What resolving reads from the outside world: the environment, captured
/// once, so that a run is a function of its inputs.
pub struct SecretEnv {
    pub vars: BTreeMap<String, String>,
    pub allow_dev_key: bool,
    pub profile: String,
    /// An identity mixed into every derived value: two platforms never
    /// share a generated password.
    pub platform_id: String,
    /// Where `fromFile` and `htpasswdFile` may read.
    pub files: crate::spec_files::Grants,
    /// The variables `fromEnv` may read: those the person running mlk
    /// names (`--allow-env`, `MLK_ALLOW_ENV`). A spec is often a pull
    /// request run on a shared CI runner, whose environment holds the
    /// runner's own tokens; it reads none it is not given.
    pub allowed_vars: std::collections::BTreeSet<String>,
    /// The person running mlk lets an OIDC issuer and redirect be plain
    /// http (a test's provider on loopback).
    pub allow_insecure_issuer: bool,
}

/// The variable that names, for the person running mlk, the variables
/// a spec's `fromEnv` may read (comma- or space-separated).
pub const ALLOW_ENV_VAR: &str = "MLK_ALLOW_ENV";

pub struct Resolver<'a> {
    env: &'a SecretEnv,
    mode: SecretsMode,
    pub warnings: Vec<String>,
    /// Secrets the spec says exist outside the rendered platform.
    pub existing: crate::external::External,
    dev_key_used_for: Vec<String>,
    /// Every file read, so `--output-dir` can refuse to replace its inputs.
    pub read_files: Vec<std::path::PathBuf>,
    /// Env vars and files that are missing, all reported together.
    missing: Vec<Located>,
}

impl<'a> Resolver<'a> {
    pub fn new(env: &'a SecretEnv, mode: SecretsMode) -> Self {
        Resolver {
            env,
            mode,
            warnings: Vec::new(),
            existing: crate::external::External::default(),
            dev_key_used_for: Vec::new(),
            read_files: Vec::new(),
            missing: Vec::new(),
        }
    }

    /// `path` names the field (`database.embedded.password`) in messages
    /// and, for `generate`, is the purpose the value is derived for. A
    /// source that cannot be read is recorded for `take_missing`, and a
    /// stand-in lets the rest of the spec be checked; nothing is rendered
    /// while one is recorded.
    pub fn resolve(&mut self, path: &str, source: &SecretSource) -> SecretValue {
        self.resolve_or(path, source, "")
    }

    /// As `resolve`; `alternative` ends the message when the value is
    /// missing (`; or, …`).
    pub fn resolve_or(
        &mut self,
        path: &str,
        source: &SecretSource,
        alternative: &str,
    ) -> SecretValue {
        match self.value_of(path, source) {
            Ok(v) => v,
            Err(message) => {
                let message = format!("{message}{alternative}");
                self.missing.push(Located::new("spec", Some(path), message));
                SecretValue::Value(Sensitive::not_secret(STAND_IN.into()))
            }
        }
    }

    /// Whether secrets come from an External Secrets Operator store.
    pub fn external_store(&self) -> bool {
        self.mode == SecretsMode::ExternalSecrets
    }

    /// Every source that could not be read.
    pub fn take_missing(&mut self) -> Vec<Located> {
        std::mem::take(&mut self.missing)
    }

    fn value_of(&mut self, path: &str, source: &SecretSource) -> Result<SecretValue, String> {
        let external = self.mode == SecretsMode::ExternalSecrets;
        let value = match source {
            SecretSource::Remote(r) if external => return Ok(SecretValue::Remote(r.clone())),
            SecretSource::Remote(_) => {
                return Err(
                    "remote reads from an external secret store: set secrets.mode: \
                            externalSecrets and secrets.store"
                        .into(),
                );
            }
            SecretSource::Generate if external => {
                return Err(
                    "`generate` invents a value, but in externalSecrets mode the store \
                            owns every value: use {remote: {key, property}} or existingSecret"
                        .into(),
                );
            }
            SecretSource::FromEnv(_) | SecretSource::FromFile(_) | SecretSource::Literal(_)
                if external =>
            {
                return Err(
                    "in externalSecrets mode no secret value is rendered: use {remote: \
                            {key, property}} or existingSecret"
                        .into(),
                );
            }
            SecretSource::Existing(r) => {
                self.existing.insert("Secret", r.name.as_str());
                return Ok(SecretValue::Existing(r.clone()));
            }
            SecretSource::FromEnv(var) if var.as_str() == SECRET_KEY_VAR => {
                return Err(format!(
                    "{SECRET_KEY_VAR} is the key every generated secret is derived from, and no \
                     spec reads it (fromEnv)"
                ));
            }
            SecretSource::FromEnv(var) if !self.env.allowed_vars.contains(var.as_str()) => {
                return Err(format!(
                    "environment variable {var} may not be read: pass --allow-env {var} (or set \
                     {ALLOW_ENV_VAR}={var}) to let the spec read it; a spec cannot allow itself \
                     to read the environment (fromEnv)"
                ));
            }
            SecretSource::FromEnv(var) => match self.env.vars.get(var.as_str()) {
                Some(v) if !v.is_empty() => v.clone(),
                Some(_) => return Err(format!("environment variable {var} is empty (fromEnv)")),
                None => return Err(format!("environment variable {var} is not set (fromEnv)")),
            },
            SecretSource::FromFile(p) => {
                let text = self.read_file(p).map_err(|e| format!("{e} (fromFile)"))?;
                secret_file_value(p, &text)?
            }
            SecretSource::Literal(v) => {
                self.warnings.push(format!(
                    "{path}: the secret is written in the spec itself; anyone who can read the \
                     spec can read it. Prefer fromEnv, fromFile or existingSecret"
                ));
                v.clone()
            }
            SecretSource::Generate => self.derive(path)?,
        };
        if value == STAND_IN {
            return Ok(SecretValue::Value(Sensitive::not_secret(value)));
        }
        Ok(SecretValue::Value(Sensitive::new(value)))
    }

    fn derive(&mut self, purpose: &str) -> Result<String, String> {
        let key = match self.env.vars.get(SECRET_KEY_VAR) {
            // A weak key is refused once, by `key_problem`, not once a
            // secret; the stand-in only lets the rest be checked.
            Some(k) if key_weakness(k, self.env.allow_dev_key).is_some() => {
                return Ok(STAND_IN.to_owned());
            }
            Some(k) => k.as_str(),
            None if self.env.allow_dev_key => {
                self.dev_key_used_for.push(purpose.to_owned());
                DEV_KEY
            }
            None => {
                return Err(format!(
                    "`generate: true` needs {SECRET_KEY_VAR}, and the {} profile does not fall \
                     back to the public development key. Set {SECRET_KEY_VAR} (e.g. `openssl rand \
                     -hex 32`, kept in your CI's secret store), or use fromEnv, fromFile or \
                     existingSecret",
                    self.env.profile
                ));
            }
        };
        Ok(derive(key, &self.env.platform_id, purpose))
    }

    /// A file the spec names, read only where the spec may read.
    pub fn read_file(&mut self, path: &std::path::Path) -> Result<String, String> {
        let text = self.env.files.read(path)?;
        self.read_files.push(path.to_owned());
        Ok(text)
    }

    pub fn platform_id(&self) -> &str {
        &self.env.platform_id
    }

    /// The loud warning for dev-key fallbacks, once for all of them.
    pub fn finish(mut self) -> Vec<String> {
        if !self.dev_key_used_for.is_empty() {
            self.warnings.push(format!(
                "{SECRET_KEY_VAR} is not set, so these secrets are derived from a PUBLIC \
                 development key that anyone can recompute: {}. This is fine for a trial, \
                 never for real data: set {SECRET_KEY_VAR} before deploying anything you keep",
                self.dev_key_used_for.join(", ")
            ));
        }
        self.warnings
    }
}

/// MLK_SECRET_KEY, whenever it is set: long enough, and, unless the
/// development fallback is allowed, neither the public development key
/// nor a run of a few characters. The key itself is never shown.
pub fn key_problem(env: &SecretEnv) -> Option<Located> {
    let key = env.vars.get(SECRET_KEY_VAR)?;
    crate::sensitive::record(key);
    let why = key_weakness(key, env.allow_dev_key)?;
    let msg = format!(
        "{why}; derive it from a random source (`openssl rand -hex 32`) and keep it in your CI's \
         secret store"
    );
    Some(Located::new("environment", Some(SECRET_KEY_VAR), msg))
}

fn key_weakness(key: &str, dev: bool) -> Option<String> {
    let distinct = key
        .bytes()
        .collect::<std::collections::BTreeSet<u8>>()
        .len();
    if key.len() < MIN_KEY_LEN {
        Some(format!(
            "is too short: use at least {MIN_KEY_LEN} characters"
        ))
    } else if dev {
        None
    } else if key == DEV_KEY {
        Some("is the public development key printed in mlk's source, which anyone can use".into())
    } else if distinct < 8 {
        Some(format!(
            "repeats a few characters ({distinct} distinct): it is guessable"
        ))
    } else {
        None
    }
}

/// HMAC-SHA256 of the platform identity and purpose under the key: stable
/// across runs and machines, different for every secret and platform.
fn derive(key: &str, platform_id: &str, purpose: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("mlk/v1alpha1\0{platform_id}\0{purpose}").as_bytes());
    let bytes = mac.finalize().into_bytes();
    bytes[..20].iter().map(|b| format!("{b:02x}")).collect()
}

fn secret_file_value(path: &std::path::Path, text: &str) -> Result<String, String> {
    let value = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text);
    if value.is_empty() {
        return Err(format!("{}: the file is empty (fromFile)", path.display()));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_is_stable_and_separates_purposes() {
        let a = derive(
            "k".repeat(32).as_str(),
            "mlflow/mlflow",
            "database.password",
        );
        assert_eq!(
            a,
            derive(
                "k".repeat(32).as_str(),
                "mlflow/mlflow",
                "database.password"
            )
        );
        assert_ne!(
            a,
            derive(
                "k".repeat(32).as_str(),
                "mlflow/mlflow",
                "artifacts.rootPassword"
            )
        );
        assert_ne!(
            a,
            derive("k".repeat(32).as_str(), "other/mlflow", "database.password")
        );
        assert_eq!(a.len(), 40);
    }
}
