//! Stage 7: the documents as text, or as files.

mod dir;
mod json;
mod yaml;

pub use dir::{folder_files, write_dir};
pub use json::to_json_list;
pub use yaml::{to_yaml, to_yaml_stream};
