//! Command-line interface: parses arguments, runs one command, and keeps
//! stdout empty on any error.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};

use crate::emit;
use crate::layers::{self, BUILTIN_PROFILES, DEFAULT_PROFILE, Inputs, SetExpr};
use crate::pipeline::render_platform;

const INIT_SPEC: &str = include_str!("../examples/platform.yaml");

#[derive(Parser)]
#[command(
    name = "mlk",
    version,
    about = "Renders and checks every Kubernetes manifest an MLflow platform needs"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render the platform as Kubernetes manifests (the dev profile's
    /// defaults when no spec is given).
    Render(RenderArgs),
    /// Print a commented starter spec.
    Init,
    /// List the built-in profiles and what each sets.
    Profiles,
    /// Print an htpasswd line for USER (bcrypt, `$2y$`), like `htpasswd
    /// -nB`; the password is read from stdin, without echo on a terminal.
    Htpasswd(HtpasswdArgs),
}

#[derive(clap::Args)]
struct HtpasswdArgs {
    /// Check the password against USER's line in FILE instead.
    #[arg(long, value_name = "FILE")]
    verify: Option<PathBuf>,
    /// bcrypt cost (4 to 12): nginx pays for it on every request.
    #[arg(long, default_value_t = crate::spec::DEFAULT_COST)]
    cost: u32,
    user: String,
}

#[derive(clap::Args)]
struct RenderArgs {
    /// The platform spec (`-` reads standard input).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// A built-in profile (dev, prod) or a profile file.
    #[arg(long, value_name = "NAME|PATH", default_value = DEFAULT_PROFILE)]
    profile: String,
    /// Override a spec value, e.g. tracking.replicas=3 (read as YAML).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Override a spec value, always as a string.
    #[arg(long = "set-string", value_name = "PATH=VALUE")]
    set_string: Vec<String>,
    /// Output format on stdout.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Yaml)]
    output: Format,
    /// Write one file per component and a kustomization.yaml into DIR
    /// instead of printing.
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    output_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    /// A `v1` List.
    Json,
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let mut notes = Vec::new();
    let result = run(cli, &mut notes);
    let mut stderr = std::io::stderr().lock();
    for note in &notes {
        let _ = writeln!(stderr, "{note}");
    }
    match result {
        Ok(stdout) => match std::io::stdout().lock().write_all(stdout.as_bytes()) {
            Ok(()) => 0,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
            Err(e) => {
                let _ = writeln!(stderr, "error: writing the output: {e}");
                1
            }
        },
        Err(e) => {
            let _ = writeln!(stderr, "error: {e:#}");
            1
        }
    }
}

/// Everything for stdout, built in full before any of it is written;
/// `notes` collects the lines for stderr, each with its own label.
fn run(cli: Cli, notes: &mut Vec<String>) -> anyhow::Result<String> {
    match cli.command {
        Command::Init => Ok(INIT_SPEC.to_owned()),
        Command::Profiles => profiles(),
        Command::Render(args) => render(args, notes),
        Command::Htpasswd(args) => htpasswd(args, notes),
    }
}

fn htpasswd(args: HtpasswdArgs, notes: &mut Vec<String>) -> anyhow::Result<String> {
    use crate::htpasswd as ht;
    crate::spec::Cost::try_from(args.cost).map_err(anyhow::Error::msg)?;
    ht::check_user(&args.user).map_err(anyhow::Error::msg)?;
    let Some(file) = args.verify else {
        let password = read_password()?;
        let entry = ht::hash_with_salt(&args.user, &password, args.cost, random_salt()?)
            .map_err(anyhow::Error::msg)?;
        return Ok(format!("{}\n", entry.line()));
    };
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let entries = ht::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let entry = entries
        .iter()
        .find(|e| e.user == args.user)
        .ok_or_else(|| anyhow::anyhow!("{}: no user {}", file.display(), args.user))?;
    if !ht::verify(&read_password()?, entry) {
        anyhow::bail!("wrong password for {}", args.user);
    }
    notes.push(format!("password for {} is correct", args.user));
    Ok(String::new())
}

fn random_salt() -> anyhow::Result<[u8; 16]> {
    use std::io::Read;
    let mut salt = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut salt))
        .context("reading a random salt from /dev/urandom")?;
    Ok(salt)
}

/// One line from stdin; on a terminal, asked for without echo.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Password: ").context("reading the password");
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let line = line.strip_suffix('\n').unwrap_or(&line);
    Ok(line.strip_suffix('\r').unwrap_or(line).to_owned())
}

fn render(args: RenderArgs, notes: &mut Vec<String>) -> anyhow::Result<String> {
    let mut sets = Vec::new();
    for s in &args.set {
        sets.push(SetExpr::parse(s, false).map_err(anyhow::Error::msg)?);
    }
    for s in &args.set_string {
        sets.push(SetExpr::parse(s, true).map_err(anyhow::Error::msg)?);
    }
    let inputs = Inputs {
        file: args.file.as_deref(),
        profile: &args.profile,
        sets: &sets,
    };
    let rendered = render_platform(&inputs, environment())?;
    notes.extend(rendered.warnings.iter().map(|w| format!("warning: {w}")));
    if let Some(dir) = args.output_dir {
        let files = emit::write_dir(&dir, &rendered.docs)
            .with_context(|| format!("writing {}", dir.display()))?;
        notes.push(format!("wrote {} into {}", files.join(", "), dir.display()));
        return Ok(String::new());
    }
    Ok(match args.output {
        Format::Yaml => emit::to_yaml_stream(&rendered.docs),
        Format::Json => emit::to_json_list(&rendered.docs),
    })
}

fn environment() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

fn profiles() -> anyhow::Result<String> {
    let mut out = String::new();
    for (name, _) in BUILTIN_PROFILES {
        let p = layers::load_profile(name)?;
        out.push_str(&format!(
            "{name}{}\n",
            if name == DEFAULT_PROFILE {
                " (default)"
            } else {
                ""
            }
        ));
        out.push_str(&format!("  {}\n", p.description));
        out.push_str("  prerequisites:\n");
        for pre in &p.prerequisites {
            out.push_str(&format!("    - {pre}\n"));
        }
        out.push_str("  sets:\n");
        for line in emit::to_yaml(&p.layer.value).lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    Ok(out)
}
