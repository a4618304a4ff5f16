//! Real processes for the tests that run real components: each binds
//! 127.0.0.1 only, and is killed when its guard drops, failure or not.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Python venv `scripts/install-test-deps.sh` builds.
pub fn venv() -> PathBuf {
    venv_at("MLK_TEST_VENV", "venv", "mlflow")
}

pub fn venv_bin(name: &str) -> PathBuf {
    venv().join("bin").join(name)
}

/// The second venv: KServe's storage initializer and MLServer.
pub fn serve_venv_bin(name: &str) -> PathBuf {
    venv_at("MLK_SERVE_VENV", "serve-venv", "mlserver")
        .join("bin")
        .join(name)
}

/// The tracking image for tracking.auth.oidc: MLflow and mlflow-oidc-auth
/// on Python 3.12, and oidc-provider-mock, the identity provider.
pub fn oidc_venv() -> PathBuf {
    venv_at("MLK_OIDC_VENV", "oidc-venv", "mlflow")
}

fn venv_at(var: &str, folder: &str, program: &str) -> PathBuf {
    let dir = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("HOME").expect("HOME is set");
        PathBuf::from(home).join(".cache/mlk").join(folder)
    });
    assert!(
        dir.join("bin").join(program).exists(),
        "no {program} venv at {}: run scripts/install-test-deps.sh (or set {var})",
        dir.display()
    );
    dir
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

    /// SIGTERM, as the kubelet stops a container after its preStop hook.
    pub fn terminate(&self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
            .args(["-TERM", &pid])
            .stderr(Stdio::null())
            .status();
    }

    /// SIGKILL, as a lost node stops a pod: no time to say goodbye.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last lines of the log, a run of repeats shown once.
    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut lines: Vec<(String, usize)> = Vec::new();
        for line in text.lines() {
            match lines.last_mut() {
                Some((last, n)) if last == line => *n += 1,
                _ => lines.push((line.to_owned(), 1)),
            }
        }
        let shown = lines[lines.len().saturating_sub(20)..].iter();
        let shown = shown.map(|(l, n)| {
            if *n > 1 {
                format!("{l}  (x{n})")
            } else {
                l.clone()
            }
        });
        shown.collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Process {
    /// SIGTERM first, so that a server (PostgreSQL) stops its own
    /// children; SIGKILL after 5 s.
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
            .args(["-TERM", &pid])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
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

pub const NGINX: &str = "/usr/sbin/nginx";

/// nginx on 127.0.0.1 configured as ingress-nginx configures itself from
/// the rendered Ingress annotations and auth file: basic auth, body size,
/// timeouts, and the client's Host passed through to `upstream`.
pub struct Nginx {
    pub process: Process,
    pub port: u16,
    _dir: tempfile::TempDir,
}

pub fn nginx(annotations: &serde_yaml::Value, htpasswd: &[u8], upstream: u16) -> Nginx {
    front_door(annotations, Some(htpasswd), &[upstream])
}

/// nginx as ingress-nginx configures itself from the Ingress annotations:
/// basic auth when they ask for it (with `htpasswd`), the proxy buffer
/// they set, and the Service's endpoints as `upstreams`, in turn.
pub fn front_door(
    annotations: &serde_yaml::Value,
    htpasswd: Option<&[u8]>,
    upstreams: &[u16],
) -> Nginx {
    assert!(
        std::path::Path::new(NGINX).exists(),
        "nginx is missing: `apt-get install nginx` (scripts/install-test-deps.sh does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let annotation = |k: &str| {
        annotations[format!("nginx.ingress.kubernetes.io/{k}").as_str()]
            .as_str()
            .map(str::to_owned)
    };
    let a = |k: &str| annotation(k).unwrap_or_else(|| panic!("Ingress annotation {k} missing"));
    let auth = match (annotation("auth-type"), htpasswd) {
        (Some(kind), Some(lines)) => {
            assert_eq!(kind, "basic");
            std::fs::write(dir.path().join("auth"), lines).unwrap();
            format!(
                "auth_basic \"{}\";\n      auth_basic_user_file {d}/auth;\n",
                a("auth-realm")
            )
        }
        (None, None) => String::new(),
        (kind, _) => panic!("auth-type {kind:?} and an htpasswd file go together"),
    };
    let buffer = annotation("proxy-buffer-size")
        .map(|size| format!("proxy_buffer_size {size};\n      proxy_buffers 4 {size};\n"))
        .unwrap_or_default();
    let servers: String = upstreams
        .iter()
        .map(|p| format!("server 127.0.0.1:{p};"))
        .collect();
    let port = free_port();
    // One process, no workers: killing it leaves nothing behind. As root,
    // workers would switch to `nobody`, who cannot read this temp dir.
    let user = if is_root() { "user root root;" } else { "" };
    let conf = format!(
        "{user}\ndaemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         upstream service {{ {servers} }}\n\
         server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
         {auth}{buffer}\
         client_max_body_size {body};\n      proxy_read_timeout {read}s;\n      proxy_send_timeout {send}s;\n\
         proxy_http_version 1.1;\n      proxy_set_header Host $host;\n\
         proxy_set_header X-Forwarded-For $remote_addr;\n      proxy_set_header X-Forwarded-Proto $scheme;\n\
         proxy_set_header X-Forwarded-Host $host;\n\
         proxy_pass http://service;\n    }}\n  }}\n}}\n",
        body = a("proxy-body-size"),
        read = a("proxy-read-timeout"),
        send = a("proxy-send-timeout"),
    );
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let mut cmd = Command::new(NGINX);
    cmd.args(["-p", &d, "-c", &format!("{d}/nginx.conf")]);
    let mut process = Process::start("nginx", cmd, dir.path().join("error.log"));
    process.wait_for_port(port, Duration::from_secs(10));
    Nginx {
        process,
        port,
        _dir: dir,
    }
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}
