//! Every class of bad input: a clear message that says where (file, line,
//! field path), exit code 1, and nothing at all on stdout.

mod common;
use common::mlk;

/// Each fixture in `fixtures/spec-errors/` is one failure mode; its first
/// line says what stderr must contain after the file's path.
#[test]
fn each_spec_error_fixture_fails_where_it_says() {
    let dir = common::fixtures().join("fixtures/spec-errors");
    let (mut checked, mut wrong) = (0, Vec::new());
    for entry in std::fs::read_dir(&dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{name}: first line must be `# expect: ...`"));
        let rel = format!("fixtures/spec-errors/{name}");
        let run = mlk(&["render", "-f", &rel])
            .env("PG_PASSWORD", "x")
            .env("EMPTY_PW", "")
            .run()
            .failed();
        let want = format!("error: fixtures/spec-errors/{expect}");
        if !run.stderr.contains(&want) {
            wrong.push(format!("{name}:\n want: {want}\n got:  {}", run.stderr));
        }
        assert!(
            !run.stderr.contains("hunter2") && !run.stderr.contains("$2y$"),
            "{name} leaked a secret: {}",
            run.stderr
        );
        checked += 1;
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked >= 20, "only {checked} fixtures found");
}

fn render_fails_with(args: &[&str], want: &str) {
    let run = mlk(args).run().failed();
    assert!(
        run.stderr.contains(want),
        "want {want:?} in:\n{}",
        run.stderr
    );
}

#[test]
fn set_errors_name_the_set() {
    render_fails_with(
        &["render", "--set", "tracking.replicas=abc"],
        "error: --set tracking.replicas: invalid type: string \"abc\", expected a whole number from 0 to 2147483647",
    );
    render_fails_with(
        &["render", "--set", "tracking.replica=3"],
        "error: --set tracking.replica: unknown field `replica`",
    );
    render_fails_with(
        &["render", "--set", "tracking.replicas"],
        "--set takes path=value",
    );
    render_fails_with(
        &["render", "--set", "database.external.port=6432"],
        "error: --set database.external.port: database.external.host: is required",
    );
}

#[test]
fn missing_files_and_profiles() {
    render_fails_with(
        &["render", "-f", "no-such.yaml"],
        "error: no-such.yaml: cannot read the spec file",
    );
    render_fails_with(
        &["render", "--profile", "staging"],
        "error: staging: not a built-in profile (dev, prod, ha) and not a readable profile file",
    );
}

#[test]
fn prod_refuses_the_public_development_key() {
    render_fails_with(
        &["render", "--profile", "prod"],
        "database.embedded.password: `generate: true` needs MLK_SECRET_KEY, and the prod profile does not fall back",
    );
}

#[test]
fn a_short_secret_key_is_refused_without_being_shown() {
    let run = mlk(&["render"])
        .env("MLK_SECRET_KEY", "short-key-abc")
        .run()
        .failed();
    assert!(
        run.stderr.contains("MLK_SECRET_KEY is too short"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("short-key-abc"), "{}", run.stderr);
}

#[test]
fn an_empty_env_var_is_an_error() {
    let run = mlk(&[
        "render",
        "--set",
        "database.embedded.password.fromEnv=PG_PW",
    ])
    .env("PG_PW", "")
    .run()
    .failed();
    assert!(
        run.stderr
            .contains("environment variable PG_PW is empty (fromEnv)"),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_2_with_empty_stdout() {
    let run = mlk(&["render", "--output", "xml"]).run();
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
}
