//! The proposed-commands pane's data: one row per queued command, filled from the command
//! queue (src/command) when the planner or the operator proposes something.

use super::list::ListCursor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Risk {
    None,
    Low,
    Medium,
    High,
}

impl Risk {
    pub fn label(self) -> &'static str {
        match self {
            Risk::None => "none",
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "HIGH",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueStatus {
    Proposed,
    Approved,
    Executing,
    Done,
    Failed,
    Rejected,
    Stale,
    Invalid,
}

impl QueueStatus {
    pub fn label(self) -> &'static str {
        match self {
            QueueStatus::Proposed => "proposed",
            QueueStatus::Approved => "approved",
            QueueStatus::Executing => "executing",
            QueueStatus::Done => "done",
            QueueStatus::Failed => "failed",
            QueueStatus::Rejected => "rejected",
            QueueStatus::Stale => "stale",
            QueueStatus::Invalid => "invalid",
        }
    }

    /// Only a proposal waits for the operator.
    pub fn decidable(self) -> bool {
        self == QueueStatus::Proposed
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub id: u64,
    /// Command kind as on the wire (`retry_job`).
    pub kind: String,
    /// What it acts on (`job #4711`, `!42`).
    pub target: String,
    pub risk: Risk,
    pub status: QueueStatus,
    pub rationale: String,
    /// Who proposed it: `rules`, `gemini`, `operator`.
    pub source: String,
}

#[derive(Debug, Clone, Default)]
pub struct QueueView {
    pub items: Vec<QueueRow>,
    pub cursor: ListCursor,
}

impl QueueView {
    pub fn selected(&self) -> Option<&QueueRow> {
        self.items.get(self.cursor.selected)
    }

    /// Replaces the rows (the queue owner sends the whole list), keeping the selection on the
    /// same item.
    pub fn replace(&mut self, items: Vec<QueueRow>, height: usize) {
        let keep = self.selected().map(|r| r.id);
        self.items = items;
        if let Some(id) = keep
            && let Some(pos) = self.items.iter().position(|r| r.id == id)
        {
            self.cursor.selected = pos;
        }
        self.cursor.clamp(self.items.len(), height);
    }

    pub fn pending(&self) -> usize {
        self.items.iter().filter(|r| r.status.decidable()).count()
    }
}
