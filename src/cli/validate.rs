//! `mlk validate`: checks any stream of manifests as `mlk render` checks
//! its own, and reports every problem.

use std::path::PathBuf;

use super::report::{self, Origin, Origins, ReportFormat};
use super::{Output, Unusable};
use crate::manifest::{self, Document};
use crate::validate::{self, Catalog, External, KUBE_VERSION, Level, Report};

/// Which schemas to check against; shared by `render` and `validate`.
#[derive(clap::Args)]
pub struct SchemaArgs {
    /// The Kubernetes version to check against. This mlk is built with
    /// the schemas of Kubernetes 1.37 only.
    #[arg(long, value_name = "VERSION", default_value = KUBE_VERSION)]
    kube_version: String,
    /// A CustomResourceDefinition file, or a folder of them (every
    /// `.yaml`, `.yml` and `.json` beneath it but a kustomization.yaml;
    /// symlinks are not followed): documents of their kinds are checked
    /// against their openAPIV3Schema instead of mlk's own knowledge, built-in
    /// kinds included. Repeatable.
    #[arg(long = "crd", value_name = "FILE|FOLDER")]
    crds: Vec<PathBuf>,
}

impl SchemaArgs {
    pub fn catalog(&self) -> anyhow::Result<Catalog> {
        let v = self.kube_version.trim_start_matches('v');
        if v != KUBE_VERSION {
            return Err(Unusable(format!(
                "--kube-version {}: this mlk has the schemas of Kubernetes {KUBE_VERSION} only",
                self.kube_version
            ))
            .into());
        }
        let mut catalog = Catalog::builtin();
        let mut files = Vec::new();
        for given in &self.crds {
            crd_files(given, &mut files)?;
        }
        for file in &files {
            let text = read(file)?;
            let loaded = catalog
                .add_crds(&text, &file.display().to_string())
                .map_err(|e| Unusable(format!("--crd {}: {e}", file.display())))?;
            if loaded == 0 {
                let msg = format!(
                    "--crd {}: no CustomResourceDefinition in it",
                    file.display()
                );
                return Err(Unusable(msg).into());
            }
        }
        Ok(catalog)
    }
}

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// Files of multi-document YAML; `-` or none reads stdin.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    schemas: SchemaArgs,
    /// A Secret or ConfigMap that exists in the cluster (`Secret/db-credentials`).
    /// Repeatable. Without it, a reference to one outside the stream is a
    /// warning (taken to exist); with it, the objects named are all that
    /// exist, and a reference to any other is an error.
    #[arg(long = "exists", value_name = "KIND/NAME")]
    exists: Vec<String>,
    /// A kind without a schema (not checked) is an error, not a warning,
    /// and so is a reference to a Secret or ConfigMap that is neither in
    /// the stream nor named by --exists.
    #[arg(long)]
    strict: bool,
    /// The Pod Security Standard every pod template must meet, as
    /// `pod-security.kubernetes.io/enforce` would hold it.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = Level::Restricted)]
    pod_security: Level,
    /// The gate is one of the default checks (`--checks policy`); this
    /// flag, once needed to turn it on, is kept for the scripts that pass
    /// it.
    #[arg(long, hide = true)]
    policy: bool,
    /// Let an Ingress or route carry this annotation, which mlk's gate
    /// (`policy`) does not know to be safe. Repeatable.
    #[arg(long = "allow-annotation", value_name = "KEY")]
    allow_annotation: Vec<String>,
    /// Let an OIDC provider and redirect URI be plain http, as a render
    /// with the same flag made them: a test's provider on loopback,
    /// never a real one.
    #[arg(long)]
    allow_insecure_issuer: bool,
    /// The checks to run, comma-separated (default: all five). Without
    /// `refs`, a file that holds part of an application validates on its
    /// own; without `policy`, mlk's own rules for a platform are left out.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "CHECK,...")]
    checks: Vec<CheckName>,
    /// Report format on stdout.
    #[arg(short = 'o', long, value_enum, default_value_t = ReportFormat::Text)]
    output: ReportFormat,
    /// Also put the summary (documents, problems, not checked) in the
    /// report on stdout, in its format: a last line of text, a `summary`
    /// object in JSON, a TAP comment, SARIF's run properties. JUnit's
    /// counts are its summary. It is on stderr in every case.
    #[arg(long)]
    summary: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CheckName {
    /// Each object against its kind's schema, its name, duplicates.
    Schema,
    /// Plain scalars YAML 1.1 reads as another type (`no`, `0777`, ...).
    Yaml,
    /// References between objects: selectors, Secrets, ConfigMaps, ports.
    Refs,
    /// The Pod Security level of --pod-security.
    PodSecurity,
    /// mlk's output gate, as every render passes it: Pod Security on
    /// every pod (CRDs' too), no Secret value outside a Secret, the
    /// Namespace's own level, the tracking server's protections, and
    /// front-door annotations from the allowlist.
    Policy,
}

