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
const SERVER_OWN: u64 = 10;
/// The server's limit is the sum with this much more, in percent.
const HEADROOM_PERCENT: u64 = 25;
/// PostgreSQL's own default: never set lower.
const POSTGRES_DEFAULT: u64 = 100;

/// `max_connections` moves in steps of this many, so a small change of
/// workers or replicas does not restart the database.
const STEP: u64 = 50;

/// Who connects, and at most how many connections each holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub parts: Vec<(String, u64)>,
}

impl Budget {
    pub fn total(&self) -> u64 {
        self.parts
            .iter()
            .map(|(_, n)| n)
            .fold(0, |a, b| a.saturating_add(*b))
    }

    /// `max_connections` for a server mlk runs.
    pub fn max_connections(&self) -> u64 {
        let with_headroom = (self.total().saturating_mul(100 + HEADROOM_PERCENT)).div_ceil(100);
        with_headroom
            .div_ceil(STEP)
            .saturating_mul(STEP)
            .max(POSTGRES_DEFAULT)
    }

    fn shown(&self) -> String {
        let parts: Vec<String> = self.parts.iter().map(|(w, n)| format!("{n} {w}")).collect();
        format!("{} = {}", parts.join(" + "), self.total())
    }
}

/// MLflow opens one engine, so one pool, per store in each process: the
/// tracking store and the model registry, and the login app's own
/// (MLflow's auth app or the OIDC plugin).
fn engines(t: &Tracking) -> u64 {
    2 + u64::from(t.auth.enabled || t.auth.oidc.is_some())
}

pub fn budget(t: &Tracking, db: &DatabasePlan, artifacts: &ArtifactsPlan) -> Budget {
    let per_engine = u64::from(POOL_SIZE + MAX_OVERFLOW);
    let replicas = t
        .autoscaling
        .as_ref()
        .map_or(t.replicas, |a| a.max_replicas);
    let replicas = u64::from(replicas);
    // In a rollout: the new replicas, one more (maxSurge: 1), and the old
    // ones still draining (for up to their grace period), each holding
    // its pools.
    let pods = replicas.saturating_mul(2).saturating_add(1);
    let workers = u64::from(t.workers.0) + u64::from(t.job_execution);
    let tracking = [pods, workers, engines(t), per_engine]
        .iter()
        .fold(1u64, |a, b| a.saturating_mul(*b));
    let mut parts = vec![(
        format!(
            "tracking ({pods} pods x {workers} processes x {} pools of {per_engine})",
            engines(t)
        ),
        tracking,
    )];
    // Each new pod's migration step holds the lock and migrates, on two;
    // a login app's migration and logins (its alembic run, its store)
    // take one more while the lock is held.
    let starting = replicas.saturating_add(1);
    let per_step = engines(t);
    parts.push((
        format!("migration steps ({starting} x {per_step})"),
        starting.saturating_mul(per_step),
    ));
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
        let filers = u64::from(e.spec.cluster.clone().unwrap_or_default().filers);
        parts.push((
            format!("SeaweedFS filers ({filers} x {FILER_CONNECTIONS})"),
            filers.saturating_mul(u64::from(FILER_CONNECTIONS)),
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
        Some(max) if b.total() > u64::from(max) => Err(Located::new(
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
