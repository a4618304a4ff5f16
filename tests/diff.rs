//! `mlk diff`: one pair per unsafe change, each from the real render with
//! one change made to it, asserting exit 3 and the reason; safe changes
//! exit 1, identical inputs 0; and a live `kubectl get -o yaml` List, with
//! what the API server adds, diffs clean against the render it came from.

mod common;
use common::mlk;

use serde_yaml::Value;

fn render(args: &[&str]) -> Vec<Value> {
    let mut all = vec!["render"];
    all.extend_from_slice(args);
    mlk(&all).key().run().ok().docs()
}

fn stream(docs: &[Value]) -> String {
    docs.iter()
        .map(|d| format!("---\n{}", serde_yaml::to_string(d).unwrap()))
        .collect()
}

/// `mlk diff OLD NEW` on two streams written to files: (exit, stdout).
fn diff(old: &[Value], new: &[Value]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("old.yaml"), dir.path().join("new.yaml"));
    std::fs::write(&a, stream(old)).unwrap();
    std::fs::write(&b, stream(new)).unwrap();
    let run = mlk(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]).run();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    (run.code, run.stdout)
}

fn edit(docs: &[Value], kind: &str, name: &str, change: impl Fn(&mut Value)) -> Vec<Value> {
    let mut out = docs.to_vec();
    let doc = out
        .iter_mut()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"));
    change(doc);
    out
}

fn without(docs: &[Value], kind: &str, name: &str) -> Vec<Value> {
    docs.iter()
        .filter(|d| !(d["kind"] == kind && d["metadata"]["name"] == name))
        .cloned()
        .collect()
}

fn unsafe_because(old: &[Value], new: &[Value], reason: &str) {
    let (code, out) = diff(old, new);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains(&format!("UNSAFE: {reason}")) || out.contains(reason),
        "want {reason:?} in:\n{out}"
    );
}

fn secret_value(v: &str) -> Value {
    use base64::Engine;
    Value::String(base64::engine::general_purpose::STANDARD.encode(v))
}

#[test]
fn identical_inputs_exit_0_and_safe_changes_exit_1() {
    let base = render(&[]);
    assert_eq!(diff(&base, &base).0, 0);
    let safe = edit(&base, "Deployment", "mlflow-tracking", |d| {
        d["spec"]["replicas"] = Value::from(3);
        d["spec"]["template"]["spec"]["containers"][0]["image"] =
            Value::from("ghcr.io/mlflow/mlflow:v3.17.3-full");
    });
    let (code, out) = diff(&base, &safe);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("-  replicas: 1") || out.contains("replicas: 3"),
        "{out}"
    );
    assert!(!out.contains("UNSAFE"), "{out}");
}

#[test]
fn immutable_fields_are_unsafe() {
    let base = render(&[]);
    let pg = "mlflow-postgres";
    let grown = edit(&base, "StatefulSet", pg, |d| {
        d["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] =
            "50Gi".into();
    });
    unsafe_because(&base, &grown, "volume data grows from 5Gi to 50Gi");
    let (_, out) = diff(&base, &grown);
    assert!(
        out.contains("kubectl -n mlflow patch pvc data-mlflow-postgres-0"),
        "{out}"
    );
    assert!(
        out.contains("delete statefulset mlflow-postgres --cascade=orphan"),
        "{out}"
    );
    unsafe_because(&grown, &base, "volume data would shrink from 50Gi to 5Gi");
    for (field, value) in [
        (
            "selector",
            serde_yaml::from_str("{matchLabels: {app: other}}").unwrap(),
        ),
        ("serviceName", Value::from("other")),
        ("podManagementPolicy", Value::from("Parallel")),
    ] {
        let changed = edit(&base, "StatefulSet", pg, |d| {
            d["spec"][field] = value.clone()
        });
        unsafe_because(
            &base,
            &changed,
            &format!("a StatefulSet's {field} cannot change"),
        );
    }
    let selector = edit(&base, "Deployment", "mlflow-tracking", |d| {
        d["spec"]["selector"]["matchLabels"]["extra"] = "x".into();
    });
    unsafe_because(&base, &selector, "a Deployment's selector cannot change");
    let job_name = base.iter().find(|d| d["kind"] == "Job").unwrap()["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let job = edit(&base, "Job", &job_name, |d| {
        d["spec"]["template"]["metadata"]["labels"]["extra"] = "x".into();
    });
    unsafe_because(&base, &job, "a Job's pod template cannot change");
}

