//! The proposed-commands pane's data: one row per item of the command queue (src/command),
//! rebuilt from `AppState::commands` after every transition.

use crate::command::{self, Queue};

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
    /// The target with its title (`!42 Fix login`, `job #11 rspec in pipeline 7001`).
    pub title: String,
    pub confidence: Option<f64>,
    /// Why it is invalid, stale, rejected or failed; the result when done.
    pub reason: Option<String>,
    /// Marked for bulk approval.
    pub marked: bool,
    /// Edited by the operator since it was proposed.
    pub edited: bool,
}

impl Risk {
    pub fn from_command(r: command::Risk) -> Risk {
        match r {
            command::Risk::None => Risk::None,
            command::Risk::Low => Risk::Low,
            command::Risk::Medium => Risk::Medium,
            command::Risk::High => Risk::High,
        }
    }
}

impl QueueStatus {
    pub fn from_command(s: command::Status) -> QueueStatus {
        match s {
            command::Status::Proposed => QueueStatus::Proposed,
            command::Status::Approved => QueueStatus::Approved,
            command::Status::Executing => QueueStatus::Executing,
            command::Status::Done => QueueStatus::Done,
            command::Status::Failed => QueueStatus::Failed,
            command::Status::Rejected => QueueStatus::Rejected,
            command::Status::Stale => QueueStatus::Stale,
            command::Status::Invalid => QueueStatus::Invalid,
        }
    }
}

/// One row per queue item, oldest first.
pub fn rows(q: &Queue) -> Vec<QueueRow> {
    q.items()
        .iter()
        .map(|i| QueueRow {
            id: i.id,
            kind: i.kind().as_str().to_string(),
            target: i.target().to_string(),
            risk: Risk::from_command(i.risk),
            status: QueueStatus::from_command(i.status),
            rationale: i.command.rationale().to_string(),
            source: i.source.as_str().to_string(),
            title: i.target_label.clone(),
            confidence: i.command.confidence(),
            reason: i.reason.clone(),
            marked: i.marked,
            edited: i.edited(),
        })
        .collect()
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

    pub fn marked(&self) -> usize {
        self.items.iter().filter(|r| r.marked).count()
    }

    pub fn pending(&self) -> usize {
        self.items.iter().filter(|r| r.status.decidable()).count()
    }
}
