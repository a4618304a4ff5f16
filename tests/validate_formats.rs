//! `mlk validate -o junit|tap|sarif`: what CI systems and code scanning
//! read. Each reports every object (or problem) with the file and line of
//! the object, keeps the exit code of the text report, and stays well
//! formed whatever a manifest's keys hold.

mod common;
use common::mlk;

const INVALID: &str = "fixtures/manifests/invalid/configmap-missing.yaml";

/// A stream whose one problem quotes a key full of XML's and TAP's
/// special characters.
fn hostile(dir: &std::path::Path) -> String {
    let path = dir.join("hostile.yaml");
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns}\n\
                data: {a: b}\n\"<x a='1'>&amp; # ]]>\": 1\n---\n\
                apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d, namespace: ns}\n";
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn run(format: &str, files: &[&str]) -> common::Run {
    let mut args = vec!["validate", "--strict", "-o", format];
    args.extend_from_slice(files);
    mlk(&args).run()
}

#[test]
fn tap_has_a_point_per_object() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = hostile(dir.path());
    let out = run("tap", &[INVALID, &hostile]);
    assert_eq!(out.code, 1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[..2], ["TAP version 14", "1..7"], "{}", out.stdout);
    let points: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("ok ") || l.starts_with("not ok "))
        .collect();
    assert_eq!(points.len(), 7);
    let failed: Vec<_> = points.iter().filter(|l| l.starts_with("not ok")).collect();
    assert_eq!(failed.len(), 2, "{}", out.stdout);
    assert!(failed[0].starts_with(&format!("not ok 1 - {INVALID}:3: Deployment/shop/web")));
    // The hostile key's `#` cannot start a directive.
    assert!(failed[1].starts_with(&format!("not ok 6 - {hostile}:1: ConfigMap/ns/c")));
    let unescaped = failed[1]
        .match_indices('#')
        .any(|(i, _)| !failed[1][..i].ends_with('\\'));
    assert!(!unescaped, "{}", failed[1]);
    assert!(points[6].starts_with(&format!("ok 7 - {hostile}:7: ConfigMap/ns/d")));
    assert!(
        out.stderr.contains("7 documents, 2 problems"),
        "{}",
        out.stderr
    );
}

#[test]
fn junit_is_well_formed_xml_with_a_case_per_object() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = hostile(dir.path());
    let out = run("junit", &[INVALID, &hostile]);
    assert_eq!(out.code, 1);
    // Python's own XML parser reads it back: the counts, and the hostile
    // key's text as it was.
    let script = "import sys, xml.etree.ElementTree as E\n\
        root = E.fromstring(sys.stdin.read())\n\
        cases = root.findall('.//testcase')\n\
        failures = [c for c in cases if c.find('failure') is not None]\n\
        print(root.get('tests'), root.get('failures'), len(cases), len(failures))\n\
        print(failures[-1].find('failure').text)\n";
    let parsed = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(out.stdout.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(parsed.status.success(), "{}", out.stdout);
    let text = String::from_utf8(parsed.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("7 2 7 2"));
    assert!(
        lines.next().unwrap().contains("<x a='1'>&amp; # ]]>"),
        "{text}"
    );
}

#[test]
fn sarif_locates_each_result_in_its_file() {
    let out = run("sarif", &[INVALID]);
    assert_eq!(out.code, 1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "mlk");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        assert!(rules.contains(&r["ruleId"].as_str().unwrap()), "{r}");
        assert!(["error", "warning"].contains(&r["level"].as_str().unwrap()));
        assert!(
            r["message"]["text"]
                .as_str()
                .unwrap()
                .contains("Deployment/shop/web")
        );
        let at = &r["locations"][0]["physicalLocation"];
        assert_eq!(at["artifactLocation"]["uri"], INVALID);
        assert_eq!(at["region"]["startLine"], 3);
    }
    // A valid stream: no results, exit 0.
    let valid = mlk(&[
        "validate",
        "-o",
        "sarif",
        "fixtures/manifests/valid/web.yaml",
    ])
    .run();
    assert_eq!(valid.code, 0, "{}", valid.stderr);
    let v: serde_json::Value = serde_json::from_str(&valid.stdout).unwrap();
    assert_eq!(v["runs"][0]["results"], serde_json::json!([]));
}

