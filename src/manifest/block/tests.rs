use super::*;

fn serde(text: &str) -> Option<Vec<Value>> {
    let docs = serde_yaml::Deserializer::from_str(text).map(serde::Deserialize::deserialize);
    let docs: Result<Vec<serde_yaml::Value>, _> = docs.collect();
    let docs = docs.ok()?.into_iter().map(Value::from);
    Some(docs.filter(|v| !v.is_null()).collect())
}

/// Every shape the templates write reads as serde_yaml reads it.
#[test]
fn reads_what_serde_yaml_reads() {
    let text = r#"---
a: 1
b:
  c: "x\"y\\z\/\u00e9\n\u0085"
  d: [ReadWriteOnce]
  d2: [/bin/sh, -c, "echo \"$A\"", -1, 2]
  e: {}
  f: []
  g: !mlk 3
list:
  - name: tmp
    mountPath: /tmp
  - plain words here
  -
    nested: true
  - - inner
    - 0
indentless:
- a
- b: c
  d: ~
empty:
zero: 0
float: 0.5
quoted-key-like: "a: b # c"
script: |
  #!/bin/sh
  # a comment in the script

    indented more
  last: line
flow: {name: m1, uri: "s3://b/1/m", n: 3, y: yes, on: -1}
flows:
  - {name: a, registeredModel: b}
  - {}
stripped: |-
  no break at the end
description: >-
  One replica of everything, folded
  into one line: a laptop cluster.
folded: >
  kept break


after:
  - |
    item
  - key: |-
      under a compact key
    next: 1
# a comment
---

---
  deep: yes
"#;
    assert_eq!(read(text), serde(text));
    assert!(read(text).is_some());
}

/// Anything past the subset is left to serde_yaml, never misread;
/// and whatever serde_yaml refuses, it refuses too.
#[test]
fn never_misreads() {
    for text in [
        "a: b: c\n",
        "a: 'single'\n",
        "a: |\n  block\n",
        "a: &x 1\nb: *x\n",
        "a: 1\na: 2\n",
        "a: {b: 1}\n",
        "a: x # comment\n",
        "\"k\": 1\n",
        "a:\n    b: 1\n  c: 2\n",
        "a: 1 \n",
        "a:\tb\n",
        "a: \"\\x41\"\n",
        "a: \"\\ud800\"\n",
        "a: \"open\n",
        "a: \"done\" after\n",
        "a: \u{e9}\n",
        "--- a\n",
        "a: ...\n",
        "a: !tag x\n",
        "a: 007\n",
        "- a\nb: 1\n",
        "a:\n  - x\n  b: 1\n",
        "a: 1\n- b\n",
        "a:b\n",
        "a: \"\\u0000\"\n",
        "a: -1\nb: .inf\nc: 1e3\nd: 0x1F\ne: +1\n",
        "a: True\nb: NULL\nc: ''\n",
        "- - - x\n    - y\n  - z\n",
        "a: [x,y]\nb: [\"x\" , y]\nc: [a b]\nd: [-]\ne: [---]\nf: [x]]\n",
        "a: -\nb: ---\nc: -.5\nd: --\ne: --x\nf: ---x\ng: - -\n",
        "a: [x,, y]\n",
        "a: |\n  no final newline",
        "a: |-\n  x\n  no final newline",
        "a: [x, ]\n",
        "a: [, x]\n",
        "a: !mlk  3\n",
        "a: ! 3\n",
        "a: |\n\n  leading empty line\n",
        "a: |\n  x\n   \n  y\n",
        "a: |+\n  keep\n\n",
        "a: |2\n   x\n",
        "a: >\n  folded\n",
        "a: |\nb: 1\n",
        "a: |\n    x\n  b: 1\n",
        "- a: |\n  x\n",
        "- |\n x\n",
        "a: x |\n  y\n",
        "a: |\n  x\n---\nb: |-\n  y\n",
        "a: |\n  x \n",
        "a:\n  - b: |\n     x\n    c: 1\n",
        "a: yes\nb: [on, \"off\"]\nc:\n  - 0777\n  - d: 1_000\ny: 1\n",
        "a: {b: [], \"c\": 1}\n",
        "a: {b: c,d: e}\n",
        "a: {b: c, }\n",
        "a: {b: }\n",
        "a: {b: c, b: d}\n",
        "a: {b: c d}\n",
        "a: {b: http://x}\n",
        "a: {b: -, c: ...}\n",
        "a: {b: \"c: d\", e: \"}\"}\n",
        "a: {b: c}}\n",
        "a: >\n  x\n\n  y\n",
        "a: >\n  x\n    more\n  y\n",
        "a: >+\n  x\n\n",
        "a: >2\n   x\n",
        "a: >-\n  x\n  y\nb: >\n  z\n",
        "- >\n x\n",
        "a: {b: {c: d}}\n",
        "- {y: n, 1: 0777, a.b/c: 1_000}\n",
    ] {
        if let Some(ours) = read_with_traps(text) {
            assert_eq!(ours, serde_and_traps(text).unwrap(), "{text:?}");
        }
    }
}

