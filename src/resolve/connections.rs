//! The database connection budget: every client of the platform's
//! PostgreSQL, at the most processes it can run at once, each pool at its
//! most. The embedded and CloudNativePG servers are given room for the sum
//! with headroom; an external one's stated limit must hold it.

use super::{ArtifactsPlan, DatabasePlan};
use crate::located::Located;
use crate::spec::Tracking;

/// SQLAlchemy's pool per engine, as mlk sets it in every MLflow process
/// (`MLFLOW_SQLALCHEMYSTORE_POOL_SIZE`, `..._MAX_OVERFLOW`): the default
/// 5 + 10 times every engine of every worker exhausts a server.
pub const POOL_SIZE: u32 = 5;
pub const MAX_OVERFLOW: u32 = 5;
/// Connections older than this are replaced, before a load balancer or a
/// proxy in front of the server drops them while idle.
pub const POOL_RECYCLE_SECONDS: u32 = 1800;
/// A SeaweedFS filer's `connection_max_open`.
pub const FILER_CONNECTIONS: u32 = 20;
/// What PostgreSQL keeps for itself and its operator: the superuser's
/// reserved slots, CloudNativePG's instance manager, a `psql` by hand.
const SERVER_OWN: u32 = 10;
/// The server's limit is the sum with this much more, in percent.
const HEADROOM_PERCENT: u32 = 25;
/// PostgreSQL's own default: never set lower.
const POSTGRES_DEFAULT: u32 = 100;

/// Who connects, and at most how many connections each holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub parts: Vec<(String, u32)>,
}

impl Budget {
    pub fn total(&self) -> u32 {
        self.parts.iter().map(|(_, n)| n).sum()
    }

    /// `max_connections` for a server mlk runs.
    pub fn max_connections(&self) -> u32 {
        let with_headroom = (self.total() * (100 + HEADROOM_PERCENT)).div_ceil(100);
        with_headroom.max(POSTGRES_DEFAULT)
    }

    fn shown(&self) -> String {
        let parts: Vec<String> = self.parts.iter().map(|(w, n)| format!("{n} {w}")).collect();
        format!("{} = {}", parts.join(" + "), self.total())
    }
}

/// MLflow opens one engine, so one pool, per store in each process: the
/// tracking store and the model registry, and the auth app's own.
fn engines(t: &Tracking) -> u32 {
    2 + u32::from(t.auth.enabled)
}

pub fn budget(t: &Tracking, db: &DatabasePlan, artifacts: &ArtifactsPlan) -> Budget {
    let per_engine = POOL_SIZE + MAX_OVERFLOW;
    let replicas = t
        .autoscaling
        .as_ref()
        .map_or(t.replicas, |a| a.max_replicas);
    // A rollout runs one more replica beside the rest (maxSurge: 1).
    let pods = replicas + 1;
    let workers = t.workers.0 + u32::from(t.job_execution);
    let mut parts = vec![(
        format!(
            "tracking ({pods} pods x {workers} processes x {} pools of {per_engine})",
            engines(t)
        ),
        pods * workers * engines(t) * per_engine,
    )];
    // Each pod's migration step holds the lock and migrates, on two.
    parts.push((format!("migration steps ({pods} x 2)"), pods * 2));
    if t.gc.is_some() {
        parts.push((format!("gc (2 pools of {per_engine})"), 2 * per_engine));
    }
    if let DatabasePlan::Embedded { spec, .. } = db
        && spec.backup.is_some()
    {
        parts.push(("pg_dump".into(), 1));
    }
    if let ArtifactsPlan::Embedded(e) = artifacts
        && e.filer_password.is_some()
    {
        // Three or more volume servers make a cluster, of the default
        // shape unless `cluster` says.
        let filers = e.spec.cluster.clone().unwrap_or_default().filers;
        parts.push((
            format!("SeaweedFS filers ({filers} x {FILER_CONNECTIONS})"),
            filers * FILER_CONNECTIONS,
        ));
    }
    if !matches!(db, DatabasePlan::External(_)) {
        parts.push(("PostgreSQL's own".into(), SERVER_OWN));
    }
    Budget { parts }
}

/// An external server's stated limit (`maxConnections`) holds the
/// platform at its largest.
pub fn check_external(b: &Budget, max_connections: Option<u32>) -> Result<(), Located> {
    match max_connections {
        Some(max) if b.total() > max => Err(Located::new(
            "spec",
            Some("database.external.maxConnections"),
            format!(
                "the platform may open {} connections at once, more than the server's {max}: {}. \
                 Raise the server's max_connections (and this), lower tracking.workers or the \
                 most replicas, or put PgBouncer in front",
                b.total(),
                b.shown()
            ),
        )),
        _ => Ok(()),
    }
}
