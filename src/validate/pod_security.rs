//! The Pod Security Standards, as the API server's admission enforces them
//! on a namespace labelled `pod-security.kubernetes.io/enforce`: every pod
//! template is held to a level before it reaches a cluster that would
//! refuse its pods. Each rule reports the field that breaks it.

use crate::manifest::Value;
use clap::ValueEnum;

use super::pods::{Pod, items};
use crate::field_path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Level {
    /// No checks.
    Privileged,
    /// Known privilege escalations: host namespaces, privileged
    /// containers, added capabilities, hostPath volumes.
    Baseline,
    /// Baseline, and non-root, seccomp, no privilege escalation, every
    /// capability dropped, and only ephemeral or claimed volumes.
    Restricted,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];
const SAFE_SYSCTLS: [&str; 10] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
const SELINUX_TYPES: [&str; 5] = [
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];
const RESTRICTED_VOLUMES: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Problems as (path, message) for one pod template.
pub fn check(pod: &Pod, level: Level) -> Vec<(String, String)> {
    if level == Level::Privileged {
        return Vec::new();
    }
    let mut c = Checker {
        level,
        found: Vec::new(),
    };
    let spec: &Value = &pod.spec;
    let at = pod.at.key("spec");
    c.pod(spec, &at);
    for (list, i, container) in containers(spec) {
        c.container(spec, container, &at.key(list).index(i));
    }
    c.found
}

/// Problems of one container in a pod that sets `pod_security` (a sidecar
/// a spec adds, checked before it is rendered).
pub fn check_container(
    container: &Value,
    pod_security: &Value,
    level: Level,
) -> Vec<(String, String)> {
    let mut c = Checker {
        level,
        found: Vec::new(),
    };
    let mut pod = crate::manifest::Mapping::new();
    pod.insert("securityContext".into(), pod_security.clone());
    c.container(&Value::Mapping(pod), container, &Path::root());
    c.found
}

fn containers(spec: &Value) -> impl Iterator<Item = (&'static str, usize, &Value)> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .flat_map(move |list| {
            let all = items(&spec[list]).iter().enumerate();
            all.map(move |(i, c)| (list, i, c))
        })
}

struct Checker {
    level: Level,
    found: Vec<(String, String)>,
}

impl Checker {
    fn report(&mut self, level: Level, path: Path, what: &str) {
        if self.level >= level {
            let msg = format!("{what} (Pod Security \"{}\")", level.name());
            self.found.push((path.to_string(), msg));
        }
    }

    fn pod(&mut self, spec: &Value, at: &Path) {
        for host in ["hostNetwork", "hostPID", "hostIPC"] {
            if spec[host].as_bool() == Some(true) {
                self.report(Level::Baseline, at.key(host), "must not be true");
            }
        }
        let sc = &spec["securityContext"];
        let sc_at = at.key("securityContext");
        self.context(sc, &sc_at);
        for (i, sysctl) in items(&sc["sysctls"]).iter().enumerate() {
            let name = sysctl["name"].as_str().unwrap_or_default();
            if !SAFE_SYSCTLS.contains(&name) {
                let path = sc_at.key("sysctls").index(i).key("name");
                self.report(
                    Level::Baseline,
                    path,
                    &format!("{name:?} is not a safe sysctl"),
                );
            }
        }
        self.volumes(spec, at);
        if !(containers(spec).all(|(_, _, c)| c["securityContext"]["runAsNonRoot"] == true)
            || sc["runAsNonRoot"] == true)
        {
            let what = "must be true, here or in every container";
            self.report(Level::Restricted, sc_at.key("runAsNonRoot"), what);
        }
        let seccomp_ok = |v: &Value| {
            matches!(
                v["seccompProfile"]["type"].as_str(),
                Some("RuntimeDefault" | "Localhost")
            )
        };
        if !(seccomp_ok(sc) || containers(spec).all(|(_, _, c)| seccomp_ok(&c["securityContext"])))
        {
            let what = "must be RuntimeDefault or Localhost, here or in every container";
            self.report(
                Level::Restricted,
                sc_at.key("seccompProfile").key("type"),
                what,
            );
        }
    }

