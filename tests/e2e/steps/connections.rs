//! The connection budget holds under load: many clients at once, and the
//! server never holds more connections to PostgreSQL than its share of
//! the budget (workers x engines x pool), as the rendered pool env says.

use super::*;

/// Clients at once, each asking this many times.
const CLIENTS: usize = 60;
const REQUESTS: usize = 5;

impl Harness {
    pub(super) fn connection_budget(&mut self) -> Result<String, String> {
        let r = self.rendered();
        let pod = &r.get("Deployment", "mlflow-tracking")?["spec"]["template"]["spec"];
        let server = &pod["containers"][0];
        let env: BTreeMap<String, String> = r.env(server)?.into_iter().collect();
        let pool = |k: &str| -> Result<u64, String> {
            let v = env.get(k).ok_or(format!("no {k} in the server's env"))?;
            v.parse().map_err(|e| format!("{k}: {e}"))
        };
        let idle = pool("MLFLOW_SQLALCHEMYSTORE_POOL_SIZE")?;
        let per_engine = idle + pool("MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW")?;
        let args: Vec<String> = seq(&server["args"])
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        let after = |flag: &str| args.iter().skip_while(|a| *a != flag).nth(1).cloned();
        let workers: u64 = after("--workers")
            .and_then(|w| w.parse().ok())
            .ok_or("no --workers")?;
        let engines = 2 + u64::from(after("--app-name").is_some());
        // The load uses the tracking store's engine, up to its pool's
        // most; another engine keeps at most its pool size open, idle.
        // SQLAlchemy's default (5 + 10) would go past this.
        let bound = workers * (per_engine + (engines - 1) * idle);
        let port = self.loopback().port("mlflow-tracking")?;
        let count = "select count(*) from pg_stat_activity where backend_type = 'client backend' \
                     and datname = current_database() and pid <> pg_backend_pid()";
        let done = std::sync::atomic::AtomicBool::new(false);
        let mut most = 0u64;
        let mut failed = Vec::new();
        std::thread::scope(|s| {
            let clients: Vec<_> = (0..CLIENTS)
                .map(|_| {
                    s.spawn(|| {
                        let path = "/api/2.0/mlflow/experiments/search?max_results=50";
                        (0..REQUESTS)
                            .map(|_| http::get(port, path, "localhost", None))
                            .filter(|a| !matches!(a, Ok(a) if a.status == 200))
                            .count()
                    })
                })
                .collect();
            let watcher = s.spawn(|| {
                let mut most = 0u64;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let n = self
                        .query(count)
                        .ok()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                    most = most.max(n);
                    std::thread::sleep(Duration::from_millis(20));
                }
                most
            });
            failed = clients
                .into_iter()
                .map(|c| c.join().unwrap_or(REQUESTS))
                .collect();
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            most = watcher.join().unwrap_or(0);
        });
        let failed: usize = failed.iter().sum();
        if failed > 0 {
            return Err(format!(
                "{failed} of {} requests failed",
                CLIENTS * REQUESTS
            ));
        }
        match most {
            n if n < per_engine => Err(format!(
                "the load reached {n} connections, short of one pool's {per_engine}: it shows nothing"
            )),
            n if n > bound => Err(format!(
                "the server held {n} connections, over {bound} ({workers} workers x \
                 ({per_engine} + {} idle in its other engines))",
                (engines - 1) * idle
            )),
            n => Ok(format!(
                "{} requests from {CLIENTS} clients at once: at most {n} connections, \
                 within {bound} ({workers} workers x ({per_engine} + {} idle))",
                CLIENTS * REQUESTS,
                (engines - 1) * idle
            )),
        }
    }
}
