//! `mlk validate`: one fixture per failure class in
//! `fixtures/manifests/invalid/`, each listing (`# expect: ...`) every
//! problem it must report and no other; the valid counterpart passes.
//! A fixture's `# args: ...` line gives flags before its path.

mod common;
use common::mlk;

fn expectations(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn each_invalid_fixture_reports_exactly_its_problems() {
    let dir = common::fixtures().join("fixtures/manifests/invalid");
    let (mut checked, mut wrong) = (0, Vec::new());
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let want = expectations(&std::fs::read_to_string(&path).unwrap());
        assert!(!want.is_empty(), "{name}: no `# expect:` line");
        let text = std::fs::read_to_string(&path).unwrap();
        let flags = text.lines().find_map(|l| l.strip_prefix("# args: "));
        let mut args = vec!["validate"];
        args.extend(flags.into_iter().flat_map(str::split_whitespace));
        args.push(path.to_str().unwrap());
        let run = mlk(&args).run();
        // Each problem names the file and line of its object.
        let file = format!("{}:", path.display());
        let got: Vec<&str> = run.stdout.lines().map(|l| located(l, &file)).collect();
        let all_found = want
            .iter()
            .all(|w| got.iter().any(|g| g.starts_with(w.as_str())));
        if run.code != 1 || got.len() != want.len() || !all_found {
            wrong.push(format!(
                "{name} (exit {}):\n want: {want:#?}\n got: {got:#?}",
                run.code
            ));
        }
        assert!(!run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"));
        checked += 1;
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked >= 25, "only {checked} fixtures");
}

/// `line` without its `FILE:LINE: ` prefix; as it is without one.
fn located<'a>(line: &'a str, file: &str) -> &'a str {
    let Some(rest) = line.strip_prefix(file) else {
        return line;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    match rest[digits..].strip_prefix(": ") {
        Some(problem) if digits > 0 => problem,
        _ => line,
    }
}

#[test]
fn the_valid_counterpart_passes() {
    let run = mlk(&["validate", "fixtures/manifests/valid/web.yaml"]).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("5 documents, 0 problems, 0 not checked")
    );
    // A route with Gateway API's standard timeouts.
    let route = "fixtures/manifests/valid/httproute-timeouts.yaml";
    let run = mlk(&["validate", route]).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn json_output_lists_every_problem() {
    let run = mlk(&[
        "validate",
        "-o",
        "json",
        "fixtures/manifests/invalid/own-selector-mismatch.yaml",
    ])
    .run();
    assert_eq!(run.code, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["documents"], 5);
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2);
    assert_eq!(problems[0]["object"], "Deployment/shop/web");
    assert_eq!(problems[0]["path"], "spec.selector");
}

const WIDGET: &str = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";

#[test]
fn an_unknown_kind_is_never_passed_silently() {
    let run = mlk(&["validate", "-"]).stdin(WIDGET).run();
    assert_eq!(run.code, 0);
    assert!(
        run.stderr
            .contains("warning: <stdin>:1: Widget/w: not checked"),
        "{}",
        run.stderr
    );
    let strict = mlk(&["validate", "--strict", "-"]).stdin(WIDGET).run();
    assert_eq!(strict.code, 1);
    assert!(strict.stdout.contains("Widget/w: not checked"));
}

#[test]
fn a_crd_checks_its_kind() {
    let crd = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: {type: integer, minimum: 1}
                color: {type: string, enum: [red, blue]}
"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crd.yaml");
    std::fs::write(&file, crd).unwrap();
    let doc = format!("{WIDGET}spec: {{size: 0, colour: red}}\n");
    let run = mlk(&["validate", "--crd", file.to_str().unwrap(), "-"])
        .stdin(&doc)
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "<stdin>:1: Widget/w: spec.size: 0 is less than the minimum, 1",
            "<stdin>:1: Widget/w: spec.colour: unknown field \"colour\"; did you mean \"color\"?",
        ]
    );

    // A folder of CRDs, nested, beside files that are not manifests.
    let folder = dir.path().join("crds");
    std::fs::create_dir_all(folder.join("example.com")).unwrap();
    std::fs::rename(&file, folder.join("example.com/widgets.yaml")).unwrap();
    std::fs::write(folder.join("README.md"), "not a manifest").unwrap();
    let run = mlk(&["validate", "--crd", folder.to_str().unwrap(), "-"])
        .stdin(&doc)
        .run();
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), lines);
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let run = mlk(&["validate", "--crd", empty.to_str().unwrap(), "-"])
        .stdin(&doc)
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("a folder without .yaml"),
        "{}",
        run.stderr
    );
}

