//! Stage 4b: the spec's `patches`, applied to the rendered objects before
//! checksums and validation. A patch names its object by kind and name;
//! one that finds nothing, or whose JSON patch fails, is an error naming
//! the patch by its index.

use crate::located::Located;
use crate::manifest::{Document, Mapping, Value};
use crate::problems::Problems;
use crate::spec::Patch;

/// For each object, the indices of the patches that changed it.
pub type Patched = Vec<(usize, Vec<usize>)>;

pub fn apply(docs: &mut [Document], patches: &[Patch]) -> Result<Patched, Problems> {
    let mut found = Vec::new();
    let mut patched: Patched = Vec::new();
    for (i, p) in patches.iter().enumerate() {
        let at = |field: &str| format!("patches[{i}].{field}");
        let fail = |field: &str, msg: String| Located::new("spec", Some(&at(field)), msg);
        let matches = |d: &Document| d.kind() == p.target.kind && d.name() == p.target.name;
        let Some(index) = docs.iter().position(matches) else {
            let what = format!("{}/{}", p.target.kind, p.target.name);
            found.push(fail(
                "target",
                format!("matches no rendered object ({what})"),
            ));
            continue;
        };
        if p.merge.is_some() == p.json.is_some() {
            found.push(fail("target", "takes one of merge or json".into()));
            continue;
        }
        if let Err(e) = patch_one(&mut docs[index], p) {
            let field = if p.json.is_some() { "json" } else { "merge" };
            found.push(fail(field, e));
            continue;
        }
        match patched.iter_mut().find(|(d, _)| *d == index) {
            Some((_, by)) => by.push(i),
            None => patched.push((index, vec![i])),
        }
    }
    match found.is_empty() {
        true => Ok(patched),
        false => Err(Problems(found)),
    }
}

/// Past this, a patched object is refused: `copy` operations that copy a
/// subtree into itself would double it each time.
const MAX_NODES: usize = 100_000;

fn patch_one(doc: &mut Document, p: &Patch) -> Result<(), String> {
    let mut value = serde_json::to_value(&doc.value).map_err(|e| e.to_string())?;
    if let Some(merge) = &p.merge {
        json_patch::merge(&mut value, merge);
    }
    if let Some(ops) = &p.json {
        json_ops(&mut value, ops)?;
    }
    let patched: Value = serde_json::from_value(value).map_err(|e| e.to_string())?;
    doc.value = in_order_of(&doc.value, patched);
    Ok(())
}

/// The operations one by one, each checked first for what it would add:
/// only `add`, `replace` and `copy` grow an object, the first two by a
/// value the spec holds, `copy` by a part of the object itself.
fn json_ops(value: &mut serde_json::Value, ops: &json_patch::Patch) -> Result<(), String> {
    use json_patch::PatchOperation::{Add, Copy, Replace};
    let mut nodes = measure(value).0;
    for (i, op) in ops.iter().enumerate() {
        let added = match op {
            Add(a) => Some((a.path.count(), measure(&a.value))),
            Replace(r) => Some((r.path.count(), measure(&r.value))),
            Copy(c) => value
                .pointer(c.from.as_str())
                .map(|from| (c.path.count(), measure(from))),
            _ => None,
        };
        if let Some((at, (more, depth))) = added {
            nodes += more;
            if nodes > MAX_NODES || at + depth > crate::bounds::MAX_DEPTH {
                return Err(format!(
                    "operation '/{i}' would grow the object past {MAX_NODES} values or \
                     {} levels",
                    crate::bounds::MAX_DEPTH
                ));
            }
        }
        json_patch::patch(value, std::slice::from_ref(op)).map_err(|mut e| {
            e.operation = i;
            e.to_string()
        })?;
    }
    Ok(())
}

/// How many values `v` holds, and how deep it nests, without recursion.
fn measure(v: &serde_json::Value) -> (usize, usize) {
    let (mut nodes, mut depth) = (0, 0);
    let mut stack = vec![(v, 1)];
    while let Some((v, d)) = stack.pop() {
        nodes += 1;
        depth = depth.max(d);
        match v {
            serde_json::Value::Array(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            serde_json::Value::Object(map) => stack.extend(map.values().map(|i| (i, d + 1))),
            _ => {}
        }
    }
    (nodes, depth)
}

/// `patched` with its keys in the order `original` had them, new ones
/// last: JSON sorts keys, and a patch should show as its own change only.
fn in_order_of(original: &Value, patched: Value) -> Value {
    match (original, patched) {
        (Value::Mapping(old), Value::Mapping(mut new)) => {
            let mut out = Mapping::new();
            for (k, v) in old {
                if let Some(p) = new.remove(k) {
                    out.insert(k.clone(), in_order_of(v, p));
                }
            }
            out.extend(new);
            Value::Mapping(out)
        }
        (Value::Sequence(old), Value::Sequence(new)) => Value::Sequence(
            new.into_iter()
                .enumerate()
                .map(|(i, p)| match old.get(i) {
                    Some(o) => in_order_of(o, p),
                    None => p,
                })
                .collect(),
        ),
        (_, patched) => patched,
    }
}
