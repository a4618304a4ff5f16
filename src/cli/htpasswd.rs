//! `mlk htpasswd`: one bcrypt line, or a check of a password against a file.

use std::path::PathBuf;

use anyhow::Context as _;

#[derive(clap::Args)]
pub struct HtpasswdArgs {
    /// Check the password against USER's line in FILE instead.
    #[arg(long, value_name = "FILE")]
    verify: Option<PathBuf>,
    /// bcrypt cost (4 to 12): nginx pays for it on every request.
    #[arg(long, default_value_t = crate::spec::DEFAULT_COST)]
    cost: u32,
    user: String,
}

pub fn run(args: HtpasswdArgs, notes: &mut Vec<String>) -> anyhow::Result<String> {
    use crate::htpasswd as ht;
    crate::spec::Cost::try_from(i64::from(args.cost)).map_err(anyhow::Error::msg)?;
    ht::check_user(&args.user).map_err(anyhow::Error::msg)?;
    let Some(file) = args.verify else {
        let password = read_password()?;
        let entry = ht::hash_with_salt(&args.user, &password, args.cost, random_salt()?)
            .map_err(anyhow::Error::msg)?;
        return Ok(format!("{}\n", entry.line()));
    };
    let text = crate::spec_files::read_stream_file(&file)
        .and_then(
            |t| match t.len() as u64 > crate::spec_files::MAX_FILE_BYTES {
                true => Err("is larger than an htpasswd file may be".to_owned()),
                false => Ok(t),
            },
        )
        .map_err(|e| anyhow::anyhow!("reading {}: it {e}", file.display()))?;
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

/// bcrypt reads 72 bytes; a line break, and room to say it is too long.
const MAX_STDIN: u64 = 1024;

/// One line from stdin; on a terminal, asked for without echo.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Password: ").context("reading the password");
    }
    // One line, and never more than a password can be: stdin may be
    // anything a pipeline connects.
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(std::io::Read::take(std::io::stdin(), MAX_STDIN)),
        &mut line,
    )
    .context("reading the password from stdin")?;
    let line = line.strip_suffix('\n').unwrap_or(&line);
    Ok(line.strip_suffix('\r').unwrap_or(line).to_owned())
}
