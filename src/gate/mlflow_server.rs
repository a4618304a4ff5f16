//! The tracking server keeps its protections. In any container that runs
//! `mlflow server`, no option or variable may turn off MLflow's Host,
//! CORS or framing checks or replace how it runs (see `crate::mlflow`,
//! kept beside the pinned release), each option is given once across its
//! spellings and its variable, the allowed hosts and origins are never
//! `*`, and every option is one the pinned release knows.

use super::{Evidence, Findings, Policy, Subject, secrets::referenced};
use crate::field_path::Trail;
use crate::manifest::Value;
use crate::mlflow::{self, Role, ServerOption};

pub fn check(subject: &Subject, _: &Policy, out: &mut Findings) {
    for (i, _, pods) in subject.objects() {
        for pod in pods {
            for c in &pod.containers {
                if let Some(argv) = server_argv(c.value, || pod.container_at(c)) {
                    let at = pod.container_at(c);
                    Server { out, object: i }.check(c.value, &at, &argv);
                }
            }
        }
    }
}

struct Server<'o, 'd> {
    out: &'o mut Findings<'d>,
    object: usize,
}

/// The arguments after `server` when the container runs `mlflow server`
/// (or `python -m mlflow server`), each with where it is written.
fn server_argv(c: &Value, at: impl Fn() -> Trail) -> Option<Vec<(Trail, &str)>> {
    let words = ["command", "args"].into_iter().flat_map(|list| {
        let items = c[list].as_sequence().into_iter().flatten().enumerate();
        items.map(move |(j, a)| (list, j, a.as_str().unwrap_or_default()))
    });
    let all: Vec<(&str, usize, &str)> = words.collect();
    let program = all
        .iter()
        .position(|(_, _, a)| a.rsplit('/').next() == Some("mlflow"))?;
    if all.get(program + 1)?.2 != "server" {
        return None;
    }
    let at = at();
    let rest = all[program + 2..].iter();
    Some(
        rest.map(|(list, j, a)| (at.key(list).index(*j), *a))
            .collect(),
    )
}

impl Server<'_, '_> {
    fn refuse(&mut self, at: Trail, msg: String, evidence: &str) {
        let evidence = Evidence::Text(evidence.to_owned());
        self.out.push(self.object, at, msg, evidence);
    }

    fn check(&mut self, c: &Value, at: &Trail, argv: &[(Trail, &str)]) {
        let env = plain_env(c);
        let mut given: Vec<&'static str> = Vec::new();
        let mut args = argv.iter();
        while let Some((arg_at, raw)) = args.next() {
            let arg = match expand(raw, &env) {
                Ok(a) => a,
                Err(name) => {
                    let msg = format!(
                        "$({name}) in mlflow server's arguments comes from a value mlk cannot \
                         see; write the option itself"
                    );
                    self.refuse(arg_at.clone(), msg, raw);
                    continue;
                }
            };
            if !arg.starts_with('-') {
                continue;
            }
            let Some(option) = mlflow::option_of(&arg) else {
                let msg = format!(
                    "mlflow server {} has no option {}",
                    mlflow::VERSION,
                    mlflow::flag_name(&arg).unwrap_or(&arg)
                );
                self.refuse(arg_at.clone(), msg, raw);
                continue;
            };
            let flag = mlflow::flag_name(&arg).unwrap_or(&arg).to_owned();
            let inline = arg.contains('=') || (!arg.starts_with("--") && arg.len() > 2);
            let value = match (option.switch, inline) {
                (true, _) => None,
                (false, true) => Some(inline_value(&arg).to_owned()),
                (false, false) => args
                    .next()
                    .map(|(_, v)| expand(v, &env).unwrap_or_default()),
            };
            self.option(option, &flag, value.as_deref(), arg_at, raw, &mut given);
        }
        self.env(c, at, &mut given);
    }

