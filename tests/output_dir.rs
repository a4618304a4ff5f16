//! `--output-dir` on a shared runner: whole, private and exclusive, even
//! while someone plants symlinks beside it or another render writes the
//! same folder. Every race below ran before as a reproducer that won.

mod common;
use common::mlk;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const FILES: [&str; 11] = common::OUTPUT_DIR_FILES;

fn render_into(dir: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_mlk"))
        .args(["render", "--output-dir"])
        .arg(dir)
        .env_clear()
        .env("MLK_SECRET_KEY", common::KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Every file there, none missing, each a private regular file in a
/// private folder.
fn assert_whole_and_private(dir: &Path) {
    assert_eq!(common::tree(dir), FILES, "{}", dir.display());
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir), 0o700, "{}", dir.display());
    for name in FILES {
        let path = dir.join(name);
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let folder = name.ends_with('/');
        assert_eq!(meta.is_dir(), folder, "{}", path.display());
        assert!(folder || meta.is_file(), "{}", path.display());
        let want = if folder { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), want, "{}", path.display());
    }
}

#[test]
fn files_holding_secrets_are_private() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let out = render_into(&dir).wait_with_output().unwrap();
    assert!(out.status.success());
    assert_whole_and_private(&dir);
    let secrets = std::fs::read_to_string(dir.join("secrets/secrets.yaml")).unwrap();
    assert!(secrets.contains("kind: Secret"));
}

/// Plants symlinks at every name beside the target, over and over, while
/// renders run: the old fixed staging name, the lock and the old-folder
/// name, each pointing at a decoy folder.
#[test]
fn planted_symlinks_never_redirect_a_render() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let decoy = tmp.path().join("decoy");
    std::fs::create_dir(&decoy).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let attacker = {
        let (stop, parent, decoy) = (stop.clone(), tmp.path().to_owned(), decoy.clone());
        std::thread::spawn(move || {
            let names = [".out.mlk-new", ".out.mlk-old", "out.tmp"];
            while !stop.load(Ordering::Relaxed) {
                for n in names {
                    let _ = std::os::unix::fs::symlink(&decoy, parent.join(n));
                }
                std::thread::yield_now();
            }
        })
    };
    for _ in 0..200 {
        let out = render_into(&dir).wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert_whole_and_private(&dir);
    }
    stop.store(true, Ordering::Relaxed);
    attacker.join().unwrap();
    assert!(
        names(&decoy).is_empty(),
        "written into the decoy: {:?}",
        names(&decoy)
    );
}

#[test]
fn a_planted_lock_symlink_is_refused_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("elsewhere");
    std::os::unix::fs::symlink(&target, tmp.path().join(".out.mlk-lock")).unwrap();
    let out = render_into(&tmp.path().join("out"))
        .wait_with_output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!target.exists(), "the lock symlink was followed");
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn concurrent_renders_take_turns_and_each_leaves_a_whole_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    for round in 0..60 {
        let children: Vec<_> = (0..4).map(|_| render_into(&dir)).collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "round {round}: {err}");
        }
        assert_whole_and_private(&dir);
    }
    let leftovers: Vec<String> = names(tmp.path())
        .into_iter()
        .filter(|n| n != "out" && n != ".out.mlk-lock")
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
}

fn fails_and_keeps(dir: &Path, extra: &[&str], want: &str) -> String {
    let mut args = vec!["render", "--output-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = mlk(&args).key().run().failed();
    assert!(
        run.stderr.contains(want),
        "want {want:?} in: {}",
        run.stderr
    );
    run.stderr
}

#[test]
fn a_file_the_user_added_is_never_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    render_into(&dir).wait_with_output().unwrap();
    std::fs::write(dir.join("notes.md"), "mine").unwrap();
    fails_and_keeps(&dir, &[], "holds files mlk did not write: notes.md");
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.md")).unwrap(),
        "mine"
    );
    // A file mlk wrote, swapped for a symlink, is not mlk's any more.
    std::fs::remove_file(dir.join("notes.md")).unwrap();
    std::fs::remove_file(dir.join("platform/seaweedfs.yaml")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", dir.join("platform/seaweedfs.yaml")).unwrap();
    fails_and_keeps(&dir, &[], "did not write: platform/seaweedfs.yaml");
}

#[test]
fn a_faked_marker_is_not_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    render_into(&real).wait_with_output().unwrap();
    let victim = tmp.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(victim.join("thesis.tex"), "years of work").unwrap();
    for marker in [".mlk-written", "kustomization.yaml"] {
        std::os::unix::fs::symlink(real.join(marker), victim.join(marker)).unwrap();
    }
    fails_and_keeps(&victim, &[], "not written by mlk");
    assert!(victim.join("thesis.tex").exists());
}

