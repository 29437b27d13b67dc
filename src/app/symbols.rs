//! Status classes and their symbols. Every status shows a symbol and a word, so colour is
//! never the only signal (NO_COLOR, colour-blind operators, monochrome terminals).

use crate::gitlab::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    Success,
    Failed,
    /// Failed, but `allow_failure` lets the pipeline pass.
    Warning,
    Running,
    Pending,
    Canceled,
    Skipped,
    Manual,
    Unknown,
}

pub fn class(s: &Status) -> StatusClass {
    match s {
        Status::Success => StatusClass::Success,
        Status::Failed => StatusClass::Failed,
        Status::Running | Status::Canceling => StatusClass::Running,
        Status::Created
        | Status::WaitingForResource
        | Status::Preparing
        | Status::Pending
        | Status::WaitingForCallback
        | Status::Scheduled => StatusClass::Pending,
        Status::Canceled => StatusClass::Canceled,
        Status::Skipped => StatusClass::Skipped,
        Status::Manual => StatusClass::Manual,
        Status::Unknown(_) => StatusClass::Unknown,
    }
}

pub fn job_class(s: &Status, allow_failure: bool) -> StatusClass {
    match class(s) {
        StatusClass::Failed if allow_failure => StatusClass::Warning,
        c => c,
    }
}

/// One display column in both modes. In ASCII no symbol doubles as another marker: `>` is
/// only the cursor, `+`/`-` only fold state (and `+` box corners), `o` is success.
pub fn symbol(c: StatusClass, ascii: bool) -> &'static str {
    match (c, ascii) {
        (StatusClass::Success, false) => "✓",
        (StatusClass::Failed, false) => "✗",
        (StatusClass::Warning, false) => "!",
        (StatusClass::Running, false) => "●",
        (StatusClass::Pending, false) => "○",
        (StatusClass::Canceled, false) => "⊘",
        (StatusClass::Skipped, false) => "»",
        (StatusClass::Manual, false) => "▷",
        (StatusClass::Unknown, false) => "?",
        (StatusClass::Success, true) => "o",
        (StatusClass::Failed, true) => "x",
        (StatusClass::Warning, true) => "!",
        (StatusClass::Running, true) => "*",
        (StatusClass::Pending, true) => ".",
        (StatusClass::Canceled, true) => "/",
        (StatusClass::Skipped, true) => "_",
        (StatusClass::Manual, true) => "m",
        (StatusClass::Unknown, true) => "?",
    }
}

/// Markers used in lists and the log viewer.
pub struct Glyphs {
    pub selected: &'static str,
    pub expanded: &'static str,
    pub collapsed: &'static str,
    pub ellipsis: &'static str,
    pub sep: &'static str,
    pub arrow: &'static str,
}

pub fn glyphs(ascii: bool) -> Glyphs {
    if ascii {
        Glyphs {
            selected: ">",
            expanded: "-",
            collapsed: "+",
            ellipsis: "~",
            sep: "|",
            arrow: "->",
        }
    } else {
        Glyphs {
            selected: "▌",
            expanded: "▾",
            collapsed: "▸",
            ellipsis: "…",
            sep: "│",
            arrow: "→",
        }
    }
}
