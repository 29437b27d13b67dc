//! One-shot snapshot for `plan`: the poller's `fetch_snapshot` plus what the planner reads
//! beyond it (members for reviewer checks, approvals of open MRs, log excerpts of failed jobs),
//! and what reviewer routing reads ([`fetch_review`]: CODEOWNERS, diffs, commits, group members,
//! user profiles and statuses, within [`ReviewLimits`] and through a [`ReviewCache`] kept
//! across runs). Every extra request is bounded; a detail that cannot be fetched is left out,
//! not fatal.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::gitlab::client::GitlabClient;
use crate::gitlab::error::GitlabError;
use crate::gitlab::models::{Member, MergeRequest, MrDiff, MrState, Status, User, UserStatus};
use crate::gitlab::poller::fetch_snapshot;
use crate::gitlab::snapshot::ProjectSnapshot;
use crate::review::codeowners::CodeOwners;
use crate::review::route::{PersonFacts, RecentCommit, RouteConfig, RouteInput, needs};

use super::rules::ReviewData;
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
        Ok(m) => snap.members = m.into(),
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
    for &id in &mr_pipelines {
        match client.pipeline_jobs(pid, id).await {
            Ok(jobs) => {
                std::sync::Arc::make_mut(&mut snap.jobs).insert(id, jobs);
            }
            Err(e) => tracing::warn!("plan: jobs of pipeline {id} not fetched: {e}"),
        }
    }
    // Their failures may be downstream (a child pipeline behind a trigger job).
    if let Err(e) = crate::gitlab::poller::fetch_downstream(client, &mut snap, &mr_pipelines).await
    {
        tracing::warn!("plan: downstream pipelines not fetched: {e}");
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
                std::sync::Arc::make_mut(&mut snap.approvals).insert(iid, a);
            }
            Err(e) => tracing::warn!("plan: approvals of !{iid} not fetched: {e}"),
        }
    }

    // Failed jobs of the pipelines the prompt puts first: the default branch's newest, then MRs'.
    let default = snap.default_branch().to_string();
    // (job, the project its pipeline runs in: a multi-project downstream's is another one)
    let mut wanted: Vec<(crate::gitlab::models::Job, u64)> = Vec::new();
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
        let below = snap
            .downstream_tree(pid_)
            .into_iter()
            .map(|(_, _, d)| (d.id, d.project_id.unwrap_or(pid)));
        for (pl, project) in std::iter::once((pid_, pid)).chain(below) {
            for j in snap.jobs.get(&pl).into_iter().flatten() {
                if j.status == Status::Failed
                    && !j.allow_failure
                    && !wanted.iter().any(|(w, _)| w.id == j.id)
                {
                    wanted.push((j.clone(), project));
                }
            }
        }
    }
    let mut logs = JobLogs::new();
    let path = snap.path().to_string();
    for (job, project) in wanted.into_iter().take(opts.logs) {
        match client.job_trace(project, job.id).await {
            Ok(bytes) => {
                logs.insert(job.id, job_log(&path, &job, bytes, opts.log_lines));
            }
            Err(e) => tracing::warn!("plan: log of job {} not fetched: {e}", job.id),
        }
    }
    // The logs were diagnosed one after another on a warm cache; a TUI session keeps none.
    crate::diagnose::extract::release_cache();
    Ok((snap, logs))
}

/// CODEOWNERS locations GitLab reads, in its order.
const CODEOWNERS_PATHS: [&str; 3] = ["CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS"];

/// How much reviewer routing may fetch in one plan run.
#[derive(Debug, Clone)]
pub struct ReviewLimits {
    /// Open, non-draft MRs routed: those without reviewers first, then the most recently
    /// updated (their reviewers may not cover every code-owner rule).
    pub max_mrs: usize,
    /// Changed paths (of MRs without reviewers) whose recent commits are read.
    pub max_paths: usize,
    /// Groups named in CODEOWNERS whose direct members are read.
    pub max_groups: usize,
    /// Candidates whose profile (`bot`, `state`) and status (`busy`) are read.
    pub max_people: usize,
    /// Requests routing may send in one run, cache misses included; past it, what is left
    /// is skipped (and said in the notes).
    pub max_requests: u64,
}

