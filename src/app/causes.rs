//! Failures explained before anyone asks: every failed job the snapshot holds (the poller
//! fetches jobs of the pipelines on screen and of those that just failed) is diagnosed once in
//! the background by the rules engine, from the tail of its trace, and its cause in a few words
//! is shown on the pipeline's row and on the MR's. Cached by job id (a retried job is a new
//! id); the model is never called from here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::diagnose::brief;
use crate::diagnose::model::{Diagnosis, JobContext};
use crate::gitlab::ProjectSnapshot;
use crate::gitlab::models::{Job, Status};

use super::msg::Effect;
use super::state::AppState;

/// Jobs sent to the background per snapshot: the rest follow on the next refreshes, so a
/// burst of failures never becomes a burst of trace downloads.
pub const PER_SNAPSHOT: usize = 4;

/// Bytes of each trace a background diagnosis keeps (the tail: jobs fail at the end). The
/// full trace is read only when the operator opens the log or presses `d`.
pub const TAIL_BYTES: u64 = 512 * 1024;

/// What the background diagnosis found for one job.
#[derive(Debug, Clone)]
pub struct JobCause {
    pub pipeline: u64,
    pub job_name: String,
    /// "test: refunds::idempotent_retry" (see `diagnose::brief`).
    pub brief: String,
    /// Groups the same failure across jobs and pipelines.
    pub signature: String,
    pub diagnosis: Arc<Diagnosis>,
}

/// The background diagnoses of the current project.
#[derive(Debug, Clone, Default)]
pub struct Causes {
    pub known: BTreeMap<u64, JobCause>,
    /// Sent to the driver, no answer yet.
    pub pending: BTreeSet<u64>,
    /// Could not be diagnosed (trace unreadable): why; not tried again this session.
    pub failed: BTreeMap<u64, String>,
}

