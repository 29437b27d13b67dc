//! The tools' output text, read from `assets/sim/logs/*.txt` (the format is described at the
//! top of each file).

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The tools' output, one file per family; see the note at the top of each for the format.
pub(super) const TEXT_FILES: [&str; 5] = [
    include_str!("../../../assets/sim/logs/cargo.txt"),
    include_str!("../../../assets/sim/logs/web.txt"),
    include_str!("../../../assets/sim/logs/python.txt"),
    include_str!("../../../assets/sim/logs/deploy.txt"),
    include_str!("../../../assets/sim/logs/docs.txt"),
];

/// Every block of every text file by name, escapes resolved, parsed once.
static TEXT: LazyLock<BTreeMap<&'static str, String>> =
    LazyLock::new(|| TEXT_FILES.iter().flat_map(|f| parse_blocks(f)).collect());

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

/// A block's text; empty for an unknown name (the pinned-log test fails on that).
pub(super) fn block(name: &str) -> &'static str {
    let text = TEXT.get(name).map_or("", String::as_str);
    debug_assert!(!text.is_empty(), "no log text block {name:?}");
    text
}

/// A block's lines, for lists (crates, test names, suites).
pub(super) fn list(name: &str) -> impl Iterator<Item = &'static str> {
    block(name).lines()
}

/// Rust crates as `(name, version)`, for believable `Compiling` lines.
pub(super) fn crates() -> impl Iterator<Item = (&'static str, &'static str)> {
    list("crates").filter_map(|l| l.split_once(' '))
}
