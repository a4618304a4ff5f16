//! Argo CD's Config Management Plugin (`gitops/argocd/`), run as the repo
//! server's sidecar runs it: discovery by `spec.discover.find` in the
//! Application's folder, then `spec.generate`'s command, exec'd in that
//! folder with nothing but Argo CD's build variables and the Application's
//! `plugin.env` (each name prefixed `ARGOCD_ENV_`), under busybox's sh and
//! applets as in the sidecar's image. What it prints must be a stream
//! `mlk validate` passes; what it refuses, it refuses on stderr with a
//! non-zero exit and an empty stdout.

mod common;
use common::mlk;

use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn read(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("gitops/argocd")
        .join(name);
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn plugin() -> Value {
    let p = read("plugin.yaml");
    assert_eq!(p["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(p["kind"], "ConfigManagementPlugin");
    p
}

/// Whether the repo server would pick the plugin for `app`: its
/// `discover.find` command, run in the Application's folder with the
/// Application's variables, exits 0 and prints something.
fn discovers(app: &Path, env: &[(String, String)]) -> bool {
    let out = run(&plugin()["spec"]["discover"]["find"], app, env);
    out.status.success() && !out.stdout.is_empty()
}

/// The Application's `plugin.env`, as the variables the sidecar sees.
fn application_env() -> Vec<(String, String)> {
    let app = read("application.yaml");
    assert_eq!(
        app["spec"]["source"]["plugin"]["name"],
        plugin()["metadata"]["name"]
    );
    app["spec"]["source"]["plugin"]["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| {
            let name = e["name"].as_str().unwrap();
            (
                format!("ARGOCD_ENV_{name}"),
                e["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `spec.generate` in `app`, with Argo CD's build variables and `env`.
fn generate(app: &Path, env: &[(String, String)]) -> Output {
    run(&plugin()["spec"]["generate"], app, env)
}

/// A plugin command (`command` and `args`), exec'd as the CMP server
/// does: in the Application's folder, with nothing but Argo CD's build
/// variables and the Application's.
fn run(spec: &Value, app: &Path, env: &[(String, String)]) -> Output {
    let command: Vec<&str> = spec["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .chain(spec["args"].as_sequence().unwrap())
        .map(|v| v.as_str().unwrap())
        .collect();
    Command::new(command[0])
        .args(&command[1..])
        .current_dir(app)
        .env_clear()
        .env("PATH", image_path())
        .env("ARGOCD_APP_NAME", "mlflow")
        .env("ARGOCD_APP_NAMESPACE", "argocd")
        .env(
            "ARGOCD_APP_REVISION",
            "0123456789abcdef0123456789abcdef01234567",
        )
        .env("ARGOCD_APP_SOURCE_PATH", "platforms/prod")
        .env(
            "ARGOCD_APP_SOURCE_REPO_URL",
            "https://git.example.com/platform/mlflow.git",
        )
        .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "main")
        .env("KUBE_VERSION", "1.37.0")
        .env(
            "KUBE_API_VERSIONS",
            "v1,apps/v1,batch/v1,networking.k8s.io/v1",
        )
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap()
}

/// The sidecar image's commands, as its PATH finds them: the `cmp`
/// target of the Containerfile is busybox with mlk, so the plugin's
/// scripts run under busybox's sh and applets (Debian's busybox here),
/// with nothing else on PATH. Without busybox, outside CI, the host's.
fn image_path() -> String {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let mlk = Path::new(env!("CARGO_BIN_EXE_mlk"));
        let busybox = ["/usr/bin/busybox", "/bin/busybox"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.exists());
        let Some(busybox) = busybox else {
            assert!(
                std::env::var("CI").is_err(),
                "no busybox: scripts/install-test-deps.sh installs it"
            );
            eprintln!("no busybox: the plugin's scripts run under the host's sh");
            return format!("{}:/usr/bin:/bin", mlk.parent().unwrap().display());
        };
        let dir: PathBuf = tempfile::tempdir().unwrap().keep();
        for applet in ["sh", "realpath"] {
            std::os::unix::fs::symlink(busybox, dir.join(applet)).unwrap();
        }
        std::os::unix::fs::symlink(mlk, dir.join("mlk")).unwrap();
        dir.display().to_string()
    })
    .clone()
}

/// A repository laid out as the Application names it, with a prod spec
/// whose secrets come from an external store.
fn repo() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("platforms/prod");
    std::fs::create_dir_all(&app).unwrap();
    let spec = std::fs::read_to_string(common::fixtures().join("specs/external-secrets.yaml"));
    std::fs::write(app.join("platform.yaml"), spec.unwrap()).unwrap();
    (tmp, app)
}

#[test]
fn the_application_renders_through_the_plugin_as_a_valid_stream() {
    let (_tmp, app) = repo();
    assert!(discovers(&app, &application_env()));
    let out = generate(&app, &application_env());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stream = String::from_utf8(out.stdout).unwrap();
    assert!(stream.contains("kind: NetworkPolicy"), "the prod profile");
    assert!(stream.contains("kind: ExternalSecret"));
    assert!(
        !stream.contains("kind: Secret\n"),
        "no Secret leaves the plugin"
    );
    common::validates_strictly(&stream, &["Secret/mlflow-htpasswd"]);
}

/// Without the spec, discovery fails, so Argo CD reports that no plugin
/// supports the folder; `generate` itself, should it run, says which
/// file is missing on stderr, with nothing on stdout.
#[test]
fn a_missing_spec_fails_on_stderr_with_nothing_on_stdout() {
    let (_tmp, app) = repo();
    std::fs::rename(app.join("platform.yaml"), app.join("mlflow.yaml")).unwrap();
    assert!(!discovers(&app, &application_env()));
    let out = generate(&app, &application_env());
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("platform.yaml"), "{stderr}");
    // MLK_SPEC names the spec, for discovery and for the render.
    let named = [("ARGOCD_ENV_MLK_SPEC".to_owned(), "mlflow.yaml".to_owned())];
    assert!(discovers(&app, &named));
    assert!(generate(&app, &named).status.success());
    let outside = [(
        "ARGOCD_ENV_MLK_SPEC".to_owned(),
        "../prod/mlflow.yaml".to_owned(),
    )];
    assert!(!discovers(&app, &outside));
    // Argo CD shows discovery's stderr: the refused value is named.
    let out = run(&plugin()["spec"]["discover"]["find"], &app, &outside);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("MLK_SPEC=../prod/mlflow.yaml"), "{stderr}");
}

/// A repository may hold symlinks: one to a file, or to a subfolder, that
/// leads out of the Application's path is refused; one inside is used.
#[test]
fn symlinks_out_of_the_application_path_are_refused() {
    let (tmp, app) = repo();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("p.yaml"), "root:x:0:0\n").unwrap();
    std::os::unix::fs::symlink(&elsewhere, app.join("sub")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("p.yaml"), app.join("link.yaml")).unwrap();
    std::os::unix::fs::symlink("platform.yaml", app.join("inside.yaml")).unwrap();
    for (name, value) in [
        ("ARGOCD_ENV_MLK_SPEC", "sub/p.yaml"),
        ("ARGOCD_ENV_MLK_PROFILE", "sub/p.yaml"),
        ("ARGOCD_ENV_MLK_PROFILE", "link.yaml"),
    ] {
        let out = generate(&app, &[(name.to_owned(), value.to_owned())]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}={value}: {stderr}");
        assert!(
            stderr.contains("leads out of the application path"),
            "{stderr}"
        );
        assert!(!stderr.contains("root:x"), "{name}={value}: {stderr}");
    }
    let inside = [("ARGOCD_ENV_MLK_SPEC".to_owned(), "inside.yaml".to_owned())];
    let out = generate(&app, &inside);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn parameters_are_values_never_commands_or_flags() {
    let (tmp, app) = repo();
    let marker = tmp.path().join("pwned");
    let shown = marker.display();
    for (name, value) in [
        ("ARGOCD_ENV_MLK_PROFILE", format!("prod; touch {shown}")),
        ("ARGOCD_ENV_MLK_PROFILE", format!("$(touch {shown})")),
        ("ARGOCD_ENV_MLK_PROFILE", "--allow-dev-secrets".to_owned()),
        ("ARGOCD_ENV_MLK_SPEC", "../../../etc/passwd".to_owned()),
        ("ARGOCD_ENV_MLK_SPEC", "/etc/passwd".to_owned()),
        ("ARGOCD_ENV_MLK_PROFILE", "/etc/passwd".to_owned()),
        ("ARGOCD_ENV_MLK_PROFILE", "../../../etc/passwd".to_owned()),
    ] {
        let out = generate(&app, &[(name.to_owned(), value.clone())]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}={value}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}={value}");
        assert!(!marker.exists(), "{name}={value} ran a command");
        assert!(!stderr.contains("root:x"), "{name}={value}: {stderr}");
    }
}

/// The sidecar, as a pod of its own: restricted Pod Security and a valid
/// container, with the repo server's two volumes it mounts.
#[test]
fn the_sidecar_patch_runs_the_cmp_server_restricted() {
    let patch = read("repo-server-patch.yaml");
    assert_eq!(patch["kind"], "Deployment");
    assert_eq!(patch["metadata"]["name"], "argocd-repo-server");
    let pod = &patch["spec"]["template"]["spec"];
    let sidecar = &pod["containers"][0];
    assert_eq!(sidecar["command"][0], "/var/run/argocd/argocd-cmp-server");
    let mounts: Vec<&str> = sidecar["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    for path in ["/var/run/argocd", "/home/argocd/cmp-server/plugins", "/tmp"] {
        assert!(mounts.contains(&path), "{path}: {mounts:?}");
    }
    let mut volumes = pod["volumes"].as_sequence().unwrap().clone();
    for name in ["var-files", "plugins"] {
        volumes.push(serde_yaml::from_str(&format!("{{name: {name}, emptyDir: {{}}}}")).unwrap());
    }
    let alone = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "repo-server-sidecar"},
        "spec": {"containers": [sidecar], "volumes": volumes},
    });
    mlk(&[
        "validate",
        "--checks",
        "schema,yaml,pod-security",
        "--pod-security",
        "restricted",
        "-",
    ])
    .stdin(&serde_json::to_string(&alone).unwrap())
    .run()
    .ok();
    let containerfile =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Containerfile"));
    assert!(
        containerfile
            .unwrap()
            .contains("COPY gitops/argocd/plugin.yaml /home/argocd/cmp-server/config/plugin.yaml")
    );
}
