//! A rollout drains: a second server from the rendered Deployment, sent
//! SIGTERM (as the kubelet does after the preStop sleep) while an
//! artifact upload is half sent. The upload completes, no new
//! connection is taken, and the server exits on its own, within the
//! grace period the Deployment gives it.

use std::io::{Read, Write};
use std::net::TcpStream;

use super::*;

/// The upload's size, sent in two halves around the SIGTERM.
const BODY: usize = 2 << 20;

impl Harness {
    pub(super) fn drain(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let pod = &r.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"];
        let grace = pod["terminationGracePeriodSeconds"]
            .as_u64()
            .ok_or("no grace period")?;
        let container = &pod["containers"][0];
        let pre_stop = &container["lifecycle"]["preStop"]["sleep"]["seconds"];
        let pre_stop = pre_stop.as_u64().ok_or("no preStop sleep")?;
        let volumes = self.pod_volumes_in(r, pod, "drain")?;
        // The database is migrated; the pod's credential files are its own.
        let steps = seq(&pod["initContainers"]);
        let files = steps.iter().find(|c| c["name"] == "credential-files");
        let files = files.ok_or("no credential-files step")?;
        let cmd = self.command_in(r, files, &volumes.mounts, &volumes.writable)?;
        let log = self.path("drain-credential-files.log");
        run_with_deadline("credential-files", cmd, &log, Duration::from_secs(60))?;
        let (cmd, port) = self.server_in(r, pod, &volumes)?;
        let mut server = Process::start("mlflow server (drain)", cmd, self.path("drain.log"));
        server.wait_for_port(port, Duration::from_secs(120));
        let mut upload = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        upload
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
        let head = format!(
            "PUT /api/2.0/mlflow-artifacts/artifacts/drain/blob HTTP/1.1\r\nHost: localhost\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: {BODY}\r\n\r\n"
        );
        let half = vec![b'x'; BODY / 2];
        upload
            .write_all(head.as_bytes())
            .map_err(|e| e.to_string())?;
        upload.write_all(&half).map_err(|e| e.to_string())?;
        std::thread::sleep(Duration::from_secs(1));
        let stopped_at = Instant::now();
        server.terminate();
        std::thread::sleep(Duration::from_secs(3));
        if let Some(status) = server.try_wait() {
            return Err(format!(
                "the server exited ({status}) with an upload in flight"
            ));
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Err("a draining server still accepts connections".into());
        }
        upload.write_all(&half).map_err(|e| e.to_string())?;
        let mut answer = Vec::new();
        let _ = upload.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        let status = answer.lines().next().unwrap_or_default().to_owned();
        if !status.contains(" 200 ") {
            return Err(format!(
                "the upload in flight got {status:?}:\n{}",
                server.tail()
            ));
        }
        let limit = Duration::from_secs(grace - pre_stop);
        while server.try_wait().is_none() {
            if stopped_at.elapsed() > limit {
                return Err(format!(
                    "still running {limit:?} after SIGTERM:\n{}",
                    server.tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(format!(
            "{status}; exited {:.1} s after SIGTERM (grace {grace} s, preStop {pre_stop} s)",
            stopped_at.elapsed().as_secs_f64()
        ))
    }
}
