//! The failure inbox (`F`): every current failure of the project — the newest pipeline of
//! each branch and MR, when it failed — grouped by cause signature (same test, same error
//! line modulo numbers and paths, same runner failure), the group with the newest failure
//! first. Enter diagnoses the group's newest job in full (its whole log, the model when one
//! is configured). Built from the background diagnoses (`causes`): no request of its own.

use std::collections::BTreeMap;

use crate::command::model::Target;
use crate::command::queue::{Queue, QueueItem};
use crate::gitlab::ProjectSnapshot;
use crate::gitlab::models::Status;

use super::causes::{self, Causes};
use super::msg::Effect;
use super::state::{AppState, View};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxView {
    /// Selected group.
    pub selected: usize,
}

/// One failed job in a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxJob {
    pub job_id: u64,
    pub pipeline: u64,
    pub job_name: String,
    /// The pipeline's ref as shown in the pipelines pane (`main`, `!12`).
    pub git_ref: String,
    /// The MR the pipeline reports on (its `refs/merge-requests/<iid>/…` ref, or an open MR's
    /// source branch at the MR's sha).
    pub mr_iid: Option<u64>,
}

/// Failures with one cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub signature: String,
    pub brief: String,
    /// Newest first.
    pub jobs: Vec<InboxJob>,
    /// Distinct pipelines among the jobs.
    pub pipelines: usize,
    /// Outside the code (runner, network): a retry is the usual answer.
    pub infra: bool,
    /// A job of the group passed on the same commit elsewhere (same sha, same job name).
    pub flaky: bool,
}

impl Group {
    /// "3 pipelines: test: refunds::idempotent_retry", "1 job: infra: runner_system_failure".
    pub fn headline(&self) -> String {
        let (n, what) = if self.pipelines > 1 {
            (self.pipelines, "pipelines")
        } else if self.jobs.len() > 1 {
            (self.jobs.len(), "jobs")
        } else {
            (1, "job")
        };
        let what = if n == 1 {
            what.trim_end_matches('s')
        } else {
            what
        };
        let flaky = if self.flaky {
            " (flaky: passed on the same commit)"
        } else {
            ""
        };
        format!("{n} {what}: {}{flaky}", self.brief)
    }
}

/// The queue's items that answer a group's failures: a retry of one of its jobs or pipelines,
/// a comment on an MR whose pipeline failed this way — what the planner proposed for the
/// group, waiting for the operator in the queue. Other commands on the same MR (reviewers,
/// labels, a merge) are not about the failure and stay in the queue alone.
pub fn proposals<'q>(g: &Group, queue: &'q Queue) -> Vec<&'q QueueItem> {
    use crate::command::model::Kind;
    queue
        .items()
        .iter()
        .filter(|i| match (i.command.kind(), i.command.target()) {
            (Kind::RetryJob, Target::Job(id)) => g.jobs.iter().any(|j| j.job_id == id),
            (Kind::RetryPipeline, Target::Pipeline(id)) => g.jobs.iter().any(|j| j.pipeline == id),
            (Kind::CommentMr, Target::Mr(iid)) => g.jobs.iter().any(|j| j.mr_iid == Some(iid)),
            _ => false,
        })
        .collect()
}

/// Pipelines that are the newest of their ref: an older failure on a branch that has run
/// again since is history, not a current failure.
fn current_pipelines(snap: &ProjectSnapshot) -> BTreeMap<u64, String> {
    let mut newest: BTreeMap<&str, u64> = BTreeMap::new();
    for p in snap.pipelines.values() {
        let r = p.git_ref.as_deref().unwrap_or("");
        let e = newest.entry(r).or_insert(p.id);
        *e = (*e).max(p.id);
    }
    newest
        .into_iter()
        .filter(|(_, id)| {
            snap.pipeline(*id)
                .is_some_and(|p| p.status == Status::Failed)
        })
        .map(|(r, id)| (id, shown_ref(r)))
        .collect()
}

fn shown_ref(r: &str) -> String {
    use crate::gitlab::snapshot::{MrRefKind, mr_ref};
    match mr_ref(Some(r)) {
        Some((n, MrRefKind::Head)) => format!("!{n}"),
        Some((n, kind)) => format!("!{n} {}", kind.as_str()),
        None => r.to_string(),
    }
}

