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
                let mut server = Server { out, object: i };
                match server_argv(c.value, || pod.container_at(c)) {
                    Some((before, argv)) => {
                        let at = pod.container_at(c);
                        server.assignments(&before);
                        server.check(c.value, &at, &argv);
                    }
                    None if mentions_server(c.value) => server.unrecognised(pod.container_at(c)),
                    None => {}
                }
            }
        }
    }
}

struct Server<'o, 'd> {
    out: &'o mut Findings<'d>,
    object: usize,
}

/// A word and where it is written.
type Word<'v> = (Trail, &'v str);

/// When the container runs `mlflow server` (or `python -m mlflow server`,
/// or either after `env NAME=VALUE`): the words before the program, and
/// the arguments after `server`, each with where it is written.
fn server_argv<'v>(c: &'v Value, at: impl Fn() -> Trail) -> Option<(Vec<Word<'v>>, Vec<Word<'v>>)> {
    let words = ["command", "args"].into_iter().flat_map(|list| {
        let items = c[list].as_sequence().into_iter().flatten().enumerate();
        items.map(move |(j, a)| (list, j, a.as_str().unwrap_or_default()))
    });
    let all: Vec<(&str, usize, &'v str)> = words.collect();
    let program = all
        .iter()
        .position(|(_, _, a)| a.rsplit('/').next() == Some("mlflow"))?;
    if all.get(program + 1)?.2 != "server" {
        return None;
    }
    let at = at();
    let words = |part: &[(&str, usize, &'v str)]| -> Vec<Word<'v>> {
        part.iter()
            .map(|(list, j, a)| (at.key(list).index(*j), *a))
            .collect()
    };
    Some((words(&all[..program]), words(&all[program + 2..])))
}

/// Whether a container's words run `mlflow server` some other way: in a
/// shell's script (`sh -c "mlflow server"`), or through Python's
/// `mlflow.cli`. A container that mlk wrote keeps its command (`frozen`);
/// this finds the server in one a spec adds.
fn mentions_server(c: &Value) -> bool {
    let words = || {
        ["command", "args"]
            .into_iter()
            .flat_map(|list| c[list].as_sequence().into_iter().flatten())
            .filter_map(Value::as_str)
    };
    // Most containers never name MLflow: no need to read their scripts
    // word by word.
    if !words().any(|w| w.contains("mlflow")) || !words().any(|w| w.contains("server")) {
        return false;
    }
    let tokens: Vec<&str> = words()
        .flat_map(|w| w.split(|c: char| c.is_whitespace() || "\"'();&|`".contains(c)))
        .filter(|t| !t.is_empty())
        .collect();
    let program = |t: &str| t.rsplit('/').next() == Some("mlflow");
    let direct = tokens.windows(2).any(|w| program(w[0]) && w[1] == "server");
    let cli = tokens.iter().any(|t| t.contains("mlflow.cli")) && tokens.contains(&"server");
    direct || cli
}

impl Server<'_, '_> {
    fn refuse(&mut self, at: Trail, msg: String, evidence: &str) {
        let evidence = Evidence::Text(evidence.to_owned());
        self.out.push(self.object, at, msg, evidence);
    }

    fn unrecognised(&mut self, at: Trail) {
        let msg = "runs mlflow's server in a way mlk cannot check; run it as `mlflow server` \
                   with each argument a word of its own"
            .to_owned();
        self.refuse(at.key("command"), msg, "command");
    }

    /// `env NAME=VALUE mlflow server`: each assignment is a variable.
    fn assignments(&mut self, before: &[Word]) {
        for (at, word) in before {
            let Some((name, _)) = word.split_once('=') else {
                continue;
            };
            let why = match (mlflow::denied_env(name), mlflow::option_of_env(name)) {
                (Some(why), _) => format!("{name} {why}"),
                (None, Some(_)) => format!("{name} must be set in env, where mlk checks it"),
                (None, None) => continue,
            };
            self.refuse(at.clone(), why, name);
        }
    }

    fn unseen(&mut self, at: Trail, name: &str, raw: &str) {
        let msg = format!(
            "$({name}) in mlflow server's arguments comes from a value mlk cannot see; write \
             the option itself"
        );
        self.refuse(at, msg, raw);
    }

    fn check(&mut self, c: &Value, at: &Trail, argv: &[(Trail, &str)]) {
        let env = plain_env(c);
        let mut given: Vec<&'static str> = Vec::new();
        let mut args = argv.iter();
        while let Some((arg_at, raw)) = args.next() {
            let arg = match expand(raw, &env) {
                Ok(a) => a,
                Err(name) => {
                    self.unseen(arg_at.clone(), &name, raw);
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
                (false, false) => match args.next().map(|(v_at, v)| (v_at, v, expand(v, &env))) {
                    Some((_, _, Ok(v))) => Some(v),
                    Some((v_at, v, Err(name))) => {
                        self.unseen(v_at.clone(), &name, v);
                        continue;
                    }
                    None => None,
                },
            };
            self.option(option, &flag, value.as_deref(), arg_at, raw, &mut given);
        }
        self.env(c, at, &env, &mut given);
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
        self.uvicorn(option, value, at, raw);
    }

    /// uvicorn's options: the graceful shutdown mlk sets, nothing more.
    fn uvicorn(&mut self, option: &ServerOption, value: Option<&str>, at: &Trail, raw: &str) {
        if option.flags[0] != "--uvicorn-opts" {
            return;
        }
        let value = value.unwrap_or_default();
        if !mlflow::uvicorn_opts_allowed(value) {
            let msg = format!(
                "{} {value:?} changes how uvicorn runs the server; mlk sets only \
                 --timeout-graceful-shutdown",
                option.flags[0]
            );
            self.refuse(at.clone(), msg, raw);
        }
    }

    /// The allowed hosts and origins, which MLflow matches as shell
    /// patterns: none may match a host no one named.
    fn wildcard(&mut self, option: &ServerOption, value: Option<&str>, at: &Trail, raw: &str) {
        if !LISTS.contains(&option.flags[0]) {
            return;
        }
        if let Some(open) = value.and_then(|v| {
            v.split(',')
                .map(str::trim)
                .find(|p| mlflow::lets_anyone_in(p))
        }) {
            let msg = format!(
                "{} {open:?} lets any host through, which turns the check off; name the hosts",
                option.flags[0]
            );
            self.refuse(at.clone(), msg, raw);
        }
    }

    fn env(
        &mut self,
        c: &Value,
        at: &Trail,
        env: &[(&str, Option<String>)],
        given: &mut Vec<&'static str>,
    ) {
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
                if CHECKED.contains(&option.flags[0]) && e["value"].as_str().is_none() {
                    let msg = format!("{name} must be written out, for mlk to check it");
                    self.refuse(at.key("env").index(j), msg, name);
                }
                self.wildcard(option, env_value(env, j), &v_at, name);
                self.uvicorn(option, env_value(env, j), &v_at, name);
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

/// The options whose values list who may connect.
const LISTS: [&str; 2] = ["--allowed-hosts", "--cors-allowed-origins"];

/// The options whose values the gate reads: a variable that holds one
/// must be written out, not read from elsewhere.
const CHECKED: [&str; 3] = [
    "--allowed-hosts",
    "--cors-allowed-origins",
    "--uvicorn-opts",
];

/// The container's env vars as the kubelet sets them: a plain value
/// with each `$(NAME)` of a variable before it expanded; `None` for a
/// value read from elsewhere, or one that expands such a value.
fn plain_env(c: &Value) -> Vec<(&str, Option<String>)> {
    let mut out: Vec<(&str, Option<String>)> = Vec::new();
    for e in c["env"].as_sequence().into_iter().flatten() {
        let name = e["name"].as_str().unwrap_or_default();
        let value = e["value"].as_str().and_then(|v| expand(v, &out).ok());
        out.push((name, value));
    }
    out
}

fn env_value<'e>(env: &'e [(&str, Option<String>)], j: usize) -> Option<&'e str> {
    env.get(j).and_then(|(_, v)| v.as_deref())
}

/// An argument as the kubelet hands it over: each `$(NAME)` of a plain
/// variable replaced by its value; a reference to a variable whose value
/// comes from elsewhere is refused.
fn expand(arg: &str, env: &[(&str, Option<String>)]) -> Result<String, String> {
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