    fn option(
        &mut self,
        option: &'static ServerOption,
        flag: &str,
        value: Option<&str>,
        at: &Trail,
        raw: &str,
        given: &mut Vec<&'static str>,
    ) {
        if let Role::Denied(why) = option.role {
            self.refuse(at.clone(), format!("{flag} {why}"), raw);
            return;
        }
        if given.contains(&option.flags[0]) {
            let msg = format!(
                "{flag} is given twice (as {} or its variable); mlk sets it itself: {}",
                option.flags.join(", "),
                instead(option)
            );
            self.refuse(at.clone(), msg, raw);
        }
        given.push(option.flags[0]);
        self.wildcard(option, value, at, raw);
    }

    fn wildcard(&mut self, option: &ServerOption, value: Option<&str>, at: &Trail, raw: &str) {
        let lists = ["--allowed-hosts", "--cors-allowed-origins"];
        let open = value.is_some_and(|v| v.split(',').any(|h| h.trim() == "*"));
        if lists.contains(&option.flags[0]) && open {
            let msg = format!("{} `*` turns the check off", option.flags[0]);
            self.refuse(at.clone(), msg, raw);
        }
    }

    fn env(&mut self, c: &Value, at: &Trail, given: &mut Vec<&'static str>) {
        let mut names: Vec<&str> = Vec::new();
        for (j, e) in c["env"].as_sequence().into_iter().flatten().enumerate() {
            let name = e["name"].as_str().unwrap_or_default();
            let e_at = at.key("env").index(j).key("name");
            if names.contains(&name) {
                let msg = format!("{name} is set twice; Kubernetes keeps the last");
                self.refuse(e_at.clone(), msg, name);
            }
            names.push(name);
            if let Some(why) = mlflow::denied_env(name) {
                self.refuse(e_at, format!("{name} {why}"), name);
                continue;
            }
            if let Some(option) = mlflow::option_of_env(name) {
                if given.contains(&option.flags[0]) {
                    let msg = format!(
                        "{name} sets {} a second time; mlk sets it itself: {}",
                        option.flags[0],
                        instead(option)
                    );
                    self.refuse(e_at.clone(), msg, name);
                }
                given.push(option.flags[0]);
                let v_at = at.key("env").index(j).key("value");
                self.wildcard(option, e["value"].as_str(), &v_at, name);
            }
        }
        for (j, _) in c["envFrom"].as_sequence().into_iter().flatten().enumerate() {
            let msg = "envFrom gives mlflow server variables mlk cannot check; list each in env"
                .to_owned();
            self.refuse(at.key("envFrom").index(j), msg, "envFrom");
        }
    }
}

fn instead(option: &ServerOption) -> String {
    match option.role {
        Role::Managed(field) => mlflow::instead(field),
        _ => mlflow::instead(""),
    }
}

/// `--name=value`'s value, or a short option's attached one.
fn inline_value(arg: &str) -> &str {
    match arg.split_once('=') {
        Some((_, v)) if arg.starts_with("--") => v,
        _ => arg.get(2..).unwrap_or_default(),
    }
}

/// The container's env vars with plain values: what `$(NAME)` expands to.
fn plain_env(c: &Value) -> Vec<(&str, Option<&str>)> {
    c["env"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|e| (e["name"].as_str().unwrap_or_default(), e["value"].as_str()))
        .collect()
}

/// An argument as the kubelet hands it over: each `$(NAME)` of a plain
/// variable replaced by its value; a reference to a variable whose value
/// comes from elsewhere is refused.
fn expand(arg: &str, env: &[(&str, Option<&str>)]) -> Result<String, String> {
    let mut out = arg.to_owned();
    for name in referenced(arg) {
        match env.iter().rev().find(|(n, _)| *n == name) {
            Some((_, Some(v))) => out = out.replace(&format!("$({name})"), v),
            Some((_, None)) => return Err(name.to_owned()),
            None => {}
        }
    }
    Ok(out)
}
