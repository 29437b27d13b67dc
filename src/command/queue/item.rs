//! A queue item, its status and source, and the labels shown for it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ItemId;
use crate::command::model::{Command, Kind, Target};
use crate::command::risk::Risk;
use crate::gitlab::ProjectSnapshot;

/// Names as on the wire (serde) and on screen (strum): `proposed`, `executing`, ...
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    Proposed,
    Approved,
    Executing,
    Done,
    Failed,
    Rejected,
    Stale,
    Invalid,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Nothing further happens to the item.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Done | Status::Failed | Status::Rejected)
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Source {
    /// The LLM planner.
    Planner,
    /// Made by hand from the palette.
    Operator,
    /// The offline rules planner or the diagnoser's proposals.
    Rules,
    /// A plan file given to `apply`.
    PlanFile,
    /// Left waiting by an earlier session, read back from the audit log.
    Restored,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueItem {
    pub id: ItemId,
    /// The command as it stands (after the operator's edits).
    pub command: Command,
    /// The command as proposed.
    pub original: Command,
    pub risk: Risk,
    pub status: Status,
    pub source: Source,
    /// Why the item is invalid, stale, rejected or failed; the result summary when done.
    pub reason: Option<String>,
    /// The target with its title (`!42 Fix login`, `job 11 rspec`), for display.
    pub target_label: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub marked: bool,
    /// Who approved it (`user@host`, or `policy` when auto-approved).
    pub approved_by: Option<String>,
    /// Retry-budget key, for retries.
    pub(super) budget_key: Option<String>,
    /// `command.identity()`, kept with the command (de-duplication compares it often).
    pub(super) identity: String,
    /// A high-risk approval is waiting for the second confirmation.
    pub awaiting_confirmation: bool,
}

impl QueueItem {
    pub fn kind(&self) -> Kind {
        self.command.kind()
    }

    pub fn target(&self) -> Target {
        self.command.target()
    }

    pub fn edited(&self) -> bool {
        self.command != self.original
    }

    /// What the operator must type (or confirm) for a high-risk command: `merge !42`.
    pub fn confirmation_phrase(&self) -> String {
        confirmation_phrase(&self.command)
    }
}

pub fn confirmation_phrase(cmd: &Command) -> String {
    let verb = match cmd.kind() {
        Kind::Note => "note",
        Kind::CommentMr => "comment",
        Kind::SetLabels => "label",
        Kind::RetryJob | Kind::RetryPipeline => "retry",
        Kind::AssignReviewers => "reviewers",
        Kind::CancelPipeline => "cancel",
        Kind::PlayJob => "play",
        Kind::RebaseMr => "rebase",
        Kind::MergeMr => "merge",
    };
    format!("{verb} {}", cmd.target())
}

/// The target and what it is called, from the snapshot.
pub fn target_label(cmd: &Command, snap: &ProjectSnapshot) -> String {
    let t = cmd.target();
    let title = match t {
        Target::Project => Some(snap.path().to_string()),
        Target::Mr(iid) => snap.mr(iid).map(|m| m.title.clone()),
        Target::Job(id) => snap.job(id).map(|j| {
            let p = j
                .pipeline_id()
                .map(|p| format!(" in pipeline {p}"))
                .unwrap_or_default();
            format!("{}{p}", j.name)
        }),
        Target::Pipeline(id) => snap
            .pipeline(id)
            .map(|p| p.git_ref.clone().unwrap_or_default()),
    };
    match title.filter(|s| !s.is_empty()) {
        Some(s) => format!("{t} {}", clip(&s, 60)),
        None => t.to_string(),
    }
}

fn clip(s: &str, max: usize) -> String {
    crate::text::clip(s, max).into_owned()
}

/// Retries of the same thing share a budget: a retried job comes back with a new id, so jobs are
/// keyed by pipeline and name.
pub(super) fn budget_key(cmd: &Command, snap: &ProjectSnapshot) -> Option<String> {
    match cmd {
        Command::RetryJob { job_id, .. } => Some(match snap.job(*job_id) {
            Some(j) => format!(
                "job {} in pipeline {}",
                j.name,
                j.pipeline_id().unwrap_or_default()
            ),
            None => format!("job {job_id}"),
        }),
        Command::RetryPipeline { pipeline_id, .. } => Some(format!("pipeline {pipeline_id}")),
        _ => None,
    }
}
