//! A run of mlk backs its heap's reserve with transparent huge pages
//! (src/cli/heap.rs), so that a large render is not a run of 4 KiB page
//! faults. Seen from outside, in the running process's memory map.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Whether some part of the heap is marked for huge pages (`hg`).
fn heap_has_huge_pages(smaps: &str) -> bool {
    let mut in_heap = false;
    for line in smaps.lines() {
        let range = line.split_whitespace().next().unwrap_or_default();
        if range.contains('-') && range.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            in_heap = line.ends_with("[heap]");
        } else if let Some(flags) = line.strip_prefix("VmFlags:")
            && in_heap
            && flags.split_whitespace().any(|f| f == "hg")
        {
            return true;
        }
    }
    false
}

#[test]
fn the_heap_reserve_asks_for_huge_pages() {
    if !Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
        eprintln!("skipped: this kernel has no transparent huge pages");
        return;
    }
    // mlk tunes its heap first, then waits on the spec from stdin, which
    // stays open until the map has been read.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlk"))
        .args(["render", "-f", "-"])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let smaps = format!("/proc/{}/smaps", child.id());
    let give_up = Instant::now() + Duration::from_secs(60);
    let mut seen = false;
    while !seen && Instant::now() < give_up {
        seen = heap_has_huge_pages(&std::fs::read_to_string(&smaps).unwrap_or_default());
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(seen, "no part of mlk's heap asks for huge pages");
}

/// Under a limit on address space with no room for the reserve, the
/// reserve is refused and a render that needs the heap to grow goes on
/// as it would without it.
#[test]
fn a_limit_too_small_for_the_reserve_still_renders() {
    let mlk = env!("CARGO_BIN_EXE_mlk");
    let dir = tempfile::tempdir().unwrap();
    let mut spec = String::from("apiVersion: mlk/v1alpha1\nkind: Platform\nserving:\n  models:\n");
    for i in 0..300 {
        let uri = format!("s3://mlflow/1/models/m-{i}/artifacts");
        spec += &format!("    - {{name: m{i}, registeredModel: m{i}, storageUri: \"{uri}\"}}\n");
    }
    std::fs::write(dir.path().join("platform.yaml"), spec).unwrap();
    // Room for mlk and a render (a debug build needs under 100 MiB), not
    // for a 256 MiB reserve.
    let limit_kib = 200 << 10;
    let script = format!("ulimit -v {limit_kib} && exec \"$0\" render -f platform.yaml");
    let out = Command::new("sh")
        .args(["-c", &script, mlk])
        .current_dir(dir.path())
        .env_clear()
        .env("MLK_SECRET_KEY", common::KEY)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("kind: InferenceService").count(), 300);
}

#[test]
fn the_reader_finds_the_flag_only_on_the_heap() {
    let map = "\
55d0c0000000-55d0c4000000 rw-p 00000000 00:00 0                          [heap]
Size:              65536 kB
VmFlags: rd wr mr mw me ac sd
55d0c4000000-55d0c8000000 rw-p 00000000 00:00 0                          [heap]
VmFlags: rd wr mr mw me ac sd hg
";
    assert!(heap_has_huge_pages(map));
    let elsewhere = "\
7f0000000000-7f0000200000 rw-p 00000000 00:00 0
VmFlags: rd wr mr mw me ac sd hg
55d0c0000000-55d0c4000000 rw-p 00000000 00:00 0                          [heap]
VmFlags: rd wr mr mw me ac sd
";
    assert!(!heap_has_huge_pages(elsewhere));
}
