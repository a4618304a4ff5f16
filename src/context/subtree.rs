//! A part of an object that Rust builds whole, such as a model's
//! predictor: made a document tree once, and placed by its template as it
//! is. A template sees it as an opaque value that it can only place; it
//! is never turned into template values and back, which for thousands
//! of models was most of a render's work.

use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::manifest::tree::{self, Value};

#[derive(Debug)]
pub struct Subtree(Arc<Slot>);

/// The tree, until its template's placeholder takes it.
#[derive(Debug)]
pub struct Slot(Mutex<Option<Value>>);

impl Subtree {
    pub fn new<T: Serialize>(part: &T) -> Self {
        let tree = tree::to_value(part).expect("a context part serialises");
        Subtree(Arc::new(Slot(Mutex::new(Some(tree)))))
    }
}

impl Slot {
    /// A tree built for a template to place.
    pub fn new(tree: Value) -> Self {
        Slot(Mutex::new(Some(tree)))
    }

    /// The tree, once: `None` when it was taken before.
    pub fn take(&self) -> Option<Value> {
        self.0.lock().ok()?.take()
    }
}

/// A mapping with no readable keys: a template can place it, nothing more.
impl minijinja::value::Object for Slot {
    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Map
    }
}

/// For a template, the opaque value; for anything else, the tree.
impl Serialize for Subtree {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if minijinja::value::serializing_for_value() {
            return minijinja::Value::from_dyn_object(self.0.clone()).serialize(s);
        }
        match &*self.0.0.lock().map_err(serde::ser::Error::custom)? {
            Some(tree) => tree.serialize(s),
            None => s.serialize_unit(),
        }
    }
}
