//! A rollout drains: a server from the rendered Deployment, sent SIGTERM
//! (as the kubelet does after the preStop sleep) while an artifact upload
//! is half sent. The upload completes, no new connection is taken, and
//! the server exits on its own within its grace period. A second render,
//! whose Ingress waits 4 s, shows the server's own deadline: an upload
//! that stalls does not hold the pod past it.

use std::io::{Read, Write};
use std::net::TcpStream;

use super::*;

/// The upload's size, sent in two halves around the SIGTERM.
const BODY: usize = 2 << 20;

/// A server from one render's tracking pod, on a port of its own.
struct Draining {
    server: Process,
    port: u16,
    /// terminationGracePeriodSeconds less the preStop sleep: what is left
    /// for the server after SIGTERM.
    after_sigterm: Duration,
    /// The server's graceful timeout, from its uvicorn options.
    graceful: u64,
}

impl Harness {
    fn start_draining(&self, r: &Rendered, tag: &str) -> Result<Draining, String> {
        let pod = &r.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"];
        let grace = pod["terminationGracePeriodSeconds"]
            .as_u64()
            .ok_or("no grace period")?;
        let container = &pod["containers"][0];
        let pre_stop = &container["lifecycle"]["preStop"]["sleep"]["seconds"];
        let pre_stop = pre_stop.as_u64().ok_or("no preStop sleep")?;
        let after = grace
            .checked_sub(pre_stop)
            .ok_or("a grace period shorter than preStop")?;
        let graceful = seq(&container["args"])
            .iter()
            .filter_map(|a| {
                a.as_str()?
                    .strip_prefix("--uvicorn-opts=--timeout-graceful-shutdown ")
            })
            .find_map(|n| n.parse().ok())
            .ok_or("no graceful timeout in the server's args")?;
        let volumes = self.pod_volumes_in(r, pod, tag)?;
        // The database is migrated; the pod's credential files are its own.
        let steps = seq(&pod["initContainers"]);
        let files = steps.iter().find(|c| c["name"] == "credential-files");
        let cmd = self.command_in(
            r,
            files.ok_or("no credential-files step")?,
            &volumes.mounts,
            &volumes.writable,
        )?;
        let log = self.path(&format!("{tag}-credential-files.log"));
        run_with_deadline("credential-files", cmd, &log, Duration::from_secs(60))?;
        let (cmd, port) = self.server_in(r, pod, &volumes)?;
        let mut server = Process::start(
            "mlflow server (drain)",
            cmd,
            self.path(&format!("{tag}.log")),
        );
        server.wait_for_port(port, Duration::from_secs(120));
        Ok(Draining {
            server,
            port,
            after_sigterm: Duration::from_secs(after),
            graceful,
        })
    }

    pub(super) fn drain(&mut self) -> Result<String, String> {
        let mut d = self.start_draining(self.rendered(), "drain")?;
        let mut upload = half_upload(d.port)?;
        let stopped_at = Instant::now();
        d.server.terminate();
        std::thread::sleep(Duration::from_secs(3));
        if let Some(status) = d.server.try_wait() {
            return Err(format!(
                "the server exited ({status}) with an upload in flight"
            ));
        }
        if TcpStream::connect(("127.0.0.1", d.port)).is_ok() {
            return Err("a draining server still accepts connections".into());
        }
        upload
            .write_all(&vec![b'x'; BODY / 2])
            .map_err(|e| e.to_string())?;
        let mut answer = Vec::new();
        let _ = upload.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        let status = answer.lines().next().unwrap_or_default().to_owned();
        if !status.contains(" 200 ") {
            return Err(format!(
                "the upload in flight got {status:?}:\n{}",
                d.server.tail()
            ));
        }
        let exited = exits_within(&mut d.server, stopped_at, d.after_sigterm)?;
        let stalled = self.stalled_upload_is_cut()?;
        Ok(format!(
            "{status}; exited {exited:.1} s after SIGTERM; {stalled}"
        ))
    }

    /// With the Ingress waiting 4 s, a stalled upload holds the server 4 s.
    fn stalled_upload_is_cut(&self) -> Result<String, String> {
        let spec = SPEC
            .replace(
                "  host: mlflow.example.com\n",
                "  host: mlflow.example.com\n  readTimeoutSeconds: 4\n  sendTimeoutSeconds: 4\n",
            )
            .replace(
                "MODEL",
                "storageUri: s3://mlflow/0/models/m-placeholder/artifacts",
            );
        let r = Rendered::new(render_spec(&spec, &[])?);
        let mut d = self.start_draining(&r, "drain-stalled")?;
        if d.graceful != 4 {
            return Err(format!(
                "a 4 s Ingress gave a graceful timeout of {} s",
                d.graceful
            ));
        }
        let _stalled = half_upload(d.port)?;
        let stopped_at = Instant::now();
        d.server.terminate();
        let limit = Duration::from_secs(d.graceful + 6).min(d.after_sigterm);
        let exited = exits_within(&mut d.server, stopped_at, limit)?;
        Ok(format!(
            "a stalled upload held it {exited:.1} s (graceful {} s)",
            d.graceful
        ))
    }
}

/// An artifact upload with half its body sent.
fn half_upload(port: u16) -> Result<TcpStream, String> {
    let mut upload = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    upload
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "PUT /api/2.0/mlflow-artifacts/artifacts/drain/blob HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {BODY}\r\n\r\n"
    );
    upload
        .write_all(head.as_bytes())
        .map_err(|e| e.to_string())?;
    upload
        .write_all(&vec![b'x'; BODY / 2])
        .map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_secs(1));
    Ok(upload)
}

/// Seconds from `since` until the server exits, or an error past `limit`.
fn exits_within(server: &mut Process, since: Instant, limit: Duration) -> Result<f64, String> {
    while server.try_wait().is_none() {
        if since.elapsed() > limit {
            return Err(format!(
                "still running {limit:?} after SIGTERM:\n{}",
                server.tail()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(since.elapsed().as_secs_f64())
}
