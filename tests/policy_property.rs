//! A property of every render: whatever patches, extra arguments and
//! extra variables a spec adds, mlk either refuses it, or prints a
//! platform whose every pod meets Pod Security `restricted` and whose
//! secrets stay inside Secrets. Both are checked here by code of this
//! test's own, written apart from the gate, on the printed output.
//! The same cases run every time; `MLK_PROPERTY_CASES=20000` runs more.

use std::collections::BTreeMap;

use base64::Engine;
use mlk::layers::Inputs;
use mlk::pipeline::render_platform;
use mlk::validate::Catalog;
use serde_yaml::Value;

/// xorshift64*: no dependency, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn cases() -> usize {
    std::env::var("MLK_PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1800)
}

const PASSWORD: &str = "property-marker-password-7c3f";
const KEY: &str = "0123456789abcdef0123456789abcdef-property";

/// Where a patch writes (`-` appends to a list), the kinds that have such
/// a place, and what it may write there: values that weaken a pod, move
/// an object or a secret, and values that are harmless, each of the type
/// the field takes, so that many patched platforms reach the gate.
const PLACES: &[(&str, &str, &[&str])] = &[
    ("*", "/kind", &["ConfigMap", "RoleBinding"]),
    ("*", "/metadata/name", &["other-name"]),
    ("*", "/metadata/namespace", &["kube-system"]),
    ("*", "/metadata/labels/team", &["ml", "platform"]),
    (
        "*",
        "/metadata/annotations",
        &[
            "{example.com/owner: ml}",
            "{nginx.ingress.kubernetes.io/satisfy: any}",
        ],
    ),
    ("pod", "/spec/template/spec/hostNetwork", &["true", "false"]),
    ("pod", "/spec/template/spec/hostPID", &["true", "false"]),
    (
        "pod",
        "/spec/template/spec/volumes/-",
        &[
            "{name: extra, emptyDir: {}}",
            "{name: root, hostPath: {path: /}}",
            "{name: share, nfs: {server: nfs.example.com, path: /}}",
        ],
    ),
    (
        "pod",
        "/spec/template/spec/securityContext",
        &[
            "{runAsNonRoot: false}",
            "{runAsUser: 0}",
            "{fsGroup: 2000}",
            "{seccompProfile: {type: Unconfined}}",
            "{appArmorProfile: {type: Unconfined}}",
            "{sysctls: [{name: kernel.msgmax, value: '1'}]}",
            "{sysctls: [{name: net.ipv4.tcp_keepalive_time, value: '60'}]}",
        ],
    ),
    (
        "pod",
        "/spec/template/spec/initContainers/-",
        &[
            "{name: extra, image: 'busybox:1.37', securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}, resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 16Mi}}}",
            "{name: extra, image: 'busybox:1.37', securityContext: {privileged: true}}",
            "{name: extra, image: 'busybox:1.37'}",
        ],
    ),
    (
        "pod",
        "/spec/template/spec/containers/0/securityContext",
        &[
            "{privileged: true}",
            "{allowPrivilegeEscalation: true}",
            "{runAsUser: 0}",
            "{runAsUser: 1234}",
            "{readOnlyRootFilesystem: true}",
            "{capabilities: {add: [SYS_ADMIN]}}",
            "{capabilities: {add: [NET_BIND_SERVICE]}}",
            "{capabilities: {drop: [NET_RAW]}}",
            "{procMount: Unmasked}",
            "{seLinuxOptions: {user: root}}",
        ],
    ),
    (
        "pod",
        "/spec/template/spec/containers/0/args/-",
        &[
            "--dev",
            "--secrets-cache-ttl=30",
            "--gunicorn-opts=--timeout 0",
            "-h0.0.0.0",
        ],
    ),
    (
        "pod",
        "/spec/template/spec/containers/0/env/-",
        &[
            "{name: GUNICORN_CMD_ARGS, value: x}",
            "{name: TEAM, value: ml}",
            "{name: MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE, value: 'true'}",
        ],
    ),
    (
        "pod",
        "/spec/template/spec/containers/0/ports/0/hostPort",
        &["80", "0"],
    ),
    (
        "pod",
        "/spec/template/spec/containers/0/livenessProbe",
        &[
            "{tcpSocket: {port: 1, host: 169.254.169.254}}",
            "{periodSeconds: 30}",
        ],
    ),
    (
        "pod",
        "/spec/template/metadata/annotations",
        &[
            "{example.com/x: y}",
            "{container.apparmor.security.beta.kubernetes.io/mlflow: unconfined}",
        ],
    ),
    (
        "InferenceService",
        "/spec/predictor/model/securityContext",
        &[
            "{privileged: true}",
            "{runAsUser: 4321}",
            "{allowPrivilegeEscalation: true}",
        ],
    ),
    (
        "InferenceService",
        "/spec/predictor/securityContext",
        &["{runAsNonRoot: false}", "{fsGroup: 3000}"],
    ),
    ("InferenceService", "/spec/predictor/minReplicas", &["2"]),
    ("Secret", "/data/extra", &["\"aGVsbG8td29ybGQ=\""]),
    (
        "Namespace",
        "/metadata/labels/pod-security.kubernetes.io~1enforce",
        &["privileged", "baseline", "restricted"],
    ),
    (
        "Namespace",
        "/metadata/labels/pod-security.kubernetes.io~1enforce-version",
        &["v1.20", "latest"],
    ),
    (
        "Ingress",
        "/metadata/annotations/nginx.ingress.kubernetes.io~1proxy-body-size",
        &["\"0\""],
    ),
    (
        "Ingress",
        "/metadata/annotations/nginx.ingress.kubernetes.io~1mirror-target",
        &["https://collector.example.net"],
    ),
];

