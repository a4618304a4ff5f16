//! The escape hatch: RFC 7396 merge patches and RFC 6902 JSON patches on
//! single rendered objects, applied before validation, so the patched
//! platform is still checked as a whole.

use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    /// The one rendered object it changes.
    pub target: PatchTarget,
    /// An RFC 7396 merge patch: a mapping merged in, `null` removing a key.
    pub merge: Option<serde_json::Value>,
    /// An RFC 6902 JSON patch: `add`, `remove`, `replace`, `move`, `copy`
    /// and `test` operations, all or none applied.
    #[schemars(with = "Option<Vec<serde_json::Value>>")]
    pub json: Option<json_patch::Patch>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTarget {
    pub kind: String,
    pub name: String,
}