    fn volumes(&mut self, spec: &Value, at: &Path) {
        for (i, vol) in items(&spec["volumes"]).iter().enumerate() {
            let at = at.key("volumes").index(i);
            let Some(m) = vol.as_mapping() else { continue };
            for key in m.keys().filter_map(Value::as_str).filter(|k| *k != "name") {
                if key == "hostPath" {
                    self.report(
                        Level::Baseline,
                        at.key(key),
                        "hostPath volumes are not allowed",
                    );
                } else if !RESTRICTED_VOLUMES.contains(&key) {
                    let what = format!("{key} volumes are not allowed");
                    self.report(Level::Restricted, at.key(key), &what);
                }
            }
        }
    }

    /// Fields a pod's and a container's securityContext share.
    fn context(&mut self, sc: &Value, at: &Path) {
        if sc["windowsOptions"]["hostProcess"] == true {
            let path = at.key("windowsOptions").key("hostProcess");
            self.report(Level::Baseline, path, "must not be true");
        }
        let se = &sc["seLinuxOptions"];
        if let Some(t) = se["type"].as_str().filter(|t| !SELINUX_TYPES.contains(t)) {
            let what = format!("{t:?} is not an allowed SELinux type");
            self.report(Level::Baseline, at.key("seLinuxOptions").key("type"), &what);
        }
        for field in ["user", "role"] {
            if !se[field].is_null() {
                self.report(
                    Level::Baseline,
                    at.key("seLinuxOptions").key(field),
                    "must not be set",
                );
            }
        }
        for profile in ["seccompProfile", "appArmorProfile"] {
            if sc[profile]["type"].as_str() == Some("Unconfined") {
                let path = at.key(profile).key("type");
                self.report(Level::Baseline, path, "must not be Unconfined");
            }
        }
        if sc["runAsUser"].as_i64() == Some(0) {
            self.report(
                Level::Restricted,
                at.key("runAsUser"),
                "must not be 0 (root)",
            );
        }
    }

    fn container(&mut self, pod: &Value, c: &Value, at: &Path) {
        let sc = &c["securityContext"];
        let sc_at = at.key("securityContext");
        self.context(sc, &sc_at);
        if sc["privileged"] == true {
            self.report(Level::Baseline, sc_at.key("privileged"), "must not be true");
        }
        if sc["procMount"].as_str().is_some_and(|m| m != "Default") {
            self.report(Level::Baseline, sc_at.key("procMount"), "must be Default");
        }
        for (p, port) in items(&c["ports"]).iter().enumerate() {
            if port["hostPort"].as_i64().is_some_and(|h| h != 0) {
                let path = at.key("ports").index(p).key("hostPort");
                self.report(Level::Baseline, path, "host ports are not allowed");
            }
        }
        if sc["runAsNonRoot"] == false && pod["securityContext"]["runAsNonRoot"] == true {
            self.report(
                Level::Restricted,
                sc_at.key("runAsNonRoot"),
                "must not be false",
            );
        }
        if sc["allowPrivilegeEscalation"] != false {
            let path = sc_at.key("allowPrivilegeEscalation");
            self.report(Level::Restricted, path, "must be false");
        }
        self.capabilities(&sc["capabilities"], &sc_at.key("capabilities"));
    }

    fn capabilities(&mut self, caps: &Value, at: &Path) {
        for (i, cap) in items(&caps["add"]).iter().enumerate() {
            let name = cap.as_str().unwrap_or_default();
            let path = at.key("add").index(i);
            if !BASELINE_CAPABILITIES.contains(&name) {
                self.report(Level::Baseline, path, &format!("{name:?} may not be added"));
            } else if name != "NET_BIND_SERVICE" {
                let what = format!("{name:?} may not be added; only NET_BIND_SERVICE");
                self.report(Level::Restricted, path, &what);
            }
        }
        if !items(&caps["drop"]).iter().any(|c| *c == "ALL") {
            self.report(Level::Restricted, at.key("drop"), "must include ALL");
        }
    }
}