/// Places whose objects have them.
fn fits(kind: &str, class: &str) -> bool {
    match class {
        "*" => true,
        "pod" => matches!(kind, "Deployment" | "StatefulSet"),
        k => k == kind,
    }
}

const ARGS: &[&str] = &[
    "--dev",
    "--gunicorn-opts=--timeout 0",
    "--disable-security-middleware",
    "-h",
    "0.0.0.0",
    "-w4",
    "--secrets-cache-ttl",
    "30",
    "--allowed-hosts=*",
    "--trace-archival-config=$(MLFLOW_CRYPTO_KEK_PASSPHRASE)",
    "--enable-workspaces",
    "--x-frame-options=NONE",
];

const ENV: &[&str] = &[
    "MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE",
    "GUNICORN_CMD_ARGS",
    "UVICORN_RELOAD",
    "MLFLOW_SERVER_X_FRAME_OPTIONS",
    "MLFLOW_TRACKING_URI",
    "TEAM",
    "MLFLOW_BASIC_AUTH_FAIL_CLOSED",
];

/// The objects each base spec renders, by kind and name.
fn objects(text: &str) -> Vec<(String, String)> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| Value::deserialize(d).unwrap())
        .filter_map(|v| {
            let kind = v["kind"].as_str()?.to_owned();
            Some((kind, v["metadata"]["name"].as_str()?.to_owned()))
        })
        .collect()
}

use serde::Deserialize;

fn patch(rng: &mut Rng, targets: &[(String, String)]) -> serde_json::Value {
    let (fitting, place, values) = loop {
        let (class, place, values) = *rng.pick(PLACES);
        let fitting: Vec<&(String, String)> =
            targets.iter().filter(|(k, _)| fits(k, class)).collect();
        if !fitting.is_empty() {
            break (fitting, place, values);
        }
    };
    let (kind, name) = fitting[rng.below(fitting.len())];
    let text: &&str = rng.pick(values);
    let value: serde_json::Value = serde_yaml::from_str(text).unwrap();
    let target = serde_json::json!({"kind": kind, "name": name});
    let appends = place.ends_with("/-");
    match rng.below(7) {
        0..=2 if !appends => {
            // A merge patch: the place's steps as nested maps.
            let mut merge = value;
            for key in place.trim_start_matches('/').rsplit('/') {
                let key = key.replace("~1", "/");
                merge = match key.parse::<usize>() {
                    // A list is replaced whole by a merge patch.
                    Ok(_) => serde_json::json!([merge]),
                    Err(_) => serde_json::json!({ key: merge }),
                };
            }
            serde_json::json!({"target": target, "merge": merge})
        }
        3 => {
            let from = *rng.pick(&["/metadata/name", "/kind", "/data/password"]);
            let op = *rng.pick(&["copy", "move"]);
            let o = serde_json::json!({"op": op, "from": from, "path": place});
            serde_json::json!({"target": target, "json": [o]})
        }
        _ => {
            let o = serde_json::json!({"op": "add", "path": place, "value": value});
            serde_json::json!({"target": target, "json": [o]})
        }
    }
}

fn spec(rng: &mut Rng, serving: bool, targets: &[(String, String)]) -> String {
    let mut spec = base(serving);
    let patches: Vec<_> = (0..rng.below(2) + 1).map(|_| patch(rng, targets)).collect();
    spec["patches"] = serde_json::Value::Array(patches);
    let args: Vec<&str> = (0..rng.below(3) / 2).map(|_| *rng.pick(ARGS)).collect();
    let env: Vec<_> = (0..rng.below(3) / 2)
        .map(|i| serde_json::json!({"name": rng.pick(ENV), "value": format!("v{i}")}))
        .collect();
    spec["tracking"] = serde_json::json!({"extraArgs": args, "extraEnv": env});
    spec.to_string()
}

