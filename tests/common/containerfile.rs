//! The Containerfile as a builder reads it: logical lines (continuations
//! joined; comments and blank lines between instructions dropped), each
//! an instruction word and the rest.

pub fn text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Containerfile")).unwrap()
}

/// Every instruction, in order: `("COPY", "--from=build /src/... /usr/...")`.
pub fn instructions() -> Vec<(String, String)> {
    let mut lines = Vec::new();
    let mut pending = String::new();
    for line in text().lines() {
        let line = line.trim();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => pending.push_str(part),
            None => {
                pending.push_str(line);
                lines.push(std::mem::take(&mut pending));
            }
        }
    }
    assert!(pending.is_empty(), "a continuation at the end");
    lines
        .into_iter()
        .map(|l| {
            let (word, rest) = l.split_once(' ').unwrap_or((&l, ""));
            (word.to_owned(), rest.to_owned())
        })
        .collect()
}

/// The instructions of the last stage, the image `docker build` tags.
pub fn final_stage() -> Vec<(String, String)> {
    let all = instructions();
    let from = all.iter().rposition(|(w, _)| w == "FROM").unwrap();
    all[from + 1..].to_vec()
}
