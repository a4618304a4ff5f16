use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::types::{Quantity, Subdomain};

/// CPU, memory and local disk, as a container's `requests` or `limits`
/// take them. Disk left unset is filled in for every container (see
/// the `disk` stage).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceList {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<Quantity>,
    #[serde(rename = "ephemeral-storage", skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<Quantity>,
}

/// A container's resources. Requests above limits are refused here, as
/// the API server would refuse them at apply time.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, try_from = "RawResources")]
pub struct Resources {
    pub requests: ResourceList,
    pub limits: ResourceList,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(default, deny_unknown_fields)]
struct RawResources {
    requests: ResourceList,
    limits: ResourceList,
}

impl TryFrom<RawResources> for Resources {
    type Error = String;
    fn try_from(r: RawResources) -> Result<Self, String> {
        let pairs = [
            ("cpu", &r.requests.cpu, &r.limits.cpu),
            ("memory", &r.requests.memory, &r.limits.memory),
            (
                "ephemeral-storage",
                &r.requests.ephemeral_storage,
                &r.limits.ephemeral_storage,
            ),
        ];
        for (what, req, lim) in pairs {
            if let (Some(req), Some(lim)) = (req, lim)
                && req.value() > lim.value()
            {
                return Err(format!(
                    "requests.{what} ({req}) is above limits.{what} ({lim})"
                ));
            }
        }
        Ok(Resources {
            requests: r.requests,
            limits: r.limits,
        })
    }
}

impl Resources {
    pub fn new(req_cpu: &str, req_mem: &str, lim_cpu: Option<&str>, lim_mem: &str) -> Self {
        let q = |s: &str| Some(Quantity::parse(s).expect("built-in quantity"));
        Resources {
            requests: ResourceList {
                cpu: q(req_cpu),
                memory: q(req_mem),
                ephemeral_storage: None,
            },
            limits: ResourceList {
                cpu: lim_cpu.and_then(q),
                memory: q(lim_mem),
                ephemeral_storage: None,
            },
        }
    }
}

/// A PersistentVolumeClaim's size and StorageClass (the cluster's default
/// class when none is named).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Storage {
    pub size: Quantity,
    pub class_name: Option<Subdomain>,
}

impl Storage {
    pub fn of(size: &str) -> Storage {
        Storage {
            size: Quantity::parse(size).expect("built-in quantity"),
            class_name: None,
        }
    }
}

impl Default for Storage {
    fn default() -> Self {
        Storage::of("10Gi")
    }
}
