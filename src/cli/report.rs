//! How `mlk validate` writes its report: for a person (text), or for a
//! machine: JSON, JUnit XML and TAP for CI systems, SARIF for code
//! scanning. Each problem carries the file and line of the object it is
//! about, where the object came from a file.

use std::collections::BTreeMap;

use clap::ValueEnum;
use serde_json::json;

use crate::validate::{self, Report};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum ReportFormat {
    /// For a person: one line an item.
    Text,
    Json,
    /// JUnit XML: a test case per object.
    Junit,
    /// The Test Anything Protocol, version 14: a test point per object.
    Tap,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

/// Where an object was read: its file (`-` for stdin) and the line its
/// document starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Origin {
    pub file: String,
    pub line: usize,
}

/// Each object's origin, by its `kind/namespace/name`.
#[derive(Default)]
pub(super) struct Origins {
    objects: Vec<(String, Origin)>,
    by_id: BTreeMap<String, usize>,
}

impl Origins {
    pub fn add(&mut self, id: String, origin: Origin) {
        self.by_id.entry(id.clone()).or_insert(self.objects.len());
        self.objects.push((id, origin));
    }

    /// Rewrites every id, as the problems' were (secrets redacted).
    pub fn redact(&mut self, f: impl Fn(&str) -> String) {
        self.by_id.clear();
        for (i, (id, _)) in self.objects.iter_mut().enumerate() {
            *id = f(id);
            self.by_id.entry(id.clone()).or_insert(i);
        }
    }

    fn of(&self, id: &str) -> Option<&Origin> {
        self.by_id.get(id).map(|i| &self.objects[*i].1)
    }
}

/// The line each document of `text` starts on, in order, for documents
/// that hold anything but comments: the first line after a `---`, or the
/// stream's first.
pub(super) fn document_lines(text: &str) -> Vec<usize> {
    // The parser drops a null document (`~`, `null`): so does this.
    let null = |s: &str| matches!(s, "~" | "null" | "Null" | "NULL");
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("---") || line.starts_with("...") {
            start = None;
            let rest = line[3..].split(" #").next().unwrap_or_default().trim();
            if !rest.is_empty() && !rest.starts_with('#') && !null(rest) {
                out.push(i + 1);
                start = Some(i + 1);
            }
            continue;
        }
        let trimmed = line.trim();
        let content = !trimmed.is_empty() && !trimmed.starts_with('#') && !null(trimmed);
        if content && start.is_none() && !line.starts_with('%') {
            start = Some(i + 1);
            out.push(i + 1);
        }
    }
    out
}

/// A machine's report; text, which has notes for stderr, is the caller's.
pub(super) fn write(
    format: ReportFormat,
    report: &Report,
    origins: &Origins,
    strict: bool,
    valid: bool,
) -> String {
    match format {
        ReportFormat::Text | ReportFormat::Json => json_report(report, origins, valid),
        ReportFormat::Junit => junit(report, origins, strict),
        ReportFormat::Tap => tap(report, origins, strict),
        ReportFormat::Sarif => sarif(report, origins, strict),
    }
}

/// What `--summary` adds to a report.
pub(super) struct Counts {
    pub line: String,
    pub documents: usize,
    pub problems: usize,
    pub unchecked: usize,
    pub assumed: usize,
}

/// `report` with the summary in its own format (kubeconform's `-summary`).
pub(super) fn with_summary(format: ReportFormat, mut report: String, counts: &Counts) -> String {
    let object = || {
        json!({
            "documents": counts.documents,
            "problems": counts.problems,
            "unchecked": counts.unchecked,
            "assumed": counts.assumed,
        })
    };
    let reserialized =
        |v: &serde_json::Value| format!("{}\n", serde_json::to_string_pretty(v).expect("JSON"));
    match format {
        ReportFormat::Text => report.push_str(&format!("Summary: {}\n", counts.line)),
        ReportFormat::Tap => report.push_str(&format!("# {}\n", counts.line)),
        ReportFormat::Junit => {}
        ReportFormat::Json => {
            let mut v: serde_json::Value = serde_json::from_str(&report).expect("our JSON");
            v["summary"] = object();
            report = reserialized(&v);
        }
        ReportFormat::Sarif => {
            let mut v: serde_json::Value = serde_json::from_str(&report).expect("our JSON");
            v["runs"][0]["properties"] = json!({ "summary": object() });
            report = reserialized(&v);
        }
    }
    report
}

/// `file:line: ` before a problem whose object came from a file.
pub(super) fn prefix(origins: &Origins, id: &str) -> String {
    origins
        .of(id)
        .map_or(String::new(), |o| format!("{}:{}: ", o.file, o.line))
}

fn json_report(report: &Report, origins: &Origins, valid: bool) -> String {
    let located = |problems: &[validate::Problem]| -> Vec<serde_json::Value> {
        problems
            .iter()
            .map(|p| {
                let mut v = serde_json::to_value(p).expect("JSON");
                if let Some(o) = origins.of(&p.object) {
                    v["file"] = o.file.clone().into();
                    v["line"] = o.line.into();
                }
                v
            })
            .collect()
    };
    let v = json!({
        "valid": valid,
        "documents": report.documents,
        "problems": located(&report.problems),
        "unchecked": report.unchecked,
        "assumed": located(&report.assumed),
    });
    format!("{}\n", serde_json::to_string_pretty(&v).expect("JSON"))
}

