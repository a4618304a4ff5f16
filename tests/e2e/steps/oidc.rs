//! Single sign-on, as `tracking.auth.oidc` renders it: oidc-provider-mock
//! is the identity provider (a client registered, its secret checked,
//! its redirect URI held to the one registered), and the tracking image
//! is a venv with MLflow and mlflow-oidc-auth on Python 3.12. The init
//! steps migrate MLflow and the plugin under one lock; two servers start
//! from the same render, as two replicas; nginx, configured from the
//! Ingress, stands in front of both. A browser-style client then logs in.

use super::*;
use crate::common::live::{front_door, oidc_venv};
use crate::e2e::python::{GC_RUNS, OIDC_FLOW};

/// The image the spec names; the harness runs it as the OIDC venv.
pub(super) const OIDC_IMAGE: &str = "registry.example.com/mlflow-oidc:3.17.2";

const USERS_GROUP: &str = "mlflow-users";
const ADMINS_GROUP: &str = "mlflow-admins";
/// Two workspaces, each with the group of the same name as its team.
const TEAM_A: &str = "team-a";
const TEAM_B: &str = "team-b";

fn spec(issuer: &str, client_id: &str) -> String {
    format!(
        "apiVersion: mlk/v1alpha1
kind: Platform
ingress:
  enabled: true
  host: {HOST}
  auth: {{enabled: false}}
tracking:
  image: {OIDC_IMAGE}
  auth:
    oidc:
      issuer: {issuer}
      clientId: {client_id}
      clientSecret: {{fromEnv: OIDC_CLIENT_SECRET}}
      scopes: [openid, email, profile]
      groups: {{claim: groups, users: [{USERS_GROUP}], admins: [{ADMINS_GROUP}]}}
      defaultPermission: READ
  gc: {{olderThan: 1s}}
  workspaces:
    - name: {TEAM_A}
      description: \"Team A: fraud models\"
      groups: [{{group: {TEAM_A}, permission: MANAGE}}]
    - name: {TEAM_B}
      groups: [{{group: {TEAM_B}, permission: MANAGE}}]
"
    )
}

pub(super) struct OidcRun {
    provider: u16,
    client_secret: String,
    /// The two replicas' loopback ports.
    replicas: [u16; 2],
}

impl Harness {
    pub fn run_oidc(&mut self) {
        let first: [(&str, Step); 4] = [
            (
                "the provider: oidc-provider-mock, a client registered, five users",
                Self::provider,
            ),
            (
                "render the platform with tracking.auth.oidc",
                Self::render_oidc,
            ),
            ("map Services to loopback", Self::map_services),
            ("PostgreSQL from the StatefulSet's env", Self::postgres),
        ];
        let then: [(&str, Step); 3] = [
            (
                "init step db-upgrade: MLflow's and the plugin's migrations, under one lock",
                Self::oidc_migrations,
            ),
            (
                "two servers from the one render, as two replicas",
                Self::oidc_replicas,
            ),
            ("nginx from the Ingress, in front of both", Self::oidc_front),
        ];
        let setup: Vec<(&str, Step)> = first
            .into_iter()
            .chain(Self::store_steps())
            .chain(then)
            .collect();
        let checks: [(&str, Step); 10] = [
            (
                "a browser logs in: / → the provider → /callback → a page of MLflow",
                |h| h.oidc_check("login"),
            ),
            (
                "groups: users read and can't delete, admins delete, others are refused",
                |h| h.oidc_check("groups"),
            ),
            ("a login on one replica holds on the other", |h| {
                h.oidc_check("replicas")
            }),
            ("an access token logs a run with the MLflow client", |h| {
                h.oidc_check("token")
            }),
            (
                "workspaces: each team sees and creates in its own, not in the other's",
                |h| h.oidc_check("workspaces"),
            ),
            (
                "--resolve finds team-a's model in its workspace, and not outside it",
                Self::resolve_in_workspace,
            ),
            (
                "gc logs in with its own token and removes a deleted run of team-a's, and only it",
                Self::gc_in_workspace,
            ),
            (
                "break: a wrong client secret, and no login completes",
                Self::break_client_secret,
            ),
            (
                "break: another session key on the second replica, and the session fails there",
                Self::break_session_key,
            ),
            (
                "break: a redirect URI the provider does not know, and it refuses",
                Self::break_redirect_uri,
            ),
        ];
        self.run_steps(&setup, &checks);
    }

