//! One HTTP/1.1 request over a plain socket, with the Host header of the
//! test's choosing: what a browser, nginx or Prometheus would send.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine;

pub struct Answer {
    pub status: u16,
    pub body: String,
}

pub fn get(
    port: u16,
    path: &str,
    host: &str,
    creds: Option<(&str, &str)>,
) -> Result<Answer, String> {
    let auth = creds.map_or(String::new(), |(u, p)| {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        format!("Authorization: Basic {token}\r\n")
    });
    send(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"),
    )
}

/// A POST of a JSON body, as a V2 inference client sends it.
pub fn post_json(port: u16, path: &str, body: &str) -> Result<Answer, String> {
    let len = body.len();
    send(
        port,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
             Content-Length: {len}\r\nConnection: close\r\n\r\n{body}"
        ),
    )
}

fn send(port: u16, request: &str) -> Result<Answer, String> {
    let mut s =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect {port}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    Ok(Answer {
        status,
        body: body.to_owned(),
    })
}
