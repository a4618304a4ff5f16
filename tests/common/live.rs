//! Real processes for the tests that run real components: each binds
//! 127.0.0.1 only, and is killed when its guard drops, failure or not.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Python venv `scripts/install-test-deps.sh` builds.
pub fn venv() -> PathBuf {
    let dir = std::env::var_os("MLK_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME is set");
            PathBuf::from(home).join(".cache/mlk/venv")
        });
    assert!(
        dir.join("bin/mlflow").exists(),
        "no MLflow venv at {}: run scripts/install-test-deps.sh (or set MLK_TEST_VENV)",
        dir.display()
    );
    dir
}

pub fn venv_bin(name: &str) -> PathBuf {
    venv().join("bin").join(name)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A started process, killed on drop. Its output goes to `log`.
pub struct Process {
    pub name: String,
    child: Child,
    pub log: PathBuf,
}

impl Process {
    pub fn start(name: &str, mut cmd: Command, log: PathBuf) -> Process {
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
        Process {
            name: name.to_owned(),
            child,
            log,
        }
    }

    /// Waits until `port` accepts connections; on timeout, panics with
    /// the end of the process's log.
    pub fn wait_for_port(&mut self, port: u16, limit: Duration) {
        let deadline = Instant::now() + limit;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}):\n{}", self.name, self.tail());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not listen on {port} within {limit:?}:\n{}",
                self.name,
                self.tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a Python snippet in the venv; panics with its output on failure.
pub fn python(script: &str, env: &[(&str, &str)]) -> String {
    let out = Command::new(venv_bin("python"))
        .args(["-c", script])
        .envs(env.iter().copied())
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
