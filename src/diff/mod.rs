//! `mlk diff OLD NEW`: what applying NEW over OLD changes, object by
//! object, and which of those changes Kubernetes refuses or the platform's
//! stores would not survive.

mod normalize;
mod storage_class;
mod unsafe_changes;
mod upgrades;

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
type Key<'a> = (&'a str, &'a str, &'a str);

fn key(v: &Value) -> Key<'_> {
    fn s(p: &Value) -> &str {
        p.as_str().unwrap_or_default()
    }
    (
        s(&v["kind"]),
        s(&v["metadata"]["namespace"]),
        s(&v["metadata"]["name"]),
    )
}

fn id((kind, ns, name): &Key) -> String {
    match ns.is_empty() {
        true => format!("{kind}/{name}"),
        false => format!("{kind}/{ns}/{name}"),
    }
}

/// Every object of NEW in its order, then those only OLD holds. Objects
/// are matched by identity through one index of each side, so a diff
/// costs the same per object whatever the streams hold.
pub fn diff(old: &[Value], new: &[Value]) -> Report {
    fn index(stream: &[Value]) -> HashMap<Key<'_>, usize> {
        let mut by_key = HashMap::with_capacity(stream.len());
        for (i, v) in stream.iter().enumerate() {
            by_key.entry(key(v)).or_insert(i);
        }
        by_key
    }
    let (old_index, new_index) = (index(old), index(new));
    let mut changes = Vec::new();
    for n in new {
        let k = key(n);
        let before = old_index.get(&k).map(|i| &old[*i]);
        changes.extend(compare(&k, before, Some(n), new));
    }
    for o in old {
        let k = key(o);
        if !new_index.contains_key(&k) {
            changes.extend(compare(&k, Some(o), None, new));
        }
    }
    Report { changes }
}

/// An object as a diff compares it; copied only when it carries what
/// the API server adds, which is taken out.
fn cleaned(v: &Value) -> std::borrow::Cow<'_, Value> {
    match normalize::has_server_fields(v) {
        false => std::borrow::Cow::Borrowed(v),
        true => {
            let mut v = v.clone();
            normalize::strip_server_fields(&mut v);
            std::borrow::Cow::Owned(v)
        }
    }
}

fn compare(
    k: &Key,
    old: Option<&Value>,
    new: Option<&Value>,
    new_stream: &[Value],
) -> Option<Change> {
    let new = new.map(cleaned);
    let old = old.map(|o| {
        let live = normalize::is_live(o);
        let o = cleaned(o);
        match (&new, live) {
            (Some(n), true) => std::borrow::Cow::Owned(normalize::only_what_is_set(&o, n)),
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
    let text = |v: &Option<std::borrow::Cow<Value>>, other: Option<&Value>| match v {
        Some(v) => serde_yaml::to_string(&normalize::mask_secret(v, other)).unwrap_or_default(),
        None => String::new(),
    };
    // The new side says which values changed; both hide every value.
    let (before, after) = (text(&old, None), text(&new, old.as_deref()));
    let object = id(k);
    let diff = similar::TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{object} (old)"), &format!("{object} (new)"))
        .to_string();
    let pair = Pair {
        old: old.as_deref(),
        new: new.as_deref(),
    };
    Some(Change {
        object,
        change,
        diff,
        unsafe_changes: [
            unsafe_changes::check(&pair, new_stream),
            upgrades::check(pair.old, pair.new),
        ]
        .concat(),
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
