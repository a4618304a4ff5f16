//! The OpenAPI keywords `Schema::from_json` reads. build.rs keeps only
//! these in the compiled-in definitions (it includes this file), so the
//! binary carries and parses nothing mlk would ignore.

pub const READ_KEYS: [&str; 18] = [
    "$ref",
    "type",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "nullable",
    "format",
    "minimum",
    "maximum",
    "maxLength",
    "properties",
    "required",
    "enum",
    "additionalProperties",
    "items",
    "anyOf",
    "oneOf",
    "allOf",
];
