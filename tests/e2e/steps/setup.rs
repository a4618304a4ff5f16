//! Starting each rendered component on loopback, as its manifest says.

use super::*;

impl Harness {
    pub(super) fn render(&mut self) -> Result<String, String> {
        let spec = SPEC.replace(
            "MODEL",
            "storageUri: s3://mlflow/0/models/m-placeholder/artifacts",
        );
        let run = render_spec(&spec, &[]).map_err(|e| format!("mlk render failed:\n{e}"))?;
        let count = run.len();
        self.state.rendered = Some(Rendered::new(run));
        Ok(format!("{count} documents"))
    }

    pub(super) fn map_services(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let ns = r.first("Namespace")?["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let mut services = Vec::new();
        for svc in r.docs.iter().filter(|d| d["kind"] == "Service") {
            let name = svc["metadata"]["name"].as_str().unwrap_or_default();
            for port in seq(&svc["spec"]["ports"]) {
                let p = port["port"].as_u64().unwrap_or_default();
                services.push((format!("{name}.{ns}.svc.cluster.local:{p}"), free_port()));
            }
        }
        let tracking = r.get("Deployment", "mlflow-tracking")?;
        let container = &tracking["spec"]["template"]["spec"]["containers"][0];
        let container_port = container["ports"][0]["containerPort"]
            .as_u64()
            .unwrap_or_default();
        let track_port = services
            .iter()
            .find(|(s, _)| {
                s.starts_with("mlflow-tracking.") && s.ends_with(&format!(":{container_port}"))
            })
            .map(|(_, p)| *p)
            .ok_or("no tracking Service on the container's port")?;
        let mut args = vec![
            ("0.0.0.0".to_owned(), "127.0.0.1".to_owned()),
            (container_port.to_string(), track_port.to_string()),
        ];
        let pod = &tracking["spec"]["template"]["spec"];
        let PodVolumes {
            mounts,
            writable: volumes,
        } = self.pod_volumes(pod, "volume")?;
        args.extend(mounts);
        for (from, port) in &services {
            println!("      {from} -> 127.0.0.1:{port}");
        }
        for (from, to) in &args {
            println!("      argument {from} -> {to}");
        }
        self.state.loopback = Some(Loopback {
            services,
            args,
            volumes,
        });
        let root = if read_only_root_available() {
            "the root filesystem read-only, as readOnlyRootFilesystem makes it"
        } else {
            "NOT read-only: mount namespaces need root here"
        };
        Ok(format!(
            "every in-cluster address above; nothing else changes; tracking containers run with {root}"
        ))
    }

    /// A pod's volumes in folders of their own: each emptyDir empty, each
    /// Secret volume with the files the kubelet would write.
    pub(super) fn pod_volumes(&self, pod: &Value, tag: &str) -> Result<PodVolumes, String> {
        self.pod_volumes_in(self.rendered(), pod, tag)
    }

    /// The pod's first container, which serves on its first port, as a
    /// command on a free loopback port of its own.
    pub(super) fn server_in(
        &self,
        r: &Rendered,
        pod: &Value,
        volumes: &PodVolumes,
    ) -> Result<(Command, u16), String> {
        let port = free_port();
        let container = &pod["containers"][0];
        let mut mounts = volumes.mounts.clone();
        let port_arg = container["ports"][0]["containerPort"]
            .as_u64()
            .unwrap_or(5000);
        // The container port, as a whole argument, becomes this port.
        mounts.push((port_arg.to_string(), port.to_string()));
        let cmd = self.command_in(r, container, &mounts, &volumes.writable)?;
        Ok((cmd, port))
    }

    pub(super) fn pod_volumes_in(
        &self,
        r: &Rendered,
        pod: &Value,
        tag: &str,
    ) -> Result<PodVolumes, String> {
        let mut local_of = BTreeMap::new();
        let mut writable = Vec::new();
        for volume in seq(&pod["volumes"]) {
            let name = volume["name"].as_str().unwrap_or("x").to_owned();
            let local = self.path(&format!("{tag}-{name}"));
            std::fs::create_dir_all(&local).map_err(|e| e.to_string())?;
            if volume["emptyDir"].is_mapping() {
                writable.push(local.display().to_string());
            }
            for (file, text) in r.volume_files(&volume)? {
                // A URL in a file (the auth app's ini) names a Service as
                // env and args do: the same table maps it.
                let text = match &self.state.loopback {
                    Some(lb) => lb.map(&text),
                    None => text,
                };
                std::fs::write(local.join(&file), text).map_err(|e| e.to_string())?;
            }
            local_of.insert(name, local.display().to_string());
        }
        let mut mounts = Vec::new();
        for c in seq(&pod["initContainers"])
            .iter()
            .chain(&seq(&pod["containers"]))
        {
            for mount in seq(&c["volumeMounts"]) {
                let path = mount["mountPath"].as_str().unwrap_or_default().to_owned();
                let volume = mount["name"].as_str().unwrap_or_default();
                let local = local_of.get(volume).ok_or(format!("no volume {volume}"))?;
                if !mounts.iter().any(|(p, _)| *p == path) {
                    mounts.push((path, local.clone()));
                }
            }
        }
        Ok(PodVolumes { mounts, writable })
    }

    pub(super) fn postgres(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let sts = r.get("StatefulSet", "mlflow-postgres")?;
        let pod = &sts["spec"]["template"]["spec"];
        let env: BTreeMap<_, _> = r.env(&pod["containers"][0])?.into_iter().collect();
        let var = |k: &str| {
            env.get(k)
                .cloned()
                .ok_or(format!("the StatefulSet sets no {k}"))
        };
        // As the image's entrypoint does: POSTGRES_PASSWORD_FILE names the
        // file, here the Secret key the pod mounts there.
        let password_file = var("POSTGRES_PASSWORD_FILE")?;
        let password = r.mounted_file(pod, &pod["containers"][0], &password_file)?;
        let (user, db) = (var("POSTGRES_USER")?, var("POSTGRES_DB")?);
        let port = self.loopback().port("mlflow-postgres")?;
        self.serve_postgres(&user, &password, port)?;
        // As the image's entrypoint does for POSTGRES_DB.
        let mut createdb = Command::new("createdb");
        createdb.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", &user, &db]);
        run_ok(createdb.env("PGPASSWORD", &password))?;
        Ok(format!("user {user}, database {db}, on 127.0.0.1:{port}"))
    }

    /// Debian's PostgreSQL on `port`, its superuser `user` with
    /// `password`, TLS on with a CA made here (kept for the verify-full
    /// step): clients that ask for no TLS are served as well.
    pub(super) fn serve_postgres(
        &mut self,
        user: &str,
        password: &str,
        port: u16,
    ) -> Result<(), String> {
        let pg = self.path("pg");
        std::fs::create_dir_all(&pg).map_err(|e| e.to_string())?;
        std::fs::write(pg.join("pwfile"), password).map_err(|e| e.to_string())?;
        let data = pg.join("data");
        let bin = pg_bin()?;
        // TLS with a CA made here, for the verify-full step: clients that
        // ask for no TLS are still served as before.
        self.state.pg_ca = super::tls::make_certificates(&pg, &["localhost"])?;
        if is_root() {
            run_ok(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&pg),
            )?;
        }
        let mut initdb = as_postgres(&format!("{bin}/initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", user, "-E", "UTF8", "--auth=scram-sha-256"]);
        initdb.arg(format!("--pwfile={}", pg.join("pwfile").display()));
        run_ok(&mut initdb)?;
        let mut server = as_postgres(&format!("{bin}/postgres"));
        server.arg("-D").arg(&data).args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-p",
            &port.to_string(),
            "-c",
            "ssl=on",
        ]);
        server
            .arg("-c")
            .arg(format!("ssl_cert_file={}", pg.join("server.crt").display()));
        server
            .arg("-c")
            .arg(format!("ssl_key_file={}", pg.join("server.key").display()));
        server.arg("-k").arg(&pg);
        let mut p = Process::start("postgres", server, self.path("postgres.log"));
        p.wait_for_port(port, Duration::from_secs(30));
        self.state.processes.push(p);
        Ok(())
    }

    pub(super) fn container_env(&self, c: &Value) -> Result<Vec<(String, String)>, String> {
        self.env_in(self.rendered(), c, &[])
    }

    /// A container's env as it runs here: in-cluster addresses mapped to
    /// loopback, and paths under `mounts` (a pod of its own) or the main
    /// tracking pod's mounts mapped to their folders.
    pub(super) fn env_in(
        &self,
        r: &Rendered,
        c: &Value,
        mounts: &[(String, String)],
    ) -> Result<Vec<(String, String)>, String> {
        let lb = self.loopback();
        let map = |v: &str| map_path(v, mounts).unwrap_or_else(|| lb.map(&map_embedded(v, mounts)));
        let mut env: Vec<(String, String)> =
            r.env(c)?.into_iter().map(|(k, v)| (k, map(&v))).collect();
        // What the image provides: its programs on PATH (the OIDC image's
        // venv for the image that carries the plugin), a home unless the
        // manifest names one.
        let image = match c["image"].as_str() {
            Some(oidc::OIDC_IMAGE) => crate::common::live::oidc_venv(),
            _ => venv(),
        };
        let path = format!("{}:/usr/bin:/bin", image.join("bin").display());
        env.push(("PATH".into(), path));
        if !env.iter().any(|(k, _)| k == "HOME") {
            env.push(("HOME".into(), self.path("home").display().to_string()));
        }
        // A container that mounts an emptyDir at /tmp writes its temporary
        // files there; here that folder is elsewhere, and TMPDIR says where.
        let mounts_tmp = seq(&c["volumeMounts"])
            .iter()
            .any(|m| m["mountPath"] == "/tmp");
        if mounts_tmp {
            let tmp = map_path("/tmp/x", mounts)
                .map_or_else(|| lb.map("/tmp"), |t| t.trim_end_matches("/x").to_owned());
            env.push(("TMPDIR".into(), tmp));
        }
        Ok(env)
    }

    pub(super) fn command_for(&self, c: &Value) -> Result<Command, String> {
        let writable = self.loopback().volumes.clone();
        self.command_in(self.rendered(), c, &[], &writable)
    }

    /// The container's own command, args and env, in a read-only root
    /// where only `writable` may change, where the machine allows it.
    pub(super) fn command_in(
        &self,
        r: &Rendered,
        c: &Value,
        mounts: &[(String, String)],
        writable: &[String],
    ) -> Result<Command, String> {
        let env = self.env_in(r, c, mounts)?;
        let lb = self.loopback();
        let argv: Vec<String> = r
            .argv(c, &env)
            .iter()
            .map(|a| {
                mounts
                    .iter()
                    .find(|(from, _)| from == a)
                    .map_or_else(|| lb.map(&map_embedded(a, mounts)), |(_, to)| to.clone())
            })
            .collect();
        let (program, args) = argv.split_first().ok_or("a container without a command")?;
        let read_only = read_only_root_available();
        let mut cmd = if read_only {
            read_only_root(program)
        } else {
            Command::new(program)
        };
        cmd.args(args)
            .env_clear()
            .envs(env)
            .current_dir(self.dir.path());
        if read_only {
            cmd.env("MLK_WRITABLE", writable.join(" "));
            // The emptyDir a container mounts at /tmp is its /tmp, as in
            // the pod: programs that write there by name (SeaweedFS's
            // sockets) find it writable.
            if let Some(tmp) = mounts.iter().find(|(from, _)| from == "/tmp") {
                cmd.env("MLK_TMP", &tmp.1);
            }
        }
        Ok(cmd)
    }

    /// Runs one run of a rendered CronJob, as the Job it makes would: its
    /// init containers, then its containers, each to completion, from its
    /// pod's own volumes. Returns the pod spec.
    pub(super) fn run_cron_job(&self, name: &str) -> Result<Value, String> {
        self.run_cron_job_with(name, &[])
    }

    /// As `run_cron_job`, each argument that is a key of `args` replaced
    /// by its value (a Service's URL by a server the harness started on
    /// a port of its own).
    pub(super) fn run_cron_job_with(
        &self,
        name: &str,
        args: &[(String, String)],
    ) -> Result<Value, String> {
        let r = self.rendered();
        let cron = r.get("CronJob", name)?;
        let pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"].clone();
        let mut volumes = self.pod_volumes_in(r, &pod, &format!("{name}-volume"))?;
        volumes.mounts.extend(args.iter().cloned());
        let containers = seq(&pod["initContainers"])
            .into_iter()
            .chain(seq(&pod["containers"]));
        for c in containers {
            let step = c["name"].as_str().unwrap_or_default().to_owned();
            let cmd = self.command_in(r, &c, &volumes.mounts, &volumes.writable)?;
            let log = self.path(&format!("{name}-{step}.log"));
            run_with_deadline(&step, cmd, &log, Duration::from_secs(120))?;
        }
        Ok(pod)
    }

    pub(super) fn init_step(&mut self, name: &str) -> Result<String, String> {
        let cmd = self.command_for(&self.init_container(name)?)?;
        let log = self.path(&format!("{name}.log"));
        run_with_deadline(name, cmd, &log, Duration::from_secs(60))
    }

    pub(super) fn init_container(&self, name: &str) -> Result<Value, String> {
        let pod =
            &self.rendered().get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"];
        seq(&pod["initContainers"])
            .into_iter()
            .find(|c| c["name"] == name)
            .ok_or(format!("no init container {name}"))
    }

    pub(super) fn tracking_pod(&self) -> Result<Value, String> {
        let d = self.rendered().get("Deployment", "mlflow-tracking")?;
        Ok(d["spec"]["template"]["spec"].clone())
    }

    /// The loopback port that stands for `from` (`host:port`).
    pub(super) fn port_of(&self, from: &str) -> Result<u16, String> {
        let lb = self.loopback();
        lb.services
            .iter()
            .find(|(s, _)| s == from)
            .map(|(_, p)| *p)
            .ok_or(format!("no loopback port for {from}"))
    }

    /// As the kubelet runs a pod's init containers: in order, each to
    /// completion, except a sidecar, which keeps running and must pass its
    /// startupProbe first. The sidecar's port is free until it starts, so
    /// nothing before it could have reached the database.
    pub(super) fn pod_in_order(&mut self) -> Result<String, String> {
        let pod = self.tracking_pod()?;
        let mut done = Vec::new();
        for c in seq(&pod["initContainers"]) {
            let name = c["name"].as_str().unwrap_or_default().to_owned();
            let cmd = self.command_for(&c)?;
            let log = self.path(&format!("{name}.log"));
            if c["restartPolicy"] != "Always" {
                run_with_deadline(&name, cmd, &log, Duration::from_secs(120))?;
                done.push(name);
                continue;
            }
            let probe = c["startupProbe"]["tcpSocket"]["port"]
                .as_u64()
                .ok_or(format!(
                    "{name}: a sidecar without a tcpSocket startupProbe"
                ))?;
            let port = self.port_of(&format!("127.0.0.1:{probe}"))?;
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Err(format!("something listens on {port} before {name} starts"));
            }
            let mut p = Process::start(&name, cmd, log);
            p.wait_for_port(port, Duration::from_secs(30));
            self.state.processes.push(p);
            done.push(format!("{name} (sidecar, ready on its probe's port)"));
        }
        Ok(done.join(", "))
    }

    pub(super) fn tracking(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let pod = &r.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"];
        let container = pod["containers"][0].clone();
        let env = self.container_env(&container)?;
        self.state.tracking_env = env;
        let cmd = self.command_for(&container)?;
        let port = self.loopback().port("mlflow-tracking")?;
        let mut p = Process::start("mlflow server", cmd, self.path("mlflow.log"));
        p.wait_for_port(port, Duration::from_secs(120));
        let probe = &container["readinessProbe"]["httpGet"];
        let path = probe["path"].as_str().unwrap_or("/health");
        let answer = http::get(port, path, "localhost", None)?;
        self.state.processes.push(p);
        match answer.status {
            200 => Ok(format!("ready on 127.0.0.1:{port}{path}")),
            s => Err(format!("the readiness probe {path} got {s}")),
        }
    }

    pub(super) fn nginx(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let ingress = r.first("Ingress")?;
        let secret = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-secret"]
            .as_str()
            .ok_or("the Ingress names no auth Secret")?;
        let auth = r.secret(secret, "auth")?;
        let upstream = self.loopback().port("mlflow-tracking")?;
        let n = nginx(
            &ingress["metadata"]["annotations"],
            auth.as_bytes(),
            upstream,
        );
        self.state.nginx_port = n.port;
        self._nginx = Some(n);
        Ok(format!(
            "127.0.0.1:{} -> 127.0.0.1:{upstream}, Host {HOST}",
            self.state.nginx_port
        ))
    }
}