fn base(serving: bool) -> serde_json::Value {
    let mut spec = serde_json::json!({
        "apiVersion": "mlk/v1alpha1",
        "kind": "Platform",
        "database": {"embedded": {"password": {"fromEnv": "PG_PW"}}},
        "ingress": {"enabled": true, "host": "mlflow.example.com", "auth": {"enabled": false}},
    });
    if serving {
        spec["serving"] = serde_json::json!({"models": [
            {"name": "churn", "registeredModel": "churn", "storageUri": "s3://mlflow/1/models/m-abc/artifacts"},
        ]});
    }
    spec
}

fn render(text: &str, profile: &str, catalog: &Catalog) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("platform.yaml");
    std::fs::write(&file, text).unwrap();
    let vars = BTreeMap::from([
        ("MLK_SECRET_KEY".to_owned(), KEY.to_owned()),
        ("PG_PW".to_owned(), PASSWORD.to_owned()),
    ]);
    let inputs = Inputs {
        file: Some(&file),
        profile: Some(profile),
        sets: &[],
    };
    let lookup = Default::default();
    let allowed = mlk::pipeline::Allowances {
        env: ["PG_PW".to_owned()].into(),
        ..Default::default()
    };
    let rendered = render_platform(&inputs, vars, catalog, &lookup, &allowed);
    // MLK_PROPERTY_DEBUG=1 shows why each refused case was refused.
    if let (Err(e), Ok(_)) = (&rendered, std::env::var("MLK_PROPERTY_DEBUG")) {
        eprintln!("{e:#}");
    }
    let rendered = rendered.ok()?;
    Some(mlk::emit::to_yaml_stream(&rendered.docs))
}

#[test]
fn every_render_is_refused_or_restricted_and_keeps_its_secrets() {
    let catalog = Catalog::builtin();
    let mut rng = Rng(0x853c_49e6_748f_ea9b);
    let (mut refused, mut rendered) = (0, 0);
    let combos: Vec<(&str, bool)> = ["dev", "prod", "ha"]
        .into_iter()
        .flat_map(|p| [(p, false), (p, true)])
        .collect();
    for (profile, serving) in &combos {
        let text =
            render(&base(*serving).to_string(), profile, &catalog).expect("the base renders");
        let targets = objects(&text);
        for _ in 0..cases() / combos.len() {
            let spec = spec(&mut rng, *serving, &targets);
            match render(&spec, profile, &catalog) {
                None => refused += 1,
                Some(out) => {
                    rendered += 1;
                    let docs: Vec<Value> = serde_yaml::Deserializer::from_str(&out)
                        .map(|d| Value::deserialize(d).unwrap())
                        .collect();
                    let problems = [restricted(&docs), secrets_kept(&docs)].concat();
                    assert!(problems.is_empty(), "{spec}\n{}", problems.join("\n"));
                }
            }
        }
    }
    // Both outcomes happened, many times: the cases reach the gate.
    assert!(
        refused > 100 && rendered > 100,
        "{refused} refused, {rendered} rendered"
    );
}

fn items(v: &Value) -> &[Value] {
    v.as_sequence().map_or(&[], Vec::as_slice)
}

