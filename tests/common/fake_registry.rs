//! A stand-in for MLflow's registry API, for answers a real server
//! cannot be made to give on demand.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

/// Answers every request with `answer(request line, headers)`.
pub fn registry(answer: fn(&str, &[String]) -> (u16, String)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || respond(stream, answer));
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn respond(mut stream: TcpStream, answer: fn(&str, &[String]) -> (u16, String)) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    reader.read_line(&mut request).unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        headers.push(line.trim().to_owned());
    }
    let (status, body) = answer(&request, &headers);
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A registry whose `champion` is version `V`, whose other versions
/// have runs, and whose models live at `mlflow-artifacts:/1/models/`.
pub fn champion<const V: u32>(request: &str, _: &[String]) -> (u16, String) {
    if request.contains("/registered-models/alias?") {
        return (
            200,
            format!(r#"{{"model_version": {{"version": "{V}", "run_id": "run{V}abc"}}}}"#),
        );
    }
    if request.contains("/model-versions/get?") {
        return (200, r#"{"model_version": {"run_id": "winerun5"}}"#.into());
    }
    let version = request.split("version=").nth(1).unwrap_or("0");
    let version: String = version.chars().take_while(char::is_ascii_digit).collect();
    let uri = format!("mlflow-artifacts:/1/models/m-{version}/artifacts");
    (200, format!(r#"{{"artifact_uri": "{uri}"}}"#))
}
