//! State transitions of the simulated world: pipelines progress with the clock, writes change
//! state as GitLab would, everything is deterministic from the seed.

use super::{JOB_BASE, World, WriteError};
use crate::sim::MANUAL_EPOCH_MS as T0;
use crate::sim::scenario::build;

const MIN: i64 = 60_000;

fn world() -> World {
    build(42, 0, T0).expect("scenario builds")
}

fn head_status(w: &World, iid: u64, now: i64) -> &'static str {
    let mr = &w.mrs[&iid];
    w.pipeline_status(w.head_pipeline(mr).unwrap(), now)
}

fn failed_job(w: &World, iid: u64, now: i64) -> u64 {
    let p = w.head_pipeline(&w.mrs[&iid]).unwrap();
    w.current_jobs(p)
        .into_iter()
        .map(|j| &w.jobs[j])
        .find(|j| j.status(now) == "failed")
        .map(|j| j.id)
        .expect("a failed job")
}

#[test]
fn scenario_has_the_documented_variety() {
    let w = world();
    let open: Vec<_> = w.mrs.values().filter(|m| m.state == "opened").collect();
    assert!(open.len() >= 15, "{} open MRs", open.len());
    assert_eq!(w.detailed_merge_status(&w.mrs[&5], T0), "draft_status");
    assert_eq!(w.detailed_merge_status(&w.mrs[&6], T0), "conflict");
    assert_eq!(w.detailed_merge_status(&w.mrs[&7], T0), "not_approved");
    assert_eq!(w.detailed_merge_status(&w.mrs[&8], T0), "ci_must_pass");
    assert_eq!(w.detailed_merge_status(&w.mrs[&9], T0), "mergeable");
    assert_eq!(w.detailed_merge_status(&w.mrs[&19], T0), "ci_still_running");
    assert!(w.mrs[&11].reviewers.is_empty());
    assert!(w.mrs[&12].changes_count() > 1000);
    assert!(
        w.mrs[&13]
            .description
            .contains("ignore previous instructions")
    );
    assert!(
        T0 - w.mrs[&4].updated_at > 21 * 24 * 60 * MIN,
        "stale for weeks"
    );
    let reasons: Vec<String> = w
        .jobs
        .iter()
        .filter_map(|j| j.failure_reason(T0).map(String::from))
        .collect();
    for r in [
        "runner_system_failure",
        "stuck_or_timeout_failure",
        "script_failure",
        "job_execution_timeout",
        "api_failure",
    ] {
        assert!(reasons.iter().any(|x| x == r), "{r} present");
    }
    let statuses: Vec<&str> = w.jobs.iter().map(|j| j.status(T0)).collect();
    for s in [
        "manual",
        "waiting_for_resource",
        "running",
        "skipped",
        "success",
        "failed",
    ] {
        assert!(statuses.contains(&s), "a job is {s}");
    }
    assert!(
        w.jobs
            .iter()
            .any(|j| j.allow_failure && j.status(T0) == "failed")
    );
}

#[test]
fn ids_do_not_depend_on_the_seed_but_shas_do() {
    let a = build(1, 0, T0).unwrap();
    let b = build(2, 0, T0).unwrap();
    let ids = |w: &World| -> Vec<(u64, Vec<u64>)> {
        w.mrs
            .values()
            .map(|m| (m.iid, m.pipelines.clone()))
            .collect()
    };
    assert_eq!(ids(&a), ids(&b));
    assert_eq!(a.jobs.len(), b.jobs.len());
    assert_ne!(a.mrs[&8].sha, b.mrs[&8].sha);
    let again = build(1, 0, T0).unwrap();
    assert_eq!(a.mrs[&8].sha, again.mrs[&8].sha);
    assert_eq!(a.jobs[40].started_at, again.jobs[40].started_at);
}