#[test]
fn services_and_claims_are_unsafe_where_the_api_refuses() {
    let base = render(&[]);
    let with_ip = edit(&base, "Service", "mlflow-tracking", |d| {
        d["spec"]["clusterIP"] = "10.96.0.10".into();
    });
    let other_ip = edit(&base, "Service", "mlflow-tracking", |d| {
        d["spec"]["clusterIP"] = "10.96.0.11".into();
    });
    unsafe_because(&with_ip, &other_ip, "a Service's clusterIP cannot change");
    let external = edit(&base, "Service", "mlflow-tracking", |d| {
        d["spec"]["type"] = "ExternalName".into();
        d["spec"]["externalName"] = "mlflow.example.com".into();
    });
    unsafe_because(&base, &external, "ExternalName");
    let claim = |size: &str| -> Value {
        serde_yaml::from_str(&format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: scratch, namespace: mlflow}}\n\
             spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: {size}}}}}}}\n"
        ))
        .unwrap()
    };
    let big = [base.clone(), vec![claim("20Gi")]].concat();
    let small = [base.clone(), vec![claim("10Gi")]].concat();
    unsafe_because(&big, &small, "the claim would shrink from 20Gi to 10Gi");
    unsafe_because(&big, &base, "PersistentVolumeClaim scratch is removed");
}

#[test]
fn data_loss_is_unsafe() {
    let base = render(&[]);
    unsafe_because(
        &base,
        &without(&base, "StatefulSet", "mlflow-seaweedfs"),
        "the artifact store would be lost",
    );
    // MinIO replaced by SeaweedFS: the objects do not move by themselves.
    let minio = render(&["--set", "artifacts.embedded.engine=minio"]);
    unsafe_because(&minio, &base, "StatefulSet mlflow-minio is removed");
    let (_, out) = diff(&minio, &base);
    assert!(out.contains("Moving from MinIO to SeaweedFS"), "{out}");
    // migrateFrom: the steps, in order: copy, verify counts, switch the
    // tracking server, remove MinIO; and how to go back.
    let migrating = render(&["--set", "artifacts.embedded.migrateFrom={engine: minio}"]);
    let (_, out) = diff(&minio, &migrating);
    let at = |step: &str| {
        out.find(step)
            .unwrap_or_else(|| panic!("no {step:?} in:\n{out}"))
    };
    let order = [
        "copies MinIO's objects into SeaweedFS",
        "the Job copies every bucket",
        "verify the counts",
        "rollout status deployment mlflow-tracking",
        "delete statefulset mlflow-minio",
        "to go back",
    ];
    let places: Vec<usize> = order.iter().map(|s| at(s)).collect();
    assert!(places.windows(2).all(|w| w[0] < w[1]), "{out}");
    assert!(
        !out.contains("StatefulSet mlflow-minio is removed"),
        "{out}"
    );
    // One SeaweedFS server for a cluster: the cluster starts empty.
    let cnpg = ["--set", "database.cloudnativepg={}"];
    let single = render(&cnpg);
    let cluster = render(&[&cnpg[..], &["--set", "artifacts.embedded.replicas=3"]].concat());
    unsafe_because(&single, &cluster, "StatefulSet mlflow-seaweedfs is removed");
    let (_, out) = diff(&single, &cluster);
    assert!(out.contains("Moving SeaweedFS into a cluster"), "{out}");
    // The embedded PostgreSQL switched for CloudNativePG, with no migration.
    let ha = render(&["--profile", "ha"]);
    unsafe_because(
        &render(&["--profile", "prod"]),
        &ha,
        "the database would be lost",
    );
    let prod = render(&[
        "--profile",
        "prod",
        "--set",
        "artifacts.embedded.engine=minio",
    ]);
    let distributed = render(&[
        "--profile",
        "prod",
        "--set",
        "artifacts.embedded.engine=minio",
        "--set",
        "artifacts.embedded.replicas=4",
    ]);
    unsafe_because(
        &prod,
        &distributed,
        "MinIO moves from one server to a distributed erasure set",
    );
}

