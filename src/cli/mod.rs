//! Command-line interface: parses arguments, runs one command, and keeps
//! stdout empty on any error.

mod diff;
mod heap;
mod htpasswd;
mod image;
mod render;
mod report;
mod resolve;
mod validate;
mod version;

use std::io::Write;

use clap::{Parser, Subcommand, ValueEnum};

const INIT_SPEC: &str = include_str!("../../examples/platform.yaml");

#[derive(Parser)]
#[command(
    name = "mlk",
    version = version::short(),
    long_version = version::long(),
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
    Render(render::RenderArgs),
    /// Check a stream of Kubernetes manifests: schemas, YAML 1.1 traps and
    /// references between objects. Exit 0 valid, 1 invalid, 2 unusable input.
    Validate(validate::ValidateArgs),
    /// Show what applying NEW over OLD changes, object by object, and
    /// which changes Kubernetes would refuse or the stores would not
    /// survive. Exit 0 no difference, 1 differences that apply cleanly,
    /// 2 unusable input, 3 an unsafe change.
    Diff(diff::DiffArgs),
    /// Ask the registry what each served model's alias or version names
    /// now, and update the lock (mlk.lock beside the spec) with it; prints
    /// what changed, such as `wine: champion 3 → 4`.
    Resolve(resolve::ResolveArgs),
    /// Print a commented starter spec, every field with its default.
    Init,
    /// Print the spec's JSON Schema (draft 2020-12) for editors:
    /// `mlk schema > mlk.schema.json`, next to the spec `mlk init` wrote.
    Schema {
        /// The schema of a profile file instead.
        #[arg(long)]
        profile: bool,
    },
    /// Print a shell completion script: `source <(mlk completions bash)`.
    Completions { shell: clap_complete::Shell },
    /// Print mlk's man page (roff): `mlk man | man -l -`.
    Man,
    /// List the built-in profiles and what each sets.
    Profiles,
    /// Print an htpasswd line for USER (bcrypt, `$2y$`), like `htpasswd
    /// -nB`; the password is read from stdin, without echo on a terminal.
    Htpasswd(htpasswd::HtpasswdArgs),
    /// Recipes of images a spec may need: `mlk image dockerfile --auth
    /// oidc` for tracking.auth.oidc.
    Image(image::ImageArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    /// A `v1` List.
    Json,
}

/// What a command prints on stdout, and its exit code.
struct Output {
    stdout: String,
    code: i32,
}

impl From<String> for Output {
    fn from(stdout: String) -> Output {
        Output { stdout, code: 0 }
    }
}

/// An error in the input itself (unreadable, not YAML): exit code 2.
#[derive(Debug)]
struct Unusable(String);

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unusable {}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    heap::tune();
    quiet_panics();
    let cli = Cli::parse();
    let mut notes = Vec::new();
    let result = run(cli, &mut notes);
    // Every line for a person passes one filter: no secret this run read,
    // no control character, no line a CI runner acts on.
    let secrets = crate::sensitive::known();
    let say = |text: &str| crate::messages::printable(text, &secrets);
    let mut stderr = std::io::stderr().lock();
    for note in &notes {
        let _ = writeln!(stderr, "{}", say(note));
    }
    match result {
        Ok(out) => match std::io::stdout().lock().write_all(out.stdout.as_bytes()) {
            Ok(()) => out.code,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => out.code,
            Err(e) => {
                let _ = writeln!(stderr, "error: writing the output: {e}");
                1
            }
        },
        Err(e) => {
            let _ = writeln!(stderr, "{}", say(&format!("error: {e:#}")));
            if e.is::<Unusable>() { 2 } else { 1 }
        }
    }
}

/// A panic is a bug in mlk, and its message may quote the input: it goes
/// through the same filter as every other line, and asks for a report.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let what = match info.payload().downcast_ref::<&str>() {
            Some(s) => (*s).to_owned(),
            None => info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default(),
        };
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()));
        let text = format!(
            "error: mlk stopped on a bug{}: {what}\nnothing was written; please report it",
            place.unwrap_or_default()
        );
        let line = match crate::sensitive::known_if_free() {
            Some(secrets) => crate::messages::printable(&text, &secrets),
            None => "error: mlk stopped on a bug; nothing was written; please report it".into(),
        };
        let _ = writeln!(std::io::stderr(), "{line}");
    }));
}

/// Everything for stdout, built in full before any of it is written;
/// `notes` collects the lines for stderr, each with its own label.
fn run(cli: Cli, notes: &mut Vec<String>) -> anyhow::Result<Output> {
    match cli.command {
        Command::Init => Ok(INIT_SPEC.to_owned().into()),
        Command::Schema { profile } => Ok(schema(profile).into()),
        Command::Completions { shell } => Ok(completions(shell).into()),
        Command::Man => man().map(Output::from),
        Command::Profiles => render::profiles().map(Output::from),
        Command::Render(args) => render::run(args, notes).map(Output::from),
        Command::Resolve(args) => resolve::run(args, notes).map(Output::from),
        Command::Validate(args) => validate::run(args, notes),
        Command::Diff(args) => diff::run(args),
        Command::Htpasswd(args) => htpasswd::run(args, notes).map(Output::from),
        Command::Image(args) => Ok(image::run(args).into()),
    }
}

fn schema(profile: bool) -> String {
    let schema = match profile {
        true => crate::layers::profile_schema(),
        false => crate::spec::schema::platform(),
    };
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema is JSON");
    text.push('\n');
    text
}

fn completions(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(
        shell,
        &mut <Cli as clap::CommandFactory>::command(),
        "mlk",
        &mut out,
    );
    String::from_utf8(out).expect("completion scripts are text")
}

fn man() -> anyhow::Result<String> {
    let mut out = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out)?;
    Ok(String::from_utf8(out)?)
}
