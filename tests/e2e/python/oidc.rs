//! The browser and the MLflow client under single sign-on: what the
//! OIDC run's checks do, as a person and a program would.

/// A browser's login through the front door under tracking.auth.oidc,
/// against oidc-provider-mock: `/` → the provider's form → `/callback`
/// → a page of MLflow, with cookies. The front door's host resolves to
/// TARGET's port (nginx, or one replica), so cookies and the redirect
/// URI are the real ones. WANT names the checks to run; prints JSON.
pub const OIDC_FLOW: &str = r#"
import json, os, re, sys, requests
import urllib3.util.connection as connection

HOST = os.environ["HOST"]
ports = {"front": int(os.environ["FRONT"]), "a": int(os.environ["A"]), "b": int(os.environ["B"])}
target = {"port": ports["front"]}
connect = connection.create_connection
def to_target(address, *args, **kwargs):
    host, port = address
    if host == HOST:
        address = ("127.0.0.1", target["port"])
    return connect(address, *args, **kwargs)
connection.create_connection = to_target

URL = f"http://{HOST}"
api = f"{URL}/api/2.0/mlflow"
out = {}

def login(sub, via="front"):
    """A browser session for `sub`, and the last status of its login."""
    target["port"] = ports[via]
    s = requests.Session()
    # No kept-alive connection: a request after a change of target must
    # reach the new one, not the connection to the old.
    s.headers["Connection"] = "close"
    # A browser opens MLflow's page: it is sent to the plugin's login,
    # which sends it on to the provider.
    r = s.get(f"{URL}/", allow_redirects=False, headers={"Accept": "text/html"})
    out.setdefault("root_unauthenticated", r.status_code)
    if r.status_code != 302:
        return s, 3000 + r.status_code
    r = s.get(requests.compat.urljoin(f"{URL}/", r.headers["Location"]), allow_redirects=False)
    if r.status_code != 302:
        return s, r.status_code
    authorize = r.headers["Location"]
    out.setdefault("to_the_provider", int(authorize.startswith(os.environ["PROVIDER"])))
    # The provider's form, then its answer: the user picked by `sub`.
    form = requests.get(authorize)
    if form.status_code != 200:
        return s, 1000 + form.status_code
    r = requests.post(authorize, data={"sub": sub}, allow_redirects=False)
    back = r.headers.get("Location", "")
    if r.status_code != 302 or not back.startswith(f"{URL}/callback"):
        return s, 2000 + r.status_code
    r = s.get(back, allow_redirects=False)
    return s, r.status_code

def page(s):
    r = s.get(f"{URL}/", allow_redirects=True)
    return r.status_code if "<html" in r.text.lower() else -r.status_code

def get_exp(s, exp):
    return s.get(f"{api}/experiments/get", params={"experiment_id": exp}).status_code

want = os.environ["WANT"].split(",")
if "login" in want:
    s, status = login("alice@example.com")
    out["login_callback"] = status
    out["page_after_login"] = page(s)
    out["api_after_login"] = s.get(f"{api}/experiments/search", params={"max_results": 1}).status_code
if "groups" in want:
    admin, _ = login("bob@example.com")
    r = admin.post(f"{api}/experiments/create", json={"name": "admins-experiment"})
    out["admin_creates"] = r.status_code
    exp = r.json().get("experiment_id", "0") if r.ok else "0"
    user, _ = login("alice@example.com")
    out["user_reads"] = get_exp(user, exp)
    out["user_deletes"] = user.post(f"{api}/experiments/delete", json={"experiment_id": exp}).status_code
    out["admin_deletes"] = admin.post(f"{api}/experiments/delete", json={"experiment_id": exp}).status_code
    outsider, status = login("carol@example.com")
    out["outsider_login"] = status
    out["outsider_api"] = outsider.get(f"{api}/experiments/search", params={"max_results": 1}).status_code
