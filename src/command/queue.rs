//! The approval queue: pure state and transitions, no IO.
//!
//! Every command, whoever proposed it, passes through here: validation, policy, the operator's
//! decision (with a second, target-naming confirmation for high risk), then exactly one
//! execution. Transitions leave audit records in an outbox (`drain_records`) that the caller
//! writes, and syncs, before it shows the result.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::gitlab::ProjectSnapshot;

use super::audit::{AuditEvent, AuditRecord, RecordHeader, command_value};
use super::model::{Command, Kind, Target};
use super::policy::Policy;
use super::risk::{Risk, risk};
use super::validate::validate;

pub type ItemId = u64;

/// Executions allowed per retry target (a job by pipeline and name, a pipeline) per session:
/// stops retry loops on a job that keeps failing.
pub const DEFAULT_RETRY_BUDGET: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
        match self {
            Status::Proposed => "proposed",
            Status::Approved => "approved",
            Status::Executing => "executing",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Rejected => "rejected",
            Status::Stale => "stale",
            Status::Invalid => "invalid",
        }
    }

    /// Nothing further happens to the item.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Done | Status::Failed | Status::Rejected)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
        match self {
            Source::Planner => "planner",
            Source::Operator => "operator",
            Source::Rules => "rules",
            Source::PlanFile => "plan_file",
            Source::Restored => "restored",
        }
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
    budget_key: Option<String>,
    /// `command.identity()`, kept with the command (de-duplication compares it often).
    identity: String,
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
fn budget_key(cmd: &Command, snap: &ProjectSnapshot) -> Option<String> {
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

/// An edit of the editable fields, from the editor.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// comment_mr body.
    Body(String),
    /// set_labels lists.
    Labels {
        add: Vec<String>,
        remove: Vec<String>,
    },
    /// assign_reviewers usernames.
    Reviewers(Vec<String>),
}

impl Edit {
    /// The text an editor starts with for `cmd`, or `None` when nothing is editable.
    pub fn initial_text(cmd: &Command) -> Option<String> {
        match cmd {
            Command::CommentMr { body, .. } => Some(body.clone()),
            Command::SetLabels { add, remove, .. } => Some(format!(
                "add: {}\nremove: {}",
                add.join(", "),
                remove.join(", ")
            )),
            Command::AssignReviewers { reviewers, .. } => Some(reviewers.join(", ")),
            _ => None,
        }
    }

    /// Parses the editor's text back for `cmd`'s kind (the inverse of `initial_text`).
    pub fn from_text(cmd: &Command, text: &str) -> Result<Edit, String> {
        let list = |s: &str| -> Vec<String> {
            s.split([',', '\n'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        };
        match cmd {
            Command::CommentMr { .. } => Ok(Edit::Body(text.to_string())),
            Command::AssignReviewers { .. } => Ok(Edit::Reviewers(
                text.split([',', '\n', ' '])
                    .map(|s| s.trim().trim_start_matches('@'))
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
            )),
            Command::SetLabels { .. } => {
                let (mut add, mut remove) = (Vec::new(), Vec::new());
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    let (key, rest) = line.split_once(':').ok_or_else(|| {
                        format!("expected \"add: a, b\" or \"remove: c\", found \"{line}\"")
                    })?;
                    match key.trim() {
                        "add" => add.extend(list(rest)),
                        "remove" => remove.extend(list(rest)),
                        other => {
                            return Err(format!(
                                "unknown line \"{other}:\"; use \"add:\" or \"remove:\""
                            ));
                        }
                    }
                }
                Ok(Edit::Labels { add, remove })
            }
            other => Err(format!("{} has no editable fields", other.kind())),
        }
    }

    fn apply(&self, cmd: &Command) -> Result<Command, String> {
        let mut c = cmd.clone();
        match (self, &mut c) {
            (Edit::Body(b), Command::CommentMr { body, .. }) => *body = b.clone(),
            (Edit::Labels { add: a, remove: r }, Command::SetLabels { add, remove, .. }) => {
                *add = a.clone();
                *remove = r.clone();
            }
            (Edit::Reviewers(rv), Command::AssignReviewers { reviewers, .. }) => {
                *reviewers = rv.clone()
            }
            _ => return Err(format!("this edit does not apply to {}", cmd.kind())),
        }
        Ok(c)
    }
}

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

/// Cloned with the UI state (tests snapshot it); the outbox travels with it.
#[derive(Debug, Clone)]
pub struct Queue {
    items: Vec<QueueItem>,
    next_id: ItemId,
    policy: Policy,
    operator: String,
    session: String,
    /// Identities of commands executing or done, with where that happened.
    executed: BTreeMap<String, String>,
    budget_used: BTreeMap<String, u32>,
    retry_budget: u32,
    outbox: Vec<AuditRecord>,
}

impl Queue {
    pub fn new(policy: Policy, operator: impl Into<String>, session: impl Into<String>) -> Queue {
        Queue {
            items: Vec::new(),
            next_id: 1,
            policy,
            operator: operator.into(),
            session: session.into(),
            executed: BTreeMap::new(),
            budget_used: BTreeMap::new(),
            retry_budget: DEFAULT_RETRY_BUDGET,
            outbox: Vec::new(),
        }
    }