#[test]
fn exists_declares_secrets_outside_the_stream() {
    let file = "fixtures/manifests/invalid/secret-missing.yaml";
    let run = mlk(&["validate", "--exists", "Secret/db", file]).run();
    assert_eq!(run.code, 0, "{}", run.stdout);
    // Declaring one makes the list complete: any other is an error.
    let run = mlk(&["validate", "--exists", "Secret/other", file]).run();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("no rendered Secret named \"db\""));
}

/// A reference outside the stream, with neither --exists nor --strict,
/// names an object the cluster is taken to hold: a warning that says how
/// to declare it, never a failure of mlk's own output.
#[test]
fn a_reference_outside_the_stream_is_an_assumption_until_declared() {
    let file = "fixtures/manifests/invalid/secret-missing.yaml";
    let run = mlk(&["validate", file]).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains(
            "warning: fixtures/manifests/invalid/secret-missing.yaml:3: Deployment/shop/web: \
             spec.template.spec.containers[0].env[1].valueFrom.\
         secretKeyRef.name: Secret \"db\" is not in the stream, so it must exist in the \
         cluster (--exists Secret/db says it does"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("1 references taken to exist in the cluster")
    );
    let run = mlk(&["validate", "-o", "json", file]).run();
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(report["assumed"][0]["object"], "Deployment/shop/web");
}

/// mlk's own output validates as it is, even where it names a Secret the
/// cluster holds (`existingSecret`); `--exists` makes it strict.
#[test]
fn own_output_with_an_existing_secret_validates_as_it_is() {
    let spec = "apiVersion: mlk/v1alpha1\nkind: Platform\nmetadata: {name: ml}\n\
        database:\n  external:\n    host: pg.example.com\n    \
        password: {existingSecret: {name: pg-credentials, key: password}}\n";
    let out = mlk(&["render", "-f", "-"]).stdin(spec).key().run().ok();
    let run = mlk(&["validate"]).stdin(&out.stdout).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("Secret \"pg-credentials\" is not in the stream")
    );
    let run = mlk(&["validate", "--exists", "Secret/pg-credentials"])
        .stdin(&out.stdout)
        .run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let run = mlk(&["validate", "--strict"]).stdin(&out.stdout).run();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
}