if "replicas" in want:
    s, status = login("alice@example.com", via="a")
    out["login_on_a"] = status
    target["port"] = ports["b"]
    out["api_on_b"] = s.get(f"{api}/experiments/search", params={"max_results": 1}).status_code
if "token" in want:
    s, _ = login("alice@example.com")
    r = s.patch(f"{api}/users/access-token", json={})
    out["token_issued"] = r.status_code
    token = r.json().get("token", "") if r.ok else ""
    os.environ["MLFLOW_TRACKING_USERNAME"] = "alice@example.com"
    os.environ["MLFLOW_TRACKING_PASSWORD"] = token
    import mlflow
    mlflow.set_tracking_uri(URL)
    try:
        mlflow.set_experiment("token-experiment")
        with mlflow.start_run() as run:
            mlflow.log_param("via", "access token")
        out["token_logs_run"] = 200 if mlflow.get_run(run.info.run_id).data.params["via"] == "access token" else 0
    except Exception as e:
        print(f"the token's run failed: {e}", file=sys.stderr)
        out["token_logs_run"] = 0
    bad = requests.get(f"{api}/experiments/search", params={"max_results": 1}, auth=("alice@example.com", token[:-4] + "xxxx"))
    out["forged_token"] = bad.status_code
if "workspaces" in want:
    ws = lambda name: {"X-MLFLOW-WORKSPACE": name}
    def names(s, name):
        r = s.post(f"{api}/experiments/search", json={"max_results": 100}, headers=ws(name))
        return [e["name"] for e in r.json().get("experiments", [])] if r.ok else [f"{r.status_code}"]
    a, _ = login("dave@example.com")
    b, _ = login("erin@example.com")
    r = a.post(f"{api}/experiments/create", json={"name": "team-a-experiment"}, headers=ws("team-a"))
    out["a_creates_in_a"] = r.status_code
    exp = r.json().get("experiment_id", "0") if r.ok else "0"
    r = a.get(f"{api}/experiments/get", params={"experiment_id": exp}, headers=ws("team-a"))
    location = r.json()["experiment"]["artifact_location"] if r.ok else ""
    out["artifacts_in_workspace_folder"] = int("/workspaces/team-a/" in location)
    out["a_sees_its_experiment"] = int("team-a-experiment" in names(a, "team-a"))
    out["b_sees_in_a"] = len(names(b, "team-a"))
    out["b_gets_a_experiment"] = b.get(f"{api}/experiments/get", params={"experiment_id": exp}, headers=ws("team-a")).status_code
    out["b_creates_in_a"] = b.post(f"{api}/experiments/create", json={"name": "intruder"}, headers=ws("team-a")).status_code
    out["b_creates_in_b"] = b.post(f"{api}/experiments/create", json={"name": "team-b-experiment"}, headers=ws("team-b")).status_code
    out["a_sees_b_experiment"] = int("team-b-experiment" in names(a, "team-b"))
    # A model of team-a's, registered with an access token, for mlk's
    # --resolve to find in that workspace.
    r = a.patch(f"{api}/users/access-token", json={})
    token = r.json().get("token", "") if r.ok else ""
    with open(os.environ["TOKEN_FILE"], "w") as f:
        f.write(token)
    os.environ["MLFLOW_TRACKING_USERNAME"] = "dave@example.com"
    os.environ["MLFLOW_TRACKING_PASSWORD"] = token
    import mlflow, mlflow.pyfunc
    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input):
            return model_input
    mlflow.set_tracking_uri(URL)
    try:
        mlflow.set_workspace("team-a")
        mlflow.set_experiment("team-a-experiment")
        with mlflow.start_run():
            info = mlflow.pyfunc.log_model(name="model", python_model=Echo(), registered_model_name="team-model")
        mlflow.MlflowClient().set_registered_model_alias("team-model", "champion", info.registered_model_version)
        out["a_registers_model"] = 200
    except Exception as e:
        print(f"team-a's model failed: {e}", file=sys.stderr)
        out["a_registers_model"] = 0
print(json.dumps(out))
"#;
