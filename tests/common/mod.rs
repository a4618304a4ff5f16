//! Runs the real `mlk` binary, with an environment of the test's choosing
//! and nothing inherited, so results never depend on the machine.
#![allow(dead_code)]

pub mod containerfile;
pub mod fake_registry;
pub mod kustomize;
pub mod live;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const KEY: &str = "0123456789abcdef0123456789abcdef-test-key";

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Success: exit 0, and no error line.
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "mlk failed:\n{}", self.stderr);
        assert!(!self.stderr.contains("error:"), "{}", self.stderr);
        self
    }

    /// Failure: exit 1, nothing at all on stdout, an error on stderr.
    pub fn failed(self) -> Run {
        assert_eq!(self.code, 1, "expected a failure; stderr:\n{}", self.stderr);
        assert!(
            self.stdout.is_empty(),
            "stdout must stay empty on error, got:\n{}",
            self.stdout
        );
        assert!(self.stderr.contains("error: "), "{}", self.stderr);
        self
    }

    pub fn docs(&self) -> Vec<serde_yaml::Value> {
        serde_yaml::Deserializer::from_str(&self.stdout)
            .map(|d| serde::Deserialize::deserialize(d).expect("output is YAML"))
            .collect()
    }
}

pub struct Mlk {
    cmd: Command,
    stdin: Option<String>,
    /// Whether the run asks the registry and so writes mlk.lock, in a
    /// folder the test did not choose.
    writes_lock_in_tests: bool,
    /// The variables the test sets, which it lets a spec read (as the
    /// person running mlk would with MLK_ALLOW_ENV), unless it says not.
    allowed: Vec<String>,
}

pub fn mlk(args: &[&str]) -> Mlk {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mlk"));
    cmd.args(args).env_clear().current_dir(fixtures());
    let resolves = args.contains(&"--resolve") || args.first() == Some(&"resolve");
    Mlk {
        cmd,
        stdin: None,
        writes_lock_in_tests: resolves && !args.contains(&"--lock"),
        allowed: Vec::new(),
    }
}

impl Mlk {
    pub fn env(mut self, k: &str, v: &str) -> Mlk {
        if !k.starts_with("MLK_") {
            self.allowed.push(k.to_owned());
        }
        self.env_unallowed(k, v)
    }

    /// A variable set, which a spec is not allowed to read.
    pub fn env_unallowed(mut self, k: &str, v: &str) -> Mlk {
        self.cmd.env(k, v);
        self
    }

    pub fn key(self) -> Mlk {
        self.env("MLK_SECRET_KEY", KEY)
    }

    pub fn dir(mut self, d: &Path) -> Mlk {
        self.cmd.current_dir(d);
        self.writes_lock_in_tests = false;
        self
    }

    pub fn stdin(mut self, s: &str) -> Mlk {
        self.stdin = Some(s.to_owned());
        self
    }

    pub fn run(mut self) -> Run {
        // A run that asks the registry writes mlk.lock beside its spec:
        // into a scratch folder instead, so that no test leaves one in
        // tests/ for another to read.
        let scratch = self.writes_lock_in_tests.then(|| {
            let dir = tempfile::tempdir().expect("a scratch folder");
            self.cmd.arg("--lock").arg(dir.path().join("mlk.lock"));
            dir
        });
        let explicit = self.cmd.get_envs().any(|(k, _)| k == "MLK_ALLOW_ENV");
        if !explicit && !self.allowed.is_empty() {
            self.cmd.env("MLK_ALLOW_ENV", self.allowed.join(","));
        }
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("mlk starts");
        let mut stdin = child.stdin.take().expect("piped");
        if let Some(s) = &self.stdin {
            // mlk may fail, rightly, before it reads its input.
            match stdin.write_all(s.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("stdin: {e}"),
                _ => {}
            }
        }
        drop(stdin);
        let out = child.wait_with_output().expect("mlk runs");
        drop(scratch);
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }
}

/// What `--output-dir` writes for the default platform: folders end in `/`.
pub const OUTPUT_DIR_FILES: [&str; 11] = [
    ".mlk-written",
    "kustomization.yaml",
    "platform/",
    "platform/kustomization.yaml",
    "platform/namespace.yaml",
    "platform/postgres.yaml",
    "platform/seaweedfs.yaml",
    "platform/tracking.yaml",
    "secrets/",
    "secrets/kustomization.yaml",
    "secrets/secrets.yaml",
];

/// Every entry beneath `dir`, as `OUTPUT_DIR_FILES` writes them, sorted.
pub fn tree(dir: &std::path::Path) -> Vec<String> {
    fn walk(dir: &std::path::Path, prefix: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{prefix}{}", entry.file_name().into_string().unwrap());
            if entry.file_type().unwrap().is_dir() {
                out.push(format!("{name}/"));
                walk(&entry.path(), &format!("{name}/"), out);
            } else {
                out.push(name);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out.sort();
    out
}

/// `mlk validate --strict` passes `stream`, given the Secrets it names
/// that the cluster holds.
pub fn validates_strictly(stream: &str, exists: &[&str]) {
    let mut args = vec!["validate", "--strict"];
    for e in exists {
        args.extend(["--exists", e]);
    }
    args.push("-");
    mlk(&args).stdin(stream).run().ok();
}

/// `mlk render -f SPEC` with each built-in profile, with the key set.
/// The documents `spec` renders to, read from stdin with the test key.
pub fn rendered(spec: &str) -> Vec<serde_yaml::Value> {
    mlk(&["render", "-f", "-"])
        .stdin(spec)
        .key()
        .run()
        .ok()
        .docs()
}

pub fn render_each_profile(spec: &str) -> Vec<(&'static str, Run)> {
    ["dev", "prod", "ha"]
        .into_iter()
        .map(|p| {
            (
                p,
                mlk(&["render", "-f", spec, "--profile", p])
                    .key()
                    .run()
                    .ok(),
            )
        })
        .collect()
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// The first document of `kind` named `name`.
pub fn find<'a>(docs: &'a [serde_yaml::Value], kind: &str, name: &str) -> &'a serde_yaml::Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// A container's env var value (plain values only).
pub fn env_value<'a>(container: &'a serde_yaml::Value, name: &str) -> Option<&'a str> {
    container["env"]
        .as_sequence()?
        .iter()
        .find(|e| e["name"] == name)?["value"]
        .as_str()
}

/// Snapshots live in the repository's `snapshots/` folder.
#[macro_export]
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        });
    };
}
