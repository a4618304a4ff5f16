//! mlk: one platform spec in, every Kubernetes manifest of an MLflow
//! platform out, checked before anything is printed.

pub mod bounds;
pub mod checksums;
pub mod cli;
pub mod context;
pub mod diff;
pub mod emit;
pub mod external;
pub mod field_path;
pub mod htpasswd;
pub mod layers;
pub mod located;
pub mod lock;
pub mod manifest;
pub mod patches;
pub mod pipeline;
pub mod problems;
pub mod registry;
pub mod render;
pub mod resolve;
pub mod spec;
pub mod spec_files;
pub mod suggest;
pub mod types;
pub mod validate;
pub mod yaml11;