/// The reports a schema check reads, in `format`: a failing stream, a
/// valid one, stdin, a hostile key and `--summary`, each by name.
fn reports(format: &str, dir: &std::path::Path) -> Vec<(&'static str, String)> {
    let hostile = hostile(dir);
    let valid = "fixtures/manifests/valid/web.yaml";
    let cases: [(&str, Vec<&str>, Option<&str>); 5] = [
        ("invalid", vec![INVALID], None),
        ("valid", vec![valid], None),
        ("hostile", vec![&hostile, INVALID], None),
        (
            "stdin",
            vec!["-"],
            Some(include_str!("fixtures/manifests/valid/web.yaml")),
        ),
        ("summary", vec!["--summary", INVALID, valid], None),
    ];
    let mut out = Vec::new();
    for (name, files, stdin) in cases {
        let mut args = vec!["validate", "-o", format];
        args.extend(files);
        let mut run = mlk(&args);
        if let Some(text) = stdin {
            run = run.stdin(text);
        }
        out.push((name, run.run().stdout));
    }
    out
}

fn cache(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(std::env::var("HOME").unwrap())
        .join(".cache/mlk")
        .join(name)
}

/// Microsoft's SARIF multitool (`validate`) reads each report against
/// the SARIF 2.1.0 schema and its own rules: no error.
#[test]
#[ignore = "needs Microsoft's SARIF multitool from npm; run by bash .ci/run"]
fn sarif_passes_the_sarif_multitool() {
    let prefix = std::env::var_os("MLK_NPM_PREFIX").map_or_else(|| cache("npm"), Into::into);
    let tool = prefix.join("node_modules/.bin/sarif-multitool");
    assert!(
        tool.exists(),
        "{}: run scripts/install-test-deps.sh",
        tool.display()
    );
    let dir = tempfile::tempdir().unwrap();
    for (name, report) in reports("sarif", dir.path()) {
        let file = dir.path().join(format!("{name}.sarif"));
        std::fs::write(&file, &report).unwrap();
        let checked = dir.path().join(format!("{name}.checked.sarif"));
        let tool_run = std::process::Command::new(&tool)
            .arg("validate")
            .arg(&file)
            .arg("--output")
            .arg(&checked)
            .output()
            .unwrap();
        let console = String::from_utf8_lossy(&tool_run.stdout);
        assert!(tool_run.status.success(), "{name}: {console}");
        let result: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&checked).unwrap()).unwrap();
        let errors: Vec<&serde_json::Value> = result["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["level"] == "error")
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}\n{report}");
        // The console names each finding with its level.
        assert!(!console.contains(": error "), "{name}: {console}\n{report}");
    }
}

/// Jenkins' JUnit schema (junit-10.xsd), read by lxml: every report
/// is valid against it.
#[test]
#[ignore = "needs lxml and junit-10.xsd (install-test-deps.sh); run by bash .ci/run"]
fn junit_passes_jenkins_junit_schema() {
    let xsd = std::env::var_os("MLK_JUNIT_XSD").map_or_else(|| cache("junit-10.xsd"), Into::into);
    let venv = std::env::var_os("MLK_TOOLS_VENV").map_or_else(|| cache("tools-venv"), Into::into);
    let python = venv.join("bin/python");
    assert!(
        xsd.exists() && python.exists(),
        "run scripts/install-test-deps.sh"
    );
    let dir = tempfile::tempdir().unwrap();
    let script = "import sys\nfrom lxml import etree\n\
        schema = etree.XMLSchema(etree.parse(sys.argv[1]))\n\
        ok = schema.validate(etree.parse(sys.argv[2]))\n\
        print(schema.error_log)\nsys.exit(0 if ok else 1)\n";
    for (name, report) in reports("junit", dir.path()) {
        let file = dir.path().join(format!("{name}.xml"));
        std::fs::write(&file, &report).unwrap();
        let out = std::process::Command::new(&python)
            .args(["-c", script])
            .arg(&xsd)
            .arg(&file)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {log}\n{report}");
    }
}