/// One job for the background: enough to fetch its trace and to word its cause.
#[derive(Debug, Clone, PartialEq)]
pub struct CauseJob {
    pub job_id: u64,
    pub pipeline: u64,
    /// The project that holds the job: a multi-project downstream pipeline's own.
    pub project_id: u64,
    pub ctx: JobContext,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CauseRequest {
    /// The poller's epoch: answers for another project are dropped.
    pub epoch: u64,
    pub jobs: Vec<CauseJob>,
}

#[derive(Debug, Clone)]
pub struct CauseMsg {
    pub epoch: u64,
    pub job_id: u64,
    pub pipeline: u64,
    pub job_name: String,
    pub failure_reason: Option<crate::gitlab::models::FailureReason>,
    pub result: Result<Diagnosis, String>,
}

/// A failed job that fails its pipeline (an allowed failure does not).
fn counts(j: &Job) -> bool {
    j.status == Status::Failed && !j.allow_failure
}

/// The failed jobs of a pipeline and of its downstream (child, multi-project) pipelines — a
/// pipeline that failed downstream has no failed job of its own —, the earliest to fail first
/// (later failures are often its consequences).
pub fn failed_jobs(snap: &ProjectSnapshot, pipeline: u64) -> Vec<&Job> {
    let below = snap.downstream_tree(pipeline);
    let mut v: Vec<&Job> = std::iter::once(pipeline)
        .chain(below.iter().map(|(_, _, d)| d.id))
        .filter_map(|id| snap.jobs.get(&id))
        .flat_map(|js| js.iter().filter(|j| counts(j)))
        .collect();
    v.sort_by_key(|j| (j.finished_at, j.id));
    v
}

/// A pipeline the snapshot knows: listed, or reached through a trigger job.
fn known_pipeline(snap: &ProjectSnapshot, id: u64) -> bool {
    snap.pipelines.contains_key(&id) || snap.downstream_pipeline(id).is_some()
}

fn context(snap: &ProjectSnapshot, j: &Job) -> JobContext {
    JobContext {
        project: Some(snap.path().to_string()),
        job_id: Some(j.id),
        job_name: Some(j.name.clone()).filter(|s| !s.is_empty()),
        stage: Some(j.stage.clone()).filter(|s| !s.is_empty()),
        failure_reason: j.failure_reason.clone(),
        allow_failure: j.allow_failure,
        ..Default::default()
    }
}

/// Failed jobs of the snapshot not diagnosed, not pending and not given up on, newest
/// pipelines first, at most `PER_SNAPSHOT`.
pub fn wanted(snap: &ProjectSnapshot, causes: &Causes) -> Vec<CauseJob> {
    let mut out = Vec::new();
    for (&pipeline, jobs) in snap.jobs.iter().rev() {
        if !known_pipeline(snap, pipeline) {
            continue;
        }
        for j in jobs.iter().filter(|j| counts(j)) {
            if causes.known.contains_key(&j.id)
                || causes.pending.contains(&j.id)
                || causes.failed.contains_key(&j.id)
            {
                continue;
            }
            out.push(CauseJob {
                job_id: j.id,
                pipeline,
                project_id: snap.pipeline_project_id(pipeline),
                ctx: context(snap, j),
            });
            if out.len() >= PER_SNAPSHOT {
                return out;
            }
        }
    }
    out
}

/// After a new snapshot: forget jobs whose pipeline is gone (bounded memory) and send the
/// newly failed ones to the background.
pub fn on_snapshot(state: &mut AppState, fx: &mut Vec<Effect>) {
    let Some(snap) = state.snapshot.clone() else {
        return;
    };
    let c = &mut state.causes;
    c.known.retain(|_, k| known_pipeline(&snap, k.pipeline));
    c.failed
        .retain(|id, _| snap.jobs.values().flatten().any(|j| j.id == *id));
    let jobs = wanted(&snap, c);
    if jobs.is_empty() {
        return;
    }
    c.pending.extend(jobs.iter().map(|j| j.job_id));
    fx.push(Effect::DiagnoseInBackground(Box::new(CauseRequest {
        epoch: state.epoch,
        jobs,
    })));
}

/// A background diagnosis came back.
pub fn on_msg(state: &mut AppState, msg: CauseMsg) {
    if msg.epoch != state.epoch {
        return;
    }
    let c = &mut state.causes;
    c.pending.remove(&msg.job_id);
    match msg.result {
        Ok(d) => {
            let reason = msg.failure_reason.as_ref();
            c.known.insert(
                msg.job_id,
                JobCause {
                    pipeline: msg.pipeline,
                    job_name: msg.job_name,
                    brief: brief::brief(&d, reason),
                    signature: brief::signature(&d, reason),
                    diagnosis: Arc::new(d),
                },
            );
        }
        Err(e) => {
            c.failed.insert(msg.job_id, e);
        }
    }
    state.dirty = true;
}

/// Forget everything (another project).
pub fn clear(state: &mut AppState) {
    state.causes = Causes::default();
}

/// The cause of a failed pipeline in a few words: its earliest failed job's, with how many
/// other jobs failed; "diagnosing" while it is; `None` when nothing is known.
pub fn pipeline_brief(snap: &ProjectSnapshot, causes: &Causes, pipeline: u64) -> Option<String> {
    let failed = failed_jobs(snap, pipeline);
    let more = |n: usize| match n {
        0 => String::new(),
        n => format!(" (+{n} job{})", if n == 1 { "" } else { "s" }),
    };
    if let Some(k) = failed.iter().find_map(|j| causes.known.get(&j.id)) {
        return Some(format!("{}{}", k.brief, more(failed.len() - 1)));
    }
    // Known from GitLab alone, before (or without) a trace.
    let from_gitlab = failed.iter().find_map(|j| {
        j.failure_reason
            .as_ref()
            .filter(|r| r.is_infrastructure())
            .map(|r| format!("infra: {}{}", r.as_str(), more(failed.len() - 1)))
    });
    if from_gitlab.is_some() {
        return from_gitlab;
    }
    failed
        .iter()
        .any(|j| causes.pending.contains(&j.id))
        .then(|| DIAGNOSING.to_string())
}

/// What a failed pipeline's cause reads while its jobs are being diagnosed.
pub const DIAGNOSING: &str = "diagnosing";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::model::Category;
    use crate::testkit;

    fn diag(tests: &[&str]) -> Diagnosis {
        Diagnosis {
            category: Category::TestAssertion,
            summary: String::new(),
            root_cause: String::new(),
            evidence: Vec::new(),
            files: Vec::new(),
            tests: tests.iter().map(|s| s.to_string()).collect(),
            fix: String::new(),
            confidence: 0.7,
            infra_or_flaky: false,
            commands: Vec::new(),
            secrets: Vec::new(),
        }
    }

    /// The testkit snapshot plus `n` more failed pipelines with a failed job each.
    fn with_failed_jobs(n: u64) -> ProjectSnapshot {
        let mut snap = testkit::snapshot();
        let (p, j) = (snap.pipelines[&101].clone(), snap.jobs[&101][2].clone());
        for i in 0..n {
            let (mut p, mut j) = (p.clone(), j.clone());
            p.id = 200 + i;
            j.id = 2000 + i;
            std::sync::Arc::make_mut(&mut snap.pipelines).insert(p.id, p);
            std::sync::Arc::make_mut(&mut snap.jobs).insert(200 + i, vec![j]);
        }
        snap
    }