    fn oidc(&self) -> Result<&OidcRun, String> {
        self.state
            .oidc
            .as_ref()
            .ok_or("the provider is not running".into())
    }

    /// oidc-provider-mock, with registration required: only the client
    /// registered here, with its secret and redirect URI, gets tokens.
    fn provider(&mut self) -> Result<String, String> {
        let port = free_port();
        let mut cmd = Command::new(oidc_venv().join("bin/oidc-provider-mock"));
        cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--require-registration");
        let mut p = Process::start("oidc-provider-mock", cmd, self.path("provider.log"));
        p.wait_for_port(port, Duration::from_secs(60));
        self.state.processes.push(p);
        let out = py_env(
            REGISTER,
            &[
                ("PROVIDER", &format!("http://127.0.0.1:{port}")),
                ("REDIRECT", &format!("http://{HOST}/callback")),
                ("USERS", USERS_GROUP),
                ("ADMINS", ADMINS_GROUP),
            ],
        )?;
        let client: serde_json::Value =
            serde_json::from_str(out.trim()).map_err(|e| format!("{e}: {out}"))?;
        let id = client["client_id"]
            .as_str()
            .ok_or("no client_id")?
            .to_owned();
        let secret = client["client_secret"].as_str().ok_or("no client_secret")?;
        self.state.oidc = Some(OidcRun {
            provider: port,
            client_secret: secret.to_owned(),
            replicas: [0; 2],
        });
        self.state.oidc_client_id = id.clone();
        Ok(format!("on 127.0.0.1:{port}; client {id}"))
    }

    fn render_oidc(&mut self) -> Result<String, String> {
        let run = self.oidc()?;
        let issuer = format!("http://127.0.0.1:{}", run.provider);
        let spec = spec(&issuer, &self.state.oidc_client_id);
        let out = mlk(&["render", "-f", "-", "--allow-insecure-issuer"])
            .key()
            .stdin(&spec)
            .env("OIDC_CLIENT_SECRET", &run.client_secret)
            .env("MLK_ALLOW_ENV", "OIDC_CLIENT_SECRET")
            .run();
        if out.code != 0 {
            return Err(format!("mlk render failed:\n{}", out.stderr));
        }
        let docs = out.docs();
        let count = docs.len();
        self.state.rendered = Some(Rendered::new(docs));
        Ok(format!("{count} documents, issuer {issuer}"))
    }

    /// The migration step, then the plugin's tables where it put them,
    /// and the spec's workspaces with their groups' grants.
    fn oidc_migrations(&mut self) -> Result<String, String> {
        let log = self.init_step("db-upgrade")?;
        let tables = self.query(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'mlflow_oidc'",
        )?;
        let workspaces = self.query(
            "SELECT string_agg(name || '=' || coalesce(description, ''), ',' ORDER BY name) \
             FROM workspaces WHERE name <> 'default'",
        )?;
        let grants = self.query(
            "SELECT string_agg(w.workspace || ':' || g.group_name || ':' || w.permission, ',' \
             ORDER BY w.workspace) FROM mlflow_oidc.workspace_group_permissions w \
             JOIN mlflow_oidc.groups g ON g.id = w.group_id",
        )?;
        let want_workspaces = format!("{TEAM_A}=Team A: fraud models,{TEAM_B}=");
        let want_grants = format!("{TEAM_A}:{TEAM_A}:MANAGE,{TEAM_B}:{TEAM_B}:MANAGE");
        if workspaces != want_workspaces || grants != want_grants {
            return Err(format!(
                "workspaces {workspaces:?} and grants {grants:?}, not {want_workspaces:?} and \
                 {want_grants:?}; {log}"
            ));
        }
        match tables.parse::<u32>() {
            Ok(n) if n > 5 => Ok(format!(
                "{n} tables in schema mlflow_oidc; workspaces {workspaces}; grants {grants}; {log}"
            )),
            _ => Err(format!("schema mlflow_oidc holds {tables:?} tables; {log}")),
        }
    }

