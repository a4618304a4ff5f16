//! mlk's table of `mlflow server` options (`src/mlflow.rs`) is the pinned
//! release's own: every option its `--help` lists, every spelling, and
//! the variable click reads each from. A release that adds an option,
//! say one that turns a protection off, fails here until the table says
//! what mlk makes of it.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::live::{python, venv_bin};
use mlk::mlflow::{SERVER_OPTIONS, VERSION};

fn help() -> String {
    let out = Command::new(venv_bin("mlflow"))
        .args(["server", "--help"])
        .env("NO_COLOR", "1")
        .output()
        .expect("mlflow runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("text")
}

/// The spellings in the option column of `--help`: `-h, --host HOST`,
/// `--serve-artifacts / --no-serve-artifacts`.
fn spellings(help: &str) -> BTreeSet<String> {
    let options = help
        .split("\nOptions:\n")
        .nth(1)
        .expect("an Options section");
    let mut out = BTreeSet::new();
    for line in options.lines().filter(|l| l.starts_with("  -")) {
        let column = line.trim_start().split("  ").next().unwrap_or_default();
        for word in column.split([',', ' ', '/']) {
            if word.starts_with('-') && word != "--help" {
                out.insert(word.to_owned());
            }
        }
    }
    out
}

#[test]
#[ignore = "needs the MLflow venv (scripts/install-test-deps.sh)"]
fn the_option_table_is_the_pinned_release_s_own() {
    let version = python("import mlflow; print(mlflow.__version__)", &[]);
    assert_eq!(
        version.trim(),
        VERSION,
        "the venv's MLflow is not the pinned one"
    );

    let listed = spellings(&help());
    let ours: BTreeSet<String> = SERVER_OPTIONS
        .iter()
        .flat_map(|o| o.flags.iter().map(|f| (*f).to_owned()))
        .collect();
    assert!(listed.len() > 20, "read too few options: {listed:?}");
    assert_eq!(
        listed.difference(&ours).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "`mlflow server --help` lists options src/mlflow.rs does not"
    );
    assert_eq!(
        ours.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "src/mlflow.rs lists options the release does not have"
    );

    // The variable each option is read from, from click itself.
    let env = python(
        "from mlflow.cli import server\n\
         for p in server.params:\n\
         \x20   print(p.opts[0], p.envvar or '')",
        &[],
    );
    for line in env.lines() {
        let (flag, var) = line.split_once(' ').expect("flag and variable");
        let option = SERVER_OPTIONS
            .iter()
            .find(|o| o.flags[0] == flag)
            .unwrap_or_else(|| panic!("{flag} is not the first spelling of any option"));
        assert_eq!(option.env.unwrap_or(""), var, "the variable of {flag}");
    }
}

/// The default image installs MLflow with `IMAGE_EXTRAS`; the pinned
/// release's metadata says those extras bring every client the
/// platform's processes import (psycopg, each store's client), so the
/// default image serves every store mlk renders.
#[test]
#[ignore = "needs the MLflow venv (scripts/install-test-deps.sh)"]
fn the_default_image_carries_every_store_s_client() {
    let requires = python(
        "import importlib.metadata as m\n\
         for r in m.requires('mlflow'):\n\
         \x20   print(r)",
        &[],
    );
    for (dist, what) in mlk::mlflow::IMAGE_CARRIES {
        let brought = requires.lines().any(|r| {
            let name = r.split([' ', ';', '<', '>', '=', '[', '!', '~']).next();
            name == Some(dist)
                && mlk::mlflow::IMAGE_EXTRAS
                    .iter()
                    .any(|x| r.contains(&format!("extra == \"{x}\"")))
        });
        assert!(
            brought,
            "no extra of the image brings {dist} ({what}):\n{requires}"
        );
    }
}
