//! A spec from a pull request, run on a shared CI runner: each attack
//! below was once a working reproducer. None may read a file outside the
//! spec's folder, print a secret, stall, crash or exhaust memory.

mod common;
use common::{KEY, mlk};

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HEAD: &str =
    "apiVersion: mlk/v1alpha1\nkind: Platform\nmetadata: {name: mlflow, namespace: mlflow}\n";

fn password_from(path: &str) -> String {
    format!("{HEAD}database:\n  embedded:\n    password: {{fromFile: {path:?}}}\n")
}

fn htpasswd_from(path: &str) -> String {
    format!(
        "{HEAD}ingress:\n  enabled: true\n  host: ml.example.com\n  auth:\n    htpasswdFile: {path:?}\n"
    )
}

/// Runs `mlk render -f DIR/platform.yaml ARGS` with an address-space cap
/// (so unbounded growth dies instead of passing) and a deadline (so a
/// stall fails the test instead of hanging it). Returns (exit code,
/// stderr).
fn render_in(dir: &Path, spec: &str, args: &[&str]) -> (i32, String) {
    std::fs::write(dir.join("platform.yaml"), spec).unwrap();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 1048576; exec \"$0\" render -f platform.yaml \"$@\"")
        .arg(env!("CARGO_BIN_EXE_mlk"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("MLK_SECRET_KEY", KEY)
        .env("RUNNER_TOKEN", "env-marker-4242")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("mlk stalled on {spec}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.stdout.is_empty() || out.status.success());
    let code = out.status.code().unwrap_or(-1);
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn refused(dir: &Path, spec: &str, args: &[&str], want: &str) -> String {
    let (code, err) = render_in(dir, spec, args);
    assert_eq!(code, 1, "exit {code}: {err}");
    assert!(err.contains(want), "want {want:?} in: {err}");
    for leak in ["root:", "env-marker-4242", KEY, "outside-marker"] {
        assert!(!err.contains(leak), "{leak} leaked: {err}");
    }
    err
}

#[test]
fn absolute_paths_outside_the_folder_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    refused(d, &password_from("/etc/shadow"), &[], "outside the folders");
    refused(d, &password_from("/etc/passwd"), &[], "--allow-file");
    refused(d, &password_from("/proc/self/environ"), &[], "outside");
    refused(d, &htpasswd_from("/proc/self/environ"), &[], "outside");
}

#[test]
fn dotdot_and_symlinks_cannot_leave_the_folder() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("secret"), "outside-marker\n").unwrap();
    let d = &outer.path().join("repo");
    std::fs::create_dir(d).unwrap();
    std::os::unix::fs::symlink("../secret", d.join("relative-link")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", d.join("absolute-link")).unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", d.join("sub/up")).unwrap();
    for path in [
        "../secret",
        "../../../../../../../etc/passwd",
        "sub/../../secret",
        "relative-link",
        "absolute-link",
        "sub/up/../secret",
    ] {
        refused(d, &password_from(path), &[], "leaves the folder");
        refused(d, &htpasswd_from(path), &[], "leaves the folder");
    }
}

#[test]
fn a_symlink_that_stays_inside_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("secrets")).unwrap();
    std::fs::write(d.join("secrets/pg"), "inside-value\n").unwrap();
    std::os::unix::fs::symlink("secrets/pg", d.join("pg")).unwrap();
    let (code, err) = render_in(d, &password_from("pg"), &[]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn only_the_runner_can_grant_more() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("granted"), "granted-value\n").unwrap();
    let d = &outer.path().join("repo");
    std::fs::create_dir(d).unwrap();
    let file = outer.path().join("granted");
    let spec = password_from(file.to_str().unwrap());
    refused(d, &spec, &[], "--allow-file");
    let (code, err) = render_in(d, &spec, &["--allow-file", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let folder = outer.path().to_str().unwrap();
    let (code, err) = render_in(d, &spec, &["--allow-file", folder]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_fifo_or_a_device_fails_at_once_without_reading() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fifo = d.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    refused(
        d,
        &password_from("fifo"),
        &[],
        "not a regular file (a FIFO)",
    );
    refused(
        d,
        &htpasswd_from("fifo"),
        &[],
        "not a regular file (a FIFO)",
    );
    for dev in ["/dev/urandom", "/dev/zero"] {
        let grant = ["--allow-file", dev];
        refused(
            d,
            &password_from(dev),
            &grant,
            "not a regular file (a device)",
        );
    }
    // No timing claim here: a stall fails render_in's deadline, growth its
    // address-space cap.
}

#[test]
fn a_file_past_the_cap_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let big = vec![b'a'; (1 << 20) + 1];
    std::fs::write(d.join("big"), big).unwrap();
    refused(d, &password_from("big"), &[], "larger than 1 MiB");
}

#[test]
fn an_htpasswd_file_is_never_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("users"), "outside-marker with spaces:x\n").unwrap();
    refused(d, &htpasswd_from("users"), &[], "line 1: not a user name");
    std::fs::write(d.join("users"), "outside-marker:plaintext\n").unwrap();
    refused(d, &htpasswd_from("users"), &[], "line 1: not a bcrypt hash");
    let line = "outside-marker:$2y$05$abcdefghijklmnopqrstuuD3E5SZx0R7V5jZ4Lh2Lzb6t9y0D5K6O\n";
    std::fs::write(d.join("users"), line.repeat(2)).unwrap();
    refused(d, &htpasswd_from("users"), &[], "listed twice");
}

