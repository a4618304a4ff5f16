//! How a tracking replica leaves without dropping a request: it keeps
//! serving while its endpoint is removed everywhere, then stops taking
//! connections and lets those in flight finish within the front door's
//! read timeout, and only then may the kubelet kill it.

use serde::Serialize;

use crate::resolve::Platform;

/// Long enough for kube-proxy, the ingress controller or the Gateway to
/// drop the endpoint after the Pod is marked terminating: requests still
/// routed to it meanwhile are served, not refused.
pub const ENDPOINT_PROPAGATION_SECONDS: u32 = 10;

/// How long a request may take without an Ingress that says: a Gateway's
/// routes carry no timeout mlk sets, and a client of the Service has none.
/// The same as the Ingress default, which covers large artifact uploads.
pub const DEFAULT_REQUEST_SECONDS: u32 = 600;

/// What the kubelet, past the server's own deadline, waits for the process
/// to exit after the workers are told to stop.
const EXIT_MARGIN_SECONDS: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Drain {
    /// The preStop sleep.
    pub pre_stop: u32,
    /// uvicorn's `--timeout-graceful-shutdown`: requests in flight at
    /// SIGTERM may run this long.
    pub graceful: u32,
    /// `terminationGracePeriodSeconds`: the sleep, the server's deadline
    /// and its exit.
    pub grace_period: u32,
}

impl Drain {
    pub fn for_platform(p: &Platform) -> Drain {
        let graceful = p.ingress.as_ref().map_or(DEFAULT_REQUEST_SECONDS, |i| {
            i.read_timeout.max(i.send_timeout)
        });
        Drain {
            pre_stop: ENDPOINT_PROPAGATION_SECONDS,
            graceful,
            grace_period: ENDPOINT_PROPAGATION_SECONDS + graceful + EXIT_MARGIN_SECONDS,
        }
    }
}
