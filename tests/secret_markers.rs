//! Every error path that touches a secret or a tracking credential, run
//! with marked secrets: no marker may reach stderr (or stdout, since each
//! run fails).

mod common;
use common::fake_registry::registry;
use common::mlk;

/// Every secret a run below can see carries this.
const MARK: &str = "SECRET-MARK";

const HEAD: &str =
    "apiVersion: mlk/v1alpha1\nkind: Platform\nmetadata: {name: mlflow, namespace: mlflow}\n";

struct Case {
    name: &'static str,
    /// What stderr must say: the run failed where the case means it to.
    want: &'static str,
    key: String,
    spec: String,
    args: Vec<String>,
    files: Vec<(&'static str, String)>,
}

fn case(name: &'static str, want: &'static str, spec: &str) -> Case {
    Case {
        name,
        want,
        key: format!("{MARK}-a-key-long-enough-for-mlk-0123456789"),
        spec: format!("{HEAD}{spec}"),
        args: Vec::new(),
        files: Vec::new(),
    }
}

impl Case {
    fn args(mut self, args: &[&str]) -> Case {
        self.args = args.iter().map(|a| (*a).to_owned()).collect();
        self
    }

    fn key(mut self, key: &str) -> Case {
        self.key = key.to_owned();
        self
    }