#[test]
fn the_spec_or_a_secret_file_inside_the_target_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    render_into(&dir).wait_with_output().unwrap();
    let spec: PathBuf = dir.join("platform.yaml");
    std::fs::write(&spec, "apiVersion: mlk/v1alpha1\nkind: Platform\n").unwrap();
    // The spec itself is a file mlk did not write, and this render's input.
    let err = fails_and_keeps(
        &dir,
        &["-f", spec.to_str().unwrap()],
        "which this render reads",
    );
    assert!(err.contains("platform.yaml"), "{err}");
    assert!(spec.exists());

    std::fs::remove_file(&spec).unwrap();
    std::fs::write(dir.join("pg-password"), "pw\n").unwrap();
    let outside = tmp.path().join("platform.yaml");
    let text = "apiVersion: mlk/v1alpha1\nkind: Platform\ndatabase:\n  embedded:\n    password: {fromFile: out/pg-password}\n";
    std::fs::write(&outside, text).unwrap();
    fails_and_keeps(
        &dir,
        &["-f", outside.to_str().unwrap()],
        "out/pg-password, which this render reads",
    );
    assert!(dir.join("pg-password").exists());
}

#[test]
fn a_symlinked_target_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    render_into(&real).wait_with_output().unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    fails_and_keeps(&link, &[], "is a symlink");
}

#[test]
fn a_folder_from_an_older_mlk_is_still_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    // Before the record file, one flat folder whose marked
    // kustomization.yaml said it all.
    std::fs::create_dir(&dir).unwrap();
    let k = "# Written by mlk: `mlk render --output-dir` replaces this folder whole.\n\
             apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
             resources:\n  - namespace.yaml\n  - secrets.yaml\n";
    std::fs::write(dir.join("kustomization.yaml"), k).unwrap();
    std::fs::write(dir.join("namespace.yaml"), "kind: Namespace\n").unwrap();
    std::fs::write(dir.join("secrets.yaml"), "kind: Secret\n").unwrap();
    let out = render_into(&dir).wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_whole_and_private(&dir);

    // A folder of today's layout whose record is gone (a checkout that
    // kept only what kustomize reads): its marked kustomizations say it.
    std::fs::remove_file(dir.join(".mlk-written")).unwrap();
    std::fs::remove_dir_all(dir.join("secrets")).unwrap();
    let out = render_into(&dir).wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_whole_and_private(&dir);
}

/// A full disk mid-write: the old folder stays whole and the staging
/// folder goes. Needs a small tmpfs of its own, so it runs where mount
/// namespaces are allowed (as root, as in CI), and says so otherwise.
#[test]
fn a_full_disk_leaves_the_old_folder_whole_and_no_staging() {
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    if !root {
        eprintln!("skipped: a tmpfs of its own needs root (CI has it)");
        return;
    }
    // $DIR is the small disk; $OUT (beside it) keeps what is compared.
    const SCRIPT: &str = r#"set -e
mount -t tmpfs -o size=256k tmpfs "$DIR"
MLK_SECRET_KEY="$KEY" "$MLK" render --output-dir "$DIR/out" 2>/dev/null
(cd "$DIR/out" && find . -type f | sort | xargs sha256sum) > "$OUT/before"
head -c 100000000 /dev/zero > "$DIR/fill" 2>/dev/null || true
if MLK_SECRET_KEY="$KEY" "$MLK" render --output-dir "$DIR/out" --set tracking.replicas=3 2>"$OUT/err"; then
  echo "rendered on a full disk"; exit 1
fi
(cd "$DIR/out" && find . -type f | sort | xargs sha256sum) | diff "$OUT/before" - || { echo "the old folder changed"; exit 1; }
if ls -A "$DIR" | grep -v -e '^out$' -e '^fill$' -e '^\.out\.mlk-lock$'; then
  echo "a staging folder was left behind"; exit 1
fi"#;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("disk");
    std::fs::create_dir(&dir).unwrap();
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "/bin/sh",
            "-c",
            SCRIPT,
        ])
        .env("DIR", &dir)
        .env("OUT", tmp.path())
        .env("KEY", common::KEY)
        .env("MLK", env!("CARGO_BIN_EXE_mlk"))
        .output()
        .unwrap();
    let err = std::fs::read_to_string(tmp.path().join("err")).unwrap_or_default();
    assert!(
        out.status.success(),
        "{}{}\nmlk: {err}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(err.contains("No space left on device"), "{err}");
}
