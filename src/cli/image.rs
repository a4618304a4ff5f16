//! `mlk image dockerfile`: the recipe of a tracking image a spec needs
//! and MLflow does not publish.

use clap::{Args, Subcommand, ValueEnum};

#[derive(Args)]
pub struct ImageArgs {
    #[command(subcommand)]
    command: ImageCommand,
}

#[derive(Subcommand)]
enum ImageCommand {
    /// Print the Dockerfile of a tracking image; build and push it, then
    /// name it in tracking.image.
    Dockerfile {
        /// The login the image serves: `oidc` adds the mlflow-oidc-auth
        /// plugin (tracking.auth.oidc).
        #[arg(long, value_enum)]
        auth: Login,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Login {
    Oidc,
}

pub fn run(args: ImageArgs) -> String {
    match args.command {
        ImageCommand::Dockerfile { auth: Login::Oidc } => crate::resolve::oidc_dockerfile(),
    }
}