#[test]
fn unusable_input_exits_2() {
    let cases: [(&[&str], &str, &str); 5] = [
        (&["validate", "-"], "a: [b\n", "not a YAML manifest stream"),
        (&["validate", "-"], "", "nothing on stdin"),
        (
            &["validate", "no-such-file.yaml"],
            "",
            "reading no-such-file.yaml",
        ),
        (
            &["validate", "--kube-version", "1.20", "-"],
            WIDGET,
            "Kubernetes 1.37 only",
        ),
        (
            &[
                "validate",
                "--crd",
                "fixtures/manifests/valid/web.yaml",
                "-",
            ],
            WIDGET,
            "not a CustomResourceDefinition",
        ),
    ];
    for (args, stdin, want) in cases {
        let run = mlk(args).stdin(stdin).run();
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty());
        assert!(run.stderr.contains(want), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn rendered_output_validates_in_both_formats() {
    for format in ["yaml", "json"] {
        let out = mlk(&["render", "-o", format]).key().run().ok();
        let run = mlk(&["validate", "--strict"]).stdin(&out.stdout).run();
        assert_eq!(run.code, 0, "{format}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(" documents, 0 problems, 0 not checked"));
        assert!(
            !run.stderr.starts_with("1 documents"),
            "a List must count as its items"
        );
    }
}

/// `mlk validate` puts the render's own gate in front of any stream, such
/// as a Helm chart's output: each guarantee names the object and field
/// that breaks it. `--checks` without `policy` leaves it out, and
/// `--policy`, from before the gate ran by default, still works.
#[test]
fn the_policy_gate_runs_on_any_stream() {
    let stream = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: ns}\n\
        data: {password: c3VwZXItc2VjcmV0LXBhc3N3b3Jk}\n---\n\
        apiVersion: v1\nkind: ConfigMap\nmetadata: {name: leak, namespace: ns}\n\
        data: {url: 'postgresql://u:super-secret-password@db/x'}\n---\n\
        apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: ns\n  \
        annotations: {nginx.ingress.kubernetes.io/server-snippet: 'location / { }'}\n\
        spec:\n  rules: [{host: web.example.com}]\n---\n\
        apiVersion: v1\nkind: Namespace\nmetadata: {name: ns, labels: {pod-security.kubernetes.io/enforce: privileged}}\n";
    let run = mlk(&["validate", "-"]).stdin(stream).run();
    assert_eq!(run.code, 1, "{}", run.stdout);
    let old_flag = mlk(&["validate", "--policy", "-"]).stdin(stream).run();
    assert_eq!(old_flag.stdout, run.stdout);
    for want in [
        "ConfigMap/ns/leak: data.url: holds a secret value",
        "Ingress/ns/web: metadata.annotations[\"nginx.ingress.kubernetes.io/server-snippet\"]: ",
        "Namespace/ns: metadata.labels[\"pod-security.kubernetes.io/enforce\"]: is \"privileged\"",
    ] {
        assert!(
            run.stdout.contains(want),
            "want {want:?} in:\n{}",
            run.stdout
        );
    }
    assert!(!run.stdout.contains("super-secret"), "{}", run.stdout);
    let key = "nginx.ingress.kubernetes.io/server-snippet";
    let allowed = mlk(&["validate", "--allow-annotation", key, "-"])
        .stdin(stream)
        .run();
    assert!(
        !allowed.stdout.contains("server-snippet"),
        "{}",
        allowed.stdout
    );
    let named = [
        "validate",
        "--checks",
        "policy",
        "--allow-annotation",
        key,
        "-",
    ];
    let allowed = mlk(&named).stdin(stream).run();
    assert!(
        allowed.stdout.contains("holds a secret value"),
        "{}",
        allowed.stdout
    );
    assert!(
        !allowed.stdout.contains("server-snippet"),
        "{}",
        allowed.stdout
    );
    // Without the gate there is nothing to loosen: a mistake, said so.
    let without = [
        "validate",
        "--checks",
        "schema,refs",
        "--allow-annotation",
        key,
        "-",
    ];
    let alone = mlk(&without).stdin(stream).run();
    assert_eq!(alone.code, 2, "{}", alone.stderr);
    assert!(
        alone.stderr.contains("add `policy` to it"),
        "{}",
        alone.stderr
    );
    let plain = mlk(&["validate", "--checks", "schema,yaml,refs,pod-security", "-"])
        .stdin(stream)
        .run();
    assert!(!plain.stdout.contains("holds a secret"), "{}", plain.stdout);
}

/// A secret a stream's Secret holds is hidden wherever a report would
/// show it: in the message, and in the object and path a problem names,
/// before JSON or the text report escapes it.
#[test]
fn the_policy_report_shows_no_secret_anywhere() {
    // "hunter2 \"quoted\" secret", with a quote JSON would escape.
    let secret = "hunter2 \"quoted\" secret";
    let encoded = "aHVudGVyMiAicXVvdGVkIiBzZWNyZXQ=";
    let stream = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: s, namespace: ns}}\ndata: {{pw: {encoded}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: ns\n  annotations: {{'{}': x}}\ndata: {{a: b}}\n",
        secret.replace('\'', "''")
    );
    for format in ["text", "json"] {
        let run = mlk(&["validate", "-o", format, "-"]).stdin(&stream).run();
        assert_eq!(run.code, 1, "{format}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("***"), "{format}: {}", run.stdout);
        for shown in [&run.stdout, &run.stderr] {
            assert!(!shown.contains("hunter2"), "{format}: {shown}");
        }
    }
}

/// A repository's empty file, comment-only file or empty List holds no
/// objects and is valid; an empty pipe is not, since the command before
/// it most often failed.
#[test]
fn empty_files_are_valid_and_an_empty_pipe_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, text) in [
        ("empty.yaml", ""),
        ("comment.yaml", "# nothing yet\n"),
        ("list.yaml", "apiVersion: v1\nkind: List\nitems: []\n"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        files.push(path.to_string_lossy().into_owned());
    }
    for f in &files {
        let run = mlk(&["validate", f]).run();
        assert_eq!(run.code, 0, "{f}: {}", run.stderr);
        assert!(
            run.stderr.contains("0 documents, 0 problems"),
            "{}",
            run.stderr
        );
    }
    let run = mlk(&["validate", "-"]).stdin("\n").run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("nothing on stdin"), "{}", run.stderr);
}

