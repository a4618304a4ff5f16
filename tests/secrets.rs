//! Where secret values go: into Secret objects, and nowhere else.

mod common;
use common::{env_value, find, mlk};
use serde_yaml::Value;

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn values_appear_only_inside_secrets() {
    let pw = "pg-password-from-env-7731";
    let run = mlk(&[
        "render",
        "--set",
        "database.embedded.password.fromEnv=PG_PW",
    ])
    .env("PG_PW", pw)
    .run()
    .ok();
    assert!(
        !run.stdout.contains(pw),
        "a secret is in plain text in the output"
    );
    assert!(!run.stderr.contains(pw));
    let docs = run.docs();
    let secret = find(&docs, "Secret", "mlflow-db");
    assert_eq!(secret["data"]["password"], b64(pw).as_str());
    for d in docs.iter().filter(|d| d["kind"] != "Secret") {
        let text = serde_yaml::to_string(d).unwrap();
        assert!(!text.contains(&b64(pw)), "{:?} holds the secret", d["kind"]);
    }
}

#[test]
fn from_file_is_relative_to_the_spec_and_loses_one_newline() {
    let run = mlk(&["render", "-f", "specs/everything.yaml"])
        .env("MINIO_USER", "minio-admin")
        .run()
        .ok();
    let docs = run.docs();
    let s3 = find(&docs, "Secret", "ml-platform-s3");
    assert_eq!(
        s3["data"]["secret-access-key"],
        b64("minio-file-secret-1234").as_str()
    );
    assert_eq!(s3["data"]["access-key-id"], b64("minio-admin").as_str());
}

#[test]
fn existing_secret_renders_no_secret() {
    let run = mlk(&[
        "render",
        "--set",
        "database.embedded.password={existingSecret: {name: pg, key: pw}}",
    ])
    .run()
    .ok();
    let docs = run.docs();
    assert!(
        !docs
            .iter()
            .any(|d| d["kind"] == "Secret" && d["metadata"]["name"] == "mlflow-db")
    );
    let pod = &find(&docs, "StatefulSet", "mlflow-postgres")["spec"]["template"]["spec"];
    let file = env_value(&pod["containers"][0], "POSTGRES_PASSWORD_FILE").unwrap();
    assert_eq!(secret_file_source(pod, file), ("pg".into(), "pw".into()));
}

/// The Secret and key behind a file the pod's projected `secrets` volume
/// mounts at `path`.
fn secret_file_source(pod: &Value, path: &str) -> (String, String) {
    let file = path.strip_prefix("/var/run/secrets/mlk/").unwrap();
    let volume = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "secrets")
        .unwrap();
    for source in volume["projected"]["sources"].as_sequence().unwrap() {
        for item in source["secret"]["items"].as_sequence().unwrap() {
            if item["path"] == file {
                let name = source["secret"]["name"].as_str().unwrap();
                return (name.into(), item["key"].as_str().unwrap().into());
            }
        }
    }
    panic!("no secret file {path}")
}

/// MLflow reads these from its environment alone, and SeaweedFS's filer
/// its database password from env or from inside filer.toml (README:
/// Secrets as files), so they stay env vars from the Secret.
const ENV_ONLY: [&str; 3] = [
    "MLFLOW_CRYPTO_KEK_PASSPHRASE",
    "MLFLOW_FLASK_SERVER_SECRET_KEY",
    "WEED_POSTGRES2_PASSWORD",
];

/// Drops the env-only variables from every container of `doc`.
fn forget_env_only(doc: &mut Value) {
    match doc {
        Value::Mapping(m) => {
            if let Some(Value::Sequence(env)) = m.get_mut("env") {
                env.retain(|e| !ENV_ONLY.iter().any(|n| e["name"] == *n));
            }
            m.values_mut().for_each(forget_env_only);
        }
        Value::Sequence(s) => s.iter_mut().for_each(forget_env_only),
        _ => {}
    }
}

#[test]
fn no_container_reads_a_secret_from_its_environment() {
    // everything.yaml runs MinIO; the bare profiles run SeaweedFS (ha: a cluster).
    let runs = [
        ("dev", &["-f", "specs/everything.yaml"][..]),
        ("prod", &["-f", "specs/everything.yaml"][..]),
        (
            "ha",
            &[
                "-f",
                "specs/everything.yaml",
                "--set",
                "artifacts.embedded.replicas=4",
            ][..],
        ),
        ("prod", &[][..]),
        ("ha", &[][..]),
    ];
    for (profile, args) in runs {
        let mut all = vec!["render", "--profile", profile];
        all.extend(args);
        let run = mlk(&all).key().env("MINIO_USER", "minio-admin").run().ok();
        for mut doc in run.docs() {
            if doc["kind"] == "Secret" || doc["kind"] == "Cluster" {
                continue;
            }
            forget_env_only(&mut doc);
            let text = serde_yaml::to_string(&doc).unwrap();
            assert!(
                !text.contains("secretKeyRef") && !text.contains("secretRef"),
                "{profile}: {} {} reads a Secret through env",
                doc["kind"].as_str().unwrap(),
                doc["metadata"]["name"].as_str().unwrap()
            );
        }
    }
}

