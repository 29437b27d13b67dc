//! What the queue's transitions return: refusals, proposal and approval results, the bulk
//! preview, the executor's ticket and how an execution ended.

use super::ItemId;
use super::item::Status;
use crate::command::model::Command;
use crate::command::risk::Risk;

/// Why a transition did not happen. The item is unchanged unless said otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueError {
    NoSuchItem(ItemId),
    /// The item's status does not allow this (approving twice, editing while executing, ...).
    WrongStatus {
        id: ItemId,
        status: Status,
        action: &'static str,
    },
    /// Policy, read-only, de-duplication or the retry budget refused; the reason is also on the
    /// item and in the audit log.
    Refused {
        id: ItemId,
        reason: String,
    },
    /// The edit could not be read or applied.
    BadEdit(String),
}

impl std::fmt::Display for QueueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueueError::NoSuchItem(id) => write!(f, "no queue item #{id}"),
            QueueError::WrongStatus { id, status, action } => {
                write!(f, "#{id} is {status}: cannot {action}")
            }
            QueueError::Refused { id, reason } => write!(f, "#{id} refused: {reason}"),
            QueueError::BadEdit(e) => write!(f, "edit: {e}"),
        }
    }
}

impl std::error::Error for QueueError {}

/// What `propose` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proposed {
    /// A new item, in the given status (proposed, approved by policy, invalid or rejected).
    New(ItemId, Status),
    /// The same command is already in the queue; nothing was added.
    Duplicate(ItemId),
}

impl Proposed {
    pub fn id(&self) -> ItemId {
        match self {
            Proposed::New(id, _) | Proposed::Duplicate(id) => *id,
        }
    }
}

/// What `approve`/`confirm` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    /// Approved; `start` hands it to the executor.
    Approved,
    /// A note: acknowledged, nothing to execute.
    Acknowledged,
    /// High risk: ask again, naming the target (`phrase`), default No; then `confirm`.
    NeedsConfirmation { phrase: String },
}

/// The marked items, sorted into what one bulk approval would do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulkPreview {
    /// Low and medium risk, ready: (id, "retry_job job 11 rspec (low)").
    pub approve: Vec<(ItemId, String)>,
    /// High risk: never bulk-approved, each needs its own confirmation.
    pub needs_confirmation: Vec<(ItemId, String)>,
    /// Not approvable (wrong status, policy): (id, reason).
    pub skipped: Vec<(ItemId, String)>,
}

/// An approved command handed to the executor; produced once per item by `start`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub item: ItemId,
    pub command: Command,
    pub risk: Risk,
    pub operator: String,
    pub session: String,
}

/// How an execution ended, reported back with `finish`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// GitLab accepted it; the short response summary.
    Done(String),
    /// Sent and failed (GitLab's status and message), or could not be sent.
    Failed(String),
    /// Refused before sending: preconditions no longer hold.
    Stale(String),
}
