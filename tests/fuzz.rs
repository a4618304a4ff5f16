//! A bounded fuzz run, the same cases on every run: spec parsing and the
//! whole render pipeline, `--set`, and `mlk validate`, each fed inputs
//! made from YAML's own tokens and from mutations of real specs and
//! manifests. Every input must give a result or an error: no panic, and
//! no abort (a stack overflow would end this test binary). More cases:
//! `MLK_FUZZ_CASES=100000 cargo test --release --test fuzz`.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use mlk::layers::{Inputs, SetExpr};
use mlk::pipeline::render_platform;
use mlk::validate::{Catalog, External, Level};

/// xorshift64*: no dependency, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ",",
    ": ",
    "- ",
    "? ",
    "\n",
    "\n  ",
    "\n    ",
    " ",
    "\t",
    "#",
    "'",
    "\"",
    "\\",
    "|",
    ">",
    "&a ",
    "*a",
    "!!str ",
    "!x ",
    "---\n",
    "...\n",
    "<<: ",
    "~",
    "null",
    "yes",
    "0777",
    "1_000",
    "-1",
    "4294967295",
    "1e999",
    "0x1F",
    ".inf",
    "\u{feff}",
    "\u{85}",
    "é",
    "\0",
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "tracking",
    "replicas",
    "database",
    "embedded",
    "password",
    "fromEnv",
    "fromFile",
    "generate",
    "value",
    "serving",
    "models",
    "ingress",
    "auth",
    "users",
    "htpasswdFile",
    "Service",
    "Pod",
    "spec",
    "selector",
    "ports",
    "containers",
    "template",
    "labels",
    "v1",
    "Secret",
    "data",
    "stringData",
    "NetworkPolicy",
    "podSelector",
];

fn soup(rng: &mut Rng) -> String {
    (0..rng.below(80)).map(|_| *rng.pick(TOKENS)).collect()
}

/// A seed with a few edits on character boundaries.
fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(5) {
            0 => {
                let end = (at + rng.below(40)).min(chars.len());
                chars.drain(at..end);
            }
            1 => {
                let end = (at + rng.below(40)).min(chars.len());
                let copy: Vec<char> = chars[at..end].to_vec();
                chars.splice(at..at, copy);
            }
            2 => chars
                .splice(at..at, rng.pick(TOKENS).chars())
                .for_each(drop),
            3 => {
                let n = rng.below(300);
                let open = *rng.pick(&["[", "{a: ", "- ", "\n "]);
                chars.splice(at..at, open.repeat(n).chars()).for_each(drop);
            }
            _ => chars.truncate(at),
        }
    }
    chars.into_iter().collect()
}

fn cases() -> usize {
    std::env::var("MLK_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000)
}

fn seeds(dir: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root.join(dir)).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            out.push(std::fs::read_to_string(path).unwrap());
        }
    }
    out.sort();
    out
}

/// One case in four is token soup; the rest mutate a seed.
fn input(rng: &mut Rng, i: usize, seeds: &[String]) -> String {
    if i.is_multiple_of(4) {
        return soup(rng);
    }
    let seed = rng.pick(seeds).clone();
    mutate(rng, &seed)
}

/// Runs `f`; a panic fails the test with the input that caused it.
fn survives(what: &str, input: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        panic!("{what} panicked on input:\n{input:?}");
    }
}

#[test]
fn specs_render_or_fail_cleanly() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut specs = seeds("examples");
    specs.extend(seeds("tests/fixtures/spec-errors"));
    let catalog = Catalog::builtin();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("platform.yaml");
    let vars = BTreeMap::from([("MLK_SECRET_KEY".to_owned(), "k".repeat(40))]);
    for i in 0..cases() {
        let text = input(&mut rng, i, &specs);
        std::fs::write(&file, &text).unwrap();
        let inputs = Inputs {
            file: Some(&file),
            profile: Some(["dev", "prod", "ha"][i % 3]),
            sets: &[],
        };
        survives("render", &text, || {
            let _ = render_platform(
                &inputs,
                vars.clone(),
                &catalog,
                &Default::default(),
                &Default::default(),
            );
        });
    }
}

#[test]
fn set_expressions_apply_or_fail_cleanly() {
    let mut rng = Rng(0xd1b5_4a32_d192_ed03);
    let base: serde_yaml::Value = serde_yaml::from_str("tracking: {replicas: 1}\n").unwrap();
    let paths = [
        "tracking.replicas",
        "a.b[0].c",
        "x\\.y",
        "[3]",
        "a..b",
        "a[",
        "a[99999999999]",
    ];
    for _ in 0..cases() * 4 {
        let path = match rng.below(3) {
            0 => rng.pick(&paths).to_string(),
            1 => vec!["a"; rng.below(200)].join("."),
            _ => soup(&mut rng).replace('=', ""),
        };
        let expr = format!("{path}={}", soup(&mut rng));
        let as_string = rng.below(2) == 0;
        survives("--set", &expr, || {
            if let Ok(set) = SetExpr::parse(&expr, as_string) {
                let mut value = base.clone();
                let _ = set.apply(&mut value);
            }
        });
    }
}

#[test]
fn manifest_streams_validate_or_fail_cleanly() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut streams = seeds("tests/fixtures/manifests/valid");
    streams.extend(seeds("tests/fixtures/manifests/invalid"));
    let catalog = Catalog::builtin();
    for i in 0..cases() {
        let text = input(&mut rng, i, &streams);
        survives("validate", &text, || {
            match mlk::manifest::parse_stream(&text, "input") {
                Ok(docs) => {
                    let _ = mlk::validate::validate(
                        &docs,
                        &catalog,
                        &External::default(),
                        Level::Restricted,
                    );
                }
                // Debug builds read text in mlk's own shape twice, by its
                // fast reader and by serde_yaml and yaml11; they must agree.
                Err(e) => assert!(
                    !e.contains("but serde_yaml reads") && !e.contains("but yaml11 finds"),
                    "{e}"
                ),
            }
        });
    }
}