#[test]
fn the_database_password_never_reaches_args() {
    let run = mlk(&[
        "render",
        "--set",
        "database.embedded.password.value=lit-3141",
    ])
    .run()
    .ok();
    assert!(
        run.stderr
            .contains("warning: database.embedded.password: the secret is written in the spec")
    );
    assert!(!run.stderr.contains("lit-3141"));
    let docs = run.docs();
    let pod = &find(&docs, "Deployment", "mlflow-tracking")["spec"]["template"]["spec"];
    let text = serde_yaml::to_string(pod).unwrap();
    assert!(!text.contains("lit-3141") && !text.contains(&b64("lit-3141")));
    let c = &pod["containers"][0];
    let uri_at = c["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .position(|a| a == "--backend-store-uri")
        .unwrap();
    assert_eq!(
        c["args"][uri_at + 1],
        "postgresql+psycopg://mlflow@mlflow-postgres.mlflow.svc.cluster.local:5432/mlflow"
    );
    // The server reads the pgpass file the first init step writes from
    // the mounted Secret.
    assert_eq!(env_value(c, "PGPASSFILE"), Some("/tmp/mlk/pgpass"));
    let step = &pod["initContainers"][0];
    assert_eq!(step["name"], "credential-files");
    assert_eq!(env_value(step, "PGPASSFILE"), Some("/tmp/mlk/pgpass"));
    let file = env_value(step, "MLK_DB_PASSWORD_FILE").unwrap();
    let source = secret_file_source(pod, file);
    assert_eq!(source, ("mlflow-db".into(), "password".into()));
}

#[test]
fn dev_fallback_warns_loudly_and_key_silences_it() {
    let run = mlk(&["render"]).run().ok();
    assert!(
        run.stderr.contains("PUBLIC development key"),
        "{}",
        run.stderr
    );
    let keyed = mlk(&["render"]).key().run().ok();
    assert!(keyed.stderr.is_empty(), "{}", keyed.stderr);
}

/// MLflow's AI Gateway encrypts stored provider keys under a passphrase;
/// unset, MLflow uses a public constant. mlk always sets it, stable
/// across renders, or turns the gateway off.
#[test]
fn the_ai_gateway_passphrase_is_stable_and_never_mlflows_public_one() {
    let kek = |run: &common::Run| {
        let docs = run.docs();
        let secret = find(&docs, "Secret", "mlflow-tracking");
        secret["data"]["kek-passphrase"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // prod turns the gateway off (see below); on, it needs a way out.
    let on = [
        "--set",
        "tracking.aiGateway=true",
        "--set",
        "tracking.aiGatewayEgress=[0.0.0.0/0]",
    ];
    let gateway_on = [&["render", "--profile", "prod"][..], &on].concat();
    let first = mlk(&gateway_on).key().run().ok();
    let again = mlk(&gateway_on).key().run().ok();
    assert_eq!(kek(&first), kek(&again));
    let other_key = mlk(&gateway_on)
        .env("MLK_SECRET_KEY", "another-key-of-forty-characters-zyxw9876")
        .run()
        .ok();
    assert_ne!(kek(&first), kek(&other_key));
    let docs = first.docs();
    let server =
        &find(&docs, "Deployment", "mlflow-tracking")["spec"]["template"]["spec"]["containers"][0];
    let env = server["env"].as_sequence().unwrap();
    let passphrase = env
        .iter()
        .find(|e| e["name"] == "MLFLOW_CRYPTO_KEK_PASSPHRASE")
        .unwrap();
    assert_eq!(
        passphrase["valueFrom"]["secretKeyRef"]["key"],
        "kek-passphrase"
    );

    let off = mlk(&["render", "--set", "tracking.aiGateway=false"])
        .run()
        .ok();
    let docs = off.docs();
    let server =
        &find(&docs, "Deployment", "mlflow-tracking")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(env_value(server, "MLFLOW_ENABLE_AI_GATEWAY"), Some("false"));
    assert!(!off.stdout.contains("kek-passphrase"));

    // External stores need no generated secret but this one.
    let external = [
        &["render", "-f", "specs/external.yaml", "--profile", "prod"][..],
        &on,
    ]
    .concat();
    let refused = mlk(&external)
        .env("S3_KEY_ID", "AKIAEXAMPLE")
        .env("S3_SECRET", "s3-secret-value")
        .run()
        .failed();
    assert!(
        refused.stderr.contains("tracking.aiGateway: false"),
        "{}",
        refused.stderr
    );
}

/// MLflow's AI Gateway calls providers outside the cluster, which prod's
/// NetworkPolicies block: prod and ha turn it off; on, the spec names the
/// providers' blocks (egress on 443 from the server only) or a proxy.
#[test]
fn the_ai_gateway_is_off_in_prod_or_has_a_way_out() {
    for profile in ["prod", "ha"] {
        let run = mlk(&["render", "--profile", profile]).key().run().ok();
        let docs = run.docs();
        let server = &find(&docs, "Deployment", "mlflow-tracking")["spec"]["template"]["spec"]["containers"]
            [0];
        assert_eq!(env_value(server, "MLFLOW_ENABLE_AI_GATEWAY"), Some("false"));
    }
    let on = [
        "render",
        "--profile",
        "prod",
        "--set",
        "tracking.aiGateway=true",
    ];
    let stuck = mlk(&on).key().run().ok();
    assert!(
        stuck
            .stderr
            .contains("warning: tracking.aiGateway: the AI Gateway is on, but the NetworkPolicies"),
        "{}",
        stuck.stderr
    );
    let with = |more: &[&'static str]| [&on[..], more].concat();
    let blocks = mlk(&with(&[
        "--set",
        "tracking.aiGatewayEgress=[203.0.113.0/24]",
    ]))
    .key()
    .run()
    .ok();
    let docs = blocks.docs();
    let policy = find(&docs, "NetworkPolicy", "mlflow-tracking");
    let egress = policy["spec"]["egress"].as_sequence().unwrap();
    let to_providers: Vec<_> = egress
        .iter()
        .filter(|r| r["to"][0]["ipBlock"]["cidr"] == "203.0.113.0/24")
        .collect();
    assert_eq!(to_providers.len(), 1, "{egress:?}");
    assert_eq!(to_providers[0]["ports"][0]["port"], 443);
    let elsewhere = docs
        .iter()
        .filter(|d| d["kind"] == "NetworkPolicy")
        .filter(|d| serde_yaml::to_string(d).unwrap().contains("203.0.113.0/24"))
        .count();
    assert_eq!(
        elsewhere, 1,
        "only the tracking server reaches the providers"
    );
    let proxied = mlk(&with(&[
        "--set",
        "pods.proxy={https: http://proxy.corp:3128}",
    ]))
    .key()
    .run();
    assert_eq!(proxied.code, 0, "{}", proxied.stderr);
    assert!(!proxied.stderr.contains("aiGateway"), "{}", proxied.stderr);
    let unused = ["render", "--set", "tracking.aiGateway=false"];
    let unused = [
        &unused[..],
        &["--set", "tracking.aiGatewayEgress=[0.0.0.0/0]"],
    ]
    .concat();
    let unused = mlk(&unused).run().ok();
    assert!(
        unused
            .stderr
            .contains("tracking.aiGatewayEgress: the AI Gateway is off")
    );
}

/// The `checksum/config` annotation of each pod template.
fn checksums(docs: &[Value]) -> std::collections::BTreeMap<String, String> {
    docs.iter()
        .filter_map(|d| {
            let sum =
                d["spec"]["template"]["metadata"]["annotations"]["checksum/config"].as_str()?;
            let id = format!(
                "{}/{}",
                d["kind"].as_str()?,
                d["metadata"]["name"].as_str()?
            );
            Some((id, sum.to_owned()))
        })
        .collect()
}

/// Kubernetes restarts nothing when a Secret changes: the checksum of what
/// a pod reads does, and rolls exactly the pods that read it.
#[test]
fn a_changed_secret_rolls_only_the_pods_that_read_it() {
    // MinIO: the one engine whose keys a spec sets (SeaweedFS derives each
    // consumer's).
    let minio = "artifacts.embedded.engine=minio";
    let render = |set: &str| {
        mlk(&["render", "--set", minio, "--set", set])
            .key()
            .run()
            .ok()
            .docs()
    };
    let base = checksums(&render("database.embedded.password.value=first-password-1"));
    assert_eq!(
        base.keys().collect::<Vec<_>>(),
        [
            "Deployment/mlflow-tracking",
            "StatefulSet/mlflow-minio",
            "StatefulSet/mlflow-postgres"
        ]
    );
    assert_eq!(
        base,
        checksums(&render("database.embedded.password.value=first-password-1"))
    );
    let db = checksums(&render("database.embedded.password.value=other-password-2"));
    let changed: Vec<&String> = base.keys().filter(|k| base[*k] != db[*k]).collect();
    assert_eq!(
        changed,
        ["Deployment/mlflow-tracking", "StatefulSet/mlflow-postgres"]
    );
    let s3 = checksums(
        &mlk(&[
            "render",
            "--set",
            minio,
            "--set",
            "database.embedded.password.value=first-password-1",
            "--set",
            "artifacts.embedded.rootPassword.value=other-password-3",
        ])
        .key()
        .run()
        .ok()
        .docs(),
    );
    // The root keys are MinIO's and the bucket Job's alone: the tracking
    // server logs in as a user of its own.
    let changed: Vec<&String> = base.keys().filter(|k| base[*k] != s3[*k]).collect();
    assert_eq!(changed, ["StatefulSet/mlflow-minio"]);
}