/// Failed pipelines the open inbox asks the poller to load jobs for (newest first): beyond
/// those on screen, within the poller's per-pass detail budget.
pub const WATCHED: usize = 20;

/// The current failed pipelines, newest first, at most [`WATCHED`]: while the inbox is open
/// their jobs are wanted as if they were on screen, so that every failure gets its cause.
pub fn watched_pipelines(snap: &ProjectSnapshot) -> Vec<u64> {
    current_pipelines(snap)
        .into_keys()
        .rev()
        .take(WATCHED)
        .collect()
}

/// The current failures grouped by cause, the group with the newest failure first.
pub fn groups(snap: &ProjectSnapshot, causes: &Causes) -> Vec<Group> {
    let current = current_pipelines(snap);
    let mut by_sig: BTreeMap<&str, Group> = BTreeMap::new();
    for (&pipeline, git_ref) in current.iter().rev() {
        let mr_iid = snap.mr_of_pipeline(pipeline);
        for j in causes::failed_jobs(snap, pipeline) {
            let Some(k) = causes.known.get(&j.id) else {
                continue;
            };
            let g = by_sig.entry(&k.signature).or_insert_with(|| Group {
                signature: k.signature.clone(),
                brief: k.brief.clone(),
                jobs: Vec::new(),
                pipelines: 0,
                infra: k.diagnosis.infra_or_flaky,
                flaky: false,
            });
            g.flaky |= snap.passed_elsewhere(pipeline, j).is_some();
            if !g.jobs.iter().any(|x| x.pipeline == pipeline) {
                g.pipelines += 1;
            }
            g.jobs.push(InboxJob {
                job_id: j.id,
                pipeline,
                job_name: j.name.clone(),
                git_ref: git_ref.clone(),
                mr_iid,
            });
        }
    }
    let mut out: Vec<Group> = by_sig.into_values().collect();
    for g in &mut out {
        g.jobs
            .sort_by(|a, b| b.pipeline.cmp(&a.pipeline).then(b.job_id.cmp(&a.job_id)));
    }
    out.sort_by(|a, b| {
        let newest = |g: &Group| g.jobs.first().map_or(0, |j| j.pipeline);
        newest(b)
            .cmp(&newest(a))
            .then(a.signature.cmp(&b.signature))
    });
    out
}

/// Failed pipelines on screen whose jobs are still being diagnosed or not fetched yet: the
/// inbox says it is not complete.
pub fn unexplained(snap: &ProjectSnapshot, causes: &Causes) -> usize {
    current_pipelines(snap)
        .keys()
        .filter(|id| {
            let failed = causes::failed_jobs(snap, **id);
            failed.is_empty() || failed.iter().all(|j| !causes.known.contains_key(&j.id))
        })
        .count()
}

/// `F`: open the inbox (or close it).
pub fn toggle(state: &mut AppState) {
    state.view = match state.view {
        View::Inbox(_) => View::Main,
        _ => View::Inbox(InboxView::default()),
    };
    state.dirty = true;
}

pub fn move_selection(state: &mut AppState, delta: isize) {
    let n = state
        .snapshot
        .as_deref()
        .map_or(0, |s| groups(s, &state.causes).len());
    if let View::Inbox(v) = &mut state.view {
        let last = n.saturating_sub(1) as isize;
        v.selected = (v.selected as isize).saturating_add(delta).clamp(0, last) as usize;
        state.dirty = true;
    }
}

