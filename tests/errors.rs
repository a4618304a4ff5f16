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
        // What the person running mlk lets the fixtures read; the
        // runner's own token is set and not allowed.
        let allowed =
            "PG_PASSWORD,EMPTY_PW,MLK_TEST_UNSET_VAR,MLK_TEST_UNSET_PG,MLK_TEST_UNSET_MINIO";
        let run = mlk(&["render", "-f", &rel])
            .env("PG_PASSWORD", "x")
            .env("EMPTY_PW", "")
            .env_unallowed("GITHUB_TOKEN", "ghs_hunter2")
            .env_unallowed("MLK_ALLOW_ENV", allowed)
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
        "error: --set tracking.replicas: invalid type: a string of 3 characters, expected a whole number from 0 to 2147483647",
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
        run.stderr.contains("MLK_SECRET_KEY: is too short"),
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

/// One run names every mistake, each at its own line, and counts them.
#[test]
fn every_spec_error_is_reported_in_one_run() {
    let run = mlk(&["render", "-f", "fixtures/spec-errors/five-mistakes.yaml"])
        .run()
        .failed();
    let f = "error: fixtures/spec-errors/five-mistakes.yaml";
    let want = [
        format!("{f}:6:3: tracking.replica: unknown field `replica`; did you mean `replicas`?"),
        format!("{f}:7: tracking.workers: workers must be between 1 and 64, not -1"),
        format!(
            "{f}:9: tracking.autoscaling.minReplicas: invalid type: a string of 4 characters, expected a whole number from 0 to 2147483647"
        ),
        format!(
            "{f}:11: ingress.enabled: invalid type: a string of 3 characters, expected a boolean"
        ),
        format!(
            "{f}:12: ingress.host: \"bad host\" is not a host name (lowercase DNS name) or an IPv4 address"
        ),
        "5 problems; fix them all, then render again".to_owned(),
    ];
    assert_eq!(run.stderr.lines().collect::<Vec<_>>(), want);
}

/// Every missing env var and file, not one per run.
#[test]
fn every_missing_env_var_and_file_is_reported_in_one_run() {
    let run = mlk(&["render", "-f", "fixtures/spec-errors/missing-env-vars.yaml"])
        .env_unallowed("MLK_ALLOW_ENV", "MLK_TEST_UNSET_PG,MLK_TEST_UNSET_MINIO")
        .run()
        .failed();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stderr);
    assert!(lines[0].ends_with(":7: database.embedded.password: environment variable MLK_TEST_UNSET_PG is not set (fromEnv)"));
    assert!(lines[1].ends_with(":11: artifacts.embedded.rootUser: environment variable MLK_TEST_UNSET_MINIO is not set (fromEnv)"));
    assert!(lines[2].contains(":12: artifacts.embedded.rootPassword: "));
    assert!(lines[2].ends_with("no-such-password.txt: does not exist (fromFile)"));
    assert_eq!(lines[3], "3 problems; fix them all, then render again");
}

/// A patch that breaks the platform is caught by validation and named.
#[test]
fn a_breaking_patch_is_reported_against_the_patch() {
    let spec = "apiVersion: mlk/v1alpha1\nkind: Platform\npatches:\n  - target: {kind: Deployment, name: mlflow-tracking}\n    merge: {spec: {selector: {matchLabels: {app.kubernetes.io/name: other}}}}\n";
    let run = mlk(&["render", "-f", "-"]).stdin(spec).run().failed();
    assert!(
        run.stderr
            .contains("(the platform after this patch fails validation)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "error: <stdin>:4: patches[0]: Deployment/mlflow/mlflow-tracking: spec.selector: does not match the labels"
        ),
        "{}",
        run.stderr
    );
    let json = "apiVersion: mlk/v1alpha1\nkind: Platform\npatches:\n  - target: {kind: Deployment, name: mlflow-tracking}\n    json: [{op: test, path: /spec/replicas, value: 7}]\n";
    let run = mlk(&["render", "-f", "-"]).stdin(json).run().failed();
    assert!(
        run.stderr
            .contains("patches[0].json: operation '/0' failed at path '/spec/replicas'"),
        "{}",
        run.stderr
    );
}