    pub fn with_retry_budget(mut self, budget: u32) -> Queue {
        self.retry_budget = budget;
        self
    }

    /// Commands already done in an earlier session (from the audit log): never run again.
    pub fn remember_done(&mut self, identity: String, when: &str) {
        self.executed
            .entry(identity)
            .or_insert_with(|| format!("done at {when} (audit log)"));
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// `:readonly` mid-session: nothing more may execute (approved items are refused at start).
    pub fn set_read_only(&mut self) {
        self.policy.read_only = true;
    }

    pub fn operator(&self) -> &str {
        &self.operator
    }

    pub fn session(&self) -> &str {
        &self.session
    }

    pub fn items(&self) -> &[QueueItem] {
        &self.items
    }

    pub fn get(&self, id: ItemId) -> Option<&QueueItem> {
        self.items.iter().find(|i| i.id == id)
    }

    fn item_mut(&mut self, id: ItemId) -> Result<&mut QueueItem, QueueError> {
        self.items
            .iter_mut()
            .find(|i| i.id == id)
            .ok_or(QueueError::NoSuchItem(id))
    }

    /// Audit records produced since the last call, oldest first. Write them (and sync) before
    /// showing the transition's result.
    pub fn drain_records(&mut self) -> Vec<AuditRecord> {
        std::mem::take(&mut self.outbox)
    }

    /// Approved items, oldest first, ready for `start`.
    pub fn startable(&self) -> Vec<ItemId> {
        self.items
            .iter()
            .filter(|i| i.status == Status::Approved)
            .map(|i| i.id)
            .collect()
    }

    /// Adds a command: validated against `snap`, checked against policy, de-duplicated.
    pub fn propose(
        &mut self,
        cmd: Command,
        source: Source,
        snap: &ProjectSnapshot,
        now: Timestamp,
    ) -> Proposed {
        let identity = cmd.identity();
        // The same command already here (and not failed): never a second item. An invalid or
        // stale twin is re-checked, since the state it failed on may have changed.
        if let Some(existing) = self
            .items
            .iter()
            .rev()
            .find(|i| i.identity == identity && i.status != Status::Failed)
            .map(|i| i.id)
        {
            let status = self.get(existing).map(|i| i.status);
            if matches!(status, Some(Status::Invalid | Status::Stale)) {
                self.recheck(existing, snap, now);
            }
            return Proposed::Duplicate(existing);
        }
        let id = self.next_id;
        self.next_id += 1;
        let r = risk(&cmd, snap);
        let (mut status, mut reason) = (Status::Proposed, None);
        if let Some(when) = self.executed.get(&identity) {
            status = Status::Rejected;
            reason = Some(format!("already executed: {when}"));
        } else if let Err(why) = self.policy.admits(cmd.kind()) {
            status = Status::Rejected;
            reason = Some(why);
        } else if let Err(errs) = validate(&cmd, snap) {
            status = Status::Invalid;
            reason = Some(errs.join("; "));
        }
        let item = QueueItem {
            id,
            original: cmd.clone(),
            target_label: target_label(&cmd, snap),
            budget_key: budget_key(&cmd, snap),
            identity: identity.clone(),
            command: cmd,
            risk: r,
            status,
            source,
            reason,
            created_at: now,
            updated_at: now,
            marked: false,
            approved_by: None,
            awaiting_confirmation: false,
        };
        let rec = self.header(&item, now).with(AuditEvent::Proposal {
            source: source.as_str().into(),
            risk: r,
            status: status.as_str().into(),
            reason: item.reason.clone(),
            command: command_value(&item.command),
        });
        self.outbox.push(rec);
        self.items.push(item);
        if status == Status::Proposed
            && self
                .policy
                .auto_approves(self.items[self.items.len() - 1].kind(), r)
        {
            self.set_approved(id, "policy", "auto_approve", now);
            return Proposed::New(id, Status::Approved);
        }
        Proposed::New(id, status)
    }

    /// The operator approves. Low and medium risk become approved; high risk asks for the
    /// second confirmation first. Approving twice is an error and changes nothing.
    pub fn approve(&mut self, id: ItemId, now: Timestamp) -> Result<Approval, QueueError> {
        let item = self.get(id).ok_or(QueueError::NoSuchItem(id))?;
        if item.status != Status::Proposed {
            return Err(QueueError::WrongStatus {
                id,
                status: item.status,
                action: "approve",
            });
        }
        self.check_may_run(id, now)?;
        let item = self.item_mut(id)?;
        if item.kind() == Kind::Note {
            item.status = Status::Done;
            item.reason = Some("acknowledged (no GitLab call)".into());
            item.updated_at = now;
            let op = self.operator.clone();
            self.push_decision(id, &op, "approve", Some("acknowledged".into()), now);
            return Ok(Approval::Acknowledged);
        }
        if item.risk == Risk::High {
            item.awaiting_confirmation = true;
            return Ok(Approval::NeedsConfirmation {
                phrase: item.confirmation_phrase(),
            });
        }
        let op = self.operator.clone();
        self.set_approved(id, &op, "approve", now);
        Ok(Approval::Approved)
    }

    /// The second confirmation of a high-risk approval: `typed` must name the target
    /// (`merge !42`, case and surrounding spaces ignored). Anything else declines it: the item
    /// stays proposed and the refusal is recorded.
    pub fn confirm(
        &mut self,
        id: ItemId,
        typed: &str,
        now: Timestamp,
    ) -> Result<Approval, QueueError> {
        let item = self.get(id).ok_or(QueueError::NoSuchItem(id))?;
        if item.status != Status::Proposed || !item.awaiting_confirmation {
            return Err(QueueError::WrongStatus {
                id,
                status: item.status,
                action: "confirm (approve it first)",
            });
        }
        let phrase = item.confirmation_phrase();
        let matches = normalize(typed) == normalize(&phrase);
        if !matches {
            return Err(self.decline(id, &format!("confirmation did not name \"{phrase}\""), now));
        }
        self.check_may_run(id, now)?;
        let op = self.operator.clone();
        self.set_approved(id, &op, "confirm", now);
        Ok(Approval::Approved)
    }

    /// The operator answered No (or nothing) to the second confirmation.
    pub fn decline_confirmation(&mut self, id: ItemId, now: Timestamp) -> Result<(), QueueError> {
        let item = self.get(id).ok_or(QueueError::NoSuchItem(id))?;
        if !item.awaiting_confirmation {
            return Err(QueueError::WrongStatus {
                id,
                status: item.status,
                action: "decline a confirmation that was not asked",
            });
        }
        self.decline(id, "second confirmation declined", now);
        Ok(())
    }

    fn decline(&mut self, id: ItemId, reason: &str, now: Timestamp) -> QueueError {
        if let Ok(item) = self.item_mut(id) {
            item.awaiting_confirmation = false;
            item.reason = Some(reason.to_string());
            item.updated_at = now;
        }
        let op = self.operator.clone();
        self.push_decision(id, &op, "decline", Some(reason.to_string()), now);
        QueueError::Refused {
            id,
            reason: reason.to_string(),
        }
    }

    /// Rejects a proposed (or approved, not yet started) item, with an optional reason.
    pub fn reject(
        &mut self,
        id: ItemId,
        reason: Option<String>,
        now: Timestamp,
    ) -> Result<(), QueueError> {
        let item = self.item_mut(id)?;
        if !matches!(
            item.status,
            Status::Proposed | Status::Approved | Status::Invalid | Status::Stale
        ) {
            return Err(QueueError::WrongStatus {
                id,
                status: item.status,
                action: "reject",
            });
        }
        let reason = reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        item.status = Status::Rejected;
        item.awaiting_confirmation = false;
        item.reason = Some(match &reason {
            Some(r) => format!("rejected by operator: {r}"),
            None => "rejected by operator".into(),
        });
        item.updated_at = now;
        let op = self.operator.clone();
        self.push_decision(id, &op, "reject", reason, now);
        Ok(())
    }

    /// Refuses a proposed item for a reason outside the operator's choice (no terminal to
    /// confirm on, policy): it becomes rejected, with the reason on the item and in the log.
    pub fn refuse(&mut self, id: ItemId, reason: &str, now: Timestamp) -> Result<(), QueueError> {
        let item = self.item_mut(id)?;
        if item.status != Status::Proposed {
            return Err(QueueError::WrongStatus {
                id,
                status: item.status,
                action: "refuse",
            });
        }
        item.status = Status::Rejected;
        item.awaiting_confirmation = false;
        item.reason = Some(format!("refused: {reason}"));
        item.updated_at = now;
        let op = self.operator.clone();
        self.push_decision(id, &op, "refuse", Some(reason.to_string()), now);
        Ok(())
    }

    /// Applies an edit of the editable fields and re-validates: the item becomes proposed or
    /// invalid. The original stays on the item for the audit log.
    pub fn edit(
        &mut self,
        id: ItemId,
        edit: &Edit,
        snap: &ProjectSnapshot,
        now: Timestamp,
    ) -> Result<Status, QueueError> {
        let item = self.get(id).ok_or(QueueError::NoSuchItem(id))?;
        if !matches!(
            item.status,
            Status::Proposed | Status::Invalid | Status::Stale
        ) {
            return Err(QueueError::WrongStatus {
                id,
                status: item.status,
                action: "edit",
            });
        }
        let edited = edit.apply(&item.command).map_err(QueueError::BadEdit)?;
        let identity = edited.identity();
        let twin = self
            .items
            .iter()
            .find(|i| i.id != id && i.identity == identity && i.status != Status::Failed)
            .map(|i| i.id);
        let (status, reason) = if let Some(t) = twin {
            (Status::Invalid, Some(format!("same command as #{t}")))
        } else if let Some(when) = self.executed.get(&identity) {
            (Status::Invalid, Some(format!("already executed: {when}")))
        } else {
            match validate(&edited, snap) {
                Ok(()) => (Status::Proposed, None),
                Err(errs) => (Status::Invalid, Some(errs.join("; "))),
            }
        };
        let item = self.item_mut(id)?;
        item.risk = risk(&edited, snap);
        item.command = edited;
        item.identity = identity;
        item.status = status;
        item.reason = reason.clone();
        item.awaiting_confirmation = false;
        item.updated_at = now;
        let op = self.operator.clone();
        self.push_decision(id, &op, "edit", reason, now);
        Ok(status)
    }

    pub fn toggle_mark(&mut self, id: ItemId) -> Result<bool, QueueError> {
        let item = self.item_mut(id)?;
        item.marked = !item.marked;
        Ok(item.marked)
    }

    pub fn clear_marks(&mut self) {
        self.items.iter_mut().for_each(|i| i.marked = false);
    }

    /// What approving the marked items would do, listing every target, for the operator to
    /// read before saying yes.
    pub fn bulk_preview(&self) -> BulkPreview {
        let mut p = BulkPreview::default();
        for i in self.items.iter().filter(|i| i.marked) {
            let line = format!("{} {} ({})", i.kind(), i.target_label, i.risk);
            if i.status != Status::Proposed {
                p.skipped.push((i.id, format!("{line}: is {}", i.status)));
            } else if let Err(why) = self.policy.may_execute(i.kind()) {
                p.skipped.push((i.id, format!("{line}: {why}")));
            } else if i.risk == Risk::High {
                p.needs_confirmation.push((i.id, line));
            } else {
                p.approve.push((i.id, line));
            }
        }
        p
    }

    /// Approves the low and medium risk marked items (the preview's `approve` list) and clears
    /// their marks. High-risk items stay marked and proposed.
    pub fn approve_marked(
        &mut self,
        now: Timestamp,
    ) -> Vec<(ItemId, Result<Approval, QueueError>)> {
        let ids: Vec<ItemId> = self
            .bulk_preview()
            .approve
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mut out = Vec::new();
        for id in ids {
            let r = self.approve(id, now);
            if let Ok(item) = self.item_mut(id) {
                item.marked = false;
            }
            out.push((id, r));
        }
        out
    }

    /// Hands an approved item to the executor, exactly once: it becomes executing, and its
    /// identity is taken so no twin can run.
    pub fn start(&mut self, id: ItemId, now: Timestamp) -> Result<Ticket, QueueError> {
        let item = self.get(id).ok_or(QueueError::NoSuchItem(id))?;
        if item.status != Status::Approved {
            return Err(QueueError::WrongStatus {
                id,
                status: item.status,
                action: "execute",
            });
        }
        self.check_may_run(id, now)?;
        let item = self.item_mut(id)?;
        item.status = Status::Executing;
        item.updated_at = now;
        let ticket = Ticket {
            item: id,
            command: item.command.clone(),
            risk: item.risk,
            operator: String::new(),
            session: String::new(),
        };
        let key = item.budget_key.clone();
        let identity = item.identity.clone();
        self.executed
            .insert(identity, format!("#{id} in this session"));
        if let Some(k) = key {
            *self.budget_used.entry(k).or_default() += 1;
        }
        // The execution is recorded under the session's operator; who approved it (a person or
        // the policy) is in the decision record.
        Ok(Ticket {
            session: self.session.clone(),
            operator: self.operator.clone(),
            ..ticket
        })
    }

    /// Records how the execution ended. The executor has already written the execution record.
    pub fn finish(&mut self, id: ItemId, result: Finish, now: Timestamp) -> Result<(), QueueError> {
        let item = self.item_mut(id)?;
        if item.status != Status::Executing {
            return Err(QueueError::WrongStatus {
                id,
                status: item.status,
                action: "finish",
            });
        }
        let identity = item.identity.clone();
        let key = item.budget_key.clone();
        let (status, reason, sent) = match result {
            Finish::Done(s) => (Status::Done, s, true),
            Finish::Failed(s) => (Status::Failed, s, true),
            Finish::Stale(s) => (Status::Stale, s, false),
        };
        item.status = status;
        item.reason = Some(reason);
        item.updated_at = now;
        if status != Status::Done {
            // Not done: a later proposal may try again (with a new approval).
            self.executed.remove(&identity);
        }
        if !sent && let Some(k) = key {
            // Nothing was sent: the budget is not spent.
            if let Some(n) = self.budget_used.get_mut(&k) {
                *n = n.saturating_sub(1);
            }
        }
        Ok(())
    }

    /// Re-checks proposed, approved, stale and invalid items against a newer snapshot: what no longer
    /// holds becomes stale (approved ones need a new approval), what holds again is proposed.
    pub fn revalidate(&mut self, snap: &ProjectSnapshot, now: Timestamp) {
        let ids: Vec<ItemId> = self
            .items
            .iter()
            .filter(|i| {
                matches!(
                    i.status,
                    Status::Proposed | Status::Approved | Status::Stale | Status::Invalid
                )
            })
            .map(|i| i.id)
            .collect();
        for id in ids {
            self.recheck(id, snap, now);
        }
    }

    fn recheck(&mut self, id: ItemId, snap: &ProjectSnapshot, now: Timestamp) {
        let Ok(item) = self.item_mut(id) else { return };
        let result = validate(&item.command, snap);
        item.risk = risk(&item.command, snap);
        item.target_label = target_label(&item.command, snap);
        match (item.status, result) {
            (Status::Proposed | Status::Approved, Err(errs)) => {
                item.status = Status::Stale;
                item.reason = Some(errs.join("; "));
                item.awaiting_confirmation = false;
                item.approved_by = None;
                item.updated_at = now;
            }
            (Status::Stale | Status::Invalid, Ok(())) => {
                item.status = Status::Proposed;
                item.reason = None;
                item.updated_at = now;
            }
            (Status::Stale | Status::Invalid, Err(errs)) => {
                item.reason = Some(errs.join("; "));
            }
            _ => {}
        }
    }

    /// Policy, de-duplication and the retry budget; a refusal is written on the item and in the
    /// audit log.
    fn check_may_run(&mut self, id: ItemId, now: Timestamp) -> Result<(), QueueError> {
        let item = self.get(id).ok_or(QueueError::NoSuchItem(id))?;
        let refusal = if let Err(why) = self.policy.may_execute(item.kind()) {
            Some((why, false))
        } else if let Some(when) = self.executed.get(&item.identity) {
            Some((format!("already executed: {when}"), true))
        } else if let Some(k) = &item.budget_key
            && self.budget_used.get(k).copied().unwrap_or(0) >= self.retry_budget
        {
            Some((
                format!(
                    "retry budget for {k} is spent ({} of {})",
                    self.retry_budget, self.retry_budget
                ),
                true,
            ))
        } else {
            None
        };
        let Some((reason, final_)) = refusal else {
            return Ok(());
        };
        let item = self.item_mut(id)?;
        if final_ {
            item.status = Status::Rejected;
        }
        item.awaiting_confirmation = false;
        item.reason = Some(format!("refused: {reason}"));
        item.updated_at = now;
        let op = self.operator.clone();
        self.push_decision(id, &op, "refuse", Some(reason.clone()), now);
        Err(QueueError::Refused { id, reason })
    }

    fn set_approved(&mut self, id: ItemId, by: &str, decision: &str, now: Timestamp) {
        if let Ok(item) = self.item_mut(id) {
            item.status = Status::Approved;
            item.awaiting_confirmation = false;
            item.approved_by = Some(by.to_string());
            item.reason = None;
            item.updated_at = now;
        }
        self.push_decision(id, by, decision, None, now);
    }

    fn push_decision(
        &mut self,
        id: ItemId,
        operator: &str,
        decision: &str,
        reason: Option<String>,
        now: Timestamp,
    ) {
        let Some(item) = self.get(id) else { return };
        let rec = self.header(item, now).with(AuditEvent::Decision {
            operator: operator.to_string(),
            decision: decision.to_string(),
            reason,
            original: command_value(&item.original),
            command: command_value(&item.command),
        });
        self.outbox.push(rec);
    }

    fn header(&self, item: &QueueItem, now: Timestamp) -> RecordHeader {
        RecordHeader::for_command(now, &self.session, item.id, &item.command)
    }
}

fn normalize(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::policy::PolicySection;
    use crate::command::validate::tests::snap;
    use crate::gitlab::Status as GlStatus;
    use serde_json::json;

    fn now() -> Timestamp {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    fn q() -> Queue {
        Queue::new(Policy::default(), "op@host", "sess")
    }

    fn c(v: serde_json::Value) -> Command {
        serde_json::from_value(v).unwrap()
    }

    fn retry(job: u64) -> Command {
        c(json!({"kind": "retry_job", "project": "g/app", "job_id": job, "rationale": "flaky"}))
    }

    fn merge42() -> Command {
        c(json!({"kind": "merge_mr", "project": "g/app", "mr_iid": 42,
            "sha": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "rationale": "green"}))
    }

    fn decisions(q: &mut Queue) -> Vec<String> {
        q.drain_records()
            .into_iter()
            .filter_map(|r| match r.event {
                AuditEvent::Decision { decision, .. } => Some(decision),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn propose_validates_and_records() {
        let mut q = q();
        let s = snap();
        let ok = q.propose(retry(11), Source::Planner, &s, now());
        assert_eq!(ok, Proposed::New(1, Status::Proposed));
        let bad = q.propose(retry(12), Source::Planner, &s, now());
        assert_eq!(bad, Proposed::New(2, Status::Invalid));
        assert_eq!(
            q.get(2).unwrap().reason.as_deref(),
            Some("job 12 is already running")
        );
        assert_eq!(
            q.get(1).unwrap().target_label,
            "job 11 rspec in pipeline 100"
        );
        let recs = q.drain_records();
        assert_eq!(recs.len(), 2);
        assert!(recs.iter().all(|r| r.event_name() == "proposal"));
    }

    #[test]
    fn approve_start_finish_happy_path() {
        let mut q = q();
        let s = snap();
        let id = q.propose(retry(11), Source::Planner, &s, now()).id();
        assert_eq!(q.approve(id, now()), Ok(Approval::Approved));
        assert_eq!(q.get(id).unwrap().approved_by.as_deref(), Some("op@host"));
        assert_eq!(q.startable(), vec![id]);
        let t = q.start(id, now()).unwrap();
        assert_eq!(t.command, retry(11));
        assert_eq!(t.operator, "op@host");
        assert_eq!(t.session, "sess");
        assert_eq!(q.get(id).unwrap().status, Status::Executing);
        q.finish(id, Finish::Done("201: job 99 created".into()), now())
            .unwrap();
        let item = q.get(id).unwrap();
        assert_eq!(item.status, Status::Done);
        assert_eq!(item.reason.as_deref(), Some("201: job 99 created"));
    }

    #[test]
    fn double_approval_and_double_start_change_nothing() {
        let mut q = q();
        let id = q.propose(retry(11), Source::Planner, &snap(), now()).id();
        q.approve(id, now()).unwrap();
        assert!(matches!(
            q.approve(id, now()),
            Err(QueueError::WrongStatus { .. })
        ));
        q.start(id, now()).unwrap();
        assert!(matches!(
            q.start(id, now()),
            Err(QueueError::WrongStatus { .. })
        ));
        assert!(matches!(
            q.approve(id, now()),
            Err(QueueError::WrongStatus { .. })
        ));
    }

    #[test]
    fn the_same_command_never_executes_twice() {
        let mut q = q();
        let s = snap();
        let id = q.propose(retry(11), Source::Planner, &s, now()).id();
        // Re-proposal while it is pending: no new item.
        assert_eq!(
            q.propose(retry(11), Source::Rules, &s, now()),
            Proposed::Duplicate(id)
        );
        q.approve(id, now()).unwrap();
        q.start(id, now()).unwrap();
        q.finish(id, Finish::Done("ok".into()), now()).unwrap();
        // Re-proposal of something done: still the same item.
        assert_eq!(
            q.propose(retry(11), Source::Planner, &s, now()),
            Proposed::Duplicate(id)
        );
        // A different rationale is the same command.
        let mut other = retry(11);
        if let Command::RetryJob { rationale, .. } = &mut other {
            *rationale = "again".into();
        }
        assert_eq!(
            q.propose(other, Source::Planner, &s, now()),
            Proposed::Duplicate(id)
        );
    }

    #[test]
    fn remembered_executions_are_refused() {
        let mut q = q();
        q.remember_done(retry(11).identity(), "2026-03-01T11:00:00Z");
        let p = q.propose(retry(11), Source::PlanFile, &snap(), now());
        assert_eq!(p, Proposed::New(1, Status::Rejected));
        assert!(
            q.get(1)
                .unwrap()
                .reason
                .as_deref()
                .unwrap()
                .contains("already executed")
        );
    }

    #[test]
    fn failed_commands_may_be_proposed_again_within_the_retry_budget() {
        let mut q = q().with_retry_budget(1);
        let s = snap();
        let id = q.propose(retry(11), Source::Planner, &s, now()).id();
        q.approve(id, now()).unwrap();
        q.start(id, now()).unwrap();
        q.finish(id, Finish::Failed("500 from gitlab".into()), now())
            .unwrap();
        let again = q.propose(retry(11), Source::Planner, &s, now());
        assert_eq!(again, Proposed::New(2, Status::Proposed));
        let e = q.approve(2, now()).unwrap_err();
        assert!(
            matches!(&e, QueueError::Refused { reason, .. } if reason.contains("retry budget")),
            "{e}"
        );
        assert_eq!(q.get(2).unwrap().status, Status::Rejected);
        assert!(decisions(&mut q).contains(&"refuse".to_string()));
    }

    #[test]
    fn stale_executions_do_not_spend_the_budget() {
        let mut q = q().with_retry_budget(1);
        let s = snap();
        let id = q.propose(retry(11), Source::Planner, &s, now()).id();
        q.approve(id, now()).unwrap();
        q.start(id, now()).unwrap();
        q.finish(id, Finish::Stale("job 11 is already running".into()), now())
            .unwrap();
        assert_eq!(q.get(id).unwrap().status, Status::Stale);
        // Stale twin is re-checked on re-proposal: it holds on this snapshot again.
        assert_eq!(
            q.propose(retry(11), Source::Planner, &s, now()),
            Proposed::Duplicate(id)
        );
        assert_eq!(q.get(id).unwrap().status, Status::Proposed);
        assert_eq!(q.approve(id, now()), Ok(Approval::Approved));
    }

    #[test]
    fn reject_with_and_without_reason() {
        let mut q = q();
        let s = snap();
        let a = q.propose(retry(11), Source::Planner, &s, now()).id();
        let b = q
            .propose(
                c(
                    json!({"kind": "rebase_mr", "project": "g/app", "mr_iid": 42,
            "rationale": "r"}),
                ),
                Source::Planner,
                &s,
                now(),
            )
            .id();
        q.drain_records();
        q.reject(a, Some("  not flaky ".into()), now()).unwrap();
        q.reject(b, None, now()).unwrap();
        assert_eq!(
            q.get(a).unwrap().reason.as_deref(),
            Some("rejected by operator: not flaky")
        );
        assert_eq!(q.get(b).unwrap().status, Status::Rejected);
        assert!(matches!(
            q.approve(a, now()),
            Err(QueueError::WrongStatus { .. })
        ));
        assert!(matches!(
            q.reject(a, None, now()),
            Err(QueueError::WrongStatus { .. })
        ));
        let recs = q.drain_records();
        assert_eq!(recs.len(), 2);
        match &recs[0].event {
            AuditEvent::Decision {
                decision,
                reason,
                operator,
                ..
            } => {
                assert_eq!(decision, "reject");
                assert_eq!(reason.as_deref(), Some("not flaky"));
                assert_eq!(operator, "op@host");
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn high_risk_needs_a_confirmation_naming_the_target() {
        let mut q = q();
        let s = snap();
        let id = q.propose(merge42(), Source::Planner, &s, now()).id();
        assert_eq!(q.get(id).unwrap().risk, Risk::High);
        let a = q.approve(id, now()).unwrap();
        assert_eq!(
            a,
            Approval::NeedsConfirmation {
                phrase: "merge !42".into()
            }
        );
        assert_eq!(
            q.get(id).unwrap().status,
            Status::Proposed,
            "not approved yet"
        );
        assert!(q.start(id, now()).is_err());
        // Wrong phrase: declined, stays proposed, recorded.
        assert!(matches!(
            q.confirm(id, "merge !43", now()),
            Err(QueueError::Refused { .. })
        ));
        assert_eq!(q.get(id).unwrap().status, Status::Proposed);
        assert!(
            matches!(
                q.confirm(id, "merge !42", now()),
                Err(QueueError::WrongStatus { .. })
            ),
            "a new approve is needed after a decline"
        );
        q.approve(id, now()).unwrap();
        q.decline_confirmation(id, now()).unwrap();
        assert_eq!(q.get(id).unwrap().status, Status::Proposed);
        q.approve(id, now()).unwrap();
        assert_eq!(
            q.confirm(id, "  Merge   !42 ", now()),
            Ok(Approval::Approved)
        );
        assert_eq!(q.get(id).unwrap().status, Status::Approved);
        let d = decisions(&mut q);
        assert_eq!(d, ["decline", "decline", "confirm"]);
    }

    #[test]
    fn notes_are_acknowledged_without_execution() {
        let mut q = q();
        let id = q
            .propose(
                c(
                    json!({"kind": "note", "project": "g/app", "text": "look at runner 3",
                "rationale": "r"}),
                ),
                Source::Rules,
                &snap(),
                now(),
            )
            .id();
        assert_eq!(q.approve(id, now()), Ok(Approval::Acknowledged));
        assert_eq!(q.get(id).unwrap().status, Status::Done);
        assert!(q.startable().is_empty());
    }

    #[test]
    fn edits_revalidate_and_keep_the_original() {
        let mut q = q();
        let s = snap();
        let cmd = c(
            json!({"kind": "assign_reviewers", "project": "g/app", "mr_iid": 42,
            "reviewers": ["bob"], "rationale": "r"}),
        );
        let id = q.propose(cmd.clone(), Source::Planner, &s, now()).id();
        assert_eq!(Edit::initial_text(&cmd).as_deref(), Some("bob"));
        let e = Edit::from_text(&cmd, "alice, mallory").unwrap();
        assert_eq!(q.edit(id, &e, &s, now()), Ok(Status::Invalid));
        let item = q.get(id).unwrap();
        assert!(
            item.reason
                .as_deref()
                .unwrap()
                .contains("alice is the author")
        );
        assert_eq!(item.original, cmd);
        assert!(item.edited());
        assert!(q.approve(id, now()).is_err());
        let e = Edit::from_text(&cmd, "@carol\n").unwrap();
        assert_eq!(q.edit(id, &e, &s, now()), Ok(Status::Proposed));
        q.approve(id, now()).unwrap();
        let recs = q.drain_records();
        match &recs.last().unwrap().event {
            AuditEvent::Decision {
                decision,
                original,
                command,
                ..
            } => {
                assert_eq!(decision, "approve");
                assert_eq!(original["reviewers"], json!(["bob"]));
                assert_eq!(command["reviewers"], json!(["carol"]));
            }
            e => panic!("{e:?}"),
        }
        // Editing after approval is not possible.
        assert!(matches!(
            q.edit(id, &e, &s, now()),
            Err(QueueError::WrongStatus { .. })
        ));
    }

    #[test]
    fn label_and_body_edits() {
        let mut q = q();
        let s = snap();
        let labels = c(
            json!({"kind": "set_labels", "project": "g/app", "mr_iid": 42,
            "add": ["a"], "remove": [], "rationale": "r"}),
        );
        let text = Edit::initial_text(&labels).unwrap();
        assert_eq!(text, "add: a\nremove: ");
        let id = q.propose(labels.clone(), Source::Planner, &s, now()).id();
        let e = Edit::from_text(&labels, "add: ci::broken, triage\nremove: a").unwrap();
        assert_eq!(q.edit(id, &e, &s, now()), Ok(Status::Proposed));
        assert!(Edit::from_text(&labels, "plus: x").is_err());
        let comment = c(
            json!({"kind": "comment_mr", "project": "g/app", "mr_iid": 42,
            "body": "hello", "rationale": "r"}),
        );
        let id = q.propose(comment.clone(), Source::Planner, &s, now()).id();
        let e = Edit::from_text(&comment, "").unwrap();
        assert_eq!(q.edit(id, &e, &s, now()), Ok(Status::Invalid));
        assert!(matches!(
            q.edit(id, &Edit::Reviewers(vec![]), &s, now()),
            Err(QueueError::BadEdit(_))
        ));
        assert!(Edit::from_text(&retry(11), "x").is_err());
    }

    #[test]
    fn bulk_approval_lists_every_target_and_skips_high_risk() {
        let mut q = q();
        let s = snap();
        let a = q.propose(retry(11), Source::Planner, &s, now()).id();
        let b = q.propose(merge42(), Source::Planner, &s, now()).id();
        let bad = q.propose(retry(12), Source::Planner, &s, now()).id();
        let unmarked = q
            .propose(
                c(
                    json!({"kind": "rebase_mr", "project": "g/app", "mr_iid": 42,
            "rationale": "r"}),
                ),
                Source::Planner,
                &s,
                now(),
            )
            .id();
        for id in [a, b, bad] {
            assert!(q.toggle_mark(id).unwrap());
        }
        let p = q.bulk_preview();
        assert_eq!(
            p.approve,
            vec![(
                a,
                "retry_job job 11 rspec in pipeline 100 (low)".to_string()
            )]
        );
        assert_eq!(p.needs_confirmation.len(), 1);
        assert!(p.needs_confirmation[0].1.contains("!42 MR 42"));
        assert_eq!(p.skipped.len(), 1);
        assert!(p.skipped[0].1.contains("is invalid"));
        let r = q.approve_marked(now());
        assert_eq!(r, vec![(a, Ok(Approval::Approved))]);
        assert_eq!(q.get(b).unwrap().status, Status::Proposed);
        assert!(q.get(b).unwrap().marked);
        assert!(!q.get(a).unwrap().marked);
        assert_eq!(q.get(unmarked).unwrap().status, Status::Proposed);
    }

    #[test]
    fn read_only_and_suggest_refuse_approval_and_record_it() {
        for section in [
            PolicySection {
                read_only: true,
                ..Default::default()
            },
            PolicySection {
                mode: Some("suggest".into()),
                ..Default::default()
            },
        ] {
            let mut q = Queue::new(Policy::from_config(&section, false).unwrap(), "op@h", "s");
            let id = q.propose(retry(11), Source::Planner, &snap(), now()).id();
            let e = q.approve(id, now()).unwrap_err();
            assert!(matches!(e, QueueError::Refused { .. }));
            let item = q.get(id).unwrap();
            assert_eq!(item.status, Status::Proposed, "still shown as a suggestion");
            assert!(item.reason.as_deref().unwrap().starts_with("refused: "));
            assert!(q.startable().is_empty());
            assert!(decisions(&mut q).contains(&"refuse".to_string()));
        }
    }

    #[test]
    fn deny_and_auto_approve() {
        let section = PolicySection {
            deny: vec!["rebase_mr".into()],
            auto_approve: vec!["retry_job".into(), "play_job".into()],
            ..Default::default()
        };
        let mut q = Queue::new(Policy::from_config(&section, false).unwrap(), "op@h", "s");
        let s = snap();
        assert_eq!(
            q.propose(retry(11), Source::Planner, &s, now()),
            Proposed::New(1, Status::Approved)
        );
        assert_eq!(q.get(1).unwrap().approved_by.as_deref(), Some("policy"));
        let deploy =
            c(json!({"kind": "play_job", "project": "g/app", "job_id": 14, "rationale": "r"}));
        assert_eq!(
            q.propose(deploy, Source::Planner, &s, now()),
            Proposed::New(2, Status::Proposed),
            "a high-risk deploy is never auto-approved"
        );
        let rebase =
            c(json!({"kind": "rebase_mr", "project": "g/app", "mr_iid": 42, "rationale": "r"}));
        assert_eq!(
            q.propose(rebase, Source::Planner, &s, now()),
            Proposed::New(3, Status::Rejected)
        );
        assert!(
            q.get(3)
                .unwrap()
                .reason
                .as_deref()
                .unwrap()
                .contains("policy.deny")
        );
    }

    #[test]
    fn revalidation_marks_stale_and_back() {
        let mut q = q();
        let s = snap();
        let a = q.propose(retry(11), Source::Planner, &s, now()).id();
        let b = q
            .propose(
                c(json!({"kind": "cancel_pipeline", "project": "g/app",
            "pipeline_id": 101, "rationale": "r"})),
                Source::Planner,
                &s,
                now(),
            )
            .id();
        q.approve(a, now()).unwrap();
        let mut newer = s.clone();
        newer.jobs.get_mut(&100).unwrap()[0].status = GlStatus::Running;
        newer.pipelines.get_mut(&101).unwrap().status = GlStatus::Success;
        q.revalidate(&newer, now());
        assert_eq!(q.get(a).unwrap().status, Status::Stale);
        assert_eq!(
            q.get(a).unwrap().reason.as_deref(),
            Some("job 11 is already running")
        );
        assert!(q.start(a, now()).is_err(), "a stale approval cannot run");
        assert_eq!(q.get(b).unwrap().status, Status::Stale);
        q.revalidate(&s, now());
        assert_eq!(
            q.get(a).unwrap().status,
            Status::Proposed,
            "needs a new approval"
        );
        assert_eq!(q.get(a).unwrap().approved_by, None);
    }

    #[test]
    fn unknown_items_are_errors() {
        let mut q = q();
        assert_eq!(q.approve(9, now()), Err(QueueError::NoSuchItem(9)));
        assert!(q.reject(9, None, now()).is_err());
        assert!(q.toggle_mark(9).is_err());
        assert!(q.finish(9, Finish::Done(String::new()), now()).is_err());
    }
}