/// The backup CronJob's dumps moving to their own bucket: the old ones
/// are to be copied, then removed from the artifacts' bucket. The old
/// output is an earlier mlk's, which named only an S3 bucket (`BUCKET`).
#[test]
fn dumps_that_move_buckets_are_unsafe() {
    let new = render(&["--profile", "prod"]);
    let old = edit(&new, "CronJob", "mlflow-postgres-backup", |d| {
        let containers = &mut d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"];
        for c in containers.as_sequence_mut().unwrap() {
            for e in c["env"].as_sequence_mut().into_iter().flatten() {
                if e["name"] == "DESTINATION" {
                    e["name"] = "BUCKET".into();
                    e["value"] = "mlflow".into();
                }
            }
        }
    });
    unsafe_because(
        &old,
        &new,
        "the database's dumps go to s3://mlflow-backups/postgres-backups instead of s3://mlflow/postgres-backups",
    );
    let (_, out) = diff(&old, &new);
    assert!(
        out.contains(
            "rclone copy OLD:s3://mlflow/postgres-backups NEW:s3://mlflow-backups/postgres-backups"
        ),
        "{out}"
    );
    // The same place, written the new way, is no move.
    let renamed = edit(&old, "CronJob", "mlflow-postgres-backup", |d| {
        let containers = &mut d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"];
        for c in containers.as_sequence_mut().unwrap() {
            for e in c["env"].as_sequence_mut().into_iter().flatten() {
                if e["name"] == "BUCKET" {
                    e["value"] = "mlflow-backups".into();
                }
            }
        }
    });
    let (_, out) = diff(&renamed, &new);
    assert!(!out.contains("dumps go to"), "{out}");
}

/// Backups that move to a bucket of their own: the old ones stay where
/// they were, and nothing restores from the new place until a base
/// backup is taken there.
#[test]
fn a_cluster_that_archives_elsewhere_is_unsafe() {
    let ha = render(&[
        "--profile",
        "ha",
        "--set",
        "database.cloudnativepg.backup={}",
    ]);
    let moved = edit(&ha, "Cluster", "mlflow-postgres", |d| {
        d["spec"]["backup"]["barmanObjectStore"]["destinationPath"] =
            "s3://mlflow/postgres-backups".into();
    });
    let at = " at http://mlflow-seaweedfs.mlflow.svc.cluster.local:8333";
    unsafe_because(
        &moved,
        &ha,
        &format!(
            "archives to s3://mlflow-backups/postgres-backups{at} instead of s3://mlflow/postgres-backups{at}"
        ),
    );
    // The same path in another store: MinIO to SeaweedFS.
    let minio = edit(&ha, "Cluster", "mlflow-postgres", |d| {
        d["spec"]["backup"]["barmanObjectStore"]["endpointURL"] =
            "http://mlflow-minio.mlflow.svc.cluster.local:9000".into();
    });
    unsafe_because(
        &minio,
        &ha,
        "instead of s3://mlflow-backups/postgres-backups at http://mlflow-minio.mlflow.svc.cluster.local:9000",
    );
}

