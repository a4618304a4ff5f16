//! The rendered documents, read as Kubernetes reads them: Secrets decoded,
//! env resolved through `secretKeyRef` and `envFrom`, `$(VAR)` expanded.

use std::collections::BTreeMap;

use base64::Engine;
use serde_yaml::Value;

pub struct Rendered {
    pub docs: Vec<Value>,
}

impl Rendered {
    pub fn new(docs: Vec<Value>) -> Self {
        Rendered { docs }
    }

    pub fn get(&self, kind: &str, name: &str) -> Result<&Value, String> {
        self.docs
            .iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .ok_or_else(|| format!("no {kind} {name} rendered"))
    }

    pub fn first(&self, kind: &str) -> Result<&Value, String> {
        self.docs
            .iter()
            .find(|d| d["kind"] == kind)
            .ok_or_else(|| format!("no {kind} rendered"))
    }

    pub fn secret(&self, name: &str, key: &str) -> Result<String, String> {
        let data = &self.get("Secret", name)?["data"][key];
        let encoded = data
            .as_str()
            .ok_or_else(|| format!("Secret {name} has no key {key}"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| format!("Secret {name}/{key}: {e}"))?;
        String::from_utf8(bytes).map_err(|e| format!("Secret {name}/{key}: {e}"))
    }

    /// A container's environment in order, as the kubelet builds it:
    /// `envFrom` first, then `env`, each value expanded against the ones
    /// before it.
    pub fn env(&self, container: &Value) -> Result<Vec<(String, String)>, String> {
        let mut env: Vec<(String, String)> = Vec::new();
        for from in seq(&container["envFrom"]) {
            let name = from["secretRef"]["name"]
                .as_str()
                .ok_or("envFrom other than secretRef is not rendered by mlk")?;
            let data = self.get("Secret", name)?["data"]
                .as_mapping()
                .cloned()
                .unwrap_or_default();
            for key in data.keys().filter_map(Value::as_str) {
                env.push((key.to_owned(), self.secret(name, key)?));
            }
        }
        for var in seq(&container["env"]) {
            let name = var["name"].as_str().ok_or("env entry without a name")?;
            let value = match (&var["value"], &var["valueFrom"]["secretKeyRef"]) {
                (Value::String(v), _) => expand(v, &env),
                (_, r) if r.is_mapping() => {
                    let (n, k) = (r["name"].as_str(), r["key"].as_str());
                    self.secret(n.unwrap_or_default(), k.unwrap_or_default())?
                }
                _ => return Err(format!("env {name}: no value and no secretKeyRef")),
            };
            env.retain(|(k, _)| k != name);
            env.push((name.to_owned(), value));
        }
        Ok(env)
    }

    /// The files a Secret volume (`projected` with `secret` sources, or
    /// `secret`) puts in its folder, as the kubelet writes them: each
    /// item's key under its path; a `configMap` volume's keys.
    pub fn volume_files(&self, volume: &Value) -> Result<Vec<(String, String)>, String> {
        let mut files = Vec::new();
        if let Some(name) = volume["configMap"]["name"].as_str() {
            // Every key of the ConfigMap as a file of its name, or with
            // `items` those keys at their paths, as the kubelet writes them.
            let items = seq(&volume["configMap"]["items"]);
            for (key, text) in map_of(&self.get("ConfigMap", name)?["data"]) {
                match items
                    .iter()
                    .find(|i| i["key"].as_str() == Some(key.as_str()))
                {
                    Some(i) => files.push((i["path"].as_str().unwrap_or(&key).to_owned(), text)),
                    None if items.is_empty() => files.push((key, text)),
                    None => {}
                }
            }
            return Ok(files);
        }
        let sources = match (&volume["projected"], &volume["secret"]) {
            (p, _) if p.is_mapping() => seq(&p["sources"])
                .iter()
                .map(|s| s["secret"].clone())
                .collect(),
            (_, s) if s.is_mapping() => {
                let mut s = s.clone();
                s["name"] = s["secretName"].clone();
                vec![s]
            }
            _ => return Ok(files),
        };
        for source in sources {
            let name = source["name"]
                .as_str()
                .ok_or("a Secret source without a name")?;
            for item in seq(&source["items"]) {
                let (key, path) = (item["key"].as_str(), item["path"].as_str());
                let (Some(key), Some(path)) = (key, path) else {
                    return Err(format!("Secret {name}: an item without key or path"));
                };
                files.push((path.to_owned(), self.secret(name, key)?));
            }
        }
        Ok(files)
    }

    /// What a container reads at `path`: the Secret key a volume it
    /// mounts puts there.
    pub fn mounted_file(
        &self,
        pod: &Value,
        container: &Value,
        path: &str,
    ) -> Result<String, String> {
        for mount in seq(&container["volumeMounts"]) {
            let dir = mount["mountPath"].as_str().unwrap_or_default();
            let Some(file) = path.strip_prefix(&format!("{dir}/")) else {
                continue;
            };
            let volume = seq(&pod["volumes"])
                .into_iter()
                .find(|v| v["name"] == mount["name"])
                .ok_or(format!("the pod has no volume {:?}", mount["name"]))?;
            let files = self.volume_files(&volume)?;
            return files
                .into_iter()
                .find(|(p, _)| p == file)
                .map(|(_, text)| text)
                .ok_or(format!("no volume puts a file at {path}"));
        }
        Err(format!("no volume is mounted where {path} is"))
    }

    /// `command` and `args`, with `$(VAR)` expanded as the kubelet does.
    pub fn argv(&self, container: &Value, env: &[(String, String)]) -> Vec<String> {
        let mut argv: Vec<String> = seq(&container["command"])
            .iter()
            .filter_map(str_of)
            .collect();
        argv.extend(seq(&container["args"]).iter().filter_map(str_of));
        argv.iter().map(|a| expand(a, env)).collect()
    }
}

fn str_of(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

pub fn seq(v: &Value) -> Vec<Value> {
    v.as_sequence().cloned().unwrap_or_default()
}

pub fn map_of(v: &Value) -> BTreeMap<String, String> {
    v.as_mapping()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Kubernetes' `$(VAR)`: replaced when VAR is defined earlier, kept as
/// written otherwise; `$$` is a literal `$`.
pub fn expand(s: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(close) = tail.strip_prefix("$(").and_then(|t| t.find(')')) {
            let name = &tail[2..2 + close];
            match env.iter().rev().find(|(k, _)| k == name) {
                Some((_, v)) => out.push_str(v),
                None => out.push_str(&tail[..close + 3]),
            }
            rest = &tail[close + 3..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn expansion_follows_kubernetes() {
    let env = vec![("A".to_owned(), "x".to_owned())];
    assert_eq!(expand("$(A)-$(B)-$$(A)-$", &env), "x-$(B)-$(A)-$");
}
