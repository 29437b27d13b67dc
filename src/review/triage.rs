//! MR triage: what needs attention on each open merge request, from the snapshot alone.
//!
//! Public API:
//! - [`triage`]`(mr, snapshot, now, &TriageConfig) -> Vec<Signal>`, most severe first.
//! - [`triage_all`]`(snapshot, now, &TriageConfig) -> Vec<MrTriage>`: every open MR with at
//!   least one signal, most severe first, then oldest update first (the planner's order).
//! - [`Signal`]: typed and serde-tagged (`{"signal": "stale", "days": 12}`), with
//!   [`Signal::label`] (short text for the MR pane: `stale 12d`, `approvals 1/2`),
//!   [`Signal::code`] (stable name) and [`Signal::severity`].
//!
//! `now` should be the server's time (`snapshot.fetched_at`) so ages do not depend on the
//! local clock. Drafts are not flagged for missing reviewers or approvals (they are not asking
//! for review yet); a draft that lingers is flagged as a long-lived draft instead. Details that
//! were not fetched (approvals, diffs, jobs) simply produce no signal, except where the MR's
//! own `detailed_merge_status` already says it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::gitlab::models::{DetailedMergeStatus, MergeRequest, MrState, Status};
use crate::gitlab::snapshot::ProjectSnapshot;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageConfig {
    /// No update for this many days makes an MR stale.
    pub stale_days: i64,
    /// A draft older than this many days is long-lived.
    pub draft_days: i64,
    /// Added + removed lines from which churn is huge.
    pub churn_lines: u32,
    /// Changed files from which churn is huge.
    pub churn_files: usize,
}

impl Default for TriageConfig {
    fn default() -> Self {
        TriageConfig {
            stale_days: 7,
            draft_days: 14,
            churn_lines: 1000,
            churn_files: 50,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warn,
    /// Blocks the merge until someone acts.
    Block,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "signal", rename_all = "snake_case")]
pub enum Signal {
    /// The pipeline reporting on the MR failed; `failed_jobs` are the failed jobs that do not
    /// allow failure (empty when jobs were not fetched).
    PipelineFailed {
        pipeline_id: u64,
        failed_jobs: Vec<String>,
    },
    Conflicts,
    NeedsRebase,
    /// `given`/`required` when the approvals were fetched, `None` when only the merge status
    /// says approvals are missing.
    ApprovalsMissing {
        given: Option<u32>,
        required: Option<u32>,
    },
    UnresolvedThreads,
    NoReviewers,
    Stale {
        days: i64,
    },
    LongLivedDraft {
        days: i64,
    },
    /// The title or description carries text aimed at an AI that a reader would not see or
    /// expect (`text::hidden_instruction`). Prompts fence it anyway; the operator should know.
    HiddenInstruction {
        why: String,
    },
    /// Lines are known only when the diffs were fetched.
    HugeChurn {
        files: usize,
        added: Option<u32>,
        removed: Option<u32>,
    },
}

impl Signal {
    /// A stable name (the serde tag).
    pub fn code(&self) -> &'static str {
        match self {
            Signal::PipelineFailed { .. } => "pipeline_failed",
            Signal::Conflicts => "conflicts",
            Signal::NeedsRebase => "needs_rebase",
            Signal::ApprovalsMissing { .. } => "approvals_missing",
            Signal::UnresolvedThreads => "unresolved_threads",
            Signal::NoReviewers => "no_reviewers",
            Signal::Stale { .. } => "stale",
            Signal::LongLivedDraft { .. } => "long_lived_draft",
            Signal::HugeChurn { .. } => "huge_churn",
            Signal::HiddenInstruction { .. } => "hidden_instruction",
        }
    }

    pub fn severity(&self) -> Severity {
        match self {
            Signal::PipelineFailed { .. } | Signal::Conflicts => Severity::Block,
            Signal::NeedsRebase | Signal::ApprovalsMissing { .. } | Signal::UnresolvedThreads => {
                Severity::Warn
            }
            Signal::NoReviewers | Signal::Stale { .. } | Signal::HiddenInstruction { .. } => {
                Severity::Warn
            }
            Signal::LongLivedDraft { .. } | Signal::HugeChurn { .. } => Severity::Info,
        }
    }

