//! htpasswd lines with bcrypt, as `htpasswd -B` writes them (`$2y$`).
//! Errors name users and line numbers, never a password or a hash.

use sha2::{Digest, Sha256};

/// bcrypt reads at most 72 bytes; anything longer would be cut silently.
const BCRYPT_MAX: usize = 72;

/// The bcrypt costs mlk writes and accepts. nginx verifies the hash on
/// every request, and each step doubles the time; a file with a higher
/// cost would stall every login (and `mlk htpasswd --verify`).
pub const COSTS: std::ops::RangeInclusive<u32> = 4..=12;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub user: String,
    pub hash: String,
}

impl Entry {
    pub fn line(&self) -> String {
        format!("{}:{}", self.user, self.hash)
    }
}

pub fn check_user(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a user name must not be empty".into());
    }
    if name.contains(':') {
        return Err(format!(
            "user name {name:?} contains ':', which separates name and hash"
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) || name.len() > 255 {
        return Err(format!(
            "user name {name:?} must be at most 255 characters, without spaces"
        ));
    }
    Ok(())
}

pub fn check_password(user: &str, password: &str) -> Result<(), String> {
    if password.is_empty() {
        return Err(format!("the password of {user} is empty"));
    }
    if password.len() > BCRYPT_MAX {
        return Err(format!(
            "the password of {user} is longer than {BCRYPT_MAX} bytes; bcrypt would ignore the rest"
        ));
    }
    Ok(())
}

/// Hashes with a salt derived from `context` (the platform's identity),
/// the user and the password: the same inputs give the same line, so
/// re-renders do not churn, while equal passwords of two users, or of two
/// platforms, still hash differently.
pub fn hash(context: &str, user: &str, password: &str, cost: u32) -> Result<Entry, String> {
    let digest = Sha256::new()
        .chain_update(b"mlk/htpasswd\0")
        .chain_update(context.as_bytes())
        .chain_update(b"\0")
        .chain_update(user.as_bytes())
        .chain_update(b"\0")
        .chain_update(password.as_bytes())
        .finalize();
    let salt: [u8; 16] = digest[..16].try_into().expect("16 bytes");
    hash_with_salt(user, password, cost, salt)
}

/// Hashes with a salt of the caller's choosing (`mlk htpasswd` takes one
/// from the OS, as `htpasswd -B` does: its output belongs to no platform).
pub fn hash_with_salt(
    user: &str,
    password: &str,
    cost: u32,
    salt: [u8; 16],
) -> Result<Entry, String> {
    check_user(user)?;
    check_password(user, password)?;
    let parts = bcrypt::non_truncating_hash_with_salt(password, cost, salt)
        .map_err(|e| format!("hashing the password of {user}: {e}"))?;
    Ok(Entry {
        user: user.to_owned(),
        hash: parts.format_for_version(bcrypt::Version::TwoY),
    })
}

/// One hash at most, and never above the highest cost: an entry from a
/// file is checked by `parse` first.
pub fn verify(password: &str, entry: &Entry) -> bool {
    match cost_of(&entry.hash) {
        Some(c) if COSTS.contains(&c) => bcrypt::verify(password, &entry.hash).unwrap_or(false),
        _ => false,
    }
}

/// The two digits after `$2y$`.
fn cost_of(hash: &str) -> Option<u32> {
    let digits = hash.get(4..6)?;
    (hash.as_bytes().get(6) == Some(&b'$') && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())?
}

/// Parses htpasswd text: one `user:hash` a line, bcrypt hashes only (nginx
/// checks others through crypt(3), whose support varies by platform).
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let (user, hash) = line
            .split_once(':')
            .ok_or_else(|| format!("line {n}: not user:hash"))?;
        // Neither the name nor the line is quoted: the file may not be an
        // htpasswd file at all, and its text may be a secret.
        check_user(user).map_err(|_| {
            format!("line {n}: not a user name (1 to 255 characters, no ':' or spaces)")
        })?;
        let bcrypt = ["$2y$", "$2b$", "$2a$"].iter().any(|p| hash.starts_with(p));
        if !bcrypt || hash.len() != 60 {
            return Err(format!(
                "line {n}: not a bcrypt hash; write it with `mlk htpasswd` or `htpasswd -nB`"
            ));
        }
        match cost_of(hash) {
            Some(c) if COSTS.contains(&c) => {}
            _ => {
                return Err(format!(
                    "line {n}: the bcrypt cost is outside {} to {}: nginx checks the hash on \
                     every request, and each step doubles the time it takes",
                    COSTS.start(),
                    COSTS.end()
                ));
            }
        }
        entries.push(Entry {
            user: user.to_owned(),
            hash: hash.to_owned(),
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_verifiable() {
        let a = hash("ns/p", "alice", "s3cret", 4).unwrap();
        assert_eq!(a, hash("ns/p", "alice", "s3cret", 4).unwrap());
        assert!(a.hash.starts_with("$2y$04$"));
        assert!(verify("s3cret", &a));
        assert!(!verify("wrong", &a));
        assert_ne!(a.hash, hash("ns/p", "bob", "s3cret", 4).unwrap().hash);
        assert_ne!(a.hash, hash("ns/q", "alice", "s3cret", 4).unwrap().hash);
        assert_eq!(parse(&format!("{}\n", a.line())).unwrap(), vec![a]);
    }

    #[test]
    fn refuses_what_would_be_cut_or_ambiguous() {
        assert!(hash("c", "a:b", "x", 4).is_err());
        assert!(hash("c", "", "x", 4).is_err());
        assert!(hash("c", "a", "", 4).is_err());
        let long = "p".repeat(73);
        let err = hash("c", "a", &long, 4).unwrap_err();
        assert!(!err.contains(&long));
        assert!(
            parse("alice:plaintext")
                .unwrap_err()
                .starts_with("line 1: not a bcrypt")
        );
        assert!(!parse("alice:plaintext").unwrap_err().contains("plaintext"));
    }

    #[test]
    fn costs_outside_the_range_are_refused_before_any_hashing() {
        let line = |cost: &str| format!("alice:$2y${cost}${}", "a".repeat(53));
        assert!(
            parse(&line("31"))
                .unwrap_err()
                .contains("cost is outside 4 to 12")
        );
        assert!(parse(&line("03")).is_err());
        assert!(parse(&line("xx")).is_err());
        let entry = Entry {
            user: "alice".into(),
            hash: format!("$2y$31${}", "a".repeat(53)),
        };
        assert!(!verify("anything", &entry));
    }
}
