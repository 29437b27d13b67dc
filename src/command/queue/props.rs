//! Property tests of the queue's safety invariants over random operation sequences: propose,
//! approve, confirm (rightly or not), decline, reject, refuse, edit, mark, bulk approve, start,
//! finish with any result, revalidation against changed snapshots, read-only mid-session; under
//! several policies, including a hand-built one that lists high-risk kinds for auto-approval.
//!
//! Checked after every step:
//! - an item becomes approved only by the operator's approval (low/medium), a correct
//!   target-naming confirmation (any risk), a bulk approval of a marked low/medium item, or the
//!   policy at proposal time (never high risk);
//! - an approved item is still exactly the command that was approved, and if it is high risk
//!   now, its approval was a confirmation;
//! - `start` hands out an item only when approved, with exactly the approved command, and at
//!   most once (again only after the executor refused it unsent, as stale, and it was approved
//!   anew); no command runs while a twin runs, and none runs again after it was done.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::command::validate::tests::snap;
use crate::gitlab::Status as GlStatus;

fn now() -> Timestamp {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

/// Commands over `validate::tests::snap`'s project: valid and invalid ones, every risk.
fn commands() -> Vec<Command> {
    let head = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    [
        json!({"kind": "retry_job", "project": "g/app", "job_id": 11, "rationale": "flaky"}),
        json!({"kind": "retry_job", "project": "g/app", "job_id": 12, "rationale": "running"}),
        json!({"kind": "play_job", "project": "g/app", "job_id": 13, "rationale": "perf"}),
        json!({"kind": "play_job", "project": "g/app", "job_id": 14, "rationale": "ship it"}),
        json!({"kind": "cancel_pipeline", "project": "g/app", "pipeline_id": 101, "rationale": "stuck"}),
        json!({"kind": "retry_pipeline", "project": "g/app", "pipeline_id": 100, "rationale": "red"}),
        json!({"kind": "merge_mr", "project": "g/app", "mr_iid": 42, "sha": head, "rationale": "green"}),
        json!({"kind": "comment_mr", "project": "g/app", "mr_iid": 42, "body": "flaky rspec", "rationale": "tell"}),
        json!({"kind": "set_labels", "project": "g/app", "mr_iid": 42, "add": ["ci::flaky"], "rationale": "tag"}),
        json!({"kind": "assign_reviewers", "project": "g/app", "mr_iid": 42, "reviewers": ["bob"], "rationale": "load"}),
        json!({"kind": "rebase_mr", "project": "g/app", "mr_iid": 42, "rationale": "behind"}),
        json!({"kind": "note", "project": "g/app", "text": "watch main", "rationale": "fyi"}),
        json!({"kind": "merge_mr", "project": "g/app", "mr_iid": 43, "sha": "dddddddddddd", "rationale": "draft"}),
    ]
    .into_iter()
    .map(|v| serde_json::from_value(v).unwrap())
    .collect()
}

fn edits() -> Vec<Edit> {
    vec![
        Edit::Body("rspec is flaky on runner 3".into()),
        Edit::Body("@all please look".into()),
        Edit::Labels {
            add: vec!["ci::broken".into()],
            remove: vec!["ci::flaky".into()],
        },
        Edit::Reviewers(vec!["carol".into()]),
        Edit::Reviewers(vec!["bob".into()]),
        Edit::Reviewers(vec!["nobody-here".into()]),
    ]
}

/// The project as later polls see it: a manual job that turns out to deploy (its play becomes
/// high risk), the failed job running again, a new head on !42, the running pipeline finished.
fn snapshots() -> Vec<ProjectSnapshot> {
    let base = snap();
    let mut deploys = base.clone();
    crate::testkit::deploys_to(&mut deploys, 13, "production");
    let mut running = base.clone();
    if let Some(jobs) = std::sync::Arc::make_mut(&mut running.jobs).get_mut(&100) {
        for j in jobs.iter_mut().filter(|j| j.id == 11) {
            j.status = GlStatus::Running;
        }
    }
    let mut pushed = base.clone();
    if let Some(mr) = std::sync::Arc::make_mut(&mut pushed.mrs)
        .get_mut(&42)
        .map(std::sync::Arc::make_mut)
    {
        mr.sha = Some("ffffffffffffffffffffffffffffffffffffffff".into());
    }
    let mut finished = base.clone();
    if let Some(p) = std::sync::Arc::make_mut(&mut finished.pipelines).get_mut(&101) {
        p.status = GlStatus::Success;
    }
    vec![base, deploys, running, pushed, finished]
}

fn policies() -> Vec<Policy> {
    let auto = Policy {
        auto_approve: [
            Kind::RetryJob,
            Kind::PlayJob,
            Kind::CommentMr,
            Kind::RetryPipeline,
        ]
        .into_iter()
        .collect(),
        ..Policy::default()
    };
    // Not reachable from the config file (it refuses these kinds), but the queue must hold
    // even so.
    let mut reckless = auto.clone();
    reckless
        .auto_approve
        .extend([Kind::MergeMr, Kind::CancelPipeline]);
    let denying = Policy {
        deny: [Kind::RebaseMr].into_iter().collect(),
        ..Policy::default()
    };
    vec![Policy::default(), auto, reckless, denying]
}

#[derive(Debug, Clone)]
enum Op {
    Propose(usize),
    Approve(usize),
    Confirm { item: usize, right: bool },
    Decline(usize),
    Reject(usize),
    Refuse(usize),
    Edit { item: usize, edit: usize },
    Mark(usize),
    ClearMarks,
    BulkApprove,
    Start(usize),
    StartAll,
    Finish { item: usize, result: usize },
    Revalidate(usize),
    ReadOnly,
}

fn op() -> impl Strategy<Value = Op> {
    let i = 0..16usize;
    prop_oneof![
        4 => (0..13usize).prop_map(Op::Propose),
        3 => i.clone().prop_map(Op::Approve),
        2 => (i.clone(), any::<bool>()).prop_map(|(item, right)| Op::Confirm { item, right }),
        1 => i.clone().prop_map(Op::Decline),
        1 => i.clone().prop_map(Op::Reject),
        1 => i.clone().prop_map(Op::Refuse),
        2 => (i.clone(), 0..6usize).prop_map(|(item, edit)| Op::Edit { item, edit }),
        2 => i.clone().prop_map(Op::Mark),
        1 => Just(Op::ClearMarks),
        2 => Just(Op::BulkApprove),
        3 => i.clone().prop_map(Op::Start),
        1 => Just(Op::StartAll),
        3 => (i.clone(), 0..3usize).prop_map(|(item, result)| Op::Finish { item, result }),
        2 => (0..5usize).prop_map(Op::Revalidate),
        1 => Just(Op::ReadOnly),
    ]
}

/// What the harness saw approved: the command at that moment, and whether a confirmation
/// naming the target did it.
struct Approved {
    command: Command,
    confirmed: bool,
}

struct Harness {
    q: Queue,
    snaps: Vec<ProjectSnapshot>,
    snap: usize,
    commands: Vec<Command>,
    edits: Vec<Edit>,
    approved: BTreeMap<ItemId, Approved>,
    started: BTreeSet<ItemId>,
    done: BTreeSet<String>,
}

impl Harness {
    fn id(&self, i: usize) -> Option<ItemId> {
        let items = self.q.items();
        (!items.is_empty()).then(|| items[i % items.len()].id)
    }

    fn start(&mut self, id: ItemId) -> Result<(), TestCaseError> {
        let twin_running = |q: &Queue, item: &QueueItem| {
            q.items().iter().any(|o| {
                o.id != item.id
                    && o.status == Status::Executing
                    && o.command.identity() == item.command.identity()
            })
        };
        let before = self.q.get(id).cloned();
        let twin = before.as_ref().is_some_and(|i| twin_running(&self.q, i));
        let Ok(ticket) = self.q.start(id, now()) else {
            return Ok(());
        };
        let item = before.ok_or_else(|| TestCaseError::fail("started an unknown item"))?;
        prop_assert!(self.started.insert(id), "#{id} started twice");
        prop_assert_eq!(item.status, Status::Approved, "#{} started unapproved", id);
        let Some(a) = self.approved.get(&id) else {
            return Err(TestCaseError::fail(format!(
                "#{id} started without an approval the harness saw"
            )));
        };
        prop_assert_eq!(&ticket.command, &a.command, "#{} ran another command", id);
        prop_assert_eq!(&ticket.command, &item.command);
        prop_assert!(
            ticket.risk != Risk::High || a.confirmed,
            "#{} ran high risk without a confirmation",
            id
        );
        prop_assert!(!twin, "#{} ran while its twin was running", id);
        let identity = ticket.command.identity();
        prop_assert!(
            !self.done.contains(&identity),
            "#{} ran again after done",
            id
        );
        Ok(())
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let before: BTreeMap<ItemId, (Status, bool)> = self
            .q
            .items()
            .iter()
            .map(|i| (i.id, (i.status, i.marked)))
            .collect();
        // Items this step may approve, and whether by confirmation.
        let mut may_approve: BTreeMap<ItemId, bool> = BTreeMap::new();
        let snap = &self.snaps[self.snap];
        match op {
            Op::Propose(c) => {
                let p = self
                    .q
                    .propose(self.commands[*c].clone(), Source::Planner, snap, now());
                if let Proposed::New(id, _) = p {
                    may_approve.insert(id, false);
                }
            }
            Op::Approve(i) => {
                if let Some(id) = self.id(*i) {
                    may_approve.insert(id, false);
                    let _ = self.q.approve(id, now());
                }
            }
            Op::Confirm { item, right } => {
                if let Some(id) = self.id(*item) {
                    let phrase = match self.q.get(id) {
                        Some(i) if *right => i.confirmation_phrase(),
                        _ => "yes".to_string(),
                    };
                    if *right {
                        may_approve.insert(id, true);
                    }
                    let _ = self.q.confirm(id, &phrase, now());
                }
            }
            Op::Decline(i) => {
                if let Some(id) = self.id(*i) {
                    let _ = self.q.decline_confirmation(id, now());
                }
            }
            Op::Reject(i) => {
                if let Some(id) = self.id(*i) {
                    let _ = self.q.reject(id, Some("no".into()), now());
                }
            }
            Op::Refuse(i) => {
                if let Some(id) = self.id(*i) {
                    let _ = self.q.refuse(id, "no terminal", now());
                }
            }
            Op::Edit { item, edit } => {
                if let Some(id) = self.id(*item) {
                    let _ = self.q.edit(id, &self.edits[*edit], snap, now());
                }
            }
            Op::Mark(i) => {
                if let Some(id) = self.id(*i) {
                    let _ = self.q.toggle_mark(id);
                }
            }
            Op::ClearMarks => self.q.clear_marks(),
            Op::BulkApprove => {
                for (id, (_, marked)) in &before {
                    if *marked {
                        may_approve.insert(*id, false);
                    }
                }
                let _ = self.q.approve_marked(now());
            }
            Op::Start(i) => {
                if let Some(id) = self.id(*i) {
                    self.start(id)?;
                }
            }
            Op::StartAll => {
                for id in self.q.startable() {
                    self.start(id)?;
                }
            }
            Op::Finish { item, result } => {
                if let Some(id) = self.id(*item) {
                    let identity = self.q.get(id).map(|i| i.command.identity());
                    let finish = match result {
                        0 => Finish::Done("201".into()),
                        1 => Finish::Failed("500".into()),
                        _ => Finish::Stale("job is running".into()),
                    };
                    let (done, sent) = match &finish {
                        Finish::Done(_) => (true, true),
                        Finish::Failed(_) => (false, true),
                        Finish::Stale(_) => (false, false),
                    };
                    if self.q.finish(id, finish, now()).is_ok() {
                        if !sent {
                            // Refused before sending: it never ran, and may run after a new
                            // approval.
                            self.started.remove(&id);
                        }
                        if done && let Some(identity) = identity {
                            self.done.insert(identity);
                        }
                    }
                }
            }
            Op::Revalidate(s) => {
                self.snap = *s;
                self.q.revalidate(&self.snaps[*s], now());
            }
            Op::ReadOnly => self.q.set_read_only(),
        }
        self.check(op, &before, &may_approve)
    }

    fn check(
        &mut self,
        op: &Op,
        before: &BTreeMap<ItemId, (Status, bool)>,
        may_approve: &BTreeMap<ItemId, bool>,
    ) -> Result<(), TestCaseError> {
        for item in self.q.items() {
            let was = before.get(&item.id).map(|(s, _)| *s);
            if item.status == Status::Approved && was != Some(Status::Approved) {
                let Some(&confirmed) = may_approve.get(&item.id) else {
                    return Err(TestCaseError::fail(format!(
                        "#{} became approved by {op:?}",
                        item.id
                    )));
                };
                if item.approved_by.as_deref() == Some("policy") {
                    prop_assert!(
                        matches!(op, Op::Propose(_)),
                        "policy approved #{} outside a proposal",
                        item.id
                    );
                }
                prop_assert!(
                    item.risk != Risk::High || confirmed,
                    "#{} ({}) approved at high risk without a confirmation by {:?}",
                    item.id,
                    item.kind(),
                    op
                );
                self.approved.insert(
                    item.id,
                    Approved {
                        command: item.command.clone(),
                        confirmed,
                    },
                );
            }
            if item.status != Status::Approved {
                self.approved.remove(&item.id);
                continue;
            }
            let a = self
                .approved
                .get(&item.id)
                .ok_or_else(|| TestCaseError::fail(format!("#{} approved unseen", item.id)))?;
            prop_assert_eq!(
                &item.command,
                &a.command,
                "#{} changed after approval",
                item.id
            );
            prop_assert!(
                item.risk != Risk::High || a.confirmed,
                "#{} ({}) is approved and high risk now, but was never confirmed (after {:?})",
                item.id,
                item.kind(),
                op
            );
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_command_runs_twice_unapproved_or_unconfirmed(
        policy in 0..4usize,
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        let mut h = Harness {
            q: Queue::new(policies()[policy].clone(), "op@host", "sess").with_retry_budget(3),
            snaps: snapshots(),
            snap: 0,
            commands: commands(),
            edits: edits(),
            approved: BTreeMap::new(),
            started: BTreeSet::new(),
            done: BTreeSet::new(),
        };
        for op in &ops {
            h.step(op)?;
        }
    }
}
