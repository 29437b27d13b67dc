//! The overview of every watched project: one summary row per project (failing default branch,
//! running pipelines, MRs waiting on me, MRs ready to merge, last deploy), kept fresh from
//! cheap delta reads by `overview_poller`. Pure: what a read means for a row lives here, the
//! requests live in the poller.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use jiff::Timestamp;

use super::models::{Deployment, MergeRequest, MrState, Pipeline, Status};

/// What one instance watches: named projects and whole groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchSpec {
    /// Index of the instance in the session (its client).
    pub instance: usize,
    pub projects: Vec<String>,
    /// Group full paths: every non-archived project of the group (subgroups included) with
    /// activity in the last [`ACTIVE_WITHIN`].
    pub groups: Vec<String>,
}

/// A group project without activity for this long is left out (archived ones always are).
pub const ACTIVE_WITHIN: Duration = Duration::from_secs(90 * 24 * 3600);

/// The most projects one group contributes (the newest activity first).
pub const MAX_GROUP_PROJECTS: usize = 100;

/// The last deployment of a project, as a row shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastDeploy {
    pub environment: String,
    pub status: String,
    pub at: Option<Timestamp>,
}

impl LastDeploy {
    pub fn from_deployment(d: &Deployment) -> LastDeploy {
        LastDeploy {
            environment: d
                .environment
                .as_ref()
                .and_then(|e| e.name.clone())
                .unwrap_or_else(|| "?".into()),
            status: d.status.clone().unwrap_or_default(),
            at: d.finished_at.or(d.created_at),
        }
    }
}

/// One row of the overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSummary {
    pub instance: usize,
    pub path: String,
    pub id: u64,
    pub web_url: Option<String>,
    pub default_branch: String,
    /// Failed pipelines at the head of the default branch, newest first, up to the newest
    /// success (0: the branch is green or unknown).
    pub failing_default: u32,
    /// The newest default-branch pipeline's status.
    pub default_status: Option<Status>,
    /// Pipelines queued or running.
    pub running: u32,
    pub open_mrs: u32,
    /// Open MRs where a review is requested from me or I am an assignee.
    pub waiting_on_me: u32,
    /// Open MRs GitLab says can merge now (not draft, no conflicts, `mergeable`).
    pub ready: u32,
    pub last_deploy: Option<LastDeploy>,
    /// The last read of this project failed: why (the row keeps what it had).
    pub error: Option<String>,
    /// When the project was last read successfully (GitLab's clock).
    pub checked_at: Option<Timestamp>,
}

impl ProjectSummary {
    pub fn new(instance: usize, path: &str) -> ProjectSummary {
        ProjectSummary {
            instance,
            path: path.to_string(),
            id: 0,
            web_url: None,
            default_branch: String::new(),
            failing_default: 0,
            default_status: None,
            running: 0,
            open_mrs: 0,
            waiting_on_me: 0,
            ready: 0,
            last_deploy: None,
            error: None,
            checked_at: None,
        }
    }

    /// Higher needs attention sooner: a red default branch, then what waits on me, then what
    /// could merge, then what runs; errors sort with red (something is wrong there too).
    pub fn attention(&self) -> (u32, u32, u32, u32) {
        let red = u32::from(self.failing_default > 0 || self.error.is_some());
        (red, self.waiting_on_me, self.ready, self.running)
    }
}

/// Rows in the order the overview shows them: most attention first, then by path.
pub fn sort_rows(rows: &mut [ProjectSummary]) {
    rows.sort_by(|a, b| {
        b.attention()
            .cmp(&a.attention())
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.instance.cmp(&b.instance))
    });
}

/// What an open MR means to me, from its list entry alone (no extra request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MrFacts {
    pub waiting_on_me: bool,
    pub ready: bool,
}

impl MrFacts {
    pub fn of(mr: &MergeRequest, me: Option<u64>) -> MrFacts {
        let mine = |users: &[std::sync::Arc<super::models::UserRef>]| {
            me.is_some_and(|id| users.iter().any(|u| u.id == id))
        };
        MrFacts {
            waiting_on_me: mine(&mr.reviewers) || mine(&mr.assignees),
            ready: mr.can_merge_now(),
        }
    }
}