impl ValidateArgs {
    /// What runs: the named checks, or every one.
    fn selected(&self) -> (validate::Checks, bool, bool) {
        let on = |c: CheckName| self.checks.is_empty() || self.checks.contains(&c);
        let checks = validate::Checks {
            schema: on(CheckName::Schema),
            yaml: on(CheckName::Yaml),
            refs: on(CheckName::Refs),
        };
        (
            checks,
            on(CheckName::PodSecurity),
            self.policy || on(CheckName::Policy),
        )
    }
}

/// `path` itself, or the manifest files beneath a folder, sorted; a
/// symlink in a folder is not followed.
fn crd_files(path: &std::path::Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if !path.is_dir() {
        out.push(path.to_owned());
        return Ok(());
    }
    let shown = path.display();
    let read_dir = std::fs::read_dir(path).map_err(|e| Unusable(format!("--crd {shown}: {e}")))?;
    let mut entries: Vec<PathBuf> = read_dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    let before = out.len();
    for entry in entries {
        let Ok(meta) = std::fs::symlink_metadata(&entry) else {
            continue;
        };
        let ext = entry
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if meta.is_dir() {
            crd_files(&entry, out)?;
        } else if meta.is_file()
            && ["yaml", "yml", "json"].contains(&ext)
            && !is_kustomization(&entry)
        {
            out.push(entry);
        }
    }
    if out.len() == before {
        let msg = format!("--crd {shown}: a folder without .yaml, .yml or .json files");
        return Err(Unusable(msg).into());
    }
    Ok(())
}

/// kustomize's own file, which a folder of CRDs often holds beside them.
fn is_kustomization(path: &std::path::Path) -> bool {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    stem.eq_ignore_ascii_case("kustomization")
}

pub(super) fn read(file: &std::path::Path) -> anyhow::Result<String> {
    let shown = file.display();
    if file.as_os_str() != "-" {
        let text = crate::spec_files::read_stream_file(file);
        return text.map_err(|e| Unusable(format!("reading {shown}: it {e}")).into());
    }
    let mut bytes = Vec::new();
    let cap = crate::spec_files::MAX_STREAM_BYTES;
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::io::stdin(), cap + 1),
        &mut bytes,
    )
    .map_err(|e| Unusable(format!("reading {shown}: {e}")))?;
    if bytes.len() as u64 > cap {
        return Err(Unusable(format!("reading {shown}: larger than {} MiB", cap >> 20)).into());
    }
    String::from_utf8(bytes)
        .map_err(|_| Unusable(format!("reading {shown}: not UTF-8 text")).into())
}

