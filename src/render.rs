//! Stage 4b: lays the context out as YAML text through the embedded
//! templates, then reads that text back as documents. Every interpolated
//! scalar is JSON-escaped (a JSON string is a YAML double-quoted scalar),
//! and an undefined name is an error.
//!
//! Maps and lists are never written as text: the formatter leaves a
//! tagged placeholder (`!mlk 3`) and keeps the value, which is put back
//! once the text is parsed. No spec value can write a tag (scalars are
//! always quoted), so a placeholder comes only from here; and a large
//! structure (a predictor, a pod's affinity) is not serialised to text
//! only to be parsed again.

use std::sync::{Arc, Mutex};

use minijinja::value::ValueKind;
use minijinja::{
    AutoEscape, Environment, Error, ErrorKind, Output, State, UndefinedBehavior, Value,
};

use crate::context::{Context, Slot};
use crate::manifest::{self, Document, Mapping, Value as Yaml};

/// One component's template, and the part of the context it lays out.
pub struct Template {
    pub name: &'static str,
    source: &'static str,
    /// The one context field the template reads, under its own name.
    field: &'static str,
    part: fn(&Context) -> Value,
}

macro_rules! template {
    ($name:literal, $field:ident) => {
        Template {
            name: $name,
            source: include_str!(concat!("../templates/", $name, ".yaml.j2")),
            field: stringify!($field),
            part: |c| Value::from_serialize(&c.$field),
        }
    };
}

/// Each component's template, in the order its objects are applied.
pub const TEMPLATES: [Template; 11] = [
    template!("namespace", namespace_object),
    template!("network-policy", network_policies),
    template!("postgres", postgres),
    template!("cloudnativepg", cloudnativepg),
    template!("minio", minio),
    template!("seaweedfs", seaweedfs),
    template!("tracking", tracking),
    template!("ingress", ingress),
    template!("gateway", http_route),
    template!("monitoring", service_monitor),
    template!("serving", serving),
];

const MACROS: (&str, &str) = (
    "_macros.yaml.j2",
    include_str!("../templates/_macros.yaml.j2"),
);

pub struct Rendered {
    pub component: &'static str,
    text: String,
    /// The maps and lists its placeholders stand for, in order.
    values: Vec<Value>,
}

/// The tag of a placeholder; its scalar is the value's index.
const PLACEHOLDER: &str = "!mlk";

type Kept = Arc<Mutex<Vec<Value>>>;

/// Each template sees its own part of the context and the globals every
/// component shares, so the context is serialised once, part by part. A
/// component whose part is empty (`none`, no items) lays out nothing, so
/// its template is neither compiled nor run.
pub fn render(ctx: &Context) -> anyhow::Result<Vec<Rendered>> {
    let kept = Kept::default();
    let env = environment(globals(ctx), &kept);
    TEMPLATES
        .iter()
        .map(|c| (c, (c.part)(ctx)))
        .filter(|(_, part)| part.is_true())
        .map(|(c, part)| {
            let part = Value::from_iter([(c.field, part)]);
            let text = env
                .get_template(c.name)?
                .render(part)
                // Plain Display: the alternate form lists the template's
                // variables, Secret data among them.
                .map_err(|e| anyhow::anyhow!("internal error: template {}: {e}", c.name))?;
            let values = std::mem::take(&mut *kept.lock().expect("one render at a time"));
            Ok(Rendered {
                component: c.name,
                text,
                values,
            })
        })
        .collect()
}

impl Rendered {
    /// The template's documents, each placeholder replaced by its value.
    /// Text that is not YAML, or a placeholder out of place, is a bug in
    /// mlk, never the user's.
    pub fn documents(mut self) -> anyhow::Result<Vec<Document>> {
        let bug = |e: String| {
            let c = self.component;
            anyhow::anyhow!("internal error: template {c} produced invalid YAML: {e}")
        };
        let mut docs = manifest::parse_values(&self.text, self.component).map_err(bug)?;
        // Each interpolated scalar is quoted and each map or list spliced
        // in as data, so only a template's own text can hold a YAML 1.1
        // trap. That is mlk's bug to find: debug builds (every test run)
        // look, a release build does not spend the time.
        #[cfg(debug_assertions)]
        own_traps(&self.text).map_err(bug)?;
        drop(std::mem::take(&mut self.text));
        let mut used = 0;
        for d in &mut docs {
            used += fill(&mut d.value, &mut self.values).map_err(bug)?;
        }
        if used != self.values.len() {
            return Err(bug(format!(
                "{used} of {} placeholders in value position",
                self.values.len()
            )));
        }
        Ok(docs)
    }
}