pub(super) struct PodVolumes {
    /// Each container's mount path → the folder standing for its volume.
    pub mounts: Vec<(String, String)>,
    /// The folders standing for emptyDirs: the only writable places.
    pub writable: Vec<String>,
}

/// Debian's server binaries, newest version first.
fn pg_bin() -> Result<String, String> {
    let mut bins: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "PostgreSQL is not installed: scripts/install-test-deps.sh installs it")?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").exists())
        .collect();
    bins.sort();
    let bin = bins.pop().ok_or("no /usr/lib/postgresql/*/bin/initdb")?;
    Ok(bin.display().to_string())
}

fn as_postgres(program: &str) -> Command {
    let mut cmd = Command::new(program);
    if is_root() {
        use std::os::unix::process::CommandExt;
        let id = |flag: &str| -> u32 {
            let out = Command::new("id")
                .args([flag, "postgres"])
                .output()
                .expect("id runs");
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .expect("a postgres user")
        };
        cmd.uid(id("-u")).gid(id("-g"));
    }
    cmd
}

pub(super) fn run_ok(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{:?} failed:\n{}{}",
        cmd.get_program(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// Runs `program` in a mount namespace where `/` is read-only and only
/// the emptyDir stand-ins are writable, as a container with
/// `readOnlyRootFilesystem: true` sees its filesystem.
/// The folders are in `MLK_WRITABLE`.
fn read_only_root(program: &str) -> Command {
    const SCRIPT: &str = r#"set -e
for d in $MLK_WRITABLE; do mount --bind "$d" "$d"; done
if [ -n "${MLK_TMP:-}" ]; then mount --bind "$MLK_TMP" /tmp; fi
mount -o remount,bind,ro /
exec "$0" "$@""#;
    let mut cmd = Command::new("/usr/bin/unshare");
    cmd.args([
        "--mount",
        "--propagation",
        "private",
        "--",
        "/bin/sh",
        "-c",
        SCRIPT,
        program,
    ]);
    cmd
}

/// Mount namespaces need root (CAP_SYS_ADMIN), which CI has.
fn read_only_root_available() -> bool {
    crate::common::live::is_root()
        && Command::new("/usr/bin/unshare")
            .args(["--mount", "true"])
            .status()
            .is_ok_and(|s| s.success())
}