/// The filers' password is a CloudNativePG managed role's: the operator
/// sets the role's password from the changed Secret, nothing is kept.
#[test]
fn a_managed_roles_new_password_is_safe() {
    let ha = render(&["--profile", "ha"]);
    let changed = edit(&ha, "Secret", "mlflow-seaweedfs-filer-db", |d| {
        d["data"]["password"] = "bmV3LXBhc3N3b3Jk".into();
    });
    let (code, out) = diff(&ha, &changed);
    assert!(!out.contains("UNSAFE"), "{code}: {out}");
}

#[test]
fn fewer_volume_servers_are_emptied_first() {
    let cnpg = ["--set", "database.cloudnativepg={}"];
    let five = render(&[&cnpg[..], &["--set", "artifacts.embedded.replicas=5"]].concat());
    let three = render(&[&cnpg[..], &["--set", "artifacts.embedded.replicas=3"]].concat());
    unsafe_because(&five, &three, "goes from 5 volume servers to 3");
    let (_, out) = diff(&five, &three);
    let evacuate = |i: u32| {
        out.find(&format!(
            "volumeServer.evacuate -node mlflow-seaweedfs-volume-{i}.mlflow-seaweedfs-volume"
        ))
        .unwrap_or_else(|| panic!("server {i} is not emptied:\n{out}"))
    };
    assert!(evacuate(4) < evacuate(3), "the last one first:\n{out}");
    assert!(out.contains("volume.fix.replication -apply"), "{out}");
    // More is safe.
    let (code, out) = diff(&three, &five);
    assert!(!out.contains("UNSAFE"), "{code}: {out}");
}

#[test]
fn credentials_an_initialised_store_keeps_are_unsafe() {
    let base = render(&[
        "--set",
        "tracking.auth.enabled=true",
        "--set",
        "artifacts.embedded.engine=minio",
    ]);
    let changed = |name: &str, key: &str| {
        edit(&base, "Secret", name, |d| {
            d["data"][key] = secret_value("another-value-0123456789")
        })
    };
    unsafe_because(
        &base,
        &changed("mlflow-db", "password"),
        "password of StatefulSet mlflow-postgres changes",
    );
    let (_, out) = diff(&base, &changed("mlflow-db", "password"));
    assert!(
        out.contains("psql -U mlflow -d mlflow -c '\\password mlflow'"),
        "{out}"
    );
    assert!(out.contains("password: '*** (changed)'"), "{out}");
    assert!(!out.contains("another-value"), "{out}");
    unsafe_because(
        &base,
        &changed("mlflow-s3", "secret-access-key"),
        "of StatefulSet mlflow-minio changes",
    );
    unsafe_because(
        &base,
        &changed("mlflow-tracking", "kek-passphrase"),
        "the AI Gateway's passphrase",
    );
    let ini = edit(&base, "Secret", "mlflow-tracking", |d| {
        d["data"]["basic_auth.ini"] =
            secret_value("[mlflow]\nadmin_password = something-else-entirely\n");
    });
    unsafe_because(&base, &ini, "the first admin's password changes");
}

#[test]
fn dev_to_prod_with_a_first_key_is_flagged_for_volumes_and_password() {
    let dev = mlk(&["render"]).run().ok().docs();
    let prod = render(&["--profile", "prod"]);
    let (code, out) = diff(&dev, &prod);
    assert_eq!(code, 3);
    assert!(out.contains("volume data grows from 5Gi to 50Gi"), "{out}");
    assert!(
        out.contains("volume data grows from 10Gi to 200Gi"),
        "{out}"
    );
    assert!(
        out.contains("password of StatefulSet mlflow-postgres changes"),
        "{out}"
    );
}

