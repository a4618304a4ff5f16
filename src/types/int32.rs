//! Counts Kubernetes stores as int32 (replicas, scaling bounds and
//! targets): a larger number would render as a negative one, so it is
//! refused where the spec says it.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, Visitor};

const RANGE: &str = "a whole number from 0 to 2147483647";

struct Int32;

impl Visitor<'_> for Int32 {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(RANGE)
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<u32, E> {
        u32::try_from(n)
            .ok()
            .filter(|n| i32::try_from(*n).is_ok())
            .ok_or_else(|| E::custom(format!("{n} is out of range: use {RANGE}")))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<u32, E> {
        u32::try_from(n)
            .ok()
            .filter(|n| i32::try_from(*n).is_ok())
            .ok_or_else(|| E::custom(format!("{n} is out of range: use {RANGE}")))
    }
}

/// For `#[serde(deserialize_with = "int32")]` on a `u32`.
pub fn int32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    d.deserialize_any(Int32)
}

/// For `#[serde(default, deserialize_with = "int32_opt")]` on an
/// `Option<u32>`.
pub fn int32_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    int32(d).map(Some)
}