impl Default for ReviewLimits {
    fn default() -> Self {
        Self {
            max_mrs: 10,
            max_paths: 20,
            max_groups: 10,
            max_people: 20,
            max_requests: 40,
        }
    }
}

/// How long fetched routing data is trusted.
const CODEOWNERS_TTL: Duration = Duration::from_secs(5 * 60);
const COMMITS_TTL: Duration = Duration::from_secs(30 * 60);
const GROUP_TTL: Duration = Duration::from_secs(30 * 60);
const PROFILE_TTL: Duration = Duration::from_secs(6 * 3600);
const STATUS_TTL: Duration = Duration::from_secs(10 * 60);
/// Diffs are kept per (MR, head SHA); at most this many.
const MAX_CACHED_DIFFS: usize = 200;

/// Routing data kept across plan runs (the TUI holds one for its session), so a steady state
/// costs the CODEOWNERS file and what changed. Cloning shares it.
#[derive(Clone, Default)]
pub struct ReviewCache {
    inner: Arc<Mutex<CacheInner>>,
}

#[derive(Default)]
struct CacheInner {
    /// Host and project the entries belong to; another one empties the cache.
    origin: String,
    codeowners: Option<(Instant, String, Option<CodeOwners>)>,
    diffs: BTreeMap<(u64, String), Vec<MrDiff>>,
    commits: BTreeMap<String, (Instant, Vec<RecentCommit>)>,
    groups: BTreeMap<String, (Instant, Vec<Member>)>,
    profiles: BTreeMap<String, (Instant, User)>,
    statuses: BTreeMap<String, (Instant, UserStatus)>,
}

impl ReviewCache {
    fn with<T>(&self, origin: &str, f: impl FnOnce(&mut CacheInner) -> T) -> T {
        // A poisoned lock only means another task panicked mid-update: start over.
        let mut g = self.inner.lock().unwrap_or_else(|p| {
            let mut g = p.into_inner();
            *g = CacheInner::default();
            g
        });
        if g.origin != origin {
            *g = CacheInner {
                origin: origin.to_string(),
                ..CacheInner::default()
            };
        }
        f(&mut g)
    }
}

fn fresh<T: Clone>(entry: Option<&(Instant, T)>, ttl: Duration) -> Option<T> {
    entry
        .filter(|(at, _)| at.elapsed() < ttl)
        .map(|(_, v)| v.clone())
}

/// Counts the requests of one `fetch_review` call against its budget.
struct Budget<'a> {
    client: &'a GitlabClient,
    start: u64,
    max: u64,
    skipped: usize,
}

impl Budget<'_> {
    /// Whether one more request may go; counts the skip when not.
    fn allow(&mut self) -> bool {
        let ok = self.client.request_count().saturating_sub(self.start) < self.max;
        if !ok {
            self.skipped += 1;
        }
        ok
    }
}