#[cfg(debug_assertions)]
fn own_traps(text: &str) -> Result<(), String> {
    let traps = crate::yaml11::plain_traps(text)?;
    match traps.iter().flatten().next() {
        Some(t) => Err(format!("{}: {}", t.path, t.message)),
        None => Ok(()),
    }
}

/// Puts each placeholder's value in its place; returns how many. Each
/// value is let go once converted, so a large platform does not hold
/// both forms of every object at once.
fn fill(v: &mut Yaml, values: &mut [Value]) -> Result<usize, String> {
    match v {
        Yaml::Tagged(t) if t.is(PLACEHOLDER) => {
            let slot = t.value.as_u64().and_then(|i| values.get_mut(i as usize));
            let slot = slot.ok_or_else(|| format!("no value for placeholder {:?}", t.value))?;
            let value = std::mem::take(slot);
            if value.is_undefined() {
                return Err(format!("placeholder {:?} used twice", t.value));
            }
            *v = to_yaml(&value)?;
            Ok(1)
        }
        Yaml::Mapping(m) => m.values_mut().map(|x| fill(x, values)).sum(),
        Yaml::Sequence(s) => s.iter_mut().map(|x| fill(x, values)).sum(),
        _ => Ok(0),
    }
}

/// The same value as YAML data: what parsing its JSON would give.
fn to_yaml(v: &Value) -> Result<Yaml, String> {
    if let Some(slot) = v.downcast_object_ref::<Slot>() {
        return slot
            .take()
            .ok_or_else(|| "a subtree placed twice".to_owned());
    }
    let not_iterable = || format!("{} is not iterable", v.kind());
    Ok(match v.kind() {
        ValueKind::Map => {
            let pairs = v.as_object().and_then(|o| o.try_iter_pairs());
            let mut entries = Vec::with_capacity(v.len().unwrap_or(0));
            for (k, item) in pairs.ok_or_else(not_iterable)? {
                entries.push((to_yaml(&k)?, to_yaml(&item)?));
            }
            // A template's maps come from Rust maps and structs: their
            // keys differ.
            Yaml::Mapping(Mapping::from_unique(entries))
        }
        ValueKind::Seq => {
            let items = v.try_iter().map_err(|e| e.to_string())?;
            Yaml::Sequence(items.map(|x| to_yaml(&x)).collect::<Result<_, _>>()?)
        }
        ValueKind::String => Yaml::String(v.as_str().unwrap_or_default().into()),
        ValueKind::Bool => Yaml::Bool(v.is_true()),
        ValueKind::None | ValueKind::Undefined => Yaml::Null,
        _ => serde_yaml::to_value(v).map_err(|e| e.to_string())?.into(),
    })
}

/// Writes a scalar as JSON, which YAML reads as a double-quoted scalar,
/// and keeps a map or list for a placeholder. JSON leaves NEL, LS and PS
/// raw, but YAML reads those as line breaks and folds them, so they are
/// escaped as well.
fn yaml_safe_json(
    out: &mut Output,
    state: &State,
    value: &Value,
    kept: &Kept,
) -> Result<(), Error> {
    if value.is_safe() || state.auto_escape() == AutoEscape::None {
        return minijinja::escape_formatter(out, state, value);
    }
    if matches!(value.kind(), ValueKind::Map | ValueKind::Seq) {
        let mut kept = kept.lock().expect("one render at a time");
        kept.push(value.clone());
        return write!(out, "{PLACEHOLDER} {}", kept.len() - 1).map_err(write_failure);
    }
    let json = serde_json::to_string(value)
        .map_err(|e| Error::new(ErrorKind::BadSerialization, e.to_string()))?;
    let line_breaks = ['\u{85}', '\u{2028}', '\u{2029}'];
    let mut rest = json.as_str();
    while let Some(at) = rest.find(line_breaks) {
        let c = rest[at..].chars().next().unwrap_or_default();
        write!(out, "{}\\u{:04x}", &rest[..at], c as u32).map_err(write_failure)?;
        rest = &rest[at + c.len_utf8()..];
    }
    out.write_str(rest).map_err(write_failure)
}

fn write_failure(e: std::fmt::Error) -> Error {
    Error::new(ErrorKind::WriteFailure, e.to_string())
}

/// What every component shares. Imported macros see globals only, not
/// the caller's context.
const GLOBALS: usize = 6;