/// Enter: the full diagnosis of the selected group's newest job.
pub fn open(state: &mut AppState, fx: &mut Vec<Effect>) {
    let (View::Inbox(v), Some(snap)) = (&state.view, state.snapshot.as_deref()) else {
        return;
    };
    let groups = groups(snap, &state.causes);
    let Some(job) = groups
        .get(v.selected.min(groups.len().saturating_sub(1)))
        .and_then(|g| g.jobs.first())
    else {
        return;
    };
    let job_id = job.job_id;
    // Esc in the diagnosis comes back here.
    super::diagnosis::start(state, job_id, fx);
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::diagnose::brief;
    use crate::diagnose::model::{Category, Diagnosis};
    use crate::gitlab::models::FailureReason;
    use crate::testkit;

    fn diag(category: Category, tests: &[&str]) -> Diagnosis {
        Diagnosis {
            category,
            summary: String::new(),
            root_cause: String::new(),
            evidence: Vec::new(),
            files: Vec::new(),
            tests: tests.iter().map(|s| s.to_string()).collect(),
            fix: String::new(),
            confidence: 0.7,
            infra_or_flaky: category.is_infra_or_flaky(),
            commands: Vec::new(),
            secrets: Vec::new(),
        }
    }

    /// Three MRs whose newest pipelines fail the same test, two whose runner died, and an
    /// older failure of a branch that has passed since.
    pub(crate) fn scenario() -> (ProjectSnapshot, Causes) {
        let mut snap = testkit::snapshot();
        let base_p = snap.pipelines[&101].clone();
        let base_j = snap.jobs[&101][2].clone();
        let mut causes = Causes::default();
        let mut add = |snap: &mut ProjectSnapshot, pid: u64, r: &str, d: Diagnosis, fr| {
            let mut p = base_p.clone();
            p.id = pid;
            p.git_ref = Some(r.to_string());
            p.sha = Some(format!("sha{pid}"));
            let mut j = base_j.clone();
            j.id = pid * 10;
            j.failure_reason = fr;
            if let Some(jp) = j.pipeline.as_mut() {
                jp.id = pid;
                jp.git_ref = Some(r.to_string());
                jp.sha = Some(format!("sha{pid}"));
            }
            std::sync::Arc::make_mut(&mut snap.pipelines).insert(pid, p);
            std::sync::Arc::make_mut(&mut snap.jobs).insert(pid, vec![j.clone()]);
            causes.known.insert(
                j.id,
                causes::JobCause {
                    pipeline: pid,
                    job_name: j.name.clone(),
                    brief: brief::brief(&d, j.failure_reason.as_ref()),
                    signature: brief::signature(&d, j.failure_reason.as_ref()),
                    diagnosis: Arc::new(d),
                },
            );
        };
        let t = || diag(Category::TestAssertion, &["refunds::idempotent_retry"]);
        let infra = || diag(Category::Infrastructure, &[]);
        for (pid, r) in [
            (301, "refs/merge-requests/31/head"),
            (302, "refs/merge-requests/32/head"),
            (303, "refs/merge-requests/33/head"),
        ] {
            add(&mut snap, pid, r, t(), Some(FailureReason::ScriptFailure));
        }
        for (pid, r) in [(304, "refs/merge-requests/34/head"), (305, "feature-x")] {
            add(
                &mut snap,
                pid,
                r,
                infra(),
                Some(FailureReason::RunnerSystemFailure),
            );
        }
        // feature-y failed on 306, then passed on 307: not current.
        add(
            &mut snap,
            306,
            "feature-y",
            t(),
            Some(FailureReason::ScriptFailure),
        );
        let mut passed = base_p.clone();
        passed.id = 307;
        passed.git_ref = Some("feature-y".into());
        passed.status = Status::Success;
        std::sync::Arc::make_mut(&mut snap.pipelines).insert(307, passed);
        (snap, causes)
    }

    #[test]
    fn failures_are_grouped_by_cause_newest_first() {
        let (snap, causes) = scenario();
        let g = groups(&snap, &causes);
        let heads: Vec<String> = g.iter().map(Group::headline).collect();
        assert_eq!(
            heads,
            [
                "2 pipelines: infra: runner_system_failure",
                "3 pipelines: test: refunds::idempotent_retry",
            ],
            "{g:#?}"
        );
        assert!(g[0].infra && !g[1].infra);
        let refs: Vec<&str> = g[1].jobs.iter().map(|j| j.git_ref.as_str()).collect();
        assert_eq!(refs, ["!33", "!32", "!31"]);
        // The testkit's own failures (#106 main's runner failure, #101 !1) have no known
        // cause here: the inbox says two failed pipelines are not explained yet.
        assert_eq!(unexplained(&snap, &causes), 2);
    }

    #[test]
    fn a_failure_that_passed_on_the_same_commit_is_flaky() {
        let (mut snap, causes) = scenario();
        assert!(groups(&snap, &causes).iter().all(|g| !g.flaky));
        // !31's commit ran again in pipeline 308 (a branch pipeline) and `unit` passed there.
        let mut p = snap.pipelines[&301].clone();
        p.id = 308;
        p.git_ref = Some("feature-31".into());
        p.status = Status::Success;
        std::sync::Arc::make_mut(&mut snap.pipelines).insert(308, p);
        let mut j = snap.jobs[&301][0].clone();
        j.id = 3080;
        j.status = Status::Success;
        j.failure_reason = None;
        std::sync::Arc::make_mut(&mut snap.jobs).insert(308, vec![j]);
        let failed = snap.jobs[&301][0].clone();
        assert_eq!(snap.passed_elsewhere(301, &failed), Some(308));
        assert_eq!(
            snap.passed_elsewhere(302, &snap.jobs[&302][0].clone()),
            None
        );
        let g = groups(&snap, &causes);
        let tests = g.iter().find(|g| !g.infra).unwrap();
        assert!(tests.flaky);
        assert!(
            tests
                .headline()
                .ends_with("(flaky: passed on the same commit)"),
            "{}",
            tests.headline()
        );
    }

    /// Beside each group, what the queue holds for it: the retry of a runner failure's job
    /// with the infra group, the comment on a failing MR with the test group, nothing else.
    #[test]
    fn each_group_shows_the_proposals_that_act_on_its_failures() {
        use crate::command::model::Command;
        use crate::command::policy::Policy;
        use crate::command::queue::Source;
        let (snap, causes) = scenario();
        let project = snap.path().to_string();
        let cmd = |v: serde_json::Value| -> Command { serde_json::from_value(v).unwrap() };
        let mut q = Queue::new(Policy::default(), "op@host", "sess");
        let now = "2026-03-01T12:00:00Z".parse().unwrap();
        for c in [
            cmd(
                serde_json::json!({"kind": "retry_job", "project": project, "job_id": 3040,
                "rationale": "runner died"}),
            ),
            cmd(
                serde_json::json!({"kind": "comment_mr", "project": project, "mr_iid": 31,
                "body": "refunds::idempotent_retry fails", "rationale": "real failure"}),
            ),
            cmd(
                serde_json::json!({"kind": "note", "project": project, "text": "hi",
                "rationale": "advice"}),
            ),
            cmd(
                serde_json::json!({"kind": "assign_reviewers", "project": project, "mr_iid": 31,
                "reviewers": ["bob"], "rationale": "not about the failure"}),
            ),
            cmd(
                serde_json::json!({"kind": "retry_job", "project": project, "job_id": 1061,
                "rationale": "not in a group"}),
            ),
        ] {
            q.propose(c, Source::Rules, &snap, now);
        }
        let g = groups(&snap, &causes);
        let kinds = |g: &Group| -> Vec<String> {
            proposals(g, &q)
                .iter()
                .map(|i| format!("{} {}", i.command.kind().as_str(), i.command.target()))
                .collect()
        };
        assert_eq!(kinds(&g[0]), ["retry_job job 3040"]);
        assert_eq!(kinds(&g[1]), ["comment_mr !31"]);
        assert_eq!(g[1].jobs.last().and_then(|j| j.mr_iid), Some(31));
    }

    #[test]
    fn enter_diagnoses_the_groups_newest_job() {
        let (snap, causes) = scenario();
        let mut s = testkit::AppBuilder::new().snapshot(Arc::new(snap)).build();
        s.causes = causes;
        toggle(&mut s);
        move_selection(&mut s, 1);
        let mut fx = Vec::new();
        open(&mut s, &mut fx);
        let job = fx.iter().find_map(|e| match e {
            Effect::Diagnose(r) => Some(r.job_id),
            _ => None,
        });
        assert_eq!(job, Some(3030));
        assert!(matches!(s.view, View::Diagnosis(_)));
        // Esc goes back to the inbox, its selection kept.
        super::super::diagnosis::close(&mut s, &mut fx);
        assert!(matches!(s.view, View::Inbox(InboxView { selected: 1 })));
    }
}