/// What `kubectl get -o yaml` returns for what the render applied: a List
/// whose items carry status, server metadata, the last-applied annotation
/// and the fields the API server defaults.
fn as_live(docs: &[Value]) -> Value {
    let items: Vec<Value> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut d = d.clone();
            let meta = &mut d["metadata"];
            meta["uid"] = format!("0b0c{i:04}-1111-2222-3333-444455556666").into();
            meta["resourceVersion"] = format!("{}", 1000 + i).into();
            meta["generation"] = 1.into();
            meta["creationTimestamp"] = "2026-11-20T10:00:00Z".into();
            meta["managedFields"] =
                serde_yaml::from_str("[{manager: kubectl, operation: Apply}]").unwrap();
            meta["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}".into();
            d["status"] = serde_yaml::from_str("{observedGeneration: 1}").unwrap();
            match d["kind"].as_str().unwrap() {
                "Service" => {
                    // Headless Services keep `None`; the others get an IP.
                    if d["spec"]["clusterIP"].is_null() {
                        d["spec"]["clusterIP"] = format!("10.96.12.{i}").into();
                    }
                    d["spec"]["sessionAffinity"] = "None".into();
                    d["spec"]["type"] = "ClusterIP".into();
                }
                "Deployment" | "StatefulSet" => {
                    d["spec"]["revisionHistoryLimit"] = 10.into();
                    let pod = &mut d["spec"]["template"]["spec"];
                    pod["dnsPolicy"] = "ClusterFirst".into();
                    pod["restartPolicy"] = "Always".into();
                    pod["schedulerName"] = "default-scheduler".into();
                    if let Some(cs) = pod["containers"].as_sequence_mut() {
                        for c in cs {
                            c["terminationMessagePath"] = "/dev/termination-log".into();
                            c["imagePullPolicy"] = "IfNotPresent".into();
                        }
                    }
                }
                _ => {}
            }
            d
        })
        .collect();
    serde_yaml::from_str::<Value>("{apiVersion: v1, kind: List, items: []}")
        .map(|mut l| {
            l["items"] = Value::Sequence(items);
            l
        })
        .unwrap()
}

#[test]
fn live_state_diffs_clean_against_the_render_it_came_from() {
    let rendered = render(&["--profile", "prod"]);
    let live = as_live(&rendered);
    let (code, out) = diff(std::slice::from_ref(&live), &rendered);
    assert_eq!(code, 0, "{out}");
    // And a real change still shows through the noise.
    let scaled = edit(&rendered, "Deployment", "mlflow-tracking", |d| {
        d["spec"]["replicas"] = 4.into()
    });
    let (code, out) = diff(&[live], &scaled);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("+  replicas: 4"), "{out}");
}

#[test]
fn output_folders_stdin_and_json() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    mlk(&["render", "--output-dir", a.to_str().unwrap()])
        .key()
        .run()
        .ok();
    mlk(&[
        "render",
        "--profile",
        "prod",
        "--output-dir",
        b.to_str().unwrap(),
    ])
    .key()
    .run()
    .ok();
    let run = mlk(&[
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "-o",
        "json",
    ])
    .run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let changes = json["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["change"] == "added"
            && c["object"] == "PodDisruptionBudget/mlflow/mlflow-tracking")
    );
    assert!(
        changes
            .iter()
            .any(|c| !c["unsafe"].as_array().unwrap().is_empty())
    );
    let prod = mlk(&["render", "--profile", "prod"])
        .key()
        .run()
        .ok()
        .stdout;
    let run = mlk(&["diff", b.to_str().unwrap(), "-"]).stdin(&prod).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let run = mlk(&["diff", "-", "-"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = mlk(&["diff", "/nonexistent", "-"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
}

/// A folder from a repository cannot make `mlk diff` read outside it.
#[test]
fn a_folder_cannot_list_files_outside_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("deploy");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("kustomization.yaml"),
        "resources:\n  - ../../etc/passwd\n",
    )
    .unwrap();
    let run = mlk(&["diff", dir.to_str().unwrap(), "-"]).stdin("").run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not a file of the folder"),
        "{}",
        run.stderr
    );
    std::fs::write(dir.join("kustomization.yaml"), "resources:\n  - app.yaml\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("app.yaml")).unwrap();
    let run = mlk(&["diff", dir.to_str().unwrap(), "-"]).stdin("").run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("leaves the folder"), "{}", run.stderr);
    assert!(!run.stderr.contains("root:"), "{}", run.stderr);
}

