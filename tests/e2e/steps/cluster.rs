//! The ha store, a SeaweedFS cluster, run as its manifests say: three
//! raft masters, three volume servers, two filers whose file tree lives
//! in a database of their own in PostgreSQL (made as CloudNativePG makes
//! it from the Cluster's managed role and the Database object), and the
//! S3 gateways. Every pod gets a loopback port of its own for its
//! in-cluster name (its gRPC port is that port + 10000, as SeaweedFS
//! derives it). Artifacts are then written through MLflow's S3 client
//! while servers are killed with SIGKILL, as a lost node stops them.

use super::setup::run_ok;
use super::store::pod_with_claims;
use super::*;
use crate::e2e::python::CLUSTER_ARTIFACTS;

const SPEC: &str = "apiVersion: mlk/v1alpha1
kind: Platform
database:
  cloudnativepg: {}
artifacts:
  embedded:
    replicas: 3
";

/// The store's workloads, in the order they start.
const WORKLOADS: [(&str, &str); 4] = [
    ("StatefulSet", "mlflow-seaweedfs-master"),
    ("StatefulSet", "mlflow-seaweedfs-volume"),
    ("StatefulSet", "mlflow-seaweedfs-filer"),
    ("Deployment", "mlflow-seaweedfs"),
];

impl Harness {
    pub fn run_cluster(&mut self) {
        let setup: [(&str, Step); 7] = [
            ("render a SeaweedFS cluster on CloudNativePG", |h| {
                h.render_cluster()
            }),
            ("map every pod's name to loopback", Self::map_pods),
            (
                "PostgreSQL as CloudNativePG makes it: managed role, Database",
                Self::cluster_postgres,
            ),
            ("three raft masters elect a leader", |h| {
                h.start_workload(0).and_then(|_| h.leader())
            }),
            ("three volume servers join", |h| h.start_workload(1)),
            ("two filers on their PostgreSQL database", |h| {
                h.start_workload(2)
            }),
            ("two S3 gateways, then the setup Job", |h| {
                h.start_workload(3)?;
                h.setup_job()
            }),
        ];
        let checks: [(&str, Step); 4] = [
            (
                "artifacts through the S3 Service, on two volume servers each",
                Self::first_writes,
            ),
            (
                "the raft leader and a volume server killed during uploads: none lost",
                Self::lose_leader_and_volume,
            ),
            ("a filer lost too: the gateways use the other", |h| {
                h.lose_filer()
            }),
            ("the file tree is rows in the filers' database", |h| {
                h.tree_in_postgres()
            }),
        ];
        self.run_steps(&setup, &checks);
    }

    fn render_cluster(&mut self) -> Result<String, String> {
        let docs = render_spec(SPEC, &[]).map_err(|e| format!("mlk render failed:\n{e}"))?;
        let count = docs.len();
        self.state.rendered = Some(Rendered::new(docs));
        Ok(format!("{count} documents"))
    }

