//! A model image from `mlflow models build-docker`, run as the predictor
//! runs it with `runAsUser`: the image's own entrypoint, as a user that is
//! not root, with the env and port mlk rendered. There is no container
//! runtime here, so the image's files are this machine's: the MLflow venv
//! (readable by the user, as an image's files are; it may write nothing
//! of root's) and the downloaded model at the image's model path. A
//! network namespace of its own stands for the pod's: the server may bind
//! 0.0.0.0 there without reaching any other interface.
//!
//! Without mlk's env (the image as it is), the same user cannot start it:
//! its nginx needs files only root may write.

use super::serving::INPUTS;
use super::*;

/// The client, in the pod's network: waits for `/ping`, asks for a
/// prediction, and prints it, then the listening sockets.
const CLIENT: &str = r#"
import json, os, sys, time, urllib.request
port, server = int(sys.argv[1]), sys.argv[2]
base = f"http://127.0.0.1:{port}"
deadline = time.time() + 120
def running():
    try:
        with open(f"/proc/{server}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False
while True:
    try:
        urllib.request.urlopen(base + "/ping", timeout=5)
        break
    except Exception:
        if not running():
            sys.exit("the server exited")
        if time.time() > deadline:
            sys.exit("no answer to /ping")
        time.sleep(0.5)
cols = json.loads(os.environ["INPUTS"])
body = {"dataframe_split": {"columns": ["x", "y"], "data": [list(r) for r in zip(cols["x"], cols["y"])]}}
req = urllib.request.Request(base + "/invocations", json.dumps(body).encode(),
                             {"Content-Type": "application/json"})
print(urllib.request.urlopen(req, timeout=60).read().decode())
"#;

/// The image's ENTRYPOINT (`mlflow/pyfunc/backend.py`), with its model
/// path where the test keeps the model.
fn entrypoint(model: &Path) -> String {
    format!(
        "import mlflow.models.container as C; C.MODEL_PATH = {:?}; C._serve('local')",
        model.display().to_string()
    )
}

impl Harness {
    pub(super) fn image_as_user(&mut self) -> Result<String, String> {
        let (_, model) = self.state.model.clone().ok_or("nothing was downloaded")?;
        let spec = "apiVersion: mlk/v1alpha1\nkind: Platform\nserving:\n  models:\n    - name: churn\n      registeredModel: churn\n      version: 1\n      image: registry.example/churn:1\n      runAsUser: 1000\n";
        let r = Rendered::new(render_spec(spec, &[])?);
        let predictor = &r.get("InferenceService", "churn")?["spec"]["predictor"];
        let uid = predictor["securityContext"]["runAsUser"]
            .as_u64()
            .ok_or("no runAsUser")?;
        let c = &predictor["containers"][0];
        let port = c["ports"][0]["containerPort"].as_u64().ok_or("no port")?;
        let env: Vec<String> = seq(&c["env"])
            .iter()
            .map(|e| {
                format!(
                    "{}={}",
                    e["name"].as_str().unwrap_or(""),
                    e["value"].as_str().unwrap_or("")
                )
            })
            .collect();
        let answer = self.in_pod_network(uid, &env, &model, port)?;
        if !answer.contains("predictions") {
            return Err(format!("no predictions: {answer}"));
        }
        if !answer.contains(&format!("0.0.0.0:{port}")) {
            return Err(format!(
                "the server does not listen on the pod's network: {answer}"
            ));
        }
        // The image as it is: its nginx cannot start as this user.
        match self.in_pod_network(uid, &[], &model, port) {
            Ok(_) => return Err("the image served as a non-root user without mlk's env".into()),
            Err(e) if !(e.contains("nginx") && e.contains("ermission denied")) => {
                return Err(format!("the bare image failed for another reason: {e}"));
            }
            Err(_) => {}
        }
        let prediction = answer.lines().next().unwrap_or_default();
        Ok(format!(
            "uid {uid}, {env:?}, port {port}: {prediction}; without them nginx is denied its files"
        ))
    }

    /// Runs the entrypoint as `uid` in a network namespace of its own,
    /// and the client beside it; the client's output and the listeners.
    fn in_pod_network(
        &self,
        uid: u64,
        env: &[String],
        model: &Path,
        port: u64,
    ) -> Result<String, String> {
        let python = venv_bin("python").display().to_string();
        let bin = venv_bin("").display().to_string();
        let log = self.path(&format!("image-{}.log", env.len()));
        let script = format!(
            "ip link set lo up || exit 1\n\
             setpriv --reuid={uid} --regid={uid} --clear-groups --inh-caps=+dac_read_search \
             --ambient-caps=+dac_read_search -- env -i PATH={bin}:/usr/sbin:/usr/bin:/bin \
             HOME=/nonexistent MLFLOW_DISABLE_ENV_CREATION=true {env} {python} -c \"$ENTRY\" \
             > {log} 2>&1 &\n\
             server=$!\n\
             INPUTS='{INPUTS}' timeout 150 {python} -c \"$CLIENT\" {port} $server; status=$?\n\
             ss -ltnH\n\
             kill $server 2>/dev/null; wait $server 2>/dev/null\n\
             exit $status\n",
            env = env.join(" "),
            log = log.display(),
        );
        let out = Command::new("unshare")
            .args(["--net", "bash", "-c", &script])
            .env("ENTRY", entrypoint(model))
            .env("CLIENT", CLIENT)
            .output()
            .map_err(|e| format!("unshare: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        match out.status.success() {
            true => Ok(text),
            false => Err(format!(
                "{}{}\n{}",
                text,
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            )),
        }
    }
}