/// `--checks` picks what runs: a lone Service (its pods live in another
/// file) fails `refs` only, a privileged Pod fails `pod-security` only,
/// and `policy` is mlk's gate.
#[test]
fn checks_pick_what_runs() {
    let service = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n\
                   spec:\n  selector: {app: web}\n  ports: [{port: 80}]\n";
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\n\
               spec:\n  containers: [{name: c, image: nginx:1.27, securityContext: {privileged: true}}]\n";
    let code = |stream: &str, checks: Option<&str>| {
        let mut args = vec!["validate"];
        if let Some(c) = checks {
            args.extend(["--checks", c]);
        }
        args.push("-");
        mlk(&args).stdin(stream).run().code
    };
    assert_eq!(code(service, None), 1);
    assert_eq!(code(service, Some("schema,yaml,pod-security")), 0);
    assert_eq!(code(service, Some("refs")), 1);
    assert_eq!(code(pod, None), 1);
    assert_eq!(code(pod, Some("schema,yaml,refs")), 0);
    // The gate holds what Pod Security alone does not: a disk bound.
    let bounded = pod.replace("securityContext: {privileged: true}", "securityContext: {}");
    assert_eq!(code(&bounded, Some("schema")), 0);
    assert_eq!(code(&bounded, Some("schema,policy")), 1);
    let run = mlk(&["validate", "--checks", "bogus", "-"])
        .stdin(pod)
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
}

/// The gate asks for the Pod Security level `--pod-security` names: a
/// Namespace and its pods at `baseline` pass when baseline is asked for,
/// and `restricted`, the default, refuses both once each.
#[test]
fn the_gate_checks_pod_security_at_the_level_asked() {
    let stream = "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns, labels: {pod-security.kubernetes.io/enforce: baseline}}\n---\n\
        apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\n\
        spec:\n  containers: [{name: c, image: 'r.example/c:1', resources: {limits: {ephemeral-storage: 1Gi}}}]\n";
    let baseline = mlk(&["validate", "--pod-security", "baseline", "-"])
        .stdin(stream)
        .run();
    assert_eq!(baseline.code, 0, "{}", baseline.stdout);
    let restricted = mlk(&["validate", "-"]).stdin(stream).run();
    assert_eq!(restricted.code, 1);
    let namespace = "Namespace/ns: metadata.labels[\"pod-security.kubernetes.io/enforce\"]: is \"baseline\": the namespace must enforce restricted";
    assert!(
        restricted.stdout.contains(namespace),
        "{}",
        restricted.stdout
    );
    let run_as = "Pod/ns/p: spec.securityContext.runAsNonRoot: must be true";
    assert_eq!(
        restricted.stdout.matches(run_as).count(),
        1,
        "{}",
        restricted.stdout
    );
    // The gate alone checks Pod Security too, at the same level.
    let gate = mlk(&["validate", "--checks", "policy", "-"])
        .stdin(stream)
        .run();
    assert_eq!(gate.stdout.matches(run_as).count(), 1, "{}", gate.stdout);
    let privileged = mlk(&["validate", "--pod-security", "privileged", "-"])
        .stdin(stream)
        .run();
    assert_eq!(privileged.code, 0, "{}", privileged.stdout);
}

/// The OIDC client secret may read none of the stream's other Secrets:
/// a core Secret counts, a custom resource that calls its kind Secret
/// does not.
#[test]
fn a_credential_sent_away_reads_no_other_secret_of_the_stream() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\n\
        spec:\n  containers:\n    - name: c\n      image: 'r.example/c:1'\n      \
        env: [{name: OIDC_CLIENT_SECRET, valueFrom: {secretKeyRef: {name: db, key: password}}}]\n";
    let core = format!(
        "{pod}---\napiVersion: v1\nkind: Secret\nmetadata: {{name: db, namespace: ns}}\nstringData: {{password: pw-0123456789}}\n"
    );
    let custom = format!(
        "{pod}---\napiVersion: example.com/v1\nkind: Secret\nmetadata: {{name: db, namespace: ns}}\n"
    );
    let checks = [
        "validate",
        "--checks",
        "policy",
        "--pod-security",
        "privileged",
        "-",
    ];
    let run = mlk(&checks).stdin(&core).run();
    let want = "OIDC_CLIENT_SECRET is sent to a host the spec names, and reads db/password";
    assert!(run.stdout.contains(want), "{}", run.stdout);
    let run = mlk(&checks).stdin(&custom).run();
    assert!(!run.stdout.contains("OIDC_CLIENT_SECRET"), "{}", run.stdout);
}