#[test]
fn a_spec_that_is_a_symlink_out_of_its_folder_is_not_read() {
    let outer = tempfile::tempdir().unwrap();
    let d = &outer.path().join("repo");
    std::fs::create_dir(d).unwrap();
    std::fs::write(outer.path().join("secret"), "outside-marker: [1\n").unwrap();
    std::os::unix::fs::symlink("../secret", d.join("spec.yaml")).unwrap();
    let run = mlk(&["render", "-f", "spec.yaml"]).dir(d).run().failed();
    assert!(run.stderr.contains("leaves the folder"), "{}", run.stderr);
    assert!(!run.stderr.contains("outside-marker"), "{}", run.stderr);
}

#[test]
fn a_set_path_of_17000_segments_is_an_error_not_a_crash() {
    let path = vec!["a"; 17_000].join(".");
    let run = mlk(&["render", "--set", &format!("{path}=1")])
        .run()
        .failed();
    assert!(run.stderr.contains("17000 segments"), "{}", run.stderr);
    // As deep as one argument can be (the kernel caps one at 128 KiB).
    let deep_value = format!(
        "tracking.extraArgs={}{}",
        "[".repeat(60_000),
        "]".repeat(60_000)
    );
    let run = mlk(&["render", "--set", &deep_value]).run().failed();
    assert!(
        run.stderr.contains("nests deeper than 128"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_spec_nested_100k_levels_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let n = 100_000;
    for nested in [
        format!("tracking: {}{}\n", "[".repeat(n), "]".repeat(n)),
        format!("tracking: {}\n", "{a: ".repeat(n) + &"}".repeat(n)),
        format!("tracking:\n{}\n", "- ".repeat(n)),
    ] {
        let spec = format!("{HEAD}{nested}");
        refused(dir.path(), &spec, &[], "nests deeper than 128 levels");
        let run = mlk(&["validate"]).stdin(&nested).run();
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("nests deeper than 128"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn counts_past_int32_are_refused_by_name() {
    for field in [
        "tracking.replicas",
        "tracking.autoscaling.maxReplicas",
        "tracking.autoscaling.minReplicas",
        "tracking.autoscaling.targetCpuPercent",
    ] {
        let run = mlk(&["render", "--set", &format!("{field}=4294967295")])
            .run()
            .failed();
        let want = format!("--set {field}: 4294967295 is out of range");
        assert!(run.stderr.contains(&want), "{}", run.stderr);
    }
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = render_in(dir.path(), &format!("\u{feff}{HEAD}"), &[]);
    assert_eq!(code, 0, "{err}");
    let stream = mlk(&["render"]).run().ok().stdout;
    let run = mlk(&["validate"]).stdin(&format!("\u{feff}{stream}")).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = mlk(&["render", "-f", "-"])
        .stdin(&format!("\u{feff}{HEAD}"))
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn validate_refuses_a_device_or_fifo_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("stream.yaml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for (path, why) in [
        (fifo.to_str().unwrap(), "a FIFO"),
        ("/dev/zero", "a device"),
    ] {
        let run = mlk(&["validate", path]).run();
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains(why), "{}", run.stderr);
    }
}

/// `copy` of an object into itself doubles it; sixty of them would need
/// 2^60 times the memory. Refused under the address-space cap, at once.
#[test]
fn a_json_patch_that_doubles_an_object_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let copies: String = (0..60)
        .map(|_| {
            "      - {op: copy, from: /spec, path: /spec/template/metadata/annotations/x}\n"
                .to_owned()
        })
        .collect();
    let spec = format!(
        "{HEAD}patches:\n  - target: {{kind: Deployment, name: mlflow-tracking}}\n    json:\n{copies}"
    );
    refused(dir.path(), &spec, &[], "patches[0].json: operation '/");
    let deep: String = (0..200)
        .map(|i| {
            format!(
                "      - {{op: copy, from: /metadata, path: /metadata/{}m}}\n",
                "m/".repeat(i)
            )
        })
        .collect();
    let spec = format!(
        "{HEAD}patches:\n  - target: {{kind: Deployment, name: mlflow-tracking}}\n    json:\n{deep}"
    );
    refused(dir.path(), &spec, &[], "levels");
}