    /// Short text for a list row.
    pub fn label(&self) -> String {
        match self {
            Signal::PipelineFailed { failed_jobs, .. } => match failed_jobs.as_slice() {
                [] => "pipeline failed".into(),
                [one] => format!("failed: {one}"),
                [first, rest @ ..] => format!("failed: {first} +{}", rest.len()),
            },
            Signal::Conflicts => "conflicts".into(),
            Signal::NeedsRebase => "needs rebase".into(),
            Signal::ApprovalsMissing { given, required } => match (given, required) {
                (Some(g), Some(r)) => format!("approvals {g}/{r}"),
                _ => "approvals missing".into(),
            },
            Signal::UnresolvedThreads => "unresolved threads".into(),
            Signal::HiddenInstruction { .. } => "hidden AI text".into(),
            Signal::NoReviewers => "no reviewers".into(),
            Signal::Stale { days } => format!("stale {days}d"),
            Signal::LongLivedDraft { days } => format!("draft {days}d"),
            Signal::HugeChurn {
                files,
                added,
                removed,
            } => match (added, removed) {
                (Some(a), Some(r)) => format!("+{a}/-{r} in {files} files"),
                _ => format!("{files} files"),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MrTriage {
    pub iid: u64,
    pub signals: Vec<Signal>,
}

impl MrTriage {
    pub fn severity(&self) -> Option<Severity> {
        self.signals.iter().map(Signal::severity).max()
    }
}

pub fn triage(
    mr: &MergeRequest,
    snap: &ProjectSnapshot,
    now: Timestamp,
    cfg: &TriageConfig,
) -> Vec<Signal> {
    let mut out = Vec::new();
    if !matches!(mr.state, MrState::Opened) {
        return out;
    }
    let draft = mr.is_draft();
    let status = mr.detailed_merge_status.as_ref();

    if let Some(p) = snap.pipeline_for_mr(mr)
        && p.status == Status::Failed
    {
        let failed_jobs = snap
            .jobs
            .get(&p.id)
            .map(|jobs| {
                jobs.iter()
                    .filter(|j| j.status == Status::Failed && !j.allow_failure)
                    .map(|j| j.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        out.push(Signal::PipelineFailed {
            pipeline_id: p.id,
            failed_jobs,
        });
    }
    if mr.conflicts() {
        out.push(Signal::Conflicts);
    } else if status == Some(&DetailedMergeStatus::NeedRebase) {
        out.push(Signal::NeedsRebase);
    }
    if !draft {
        match snap.approvals.get(&mr.iid) {
            Some(a) if !a.satisfied() => out.push(Signal::ApprovalsMissing {
                given: Some(a.given()),
                required: Some(a.required().max(a.given() + a.approvals_left.unwrap_or(0))),
            }),
            Some(_) => {}
            None if status == Some(&DetailedMergeStatus::NotApproved) => {
                out.push(Signal::ApprovalsMissing {
                    given: None,
                    required: None,
                })
            }
            None => {}
        }
    }
    if mr.blocking_discussions_resolved == Some(false)
        || status == Some(&DetailedMergeStatus::DiscussionsNotResolved)
    {
        out.push(Signal::UnresolvedThreads);
    }
    if !draft && mr.reviewers.is_empty() {
        out.push(Signal::NoReviewers);
    }
    if let Some(days) = age_days(mr.updated_at, now).filter(|d| *d >= cfg.stale_days) {
        out.push(Signal::Stale { days });
    }
    if draft && let Some(days) = age_days(mr.created_at, now).filter(|d| *d >= cfg.draft_days) {
        out.push(Signal::LongLivedDraft { days });
    }
    if let Some(churn) = churn(mr, snap, cfg) {
        out.push(churn);
    }
    if let Some(why) = crate::text::hidden_instruction(&mr.title)
        .or_else(|| crate::text::hidden_instruction(&mr.description))
    {
        out.push(Signal::HiddenInstruction { why: why.into() });
    }
    // Stable sort: within a severity, the order above (cause before symptom) stays.
    out.sort_by_key(|s| std::cmp::Reverse(s.severity()));
    out
}

pub fn triage_all(snap: &ProjectSnapshot, now: Timestamp, cfg: &TriageConfig) -> Vec<MrTriage> {
    let mut out: Vec<(MrTriage, Option<Timestamp>)> = snap
        .mrs
        .values()
        .map(|mr| {
            (
                MrTriage {
                    iid: mr.iid,
                    signals: triage(mr, snap, now, cfg),
                },
                mr.updated_at,
            )
        })
        .filter(|(t, _)| !t.signals.is_empty())
        .collect();
    out.sort_by(|(a, at), (b, bt)| {
        b.severity()
            .cmp(&a.severity())
            .then(at.cmp(bt))
            .then(a.iid.cmp(&b.iid))
    });
    out.into_iter().map(|(t, _)| t).collect()
}

/// Whole days from `t` to `now` (0 when `t` is in the future: clock skew).
fn age_days(t: Option<Timestamp>, now: Timestamp) -> Option<i64> {
    t.map(|t| now.duration_since(t).as_secs().max(0) / 86_400)
}

fn churn(mr: &MergeRequest, snap: &ProjectSnapshot, cfg: &TriageConfig) -> Option<Signal> {
    if let Some(diffs) = snap.diffs.get(&mr.iid) {
        let (added, removed) = diffs
            .iter()
            .map(|d| d.churn())
            .fold((0u32, 0u32), |acc, c| {
                (acc.0.saturating_add(c.0), acc.1.saturating_add(c.1))
            });
        let huge =
            added.saturating_add(removed) >= cfg.churn_lines || diffs.len() >= cfg.churn_files;
        return huge.then_some(Signal::HugeChurn {
            files: diffs.len(),
            added: Some(added),
            removed: Some(removed),
        });
    }
    // `changes_count` is a file count, `"1000+"` when GitLab stopped counting.
    let files: usize = mr
        .changes_count
        .as_deref()?
        .trim_end_matches('+')
        .parse()
        .ok()?;
    (files >= cfg.churn_files).then_some(Signal::HugeChurn {
        files,
        added: None,
        removed: None,
    })
}

#[cfg(test)]
mod tests;