#[test]
fn running_pipeline_progresses_to_success() {
    let w = world();
    assert_eq!(head_status(&w, 19, T0), "running");
    let p = w.head_pipeline(&w.mrs[&19]).unwrap();
    let before = w.pipeline_updated_at(p, T0);
    assert_eq!(head_status(&w, 19, T0 + 30 * MIN), "success");
    assert!(w.pipeline_updated_at(p, T0 + 30 * MIN) > before);
    assert_eq!(
        w.detailed_merge_status(&w.mrs[&19], T0 + 30 * MIN),
        "mergeable"
    );
}

#[test]
fn pipeline_goes_created_pending_running_success() {
    let mut w = world();
    let id = w.push_to_main(T0, 12, "push".into());
    let p = w.pipeline(id).unwrap().clone();
    let mut seen = Vec::new();
    for s in 0..3600 {
        let st = w.pipeline_status(&p, T0 + s * 1000);
        if seen.last() != Some(&st) {
            seen.push(st);
        }
    }
    assert_eq!(seen[..3], ["created", "pending", "running"]);
    // staging deploys, production waits for a human
    assert_eq!(*seen.last().unwrap(), "success");
    let _ = &mut w;
}

#[test]
fn compile_error_skips_later_stages() {
    let w = world();
    let p = w.head_pipeline(&w.mrs[&14]).unwrap();
    let statuses: Vec<(&str, &str)> = w
        .current_jobs(p)
        .into_iter()
        .map(|j| (w.jobs[j].name.as_str(), w.jobs[j].status(T0)))
        .collect();
    assert_eq!(statuses[0], ("build", "failed"));
    assert!(
        statuses[1..].iter().all(|(_, s)| *s == "skipped"),
        "{statuses:?}"
    );
}

#[test]
fn retry_of_a_flaky_job_makes_a_new_job_that_passes() {
    let mut w = world();
    let old = failed_job(&w, 10, T0);
    let n = w.jobs.len();
    let new = w.retry_job(old, T0).unwrap();
    assert_eq!(new, JOB_BASE + n as u64, "new id at the end");
    assert!(w.job(old).unwrap().retried);
    assert_eq!(w.job(new).unwrap().status(T0), "pending");
    assert_eq!(head_status(&w, 10, T0), "running");
    assert_eq!(head_status(&w, 10, T0 + 30 * MIN), "success");
    assert_eq!(
        w.retry_job(old, T0),
        Err(WriteError::Forbidden("Job is not retryable")),
        "an attempt is retried once"
    );
}

#[test]
fn retry_of_a_real_failure_fails_again() {
    let mut w = world();
    let old = failed_job(&w, 8, T0);
    w.retry_job(old, T0).unwrap();
    assert_eq!(head_status(&w, 8, T0 + 30 * MIN), "failed");
}

#[test]
fn retry_after_a_compile_error_reruns_skipped_stages() {
    let mut w = world();
    let build_job = failed_job(&w, 14, T0);
    w.retry_job(build_job, T0).unwrap();
    let p = w.head_pipeline(&w.mrs[&14]).unwrap();
    let later: Vec<&str> = w
        .current_jobs(p)
        .into_iter()
        .skip(1)
        .map(|j| w.jobs[j].status(T0))
        .collect();
    assert!(later.iter().all(|s| *s == "created"), "{later:?}");
    // the compile error is real: build fails again and the rest are skipped again
    assert_eq!(head_status(&w, 14, T0 + 30 * MIN), "failed");
}

#[test]
fn retry_pipeline_retries_failed_jobs_and_is_a_noop_otherwise() {
    let mut w = world();
    let pid = w.head_pipeline(&w.mrs[&16]).unwrap().id;
    let n = w.jobs.len();
    w.retry_pipeline(pid, T0).unwrap();
    assert_eq!(w.jobs.len(), n + 1);
    assert_eq!(head_status(&w, 16, T0 + 30 * MIN), "success");
    let green = w.head_pipeline(&w.mrs[&7]).unwrap().id;
    let n = w.jobs.len();
    w.retry_pipeline(green, T0).unwrap();
    assert_eq!(w.jobs.len(), n, "nothing failed, nothing retried");
}

