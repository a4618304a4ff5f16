//! `mlk resolve`: asks the registry what each served model's alias or
//! version names, and writes only the lock.

use super::render::{RegistryArgs, SpecArgs, write_lock};

#[derive(clap::Args)]
pub struct ResolveArgs {
    #[command(flatten)]
    spec: SpecArgs,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// Prints one line per model that changed (`wine: champion 3 → 4`); the
/// whole platform is rendered and checked first, so a lock is never
/// written for a spec that does not render.
pub fn run(args: ResolveArgs, notes: &mut Vec<String>) -> anyhow::Result<String> {
    let (rendered, lock_path) = args
        .spec
        .prepare()?
        .render(&args.spec, true, &args.registry)?;
    notes.extend(rendered.warnings.iter().map(|w| format!("warning: {w}")));
    let new = rendered.lock.unwrap_or_default();
    let changes = write_lock(&lock_path, &new)?;
    let out: String = changes.iter().map(|c| format!("{c}\n")).collect();
    if changes.is_empty() {
        notes.push(format!("{}: no change", lock_path.display()));
    } else {
        notes.push(format!("wrote {}", lock_path.display()));
    }
    Ok(out)
}
