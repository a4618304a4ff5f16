//! `mlk diff OLD NEW`: what applying NEW over OLD changes, object by
//! object, and which of those changes Kubernetes refuses or the platform's
//! stores would not survive.

mod normalize;
mod unsafe_changes;

use foldhash::{HashMap, HashMapExt};

use crate::manifest::Value;
use serde::Serialize;

use unsafe_changes::Pair;
pub use unsafe_changes::Unsafe;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Serialize)]
pub struct Change {
    pub object: String,
    pub change: ChangeKind,
    /// A unified diff of the object's fields, Secret values masked.
    pub diff: String,
    #[serde(rename = "unsafe")]
    pub unsafe_changes: Vec<Unsafe>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub changes: Vec<Change>,
}

impl Report {
    /// 0: no difference; 1: differences that apply cleanly; 3: at least
    /// one unsafe change.
    pub fn exit_code(&self) -> i32 {
        if self.changes.iter().any(|c| !c.unsafe_changes.is_empty()) {
            3
        } else if self.changes.is_empty() {
            0
        } else {
            1
        }
    }
}

/// An object's identity across versions: its kind, namespace and name
/// (not its API version, which may move on).
fn key(v: &Value) -> (String, String, String) {
    let s = |p: &Value| p.as_str().unwrap_or_default().to_owned();
    (
        s(&v["kind"]),
        s(&v["metadata"]["namespace"]),
        s(&v["metadata"]["name"]),
    )
}

fn id((kind, ns, name): &(String, String, String)) -> String {
    match ns.is_empty() {
        true => format!("{kind}/{name}"),
        false => format!("{kind}/{ns}/{name}"),
    }
}

/// Every object of NEW in its order, then those only OLD holds. Objects
/// are matched by identity through one index of each side, so a diff
/// costs the same per object whatever the streams hold.
pub fn diff(old: &[Value], new: &[Value]) -> Report {
    let index = |stream: &[Value]| {
        let mut by_key: HashMap<(String, String, String), usize> =
            HashMap::with_capacity(stream.len());
        for (i, v) in stream.iter().enumerate() {
            by_key.entry(key(v)).or_insert(i);
        }
        by_key
    };
    let (old_index, new_index) = (index(old), index(new));
    let mut changes = Vec::new();
    for n in new {
        let k = key(n);
        let before = old_index.get(&k).map(|i| old[*i].clone());
        changes.extend(compare(&k, before, Some(n.clone()), new));
    }
    for o in old {
        let k = key(o);
        if !new_index.contains_key(&k) {
            changes.extend(compare(&k, Some(o.clone()), None, new));
        }
    }
    Report { changes }
}

fn compare(
    k: &(String, String, String),
    old: Option<Value>,
    new: Option<Value>,
    new_stream: &[Value],
) -> Option<Change> {
    let clean = |mut v: Value| {
        normalize::strip_server_fields(&mut v);
        v
    };
    let new = new.map(clean);
    let old = old.map(|o| {
        let live = normalize::is_live(&o);
        let o = clean(o);
        match (&new, live) {
            (Some(n), true) => normalize::only_what_is_set(&o, n),
            _ => o,
        }
    });
    if old == new {
        return None;
    }
    let change = match (&old, &new) {
        (None, _) => ChangeKind::Added,
        (_, None) => ChangeKind::Removed,
        _ => ChangeKind::Changed,
    };
    let text = |v: &Option<Value>, other: &Option<Value>| match v {
        Some(v) => {
            serde_yaml::to_string(&normalize::mask_secret(v, other.as_ref())).unwrap_or_default()
        }
        None => String::new(),
    };
    // The new side says which values changed; both hide every value.
    let (before, after) = (text(&old, &None), text(&new, &old));
    let object = id(k);
    let diff = similar::TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{object} (old)"), &format!("{object} (new)"))
        .to_string();
    let pair = Pair {
        old: old.as_ref(),
        new: new.as_ref(),
    };
    Some(Change {
        object,
        change,
        diff,
        unsafe_changes: unsafe_changes::check(&pair, new_stream),
    })
}

/// The report as a person reads it.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    for c in &report.changes {
        let sign = match c.change {
            ChangeKind::Added => '+',
            ChangeKind::Removed => '-',
            ChangeKind::Changed => '~',
        };
        out.push_str(&format!("{sign} {}\n", c.object));
        if c.change == ChangeKind::Changed {
            for line in c.diff.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
        for u in &c.unsafe_changes {
            out.push_str(&format!("  UNSAFE: {}\n", u.reason));
            for step in &u.steps {
                out.push_str(&format!("    {step}\n"));
            }
        }
    }
    let count = |k: ChangeKind| report.changes.iter().filter(|c| c.change == k).count();
    let unsafe_count: usize = report.changes.iter().map(|c| c.unsafe_changes.len()).sum();
    out.push_str(&format!(
        "{} changed, {} added, {} removed; {unsafe_count} unsafe\n",
        count(ChangeKind::Changed),
        count(ChangeKind::Added),
        count(ChangeKind::Removed)
    ));
    out
}