pub fn run(args: ValidateArgs, notes: &mut Vec<String>) -> anyhow::Result<Output> {
    if !args.allow_annotation.is_empty() && !args.selected().2 {
        let msg =
            "--allow-annotation loosens the gate, which --checks leaves out: add `policy` to it";
        return Err(Unusable(msg.into()).into());
    }
    let catalog = args.schemas.catalog()?;
    let mut external = External::default();
    for e in &args.exists {
        external.parse_into(e).map_err(Unusable)?;
    }
    if !args.strict && args.exists.is_empty() {
        external = external.assuming_the_rest();
    }
    let files = if args.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.files.clone()
    };
    let mut docs: Vec<Document> = Vec::new();
    let mut origins = Origins::default();
    for file in &files {
        let text = read(file)?;
        // An empty file in a repository holds no objects, and is valid;
        // an empty pipe most often means the command before it failed.
        if file.as_os_str() == "-" && text.trim().is_empty() {
            return Err(Unusable(
                "nothing on stdin: did the command before the pipe fail? (an empty file is \
                 valid: name it)"
                    .into(),
            )
            .into());
        }
        let parsed = manifest::parse_stream(&text, "input").map_err(|e| {
            Unusable(format!(
                "{}: not a YAML manifest stream: {e}",
                file.display()
            ))
        })?;
        let lines = report::document_lines(&text);
        for (i, doc) in parsed.into_iter().enumerate() {
            let line = lines.get(i).copied().unwrap_or(1);
            for item in list_items(doc) {
                let shown = match file.as_os_str() == "-" {
                    true => "<stdin>".to_owned(),
                    false => file.display().to_string(),
                };
                origins.add(item.id(), Origin { file: shown, line });
                docs.push(item);
            }
        }
    }
    let (checks, pod_security, policy) = args.selected();
    let level = match pod_security {
        true => args.pod_security,
        false => Level::Privileged,
    };
    let mut report = validate::validate_with(&docs, &catalog, &external, level, checks);
    let secrets = crate::gate::stream_secrets(docs.iter().map(|d| &d.value));
    if policy {
        let allowed = args.allow_annotation.iter().cloned().collect();
        let policy = crate::gate::Policy {
            secrets: &secrets,
            before_patches: None,
            allowed_annotations: &allowed,
            secret_data: true,
            pod_security: args.pod_security,
            insecure_issuer: args.allow_insecure_issuer,
        };
        let found = crate::gate::check(&docs, &policy).into_iter();
        // Pod Security is checked once, at the level asked for: above,
        // unless `--checks` left `pod-security` out.
        let found = found.filter(|f| f.check != "pod_security" || !pod_security);
        report.problems.extend(found.map(|f| validate::Problem {
            object: f.id,
            path: f.at.to_string(),
            message: f.message,
        }));
    }
    // A problem may quote a value of the stream, in its message, its path
    // (a key) or its object's name: never one of its secrets. Each is
    // redacted as text, before JSON or a line escapes it.
    for p in report.problems.iter_mut().chain(&mut report.assumed) {
        for text in [&mut p.object, &mut p.path, &mut p.message] {
            *text = secrets.redact(text).into_owned();
        }
    }
    // The same for the ids the reports name objects by, so that a problem
    // still finds its object.
    for id in &mut report.unchecked {
        *id = secrets.redact(id).into_owned();
    }
    origins.redact(|id| secrets.redact(id).into_owned());
    let valid = report.is_valid(args.strict);
    let mut stdout = match args.output {
        ReportFormat::Text => text_report(&report, &origins, args.strict, notes),
        other => {
            summary(&report, notes);
            report::write(other, &report, &origins, args.strict, valid)
        }
    };
    if args.summary {
        let counts = report::Counts {
            line: summary_line(&report),
            documents: report.documents,
            problems: report.problems.len(),
            unchecked: report.unchecked.len(),
            assumed: report.assumed.len(),
        };
        stdout = report::with_summary(args.output, stdout, &counts);
    }
    // The process ends once the report is written; freeing the documents
    // and the schemas node by node would only delay it.
    drop(report);
    std::mem::forget(docs);
    std::mem::forget(catalog);
    Ok(Output {
        stdout,
        code: if valid { 0 } else { 1 },
    })
}

/// A `v1` List (as `kubectl get -o yaml` and `mlk render -o json` write)
/// stands for its items.
pub(super) fn list_items(doc: Document) -> Vec<Document> {
    let items = match (doc.kind(), doc.value.get("items")) {
        ("List", Some(crate::manifest::Value::Sequence(items))) => items.clone(),
        _ => return vec![doc],
    };
    let component = doc.component;
    items
        .into_iter()
        .map(|value| Document {
            component,
            value,
            traps: Vec::new(),
        })
        .collect()
}

fn text_report(
    report: &Report,
    origins: &Origins,
    strict: bool,
    notes: &mut Vec<String>,
) -> String {
    let none = crate::sensitive::SecretSet::new([]);
    let line = |p: &validate::Problem| {
        let text = format!("{}{p}", report::prefix(origins, &p.object));
        crate::messages::printable(&text, &none) + "\n"
    };
    let mut out: String = report.problems.iter().map(line).collect();
    for id in &report.unchecked {
        let line = format!(
            "{}{id}: not checked: mlk has no schema for this kind; pass its CRD with --crd",
            report::prefix(origins, id)
        );
        if strict {
            out.push_str(&line);
            out.push('\n');
        } else {
            notes.push(format!("warning: {line}"));
        }
    }
    for p in &report.assumed {
        notes.push(format!("warning: {}", line(p).trim_end()));
    }
    summary(report, notes);
    out
}

/// The last line on stderr, whatever the format.
fn summary(report: &Report, notes: &mut Vec<String>) {
    notes.push(summary_line(report));
}

fn summary_line(report: &Report) -> String {
    let assumed = match report.assumed.len() {
        0 => String::new(),
        n => format!(", {n} references taken to exist in the cluster"),
    };
    format!(
        "{} documents, {} problems, {} not checked{assumed}",
        report.documents,
        report.problems.len(),
        report.unchecked.len()
    )
}
