use serde::Serialize;

use crate::manifest::Document;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct List<'a> {
    api_version: &'static str,
    kind: &'static str,
    items: Vec<&'a crate::manifest::Value>,
}

/// A `v1` List holding every object, for tools that read JSON. Serialised
/// straight from the documents, so keys keep their order.
pub fn to_json_list(docs: &[Document]) -> String {
    let list = List {
        api_version: "v1",
        kind: "List",
        items: docs.iter().map(|d| &d.value).collect(),
    };
    let mut text = serde_json::to_string_pretty(&list).expect("rendered keys are strings");
    text.push('\n');
    text
}
