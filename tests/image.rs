//! The container image's binary, short of a container engine: mlk built
//! for musl, as the Containerfile's build stage builds it, laid out in an
//! otherwise empty root as the final stage copies it, and run there as
//! the stage's user. No libc, no shell, no /etc, no writable folder: what
//! it prints must be what the usual build prints.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const TARGET: &str = "x86_64-unknown-linux-musl";

/// The final stage's user, the binary's place, and its entry point.
struct Stage {
    user: String,
    binary: String,
    entrypoint: Vec<String>,
    cmd: Vec<String>,
}

fn stage() -> Stage {
    let (mut user, mut binary) = (None, None);
    let (mut entrypoint, mut cmd) = (Vec::new(), Vec::new());
    for (word, rest) in common::containerfile::final_stage() {
        match word.as_str() {
            "USER" => user = Some(rest),
            "COPY" if rest.starts_with("--from=build ") => {
                binary = rest.split(' ').nth(2).map(str::to_owned);
            }
            "ENTRYPOINT" => entrypoint = serde_json::from_str(&rest).unwrap(),
            "CMD" => cmd = serde_json::from_str(&rest).unwrap(),
            _ => {}
        }
    }
    Stage {
        user: user.expect("USER"),
        binary: binary.expect("COPY --from=build"),
        entrypoint,
        cmd,
    }
}

/// `cargo build --target x86_64-unknown-linux-musl`, in a target folder
/// of its own (the test run holds the usual one); the dev profile, not
/// the Containerfile's `dist`, whose fat LTO changes no linking.
fn build() -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let target = Path::new(root).join("target/musl-check");
    let built = Command::new(env!("CARGO"))
        .args(["build", "--locked", "--target", TARGET, "--target-dir"])
        .arg(&target)
        .current_dir(root)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&built.stderr);
    assert!(built.status.success(), "{stderr}");
    target.join(TARGET).join("debug/mlk")
}

/// Whether this machine can: the musl target installed, and root to
/// chroot. CI must (scripts/install-test-deps.sh installs the target).
fn can_build() -> bool {
    let out = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    };
    let musl = out("rustup", &["target", "list", "--installed"]).contains(TARGET);
    let root = out("id", &["-u"]).trim() == "0";
    if std::env::var("CI").is_ok() {
        assert!(musl, "no {TARGET}: scripts/install-test-deps.sh adds it");
        assert!(root, "chroot needs root");
    } else if !(musl && root) {
        eprintln!("skipped: needs the {TARGET} target (rustup) and root");
    }
    musl && root
}

/// `args` run in `root` as `user`, with no variable at all.
fn in_root(root: &Path, user: &str, args: &[String], stdin: &[u8]) -> Output {
    let mut cmd = Command::new("/usr/sbin/chroot");
    cmd.arg(format!("--userspec={user}")).arg(root).args(args);
    fed(cmd, stdin)
}

/// What `cmd` does with `stdin`, with no variable at all.
fn fed(mut cmd: Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
#[ignore = "builds mlk for musl and runs it under chroot as root; run by bash .ci/run"]
fn the_image_binary_runs_alone_as_its_user() {
    // The build stage builds for musl: that is what makes the binary
    // static, so the final stage needs no libc.
    if !can_build() {
        return;
    }
    let text = common::containerfile::text();
    assert!(text.contains("library/rust:") && text.contains("-alpine"));
    let stage = stage();
    let binary = build();

    let root = tempfile::tempdir().unwrap();
    let place = root.path().join(stage.binary.trim_start_matches('/'));
    std::fs::create_dir_all(place.parent().unwrap()).unwrap();
    std::fs::copy(&binary, &place).unwrap();
    // As the image holds it: root's, which its user may run, not write.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&place, std::fs::Permissions::from_mode(0o555)).unwrap();

    let run = |args: &[&str], stdin: &[u8]| {
        let mut all = stage.entrypoint.clone();
        all.extend(args.iter().map(|a| a.to_string()));
        in_root(root.path(), &stage.user, &all, stdin)
    };
    let usual = |args: &[&str], stdin: &[u8]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mlk"));
        cmd.args(args);
        fed(cmd, stdin)
    };

    // The image's default command.
    let cmd: Vec<&str> = stage.cmd.iter().map(String::as_str).collect();
    let help = run(&cmd, b"");
    assert!(help.status.success(), "{help:?}");
    assert!(String::from_utf8_lossy(&help.stdout).contains("render"));

    for args in [
        &["render"][..],
        &["render", "--profile", "ha", "--allow-dev-secrets"],
    ] {
        let image = run(args, b"");
        let stderr = String::from_utf8_lossy(&image.stderr);
        assert!(image.status.success(), "{args:?}: {stderr}");
        assert_eq!(image.stdout, usual(args, b"").stdout, "{args:?}");
    }
    // The schemas are compiled in: validate reads nothing from disk.
    let rendered = usual(&["render"], b"").stdout;
    let validated = run(&["validate", "-"], &rendered);
    let stderr = String::from_utf8_lossy(&validated.stderr);
    assert!(validated.status.success(), "{stderr}");
    assert!(stderr.contains(" 0 problems"), "{stderr}");
    let version = run(&["--version"], b"");
    assert_eq!(version.stdout, usual(&["--version"], b"").stdout);
}
