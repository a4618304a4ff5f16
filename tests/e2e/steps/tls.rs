//! External PostgreSQL over verified TLS: the harness's server presents a
//! certificate from a CA made here; the platform rendered with
//! `sslMode: verify-full` and `sslRootCert` runs its migration step and
//! its server against it, and a different CA is refused.

use super::setup::run_ok;
use super::*;
use base64::Engine;

/// A CA, and a server certificate it signs for `hosts`, in `dir`
/// (`server.crt`, `server.key`). Returns the CA's PEM.
pub(super) fn make_certificates(dir: &Path, hosts: &[&str]) -> Result<String, String> {
    let host = hosts.first().ok_or("no host")?;
    let at = |f: &str| dir.join(f).display().to_string();
    let ca = |name: &str| -> Result<(), String> {
        run_ok(Command::new("openssl").args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &at(&format!("{name}.key")),
            "-out",
            &at(&format!("{name}.crt")),
        ]))
    };
    ca("mlk-test-ca")?;
    ca("another-ca")?;
    run_ok(Command::new("openssl").args([
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        &format!("/CN={host}"),
        "-keyout",
        &at("server.key"),
        "-out",
        &at("server.csr"),
    ]))?;
    let names: Vec<String> = hosts.iter().map(|h| format!("DNS:{h}")).collect();
    std::fs::write(
        dir.join("san.ext"),
        format!("subjectAltName={}\n", names.join(",")),
    )
    .map_err(|e| e.to_string())?;
    run_ok(Command::new("openssl").args([
        "x509",
        "-req",
        "-days",
        "2",
        "-in",
        &at("server.csr"),
        "-CA",
        &at("mlk-test-ca.crt"),
        "-CAkey",
        &at("mlk-test-ca.key"),
        "-CAcreateserial",
        "-out",
        &at("server.crt"),
        "-extfile",
        &at("san.ext"),
    ]))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .map_err(|e| e.to_string())?;
    std::fs::read_to_string(dir.join("mlk-test-ca.crt")).map_err(|e| e.to_string())
}

impl Harness {
    pub(super) fn verified_tls(&mut self) -> Result<String, String> {
        let ca = self.state.pg_ca.clone();
        let good = self.start_with_ca(&ca, "tls", true)?;
        let other = std::fs::read_to_string(self.path("pg").join("another-ca.crt"))
            .map_err(|e| e.to_string())?;
        // The refusal shows in the first attempt's log; MLflow would retry.
        match self.start_with_ca(&other, "tls-wrong-ca", false) {
            Ok(_) => Err("db-upgrade connected although the CA did not sign the server".into()),
            Err(e) if e.contains("certificate verify failed") => Ok(format!(
                "db-upgrade and the server connected with verify-full through the mounted root \
                 certificate ({good}); with another CA: certificate verify failed"
            )),
            Err(e) => Err(format!("with another CA, an unexpected failure: {e}")),
        }
    }

    /// Renders the platform against the harness's PostgreSQL by
    /// `localhost`, with `ca` in the Secret the spec names, runs the
    /// tracking pod's init steps and, with `serve`, starts its server.
    fn start_with_ca(&self, ca: &str, tag: &str, serve: bool) -> Result<String, String> {
        let port = self.loopback().port("mlflow-postgres")?;
        let password = self.rendered().secret("mlflow-db", "password")?;
        let spec = format!(
            "apiVersion: mlk/v1alpha1\nkind: Platform\ndatabase:\n  external:\n    \
             host: localhost\n    port: {port}\n    password: {{value: {password:?}}}\n    \
             sslMode: verify-full\n    sslRootCert: {{secret: {{name: pg-ca, key: ca.crt}}}}\n"
        );
        let mut docs = render_spec(&spec, &[])?;
        // The Secret the cluster holds: the spec names it, mlk does not render it.
        let encoded = base64::engine::general_purpose::STANDARD.encode(ca);
        docs.push(
            serde_yaml::from_str(&format!(
                "apiVersion: v1\nkind: Secret\nmetadata: {{name: pg-ca, namespace: mlflow}}\n\
                 data: {{ca.crt: {encoded}}}\n"
            ))
            .map_err(|e| e.to_string())?,
        );
        let rendered = Rendered::new(docs);
        let pod =
            rendered.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"].clone();
        let volumes = self.pod_volumes_in(&rendered, &pod, tag)?;
        let mut last = String::new();
        for step in seq(&pod["initContainers"]) {
            let name = step["name"].as_str().unwrap_or_default().to_owned();
            if name == "wait-for-bucket" {
                continue;
            }
            let cmd = self.command_in(&rendered, &step, &volumes.mounts, &volumes.writable)?;
            let log = self.path(&format!("{tag}-{name}.log"));
            let limit = Duration::from_secs(if serve { 90 } else { 15 });
            last = run_with_deadline(&name, cmd, &log, limit)?;
        }
        if !serve {
            return Ok(last);
        }
        let (cmd, port) = self.server_in(&rendered, &pod, &volumes)?;
        let mut server = Process::start("mlflow server (tls)", cmd, self.path("tls-server.log"));
        server.wait_for_port(port, Duration::from_secs(120));
        // A query the server answers from the database.
        let path = "/api/2.0/mlflow/experiments/search?max_results=1";
        let answer = http::get(port, path, "localhost", None)?;
        if answer.status != 200 {
            return Err(format!(
                "the server answered {}: {}",
                answer.status, answer.body
            ));
        }
        Ok(format!("{last}; the server answers a database query: 200"))
    }
}
