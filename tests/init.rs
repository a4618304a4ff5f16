//! `mlk init` prints every field of the spec, each with a comment, and
//! the values of the default profile; its first line points editors at
//! the schema.

mod common;
use common::mlk;
use serde_json::Value;

/// The text with each commented-out field (`# key: …`) made live, so
/// that alternatives and optional blocks can be checked as fields.
fn uncommented(text: &str) -> String {
    text.lines()
        .map(|line| {
            let body = line.trim_start();
            let indent = &line[..line.len() - body.len()];
            match body.strip_prefix("# ") {
                Some(rest) if is_field(rest.trim_start()) => format!("{indent}{rest}"),
                _ => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `key:` or `- key:`, where a key starts with a lowercase letter.
fn is_field(text: &str) -> bool {
    let text = text.strip_prefix("- ").unwrap_or(text);
    let key: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    key.starts_with(|c: char| c.is_ascii_lowercase())
        && text[key.len()..].starts_with(':')
        && text[key.len()..].chars().nth(1).is_none_or(|c| c == ' ')
}

/// Every property path of the schema, shallowest first, lists entered
/// through their items. A type shown once in full (a `pods` block,
/// `resources`) is only named where it comes again deeper down, and
/// Kubernetes' own types (an affinity) are named, not spelt out.
fn paths(schema: &Value) -> Vec<String> {
    let (mut out, mut seen) = (Vec::new(), Vec::new());
    let mut queue = std::collections::VecDeque::from([(schema, String::new())]);
    while let Some((node, prefix)) = queue.pop_front() {
        if let Some(name) = definition(node) {
            if name.starts_with("io.k8s.") || seen.contains(&name) {
                continue;
            }
            seen.push(name);
        }
        let node = resolve(schema, node);
        if let Some(items) = node.get("items") {
            queue.push_back((items, format!("{prefix}[]")));
            continue;
        }
        let properties = node.get("properties").and_then(Value::as_object);
        for (key, sub) in properties.into_iter().flatten() {
            let path = match prefix.as_str() {
                "" => key.clone(),
                p => format!("{p}.{key}"),
            };
            out.push(path.clone());
            queue.push_back((sub, path));
        }
    }
    out
}

/// The `$defs` name a node refers to, directly or as an optional's branch.
fn definition(node: &Value) -> Option<String> {
    let direct = node.get("$ref").and_then(Value::as_str);
    let branch = || {
        node.get("anyOf")?
            .as_array()?
            .iter()
            .find_map(|b| b.get("$ref").and_then(Value::as_str))
    };
    let r = direct.or_else(branch)?;
    Some(r.trim_start_matches("#/$defs/").to_owned())
}

/// Follows `$ref`, and the non-null branch of an optional's `anyOf`.
fn resolve<'s>(schema: &'s Value, node: &'s Value) -> &'s Value {
    if let Some(r) = node.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/$defs/");
        return resolve(schema, &schema["$defs"][name]);
    }
    if let Some(branches) = node.get("anyOf").and_then(Value::as_array) {
        let real: Vec<_> = branches.iter().filter(|b| b["type"] != "null").collect();
        if real.len() == 1 {
            return resolve(schema, real[0]);
        }
    }
    node
}

fn has(doc: &Value, path: &str) -> bool {
    let mut node = doc;
    for segment in path.split('.') {
        let (key, list) = match segment.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (segment, false),
        };
        let Some(next) = node.get(key) else {
            return false;
        };
        node = match list {
            true => match next.get(0) {
                Some(first) => first,
                None => return false,
            },
            false => next,
        };
    }
    true
}

#[test]
fn init_prints_every_field_of_the_schema() {
    let init = mlk(&["init"]).run().ok().stdout;
    let schema: Value = serde_json::from_str(&mlk(&["schema"]).run().ok().stdout).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&uncommented(&init)).unwrap();
    let doc = serde_json::to_value(yaml).unwrap();
    let all = paths(&schema);
    let missing: Vec<_> = all.iter().filter(|p| !has(&doc, p)).collect();
    assert!(missing.is_empty(), "mlk init lacks: {missing:#?}");
}

#[test]
fn init_explains_every_field() {
    let init = mlk(&["init"]).run().ok().stdout;
    let mut previous = "";
    let mut bare = Vec::new();
    for line in init.lines() {
        let body = line.trim_start();
        let field = body.strip_prefix("# ").map_or(body, str::trim_start);
        let commented_field = body.starts_with('#') && is_field(field);
        let live_field = !body.starts_with('#') && is_field(body);
        let explained = field.contains(" # ") || {
            let above = previous.trim_start();
            above.starts_with('#') && !is_field(above.trim_start_matches('#').trim_start())
        };
        if (commented_field || live_field) && !explained {
            bare.push(line.to_owned());
        }
        previous = line;
    }
    assert!(bare.is_empty(), "fields without a comment: {bare:#?}");
}

#[test]
fn init_points_editors_at_the_schema_and_renders() {
    let init = mlk(&["init"]).run().ok().stdout;
    assert_eq!(
        init.lines().next(),
        Some("# yaml-language-server: $schema=./mlk.schema.json")
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("platform.yaml"), &init).unwrap();
    mlk(&["render", "-f", "platform.yaml"])
        .dir(dir.path())
        .run()
        .ok();
}
