//! The approval queue: pure state and transitions, no IO.
//!
//! Every command, whoever proposed it, passes through here: validation, policy, the operator's
//! decision (with a second, target-naming confirmation for high risk), then exactly one
//! execution. Transitions leave audit records in an outbox (`drain_records`) that the caller
//! writes, and syncs, before it shows the result.

mod edit;
mod item;
mod outcome;
#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::gitlab::ProjectSnapshot;

use super::audit::{AuditEvent, AuditRecord, RecordHeader, command_value};
use super::model::{Command, Kind};
use super::policy::Policy;
use super::risk::{Risk, risk_with};
use super::validate::validate;

pub use edit::Edit;
use item::budget_key;
pub use item::{QueueItem, Source, Status, confirmation_phrase, target_label};
pub use outcome::{Approval, BulkPreview, Finish, Proposed, QueueError, Ticket};

pub type ItemId = u64;

/// Executions allowed per retry target (a job by pipeline and name, a pipeline) per session:
/// stops retry loops on a job that keeps failing.
pub const DEFAULT_RETRY_BUDGET: u32 = 2;

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
        let r = risk_with(&cmd, snap, &self.policy.deploy_patterns);
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
        let patterns = self.policy.deploy_patterns.clone();
        let item = self.item_mut(id)?;
        item.risk = risk_with(&edited, snap, &patterns);
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
        let patterns = self.policy.deploy_patterns.clone();
        let Ok(item) = self.item_mut(id) else { return };
        let result = validate(&item.command, snap);
        let was = item.risk;
        item.risk = risk_with(&item.command, snap, &patterns);
        item.target_label = target_label(&item.command, snap);
        match (item.status, result) {
            (Status::Proposed | Status::Approved, Err(errs)) => {
                item.status = Status::Stale;
                item.reason = Some(errs.join("; "));
                item.awaiting_confirmation = false;
                item.approved_by = None;
                item.updated_at = now;
            }
            // Approved at a lower risk (a manual job that turns out to deploy): the approval
            // did not name the target, so it no longer holds.
            (Status::Approved, Ok(())) if item.risk == Risk::High && was != Risk::High => {
                let reason = "now high risk: approve again and confirm naming the target";
                item.status = Status::Proposed;
                item.reason = Some(reason.into());
                item.awaiting_confirmation = false;
                item.approved_by = None;
                item.updated_at = now;
                self.push_decision(id, "policy", "revoke", Some(reason.into()), now);
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
