//! Where the artifacts are as KServe's storage URIs name them: a bucket
//! (`s3://B`, `gs://B`) or an Azure container
//! (`https://ACCOUNT.blob.core.windows.net/C`), and the prefix inside it.

use super::{ArtifactsPlan, AzurePlan, GcsPlan};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRoot {
    /// The bucket or container as a URI, without a trailing `/`.
    pub container: String,
    /// The folder inside it, ending in `/`, or empty.
    pub prefix: String,
    /// Whether KServe's storage initializer downloads from it: not from
    /// Azure's sovereign clouds, nor from a Blob service elsewhere.
    pub kserve_reads: bool,
    /// The database's backups' bucket or container, as a URI: no model
    /// is ever read from there.
    pub backups: Option<String>,
}

impl ModelRoot {
    pub fn new(container: String, prefix: Option<&str>) -> ModelRoot {
        let prefix = prefix.map_or(String::new(), |p| format!("{p}/"));
        ModelRoot {
            container,
            prefix,
            kserve_reads: true,
            backups: None,
        }
    }

    /// Whether `container` (as `split` gives it) is the backups'.
    pub fn is_backups(&self, container: &str) -> bool {
        self.backups
            .as_ref()
            .is_some_and(|b| b.eq_ignore_ascii_case(container))
    }

    /// Whether `container` (as `split` gives it) is this one. A host
    /// name is the same in any case, and KServe reads it so.
    pub fn holds(&self, container: &str) -> bool {
        match container.starts_with("https://") {
            true => container.eq_ignore_ascii_case(&self.container),
            false => container == self.container,
        }
    }

    /// The storage URI of a path under the artifacts' root.
    pub fn uri(&self, path: &str) -> String {
        format!(
            "{}/{}{}",
            self.container,
            self.prefix,
            path.trim_start_matches('/')
        )
    }
}

/// A storage URI's bucket or container (as a URI) and the path inside
/// it, for the stores KServe reads from a bucket.
pub fn split(uri: &str) -> Option<(&str, &str)> {
    let scheme_end = ["s3://", "gs://"]
        .iter()
        .find(|p| uri.starts_with(**p))
        .map(|p| p.len());
    let container_end = match scheme_end {
        Some(start) => uri[start..].find('/').map_or(uri.len(), |i| start + i),
        None => {
            let rest = uri.strip_prefix("https://")?;
            let (host, after) = rest.split_once('/').unwrap_or((rest, ""));
            let public = format!(".{}", crate::spec::BLOB_SUFFIXES[0]);
            if !host.to_ascii_lowercase().ends_with(&public) {
                return None;
            }
            let start = "https://".len() + host.len() + 1;
            match after.find('/') {
                Some(i) => start + i,
                None => uri.len(),
            }
        }
    };
    let path = uri[container_end..].strip_prefix('/').unwrap_or("");
    Some((&uri[..container_end], path))
}

impl ArtifactsPlan {
    /// Where the artifacts are, as a predictor's storage URI names them.
    pub fn model_root(&self) -> ModelRoot {
        let root = self.artifacts_root();
        let backups = match self {
            ArtifactsPlan::Embedded(e) => e.backups.as_ref().map(|b| format!("s3://{b}")),
            ArtifactsPlan::External(e) => e.backups.as_ref().map(|b| format!("s3://{b}")),
            ArtifactsPlan::Gcs(g) => g.backups.as_ref().map(|b| format!("gs://{b}")),
            ArtifactsPlan::Azure(z) => z
                .backups
                .as_ref()
                .map(|b| format!("https://{}.{}/{b}", z.account, z.suffix)),
        };
        ModelRoot { backups, ..root }
    }

    fn artifacts_root(&self) -> ModelRoot {
        match self {
            ArtifactsPlan::Embedded(_) | ArtifactsPlan::External(_) => {
                ModelRoot::new(format!("s3://{}", self.bucket()), None)
            }
            ArtifactsPlan::Gcs(GcsPlan { bucket, prefix, .. }) => ModelRoot::new(
                format!("gs://{bucket}"),
                prefix.as_ref().map(|p| p.as_str()),
            ),
            ArtifactsPlan::Azure(AzurePlan {
                account,
                container,
                prefix,
                suffix,
                endpoint,
                ..
            }) => ModelRoot {
                kserve_reads: *suffix == crate::spec::BLOB_SUFFIXES[0] && endpoint.is_none(),
                ..ModelRoot::new(
                    format!("https://{account}.{suffix}/{container}"),
                    prefix.as_ref().map(|p| p.as_str()),
                )
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn a_uri_splits_into_its_container_and_path() {
        assert_eq!(split("s3://b/x/y"), Some(("s3://b", "x/y")));
        assert_eq!(split("gs://b"), Some(("gs://b", "")));
        assert_eq!(
            split("https://a.blob.core.windows.net/c/p/q"),
            Some(("https://a.blob.core.windows.net/c", "p/q"))
        );
        assert_eq!(
            split("https://a.blob.core.windows.net/c"),
            Some(("https://a.blob.core.windows.net/c", ""))
        );
        assert_eq!(split("https://example.com/m.tar.gz"), None);
        assert_eq!(split("hf://org/model"), None);
    }
}