fn globals(ctx: &Context) -> [(&'static str, Value); GLOBALS] {
    use crate::context::workload::build;
    [
        ("namespace", Value::from_serialize(&ctx.namespace)),
        ("annotations", Value::from_serialize(&ctx.annotations)),
        ("secret_store", Value::from_serialize(&ctx.secret_store)),
        (
            "container_security",
            Value::from_serialize(&ctx.container_security),
        ),
        // A pod's scratch space: `tmp_volume()` and `tmp_mount()`.
        (
            "scratch_volumes",
            Value::from_serialize(build::scratch_volumes(build::TMP_SIZE)),
        ),
        (
            "scratch_mounts",
            Value::from_serialize(build::scratch_mounts()),
        ),
    ]
}

fn environment(globals: [(&'static str, Value); GLOBALS], kept: &Kept) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::Json);
    let kept = Arc::clone(kept);
    env.set_formatter(move |out, state, value| yaml_safe_json(out, state, value, &kept));
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_loader(|name| Ok(source(name).map(str::to_owned)));
    for (name, value) in globals {
        env.add_global(name, value);
    }
    env.add_function("meta", meta);
    env
}

/// An object's `metadata`, placed as `metadata: {{ meta(…) }}`.
/// `namespace` is none for a cluster-scoped object; empty `annotations`
/// are left out. Built here as data, not laid out by a template macro:
/// every object has one, and a macro call costs as much as the rest of
/// a small object's layout.
fn meta(name: Value, labels: Value, namespace: Value, annotations: Value) -> Result<Value, Error> {
    // As strict as a template: a name the context lacks is an error.
    if [&name, &labels, &namespace, &annotations]
        .iter()
        .any(|v| v.is_undefined())
    {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    let data = |v: &Value| to_yaml(v).map_err(|e| Error::new(ErrorKind::BadSerialization, e));
    let mut entries = vec![("name".into(), data(&name)?)];
    if namespace.is_true() {
        entries.push(("namespace".into(), data(&namespace)?));
    }
    entries.push(("labels".into(), data(&labels)?));
    if annotations.is_true() {
        entries.push(("annotations".into(), data(&annotations)?));
    }
    let tree = Yaml::Mapping(Mapping::from_unique(entries));
    Ok(Value::from_object(Slot::new(tree)))
}

/// A template's source, compiled the first time it is asked for.
fn source(name: &str) -> Option<&'static str> {
    if name == MACROS.0 {
        return Some(MACROS.1);
    }
    TEMPLATES.iter().find(|c| c.name == name).map(|c| c.source)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `meta` lays out name, namespace, labels and annotations in that
    /// order, leaves out a missing namespace and empty annotations, and
    /// refuses a name the context does not have.
    #[test]
    fn meta_is_data_in_the_order_kubectl_shows() {
        let kept = Kept::default();
        let none = || Value::from(());
        let globals = [
            "namespace",
            "annotations",
            "secret_store",
            "container_security",
            "scratch_volumes",
            "scratch_mounts",
        ];
        let mut env = environment(globals.map(|g| (g, none())), &kept);
        let run = |env: &mut Environment<'static>, args: &str| {
            let source = format!("metadata: {{{{ meta({args}) }}}}\n");
            env.add_template_owned("t", source).unwrap();
            let text = env.get_template("t").unwrap().render(())?;
            let values = std::mem::take(&mut *kept.lock().unwrap());
            let component = "t";
            let mut docs = Rendered {
                component,
                text,
                values,
            }
            .documents()
            .unwrap();
            Ok::<_, Error>(docs.remove(0).value["metadata"].clone())
        };
        let keys = |m: &Yaml| -> Vec<String> {
            let keys = m.as_mapping().unwrap().keys();
            keys.map(|k| k.as_str().unwrap().to_owned()).collect()
        };
        let expect =
            |text: &str| Yaml::from(serde_yaml::from_str::<serde_yaml::Value>(text).unwrap());
        let full = run(
            &mut env,
            r#""a: b", {"z": "1", "a": "2"}, "ns", {"k": "v"}"#,
        )
        .unwrap();
        assert_eq!(keys(&full), ["name", "namespace", "labels", "annotations"]);
        let want = "{name: 'a: b', namespace: ns, labels: {a: '2', z: '1'}, annotations: {k: v}}";
        assert_eq!(full, expect(want));
        let bare = run(&mut env, r#""web", {}, none, {}"#).unwrap();
        assert_eq!(keys(&bare), ["name", "labels"]);
        assert_eq!(bare, expect("{name: web, labels: {}}"));
        let err = run(&mut env, r#""web", {}, no_such_name, {}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UndefinedError);
    }

    /// Skipping a component with an empty part changes nothing: each
    /// template lays out nothing for it.
    /// A template's own plain `yes` fails a debug build's render, and a
    /// placeholder left in key position fails every build.
    #[test]
    fn template_text_mistakes_are_caught() {
        let rendered = |text: &str, values: Vec<Value>| Rendered {
            component: "t",
            text: text.to_owned(),
            values,
        };
        let trap = rendered("a: yes\n", Vec::new()).documents();
        if cfg!(debug_assertions) {
            assert!(trap.unwrap_err().to_string().contains("YAML 1.1"));
        }
        let key = rendered("!mlk 0: x\n", vec![Value::from(vec![1])]).documents();
        assert!(key.unwrap_err().to_string().contains("placeholders"));
        let twice = rendered("a: !mlk 0\nb: !mlk 0\n", vec![Value::from(vec![1])]).documents();
        assert!(twice.unwrap_err().to_string().contains("used twice"));
        let fine = rendered("a: !mlk 0\n", vec![Value::from(vec![1])]).documents();
        assert_eq!(fine.unwrap()[0].value["a"][0], 1);
    }

    /// A spliced map or list is the data its JSON text would have read as.
    #[test]
    fn spliced_values_equal_their_json() {
        let json = serde_json::json!({
            "b": [1, -2, 18446744073709551615u64, 0.5, true, null, "yes", "0777"],
            "a": {"nested": {}, "list": [], "text": "l\u{2028}s \"q\" 😀"},
            "": "empty key",
        });
        let v = Value::from_serialize(&json);
        let text = serde_json::to_string(&v).unwrap();
        let parsed: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(to_yaml(&v).unwrap(), Yaml::from(parsed));
    }

    /// A subtree built directly is what the same data, passed through a
    /// template, would have been: struct fields in order, map entries
    /// (a flattened struct's among them) in key order.
    #[test]
    fn subtrees_read_as_template_data_does() {
        use std::collections::BTreeMap;
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        enum Kind {
            Plain,
            Wrapped(u8),
            Fields { z: bool, a: Option<i64> },
            Pair(char, f64),
        }
        #[derive(serde::Serialize)]
        struct Inner {
            zeta: Vec<Kind>,
            alpha: BTreeMap<String, String>,
        }
        #[derive(serde::Serialize)]
        struct Part {
            name: &'static str,
            count: u32,
            below: i64,
            ratio: f64,
            missing: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            skipped: Option<String>,
            unit: (),
            inner: Inner,
            #[serde(flatten)]
            more: Inner,
        }
        let inner = || Inner {
            zeta: vec![
                Kind::Plain,
                Kind::Wrapped(7),
                Kind::Fields { z: true, a: None },
                Kind::Pair('x', -0.5),
            ],
            alpha: BTreeMap::from([("b".into(), "yes".into()), ("a".into(), "".into())]),
        };
        let part = Part {
            name: "n",
            count: 3,
            below: -4,
            ratio: 1.5,
            missing: None,
            skipped: None,
            unit: (),
            inner: inner(),
            more: inner(),
        };
        let direct = crate::manifest::tree::to_value(&part).unwrap();
        let through_template = to_yaml(&Value::from_serialize(&part)).unwrap();
        assert_eq!(direct, through_template);
        let keys = |v: &Yaml| -> Vec<String> {
            let m = v.as_mapping().unwrap();
            m.keys().map(|k| k.as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(keys(&direct), keys(&through_template));
        assert_eq!(keys(&direct["inner"]), ["zeta", "alpha"]);
    }

    #[test]
    fn an_empty_part_lays_out_nothing() {
        let globals = [
            "namespace",
            "annotations",
            "secret_store",
            "container_security",
            "scratch_volumes",
            "scratch_mounts",
        ]
        .map(|g| (g, Value::from(())));
        let env = environment(globals, &Kept::default());
        for c in &TEMPLATES {
            for empty in [Value::from(()), Value::from(Vec::<Value>::new())] {
                let part = Value::from_iter([(c.field, empty)]);
                match env.get_template(c.name).and_then(|t| t.render(part)) {
                    Ok(text) => assert!(text.trim().is_empty(), "{}: {text}", c.name),
                    Err(e) => assert_eq!(c.name, "tracking", "{e}"),
                }
            }
        }
    }
}
