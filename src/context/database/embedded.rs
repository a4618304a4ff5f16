//! The embedded PostgreSQL: a StatefulSet with its own volume, behind a
//! headless Service, dumped on a schedule when `backup` is set.

use serde::Serialize;

use super::super::access::DbAccess;
use super::super::component::Component;
use super::super::naming::{Labels, Naming};
use super::super::network_policy::{Group, Peer};
use super::super::objectstore;
use super::super::pod::PodTemplate;
use super::super::secret::{EnvEntry, SecretBinder, SecretFiles, SecretMount, SecretObject};
use super::super::security;
use super::super::workload::CronJob;
use super::{Database, Dump, Network, Objects, PORT, clients_to};
use crate::resolve::SecretValue;
use crate::spec::{EmbeddedDatabase, NetworkPolicy, Resources, SecretRef, Storage};
/// A subdirectory of the volume: initdb refuses a mount point that holds
/// `lost+found`, as many volumes do.
const PGDATA: &str = "/var/lib/postgresql/data/pgdata";

#[derive(Debug, Serialize)]
pub struct PostgresContext {
    pub name: String,
    pub labels: Labels,
    pub selector: Labels,
    pub secret: Option<SecretObject>,
    pub image: String,
    pub port: u16,
    pub env: Vec<EnvEntry>,
    /// Settings for the server (the connection budget's limit).
    pub args: Vec<String>,
    /// The password, as a file the image's entrypoint reads.
    pub secret_files: Option<SecretMount>,
    pub probe: Vec<String>,
    pub resources: Resources,
    /// The size of `/dev/shm`, a memory-backed emptyDir: a container's
    /// own is 64 MiB, which parallel queries outgrow.
    pub shm_size: String,
    pub storage: Storage,
    pub pod: PodTemplate,
    /// `pg_dump` on a schedule, when asked for: a consumer of both stores,
    /// built beside them, rendered with the database it dumps.
    pub backup: Option<CronJob>,
}

/// The provider.
pub struct Embedded<'a> {
    ctx: PostgresContext,
    access: DbAccess,
    spec: &'a EmbeddedDatabase,
    host: String,
}

impl<'a> Embedded<'a> {
    pub fn new(
        n: &Naming,
        spec: &'a EmbeddedDatabase,
        password: &SecretValue,
        max_connections: u64,
    ) -> Self {
        let (mut ctx, password) = build(n, spec, password);
        // The image's entrypoint hands `-c` settings to postgres.
        ctx.args = vec!["-c".into(), format!("max_connections={max_connections}")];
        let host = n.fqdn(&ctx.name);
        let uri = super::uri(
            spec.user.as_str(),
            &host,
            PORT,
            spec.database.as_str(),
            None,
        );
        Embedded {
            ctx,
            access: DbAccess {
                uri,
                password,
                ca: None,
            },
            spec,
            host,
        }
    }
}

impl Database for Embedded<'_> {
    fn access(&self) -> &DbAccess {
        &self.access
    }

    fn secrets(&self) -> Vec<SecretObject> {
        Vec::new()
    }

    fn dump(&self) -> Option<Dump<'_>> {
        let schedule = self.spec.backup.as_ref()?;
        Some(Dump {
            host: self.host.clone(),
            user: self.spec.user.as_str(),
            database: self.spec.database.as_str(),
            image: self.spec.image.to_string(),
            pods: &self.spec.pods,
            schedule,
            storage: &self.spec.storage.size,
        })
    }

    fn network(
        &self,
        n: &Naming,
        _: &NetworkPolicy,
        clients: &[Peer],
        _: &objectstore::Network,
    ) -> Network {
        let group = Group {
            name: "postgres".into(),
            pods: n.selector(Component::Database),
        };
        Network {
            paths: clients_to(clients, &Peer::Group(group.clone()), PORT),
            groups: vec![group],
        }
    }

    fn objects(self: Box<Self>) -> Objects {
        Objects {
            postgres: Some(self.ctx),
            cloudnativepg: None,
        }
    }
}

/// The context, and where the password lives for the tracking server.
fn build(
    n: &Naming,
    spec: &EmbeddedDatabase,
    password: &SecretValue,
) -> (PostgresContext, SecretRef) {
    let name = n.name(Component::Database);
    let mut secret = SecretBinder::new(n.object("db"));
    let password = secret.bind("password", password);
    let user = spec.user.as_str();
    let db = spec.database.as_str();
    let mut files = SecretFiles::default();
    let password_file = files.file("postgres-password", &password);
    let ctx = PostgresContext {
        labels: n.labels(Component::Database),
        selector: n.selector(Component::Database),
        secret: secret.finish(),
        image: spec.image.to_string(),
        port: PORT,
        env: vec![
            EnvEntry::plain("POSTGRES_USER", user),
            EnvEntry::plain("POSTGRES_DB", db),
            EnvEntry::plain("POSTGRES_PASSWORD_FILE", password_file),
            EnvEntry::plain("PGDATA", PGDATA),
        ],
        args: Vec::new(),
        secret_files: files.finish(),
        // Over TCP, not the socket: the image's first-start initdb serves
        // the socket only, and is not ready for the tracking server yet.
        probe: [
            "pg_isready",
            "-h",
            "127.0.0.1",
            "-p",
            &PORT.to_string(),
            "-U",
            user,
            "-d",
            db,
        ]
        .map(String::from)
        .to_vec(),
        resources: spec.resources.clone(),
        shm_size: shm_size(&spec.resources),
        storage: spec.storage.clone(),
        pod: n.pods(&spec.pods).template(
            &n.labels(Component::Database),
            &std::collections::BTreeMap::new(),
            None,
            security::pod(security::POSTGRES_UID),
        ),
        backup: None,
        name,
    };
    (ctx, password)
}

/// A quarter of the memory limit, between 64 MiB and 1 GiB: the
/// segments parallel queries share are counted against that limit, as
/// the rest of the memory-backed volume is.
pub(super) fn shm_size(r: &Resources) -> String {
    const MI: f64 = 1024.0 * 1024.0;
    let limit = r.limits.memory.as_ref().or(r.requests.memory.as_ref());
    let quarter = limit.map_or(256.0, |q| q.value() / MI / 4.0);
    format!("{}Mi", quarter.clamp(64.0, 1024.0).floor())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shm_is_a_quarter_of_the_memory_limit_within_bounds() {
        let r = |limit: &str| Resources::new("100m", "128Mi", None, limit);
        assert_eq!(shm_size(&r("2Gi")), "512Mi");
        assert_eq!(shm_size(&r("128Mi")), "64Mi");
        assert_eq!(shm_size(&r("64Gi")), "1024Mi");
    }
}
