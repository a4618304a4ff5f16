//! The registry-to-deployment loop: `mlk resolve` records what an alias
//! names in mlk.lock, says when it moves, and a plain render serves the
//! lock without asking anyone.

use super::*;

impl Harness {
    /// Resolve, move `champion` to a new version, resolve again: the
    /// lock's change is printed, and an offline render equals the
    /// resolved one byte for byte.
    pub(super) fn lock_follows_the_alias(&mut self) -> Result<String, String> {
        let dir = self.path("lock");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let spec = SPEC.replace("MODEL", "alias: champion");
        std::fs::write(dir.join("platform.yaml"), spec).map_err(|e| e.to_string())?;
        let uri = format!(
            "http://127.0.0.1:{}",
            self.loopback().port("mlflow-tracking")?
        );
        mlk_in(&dir, &["resolve", "-f", "platform.yaml"], Some(&uri))?;
        let before = std::fs::read_to_string(dir.join("mlk.lock")).map_err(|e| e.to_string())?;
        let moved = py_env(MOVE_ALIAS, &[("MLFLOW_TRACKING_URI", &uri)])?;
        let v: serde_json::Value = serde_json::from_str(moved.trim().lines().last().unwrap_or(""))
            .map_err(|e| format!("{e}: {moved}"))?;
        let printed = mlk_in(&dir, &["resolve", "-f", "platform.yaml"], Some(&uri))?;
        let want = format!("churn: champion {} → {}\n", v["from"], v["to"]);
        if printed != want {
            return Err(format!("mlk resolve printed {printed:?}, want {want:?}"));
        }
        let after = std::fs::read_to_string(dir.join("mlk.lock")).map_err(|e| e.to_string())?;
        if !before.contains(&format!("version: {}", v["from"]))
            || !after.contains(&format!("version: {}", v["to"]))
            || !after.contains("runId: ")
        {
            return Err(format!("the lock did not follow:\n{before}\n---\n{after}"));
        }
        let live = mlk_in(
            &dir,
            &["render", "-f", "platform.yaml", "--resolve"],
            Some(&uri),
        )?;
        let offline = mlk_in(&dir, &["render", "-f", "platform.yaml"], None)?;
        if live != offline {
            return Err("the render from mlk.lock differs from the resolved render".into());
        }
        Ok(format!(
            "{}; the render from the lock equals the resolved one ({} bytes)",
            printed.trim(),
            live.len()
        ))
    }
}

/// `mlk ARGS` in `dir`, with the spec's env, and the registry only when
/// given: without it, nothing names a server to ask.
fn mlk_in(dir: &Path, args: &[&str], registry: Option<&str>) -> Result<String, String> {
    let mut cmd = mlk(args).key().dir(dir);
    for (user, password) in USERS {
        cmd = cmd.env(&format!("{}_PASSWORD", user.to_uppercase()), password);
    }
    if let Some(uri) = registry {
        cmd = cmd.env("MLFLOW_TRACKING_URI", uri);
    }
    let run = cmd.run();
    match run.code {
        0 => Ok(run.stdout),
        _ => Err(format!("mlk {}: {}", args.join(" "), run.stderr)),
    }
}