    #[test]
    fn each_failed_job_is_asked_for_once_and_in_bounded_batches() {
        let snap = with_failed_jobs(10);
        let mut causes = Causes::default();
        let mut asked = Vec::new();
        loop {
            let batch = wanted(&snap, &causes);
            if batch.is_empty() {
                break;
            }
            assert!(batch.len() <= PER_SNAPSHOT);
            causes.pending.extend(batch.iter().map(|j| j.job_id));
            asked.extend(batch.into_iter().map(|j| (j.pipeline, j.job_id)));
        }
        // Every failed job (10 + 1002 + 1061), once, newest pipelines first.
        assert_eq!(asked.len(), 12);
        assert_eq!(asked[0], (209, 2009));
        let mut ids: Vec<u64> = asked.iter().map(|a| a.1).collect();
        ids.dedup();
        assert_eq!(ids.len(), 12);
        assert!(asked.contains(&(106, 1061)) && asked.contains(&(101, 1002)));
    }

    /// A multi-project downstream pipeline's failed job is fetched from its own project (its
    /// trace does not exist under the parent's project id); a child pipeline's from this one.
    #[test]
    fn a_downstream_job_is_asked_of_the_project_that_holds_it() {
        let mut snap = testkit::snapshot();
        for (bridge_id, child, project) in [(7001u64, 9001u64, 42u64), (7002, 9002, 1)] {
            let d: crate::gitlab::models::Pipeline = serde_json::from_value(serde_json::json!({
                "id": child, "project_id": project, "status": "failed",
                "source": "pipeline", "ref": "main"}))
            .unwrap();
            let b: crate::gitlab::Bridge = serde_json::from_value(serde_json::json!({
                "id": bridge_id, "name": "trigger", "stage": "deploy", "status": "failed",
                "downstream_pipeline": d}))
            .unwrap();
            std::sync::Arc::make_mut(&mut snap.bridges)
                .entry(101)
                .or_default()
                .push(b);
            let mut j = snap.jobs[&101][2].clone();
            j.id = child * 10;
            std::sync::Arc::make_mut(&mut snap.jobs).insert(child, vec![j]);
        }
        assert_eq!(snap.job_project_id(90010), 42);
        assert_eq!(snap.job_project_id(90020), 1);
        assert_eq!(snap.job_project_id(1002), snap.project.id);
        let mut causes = Causes::default();
        let mut asked = Vec::new();
        loop {
            let batch = wanted(&snap, &causes);
            if batch.is_empty() {
                break;
            }
            causes.pending.extend(batch.iter().map(|j| j.job_id));
            asked.extend(batch.into_iter().map(|j| (j.job_id, j.project_id)));
        }
        assert!(asked.contains(&(90010, 42)), "{asked:?}");
        assert!(asked.contains(&(90020, 1)), "{asked:?}");
        assert!(asked.contains(&(1002, snap.project.id)), "{asked:?}");
    }

    #[test]
    fn a_pipeline_shows_its_earliest_failed_jobs_cause_and_how_many_more() {
        let snap = testkit::snapshot();
        let pid = 101;
        let failed = failed_jobs(&snap, pid);
        assert!(!failed.is_empty());
        let mut causes = Causes::default();
        assert_eq!(pipeline_brief(&snap, &causes, pid), None);
        // A runner failure is known from GitLab before any trace is read.
        assert_eq!(
            pipeline_brief(&snap, &causes, 106).as_deref(),
            Some("infra: runner_system_failure")
        );
        causes.pending.insert(failed[0].id);
        assert_eq!(
            pipeline_brief(&snap, &causes, pid).as_deref(),
            Some(DIAGNOSING)
        );
        let d = diag(&["refunds::idempotent_retry"]);
        causes.known.insert(
            failed[0].id,
            JobCause {
                pipeline: pid,
                job_name: failed[0].name.clone(),
                brief: brief::brief(&d, None),
                signature: brief::signature(&d, None),
                diagnosis: Arc::new(d),
            },
        );
        let shown = pipeline_brief(&snap, &causes, pid).unwrap_or_default();
        assert!(
            shown.starts_with("test: refunds::idempotent_retry"),
            "{shown}"
        );
    }
}
