//! Values that validate once, at the edge: when the spec is read.

mod bounded;
mod bucket;
mod cidr;
mod cloud;
mod dns;
mod duration;
mod env_name;
mod host;
mod image;
mod int32;
mod label;
mod quantity;
mod strict;

pub(crate) use bounded::bounded_int;
pub use bucket::BucketName;
pub use cidr::Cidr;
pub use cloud::{
    BlobContainer, EntraId, GcpServiceAccount, GcsBucket, ObjectPrefix, StorageAccount,
};
pub(crate) use dns::check_label;
pub use dns::{Name, PlatformName, Subdomain};
pub use duration::Duration;
pub use env_name::EnvName;
pub use host::{Host, HostPattern, Origin};
pub use image::Image;
pub use int32::{int32, int32_opt};
pub use label::{LabelKey, LabelValue};
pub use quantity::Quantity;
pub use strict::Strict;

/// Implements the serde plumbing for a string newtype whose `parse`
/// function validates: deserialize through `String`, serialize as `&str`.
macro_rules! string_newtype {
    ($ty:ident) => {
        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $ty::parse(&s).map(|()| $ty(s))
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $ty::try_from(s).map_err(serde::de::Error::custom)
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string" })
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl $ty {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Whether `s` is valid, without taking it.
            #[allow(dead_code, reason = "not every type is checked in place")]
            pub fn check(s: &str) -> Result<(), String> {
                $ty::parse(s)
            }
        }
    };
}
pub(crate) use string_newtype;
