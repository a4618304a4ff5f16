//! Whole numbers with bounds of their own (workers, instances, a
//! percentage): read through `i64`, so that `-1` is told the range, not a
//! Rust type's, and described in the schema with that range.

/// `bounded_int!(Type, lo..=hi, "message with {n}")`, optionally followed
/// by `, valid = |n| ...` for a gap inside the range.
macro_rules! bounded_int {
    ($ty:ident, $range:expr, $msg:literal) => {
        $crate::types::bounded_int!($ty, $range, $msg, valid = |_n: u32| true);
    };
    ($ty:ident, $range:expr, $msg:literal, valid = $valid:expr) => {
        impl TryFrom<i64> for $ty {
            type Error = String;
            fn try_from(n: i64) -> Result<Self, String> {
                match u32::try_from(n) {
                    Ok(v) if ($range).contains(&v) && ($valid)(v) => Ok($ty(v)),
                    _ => Err(format!($msg, n = n)),
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let n = <i64 as serde::Deserialize>::deserialize(d)?;
                $ty::try_from(n).map_err(serde::de::Error::custom)
            }
        }

        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let range = $range;
                schemars::json_schema!({
                    "type": "integer",
                    "minimum": *range.start(),
                    "maximum": *range.end(),
                })
            }
        }
    };
}
pub(crate) use bounded_int;
