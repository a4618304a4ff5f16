//! The metadata store, one provider for each kind of PostgreSQL: the
//! embedded StatefulSet, a CloudNativePG Cluster, or an external server.
//! Each answers the same questions for every consumer (the migration
//! step, the tracking server, gc, the backup CronJob, the
//! NetworkPolicies): how to reach it, what it runs, and what may be
//! dumped. `provider` is the one place that looks at the kind.

mod ca;
mod cloudnativepg;
mod embedded;
mod external;

pub use cloudnativepg::ClusterContext;
pub use embedded::PostgresContext;

use super::access::DbAccess;
use super::naming::Naming;
use super::network_policy::{Group, Path, Peer};
use super::objectstore::{self, ObjectStore};
use super::secret::SecretObject;
use crate::resolve::DatabasePlan;
use crate::spec::{EmbeddedBackup, NetworkPolicy, Pods};

/// PostgreSQL's port, wherever it runs.
pub const PORT: u16 = 5432;

/// What the platform runs of a database itself, each for its template.
#[derive(Default)]
pub struct Objects {
    pub postgres: Option<PostgresContext>,
    pub cloudnativepg: Option<ClusterContext>,
}

/// A database the platform dumps on a schedule itself: what `pg_dump`
/// connects to, with which image, and how often.
pub struct Dump<'a> {
    pub host: String,
    pub user: &'a str,
    pub database: &'a str,
    pub image: String,
    pub pods: &'a Pods,
    pub schedule: &'a EmbeddedBackup,
    /// The database's volume: no dump is larger.
    pub storage: &'a crate::types::Quantity,
}

/// The network paths of the database, its clients' among them.
pub struct Network {
    pub groups: Vec<Group>,
    pub paths: Vec<Path>,
}

pub trait Database {
    /// How every workload reaches it.
    fn access(&self) -> &DbAccess;
    /// Secrets of credentials its own objects do not render.
    fn secrets(&self) -> Vec<SecretObject>;
    /// What a backup CronJob dumps, when the platform dumps it itself.
    fn dump(&self) -> Option<Dump<'_>>;
    /// Its paths: `clients` to it, and its own pods' (to the artifact
    /// store at `s3`, when it archives there).
    fn network(
        &self,
        n: &Naming,
        np: &NetworkPolicy,
        clients: &[Peer],
        s3: &objectstore::Network,
    ) -> Network;
    fn objects(self: Box<Self>) -> Objects;
}

/// The provider of the database the plan names; CloudNativePG archives
/// into `store`. A server the platform runs takes `max_connections`.
pub fn provider<'a>(
    n: &Naming,
    plan: &'a DatabasePlan,
    store: &dyn ObjectStore,
    max_connections: u64,
) -> Box<dyn Database + 'a> {
    match plan {
        DatabasePlan::Embedded { spec, password } => {
            Box::new(embedded::Embedded::new(n, spec, password, max_connections))
        }
        DatabasePlan::CloudNativePg(spec) => {
            Box::new(cloudnativepg::Cnpg::new(n, spec, store, max_connections))
        }
        DatabasePlan::External(plan) => Box::new(external::External::new(n, plan)),
    }
}

/// Where a store keeps a database of its own (`ObjectStore::tenant`):
/// the primary of a CloudNativePG Cluster, the one kind that hosts one.
pub fn tenant_host(n: &Naming, plan: &DatabasePlan) -> Option<String> {
    match plan {
        DatabasePlan::CloudNativePg(_) => Some(cloudnativepg::primary_host(n)),
        DatabasePlan::Embedded { .. } | DatabasePlan::External(_) => None,
    }
}

/// `postgresql+psycopg://` names the driver (psycopg 3) rather than leave
/// it to SQLAlchemy's default, which changed between releases.
fn uri(user: &str, host: &str, port: u16, db: &str, ssl_mode: Option<&str>) -> String {
    let query = ssl_mode
        .map(|m| format!("?sslmode={m}"))
        .unwrap_or_default();
    format!("postgresql+psycopg://{user}@{host}:{port}/{db}{query}")
}

/// Every client to `to` on `port`.
fn clients_to(clients: &[Peer], to: &Peer, port: u16) -> Vec<Path> {
    clients.iter().map(|c| Path::new(c, to, &[port])).collect()
}
