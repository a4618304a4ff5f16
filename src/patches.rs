//! Stage 4b: the spec's `patches`, applied to the rendered objects before
//! checksums and the gate. A patch names its object by kind and name; one
//! that finds nothing, or whose JSON patch fails, is an error naming the
//! patch by its index. What each patch changed is recorded, field by
//! field, so that anything the gate refuses in a patched field is named
//! by the patch that wrote it. The gate, not this stage, decides what a
//! patch may change.

use crate::field_path::{Seg, Trail};
use crate::located::Located;
use crate::manifest::{Document, Mapping, Value};
use crate::problems::Problems;
use crate::spec::Patch;

/// A spec holds at most this many patches.
pub const MAX_PATCHES: usize = 256;
/// A patch, written as JSON, holds at most this many bytes.
pub const MAX_PATCH_BYTES: usize = 64 << 10;
/// A JSON patch holds at most this many operations.
pub const MAX_OPERATIONS: usize = 256;

/// One change a patch made: the patch, its part (`merge`, `json[3]`),
/// the object and the fields that differ after it.
#[derive(Debug, Clone)]
pub struct Touch {
    pub patch: usize,
    pub part: String,
    pub object: usize,
    pub fields: Vec<Trail>,
}

pub fn apply(docs: &mut [Document], patches: &[Patch]) -> Result<Vec<Touch>, Problems> {
    bounds(patches)?;
    let mut found = Vec::new();
    let mut touched = Vec::new();
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
        match patch_one(&mut docs[index], p) {
            Ok(parts) => touched.extend(parts.into_iter().map(|(part, fields)| Touch {
                patch: i,
                part,
                object: index,
                fields,
            })),
            Err(e) => {
                let field = if p.json.is_some() { "json" } else { "merge" };
                found.push(fail(field, e));
            }
        }
    }
    match found.is_empty() {
        true => Ok(touched),
        false => Err(Problems(found)),
    }
}

/// How many patches, and how large: a spec cannot make mlk spend without
/// bound on them, or print without bound about them.
fn bounds(patches: &[Patch]) -> Result<(), Located> {
    if patches.len() > MAX_PATCHES {
        let msg = format!(
            "holds {} patches; at most {MAX_PATCHES} are applied: a change that large belongs \
             in the spec's own fields, or in a tool that owns the objects",
            patches.len()
        );
        return Err(Located::new("spec", Some("patches"), msg));
    }
    for (i, p) in patches.iter().enumerate() {
        let bytes = serde_json::to_vec(&p.merge).map_or(0, |b| b.len())
            + serde_json::to_vec(&p.json).map_or(0, |b| b.len());
        let ops = p.json.as_ref().map_or(0, |j| j.len());
        if bytes > MAX_PATCH_BYTES || ops > MAX_OPERATIONS {
            let msg = format!(
                "is larger than a patch may be ({} KiB, {MAX_OPERATIONS} operations)",
                MAX_PATCH_BYTES >> 10
            );
            return Err(Located::new("spec", Some(&format!("patches[{i}]")), msg));
        }
    }
    Ok(())
}

/// Past this, a patched object is refused: `copy` operations that copy a
/// subtree into itself would double it each time.
const MAX_NODES: usize = 100_000;

/// Applies one patch; returns each part with the fields it changed.
fn patch_one(doc: &mut Document, p: &Patch) -> Result<Vec<(String, Vec<Trail>)>, String> {
    let mut value = serde_json::to_value(&doc.value).map_err(|e| e.to_string())?;
    let mut parts = Vec::new();
    if let Some(merge) = &p.merge {
        let before = value.clone();
        json_patch::merge(&mut value, merge);
        parts.push(("merge".to_owned(), changed(&before, &value)));
    }
    if let Some(ops) = &p.json {
        json_ops(&mut value, ops, &mut parts)?;
    }
    let patched: Value = serde_json::from_value(value).map_err(|e| e.to_string())?;
    doc.value = in_order_of(&doc.value, patched);
    Ok(parts)
}

/// The operations one by one, each checked first for what it would add:
/// only `add`, `replace` and `copy` grow an object, the first two by a
/// value the spec holds, `copy` by a part of the object itself.
fn json_ops(
    value: &mut serde_json::Value,
    ops: &json_patch::Patch,
    parts: &mut Vec<(String, Vec<Trail>)>,
) -> Result<(), String> {
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
        let before = value.clone();
        json_patch::patch(value, std::slice::from_ref(op)).map_err(|mut e| {
            e.operation = i;
            e.to_string()
        })?;
        parts.push((format!("json[{i}]"), changed(&before, value)));
    }
    Ok(())
}

/// Where `after` differs from `before`: the deepest fields that do.
fn changed(before: &serde_json::Value, after: &serde_json::Value) -> Vec<Trail> {
    use serde_json::Value as J;
    let mut out = Vec::new();
    let mut stack: Vec<(Vec<Seg>, &J, &J)> = vec![(Vec::new(), before, after)];
    while let Some((at, b, a)) = stack.pop() {
        match (b, a) {
            _ if b == a => {}
            (J::Object(bm), J::Object(am)) => {
                for (k, av) in am {
                    let mut next = at.clone();
                    next.push(Seg::Key(k.as_str().into()));
                    match bm.get(k) {
                        Some(bv) => stack.push((next, bv, av)),
                        None => out.push(Trail::from(next)),
                    }
                }
                for k in bm.keys().filter(|k| !am.contains_key(*k)) {
                    let mut next = at.clone();
                    next.push(Seg::Key(k.as_str().into()));
                    out.push(Trail::from(next));
                }
            }
            (J::Array(bl), J::Array(al)) if bl.len() == al.len() => {
                for (j, (bv, av)) in bl.iter().zip(al).enumerate() {
                    let mut next = at.clone();
                    next.push(Seg::Index(j));
                    stack.push((next, bv, av));
                }
            }
            _ => out.push(Trail::from(at)),
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::changed;
    use serde_json::json;

    #[test]
    fn changes_are_found_field_by_field() {
        let before = json!({"kind": "Deployment", "spec": {"a": [1, 2], "b": 1}});
        let after = json!({"kind": "RoleBinding", "spec": {"a": [1, 3], "c": 1}});
        let mut got: Vec<String> = changed(&before, &after)
            .iter()
            .map(ToString::to_string)
            .collect();
        got.sort();
        assert_eq!(got, ["kind", "spec.a[1]", "spec.b", "spec.c"]);
    }
}