/// Pod Security `restricted`, as this test reads it: every pod spec the
/// output holds, with every container.
fn restricted(docs: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for d in docs {
        let kind = d["kind"].as_str().unwrap_or_default();
        let specs: Vec<(&Value, Vec<&Value>)> = match kind {
            "Deployment" | "StatefulSet" | "Job" | "DaemonSet" => {
                vec![pod_spec(&d["spec"]["template"]["spec"])]
            }
            "CronJob" => vec![pod_spec(
                &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            )],
            "InferenceService" => {
                let p = &d["spec"]["predictor"];
                let (spec, mut containers) = pod_spec(p);
                if p["model"].is_mapping() {
                    containers.push(&p["model"]);
                }
                vec![(spec, containers)]
            }
            _ => Vec::new(),
        };
        let name = format!("{kind}/{}", d["metadata"]["name"].as_str().unwrap_or("?"));
        for (spec, containers) in specs {
            for field in ["hostNetwork", "hostPID", "hostIPC"] {
                if spec[field] == Value::Bool(true) {
                    out.push(format!("{name}: {field}"));
                }
            }
            for v in items(&spec["volumes"]) {
                let allowed = [
                    "name",
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
                let keys = v
                    .as_mapping()
                    .into_iter()
                    .flatten()
                    .filter_map(|(k, _)| k.as_str());
                if let Some(k) = keys.into_iter().find(|k| !allowed.contains(k)) {
                    out.push(format!("{name}: a {k} volume"));
                }
            }
            let sc = &spec["securityContext"];
            let nonroot = sc["runAsNonRoot"] == Value::Bool(true)
                || containers
                    .iter()
                    .all(|c| c["securityContext"]["runAsNonRoot"] == Value::Bool(true));
            if !nonroot {
                out.push(format!("{name}: may run as root"));
            }
            let confined = |s: &Value| {
                matches!(
                    s["seccompProfile"]["type"].as_str(),
                    Some("RuntimeDefault" | "Localhost")
                )
            };
            if !(confined(sc) || containers.iter().all(|c| confined(&c["securityContext"]))) {
                out.push(format!("{name}: seccomp"));
            }
            // The namespaced sysctls Kubernetes calls safe.
            let safe = |n: &str| {
                let tcp = [
                    "syncookies",
                    "keepalive_time",
                    "keepalive_intvl",
                    "keepalive_probes",
                    "fin_timeout",
                ];
                n == "kernel.shm_rmid_forced"
                    || n == "net.ipv4.ip_local_port_range"
                    || n == "net.ipv4.ip_local_reserved_ports"
                    || n == "net.ipv4.ip_unprivileged_port_start"
                    || n == "net.ipv4.ping_group_range"
                    || n.strip_prefix("net.ipv4.tcp_")
                        .is_some_and(|t| tcp.contains(&t))
            };
            let unsafe_sysctl = items(&sc["sysctls"])
                .iter()
                .any(|s| !safe(s["name"].as_str().unwrap_or_default()));
            if sc["runAsUser"].as_i64() == Some(0) || unsafe_sysctl {
                out.push(format!("{name}: pod runs as root or sets an unsafe sysctl"));
            }
            for c in containers {
                let csc = &c["securityContext"];
                let drops_all = items(&csc["capabilities"]["drop"])
                    .iter()
                    .any(|d| d == "ALL");
                let adds = items(&csc["capabilities"]["add"])
                    .iter()
                    .any(|a| a != "NET_BIND_SERVICE");
                let bad = csc["privileged"] == Value::Bool(true)
                    || csc["allowPrivilegeEscalation"] != Value::Bool(false)
                    || !drops_all
                    || adds
                    || csc["runAsUser"].as_i64() == Some(0)
                    || csc["runAsNonRoot"] == Value::Bool(false)
                    || csc["seccompProfile"]["type"] == "Unconfined"
                    || items(&c["ports"])
                        .iter()
                        .any(|p| p["hostPort"].as_i64().is_some_and(|h| h != 0));
                if bad {
                    out.push(format!("{name}: container {:?}", c["name"]));
                }
            }
        }
        if kind == "Namespace" {
            let enforce = &d["metadata"]["labels"]["pod-security.kubernetes.io/enforce"];
            let serving = docs.iter().any(|o| o["kind"] == "InferenceService");
            let ok = enforce == "restricted" || (serving && enforce == "baseline");
            if !ok {
                out.push(format!("{name}: enforces {enforce:?}"));
            }
        }
    }
    out
}

fn pod_spec(spec: &Value) -> (&Value, Vec<&Value>) {
    let containers = ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|l| items(&spec[*l]))
        .collect();
    (spec, containers)
}

/// Every string outside a Secret's data is free of the secrets the
/// output's Secrets hold (the password this test gave, and what mlk
/// derived), as written and in base64.
fn secrets_kept(docs: &[Value]) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut secrets = vec![PASSWORD.to_owned()];
    for d in docs.iter().filter(|d| d["kind"] == "Secret") {
        for (k, v) in d["data"].as_mapping().into_iter().flatten() {
            let key = k.as_str().unwrap_or_default();
            let decoded = v.as_str().and_then(|s| b64.decode(s).ok());
            let value = decoded
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default();
            let secret_key =
                key.contains("password") || key.contains("key") || key.contains("passphrase");
            if secret_key && value.len() >= 16 {
                secrets.push(value);
            }
        }
    }
    let needles: Vec<String> = secrets
        .iter()
        .flat_map(|s| [s.clone(), b64.encode(s)])
        .collect();
    let mut out = Vec::new();
    for d in docs {
        let is_secret = d["kind"] == "Secret";
        let mut strings = Vec::new();
        collect(d, is_secret, true, &mut strings);
        for s in strings {
            if needles.iter().any(|n| s.contains(n.as_str())) {
                out.push(format!(
                    "{}/{}: a secret outside a Secret's data",
                    d["kind"].as_str().unwrap_or("?"),
                    d["metadata"]["name"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    out
}

fn collect<'a>(v: &'a Value, secret: bool, top: bool, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Mapping(m) => {
            for (k, v) in m {
                if let Some(k) = k.as_str() {
                    out.push(k);
                    if secret && top && (k == "data" || k == "stringData") {
                        continue;
                    }
                }
                collect(v, secret, false, out);
            }
        }
        Value::Sequence(s) => s.iter().for_each(|v| collect(v, secret, false, out)),
        _ => {}
    }
}