/// What reviewer routing needs for the MRs it will route, within `limits` and through `cache`:
/// their diffs (into the snapshot), the default branch's CODEOWNERS, 90 days of commits on
/// the changed files, the direct members of the groups the matched rules name, and the
/// profile and status of the candidates. Failures are noted and leave the data out; routing
/// then says what it could not check.
pub async fn fetch_review(
    client: &GitlabClient,
    snap: &mut ProjectSnapshot,
    limits: &ReviewLimits,
    cache: &ReviewCache,
) -> ReviewData {
    let mut data = ReviewData::default();
    let origin = format!("{}#{}", snap.host, snap.project.id);
    let pid = snap.project.id;
    let mut wanted: Vec<&MergeRequest> = snap
        .mrs
        .values()
        .map(|m| &**m)
        .filter(|m| matches!(m.state, MrState::Opened) && !m.is_draft())
        .collect();
    wanted.sort_by(|a, b| {
        (
            !a.reviewers.is_empty(),
            std::cmp::Reverse(a.updated_at),
            a.iid,
        )
            .cmp(&(
                !b.reviewers.is_empty(),
                std::cmp::Reverse(b.updated_at),
                b.iid,
            ))
    });
    let wanted: Vec<(u64, String)> = wanted
        .into_iter()
        .take(limits.max_mrs)
        .map(|m| (m.iid, m.sha.clone().unwrap_or_default()))
        .collect();
    if wanted.is_empty() {
        return data;
    }
    let mut budget = Budget {
        client,
        start: client.request_count(),
        max: limits.max_requests,
        skipped: 0,
    };

    // 1. CODEOWNERS of the default branch.
    let branch = snap.default_branch().to_string();
    let cached = cache.with(&origin, |c| {
        c.codeowners
            .as_ref()
            .filter(|(at, b, _)| at.elapsed() < CODEOWNERS_TTL && *b == branch)
            .map(|(_, _, co)| co.clone())
    });
    data.codeowners = match cached {
        Some(co) => co,
        None => {
            let mut found = None;
            let mut complete = true;
            for path in CODEOWNERS_PATHS {
                if !budget.allow() {
                    complete = false;
                    break;
                }
                match client.repository_file_raw(pid, path, &branch).await {
                    Ok(Some(bytes)) => {
                        let co = CodeOwners::parse(&String::from_utf8_lossy(&bytes));
                        for p in &co.problems {
                            tracing::warn!("plan: {path}: {p}");
                        }
                        found = Some(co);
                        break;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        data.notes.push(format!("{path} not fetched: {e}"));
                        complete = false;
                        break;
                    }
                }
            }
            if complete {
                let stored = found.clone();
                cache.with(&origin, |c| {
                    c.codeowners = Some((Instant::now(), branch.clone(), stored))
                });
            }
            found
        }
    };

    // 2. Changed files of the MRs routed.
    for (iid, sha) in &wanted {
        if snap.diffs.contains_key(iid) {
            continue;
        }
        let key = (*iid, sha.clone());
        if let Some(d) = cache.with(&origin, |c| c.diffs.get(&key).cloned()) {
            std::sync::Arc::make_mut(&mut snap.diffs).insert(*iid, d);
            continue;
        }
        if !budget.allow() {
            continue;
        }
        match client.mr_diffs(pid, *iid).await {
            Ok(d) => {
                cache.with(&origin, |c| {
                    if c.diffs.len() >= MAX_CACHED_DIFFS {
                        c.diffs.clear();
                    }
                    c.diffs.insert(key, d.clone());
                });
                std::sync::Arc::make_mut(&mut snap.diffs).insert(*iid, d);
            }
            Err(e) => data.notes.push(format!("diffs of !{iid} not fetched: {e}")),
        }
    }

    // 3. Recent commits on the files of MRs without reviewers (who knows this code: the
    //    fallback and tie-breaks there). MRs being topped up break ties on load alone.
    let mut paths: Vec<String> = Vec::new();
    let unreviewed = wanted
        .iter()
        .filter(|(iid, _)| snap.mr(*iid).is_some_and(|m| m.reviewers.is_empty()));
    for (iid, _) in unreviewed {
        for d in snap.diffs.get(iid).into_iter().flatten() {
            if !paths.contains(&d.new_path) {
                paths.push(d.new_path.clone());
            }
        }
    }
    let now = snap.fetched_at.unwrap_or_else(Timestamp::now);
    let since = now - jiff::SignedDuration::from_hours(24 * 90);
    for path in paths.into_iter().take(limits.max_paths) {
        if let Some(commits) = cache.with(&origin, |c| fresh(c.commits.get(&path), COMMITS_TTL)) {
            data.commits.extend(commits);
            continue;
        }
        if !budget.allow() {
            continue;
        }
        match client.commits_for_path(pid, &path, since).await {
            Ok(commits) => {
                let commits: Vec<RecentCommit> = commits
                    .into_iter()
                    .filter_map(|c| {
                        Some(RecentCommit {
                            path: path.clone(),
                            author_name: c.author_name.unwrap_or_default(),
                            author_email: c.author_email.unwrap_or_default(),
                            at: c.created_at?,
                        })
                    })
                    .collect();
                cache.with(&origin, |c| {
                    c.commits
                        .insert(path.clone(), (Instant::now(), commits.clone()))
                });
                data.commits.extend(commits);
            }
            Err(e) => data
                .notes
                .push(format!("commits of {path} not fetched: {e}")),
        }
    }

    // 4. Direct members of the groups the matched rules name.
    let mut ids: BTreeMap<String, u64> = snap
        .members
        .iter()
        .map(|m| (m.username.to_lowercase(), m.id))
        .collect();
    let cfg = RouteConfig::default();
    let mut groups: Vec<String> = Vec::new();
    for (iid, _) in &wanted {
        for g in needs(&route_input(snap, *iid, now, &data), &cfg).groups {
            if !groups.iter().any(|x| x.eq_ignore_ascii_case(&g)) {
                groups.push(g);
            }
        }
    }
    for g in groups.into_iter().take(limits.max_groups) {
        let key = g.to_lowercase();
        let members = match cache.with(&origin, |c| fresh(c.groups.get(&key), GROUP_TTL)) {
            Some(m) => Some(m),
            None if !budget.allow() => None,
            None => match client.group_members(&g).await {
                Ok(m) => {
                    cache.with(&origin, |c| {
                        c.groups.insert(key.clone(), (Instant::now(), m.clone()))
                    });
                    Some(m)
                }
                // A handle that is no group (or one we may not see) stays unresolved.
                Err(GitlabError::NotFound { .. }) => {
                    cache.with(&origin, |c| {
                        c.groups.insert(key.clone(), (Instant::now(), Vec::new()))
                    });
                    None
                }
                Err(e) => {
                    data.notes.push(format!("members of @{g} not fetched: {e}"));
                    None
                }
            },
        };
        if let Some(members) = members.filter(|m| !m.is_empty()) {
            for m in &members {
                ids.entry(m.username.to_lowercase()).or_insert(m.id);
            }
            data.groups.insert(
                g.clone(),
                members
                    .iter()
                    .filter(|m| m.state.as_deref().is_none_or(|s| s == "active"))
                    .map(|m| m.username.clone())
                    .collect(),
            );
        }
    }

    // 5. Profiles and statuses of the people a proposal could name.
    let mut people: Vec<String> = Vec::new();
    for (iid, _) in &wanted {
        for p in needs(&route_input(snap, *iid, now, &data), &cfg).people {
            if !people.iter().any(|x| x.eq_ignore_ascii_case(&p)) {
                people.push(p);
            }
        }
    }
    for username in people.into_iter().take(limits.max_people) {
        let key = username.to_lowercase();
        let mut facts = PersonFacts::default();
        let profile = match cache.with(&origin, |c| fresh(c.profiles.get(&key), PROFILE_TTL)) {
            Some(u) => Some(u),
            None => match ids.get(&key) {
                Some(&id) if budget.allow() => match client.user(id).await {
                    Ok(u) => {
                        cache.with(&origin, |c| {
                            c.profiles.insert(key.clone(), (Instant::now(), u.clone()))
                        });
                        Some(u)
                    }
                    Err(e) => {
                        data.notes
                            .push(format!("profile of @{username} not fetched: {e}"));
                        None
                    }
                },
                _ => None,
            },
        };
        if let Some(u) = profile {
            facts.bot = u.bot;
            facts.user_type = u.user_type;
            facts.state = u.state;
            facts.public_email = u.public_email.filter(|e| !e.is_empty());
        }
        let status = match cache.with(&origin, |c| fresh(c.statuses.get(&key), STATUS_TTL)) {
            Some(s) => Some(s),
            None if !budget.allow() => None,
            None => match client.user_status(&username).await {
                Ok(s) => {
                    cache.with(&origin, |c| {
                        c.statuses.insert(key.clone(), (Instant::now(), s.clone()))
                    });
                    Some(s)
                }
                Err(e) => {
                    data.notes
                        .push(format!("status of @{username} not fetched: {e}"));
                    None
                }
            },
        };
        if let Some(s) = status {
            facts.availability = s.availability;
            facts.status_message = s.message;
        }
        data.people.insert(username, facts);
    }
    if budget.skipped > 0 {
        data.notes.push(format!(
            "reviewer routing: request budget of {} reached; {} lookup(s) skipped (cached ones are used next run)",
            limits.max_requests, budget.skipped
        ));
    }
    for n in &data.notes {
        tracing::warn!("plan: {n}");
    }
    data
}

fn route_input<'a>(
    snap: &'a ProjectSnapshot,
    iid: u64,
    now: Timestamp,
    data: &'a ReviewData,
) -> RouteInput<'a> {
    let mut input = RouteInput::new(snap, iid, now);
    input.codeowners = data.codeowners.as_ref();
    input.recent_commits = &data.commits;
    input.groups = &data.groups;
    input.people = &data.people;
    input
}