/// Every object's problems, in the order the objects were read: errors,
/// then (with `strict`) an unchecked kind as one.
fn per_object<'a>(
    report: &'a Report,
    origins: &'a Origins,
    strict: bool,
) -> Vec<(&'a str, &'a Origin, Vec<String>)> {
    origins
        .objects
        .iter()
        .map(|(id, origin)| {
            let mut found: Vec<String> = report
                .problems
                .iter()
                .filter(|p| p.object == *id)
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect();
            if strict && report.unchecked.iter().any(|u| u == id) {
                found.push("not checked: mlk has no schema for this kind".into());
            }
            (id.as_str(), origin, found)
        })
        .collect()
}

fn xml(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&apos;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn junit(report: &Report, origins: &Origins, strict: bool) -> String {
    let objects = per_object(report, origins, strict);
    let failures = objects.iter().filter(|(_, _, f)| !f.is_empty()).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"mlk validate\" \
         tests=\"{}\" failures=\"{failures}\" errors=\"0\">\n",
        objects.len()
    );
    let mut files: Vec<&str> = Vec::new();
    for (_, o, _) in &objects {
        if !files.contains(&o.file.as_str()) {
            files.push(&o.file);
        }
    }
    for file in files {
        let cases: Vec<_> = objects.iter().filter(|(_, o, _)| o.file == file).collect();
        let failed = cases.iter().filter(|(_, _, f)| !f.is_empty()).count();
        out.push_str(&format!(
            // Jenkins' schema (junit-10.xsd) requires `errors`: a
            // problem is a failure, never an error of the run.
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\">\n",
            xml(file),
            cases.len()
        ));
        for (id, origin, found) in cases {
            let name = format!("{}:{}: {id}", origin.file, origin.line);
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\"",
                xml(&name),
                xml(file)
            ));
            if found.is_empty() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(&format!(
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                xml(&found[0]),
                xml(&found.join("\n"))
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn tap(report: &Report, origins: &Origins, strict: bool) -> String {
    let objects = per_object(report, origins, strict);
    let mut out = format!("TAP version 14\n1..{}\n", objects.len());
    for (n, (id, origin, found)) in objects.iter().enumerate() {
        let status = if found.is_empty() { "ok" } else { "not ok" };
        // One line, no control character, and no `#`, which would start
        // a directive (TAP 14 escapes it as `\#`).
        let name = tap_text(&format!("{}:{}: {id}", origin.file, origin.line));
        out.push_str(&format!("{status} {} - {name}\n", n + 1));
        if !found.is_empty() {
            let found: Vec<String> = found.iter().map(|f| tap_text(f)).collect();
            let diagnostics = json!({ "problems": found });
            out.push_str("  ---\n");
            for line in serde_yaml::to_string(&diagnostics).expect("YAML").lines() {
                out.push_str(&format!("  {line}\n"));
            }
            out.push_str("  ...\n");
        }
    }
    out
}

fn tap_text(text: &str) -> String {
    let none = crate::sensitive::SecretSet::new([]);
    let one_line = text.replace(['\r', '\n'], " ");
    crate::messages::printable(&one_line, &none).replace('#', "\\#")
}

/// A file as a SARIF location, with `/`, and percent-encoded where a URI
/// needs it: a relative reference, or a `file://` URI for an absolute
/// path (a relative one must not begin with `/`); none for stdin.
fn sarif_uri(file: &str) -> Option<String> {
    if file == "<stdin>" {
        return None;
    }
    let file = file.replace('\\', "/");
    let file = file.trim_start_matches("./");
    let mut out = String::new();
    for b in file.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    if out.starts_with('/') {
        out.insert_str(0, "file://");
    }
    Some(out)
}

fn sarif(report: &Report, origins: &Origins, strict: bool) -> String {
    let result = |p: &validate::Problem, level: &str| {
        let mut r = json!({
            "ruleId": "mlk-validate",
            "level": level,
            "message": {"text": format!("{}: {}: {}", p.object, p.path, p.message)},
        });
        let at = origins.of(&p.object);
        if let Some((o, uri)) = at.and_then(|o| Some((o, sarif_uri(&o.file)?))) {
            r["locations"] = json!([{
                "physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": o.line},
                },
            }]);
        }
        r
    };
    let mut results: Vec<serde_json::Value> =
        report.problems.iter().map(|p| result(p, "error")).collect();
    results.extend(report.assumed.iter().map(|p| result(p, "warning")));
    for id in &report.unchecked {
        let p = validate::Problem {
            object: id.clone(),
            path: "kind".into(),
            message: "not checked: mlk has no schema for this kind; pass its CRD with --crd".into(),
        };
        results.push(result(&p, if strict { "error" } else { "warning" }));
    }
    let v = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mlk",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": [{
                    "id": "mlk-validate",
                    "shortDescription": {"text": "A Kubernetes manifest mlk validate refuses"},
                }],
            }},
            "results": results,
        }],
    });
    format!("{}\n", serde_json::to_string_pretty(&v).expect("JSON"))
}

#[cfg(test)]
mod tests {
    use super::document_lines;

    #[test]
    fn documents_start_after_their_separator() {
        let text = "\u{feff}# a comment\napiVersion: v1\nkind: A\n---\n# only a comment\n---\n\
                    kind: B\n--- {kind: C}\n--- ~\n---\nnull\n---\nkind: D\n";
        assert_eq!(document_lines(text), [2, 7, 8, 13]);
    }
}
