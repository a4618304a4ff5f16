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
    let chunked = head
        .lines()
        .any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_owned()
    };
    Ok(Answer { status, body })
}

/// A body sent in chunks (as Go's servers send one past a few KB): each
/// chunk's hex size line, the chunk, CRLF; a zero size ends it.
fn dechunk(mut rest: &str) -> Result<String, String> {
    let mut out = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").ok_or("a chunk without its size")?;
        let size = size.split(';').next().unwrap_or_default().trim();
        let n = usize::from_str_radix(size, 16).map_err(|e| format!("chunk size {size:?}: {e}"))?;
        if n == 0 {
            return Ok(out);
        }
        let chunk = after.get(..n).ok_or("a chunk shorter than its size")?;
        out.push_str(chunk);
        rest = after[n..]
            .strip_prefix("\r\n")
            .ok_or("a chunk without its CRLF")?;
    }
}

#[test]
fn chunks_are_joined() {
    assert_eq!(
        dechunk("4\r\n{\"a\"\r\n2\r\n:1\r\n1\r\n}\r\n0\r\n\r\n").unwrap(),
        "{\"a\":1}"
    );
}