/// What serde_yaml and `yaml11::plain_traps` make of `text`.
fn serde_and_traps(text: &str) -> Option<Vec<(Value, Vec<Trap>)>> {
    let docs = serde_yaml::Deserializer::from_str(text).map(serde::Deserialize::deserialize);
    let docs: Vec<serde_yaml::Value> = docs.collect::<Result<_, _>>().ok()?;
    let docs = docs.into_iter().map(Value::from);
    let traps = yaml11::plain_traps(text).ok()?;
    let both = docs.into_iter().zip(traps);
    Some(both.filter(|(v, _)| !v.is_null()).collect())
}

/// mlk's own output, changed a little at random (a line indented
/// differently, a token put in, a line doubled or dropped): each
/// variant is read as serde_yaml and `yaml11` read it, or left to them.
#[test]
fn changed_snapshots_are_never_misread() {
    const TOKENS: [&str; 19] = [
        " ", "  ", "- ", "|", "|-", "|+", "#", ": ", "\"", "'", "yes", "---", "\n", "!", "{a: b}",
        "{", ", ", ">", ">-",
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    let mut snapshots: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .map(|snap| snap.splitn(3, "---\n").nth(2).unwrap().to_owned())
        .collect();
    snapshots.sort();
    let mut seed: u64 = 0x11ce_b10c;
    let mut pick = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n.max(1)
    };
    let cases: usize = std::env::var("MLK_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1500);
    let mut read_some = 0;
    for _ in 0..cases {
        let text = &snapshots[pick(snapshots.len())];
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        // A window of a few lines around a change keeps each case small.
        let start = pick(lines.len());
        lines = lines.split_off(start);
        lines.truncate(1 + pick(40));
        for _ in 0..1 + pick(3) {
            let at = pick(lines.len());
            let line = &mut lines[at];
            match pick(5) {
                0 => line.insert_str(0, TOKENS[pick(2)]),
                1 => {
                    let cut = line.len().min(pick(3));
                    line.drain(..cut);
                }
                2 => {
                    let col = pick(line.len() + 1);
                    if line.is_char_boundary(col) {
                        line.insert_str(col, TOKENS[pick(TOKENS.len())]);
                    }
                }
                3 => {
                    let copy = line.clone();
                    lines.insert(at, copy);
                }
                _ => {
                    lines.remove(at);
                    if lines.is_empty() {
                        lines.push(String::new());
                    }
                }
            }
        }
        let text = lines.join("\n") + "\n";
        if let Some(ours) = read_with_traps(&text) {
            assert_eq!(Some(ours), serde_and_traps(&text), "{text:?}");
            read_some += 1;
        }
    }
    assert!(read_some > cases / 20, "only {read_some} of {cases} read");
}

/// mlk's own output, as its snapshots hold it, is read here: checking
/// it (`mlk validate`) never needs libyaml.
#[test]
fn reads_every_snapshot() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    let mut read_all = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let snap = std::fs::read_to_string(&path).unwrap();
        // insta's header is a YAML document of its own.
        let text = snap.splitn(3, "---\n").nth(2).unwrap();
        let ours = read_with_traps(text);
        assert!(ours.is_some(), "{} is not read", path.display());
        assert_eq!(ours, serde_and_traps(text), "{}", path.display());
        read_all += 1;
    }
    assert!(read_all >= 20, "only {read_all} snapshots");
}

/// Texts put together at random from the pieces templates use and
/// the ones just past them: each is read as serde_yaml reads it, or
/// left to serde_yaml.
#[test]
fn random_texts_are_never_misread() {
    const INDENTS: [&str; 4] = ["", "  ", "    ", " "];
    const HEADS: [&str; 5] = ["", "- ", "-", "- - ", "-  "];
    const KEYS: [&str; 8] = ["a", "b", "y", "1", "a.b/c", "\"k\"", "!mlk 0", "-k"];
    const SEPARATORS: [&str; 3] = [": ", ":", " : "];
    const VALUES: [&str; 31] = [
        "|\n  text\n\n  # more",
        "|-\n   a\n    b",
        "|\n-x",
        "x",
        "1",
        "007",
        "-1",
        "\"s\"",
        "\"a\\\"b\"",
        "{}",
        "[]",
        "[a, \"b\"]",
        "!mlk 1",
        "~",
        "true",
        "yes",
        "a: b",
        "a #c",
        "|",
        "'q'",
        "-x",
        "- y",
        "",
        "0.5",
        "[-c, 2]",
        "--x",
        "---",
        "{a: b, y: \"c\"}",
        "{n: 0777, \"q\": 1}",
        ">\n  a\n  b",
        ">-\n  x\n\n  y",
    ];
    let mut seed: u64 = 0x5eed;
    let mut pick = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n
    };
    let mut read_some = 0;
    for _ in 0..20000 {
        let mut text = String::new();
        for _ in 0..1 + pick(6) {
            match pick(12) {
                0 => text.push_str("---"),
                1 => text.push_str("# c"),
                _ => {
                    text.push_str(INDENTS[pick(4)]);
                    text.push_str(HEADS[pick(5)]);
                    if pick(3) > 0 {
                        text.push_str(KEYS[pick(8)]);
                        text.push_str(SEPARATORS[pick(3)]);
                    }
                    text.push_str(VALUES[pick(31)]);
                }
            }
            text.push('\n');
        }
        if let Some(ours) = read_with_traps(&text) {
            assert_eq!(Some(ours), serde_and_traps(&text), "{text:?}");
            read_some += 1;
        }
    }
    assert!(read_some > 500, "only {read_some} texts read");
}