    /// A pod of the rendered Deployment: volumes of its own, filled by its
    /// credential-files step; then its server on a port of its own, `env`
    /// changed as a break asks, ready on its probe.
    fn oidc_server(&mut self, tag: &str, env: &[(&str, &str)]) -> Result<u16, String> {
        let r = self.rendered();
        let pod = r.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"].clone();
        let volumes = self.pod_volumes_in(r, &pod, &format!("oidc-{tag}"))?;
        let files = seq(&pod["initContainers"])
            .into_iter()
            .find(|c| c["name"] == "credential-files")
            .ok_or("no credential-files step")?;
        let cmd = self.command_in(r, &files, &volumes.mounts, &volumes.writable)?;
        let log = self.path(&format!("oidc-files-{tag}.log"));
        run_with_deadline("credential-files", cmd, &log, Duration::from_secs(60))?;
        let (mut cmd, port) = self.server_in(r, &pod, &volumes)?;
        cmd.envs(env.iter().copied());
        let log = self.path(&format!("oidc-server-{tag}.log"));
        let mut p = Process::start("mlflow server (oidc)", cmd, log);
        p.wait_for_port(port, Duration::from_secs(120));
        let probe = &pod["containers"][0]["readinessProbe"]["httpGet"];
        let path = probe["path"].as_str().unwrap_or("/health");
        let answer = http::get(port, path, "localhost", None)?;
        self.state.processes.push(p);
        match answer.status {
            200 => Ok(port),
            s => Err(format!("{tag}: the readiness probe {path} got {s}")),
        }
    }

    fn oidc_replicas(&mut self) -> Result<String, String> {
        let a = self.oidc_server("a", &[])?;
        let b = self.oidc_server("b", &[])?;
        if let Some(run) = self.state.oidc.as_mut() {
            run.replicas = [a, b];
        }
        Ok(format!("--app-name oidc-auth on 127.0.0.1:{a} and :{b}"))
    }

    fn oidc_front(&mut self) -> Result<String, String> {
        let ingress = self.rendered().first("Ingress")?.clone();
        let replicas = self.oidc()?.replicas;
        let n = front_door(&ingress["metadata"]["annotations"], None, &replicas);
        self.state.nginx_port = n.port;
        self._nginx = Some(n);
        Ok(format!(
            "127.0.0.1:{} -> 127.0.0.1:{} and :{}",
            self.state.nginx_port, replicas[0], replicas[1]
        ))
    }

    /// Runs the browser's checks named by `want` against `front` (nginx
    /// unless a break names a server), with the replicas as A and B.
    fn oidc_flow(&self, want: &str, front: u16, b: u16) -> Result<BTreeMap<String, i64>, String> {
        let run = self.oidc()?;
        let out = py_owned(
            OIDC_FLOW,
            &[
                ("HOST", HOST.to_owned()),
                ("FRONT", front.to_string()),
                ("A", run.replicas[0].to_string()),
                ("B", b.to_string()),
                ("WANT", want.to_owned()),
                ("PROVIDER", format!("http://127.0.0.1:{}", run.provider)),
                (
                    "TOKEN_FILE",
                    self.path("team-a.token").display().to_string(),
                ),
            ],
        )?;
        // MLflow's client prints where a run is; the answer is the last line.
        let last = out.trim().lines().last().unwrap_or_default();
        serde_json::from_str(last).map_err(|e| format!("{e}: {out}"))
    }

    fn oidc_check(&mut self, want: &str) -> Result<String, String> {
        let run = self.oidc()?;
        let got = self.oidc_flow(want, self.state.nginx_port, run.replicas[1])?;
        let expect: &[(&str, i64)] = match want {
            "login" => &[
                ("root_unauthenticated", 302),
                ("to_the_provider", 1),
                ("login_callback", 302),
                ("page_after_login", 200),
                ("api_after_login", 200),
            ],
            "groups" => &[
                ("admin_creates", 200),
                ("user_reads", 200),
                ("user_deletes", 403),
                ("admin_deletes", 200),
                // The callback answers an outsider with a redirect to its
                // error page, and gives no session: the API says 401.
                ("outsider_login", 302),
                ("outsider_api", 401),
            ],
            "replicas" => &[("login_on_a", 302), ("api_on_b", 200)],
            "token" => &[
                ("token_issued", 200),
                ("token_logs_run", 200),
                ("forged_token", 401),
            ],
            "workspaces" => &[
                ("a_creates_in_a", 200),
                ("artifacts_in_workspace_folder", 1),
                ("a_sees_its_experiment", 1),
                // The plugin filters a search in a workspace the user may
                // not read: an empty list, not an error.
                ("b_sees_in_a", 0),
                ("b_gets_a_experiment", 403),
                ("b_creates_in_a", 403),
                ("b_creates_in_b", 200),
                ("a_sees_b_experiment", 0),
                ("a_registers_model", 200),
            ],
            _ => return Err(format!("no check {want}")),
        };
        compare(&got, expect)
    }

