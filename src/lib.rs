//! mlk: one platform spec in, every Kubernetes manifest of an MLflow
//! platform out, checked before anything is printed.

mod bounds;
mod checksums;
pub mod cli;
mod context;
mod diff;
mod disk;
pub mod emit;
mod external;
mod field_path;
pub mod gate;
mod htpasswd;
pub mod layers;
mod located;
mod lock;
pub mod manifest;
mod messages;
pub mod mlflow;
mod patches;
pub mod pipeline;
mod pod_mut;
mod pod_wide;
mod problems;
mod registry;
mod render;
pub mod resolve;
pub mod sensitive;
mod spec;
mod spec_files;
mod suggest;
mod types;
pub mod validate;
mod yaml11;
