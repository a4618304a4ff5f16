//! Every profile renders pods that meet the restricted Pod Security level
//! and mlk's own hardening (read-only root, no token, requests and limits,
//! pinned images); prod and ha add what keeps the platform up.

mod common;
use common::{env_value, find, mlk};

use serde_yaml::Value;

const PROFILES: [&str; 3] = ["dev", "prod", "ha"];

fn render(args: &[&str]) -> Vec<Value> {
    mlk(args).key().run().ok().docs()
}

/// `(object, template spec)` for every pod template in the stream.
fn pod_templates(docs: &[Value]) -> Vec<(String, &Value)> {
    docs.iter()
        .filter(|d| {
            let kinds = ["Deployment", "StatefulSet", "Job", "DaemonSet", "CronJob"];
            kinds.contains(&d["kind"].as_str().unwrap_or_default())
        })
        .map(|d| {
            let id = format!(
                "{}/{}",
                d["kind"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap()
            );
            let template = match d["kind"].as_str() {
                Some("CronJob") => &d["spec"]["jobTemplate"]["spec"]["template"],
                _ => &d["spec"]["template"],
            };
            (id, &template["spec"])
        })
        .collect()
}

fn containers(spec: &Value) -> impl Iterator<Item = &Value> {
    ["initContainers", "containers"]
        .into_iter()
        .flat_map(|k| spec[k].as_sequence().into_iter().flatten())
}

fn assert_hardened(what: &str, id: &str, spec: &Value) {
    let at = format!("{what}: {id}");
    let pod = &spec["securityContext"];
    assert_eq!(pod["runAsNonRoot"], true, "{at}: runAsNonRoot");
    assert!(
        pod["runAsUser"].as_i64().is_some_and(|u| u > 0),
        "{at}: runAsUser"
    );
    assert_eq!(
        pod["seccompProfile"]["type"], "RuntimeDefault",
        "{at}: seccomp"
    );
    assert_eq!(spec["automountServiceAccountToken"], false, "{at}: token");
    let writable: Vec<&str> = spec["volumes"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter(|v| v["emptyDir"].is_mapping())
        .filter_map(|v| v["name"].as_str())
        .collect();
    for c in containers(spec) {
        let at = format!("{at} container {}", c["name"].as_str().unwrap());
        let sc = &c["securityContext"];
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{at}: escalation");
        assert_eq!(sc["capabilities"]["drop"][0], "ALL", "{at}: capabilities");
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{at}: read-only root");
        for side in ["requests", "limits"] {
            for res in ["cpu", "memory"] {
                let v = &c["resources"][side][res];
                assert!(v.is_string(), "{at}: resources.{side}.{res}");
            }
        }
        let image = c["image"].as_str().unwrap();
        let tag = image
            .rsplit('/')
            .next()
            .unwrap()
            .split_once(':')
            .map(|(_, t)| t);
        assert!(
            tag.is_some_and(|t| t != "latest"),
            "{at}: image {image} is not pinned"
        );
        let mounts: Vec<&str> = c["volumeMounts"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|m| m["mountPath"].as_str())
            .collect();
        assert!(mounts.contains(&"/tmp"), "{at}: no writable /tmp");
        assert!(!writable.is_empty(), "{at}: no emptyDir");
    }
}

#[test]
fn every_pod_of_every_profile_is_restricted_and_hardened() {
    let mut checked = 0;
    for profile in PROFILES {
        for spec in [None, Some("specs/monitoring.yaml")] {
            let mut args = vec!["render", "--profile", profile];
            args.extend(spec.iter().flat_map(|s| ["-f", s]));
            let docs = render(&args);
            let pods = pod_templates(&docs);
            assert!(
                pods.len() >= 3,
                "{profile}: only {} pod templates",
                pods.len()
            );
            for (id, spec) in pods {
                assert_hardened(profile, &id, spec);
                checked += 1;
            }
        }
    }
    assert!(checked >= 18, "{checked}");
}

/// The rendered stream passes `mlk validate` at the restricted level,
/// which a manifest breaking it would not.
#[test]
fn every_profile_validates_at_the_restricted_level() {
    for profile in PROFILES {
        let out = mlk(&["render", "--profile", profile]).key().run().ok();
        let check = mlk(&["validate", "--strict", "--pod-security", "restricted", "-"])
            .stdin(&out.stdout)
            .run();
        assert_eq!(check.code, 0, "{profile}: {}", check.stdout);
    }
}

#[test]
fn the_restricted_check_flags_a_privileged_pod() {
    let file = "fixtures/manifests/invalid/pod-security-privileged.yaml";
    let run = mlk(&["validate", file]).run();
    assert_eq!(run.code, 1);
    for want in [
        "Pod/shop/debug: spec.containers[0].securityContext.privileged: must not be true",
        "Pod/shop/debug: spec.hostNetwork: must not be true",
        "Pod/shop/debug: spec.volumes[0].hostPath: hostPath volumes are not allowed",
        "Pod/shop/debug: spec.containers[0].securityContext.allowPrivilegeEscalation: must be false",
    ] {
        assert!(run.stdout.contains(want), "{want} not in:\n{}", run.stdout);
    }
    // Levels are cumulative: baseline still refuses it, privileged allows all.
    let baseline = mlk(&["validate", "--pod-security", "baseline", file]).run();
    assert_eq!(baseline.code, 1);
    assert!(
        !baseline.stdout.contains("\"restricted\""),
        "{}",
        baseline.stdout
    );
    assert!(baseline.stdout.contains("privileged: must not be true"));
    let none = mlk(&["validate", "--pod-security", "privileged", file]).run();
    assert_eq!(none.code, 0, "{}", none.stdout);
}

#[test]
fn a_restricted_only_breach_passes_baseline() {
    let file = "fixtures/manifests/invalid/pod-security-restricted.yaml";
    assert_eq!(mlk(&["validate", file]).run().code, 1);
    let baseline = mlk(&["validate", "--pod-security", "baseline", file]).run();
    assert_eq!(baseline.code, 0, "{}", baseline.stdout);
}

#[test]
fn the_namespace_enforces_restricted_unless_kserve_adds_containers() {
    let docs = render(&["render"]);
    let labels = &find(&docs, "Namespace", "mlflow")["metadata"]["labels"];
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");
    let model = "serving.models=[{name: fraud, registeredModel: fraud, \
                 storageUri: 's3://mlflow/5/models/m-1/artifacts'}]";
    let docs = render(&["render", "--set", model]);
    let labels = &find(&docs, "Namespace", "mlflow")["metadata"]["labels"];
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], "baseline");
    assert_eq!(labels["pod-security.kubernetes.io/warn"], "restricted");
    assert_eq!(labels["pod-security.kubernetes.io/audit"], "restricted");
    // Once KServe's own containers are set up to meet it, the spec says so.
    let raised = render(&[
        "render",
        "--set",
        model,
        "--set",
        "serving.podSecurity=restricted",
    ]);
    let labels = &find(&raised, "Namespace", "mlflow")["metadata"]["labels"];
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");
    let predictor = &find(&docs, "InferenceService", "fraud")["spec"]["predictor"];
    assert_eq!(predictor["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        predictor["model"]["securityContext"]["allowPrivilegeEscalation"],
        false
    );
}

#[test]
fn dev_has_no_policies_budgets_or_autoscaler() {
    let docs = render(&["render"]);
    for kind in [
        "NetworkPolicy",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "Cluster",
    ] {
        assert!(
            !docs.iter().any(|d| d["kind"] == kind),
            "dev renders a {kind}"
        );
    }
}

#[test]
fn prod_denies_by_default_and_keeps_the_tracking_server_up() {
    let docs = render(&["render", "--profile", "prod"]);
    let deny = find(&docs, "NetworkPolicy", "mlflow-default-deny");
    assert_eq!(
        deny["spec"]["podSelector"],
        Value::Mapping(Default::default())
    );
    assert_eq!(deny["spec"]["policyTypes"].as_sequence().unwrap().len(), 2);
    let dns = find(&docs, "NetworkPolicy", "mlflow-dns");
    assert_eq!(dns["spec"]["egress"][0]["ports"][0]["port"], 53);
    let pg = find(&docs, "NetworkPolicy", "mlflow-postgres");
    let clients: Vec<&str> = pg["spec"]["ingress"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|rule| {
            assert_eq!(rule["ports"][0]["port"], 5432);
            rule["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        clients,
        ["tracking", "backup"],
        "only the tracking server and the backup"
    );
    let pdb = find(&docs, "PodDisruptionBudget", "mlflow-tracking");
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
    let deploy = find(&docs, "Deployment", "mlflow-tracking");
    assert_eq!(deploy["spec"]["replicas"], 2);
    assert_eq!(
        deploy["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        0
    );
    let mlflow = &deploy["spec"]["template"]["spec"]["containers"][0];
    assert!(mlflow["startupProbe"]["failureThreshold"].as_u64().unwrap() >= 60);
}

#[test]
fn prod_lets_in_the_ingress_controller_and_prometheus_from_configured_namespaces() {
    let docs = render(&[
        "render",
        "--profile",
        "prod",
        "--set",
        "ingress={enabled: true, host: mlflow.example.com, auth: {existingSecret: auth}}",
        "--set",
        "monitoring.serviceMonitor.enabled=true",
        "--set",
        "networkPolicy.ingressNamespaces=[{team: edge}]",
        "--set",
        "networkPolicy.prometheusNamespaces=[{kubernetes.io/metadata.name: observability}]",
    ]);
    let tracking = find(&docs, "NetworkPolicy", "mlflow-tracking");
    let ingress = tracking["spec"]["ingress"].as_sequence().unwrap();
    assert_eq!(ingress.len(), 2);
    assert_eq!(
        ingress[0]["from"][0]["namespaceSelector"]["matchLabels"]["team"],
        "edge"
    );
    assert_eq!(
        ingress[1]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "observability"
    );
    assert!(ingress.iter().all(|r| r["ports"][0]["port"] == 5000));
}

/// An ALB with IP targets sends from its subnets' addresses, not from a
/// namespace's pods: those blocks reach the tracking port, and only it.
#[test]
fn prod_lets_in_a_load_balancer_by_its_address_blocks() {
    let docs = render(&[
        "render",
        "--profile",
        "prod",
        "--set",
        "networkPolicy.frontDoorCidrs=[10.0.0.0/20, 10.0.16.0/20]",
    ]);
    let tracking = find(&docs, "NetworkPolicy", "mlflow-tracking");
    let ingress = tracking["spec"]["ingress"].as_sequence().unwrap();
    let rule = ingress
        .iter()
        .find(|r| r["from"][0]["ipBlock"].is_mapping())
        .expect("an ipBlock rule");
    assert_eq!(rule["from"][0]["ipBlock"]["cidr"], "10.0.0.0/20");
    assert_eq!(rule["from"][1]["ipBlock"]["cidr"], "10.0.16.0/20");
    assert_eq!(rule["ports"].as_sequence().unwrap().len(), 1);
    assert_eq!(rule["ports"][0]["port"], 5000);
    let others = docs.iter().filter(|d| d["kind"] == "NetworkPolicy");
    let with_block = others
        .filter(|d| serde_yaml::to_string(d).unwrap().contains("10.0.0.0/20"))
        .count();
    assert_eq!(
        with_block, 1,
        "only the tracking server's policy names them"
    );
    let run = mlk(&[
        "render",
        "--set",
        "networkPolicy.frontDoorCidrs=[10.0.1.5/16]",
    ])
    .run();
    assert!(
        run.stderr.contains("the block is 10.0.0.0/16"),
        "{}",
        run.stderr
    );
}

/// A PDB over the only instance would keep its primary up through every
/// node drain; with more, a drain moves one at a time.
#[test]
fn a_one_instance_cloudnativepg_cluster_blocks_no_drain() {
    let one = render(&["render", "--set", "database.cloudnativepg.instances=1"]);
    assert_eq!(
        find(&one, "Cluster", "mlflow-postgres")["spec"]["enablePDB"],
        false
    );
    let ha = render(&["render", "--profile", "ha"]);
    assert_eq!(
        find(&ha, "Cluster", "mlflow-postgres")["spec"]["enablePDB"],
        true
    );
}

/// A stuck run ends, and a missed one is not started late.
#[test]
fn every_cronjob_has_deadlines() {
    let docs = render(&["render", "--profile", "prod", "--set", "tracking.gc={}"]);
    let crons: Vec<_> = docs.iter().filter(|d| d["kind"] == "CronJob").collect();
    assert_eq!(crons.len(), 2);
    for c in crons {
        assert_eq!(c["spec"]["startingDeadlineSeconds"], 3600);
        let active = c["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"].as_u64();
        assert!(active.is_some_and(|s| (3600..=86400).contains(&s)), "{c:?}");
    }
}

#[test]
fn ha_runs_on_cloudnativepg_a_seaweedfs_cluster_and_an_autoscaler() {
    let docs = render(&["render", "--profile", "ha"]);
    let cluster = find(&docs, "Cluster", "mlflow-postgres");
    assert_eq!(cluster["apiVersion"], "postgresql.cnpg.io/v1");
    assert_eq!(cluster["spec"]["instances"], 3);
    assert_eq!(cluster["spec"]["bootstrap"]["initdb"]["owner"], "mlflow");
    assert!(cluster["spec"]["resources"]["limits"]["memory"].is_string());
    assert!(
        !docs
            .iter()
            .any(|d| d["kind"] == "StatefulSet" && d["metadata"]["name"] == "mlflow-postgres")
    );

    let deploy = find(&docs, "Deployment", "mlflow-tracking");
    assert!(
        deploy["spec"]["replicas"].is_null(),
        "the autoscaler owns replicas"
    );
    let pod = &deploy["spec"]["template"]["spec"];
    let keys: Vec<&str> = pod["topologySpreadConstraints"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|c| c["topologyKey"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
    );
    let mlflow = &pod["containers"][0];
    let args: Vec<&str> = mlflow["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let uri = args[args
        .iter()
        .position(|a| *a == "--backend-store-uri")
        .unwrap()
        + 1];
    assert_eq!(
        uri,
        "postgresql+psycopg://mlflow@mlflow-postgres-rw.mlflow.svc.cluster.local:5432/mlflow"
    );
    // The password reaches the pod only as a mounted file, from the
    // Secret CloudNativePG generates.
    // Only what MLflow reads from its environment alone comes from env.
    assert!(
        containers(pod).all(|c| c["env"]
            .as_sequence()
            .unwrap()
            .iter()
            .all(|e| e["valueFrom"].is_null() || e["name"] == "MLFLOW_CRYPTO_KEK_PASSPHRASE")),
        "no container reads a secret from env"
    );
    let sources = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "secrets")
        .unwrap()["projected"]["sources"]
        .as_sequence()
        .unwrap();
    let db = sources
        .iter()
        .find(|s| s["secret"]["items"][0]["path"] == "db-password")
        .unwrap();
    assert_eq!(db["secret"]["name"], "mlflow-postgres-app");
    assert_eq!(db["secret"]["items"][0]["key"], "password");
    let hpa = find(&docs, "HorizontalPodAutoscaler", "mlflow-tracking");
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    assert!(hpa["spec"]["minReplicas"].as_u64().unwrap() >= 3);
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "mlflow-tracking");
    find(&docs, "PodDisruptionBudget", "mlflow-tracking");

    let docs = render(&[
        "render",
        "--profile",
        "ha",
        "--set",
        "artifacts.embedded.engine=minio",
        "--set",
        "artifacts.embedded.replicas=4",
    ]);
    let minio = find(&docs, "StatefulSet", "mlflow-minio");
    assert_eq!(minio["spec"]["replicas"], 4);
    assert_eq!(minio["spec"]["serviceName"], "mlflow-minio-hl");
    assert_eq!(minio["spec"]["podManagementPolicy"], "Parallel");
    assert_eq!(
        minio["spec"]["template"]["spec"]["containers"][0]["args"][1],
        "http://mlflow-minio-{0...3}.mlflow-minio-hl.mlflow.svc.cluster.local/data"
    );
    let headless = find(&docs, "Service", "mlflow-minio-hl");
    assert_eq!(headless["spec"]["clusterIP"], "None");
    assert_eq!(headless["spec"]["publishNotReadyAddresses"], true);
    find(&docs, "PodDisruptionBudget", "mlflow-minio");
    let job = docs
        .iter()
        .find(|d| d["kind"] == "Job")
        .expect("the bucket Job");
    let job_c = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        env_value(job_c, "S3_ENDPOINT"),
        Some("http://mlflow-minio.mlflow.svc.cluster.local:9000")
    );
}

#[test]
fn ha_policies_allow_what_cloudnativepg_and_the_seaweedfs_cluster_need() {
    let docs = render(&[
        "render",
        "--profile",
        "ha",
        "--set",
        "database.cloudnativepg.backup={}",
    ]);
    let pg = find(&docs, "NetworkPolicy", "mlflow-postgres");
    assert_eq!(
        pg["spec"]["podSelector"]["matchLabels"]["cnpg.io/cluster"],
        "mlflow-postgres"
    );
    let ingress = serde_yaml::to_string(&pg["spec"]["ingress"]).unwrap();
    assert!(ingress.contains("cnpg-system"), "{ingress}");
    let egress = serde_yaml::to_string(&pg["spec"]["egress"]).unwrap();
    assert!(
        egress.contains("6443") && egress.contains("8333"),
        "{egress}"
    );
    let from = serde_yaml::to_string(&pg["spec"]["ingress"]).unwrap();
    assert!(from.contains("seaweedfs-filer"), "{from}");
    let gateways = find(&docs, "NetworkPolicy", "mlflow-seaweedfs");
    let from = serde_yaml::to_string(&gateways["spec"]["ingress"]).unwrap();
    for peer in ["tracking", "bucket-setup", "cnpg.io/cluster"] {
        assert!(
            from.contains(peer),
            "{peer} cannot reach SeaweedFS:\n{from}"
        );
    }
    // Inside the store: gateways reach filers and volume servers; filers
    // reach masters, volume servers and PostgreSQL; masters talk raft.
    for (policy, reaches) in [
        ("mlflow-seaweedfs", &["8888", "8080", "9333"][..]),
        ("mlflow-seaweedfs-filer", &["9333", "8080", "5432"][..]),
        ("mlflow-seaweedfs-master", &["9333", "19333"][..]),
        ("mlflow-seaweedfs-volume", &["9333", "8080"][..]),
    ] {
        let p = find(&docs, "NetworkPolicy", policy);
        let egress = serde_yaml::to_string(&p["spec"]["egress"]).unwrap();
        for port in reaches {
            assert!(
                egress.contains(&format!("port: {port}\n")),
                "{policy} -> {port}:\n{egress}"
            );
        }
    }
    let filer = find(&docs, "NetworkPolicy", "mlflow-seaweedfs-filer");
    let from = serde_yaml::to_string(&filer["spec"]["ingress"]).unwrap();
    assert!(
        !from.contains("tracking"),
        "only the gateways reach the filers:\n{from}"
    );
    let cluster = find(&docs, "Cluster", "mlflow-postgres");
    let store = &cluster["spec"]["backup"]["barmanObjectStore"];
    assert_eq!(
        store["destinationPath"],
        "s3://mlflow-backups/postgres-backups"
    );
    assert_eq!(
        store["s3Credentials"]["accessKeyId"]["name"],
        "mlflow-s3-backup"
    );
    let nightly = find(&docs, "ScheduledBackup", "mlflow-postgres-nightly");
    assert_eq!(nightly["spec"]["cluster"]["name"], "mlflow-postgres");
}

#[test]
fn set_works_on_every_profile() {
    for profile in PROFILES {
        let docs = render(&[
            "render",
            "--profile",
            profile,
            "--set",
            "metadata.namespace=ml-team",
            "--set",
            "tracking.workers=3",
        ]);
        let deploy = find(&docs, "Deployment", "mlflow-tracking");
        assert_eq!(deploy["metadata"]["namespace"], "ml-team", "{profile}");
        let args = &deploy["spec"]["template"]["spec"]["containers"][0]["args"];
        let args: Vec<&str> = args
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let at = args.iter().position(|a| *a == "--workers").unwrap();
        assert_eq!(args[at + 1], "3", "{profile}");
    }
    let docs = render(&[
        "render",
        "--profile",
        "ha",
        "--set",
        "database.cloudnativepg=null",
        "--set",
        "artifacts.embedded.replicas=1",
    ]);
    find(&docs, "StatefulSet", "mlflow-postgres");
    assert!(!docs.iter().any(|d| d["kind"] == "Cluster"));
    let docs = render(&[
        "render",
        "--profile",
        "ha",
        "--set",
        "artifacts.embedded.replicas=6",
    ]);
    let volumes = find(&docs, "StatefulSet", "mlflow-seaweedfs-volume");
    assert_eq!(volumes["spec"]["replicas"], 6);
}

/// `tracking.gc`: a CronJob that never overlaps itself, with the server's
/// own access to both stores, at the restricted level (render validates).
#[test]
fn gc_runs_once_at_a_time_with_the_servers_access() {
    let run = mlk(&[
        "render",
        "--profile",
        "prod",
        "--set",
        "tracking.gc.olderThan=7d",
    ])
    .key()
    .run()
    .ok();
    let docs = run.docs();
    let cron = find(&docs, "CronJob", "mlflow-gc");
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
    let pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let argv: Vec<&str> = pod["containers"][0]["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(&argv[..2], ["mlflow", "gc"]);
    assert!(
        argv.windows(2).any(|w| w == ["--older-than", "7d"]),
        "{argv:?}"
    );
    assert!(argv.contains(&"--tracking-uri"), "{argv:?}");
    assert_eq!(pod["initContainers"][0]["name"], "credential-files");
    // Its NetworkPolicy lets it reach the database, the store and the server.
    let policy = find(&docs, "NetworkPolicy", "mlflow-gc");
    let ports: Vec<u64> = policy["spec"]["egress"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["ports"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|p| p["port"].as_u64().unwrap())
        })
        .collect();
    for port in [5000, 5432, 8333] {
        assert!(ports.contains(&port), "{ports:?}");
    }
}
