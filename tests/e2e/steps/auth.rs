//! MLflow's own auth app, as `tracking.auth` renders it: a second render
//! of the same platform with the auth app on, run against the same
//! PostgreSQL and S3. Its init steps migrate the user store into its own
//! schema; two server processes start from the same rendered Secrets, as
//! two replicas would, each on a loopback port of its own (the one value
//! the harness changes: two processes cannot share a port).

use super::*;
use crate::e2e::python::AUTH_FLOW;

/// The platform of the main run, with the auth app on and no Ingress:
/// MLflow's login works behind any front door.
const AUTH_SPEC: &str = "apiVersion: mlk/v1alpha1
kind: Platform
tracking:
  auth:
    enabled: true
    defaultPermission: READ
  gc: {}
  workspaces: [{name: team-a}]
monitoring:
  serviceMonitor: {enabled: true}
";

pub(super) struct AuthRun {
    rendered: Rendered,
    ports: [u16; 2],
    /// Kept for their guards: the servers stop when this drops.
    _servers: Vec<Process>,
}

impl Harness {
    fn auth_run(&self) -> Result<&AuthRun, String> {
        self.state
            .auth
            .as_ref()
            .ok_or("the auth app is not running".into())
    }

    /// The rendered auth platform's tracking pod: its volumes in folders of
    /// their own, its init steps run to completion.
    pub(super) fn auth_setup(&mut self) -> Result<String, String> {
        let rendered = Rendered::new(render_spec(AUTH_SPEC, &[])?);
        let pod =
            rendered.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"].clone();
        let volumes = self.pod_volumes_in(&rendered, &pod, "auth-volume")?;
        let mut done = Vec::new();
        for step in seq(&pod["initContainers"]) {
            let name = step["name"].as_str().unwrap_or_default().to_owned();
            let cmd = self.command_in(&rendered, &step, &volumes.mounts, &volumes.writable)?;
            let log = self.path(&format!("auth-{name}.log"));
            run_with_deadline(&name, cmd, &log, Duration::from_secs(90))?;
            done.push(name);
        }
        let mut ports = [0; 2];
        let mut servers = Vec::new();
        for (i, port) in ports.iter_mut().enumerate() {
            let (cmd, p) = self.server_in(&rendered, &pod, &volumes)?;
            let log = self.path(&format!("auth-server-{i}.log"));
            let mut server = Process::start("mlflow server (auth)", cmd, log);
            server.wait_for_port(p, Duration::from_secs(120));
            servers.push(server);
            *port = p;
        }
        // The workspace the spec lists, with the roles MLflow's own API
        // would have seeded, for an admin to assign users to.
        let roles = self.query(
            "SELECT string_agg(r.name || ':' || p.permission, ',' ORDER BY r.name) \
             FROM mlflow_auth.roles r JOIN mlflow_auth.role_permissions p ON p.role_id = r.id \
             WHERE r.workspace = 'team-a' AND p.resource_type = 'workspace'",
        )?;
        if roles != "admin:MANAGE,user:USE" {
            return Err(format!("team-a's roles are {roles:?}"));
        }
        self.state.auth = Some(AuthRun {
            rendered,
            ports,
            _servers: servers,
        });
        Ok(format!(
            "init steps {} done; workspace team-a with roles {roles}; two servers with \
             --app-name basic-auth on 127.0.0.1:{} and :{}",
            done.join(", "),
            ports[0],
            ports[1]
        ))
    }

    /// Users, permissions, the metrics login and the shared Flask key, as
    /// MLflow's own REST API and sign-up form answer them.
    pub(super) fn auth_checks(&mut self) -> Result<String, String> {
        let run = self.auth_run()?;
        let r = &run.rendered;
        let monitor = r.first("ServiceMonitor")?;
        let login = &monitor["spec"]["endpoints"][0]["basicAuth"];
        let from = |field: &str| {
            let s = &login[field];
            r.secret(
                s["name"].as_str().unwrap_or_default(),
                s["key"].as_str().unwrap_or_default(),
            )
        };
        let (metrics_user, metrics_password) = (from("username")?, from("password")?);
        let url = |p: u16| format!("http://127.0.0.1:{p}");
        let out = py_env(
            AUTH_FLOW,
            &[
                ("A", &url(run.ports[0])),
                ("B", &url(run.ports[1])),
                (
                    "ADMIN_USER",
                    &r.secret("mlflow-tracking", "admin-username")?,
                ),
                (
                    "ADMIN_PASSWORD",
                    &r.secret("mlflow-tracking", "admin-password")?,
                ),
                ("METRICS_USER", &metrics_user),
                ("METRICS_PASSWORD", &metrics_password),
                ("GC_USER", &r.secret("mlflow-gc-login", "username")?),
                ("GC_PASSWORD", &r.secret("mlflow-gc-login", "password")?),
            ],
        )?;
        let got: BTreeMap<String, u64> =
            serde_json::from_str(out.trim()).map_err(|e| format!("{e}: {out}"))?;
        let want: [(&str, u64); 11] = [
            ("anonymous", 401),
            ("create_alice", 200),
            ("alice_reads_on_b", 200),
            ("alice_deletes", 403),
            ("metrics_with_servicemonitor_login", 200),
            ("metrics_anonymous", 401),
            ("metrics_login_is_not_the_admin", 1),
            ("gc_login_reads_users", 200),
            ("signup_form_from_a_posted_to_b", 200),
            ("carol_reads_on_a", 200),
            ("forged_form_token_on_b", 400),
        ];
        let wrong: Vec<String> = want
            .iter()
            .filter(|(k, v)| got.get(*k) != Some(v))
            .map(|(k, v)| format!("{k}: want {v}, got {:?}", got.get(*k)))
            .collect();
        if !wrong.is_empty() {
            return Err(wrong.join("\n"));
        }
        Ok(want
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "))
    }
}