    /// `POD.SERVICE.NS.svc.cluster.local:PORT` of every pod, and the
    /// Services the clients use, each on a loopback port.
    fn map_pods(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let ns = r.first("Namespace")?["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut services = Vec::new();
        let mut pods = BTreeMap::new();
        for (kind, name) in WORKLOADS {
            let set = r.get(kind, name)?;
            let headless = set["spec"]["serviceName"].as_str();
            let service = r.get("Service", headless.unwrap_or(name))?;
            let ports: Vec<u64> = seq(&service["spec"]["ports"])
                .iter()
                .filter_map(|p| p["port"].as_u64())
                .collect();
            for i in 0..set["spec"]["replicas"].as_u64().unwrap_or(1) {
                let pod = format!("{name}-{i}");
                let local = paired_port(&pods);
                if let Some(svc) = headless {
                    for (n, port) in ports.iter().enumerate() {
                        // Ports are listed http first, then gRPC (+10000).
                        let at = local + if n == 0 { 0 } else { 10000 };
                        services.push((format!("{pod}.{svc}.{ns}.svc.cluster.local:{port}"), at));
                    }
                } else if i == 0 {
                    // The Service's address: the first gateway.
                    services.push((format!("{name}.{ns}.svc.cluster.local:{}", ports[0]), local));
                }
                pods.insert(pod, local);
            }
        }
        let cluster = r.first("Cluster")?["metadata"]["name"].as_str();
        let rw = format!(
            "{}-rw.{ns}.svc.cluster.local:5432",
            cluster.unwrap_or_default()
        );
        services.push((rw, free_port()));
        let shown = services
            .iter()
            .map(|(s, p)| format!("      {s} -> 127.0.0.1:{p}"));
        println!("{}", shown.collect::<Vec<_>>().join("\n"));
        self.state.loopback = Some(Loopback {
            services,
            args: vec![("0.0.0.0".into(), "127.0.0.1".into())],
            volumes: Vec::new(),
        });
        let count = pods.len();
        self.state.pod_ports = pods;
        Ok(format!("{count} pods"))
    }

    /// What the operator does for `managed.roles` and a `Database`: the
    /// role logs in with its Secret's password and owns its database.
    fn cluster_postgres(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let cluster = r.first("Cluster")?;
        let role = &cluster["spec"]["managed"]["roles"][0];
        let name = role["name"].as_str().ok_or("no managed role")?.to_owned();
        let secret = role["passwordSecret"]["name"].as_str().unwrap_or_default();
        let password = r.secret(secret, "password")?;
        // CloudNativePG refuses a role whose Secret names another user.
        if r.secret(secret, "username")? != name {
            return Err(format!("Secret {secret}'s username is not {name}"));
        }
        let db = r.first("Database")?["spec"].clone();
        let owner = db["owner"].as_str().unwrap_or_default().to_owned();
        let database = db["name"].as_str().unwrap_or_default().to_owned();
        if owner != name {
            return Err(format!(
                "the Database's owner {owner} is not the role {name}"
            ));
        }
        let port = self.loopback().port(&format!(
            "{}-rw",
            cluster["metadata"]["name"].as_str().unwrap_or_default()
        ))?;
        let superuser = "postgres-admin-e2e";
        self.serve_postgres(superuser, superuser, port)?;
        let sql = format!(
            "CREATE ROLE \"{name}\" LOGIN PASSWORD '{}'; CREATE DATABASE \"{database}\" OWNER \"{name}\";",
            password.replace('\'', "''")
        );
        let psql = |sql: &str| {
            let mut c = Command::new("psql");
            c.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", superuser])
                .args(["-d", "postgres", "-v", "ON_ERROR_STOP=1"])
                .arg("-c")
                .arg(sql)
                .env("PGPASSWORD", superuser);
            c
        };
        for statement in sql.split_inclusive(';') {
            run_ok(&mut psql(statement))?;
        }
        self.state.filer_db = (name.clone(), password, database.clone(), port);
        Ok(format!(
            "role {name} owns {database}, on 127.0.0.1:{port} with TLS"
        ))
    }

    /// Every replica of the `i`th workload, as its pod runs it; then
    /// each answers its readiness probe.
    fn start_workload(&mut self, i: usize) -> Result<String, String> {
        let (kind, name) = WORKLOADS[i];
        let mut started = Vec::new();
        {
            let r = self.rendered();
            let set = r.get(kind, name)?;
            let pod = match kind {
                "StatefulSet" => pod_with_claims(set)?,
                _ => set["spec"]["template"]["spec"].clone(),
            };
            for n in 0..set["spec"]["replicas"].as_u64().unwrap_or(1) {
                let pod_name = format!("{name}-{n}");
                started.push((pod_name.clone(), self.pod_command(r, &pod, &pod_name)?));
            }
        }
        // As the StatefulSet controller does: all at once, or each after
        // the one before it is ready.
        let policy = &self.rendered().get(kind, name)?["spec"]["podManagementPolicy"];
        let ordered = *policy == "OrderedReady";
        let mut ready = Vec::new();
        for (pod_name, (cmd, path)) in started {
            let log = self.path(&format!("{pod_name}.log"));
            self.state
                .pods
                .insert(pod_name.clone(), Process::start(&pod_name, cmd, log));
            if ordered {
                self.await_ready(&pod_name, &path)?;
            }
            ready.push((pod_name, path));
        }
        for (pod_name, path) in &ready {
            self.await_ready(pod_name, path)?;
        }
        let how = if ordered {
            "one after another"
        } else {
            "together"
        };
        Ok(format!("{} ready, started {how}", ready.len()))
    }

    /// The pod's one container: its command and args with this pod's
    /// name for `POD_NAME`, and its readiness path.
    fn pod_command(
        &self,
        r: &Rendered,
        pod: &Value,
        name: &str,
    ) -> Result<(Command, String), String> {
        let volumes = self.pod_volumes_in(r, pod, name)?;
        let mut container = pod["containers"][0].clone();
        // As the downward API fills them: the pod's name, and its node,
        // each pod on a node of its own (as the required spread puts them).
        let node = format!("node-{}", name.rsplit('-').next().unwrap_or("0"));
        for var in container["env"].as_sequence_mut().into_iter().flatten() {
            let value = match var["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
                Some("metadata.name") => name,
                Some("spec.nodeName") => &node,
                _ => continue,
            };
            *var = serde_yaml::from_str(&format!(
                "{{name: {}, value: {value}}}",
                var["name"].as_str().unwrap_or_default()
            ))
            .map_err(|e| e.to_string())?;
        }
        let port = self.state.pod_ports[name];
        let env = r.env(&container)?;
        let mut mounts = volumes.mounts.clone();
        for arg in r.argv(&container, &env) {
            if let Some(to) = self.cluster_arg(&arg, &volumes.mounts, port)? {
                mounts.push((arg, to));
            }
        }
        let mut cmd = self.command_in(r, &container, &mounts, &volumes.writable)?;
        // The filers read filer.toml from their working folder first (and
        // /etc/seaweedfs, where the pod mounts it, after that).
        if let Some((_, dir)) = volumes.mounts.iter().find(|(m, _)| m == "/etc/seaweedfs") {
            let toml = Path::new(dir).join("filer.toml");
            if toml.exists() {
                self.filer_toml_on_loopback(&toml)?;
                cmd.current_dir(dir);
            }
        }
        let path = container["readinessProbe"]["httpGet"]["path"]
            .as_str()
            .ok_or(format!("{name}: no readiness probe"))?
            .to_owned();
        Ok((cmd, path))
    }

    /// A whole argument of `weed` as it runs here: addresses of pods on
    /// their loopback ports, this pod's port, paths under its mounts.
    fn cluster_arg(
        &self,
        arg: &str,
        mounts: &[(String, String)],
        port: u16,
    ) -> Result<Option<String>, String> {
        let Some((flag, value)) = arg.split_once('=') else {
            return Ok(None);
        };
        let to = match flag {
            "-ip" | "-ip.bind" => "127.0.0.1".to_owned(),
            "-port" => port.to_string(),
            "-peers" | "-master" | "-filer" => {
                let lb = self.loopback();
                let mut local = Vec::new();
                for address in value.split(',') {
                    let (_, p) = lb
                        .services
                        .iter()
                        .find(|(s, _)| s == address)
                        .ok_or(format!("{flag}: no pod at {address}"))?;
                    local.push(format!("127.0.0.1:{p}"));
                }
                local.join(",")
            }
            _ => match mounts.iter().find(|(from, _)| from == value) {
                Some((_, to)) => to.clone(),
                None => match map_path(value, mounts) {
                    Some(to) => to,
                    None => return Ok(None),
                },
            },
        };
        Ok(Some(format!("{flag}={to}")))
    }

    /// filer.toml's PostgreSQL address (a TOML value, not a URL) on the
    /// loopback port that stands for the Cluster's `-rw` Service.
    fn filer_toml_on_loopback(&self, toml: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(toml).map_err(|e| e.to_string())?;
        let lb = self.loopback();
        let mut out = Vec::new();
        let host = text
            .lines()
            .find_map(|l| l.strip_prefix("hostname = \""))
            .and_then(|h| h.strip_suffix('"'))
            .ok_or("filer.toml names no hostname")?;
        let (_, port) = lb
            .services
            .iter()
            .find(|(s, _)| s.starts_with(&format!("{host}:")))
            .ok_or(format!("filer.toml: no loopback port for {host}"))?;
        for line in text.lines() {
            out.push(if line.starts_with("hostname = ") {
                "hostname = \"127.0.0.1\"".to_owned()
            } else if line.starts_with("port = ") {
                format!("port = {port}")
            } else {
                line.to_owned()
            });
        }
        std::fs::write(toml, out.join("\n") + "\n").map_err(|e| e.to_string())
    }

    fn await_ready(&mut self, pod: &str, path: &str) -> Result<(), String> {
        let port = self.state.pod_ports[pod];
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if http::get(port, path, "127.0.0.1", None).map(|a| a.status) == Ok(200) {
                return Ok(());
            }
            let p = self.state.pods.get_mut(pod).ok_or("not started")?;
            if let Some(status) = p.try_wait() {
                return Err(format!("{pod} exited ({status}):\n{}", p.tail()));
            }
            if Instant::now() > deadline {
                return Err(format!("{pod}: {path} never answered 200:\n{}", p.tail()));
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// The raft leader, as every master reports it.
    fn leader(&mut self) -> Result<String, String> {
        let pod = self.current_leader()?;
        Ok(format!("{pod} leads"))
    }

    fn current_leader(&self) -> Result<String, String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            for (_, port) in self.pods_of("mlflow-seaweedfs-master") {
                let Ok(a) = http::get(port, "/cluster/status", "127.0.0.1", None) else {
                    continue;
                };
                let status: serde_json::Value = serde_json::from_str(&a.body).unwrap_or_default();
                // "127.0.0.1:HTTP.GRPC"
                let leader = status["Leader"].as_str().unwrap_or_default();
                let http_port = leader
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.split('.').next())
                    .and_then(|p| p.parse::<u16>().ok());
                let lead = self
                    .state
                    .pod_ports
                    .iter()
                    .find(|(_, p)| Some(**p) == http_port);
                if let Some((lead, _)) = lead {
                    return Ok(lead.clone());
                }
            }
            if Instant::now() > deadline {
                return Err("no master names a leader".into());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// The live pods of a workload, with their ports.
    fn pods_of(&self, workload: &str) -> Vec<(String, u16)> {
        let prefix = format!("{workload}-");
        self.state
            .pod_ports
            .iter()
            .filter(|(p, _)| {
                p.strip_prefix(&prefix)
                    .is_some_and(|n| n.parse::<u32>().is_ok())
            })
            .filter(|(p, _)| self.state.pods.contains_key(*p))
            .map(|(p, port)| (p.clone(), *port))
            .collect()
    }

    fn first_writes(&mut self) -> Result<String, String> {
        let wrote = self.artifacts("write", "before", 20)?;
        let mut held = Vec::new();
        for (_, port) in self.pods_of("mlflow-seaweedfs-volume") {
            let status = http::get(port, "/status", "127.0.0.1", None)?;
            let status: serde_json::Value =
                serde_json::from_str(&status.body).map_err(|e| e.to_string())?;
            let files: u64 = status["Volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v["FileCount"].as_u64().unwrap_or(0))
                .sum();
            held.push(files);
        }
        // Every file twice, and volume server 0 holds some: reading them
        // all once it is lost proves the second copy, not luck.
        if held.iter().sum::<u64>() != 40 || held[0] == 0 {
            return Err(format!(
                "20 files, held by the volume servers {held:?} times"
            ));
        }
        Ok(format!(
            "{wrote}; the volume servers hold {held:?} copies: each file twice"
        ))
    }

    /// The leader and volume server 0 killed while a writer is midway:
    /// its uploads ride out the loss, and every file reads back.
    fn lose_leader_and_volume(&mut self) -> Result<String, String> {
        let leader = self.current_leader()?;
        let cmd = self.artifacts_command("write", "during-losses", 20)?;
        let log = self.path("writer-during-losses.log");
        let mut writer = Process::start("writer", cmd, log.clone());
        let written = |log: &Path| {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            text.lines().filter(|l| l.starts_with("wrote ")).count()
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while written(&log) < 5 {
            if writer.try_wait().is_some() || Instant::now() > deadline {
                return Err(format!("the writer stopped early:\n{}", writer.tail()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let before_kill = written(&log);
        self.kill(&leader)?;
        self.kill("mlflow-seaweedfs-volume-0")?;
        let deadline = Instant::now() + Duration::from_secs(600);
        let status = loop {
            if let Some(status) = writer.try_wait() {
                break status;
            }
            if Instant::now() > deadline {
                return Err(format!("the writer still runs:\n{}", writer.tail()));
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let tail = writer.tail();
        if !status.success() {
            return Err(format!("the writer failed ({status}):\n{tail}"));
        }
        let wrote = tail.lines().last().unwrap_or_default().to_owned();
        let read = self.artifacts("read", "before,during-losses", 20)?;
        let now = self.current_leader()?;
        Ok(format!(
            "killed {leader} and volume-0 after {before_kill} of 20 uploads; {wrote}; {read}; {now} leads"
        ))
    }

    fn lose_filer(&mut self) -> Result<String, String> {
        self.kill("mlflow-seaweedfs-filer-0")?;
        let wrote = self.artifacts("write", "no-filer-0", 10)?;
        let read = self.artifacts("read", "before,during-losses", 20)?;
        let read_new = self.artifacts("read", "no-filer-0", 10)?;
        Ok(format!("{wrote}; {read}; {read_new}"))
    }

    fn tree_in_postgres(&mut self) -> Result<String, String> {
        let (user, password, database, port) = self.state.filer_db.clone();
        let bucket = self.state.bucket.clone();
        let out = Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                &user,
                "-d",
                &database,
            ])
            .args(["-tA", "-c"])
            .arg(format!(
                "SELECT count(*) FROM \"{bucket}\" WHERE name LIKE '%.bin'"
            ))
            .env("PGPASSWORD", &password)
            .env("PGSSLMODE", "require")
            .output()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        match text.parse::<u32>() {
            Ok(50) => Ok(format!("table {bucket}: 50 artifacts")),
            _ => Err(format!(
                "expected 50 rows in table {bucket}: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )),
        }
    }

    fn kill(&mut self, pod: &str) -> Result<(), String> {
        let mut p = self
            .state
            .pods
            .remove(pod)
            .ok_or(format!("{pod} is not running"))?;
        p.kill();
        Ok(())
    }

    /// MLflow's S3 artifact client, with the tracking identity's keys,
    /// through the S3 Service: `mode` write (`count` files named after
    /// `phases`) or read (every file of each phase, byte for byte).
    /// Returns its last line.
    fn artifacts(&self, mode: &str, phases: &str, count: u32) -> Result<String, String> {
        let cmd = self.artifacts_command(mode, phases, count)?;
        let log = self.path(&format!("artifacts-{mode}-{phases}.log"));
        run_with_deadline(mode, cmd, &log, Duration::from_secs(600))
    }

    fn artifacts_command(&self, mode: &str, phases: &str, count: u32) -> Result<Command, String> {
        let r = self.rendered();
        let key = |k: &str| r.secret("mlflow-s3-tracking", k);
        // The endpoint the tracking server is given: the S3 Service.
        let tracking = &r.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"];
        let env = r.env(&tracking["containers"][0])?;
        let (_, endpoint) = env
            .iter()
            .find(|(k, _)| k == "MLFLOW_S3_ENDPOINT_URL")
            .ok_or("the tracking server has no MLFLOW_S3_ENDPOINT_URL")?;
        let mut cmd = Command::new(venv_bin("python"));
        cmd.args(["-c", CLUSTER_ARTIFACTS]).envs([
            ("MODE", mode.to_owned()),
            ("PHASES", phases.to_owned()),
            ("COUNT", count.to_string()),
            ("MLFLOW_S3_ENDPOINT_URL", self.loopback().map(endpoint)),
            ("AWS_ACCESS_KEY_ID", key("access-key-id")?),
            ("AWS_SECRET_ACCESS_KEY", key("secret-access-key")?),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("BUCKET", self.state.bucket.clone()),
        ]);
        Ok(cmd)
    }
}

/// A free loopback port P whose P + 10000 is free too (SeaweedFS's gRPC
/// port), not handed out already; both below Linux's ephemeral range
/// (32768 and up), so that no outgoing connection takes one meanwhile.
fn paired_port(taken: &BTreeMap<String, u16>) -> u16 {
    let start = std::process::id() % 10000;
    (0..10000u32)
        .map(|i| (12000 + (start + i * 7) % 10000) as u16)
        .find(|p| {
            !taken
                .values()
                .any(|t| *t == *p || *t + 10000 == *p || *t == *p + 10000)
                && std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok()
                && std::net::TcpListener::bind(("127.0.0.1", *p + 10000)).is_ok()
        })
        .expect("a free pair of loopback ports")
}