    fn file(mut self, name: &'static str, text: &str) -> Case {
        self.files.push((name, text.to_owned()));
        self
    }
}

const MODEL: &str = "serving:\n  timeoutSeconds: 1\n  models:\n    - {name: churn, registeredModel: churn, alias: champion}\n";

fn echo(request: &str, headers: &[String]) -> (u16, String) {
    (400, format!("{request} {}", headers.join(" ")))
}

fn unauthorized(_: &str, _: &[String]) -> (u16, String) {
    (401, "no".into())
}

fn cases() -> Vec<Case> {
    let echo_uri = registry(echo);
    let refusing_uri = registry(unauthorized);
    let bad_field = "tracking:\n  replicas: -1\n";
    vec![
        case(
            "fromEnv, then a bad field",
            "tracking.replicas: -1 is out of range",
            &format!("database:\n  embedded:\n    password: {{fromEnv: PG_PW}}\n{bad_field}"),
        ),
        case(
            "fromFile, then a bad field",
            "tracking.replicas: -1 is out of range",
            &format!("database:\n  embedded:\n    password: {{fromFile: pw}}\n{bad_field}"),
        )
        .file("pw", &format!("{MARK}-file\n")),
        case(
            "a value in the spec, then a bad field",
            "tracking.replicas: -1",
            &format!(
                "database:\n  embedded:\n    password: {{value: {MARK}-literal}}\n{bad_field}"
            ),
        ),
        case(
            "a fromFile outside the folder",
            "outside the folders",
            "database:\n  embedded:\n    password: {fromFile: /proc/self/environ}\n",
        ),
        case(
            "an htpasswd file of secrets",
            "line 1: not a bcrypt hash",
            "ingress:\n  enabled: true\n  host: a.example.com\n  auth:\n    htpasswdFile: users\n",
        )
        .file(
            "users",
            &format!("{MARK}-user:{MARK}-pw\n{MARK} line two\n"),
        ),
        case(
            "a user password that is too long",
            "ingress.auth.users[0].password",
            &format!(
                "ingress:\n  enabled: true\n  host: a.example.com\n  auth:\n    users:\n      - {{name: alice, password: {{value: {}}}}}\n",
                format!("{MARK}-").repeat(20)
            ),
        ),
        case(
            "a secret given through --set, then a bad --set",
            "--set tracking.replicas",
            "",
        )
        .args(&[
            "--set",
            &format!("database.embedded.password.value={MARK}-set"),
            "--set",
            "tracking.replicas=-1",
        ]),
        case(
            "a too-short MLK_SECRET_KEY",
            "MLK_SECRET_KEY: is too short",
            "",
        )
        .key(&format!("{MARK}-short")),
        case(
            "credentials to a server that refuses them",
            "answered 401",
            MODEL,
        )
        .args(&[
            "--resolve",
            "--allow-insecure-tracking",
            "--tracking-uri",
            &refusing_uri,
        ]),
        case(
            "credentials to a server that echoes them",
            "answered 400",
            MODEL,
        )
        .args(&[
            "--resolve",
            "--allow-insecure-tracking",
            "--tracking-uri",
            &echo_uri,
        ]),
        case(
            "credentials over plain http",
            "--allow-insecure-tracking",
            MODEL,
        )
        .args(&["--resolve", "--tracking-uri", &echo_uri]),
        case(
            "credentials in a malformed URL",
            "the tracking URL holds credentials",
            MODEL,
        )
        .args(&[
            "--resolve",
            "--tracking-uri",
            &format!("HTTPS://ci:{MARK}@host"),
        ]),
        case("credentials to an unreachable server", "unreachable", MODEL).args(&[
            "--resolve",
            "--allow-insecure-tracking",
            "--tracking-uri",
            "http://127.0.0.1:9",
        ]),
        case(
            "a server the spec chose",
            "answered 400",
            &format!("{MODEL}  trackingUri: {echo_uri}\n"),
        )
        .args(&["--resolve", "--allow-insecure-tracking"]),
        case(
            "an admin password that is too short",
            "at least 12 characters",
            &format!(
                "tracking:\n  auth:\n    enabled: true\n    admin: {{password: {{value: {MARK}}}}}\n"
            ),
        ),
        case(
            "an admin password over two lines",
            "must be one line",
            &format!(
                "tracking:\n  auth:\n    enabled: true\n    admin: {{password: {{value: \"{MARK}-first\\n{MARK}-second-line\"}}}}\n"
            ),
        ),
        case(
            "an output folder that cannot be replaced",
            "which this render reads",
            "",
        )
        .args(&["--output-dir", "{dir}"]),
    ]
}

#[test]
fn no_secret_reaches_stderr_on_any_error_path() {
    for c in cases() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("platform.yaml"), &c.spec).unwrap();
        for (name, text) in &c.files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let here = dir.path().to_str().unwrap();
        let mut args = vec![
            "render".to_owned(),
            "-f".to_owned(),
            "platform.yaml".to_owned(),
        ];
        args.extend(c.args.iter().map(|a| a.replace("{dir}", here)));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = mlk(&args)
            .dir(dir.path())
            .env("MLK_SECRET_KEY", &c.key)
            .env("PG_PW", &format!("{MARK}-env"))
            .env("MLFLOW_TRACKING_USERNAME", &format!("{MARK}-user"))
            .env("MLFLOW_TRACKING_PASSWORD", &format!("{MARK}-password"))
            .run();
        assert_ne!(run.code, 0, "{}: expected a failure", c.name);
        assert!(run.stdout.is_empty(), "{}: stdout on error", c.name);
        assert!(
            run.stderr.contains(c.want),
            "{}: want {:?} in {}",
            c.name,
            c.want,
            run.stderr
        );
        assert!(!run.stderr.contains(MARK), "{}: {}", c.name, run.stderr);
        // The base64 of user:password, as the Authorization header has it.
        assert!(
            !run.stderr.contains("U0VDUkVU"),
            "{}: {}",
            c.name,
            run.stderr
        );
    }
}

#[test]
fn validate_does_not_quote_a_secrets_value() {
    let stream = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: s, namespace: \"x\"}}\nstringData:\n  a: yes\n  b: [{MARK}]\ndata:\n  c: \"{MARK}!\"\n"
    );
    let run = mlk(&["validate"]).stdin(&stream).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("stringData.a"), "{}", run.stdout);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(!all.contains(MARK), "{all}");
    assert!(!all.contains("\"yes\""), "{all}");
}
