use super::string_newtype;

/// An S3 bucket name, by the rules S3 and MinIO share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketName(String);
string_newtype!(BucketName);

impl BucketName {
    fn parse(s: &str) -> Result<(), String> {
        let b = s.as_bytes();
        let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        let inner = |c: &u8| edge(*c) || *c == b'-' || *c == b'.';
        let ok = (3..=63).contains(&b.len())
            && b.iter().all(inner)
            && edge(b[0])
            && edge(b[b.len() - 1])
            && !s.contains("..");
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is not a valid bucket name: 3 to 63 lowercase letters, digits, '-' or '.', \
                 starting and ending with a letter or digit"
            ))
        }
    }
}
