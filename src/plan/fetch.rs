//! One-shot snapshot for `plan`: the poller's `fetch_snapshot` plus what the planner reads
//! beyond it (members for reviewer checks, approvals of open MRs, log excerpts of failed jobs).
//! Every extra request is bounded; a detail that cannot be fetched is left out, not fatal.

use std::collections::BTreeSet;

use crate::gitlab::client::GitlabClient;
use crate::gitlab::error::GitlabError;
use crate::gitlab::models::Status;
use crate::gitlab::poller::fetch_snapshot;
use crate::gitlab::snapshot::ProjectSnapshot;

use super::snapshot::{JobLogs, job_log};

#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub pipelines: u32,
    /// Job lists for this many newest pipelines (and as many failed ones).
    pub jobs_for_latest: usize,
    /// Approvals for at most this many open, non-draft MRs (most recently updated first).
    pub approvals: usize,
    /// Log excerpts of at most this many failed jobs.
    pub logs: usize,
    pub log_lines: usize,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            pipelines: 40,
            jobs_for_latest: 10,
            approvals: 30,
            logs: 8,
            log_lines: 20,
        }
    }
}

/// The snapshot and log excerpts a plan is made from.
pub async fn fetch_for_plan(
    client: &GitlabClient,
    project: &str,
    opts: &FetchOptions,
) -> Result<(ProjectSnapshot, JobLogs), GitlabError> {
    let mut snap = fetch_snapshot(client, project, opts.pipelines, opts.jobs_for_latest).await?;
    let pid = snap.project.id;
    match client.members(pid).await {
        Ok(m) => snap.members = m,
        Err(e) => tracing::warn!("plan: members not fetched: {e}"),
    }

    // Jobs of failed MR pipelines that the newest-first fetch did not cover.
    let mr_pipelines: BTreeSet<u64> = snap
        .mrs
        .values()
        .filter_map(|mr| snap.pipeline_for_mr(mr))
        .filter(|p| p.status == Status::Failed)
        .map(|p| p.id)
        .filter(|id| !snap.jobs.contains_key(id))
        .take(opts.jobs_for_latest)
        .collect();
    for id in mr_pipelines {
        match client.pipeline_jobs(pid, id).await {
            Ok(jobs) => {
                snap.jobs.insert(id, jobs);
            }
            Err(e) => tracing::warn!("plan: jobs of pipeline {id} not fetched: {e}"),
        }
    }

    let mut by_update: Vec<(Option<jiff::Timestamp>, u64)> = snap
        .mrs
        .values()
        .filter(|m| !m.is_draft())
        .map(|m| (m.updated_at, m.iid))
        .collect();
    by_update.sort_by(|a, b| b.cmp(a));
    for (_, iid) in by_update.into_iter().take(opts.approvals) {
        match client.mr_approvals(pid, iid).await {
            Ok(a) => {
                snap.approvals.insert(iid, a);
            }
            Err(e) => tracing::warn!("plan: approvals of !{iid} not fetched: {e}"),
        }
    }

    // Failed jobs of the pipelines the prompt puts first: the default branch's newest, then MRs'.
    let default = snap.default_branch().to_string();
    let mut wanted: Vec<crate::gitlab::models::Job> = Vec::new();
    let newest_default = snap
        .pipelines
        .values()
        .rev()
        .find(|p| p.git_ref.as_deref() == Some(default.as_str()) && !p.status.is_active())
        .map(|p| p.id);
    let mr_red: Vec<u64> = snap
        .mrs
        .values()
        .filter_map(|mr| snap.pipeline_for_mr(mr))
        .filter(|p| p.status == Status::Failed)
        .map(|p| p.id)
        .collect();
    for pid_ in newest_default.into_iter().chain(mr_red) {
        for j in snap.jobs.get(&pid_).into_iter().flatten() {
            if j.status == Status::Failed
                && !j.allow_failure
                && !wanted.iter().any(|w| w.id == j.id)
            {
                wanted.push(j.clone());
            }
        }
    }
    let mut logs = JobLogs::new();
    let path = snap.path().to_string();
    for job in wanted.into_iter().take(opts.logs) {
        match client.job_trace(pid, job.id).await {
            Ok(bytes) => {
                logs.insert(job.id, job_log(&path, &job, bytes, opts.log_lines));
            }
            Err(e) => tracing::warn!("plan: log of job {} not fetched: {e}", job.id),
        }
    }
    Ok((snap, logs))
}

/// CODEOWNERS locations GitLab reads, in its order.
const CODEOWNERS_PATHS: [&str; 3] = ["CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS"];

/// What reviewer routing needs for open, non-draft MRs without reviewers: their diffs (into the
/// snapshot), the CODEOWNERS file of the default branch, and the last 90 days of commits on the
/// changed files (bounded: at most `max_mrs` MRs and `max_paths` paths). Failures are logged
/// and leave the data out; routing then falls back to spreading the load.
pub async fn fetch_review(
    client: &GitlabClient,
    snap: &mut ProjectSnapshot,
    max_mrs: usize,
    max_paths: usize,
) -> super::rules::ReviewData {
    use crate::review::codeowners::CodeOwners;
    use crate::review::route::RecentCommit;

    let mut data = super::rules::ReviewData::default();
    let pid = snap.project.id;
    let wanted: Vec<u64> = snap
        .mrs
        .values()
        .filter(|m| !m.is_draft() && m.reviewers.is_empty())
        .map(|m| m.iid)
        .take(max_mrs)
        .collect();
    if wanted.is_empty() {
        return data;
    }
    let default = snap.default_branch().to_string();
    for path in CODEOWNERS_PATHS {
        match client.repository_file_raw(pid, path, &default).await {
            Ok(Some(bytes)) => {
                let co = CodeOwners::parse(&String::from_utf8_lossy(&bytes));
                for p in &co.problems {
                    tracing::warn!("plan: {path}: {p}");
                }
                data.codeowners = Some(co);
                break;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!("plan: {path} not fetched: {e}");
                break;
            }
        }
    }
    let mut paths: BTreeSet<String> = BTreeSet::new();
    for iid in wanted {
        if let std::collections::btree_map::Entry::Vacant(slot) = snap.diffs.entry(iid) {
            match client.mr_diffs(pid, iid).await {
                Ok(d) => {
                    slot.insert(d);
                }
                Err(e) => tracing::warn!("plan: diffs of !{iid} not fetched: {e}"),
            }
        }
        for d in snap.diffs.get(&iid).into_iter().flatten() {
            paths.insert(d.new_path.clone());
        }
    }
    let now = snap.fetched_at.unwrap_or_else(jiff::Timestamp::now);
    let since = now - jiff::SignedDuration::from_hours(24 * 90);
    for path in paths.into_iter().take(max_paths) {
        match client.commits_for_path(pid, &path, since).await {
            Ok(commits) => data.commits.extend(commits.into_iter().filter_map(|c| {
                Some(RecentCommit {
                    path: path.clone(),
                    author: c.author_email.or(c.author_name)?,
                    at: c.created_at?,
                })
            })),
            Err(e) => tracing::warn!("plan: commits of {path} not fetched: {e}"),
        }
    }
    data
}
