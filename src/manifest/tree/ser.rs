//! Any `Serialize` value as a tree, built directly: a struct's fields in
//! their order, a map's entries in the order of their keys (what a
//! template's data gives, so a subtree reads the same whichever way it
//! was built), an absent option or a unit as null, an enum's unit
//! variant as its name and any other variant as a one-entry map.

use serde::ser::{self, Serialize};

use super::{Mapping, Value};

#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

pub fn to_value<T: Serialize + ?Sized>(v: &T) -> Result<Value, Error> {
    v.serialize(Serializer)
}

struct Serializer;

type Result<T, E = Error> = std::result::Result<T, E>;

/// `{variant: value}`.
fn variant(name: &str, value: Value) -> Value {
    Value::Mapping(Mapping::from_unique(vec![(name.into(), value)]))
}

/// Each number as the widest of its kind, as serde_yaml keeps it.
macro_rules! numbers {
    ($($method:ident: $t:ty as $wide:ty,)*) => {
        $(fn $method(self, v: $t) -> Result<Value> {
            Ok(Value::Number(<$wide>::from(v).into()))
        })*
    };
}

impl ser::Serializer for Serializer {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Seq;
    type SerializeMap = Map;
    type SerializeStruct = Struct;
    type SerializeStructVariant = Map;

    fn serialize_bool(self, v: bool) -> Result<Value> {
        Ok(Value::Bool(v))
    }
    numbers! {
        serialize_i8: i8 as i64,
        serialize_i16: i16 as i64,
        serialize_i32: i32 as i64,
        serialize_i64: i64 as i64,
        serialize_u8: u8 as u64,
        serialize_u16: u16 as u64,
        serialize_u32: u32 as u64,
        serialize_u64: u64 as u64,
        serialize_f32: f32 as f64,
        serialize_f64: f64 as f64,
    }
    fn serialize_char(self, v: char) -> Result<Value> {
        Ok(Value::String(v.encode_utf8(&mut [0; 4]).into()))
    }
    fn serialize_str(self, v: &str) -> Result<Value> {
        Ok(Value::String(v.into()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value> {
        Ok(Value::Sequence(
            v.iter().map(|b| (*b as u64).into()).collect(),
        ))
    }
    fn serialize_none(self) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Value> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, name: &'static str) -> Result<Value> {
        Ok(Value::String(name.into()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<Value> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        name: &'static str,
        v: &T,
    ) -> Result<Value> {
        Ok(variant(name, to_value(v)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq> {
        Ok(Seq::new(None, len.unwrap_or(0)))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq> {
        Ok(Seq::new(None, len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq> {
        Ok(Seq::new(None, len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        name: &'static str,
        len: usize,
    ) -> Result<Seq> {
        Ok(Seq::new(Some(name), len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Map> {
        Ok(Map::new(None, len.unwrap_or(0)))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Struct> {
        Ok(Struct(Vec::with_capacity(len)))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        name: &'static str,
        len: usize,
    ) -> Result<Map> {
        Ok(Map::new(Some(name), len))
    }
}

/// A list, under its variant's name for a tuple variant.
struct Seq {
    variant: Option<&'static str>,
    items: Vec<Value>,
}

impl Seq {
    fn new(variant: Option<&'static str>, len: usize) -> Self {
        let items = Vec::with_capacity(len.min(4096));
        Seq { variant, items }
    }

    fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.items.push(to_value(v)?);
        Ok(())
    }

    fn finish(self) -> Result<Value> {
        let list = Value::Sequence(self.items);
        Ok(match self.variant {
            Some(name) => variant(name, list),
            None => list,
        })
    }
}

macro_rules! seq_like {
    ($trait:ident, $method:ident) => {
        impl ser::$trait for Seq {
            type Ok = Value;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
                self.push(v)
            }
            fn end(self) -> Result<Value> {
                self.finish()
            }
        }
    };
}

seq_like!(SerializeSeq, serialize_element);
seq_like!(SerializeTuple, serialize_element);
seq_like!(SerializeTupleStruct, serialize_field);
seq_like!(SerializeTupleVariant, serialize_field);

/// A map's entries, put in key order at the end; a later entry replaces
/// an earlier one with the same key.
struct Map {
    variant: Option<&'static str>,
    entries: Vec<(Value, Value)>,
    key: Option<Value>,
}

impl Map {
    fn new(variant: Option<&'static str>, len: usize) -> Self {
        let entries = Vec::with_capacity(len.min(4096));
        Map {
            variant,
            entries,
            key: None,
        }
    }

    fn finish(mut self) -> Result<Value> {
        // Stable, so that of equal keys the last one is last.
        self.entries.sort_by(|(a, _), (b, _)| key_order(a, b));
        let mut entries: Vec<(Value, Value)> = Vec::with_capacity(self.entries.len());
        for (k, v) in self.entries {
            match entries.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => entries.push((k, v)),
            }
        }
        let map = Value::Mapping(Mapping::from_unique(entries));
        Ok(match self.variant {
            Some(name) => variant(name, map),
            None => map,
        })
    }
}

/// Strings by their text, after every key that is not a string.
fn key_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a.as_str(), b.as_str()) {
        (Some(a), Some(b)) => a.cmp(b),
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}

impl ser::SerializeMap for Map {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<()> {
        self.key = Some(to_value(k)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("a value without a key".into()))?;
        self.entries.push((key, to_value(v)?));
        Ok(())
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Map {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, k: &'static str, v: &T) -> Result<()> {
        self.entries.push((k.into(), to_value(v)?));
        Ok(())
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

/// A struct's fields, in their order.
struct Struct(Vec<(Value, Value)>);

impl ser::SerializeStruct for Struct {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, k: &'static str, v: &T) -> Result<()> {
        self.0.push((k.into(), to_value(v)?));
        Ok(())
    }
    fn end(self) -> Result<Value> {
        Ok(Value::Mapping(Mapping::from_unique(self.0)))
    }
}
