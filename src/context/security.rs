//! The Pod Security "restricted" level, as every pod mlk renders meets it:
//! a non-root user, the runtime's seccomp profile, no privilege
//! escalation, no capabilities, and a read-only root filesystem (each
//! pod mounts an emptyDir where its process must write).

use k8s_openapi::api::core::v1::{
    Capabilities, PodSecurityContext, SeccompProfile, SecurityContext,
};

// Numeric users: `runAsNonRoot` lets the kubelet start a container only
// when it can tell the user is not root, and a user name in an image
// cannot be told apart from root without reading the image.
/// The MLflow server: any user works, its writes go to emptyDirs.
pub const MLFLOW_UID: i64 = 10001;
/// `postgres` in the official image: initdb needs a user with a name.
pub const POSTGRES_UID: i64 = 999;
/// MinIO's documented non-root user.
pub const MINIO_UID: i64 = 1000;

/// A pod whose processes run as `uid`, with its volumes writable by it.
pub fn pod(uid: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(uid),
        fs_group: Some(uid),
        fs_group_change_policy: Some("OnRootMismatch".into()),
        seccomp_profile: Some(runtime_default()),
        ..PodSecurityContext::default()
    }
}

/// A pod whose image chooses its user (a model server); the kubelet
/// refuses to start it as root.
pub fn pod_any_user() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        seccomp_profile: Some(runtime_default()),
        ..PodSecurityContext::default()
    }
}

pub fn container() -> SecurityContext {
    SecurityContext {
        read_only_root_filesystem: Some(true),
        ..container_writable_root()
    }
}

/// For a model server that writes beside its code: still restricted.
pub fn container_writable_root() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: None,
        }),
        ..SecurityContext::default()
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".into(),
        localhost_profile: None,
    }
}