/// The open MRs of one project, by MR id, updated from full reads and deltas.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenMrs {
    pub by_id: HashMap<u64, MrFacts>,
}

impl OpenMrs {
    /// One MR as a list (full or delta) returned it: open ones are kept, others leave.
    /// Returns whether anything changed.
    pub fn apply(&mut self, mr: &MergeRequest, me: Option<u64>) -> bool {
        if mr.state == MrState::Opened {
            let facts = MrFacts::of(mr, me);
            self.by_id.insert(mr.id, facts) != Some(facts)
        } else {
            self.by_id.remove(&mr.id).is_some()
        }
    }

    pub fn counts(&self) -> (u32, u32, u32) {
        let n = |f: fn(&MrFacts) -> bool| self.by_id.values().filter(|m| f(m)).count() as u32;
        (
            self.by_id.len() as u32,
            n(|m| m.waiting_on_me),
            n(|m| m.ready),
        )
    }
}

/// How many pipelines of each kind a project's window keeps: the newest of the default branch
/// (enough to count a red streak) and every active one.
pub const DEFAULT_BRANCH_KEEP: usize = 10;

/// A pipeline as the overview remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineFact {
    pub on_default: bool,
    pub status: Status,
}

/// The pipelines of one project the overview counts, by id (ids grow with creation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipelineWindow {
    pub by_id: BTreeMap<u64, PipelineFact>,
}

/// What a pipeline read changed, for the poller's schedule and the deployments re-read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowChange {
    pub any: bool,
    /// A default-branch pipeline appeared or changed status (a deploy may have happened).
    pub default_branch: bool,
}

impl PipelineWindow {
    pub fn apply(&mut self, pipelines: &[Pipeline], default_branch: &str) -> WindowChange {
        let mut change = WindowChange::default();
        for p in pipelines {
            let fact = PipelineFact {
                on_default: p.git_ref.as_deref() == Some(default_branch),
                status: p.status.clone(),
            };
            if self.by_id.get(&p.id) != Some(&fact) {
                change.any = true;
                change.default_branch |= fact.on_default;
                self.by_id.insert(p.id, fact);
            }
        }
        self.trim();
        change
    }

    /// Keeps the newest default-branch pipelines and the active ones; the rest no longer count.
    fn trim(&mut self) {
        let mut default_seen = 0;
        let mut drop = Vec::new();
        for (id, f) in self.by_id.iter().rev() {
            let keep = if f.on_default {
                default_seen += 1;
                default_seen <= DEFAULT_BRANCH_KEEP || f.status.is_active()
            } else {
                f.status.is_active()
            };
            if !keep {
                drop.push(*id);
            }
        }
        for id in drop {
            self.by_id.remove(&id);
        }
    }

    /// (failed pipelines at the head of the default branch, the newest one's status, active).
    /// Active, skipped and canceled pipelines neither break nor extend a red streak.
    pub fn counts(&self) -> (u32, Option<Status>, u32) {
        let defaults = || self.by_id.values().rev().filter(|f| f.on_default);
        let newest = defaults().next().map(|f| f.status.clone());
        let mut failing = 0;
        for f in defaults() {
            match f.status {
                Status::Failed => failing += 1,
                Status::Success => break,
                _ => {}
            }
        }
        let running = self.by_id.values().filter(|f| f.status.is_active()).count() as u32;
        (failing, newest, running)
    }
}

/// How long a quiet project waits before its next pipelines read: the refresh period,
/// doubling with every read that changed nothing, up to `ceiling`. Pipelines that run but do
/// not move (stuck `pending`, a long job) do not hold a project at the refresh period: only a
/// change does, and each status change is one.
pub fn quiet_period(base: Duration, streak: u32, ceiling: Duration) -> Duration {
    let grown = base.saturating_mul(1u32 << streak.min(16));
    grown.min(ceiling.max(base))
}

