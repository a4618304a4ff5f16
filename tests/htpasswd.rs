//! `mlk htpasswd`: lines that nginx and Apache's `htpasswd` accept, and
//! errors that never show a password or a hash.

mod common;
use common::{find, mlk};

use base64::Engine;
use std::path::Path;
use std::process::Command;

const HTPASSWD: &str = "/usr/bin/htpasswd";

fn line_for(user: &str, password: &str) -> String {
    let run = mlk(&["htpasswd", "--cost", "4", user])
        .stdin(&format!("{password}\n"))
        .run()
        .ok();
    let line = run.stdout.strip_suffix('\n').expect("one line").to_owned();
    assert!(!line.contains('\n'), "{line}");
    line
}

fn verify(file: &Path, user: &str, password: &str) -> common::Run {
    mlk(&["htpasswd", "--verify", file.to_str().unwrap(), user])
        .stdin(&format!("{password}\n"))
        .run()
}

#[test]
fn a_line_verifies_and_a_wrong_password_does_not() {
    let line = line_for("alice", "s3cret pass");
    assert!(line.starts_with("alice:$2y$04$"), "{line}");
    assert_eq!(line.len(), "alice:".len() + 60);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users");
    std::fs::write(&file, format!("{line}\n")).unwrap();

    let ok = verify(&file, "alice", "s3cret pass").ok();
    assert!(ok.stdout.is_empty());
    assert!(ok.stderr.contains("password for alice is correct"));

    let wrong = verify(&file, "alice", "hunter2").failed();
    assert!(wrong.stderr.contains("wrong password for alice"));
    let unknown = verify(&file, "bob", "hunter2").failed();
    assert!(unknown.stderr.contains("no user bob"));
    for run in [wrong, unknown] {
        assert!(!run.stderr.contains("hunter2") && !run.stderr.contains("$2y$"));
    }
}

#[test]
fn each_call_draws_a_fresh_salt_like_htpasswd() {
    assert_ne!(line_for("alice", "s3cret"), line_for("alice", "s3cret"));
}

#[test]
fn bad_input_is_refused_without_echoing_the_password() {
    let long = "hunter2".repeat(11); // 77 bytes: bcrypt would drop the tail
    let cases: [(&[&str], &str, &str); 5] = [
        (&["htpasswd", "alice"], "", "the password of alice is empty"),
        (&["htpasswd", "alice"], &long, "longer than 72 bytes"),
        (&["htpasswd", "al:ice"], "hunter2", "contains ':'"),
        (&["htpasswd", "--cost", "3", "alice"], "hunter2", "cost"),
        (&["htpasswd", "--cost", "13", "alice"], "hunter2", "cost"),
    ];
    for (args, password, want) in cases {
        let run = mlk(args).stdin(&format!("{password}\n")).run().failed();
        assert!(run.stderr.contains(want), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    }
}

#[test]
fn a_file_that_is_not_bcrypt_is_refused_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users");
    std::fs::write(&file, "alice:hunter2-plain\n").unwrap();
    let run = verify(&file, "alice", "hunter2-plain").failed();
    assert!(run.stderr.contains("line 1: not a bcrypt hash"));
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
}

fn apache_verifies(file: &Path, user: &str, password: &str) -> bool {
    Command::new(HTPASSWD)
        .args(["-vb", file.to_str().unwrap(), user, password])
        .output()
        .expect("Apache htpasswd runs (apt-get install apache2-utils)")
        .status
        .success()
}

/// Apache's own tool accepts what `mlk htpasswd` prints and what
/// `mlk render` puts in the auth Secret.
#[test]
#[ignore = "needs Apache's htpasswd (apache2-utils); run by .ci/run"]
fn apache_htpasswd_verifies_mlk_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users");
    std::fs::write(&file, format!("{}\n", line_for("alice", "s3cret pass"))).unwrap();
    assert!(apache_verifies(&file, "alice", "s3cret pass"));
    assert!(!apache_verifies(&file, "alice", "wrong"));

    let run = mlk(&["render", "-f", "specs/ingress-two-users.yaml"])
        .env("ALICE_PASSWORD", "alice-pw")
        .env("BOB_PASSWORD", "bob-pw")
        .key()
        .run()
        .ok();
    let docs = run.docs();
    let auth = find(&docs, "Secret", "mlflow-basic-auth")["data"]["auth"]
        .as_str()
        .unwrap();
    let auth = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .unwrap();
    std::fs::write(&file, auth).unwrap();
    assert!(apache_verifies(&file, "alice", "alice-pw"));
    assert!(apache_verifies(&file, "bob", "bob-pw"));
    assert!(!apache_verifies(&file, "bob", "alice-pw"));
}
