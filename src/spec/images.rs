//! One registry for every image mlk ships by default, for clusters that
//! pull only from a mirror.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::types::Image;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Images {
    /// Replaces the registry of every default image (mlflow, postgres,
    /// minio, mc, CloudNativePG's): `registry.corp.example/mirror` turns
    /// `ghcr.io/mlflow/mlflow:TAG` into
    /// `registry.corp.example/mirror/mlflow/mlflow:TAG`. An image set in
    /// the spec is left as written.
    pub registry: Option<Registry>,
}

/// A registry host, with a port and a path when it has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry(String);
crate::types::string_newtype!(Registry);

impl Registry {
    fn parse(s: &str) -> Result<(), String> {
        let (host, path) = s.split_once('/').unwrap_or((s, ""));
        let (name, port) = host.split_once(':').unwrap_or((host, "1"));
        let host_ok = crate::types::Host::try_from(name.to_owned()).is_ok()
            && (name.contains('.') || name == "localhost");
        let port_ok = port.parse::<u16>().is_ok_and(|p| p > 0);
        let path_ok = path.is_empty()
            || path.split('/').all(|seg| {
                !seg.is_empty()
                    && seg.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && seg
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            });
        match host_ok && port_ok && path_ok {
            true => Ok(()),
            false => Err(format!(
                "{s:?} is not a registry prefix: a host with a dot (and a port), then lowercase \
                 path segments, such as registry.corp.example/mirror"
            )),
        }
    }

    /// `image` from this registry: its own registry (the first path
    /// segment) replaced.
    pub fn rehome(&self, image: &Image) -> Image {
        let text = image.as_str();
        let rest = text.split_once('/').map_or(text, |(_, rest)| rest);
        Image::try_from(format!("{}/{rest}", self.0))
            .expect("a registry prefix keeps an image valid")
    }
}

/// Every image mlk ships as a default.
const DEFAULTS: [&str; 6] = [
    super::tracking::MLFLOW_IMAGE,
    super::database::POSTGRES_IMAGE,
    super::database::CNPG_IMAGE,
    super::artifacts::MINIO_IMAGE,
    super::artifacts::MC_IMAGE,
    super::artifacts::SEAWEEDFS_IMAGE,
];

impl super::PlatformSpec {
    /// Moves every image still at its default to `images.registry`.
    pub fn rehome_default_images(&mut self) {
        let Some(registry) = self.images.registry.clone() else {
            return;
        };
        let rehome = |image: &mut Image| {
            if DEFAULTS.contains(&image.as_str()) {
                *image = registry.rehome(image);
            }
        };
        rehome(&mut self.tracking.image);
        if let Some(db) = &mut self.database.embedded {
            rehome(&mut db.image);
        }
        if let Some(cnpg) = &mut self.database.cloudnativepg {
            rehome(&mut cnpg.image);
        }
        if let Some(store) = &mut self.artifacts.embedded {
            let (mut server, mut client) = (store.server_image(), store.client_image());
            rehome(&mut server);
            rehome(&mut client);
            store.image = Some(server);
            if store.engine == super::Engine::Minio {
                store.mc_image = Some(client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rehomes_the_registry_part() {
        let r = Registry::try_from("registry.corp.example/mirror".to_owned()).unwrap();
        let image = Image::try_from("ghcr.io/mlflow/mlflow:v3.17.2-full".to_owned()).unwrap();
        assert_eq!(
            r.rehome(&image).as_str(),
            "registry.corp.example/mirror/mlflow/mlflow:v3.17.2-full"
        );
        for bad in [
            "",
            "Registry.example",
            "mirror",
            "r.example/UP",
            "r.example//x",
            "r.example:0",
            "r.example/a b",
        ] {
            assert!(Registry::try_from(bad.to_owned()).is_err(), "{bad}");
        }
        assert!(Registry::try_from("localhost:5000".to_owned()).is_ok());
    }
}