#[test]
fn cancel_stops_running_work_and_refuses_finished_jobs() {
    let mut w = world();
    let pid = w.head_pipeline(&w.mrs[&19]).unwrap().id;
    w.cancel_pipeline(pid, T0).unwrap();
    assert_eq!(head_status(&w, 19, T0 + 30 * MIN), "canceled");
    let done = failed_job(&w, 8, T0);
    assert_eq!(
        w.cancel_job(done, T0),
        Err(WriteError::Forbidden("Job is not cancelable"))
    );
}

#[test]
fn only_manual_jobs_can_be_played() {
    let mut w = world();
    let manual = w
        .jobs
        .iter()
        .find(|j| j.status(T0) == "manual")
        .map(|j| j.id)
        .unwrap();
    w.play_job(manual, T0).unwrap();
    // A deployment job prepares its environment before it runs.
    assert!(
        matches!(w.job(manual).unwrap().status(T0), "pending" | "preparing"),
        "{}",
        w.job(manual).unwrap().status(T0)
    );
    assert_eq!(w.job(manual).unwrap().status(T0 + 30 * MIN), "success");
    assert_eq!(
        w.play_job(manual, T0 + 30 * MIN),
        Err(WriteError::BadRequest("Unplayable Job"))
    );
}

#[test]
fn waiting_for_resource_deploy_eventually_runs() {
    let w = world();
    let j = w
        .jobs
        .iter()
        .find(|j| j.status(T0) == "waiting_for_resource")
        .unwrap();
    assert!(j.environment.is_some());
    assert_eq!(j.status(T0 + 60 * MIN), "success");
}

#[test]
fn pushes_arrive_with_the_clock() {
    let mut w = world();
    let n = w.pipelines.len();
    w.tick(T0);
    assert_eq!(w.pipelines.len(), n, "nothing before the first arrival");
    w.tick(T0 + 60 * MIN);
    assert!(w.pipelines.len() >= n + 10, "{} new", w.pipelines.len() - n);
    let ids: Vec<u64> = w.pipelines.iter().map(|p| p.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "ids grow with creation time");
    let mut again = world();
    again.tick(T0 + 60 * MIN);
    assert_eq!(again.pipelines.len(), w.pipelines.len(), "deterministic");
}

#[test]
fn scale_builds_n_mrs_and_n_pipelines() {
    let w = build(7, 1000, T0).unwrap();
    assert_eq!(w.mrs.len(), 1000);
    assert_eq!(w.pipelines.len(), 1000);
    assert!(w.mrs.values().all(|m| m.pipelines.len() == 1));
    let titles: std::collections::HashSet<_> = w.mrs.values().map(|m| &m.title).collect();
    assert_eq!(titles.len(), 1000, "titles are distinct");
}

#[test]
fn auto_merge_waits_for_the_pipeline() {
    let mut w = world();
    assert_eq!(w.detailed_merge_status(&w.mrs[&19], T0), "ci_still_running");
    w.mrs.get_mut(&19).unwrap().auto_merge = true;
    w.tick(T0 + MIN);
    assert_eq!(w.mrs[&19].state, "opened", "still running");
    w.tick(T0 + 30 * MIN);
    assert_eq!(w.mrs[&19].state, "merged");
    let merged_at = w.mrs[&19].merged_at.unwrap();
    assert!(
        merged_at < T0 + 30 * MIN,
        "merged when the pipeline finished, not when asked"
    );
}

#[test]
fn a_new_push_keeps_real_failures_and_drops_flaky_ones() {
    let mut w = world();
    w.push_to_mr(10, T0, "fix".into()).unwrap();
    w.push_to_mr(8, T0, "fix".into()).unwrap();
    assert_eq!(head_status(&w, 10, T0 + 30 * MIN), "success");
    assert_eq!(head_status(&w, 8, T0 + 30 * MIN), "failed");
    assert_eq!(w.mrs[&8].updated_at, T0);
}