    /// `mlk render --resolve` against a replica, logged in as team-a's
    /// member with their access token: the alias is found in team-a (the
    /// model's workspace) and served from that workspace's folder; without
    /// the workspace, the registry's `default` has no such model.
    fn resolve_in_workspace(&mut self) -> Result<String, String> {
        let token = std::fs::read_to_string(self.path("team-a.token"))
            .map_err(|e| format!("no access token from the workspaces check: {e}"))?;
        let run = self.oidc()?;
        let issuer = format!("http://127.0.0.1:{}", run.provider);
        let model = |workspace: &str| {
            format!(
                "{}serving:\n  models:\n    - name: team-model\n      registeredModel: team-model\n      alias: champion\n{workspace}",
                spec(&issuer, &self.state.oidc_client_id)
            )
        };
        let server = format!("http://127.0.0.1:{}", run.replicas[0]);
        let resolve = |spec: String| {
            mlk(&[
                "render",
                "-f",
                "-",
                "--allow-insecure-issuer",
                "--resolve",
                "--tracking-uri",
                &server,
                "--allow-insecure-tracking",
            ])
            .key()
            .stdin(&spec)
            .env("OIDC_CLIENT_SECRET", &run.client_secret)
            .env("MLK_ALLOW_ENV", "OIDC_CLIENT_SECRET")
            .env("MLFLOW_TRACKING_USERNAME", "dave@example.com")
            .env("MLFLOW_TRACKING_PASSWORD", token.trim())
            .run()
        };
        let out = resolve(model(&format!("      workspace: {TEAM_A}\n")));
        if out.code != 0 {
            return Err(format!("--resolve in {TEAM_A} failed:\n{}", out.stderr));
        }
        let uri = served_from(&out.docs())?;
        if !uri.contains(&format!("/workspaces/{TEAM_A}/")) {
            return Err(format!("served from {uri:?}, not {TEAM_A}'s folder"));
        }
        let outside = resolve(model(""));
        if outside.code == 0 || !outside.stderr.contains("not in the registry") {
            return Err(format!(
                "without its workspace the model was still found: {}",
                outside.stderr
            ));
        }
        Ok(format!(
            "served from {uri}; outside {TEAM_A}: not in the registry"
        ))
    }

    /// Two runs of team-a's, logged by its member with their token, one
    /// deleted; then the gc CronJob, as rendered (its login a token the
    /// migration step set, in every workspace), against replica A.
    fn gc_in_workspace(&mut self) -> Result<String, String> {
        let token = std::fs::read_to_string(self.path("team-a.token"))
            .map_err(|e| format!("no access token from the workspaces check: {e}"))?;
        let server = format!("http://127.0.0.1:{}", self.oidc()?.replicas[0]);
        let work = self.path("client").display().to_string();
        std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
        let env = [
            ("MLFLOW_TRACKING_URI", server.clone()),
            ("MLFLOW_TRACKING_USERNAME", "dave@example.com".to_owned()),
            ("MLFLOW_TRACKING_PASSWORD", token.trim().to_owned()),
            ("MLFLOW_WORKSPACE", TEAM_A.to_owned()),
            ("EXPERIMENT", "team-a-experiment".to_owned()),
            ("WORK", work),
        ];
        let out = py_owned(GC_RUNS, &env)?;
        let ids: serde_json::Value = serde_json::from_str(out.trim().lines().last().unwrap_or(""))
            .map_err(|e| format!("{e}: {out}"))?;
        let (Some(exp), Some(doomed), Some(kept)) = (
            ids["experiment"].as_str(),
            ids["doomed"].as_str(),
            ids["kept"].as_str(),
        ) else {
            return Err(format!("no runs: {out}"));
        };
        // olderThan is 1s in this spec.
        std::thread::sleep(Duration::from_millis(1500));
        let cron = self.rendered().get("CronJob", "mlflow-gc")?;
        let command = seq(
            &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"],
        );
        let service = command
            .iter()
            .skip_while(|a| **a != "--tracking-uri")
            .nth(1)
            .and_then(|a| a.as_str())
            .ok_or("gc names no tracking server")?
            .to_owned();
        self.run_cron_job_with("mlflow-gc", &[(service, server)])?;
        let check = serde_json::json!({"doomed": doomed, "kept": kept}).to_string();
        let mut env = env.to_vec();
        env.push(("CHECK", check));
        let out = py_owned(GC_RUNS, &env)?;
        let exists: serde_json::Value =
            serde_json::from_str(out.trim()).map_err(|e| format!("{e}: {out}"))?;
        // The bucket as replica A reaches it, for boto3.
        let r = self.rendered();
        let pod = r.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"].clone();
        let volumes = self.pod_volumes_in(r, &pod, "oidc-a")?;
        let env = self.env_in(r, &pod["containers"][0], &volumes.mounts)?;
        self.state.tracking_env = env;
        let folder = |run: &str| format!("workspaces/{TEAM_A}/{exp}/{run}/");
        self.gc_removed(&exists, &folder(doomed), &folder(kept))?;
        Ok(format!(
            "run {doomed} and {} gone; run {kept} and {} kept",
            folder(doomed),
            folder(kept)
        ))
    }