/// The longest a quiet project waits between reads (reset on any change, on a push to one of
/// its MRs, and when it is opened). At 12 s refreshes, 20 quiet projects cost 10 pipeline reads
/// a minute plus one group MR read per refresh.
pub const QUIET_CEILING: Duration = Duration::from_secs(120);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::models::{DetailedMergeStatus, UserRef};

    fn pipeline(id: u64, git_ref: &str, status: Status) -> Pipeline {
        serde_json::from_value(serde_json::json!({
            "id": id, "ref": git_ref, "status": status.to_string(),
        }))
        .expect("a pipeline list entry")
    }

    #[test]
    fn a_red_streak_counts_failures_back_to_the_newest_success() {
        let mut w = PipelineWindow::default();
        let ch = w.apply(
            &[
                pipeline(10, "main", Status::Success),
                pipeline(11, "main", Status::Failed),
                pipeline(12, "feature", Status::Failed),
                pipeline(13, "main", Status::Canceled),
                pipeline(14, "main", Status::Failed),
                pipeline(15, "main", Status::Running),
            ],
            "main",
        );
        assert!(ch.any && ch.default_branch);
        assert_eq!(w.counts(), (2, Some(Status::Running), 1));
        // A non-default pipeline that finished is no longer kept.
        assert!(!w.by_id.contains_key(&12));
        // The same read again changes nothing.
        assert_eq!(
            w.apply(&[pipeline(14, "main", Status::Failed)], "main"),
            WindowChange::default()
        );
        let ch = w.apply(&[pipeline(16, "main", Status::Success)], "main");
        assert!(ch.default_branch);
        assert_eq!(w.counts().0, 0);
    }

    #[test]
    fn the_window_keeps_ten_default_pipelines_and_every_active_one() {
        let mut w = PipelineWindow::default();
        let mut ps: Vec<Pipeline> = (1..=30)
            .map(|i| pipeline(i, "main", Status::Failed))
            .collect();
        ps.push(pipeline(0, "mr", Status::Pending));
        w.apply(&ps, "main");
        assert_eq!(w.by_id.len(), DEFAULT_BRANCH_KEEP + 1);
        assert_eq!(w.counts(), (10, Some(Status::Failed), 1));
    }

    #[test]
    fn mr_facts_come_from_the_list_entry() {
        let me = UserRef {
            id: 7,
            ..Default::default()
        };
        let mut mr = MergeRequest {
            id: 1,
            iid: 1,
            state: MrState::Opened,
            detailed_merge_status: Some(DetailedMergeStatus::Mergeable),
            ..Default::default()
        };
        let mut open = OpenMrs::default();
        assert!(open.apply(&mr, Some(7)));
        assert_eq!(open.counts(), (1, 0, 1));
        mr.reviewers = vec![me.into()];
        mr.draft = Some(true);
        assert!(open.apply(&mr, Some(7)));
        assert_eq!(open.counts(), (1, 1, 0));
        assert!(!open.apply(&mr, Some(7)), "same facts: no change");
        mr.state = MrState::Merged;
        assert!(open.apply(&mr, Some(7)));
        assert_eq!(open.counts(), (0, 0, 0));
    }

    #[test]
    fn attention_puts_red_then_waiting_on_me_first() {
        let mut a = ProjectSummary::new(0, "g/a");
        let mut b = ProjectSummary::new(0, "g/b");
        let mut c = ProjectSummary::new(1, "g/c");
        let d = ProjectSummary::new(0, "g/d");
        b.waiting_on_me = 2;
        c.failing_default = 1;
        a.running = 3;
        let mut rows = vec![a, b, c, d];
        sort_rows(&mut rows);
        let order: Vec<&str> = rows.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(order, ["g/c", "g/b", "g/a", "g/d"]);
    }

    #[test]
    fn quiet_projects_back_off_up_to_a_ceiling() {
        let base = Duration::from_secs(12);
        assert_eq!(quiet_period(base, 0, QUIET_CEILING), base);
        assert_eq!(quiet_period(base, 2, QUIET_CEILING), base * 4);
        assert_eq!(quiet_period(base, 9, QUIET_CEILING), QUIET_CEILING);
        assert_eq!(quiet_period(base, 99, QUIET_CEILING), QUIET_CEILING);
        // A refresh period above the ceiling is never shortened.
        let slow = Duration::from_secs(600);
        assert_eq!(quiet_period(slow, 3, QUIET_CEILING), slow);
    }
}
