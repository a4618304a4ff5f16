//! `mlk diff OLD NEW`.

use std::path::{Path, PathBuf};

use super::validate::{list_items, read};
use super::{Output, Unusable};
use crate::{diff, manifest};

#[derive(clap::Args)]
pub struct DiffArgs {
    /// What is there now: a manifest stream (`-` for stdin, or `kubectl
    /// get -o yaml` output) or an `--output-dir` folder.
    old: PathBuf,
    /// What would be applied, in the same forms.
    new: PathBuf,
    #[arg(short = 'o', long, value_enum, default_value_t = DiffFormat::Text)]
    output: DiffFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DiffFormat {
    /// For a person: a unified diff, then each unsafe change.
    Text,
    Json,
}

pub fn run(args: DiffArgs) -> anyhow::Result<Output> {
    if args.old.as_os_str() == "-" && args.new.as_os_str() == "-" {
        return Err(Unusable("only one of OLD and NEW can be stdin".into()).into());
    }
    // Two files on two cores: reading is most of a large diff's time.
    let (old, new) = std::thread::scope(|s| {
        let old = s.spawn(|| objects(&args.old));
        let new = objects(&args.new);
        (old.join().expect("reading OLD does not panic"), new)
    });
    let (old, new) = (old?, new?);
    let report = diff::diff(&old, &new);
    // Secret values are masked in Secrets; one that a stream carries
    // elsewhere (an annotation, a ConfigMap) is masked here too.
    let secrets = crate::gate::stream_secrets(old.iter().chain(&new));
    let stdout = match args.output {
        DiffFormat::Text => crate::messages::printable(&diff::text(&report), &secrets),
        DiffFormat::Json => {
            let mut json = serde_json::to_string_pretty(&report).expect("serialisable");
            json.push('\n');
            secrets.redact(&json).into_owned()
        }
    };
    let code = report.exit_code();
    // The process ends once the report is written: the objects need not
    // be freed one by one.
    std::mem::forget((old, new, report));
    Ok(Output { stdout, code })
}

/// Every object of a stream or folder, a `List` standing for its items.
fn objects(path: &Path) -> anyhow::Result<Vec<manifest::Value>> {
    let mut out = Vec::new();
    let in_folder = path.is_dir();
    for file in files(path)? {
        let text = match in_folder {
            // A folder's files stay in it: a symlink out of it is refused.
            true => crate::spec_files::read_spec_file(&file)
                .map_err(|e| Unusable(format!("reading {}: it {e}", file.display())))?,
            false => read(&file)?,
        };
        let docs = manifest::parse_stream(&text, "input").map_err(|e| {
            Unusable(format!(
                "{}: not a YAML manifest stream: {e}",
                file.display()
            ))
        })?;
        out.extend(docs.into_iter().flat_map(list_items).map(|d| d.value));
    }
    Ok(out)
}

/// A folder `mlk render --output-dir` wrote: its files in apply order, as
/// its kustomizations list them (the folder's own names its subfolders).
fn files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut listed = Vec::new();
    for name in listed_names(path)? {
        let entry = path.join(&name);
        // A GitOps checkout keeps the Secrets out: the rest still diffs.
        if name == "secrets" && std::fs::symlink_metadata(&entry).is_err() {
            continue;
        }
        // A subfolder is one of mlk's own, one level deep.
        match std::fs::symlink_metadata(&entry).is_ok_and(|m| m.is_dir()) {
            true => listed.extend(listed_names(&entry)?.iter().map(|f| entry.join(f))),
            false => listed.push(entry),
        }
    }
    if listed.is_empty() {
        let shown = path.display();
        return Err(Unusable(format!(
            "{shown}: a folder without a kustomization.yaml that lists files"
        ))
        .into());
    }
    Ok(listed)
}

/// What a folder's kustomization.yaml lists: plain names. A folder from a
/// repository may list anything, and nothing outside it is read.
fn listed_names(folder: &Path) -> anyhow::Result<Vec<String>> {
    let file = folder.join("kustomization.yaml");
    let k = crate::spec_files::read_spec_file(&file)
        .map_err(|e| Unusable(format!("reading {}: it {e}", file.display())))?;
    let names: Vec<String> = k
        .lines()
        .filter_map(|l| l.strip_prefix("  - "))
        .map(str::to_owned)
        .collect();
    if let Some(bad) = names.iter().find(|n| n.contains('/') || n.starts_with('.')) {
        let shown = folder.display();
        return Err(Unusable(format!(
            "{shown}: lists {bad:?}, which is not a file of the folder"
        ))
        .into());
    }
    Ok(names)
}
