//! The tools' output text, read from `assets/sim/logs/*.txt` (the format is described at the
//! top of each file).

use std::collections::HashMap;
use std::sync::LazyLock;

/// The tools' output, one file per family; see the note at the top of each for the format.
pub(super) const TEXT_FILES: [&str; 5] = [
    include_str!("../../../assets/sim/logs/cargo.txt"),
    include_str!("../../../assets/sim/logs/web.txt"),
    include_str!("../../../assets/sim/logs/python.txt"),
    include_str!("../../../assets/sim/logs/deploy.txt"),
    include_str!("../../../assets/sim/logs/docs.txt"),
];

/// A block, escapes resolved: its whole text, and the same split at its `{{values}}`.
pub(super) struct Block {
    pub text: String,
    pub parts: Vec<Part>,
}

pub(super) enum Part {
    Text(String),
    Value(String),
}

/// Every block of every text file by name, parsed once.
static TEXT: LazyLock<HashMap<&'static str, Block>> = LazyLock::new(|| {
    TEXT_FILES
        .iter()
        .flat_map(|f| parse_blocks(f))
        .map(|(name, text)| {
            let parts = split_values(&text);
            (name, Block { text, parts })
        })
        .collect()
});

static EMPTY: Block = Block {
    text: String::new(),
    parts: Vec::new(),
};

/// `@@ name` starts a block that runs to the next one; what comes before the first is a note.
pub(super) fn parse_blocks(src: &'static str) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for line in src.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("@@ ") {
            out.push((name.trim_end(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            let line = line.strip_suffix("\\c\n").unwrap_or(line);
            body.push_str(&line.replace("\\e", "\x1b").replace("\\r", "\r"));
        }
    }
    out
}

/// `a {{x}} b` -> text `a `, value `x`, text ` b`; an unclosed `{{` is text.
fn split_values(text: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{")
        && let Some(close) = rest[open + 2..].find("}}")
    {
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_string()));
        }
        parts.push(Part::Value(rest[open + 2..open + 2 + close].to_string()));
        rest = &rest[open + 2 + close + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    parts
}

/// A block by name; empty for an unknown name (the pinned-log test fails on that).
pub(super) fn block_of(name: &str) -> &'static Block {
    let b = TEXT.get(name).unwrap_or(&EMPTY);
    debug_assert!(!b.text.is_empty(), "no log text block {name:?}");
    b
}

/// A block's text.
pub(super) fn block(name: &str) -> &'static str {
    &block_of(name).text
}

/// A block's lines, for lists (crates, test names, suites).
pub(super) fn list(name: &str) -> impl Iterator<Item = &'static str> {
    block(name).lines()
}

/// Rust crates as `(name, version)`, for believable `Compiling` lines.
pub(super) fn crates() -> &'static [(&'static str, &'static str)] {
    static CRATES: LazyLock<Vec<(&str, &str)>> =
        LazyLock::new(|| list("crates").filter_map(|l| l.split_once(' ')).collect());
    &CRATES
}
