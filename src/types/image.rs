use super::string_newtype;

/// A container image reference pinned by tag or digest. `latest`, and a
/// reference without tag or digest, are refused: a re-render must mean
/// the same bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image(String);
string_newtype!(Image);

impl Image {
    fn parse(s: &str) -> Result<(), String> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || "-._/:@".contains(c);
        if s.is_empty() || !s.chars().all(ok_char) {
            return Err(format!("{s:?} is not an image reference"));
        }
        if s.contains('@') {
            return Ok(());
        }
        let last = s.rsplit('/').next().unwrap_or(s);
        match last.split_once(':') {
            Some((_, "latest")) => Err(format!("{s:?} uses the tag `latest`; pin a version")),
            Some((_, tag)) if !tag.is_empty() => Ok(()),
            _ => Err(format!("{s:?} has no tag; pin a version, e.g. `{s}:1.2.3`")),
        }
    }

    /// The repository without its registry: `mlflow/mlflow` for
    /// `ghcr.io/mlflow/mlflow:v3.17.2` and for a mirror's copy of it.
    pub fn path(&self) -> &str {
        let name = self.0.split('@').next().unwrap_or(&self.0);
        let repository = match name.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => repo,
            _ => name,
        };
        match repository.split_once('/') {
            Some((host, rest)) if host.contains(['.', ':']) || host == "localhost" => rest,
            _ => repository,
        }
    }

    /// The tag, when the reference has one.
    pub fn tag(&self) -> Option<&str> {
        let name = self.0.split('@').next().unwrap_or(&self.0);
        let last = name.rsplit('/').next().unwrap_or(name);
        last.split_once(':').map(|(_, tag)| tag)
    }

    /// MLflow's published images (`ghcr.io/mlflow/mlflow`), or a mirror's
    /// copy under any registry and prefix: they carry no plugin.
    pub fn is_stock_mlflow(&self) -> bool {
        let path = self.path();
        let published = path == "mlflow/mlflow"
            && (self.0.starts_with("ghcr.io/") || self.0.starts_with("docker.io/"));
        // A copy elsewhere keeps MLflow's tags (`v3.17.2`, `v3.17.2-full`);
        // an image of one's own under the same path has tags of its own.
        let copy = path.ends_with("/mlflow/mlflow") || path == "mlflow/mlflow";
        published || (copy && self.tag().and_then(mlflow_release_tag).is_some())
    }

    /// The MLflow release a stock image carries, from its tag
    /// (`v3.17.2-full`); none for another image, or a digest alone.
    pub fn mlflow_release(&self) -> Option<(u32, u32, u32)> {
        match self.is_stock_mlflow() {
            true => mlflow_release_tag(self.tag()?),
            false => None,
        }
    }

    pub(crate) fn builtin(s: &str) -> Image {
        debug_assert!(Image::parse(s).is_ok(), "{s:?}");
        Image(s.to_owned())
    }
}

/// MLflow's release tags: `vMAJOR.MINOR.PATCH`, and a variant after `-`.
fn mlflow_release_tag(tag: &str) -> Option<(u32, u32, u32)> {
    let version = tag.strip_prefix('v')?.split('-').next()?;
    let mut parts = version
        .split('.')
        .map(|p| match p.bytes().all(|b| b.is_ascii_digit()) {
            true => p.parse::<u32>().ok(),
            false => None,
        });
    let release = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(release)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_tag_leave_out_the_registry() {
        let image = |s: &str| Image::try_from(s.to_owned()).unwrap();
        let stock = image("ghcr.io/mlflow/mlflow:v3.17.2-full");
        assert_eq!(
            (stock.path(), stock.tag()),
            ("mlflow/mlflow", Some("v3.17.2-full"))
        );
        let mirror = image("localhost:5000/mlflow/mlflow:v3.9.0@sha256:abc");
        assert_eq!(
            (mirror.path(), mirror.tag()),
            ("mlflow/mlflow", Some("v3.9.0"))
        );
        let hub = image("mlflow/mlflow:v3.1.0");
        assert_eq!(hub.path(), "mlflow/mlflow");
        assert_eq!(image("x@sha256:abc").tag(), None);
    }

    #[test]
    fn stock_images_and_their_release_are_known_under_any_registry() {
        let image = |s: &str| Image::try_from(s.to_owned()).unwrap();
        let release = |s: &str| image(s).mlflow_release();
        assert_eq!(
            release("ghcr.io/mlflow/mlflow:v3.17.2-full"),
            Some((3, 17, 2))
        );
        let mirror = "harbor.example.com/ghcr/mlflow/mlflow:v3.9.1";
        assert_eq!(release(mirror), Some((3, 9, 1)));
        assert_eq!(release("ghcr.io/mlflow/mlflow@sha256:abc"), None);
        assert!(image("ghcr.io/mlflow/mlflow@sha256:abc").is_stock_mlflow());
        assert!(image("localhost:5000/ghcr.io/mlflow/mlflow:v3.1.0").is_stock_mlflow());
        let own = "registry.example.com/platform/mlflow/mlflow:3.17.2-oidc";
        assert!(!image(own).is_stock_mlflow());
        assert!(!image("localhost:5000/ghcr.io/mlflow/mlflow@sha256:abc").is_stock_mlflow());
        let own = "registry.example.com/mlflow/mlflow-oidc:3.17.2";
        assert!(!image(own).is_stock_mlflow());
        assert_eq!(release(own), None);
    }

    #[test]
    fn pinned_only() {
        assert!(Image::parse("ghcr.io/mlflow/mlflow:v3.17.2-full").is_ok());
        assert!(Image::parse("localhost:5000/x@sha256:abc").is_ok());
        assert!(Image::parse("localhost:5000/x").is_err());
        assert!(Image::parse("postgres:latest").is_err());
        assert!(Image::parse("postgres").is_err());
        assert!(Image::parse("a b:1").is_err());
    }
}
