//! The rendered auth Secret and Ingress annotations, proven against a real
//! nginx (Debian's) on 127.0.0.1: the same htpasswd file, body size and
//! timeouts as the manifest gives ingress-nginx.
//!
//! Ignored by a plain `cargo test`: it needs nginx. `bash .ci/run`
//! installs it and runs these with `--include-ignored`.

mod common;
use common::live::nginx;
use common::{find, mlk};

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use base64::Engine;

const TWO_MB: usize = 2 * 1024 * 1024;

/// An upstream that answers 200 with the number of body bytes it read.
fn upstream() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve_one(stream));
        }
    });
    port
}

fn serve_one(mut s: TcpStream) {
    let (head, mut body) = read_head(&mut s);
    let len = content_length(&head);
    while body.len() < len {
        let mut buf = [0u8; 65536];
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    let text = format!("received {} bytes", body.len());
    let _ = write!(
        s,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

fn read_head(s: &mut TcpStream) -> (String, Vec<u8>) {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..i]).into_owned();
            return (head, data[i + 4..].to_vec());
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return (String::from_utf8_lossy(&data).into_owned(), Vec::new()),
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

/// Sends one request and returns the status code.
fn status(port: u16, creds: Option<(&str, &str)>, body: usize) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let auth = creds.map_or(String::new(), |(u, p)| {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        format!("Authorization: Basic {token}\r\n")
    });
    let method = if body > 0 { "POST" } else { "GET" };
    write!(
        s,
        "{method} /api/2.0/mlflow-artifacts/artifacts/model.bin HTTP/1.1\r\nHost: mlflow.example.com\r\n{auth}\
         Content-Length: {body}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    // nginx may answer (401, 413) before reading the body; a reset then is fine.
    let _ = s.write_all(&vec![b'x'; body]);
    let (head, _) = read_head(&mut s);
    head.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"))
}

fn rendered(extra: &[&str]) -> (serde_yaml::Value, Vec<u8>) {
    let mut args = vec!["render", "-f", "specs/ingress-two-users.yaml"];
    args.extend_from_slice(extra);
    let run = mlk(&args)
        .env("ALICE_PASSWORD", "alice: correct horse")
        .env("BOB_PASSWORD", "b0b's $ecret")
        .run()
        .ok();
    let docs = run.docs();
    let ingress = find(&docs, "Ingress", "mlflow-tracking")["metadata"]["annotations"].clone();
    let secret = find(&docs, "Secret", "mlflow-basic-auth");
    let auth = base64::engine::general_purpose::STANDARD
        .decode(secret["data"]["auth"].as_str().unwrap())
        .unwrap();
    (ingress, auth)
}

#[test]
#[ignore = "needs nginx; run by bash .ci/run"]
fn only_listed_users_pass_and_large_uploads_do_not_get_413() {
    let (annotations, auth) = rendered(&[]);
    let server = nginx(&annotations, &auth, upstream());
    let p = server.port;
    assert_eq!(status(p, None, 0), 401, "no credentials");
    assert_eq!(
        status(p, Some(("alice", "alice: correct horse")), 0),
        200,
        "alice"
    );
    assert_eq!(status(p, Some(("bob", "b0b's $ecret")), 0), 200, "bob");
    assert_eq!(
        status(p, Some(("alice", "b0b's $ecret")), 0),
        401,
        "alice with bob's password"
    );
    assert_eq!(
        status(p, Some(("mallory", "alice: correct horse")), 0),
        401,
        "an unknown user"
    );
    assert_eq!(
        status(p, Some(("alice", "alice: correct horse")), TWO_MB),
        200,
        "a 2 MB upload"
    );
    assert_eq!(
        status(p, None, TWO_MB),
        401,
        "an upload without credentials"
    );
}

/// The control: with nginx's usual 1m limit the same upload fails, so the
/// passing upload above is the rendered annotation's doing. Either field
/// sets the limit: `tracking.maxArtifactSize` (which sizes the server's
/// /tmp too) or `ingress.bodySize`.
#[test]
#[ignore = "needs nginx; run by bash .ci/run"]
fn a_small_body_size_gives_413() {
    for set in ["ingress.bodySize=1m", "tracking.maxArtifactSize=1Mi"] {
        let (annotations, auth) = rendered(&["--set", set]);
        let server = nginx(&annotations, &auth, upstream());
        let alice = Some(("alice", "alice: correct horse"));
        assert_eq!(status(server.port, alice, TWO_MB), 413, "{set}");
        assert_eq!(status(server.port, alice, 512 * 1024), 200, "{set}");
    }
}