    /// The provider refuses the code's exchange, and says why.
    fn break_client_secret(&mut self) -> Result<String, String> {
        let port = self.oidc_server("wrong-secret", &[("OIDC_CLIENT_SECRET", "not-the-secret")])?;
        let got = self.oidc_flow("login", port, port)?;
        let log = std::fs::read_to_string(self.path("provider.log")).unwrap_or_default();
        if !log.contains("invalid_client") {
            return Err(format!("the provider never refused the client: {got:?}"));
        }
        refused(
            &got,
            "api_after_login",
            "the login with a wrong client secret",
        )
    }

    fn break_session_key(&mut self) -> Result<String, String> {
        let port = self.oidc_server("other-key", &[("SECRET_KEY", "another-session-key-0123")])?;
        let a = self.oidc()?.replicas[0];
        let got = self.oidc_flow("replicas", a, port)?;
        refused(&got, "api_on_b", "a session signed with another key")
    }

    /// The provider refuses at its authorization form (1400: its 400).
    fn break_redirect_uri(&mut self) -> Result<String, String> {
        let elsewhere = format!("http://{HOST}/elsewhere/callback");
        let port = self.oidc_server("other-redirect", &[("OIDC_REDIRECT_URI", &elsewhere)])?;
        let got = self.oidc_flow("login", port, port)?;
        if got.get("login_callback") != Some(&1400) {
            return Err(format!(
                "the provider did not refuse the redirect URI: {got:?}"
            ));
        }
        refused(
            &got,
            "api_after_login",
            "a login with an unregistered redirect URI",
        )
    }
}

/// The provider's client and users: alice in the users' group, bob in
/// the admins', carol in neither; dave and erin users in team-a's and
/// team-b's groups. Prints the client's registration.
const REGISTER: &str = r#"
import json, os, requests
p = os.environ["PROVIDER"]
r = requests.post(f"{p}/oauth2/clients", json={"redirect_uris": [os.environ["REDIRECT"]]})
r.raise_for_status()
users = [("alice", [os.environ["USERS"]]), ("bob", [os.environ["ADMINS"]]), ("carol", ["others"]),
         ("dave", [os.environ["USERS"], "team-a"]), ("erin", [os.environ["USERS"], "team-b"])]
for sub, groups in users:
    email = f"{sub}@example.com"
    claims = {"email": email, "preferred_username": sub, "name": sub, "groups": groups}
    requests.put(f"{p}/users/{email}", json=claims).raise_for_status()
print(json.dumps(r.json()))
"#;

fn compare(got: &BTreeMap<String, i64>, expect: &[(&str, i64)]) -> Result<String, String> {
    let wrong: Vec<String> = expect
        .iter()
        .filter(|(k, v)| got.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}: want {v}, got {:?}", got.get(*k)))
        .collect();
    match wrong.is_empty() {
        true => Ok(expect
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")),
        false => Err(format!("{}\n(all: {got:?})", wrong.join("\n"))),
    }
}

/// A break holds when the check it aims at no longer passes.
fn refused(got: &BTreeMap<String, i64>, key: &str, what: &str) -> Result<String, String> {
    match got.get(key) {
        Some(200) => Err(format!("{what} still reached MLflow: {got:?}")),
        other => Ok(format!("{what}: {key} {other:?} (all: {got:?})")),
    }
}