/// A secret a stream carries outside its Secret (here, copied into a
/// ConfigMap by whoever wrote the stream) is masked in the diff as it is
/// in the Secret, in text and in JSON.
#[test]
fn a_secret_outside_its_secret_is_masked_too() {
    let secret = serde_yaml::from_str::<Value>(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: ns}\ndata: {password: aHVudGVyMi1pcy1sb25nLWVub3VnaA==}\n",
    )
    .unwrap();
    let config = |v: &str| {
        serde_yaml::from_str::<Value>(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: ns}}\ndata: {{leak: '{v}'}}\n"
        ))
        .unwrap()
    };
    let old = vec![secret.clone(), config("nothing")];
    let new = vec![secret, config("pw=hunter2-is-long-enough")];
    let (code, out) = diff(&old, &new);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("hunter2"), "{out}");
    assert!(out.contains("leak: ***"), "{out}");
}

/// Upgrades that apply cleanly but cost a plan: each is unsafe (exit 3)
/// with its steps in order.
#[test]
fn costly_upgrades_print_their_steps() {
    let base = render(&[]);
    let mlflow = edit(&base, "Deployment", "mlflow-tracking", |d| {
        for c in d["spec"]["template"]["spec"]["containers"]
            .as_sequence_mut()
            .unwrap()
        {
            if c["name"] == "mlflow" {
                c["image"] = "ghcr.io/mlflow/mlflow:v3.18.0-full".into();
            }
        }
    });
    unsafe_because(
        &base,
        &mlflow,
        "MLflow changes (v3.17.2-full -> v3.18.0-full)",
    );
    let (_, out) = diff(&base, &mlflow);
    let back_up = out
        .find("back up the database first")
        .expect("a backup step");
    let scale = out.find("--replicas=0").expect("a scale-down step");
    let apply = out
        .find("apply: the new pods' migration step")
        .expect("an apply step");
    assert!(back_up < scale && scale < apply, "{out}");
    // The same release from a mirror migrates nothing.
    let mirrored = edit(&base, "Deployment", "mlflow-tracking", |d| {
        for c in d["spec"]["template"]["spec"]["containers"]
            .as_sequence_mut()
            .unwrap()
        {
            if c["name"] == "mlflow" {
                c["image"] = "registry.example.com/mlflow:v3.17.2-full".into();
            }
        }
    });
    assert_eq!(diff(&base, &mirrored).0, 1);

    let postgres = edit(&base, "StatefulSet", "mlflow-postgres", |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] =
            "docker.io/library/postgres:18.1-bookworm".into();
    });
    unsafe_because(&base, &postgres, "PostgreSQL 17 -> 18");
    let (_, out) = diff(&base, &postgres);
    let dump = out
        .find("pg_dump -Fc -U mlflow mlflow")
        .expect("a dump step");
    let restore = out
        .find("pg_restore -U mlflow -d mlflow")
        .expect("a restore step");
    assert!(dump < restore, "{out}");
    let minor = edit(&base, "StatefulSet", "mlflow-postgres", |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] =
            "docker.io/library/postgres:17.7-bookworm".into();
    });
    assert_eq!(diff(&base, &minor).0, 1, "a minor version is a restart");

    let ha = render(&["--profile", "ha"]);
    let cnpg = edit(&ha, "Cluster", "mlflow-postgres", |d| {
        d["spec"]["imageName"] = "ghcr.io/cloudnative-pg/postgresql:18.1".into();
    });
    unsafe_because(
        &ha,
        &cnpg,
        "in the CloudNativePG Cluster mlflow-postgres: a major upgrade",
    );

    let gone = without(&base, "Namespace", "mlflow");
    unsafe_because(
        &base,
        &gone,
        "the Namespace mlflow is removed: deleting it deletes everything",
    );
}
