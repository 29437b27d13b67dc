//! The proposed-commands pane's data: one row per item of the command queue (src/command),
//! rebuilt from `AppState::commands` after every transition.

use crate::command::{Queue, Risk, Status};

use super::list::ListCursor;

#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub id: u64,
    /// Command kind as on the wire (`retry_job`).
    pub kind: String,
    /// What it acts on (`job #4711`, `!42`).
    pub target: String,
    pub risk: Risk,
    pub status: Status,
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

/// One row per queue item, oldest first.
pub fn rows(q: &Queue) -> Vec<QueueRow> {
    q.items()
        .iter()
        .map(|i| QueueRow {
            id: i.id,
            kind: i.kind().as_str().to_string(),
            target: i.target().to_string(),
            risk: i.risk,
            status: i.status,
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

    /// Items waiting for the operator: only a proposal does.
    pub fn pending(&self) -> usize {
        self.items
            .iter()
            .filter(|r| r.status == Status::Proposed)
            .count()
    }
}
