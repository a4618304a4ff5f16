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

/// KServe's own deadline for a predictor's request (its `timeout`
/// default), which mlk leaves as it is.
const PREDICTOR_REQUEST_SECONDS: u32 = 60;

impl Drain {
    /// A predictor in KServe's Standard mode: a Deployment like the
    /// server's, whose model server finishes its requests after SIGTERM.
    /// (In Knative mode Knative drains it: its queue proxy holds the pod
    /// until requests in flight are answered, and it refuses `lifecycle`.)
    pub fn for_predictor() -> Drain {
        Drain {
            pre_stop: ENDPOINT_PROPAGATION_SECONDS,
            graceful: PREDICTOR_REQUEST_SECONDS,
            grace_period: ENDPOINT_PROPAGATION_SECONDS
                + PREDICTOR_REQUEST_SECONDS
                + EXIT_MARGIN_SECONDS,
        }
    }

    /// The preStop hook: a sleep, which needs no shell in the image.
    pub fn lifecycle(&self) -> k8s_openapi::api::core::v1::Lifecycle {
        use k8s_openapi::api::core::v1::{Lifecycle, LifecycleHandler, SleepAction};
        Lifecycle {
            pre_stop: Some(LifecycleHandler {
                sleep: Some(SleepAction {
                    seconds: i64::from(self.pre_stop),
                }),
                ..LifecycleHandler::default()
            }),
            ..Lifecycle::default()
        }
    }

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