/// Real GitLab's variety (issue 10): every pipeline status and source, gitlab.com's id sizes,
/// a merged results MR. Statuses are collected over the first hour of the clock, with one
/// running pipeline canceled (`canceling` while its runner stops) and one kept `created`.
#[test]
fn the_world_has_every_pipeline_status_and_source_gitlab_has() {
    let mut w = world();
    let sources: std::collections::BTreeSet<&str> =
        w.pipelines.iter().map(|p| p.source.as_str()).collect();
    for s in [
        "push",
        "web",
        "schedule",
        "merge_request_event",
        "parent_pipeline",
        "pipeline",
        "trigger",
        "api",
    ] {
        assert!(sources.contains(s), "a pipeline from {s}: {sources:?}");
    }
    assert!(
        w.pipelines.iter().all(|p| p.id >= 1_000_000_000),
        "10-digit pipeline ids"
    );
    assert!(
        w.jobs.iter().all(|j| j.id >= 10_000_000_000),
        "11-digit job ids"
    );
    // !19's pipeline runs at T0: cancel it, its running jobs are `canceling` for a moment.
    let pid = w.head_pipeline(&w.mrs[&19]).unwrap().id;
    w.cancel_pipeline(pid, T0).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    // Every second from 20 minutes before the clock's start (the world's recent past: the
    // newest pipelines were `created`, then `pending`) to 20 minutes after (`preparing`
    // lasts seconds), then each minute to the hour.
    let seconds = (-1_200..1_200).map(|s| T0 + s * 1_000);
    for t in seconds.chain((20..60).map(|m| T0 + m * MIN)) {
        for p in &w.pipelines {
            seen.insert(w.pipeline_status(p, t));
        }
    }
    for s in [
        "created",
        "waiting_for_resource",
        "preparing",
        "pending",
        "running",
        "success",
        "failed",
        "canceling",
        "canceled",
        "manual",
        "scheduled",
    ] {
        assert!(
            seen.contains(s),
            "a pipeline is {s} at some point: {seen:?}"
        );
    }
}

/// GitLab's rules (`Gitlab::Ci::Status::Composite`), in its order: allowed failures and
/// manual jobs that may fail do not decide; `created` beside finished jobs is `running`.
#[test]
fn composite_status_follows_gitlabs_order() {
    use super::status::composite;
    let c = |v: &[&str]| composite(&v.iter().copied().collect());
    assert_eq!(c(&["success", "ignored"]), "success");
    assert_eq!(c(&["ignored"]), "skipped");
    // No simulated pipeline is all-skipped: the rule is checked here, not in the world.
    assert_eq!(c(&["skipped"]), "skipped");
    assert_eq!(c(&["success", "success_with_warnings"]), "success");
    assert_eq!(
        c(&["success", "waiting_for_resource"]),
        "waiting_for_resource"
    );
    assert_eq!(c(&["success", "created"]), "running");
    assert_eq!(c(&["pending", "created"]), "pending");
    assert_eq!(c(&["success", "manual"]), "manual");
    assert_eq!(c(&["success", "scheduled"]), "scheduled");
    assert_eq!(c(&["preparing"]), "preparing");
    assert_eq!(c(&["success", "canceling"]), "canceling");
    assert_eq!(c(&["success", "canceled"]), "canceled");
    assert_eq!(c(&["failed", "running"]), "running");
    assert_eq!(c(&["failed", "success"]), "failed");
}

/// A merged results MR: its pipeline runs on `/merge` at a merge commit, and it is mergeable.
#[test]
fn a_merged_results_mr_has_its_pipeline_on_the_merge_ref() {
    let w = world();
    let mr = &w.mrs[&9];
    assert!(mr.merged_results);
    let p = w.head_pipeline(mr).unwrap();
    assert_eq!(p.git_ref, "refs/merge-requests/9/merge");
    assert_ne!(p.sha, mr.sha, "a merge commit, not the MR's head");
    assert_eq!(w.detailed_merge_status(mr, T0), "mergeable");
}
