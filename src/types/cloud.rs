//! Names in Google Cloud Storage and Azure Blob Storage, by each cloud's
//! own rules, so a typo fails when the spec is read rather than when the
//! first artifact is uploaded.

use super::string_newtype;

fn lower_or_digit(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// A GCS bucket: 3 to 63 lowercase letters, digits, `-`, `_` and `.`,
/// starting and ending with a letter or digit, and never `goog...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcsBucket(String);
string_newtype!(GcsBucket);

impl GcsBucket {
    fn parse(s: &str) -> Result<(), String> {
        let b = s.as_bytes();
        let ok = (3..=63).contains(&b.len())
            && b.iter().all(|&c| lower_or_digit(c) || b"-_.".contains(&c))
            && lower_or_digit(b[0])
            && lower_or_digit(b[b.len() - 1])
            && !s.contains("..")
            && !s.starts_with("goog")
            && !s.contains("google");
        match ok {
            true => Ok(()),
            false => Err(format!(
                "{s:?} is not a GCS bucket name: 3 to 63 lowercase letters, digits, '-', '_' or \
                 '.', starting and ending with a letter or digit, without \"goog\" or \"google\""
            )),
        }
    }
}

/// An Azure storage account: 3 to 24 lowercase letters and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageAccount(String);
string_newtype!(StorageAccount);

impl StorageAccount {
    fn parse(s: &str) -> Result<(), String> {
        match (3..=24).contains(&s.len()) && s.bytes().all(lower_or_digit) {
            true => Ok(()),
            false => Err(format!(
                "{s:?} is not a storage account name: 3 to 24 lowercase letters and digits"
            )),
        }
    }
}

/// An Azure Blob container: 3 to 63 lowercase letters, digits and single
/// `-`, starting and ending with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobContainer(String);
string_newtype!(BlobContainer);

impl BlobContainer {
    fn parse(s: &str) -> Result<(), String> {
        let b = s.as_bytes();
        let ok = (3..=63).contains(&b.len())
            && b.iter().all(|&c| lower_or_digit(c) || c == b'-')
            && lower_or_digit(b[0])
            && lower_or_digit(b[b.len() - 1])
            && !s.contains("--");
        match ok {
            true => Ok(()),
            false => Err(format!(
                "{s:?} is not a blob container name: 3 to 63 lowercase letters, digits and \
                 single '-', starting and ending with a letter or digit"
            )),
        }
    }
}

/// A folder inside a bucket or container: `/`-separated segments of
/// letters, digits, `.`, `_` and `-`, none empty, `.` or `..`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPrefix(String);
string_newtype!(ObjectPrefix);

impl ObjectPrefix {
    fn parse(s: &str) -> Result<(), String> {
        let segment_ok = |seg: &str| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c))
        };
        match s.len() <= 512 && s.split('/').all(segment_ok) {
            true => Ok(()),
            false => Err(format!(
                "{s:?} is not a prefix: folders of letters, digits, '.', '_' or '-' joined by \
                 '/', with no leading or trailing '/' and no '.' or '..'"
            )),
        }
    }
}

/// A Google service account's email: `NAME@PROJECT.iam.gserviceaccount.com`,
/// or a default account (`N-compute@developer.gserviceaccount.com`,
/// `PROJECT@appspot.gserviceaccount.com`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcpServiceAccount(String);
string_newtype!(GcpServiceAccount);

impl GcpServiceAccount {
    fn parse(s: &str) -> Result<(), String> {
        let id = |part: &str, len: std::ops::RangeInclusive<usize>| {
            let b = part.as_bytes();
            len.contains(&b.len())
                && lower_or_digit(b[0])
                && lower_or_digit(b[b.len() - 1])
                && b.iter().all(|&c| lower_or_digit(c) || c == b'-')
        };
        let ok = s.split_once('@').is_some_and(|(name, domain)| {
            match domain.strip_suffix(".iam.gserviceaccount.com") {
                Some(project) => id(name, 6..=30) && id(project, 6..=30),
                None => {
                    [
                        "developer.gserviceaccount.com",
                        "appspot.gserviceaccount.com",
                    ]
                    .contains(&domain)
                        && id(name, 1..=64)
                }
            }
        });
        match ok {
            true => Ok(()),
            false => Err(format!(
                "{s:?} is not a Google service account: NAME@PROJECT.iam.gserviceaccount.com"
            )),
        }
    }
}

/// A Microsoft Entra ID: a client (application) or a tenant, as a GUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraId(String);
string_newtype!(EntraId);

impl EntraId {
    fn parse(s: &str) -> Result<(), String> {
        let groups: Vec<&str> = s.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        let ok = groups.len() == 5
            && groups
                .iter()
                .zip(lens)
                .all(|(g, n)| g.len() == n && g.bytes().all(|c| c.is_ascii_hexdigit()));
        match ok {
            true => Ok(()),
            false => Err(format!(
                "{s:?} is not an Entra ID: a GUID such as 00000000-0000-0000-0000-000000000000"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cloud_names_by_its_own_rules() {
        for ok in ["mlflow", "my_bucket.v2", "a-1"] {
            assert!(GcsBucket::check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "Mlflow",
            "googbucket",
            "my-google-bucket",
            "-a-",
            "a..b",
        ] {
            assert!(GcsBucket::check(bad).is_err(), "{bad}");
        }
        assert!(StorageAccount::check("mlflowprod01").is_ok());
        for bad in ["ml", "ml-flow", "MLFLOW", &"a".repeat(25)] {
            assert!(StorageAccount::check(bad).is_err(), "{bad}");
        }
        assert!(BlobContainer::check("mlflow-artifacts").is_ok());
        for bad in ["ml", "ml--flow", "-ml", "ml_flow", "Ml"] {
            assert!(BlobContainer::check(bad).is_err(), "{bad}");
        }
        for ok in ["mlflow", "team-a/mlflow", "v1.2_x"] {
            assert!(ObjectPrefix::check(ok).is_ok(), "{ok}");
        }
        for bad in ["", "/a", "a/", "a//b", "a/../b", "a b", "a\nb"] {
            assert!(ObjectPrefix::check(bad).is_err(), "{bad:?}");
        }
        assert!(GcpServiceAccount::check("mlflow@my-project.iam.gserviceaccount.com").is_ok());
        assert!(GcpServiceAccount::check("123456-compute@developer.gserviceaccount.com").is_ok());
        for bad in [
            "mlflow@my-project",
            "m@my-project.iam.gserviceaccount.com",
            "x",
        ] {
            assert!(GcpServiceAccount::check(bad).is_err(), "{bad}");
        }
        assert!(EntraId::check("0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b").is_ok());
        assert!(EntraId::check("0f1e2d3c-4b5a-6978-8a9b").is_err());
    }
}
