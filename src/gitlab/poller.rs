//! A tokio task per project that keeps a `ProjectSnapshot` fresh within the request budget.
//!
//! - Cold start: `GET /user`, `GET /projects/:path`, open MRs, the newest pipelines (~4).
//! - Steady state: two deltas per refresh (`updated_after` = server time of the previous refresh
//!   minus an overlap), MRs with `state=all` so merged/closed ones leave the open set. Every
//!   `reconcile_every` the MR delta is replaced by the full open list (still 2 requests).
//! - Details (approvals, pipeline jobs) only for what is on screen (`Visible`) and not cached,
//!   plus jobs of pipelines that just failed; single MR + diffs + notes only when asked.
//! - The watched job's status is checked every `focused_refresh` while it runs; its trace is
//!   re-fetched as often only while it is small. GitLab's REST trace endpoint always sends the
//!   whole log (no `Range`, no offset), so the trace period grows with the log's size
//!   ([`trace_refresh_period`]): following a log moves at most ~4 MiB a minute beyond its growth.
//!   A manual refresh fetches it at once; once the job has finished it is fetched one last time.
//! - A 429 pauses everything until the server's reset (or a backoff when it gives none), three
//!   minutes at most; a manual refresh tries once through the pause.
//!
//! Results leave as owned values over the poller's own channel: whoever replaces a poller drops
//! its receiver, so nothing stale can arrive.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::client::{GitlabClient, MrQuery, NextPage, PageInfo, PipelineQuery, backoff_delay};
use super::delta::{self, Changed};
use super::error::GitlabError;
use super::models::MrState;
use super::snapshot::{DiffPages, ProjectSnapshot, remove_shared};

#[derive(Debug, Clone)]
pub struct PollConfig {
    /// Idle refresh period (10–15 s).
    pub refresh: Duration,
    /// Trace re-fetch period for the watched running job (3–5 s).
    pub focused_refresh: Duration,
    /// Full re-list of open MRs, catching anything the deltas missed (5 min).
    pub reconcile_every: Duration,
    /// Pipelines kept in the snapshot (newest by id) and fetched at cold start.
    pub pipelines_per_page: u32,
    /// Detail requests (approvals, jobs) per pass; the rest follow a second later.
    pub max_details_per_pass: usize,
    /// Overlap of the `updated_after` window with the previous refresh.
    pub overlap: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        Self {
            refresh: Duration::from_secs(12),
            focused_refresh: Duration::from_secs(4),
            reconcile_every: Duration::from_secs(300),
            pipelines_per_page: 20,
            max_details_per_pass: 10,
            overlap: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollCmd {
    RefreshNow,
    /// Rows on screen: details (approvals, jobs) are fetched only for these.
    Visible {
        mrs: Vec<u64>,
        pipelines: Vec<u64>,
    },
    /// The job being viewed: its trace is re-fetched while it runs. `None` stops.
    WatchJobLog(Option<u64>),
    /// Single MR + the first page of diffs + notes + threads + approvals (and the approval
    /// rules where the instance has them): the detail view.
    FetchMrDetail(u64),
    /// The next page of an MR's changed files (the detail reached the last one loaded).
    /// Ignored unless `page` is the one the snapshot says comes next.
    FetchMoreDiffs {
        iid: u64,
        page: u32,
    },
    FetchMembers,
    /// Objects something refers to that the snapshot does not hold (a command's target beyond
    /// the newest pipelines, `:log ID`): fetched and kept (pipelines pinned, with their jobs),
    /// or reported missing with what GitLab said.
    Lookup(Vec<Lookup>),
    Shutdown,
}

/// What `PollCmd::Lookup` looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lookup {
    Job(u64),
    Pipeline(u64),
    Mr(u64),
}

impl std::fmt::Display for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lookup::Job(id) => write!(f, "job {id}"),
            Lookup::Pipeline(id) => write!(f, "pipeline {id}"),
            Lookup::Mr(iid) => write!(f, "!{iid}"),
        }
    }
}

#[derive(Debug, Clone)]
pub enum PollEvent {
    /// After each refresh or fetch that changed something.
    Snapshot { snapshot: Arc<ProjectSnapshot> },
    JobLog {
        job_id: u64,
        bytes: Arc<Vec<u8>>,
        complete: bool,
    },
    /// A refresh (or a trace fetch) failed: one line for the screen, which try of the quick
    /// retries this was (1-based; beyond `QUICK_TRIES` the poller backs off at its own pace),
    /// and when the next try goes out.
    Error {
        error: String,
        attempt: u32,
        retry_in: Duration,
    },
    /// Request counter, after each refresh, with how long that refresh took and whether it
    /// succeeded (what `gitaiops_poll_*` metrics and the exporter's /healthz read).
    Requests {
        total: u64,
        last_minute: u32,
        seconds: f64,
        ok: bool,
    },
    /// Something worth a line in the activity feed that is not a failed refresh (an item of a
    /// list skipped or repaired, a refresh asked for while rate limited): the data stays live.
    Warning { text: String },
    /// A `Lookup` finished (after the snapshot holding what was found): what GitLab does not
    /// have, or has in a state the snapshot does not keep, with why.
    LookedUp {
        done: Vec<Lookup>,
        missing: Vec<(Lookup, String)>,
    },
}

/// Owns the task: dropping the handle aborts it.
pub struct PollerHandle {
    cmd: mpsc::UnboundedSender<PollCmd>,
    task: Option<JoinHandle<()>>,
}

impl PollerHandle {
    pub fn send(&self, cmd: PollCmd) {
        // A stopped poller has nothing to do with commands; the UI learns it from the channel.
        let _ = self.cmd.send(cmd);
    }

    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Asks the task to stop and waits for it.
    pub async fn shutdown(mut self) {
        let _ = self.cmd.send(PollCmd::Shutdown);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for PollerHandle {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

pub fn spawn(
    client: GitlabClient,
    project: String,
    cfg: PollConfig,
    tx: mpsc::Sender<PollEvent>,
) -> PollerHandle {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let poller = Poller {
        // One try per request: the poller's retries are visible ones (see `on_error`).
        client: client.single_attempt(),
        project,
        cfg,
        tx,
        snap: None,
        since: None,
        last_reconcile: Instant::now(),
        visible_mrs: BTreeSet::new(),
        visible_pipelines: BTreeSet::new(),
        wanted_jobs: BTreeSet::new(),
        wanted_bridges: BTreeSet::new(),
        pending_details: BTreeSet::new(),
        pending_diff_pages: BTreeSet::new(),
        no_approval_state: false,
        jobs_backoff: HashMap::new(),
        pending_members: false,
        pending_lookups: BTreeSet::new(),
        watch: None,
        paused_until: None,
        manual_tried: false,
        pipelines_pending: false,
        reported: BTreeSet::new(),
        notices: Vec::new(),
        deployments_stale: false,
        failures: 0,
    };
    let task = tokio::spawn(poller.run(cmd_rx));
    PollerHandle {
        cmd: cmd_tx,
        task: Some(task),
    }
}

/// One snapshot with the cold-start requests, for one-shot commands (`status`, `plan`).
pub async fn cold_start(
    client: &GitlabClient,
    project: &str,
    pipelines: u32,
) -> Result<(ProjectSnapshot, Option<Timestamp>), GitlabError> {
    match cold_start_partial(client, project, pipelines, false).await? {
        (snap, time, None, _) => Ok((snap, time)),
        (_, _, Some(e), _) => Err(e),
    }
}

/// What a cold start returns: the snapshot, the server's clock, why the pipelines could not be
/// listed (the merge requests did load), and where the open MRs continue when only their first
/// page was read.
type ColdStart = (
    ProjectSnapshot,
    Option<Timestamp>,
    Option<GitlabError>,
    Option<NextPage>,
);

/// The cold start, keeping the merge requests when only the pipelines fail: the error comes
/// back beside the snapshot, so the MR pane is not blamed for the pipelines. With
/// `first_mr_page`, only the first page of open MRs is read (the rest is the caller's).
async fn cold_start_partial(
    client: &GitlabClient,
    project: &str,
    pipelines: u32,
    first_mr_page: bool,
) -> Result<ColdStart, GitlabError> {
    let user = client.current_user().await?;
    let project = client.project(project).await?;
    let pid = project.id;
    let (mrs, mrs_next) = if first_mr_page {
        client
            .merge_requests_first_page(pid, &MrQuery::opened())
            .await?
    } else {
        (client.merge_requests(pid, &MrQuery::opened()).await?, None)
    };
    let (pipes, pipes_error) = match client
        .pipelines(pid, &PipelineQuery::latest(pipelines.max(1)))
        .await
    {
        Ok(p) => (p, None),
        Err(e) => (
            super::client::Listed {
                items: Vec::new(),
                server_time: None,
            },
            Some(e),
        ),
    };
    let server_time = earliest(mrs.server_time, pipes.server_time);
    let mut snap = ProjectSnapshot {
        host: client.host().to_string(),
        project,
        user: Some(user),
        fetched_at: server_time.or_else(|| Some(Timestamp::now())),
        ..ProjectSnapshot::default()
    };
    delta::apply_mr_delta(&mut snap, mrs.items);
    delta::apply_pipeline_delta(&mut snap, pipes.items, pipelines.max(1) as usize);
    // Read after the pipelines, so it covers their jobs. Without it every manual job counts
    // as a deploy: cautious, not broken.
    snap.deployments = match client.readable_deployments(pid).await {
        Ok(d) => d,
        Err(e @ GitlabError::RateLimited { .. }) => return Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read deployments");
            None
        }
    };
    Ok((snap, server_time, pipes_error, mrs_next))
}

/// Cold start plus the jobs of the newest `jobs_for_latest` pipelines and of the failed ones
/// among those fetched (at most `2 * jobs_for_latest` job lists): what a one-shot report needs.
pub async fn fetch_snapshot(
    client: &GitlabClient,
    project: &str,
    pipelines: u32,
    jobs_for_latest: usize,
) -> Result<ProjectSnapshot, GitlabError> {
    let (mut snap, _) = cold_start(client, project, pipelines).await?;
    let newest = snap.pipelines.keys().rev().take(jobs_for_latest).copied();
    let failed = snap
        .pipelines
        .values()
        .rev()
        .filter(|p| p.status == super::models::Status::Failed)
        .map(|p| p.id);
    // Distinct ids: a newest pipeline that also failed must not use up a failed one's place.
    let mut wanted: BTreeSet<u64> = BTreeSet::new();
    for id in newest.chain(failed) {
        if wanted.len() >= jobs_for_latest.saturating_mul(2) {
            break;
        }
        wanted.insert(id);
    }
    for &id in wanted.iter().rev() {
        let jobs = client.pipeline_jobs(snap.project.id, id).await?;
        Arc::make_mut(&mut snap.jobs).insert(id, jobs);
    }
    fetch_downstream(client, &mut snap, &wanted).await?;
    Ok(snap)
}

/// The trigger jobs of the failed or running pipelines among `roots`, their downstream
/// pipelines' jobs, and so on down to [`MAX_DOWNSTREAM_DEPTH`](super::snapshot::MAX_DOWNSTREAM_DEPTH).
/// A downstream pipeline the token cannot see is left without jobs.
pub async fn fetch_downstream(
    client: &GitlabClient,
    snap: &mut ProjectSnapshot,
    roots: &BTreeSet<u64>,
) -> Result<(), GitlabError> {
    // Each round goes one level deeper; the depth bound ends it.
    for _ in 0..=super::snapshot::MAX_DOWNSTREAM_DEPTH {
        let work = downstream_work(snap, roots.iter(), false);
        if work.is_empty() {
            break;
        }
        for item in work {
            match item {
                Detail::Bridges { project, id } => {
                    let list = match client.pipeline_bridges(project, id).await {
                        Ok(l) => l,
                        Err(GitlabError::NotFound { .. } | GitlabError::Forbidden { .. }) => {
                            Vec::new()
                        }
                        Err(e) => return Err(e),
                    };
                    delta::apply_bridges(snap, id, list);
                }
                Detail::DownstreamJobs { project, id } => {
                    let list = match client.pipeline_jobs(project, id).await {
                        Ok(l) => l,
                        Err(GitlabError::NotFound { .. } | GitlabError::Forbidden { .. }) => {
                            Vec::new()
                        }
                        Err(e) => return Err(e),
                    };
                    Arc::make_mut(&mut snap.jobs).insert(id, list);
                }
                Detail::Approvals(_) | Detail::Jobs(_) => {}
            }
        }
    }
    Ok(())
}

fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

struct Watch {
    job_id: u64,
    last: Option<Arc<Vec<u8>>>,
    /// Next status check of the job.
    next: Instant,
    /// Next trace fetch (checked on a status tick; a manual refresh makes it due now).
    trace_due: Instant,
}

/// Bytes of trace re-downloads allowed per minute while a running job's log is open, beyond the
/// log's own growth. GitLab's REST endpoint sends the whole log every time (it ignores `Range`),
/// so the only lever is how often: a 50 MB log is re-fetched every ~12 minutes (`r` at once).
pub const TRACE_BYTES_PER_MIN: u64 = 4 * 1024 * 1024;

/// How long to wait before re-fetching a running job's trace of `len` bytes (as sent by the
/// server, before any cap): `base` for small logs, longer in proportion to the size so that
/// re-downloads stay within [`TRACE_BYTES_PER_MIN`].
pub fn trace_refresh_period(base: Duration, len: u64) -> Duration {
    let secs = len as f64 * 60.0 / TRACE_BYTES_PER_MIN as f64;
    base.max(Duration::from_secs_f64(secs))
}

struct Poller {
    client: GitlabClient,
    project: String,
    cfg: PollConfig,
    tx: mpsc::Sender<PollEvent>,
    snap: Option<ProjectSnapshot>,
    /// Start of the next delta window (server clock).
    since: Option<Timestamp>,
    last_reconcile: Instant,
    visible_mrs: BTreeSet<u64>,
    visible_pipelines: BTreeSet<u64>,
    /// Pipelines whose jobs are wanted whether or not they are on screen (just failed).
    wanted_jobs: BTreeSet<u64>,
    /// Pipelines whose trigger jobs (and downstream pipelines) are wanted whether or not they
    /// are on screen (just failed: the failure may be downstream).
    wanted_bridges: BTreeSet<u64>,
    /// Requests that arrived while paused or before the cold start.
    pending_details: BTreeSet<u64>,
    /// Pages of changed files asked for: (iid, page).
    pending_diff_pages: BTreeSet<(u64, u32)>,
    /// The instance answered `approval_state` with 404 or 403 (CE, or EE without the licence):
    /// never asked again for this project.
    no_approval_state: bool,
    /// Active pipelines whose jobs were re-fetched without any job having moved: how many
    /// times in a row, and when they are due again (see `ActiveJobs`).
    jobs_backoff: HashMap<u64, ActiveJobs>,
    pending_members: bool,
    pending_lookups: BTreeSet<Lookup>,
    watch: Option<Watch>,
    paused_until: Option<Instant>,
    /// A manual refresh already tried through the current rate-limit pause.
    manual_tried: bool,
    /// The cold start's pipeline list failed: the next refresh lists them again instead of a
    /// delta.
    pipelines_pending: bool,
    /// Problems with answers already reported (skipped list items), so each is said once.
    reported: BTreeSet<String>,
    /// One-line notices for the next report (a partial cold start).
    notices: Vec<String>,
    /// The last read of the deployments failed: read them again on the next refresh.
    deployments_stale: bool,
    failures: u32,
}

/// The receiver is gone: nobody is listening, so the poller stops.
struct Closed;

impl Poller {
    async fn run(mut self, mut cmds: mpsc::UnboundedReceiver<PollCmd>) {
        let mut next_refresh = Instant::now();
        loop {
            let log_due = self.watch.as_ref().map(|w| w.next);
            tokio::select! {
                biased;
                cmd = cmds.recv() => {
                    let Some(cmd) = cmd else { break };
                    match self.handle(cmd, &mut next_refresh).await {
                        Ok(true) => {}
                        Ok(false) | Err(Closed) => break,
                    }
                }
                _ = tokio::time::sleep_until(next_refresh) => {
                    match self.refresh().await {
                        Ok(delay) => next_refresh = Instant::now() + delay,
                        Err(Closed) => break,
                    }
                }
                _ = sleep_until_opt(log_due), if log_due.is_some() => {
                    if self.log_tick().await.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::debug!(project = %self.project, "poller stopped");
    }

    /// Returns `Ok(false)` on shutdown.
    async fn handle(&mut self, cmd: PollCmd, next_refresh: &mut Instant) -> Result<bool, Closed> {
        match cmd {
            PollCmd::Shutdown => return Ok(false),
            PollCmd::RefreshNow => {
                if self.is_paused() {
                    if self.manual_tried {
                        let left = self
                            .paused_until
                            .map(|t| t.saturating_duration_since(Instant::now()))
                            .unwrap_or_default();
                        self.send(PollEvent::Warning {
                            text: format!(
                                "still rate limited by {}: next try in {}s",
                                self.client.host(),
                                left.as_secs().max(1)
                            ),
                        })
                        .await?;
                        return Ok(true);
                    }
                    // The operator asked: one try through the pause (a server may have lifted
                    // its limit early, or sent an absurd Retry-After).
                    self.manual_tried = true;
                    self.paused_until = None;
                }
                *next_refresh = Instant::now();
                // The operator asked for fresh data: the open log too, whatever its period.
                if let Some(w) = self.watch.as_mut() {
                    w.next = Instant::now();
                    w.trace_due = w.next;
                }
            }
            PollCmd::Visible { mrs, pipelines } => {
                self.visible_mrs = mrs.into_iter().collect();
                self.visible_pipelines = pipelines.into_iter().collect();
                if self.snap.is_some() && !self.is_paused() {
                    let mut changed = false;
                    // Scrolling must not re-fetch what is cached: running pipelines are
                    // refreshed on the refresh tick only.
                    let more = match self.details_pass(&mut changed, false).await {
                        Ok(more) => more,
                        Err(e) => {
                            self.on_error(&e).await?;
                            false
                        }
                    };
                    if more {
                        *next_refresh = (*next_refresh).min(Instant::now() + DETAIL_FOLLOW_UP);
                    }
                    if changed {
                        self.emit_snapshot().await?;
                    }
                }
            }
            PollCmd::WatchJobLog(job) => {
                let at = self.paused_until.unwrap_or_else(Instant::now);
                self.watch = job.map(|job_id| Watch {
                    job_id,
                    last: None,
                    next: at,
                    trace_due: at,
                });
            }
            PollCmd::FetchMrDetail(iid) => {
                self.pending_details.insert(iid);
                self.serve_pending().await?;
            }
            PollCmd::FetchMoreDiffs { iid, page } => {
                self.pending_diff_pages.insert((iid, page));
                self.serve_pending().await?;
            }
            PollCmd::FetchMembers => {
                self.pending_members = true;
                self.serve_pending().await?;
            }
            PollCmd::Lookup(targets) => {
                self.pending_lookups.extend(targets);
                self.serve_pending().await?;
            }
        }
        Ok(true)
    }

    fn is_paused(&self) -> bool {
        self.paused_until.is_some_and(|t| Instant::now() < t)
    }

    /// One refresh; returns the delay until the next one.
    async fn refresh(&mut self) -> Result<Duration, Closed> {
        if self.is_paused() {
            return Ok(self
                .paused_until
                .map(|t| t.saturating_duration_since(Instant::now()))
                .unwrap_or(self.cfg.refresh));
        }
        self.paused_until = None;
        let started = Instant::now();
        let mut changed = false;
        let result = if self.snap.is_none() {
            self.cold(&mut changed).await
        } else {
            self.deltas(&mut changed).await
        };
        let mut more = false;
        let result = match result {
            Ok(()) => match self.details_pass(&mut changed, true).await {
                Ok(m) => {
                    more = m;
                    Ok(())
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        // The GitLab part of the pass, not the wait for a slow receiver.
        let seconds = started.elapsed().as_secs_f64();
        if changed {
            self.emit_snapshot().await?;
        }
        self.report_problems().await?;
        let ok = result.is_ok();
        let delay = match result {
            Ok(()) => {
                self.failures = 0;
                self.manual_tried = false;
                self.serve_pending().await?;
                if more {
                    DETAIL_FOLLOW_UP
                } else {
                    self.cfg.refresh
                }
            }
            Err(e) => self.on_error(&e).await?,
        };
        self.send(PollEvent::Requests {
            total: self.client.request_count(),
            last_minute: self.client.requests_last_minute(),
            seconds,
            ok,
        })
        .await?;
        Ok(delay)
    }

    async fn cold(&mut self, changed: &mut bool) -> Result<(), GitlabError> {
        let (snap, server_time, pipes_error, mrs_next) = cold_start_partial(
            &self.client,
            &self.project,
            self.cfg.pipelines_per_page,
            true,
        )
        .await?;
        self.since = Some(self.window_start(server_time));
        self.last_reconcile = Instant::now();
        self.snap = Some(snap);
        *changed = true;
        if let Some(next) = mrs_next {
            // Thousands of open MRs: the first page (newest first) and the pipelines go on
            // screen now, the other pages fill in behind. A closed receiver is noticed by the
            // next send.
            let _ = self.emit_snapshot().await;
            match self.client.merge_requests_rest(next).await {
                Ok(rest) => {
                    if let Some(snap) = self.snap.as_mut() {
                        delta::apply_mr_delta(snap, rest.items);
                    }
                }
                Err(e) => {
                    // The list is incomplete: the next refresh re-lists every open MR.
                    self.last_reconcile = Instant::now()
                        .checked_sub(self.cfg.reconcile_every)
                        .unwrap_or(self.last_reconcile);
                    return Err(e);
                }
            }
        }
        match pipes_error {
            None => Ok(()),
            Some(e) => {
                self.pipelines_pending = true;
                if let GitlabError::RateLimited { .. } = e {
                    return Err(e);
                }
                // Said as what it is: the merge requests did load.
                self.notices.push(format!("cannot load pipelines: {e}"));
                Ok(())
            }
        }
    }

    /// Items skipped or repaired in list answers, each said once (as a one-line error event).
    async fn report_problems(&mut self) -> Result<(), Closed> {
        for n in std::mem::take(&mut self.notices) {
            self.send(PollEvent::Warning { text: n }).await?;
        }
        for p in self.client.take_problems() {
            if self.reported.len() < 1000 && self.reported.insert(p.clone()) {
                self.send(PollEvent::Warning {
                    text: format!("warning: {p}"),
                })
                .await?;
            }
        }
        Ok(())
    }

    fn window_start(&self, server_time: Option<Timestamp>) -> Timestamp {
        let now = server_time.unwrap_or_else(Timestamp::now);
        let overlap = jiff::SignedDuration::try_from(self.cfg.overlap).unwrap_or_default();
        now.checked_sub(overlap).unwrap_or(now)
    }

    async fn deltas(&mut self, changed: &mut bool) -> Result<(), GitlabError> {
        let Some(snap) = self.snap.as_mut() else {
            return Ok(());
        };
        let pid = snap.project.id;
        let since = self.since.unwrap_or_else(Timestamp::now);
        let reconcile = self.last_reconcile.elapsed() >= self.cfg.reconcile_every;

        let (mr_changes, mr_time) = if reconcile {
            let open = self.client.merge_requests(pid, &MrQuery::opened()).await?;
            self.last_reconcile = Instant::now();
            (
                delta::reconcile_open_mrs(snap, open.items),
                open.server_time,
            )
        } else {
            let d = self
                .client
                .merge_requests(pid, &MrQuery::changed_since(since))
                .await?;
            (delta::apply_mr_delta(snap, d.items), d.server_time)
        };
        forget_changed_mr_details(snap, &mr_changes);

        let query = if self.pipelines_pending {
            PipelineQuery::latest(self.cfg.pipelines_per_page.max(1))
        } else {
            PipelineQuery::changed_since(since)
        };
        let p = self.client.pipelines(pid, &query).await?;
        self.pipelines_pending = false;
        let before = snap.pipelines.clone();
        let p_changes =
            delta::apply_pipeline_delta(snap, p.items, self.cfg.pipelines_per_page as usize);
        for id in &p_changes.updated {
            remove_shared(&mut snap.jobs, id);
            // It moved: its jobs are fetched again now, and followed closely.
            self.jobs_backoff.remove(id);
            // Its trigger jobs moved with it: fetched again when wanted, never shown stale.
            snap.forget_downstream(*id);
        }
        // A pinned pipeline is kept for a command or the log view: its jobs must follow it.
        self.wanted_jobs.extend(
            p_changes
                .updated
                .iter()
                .filter(|id| snap.pinned.contains(id))
                .copied(),
        );
        let failed = delta::newly_failed(&before, snap, &p_changes);
        self.wanted_bridges.extend(failed.iter().copied());
        self.wanted_jobs.extend(failed);
        // GitLab creates a pipeline's deployments with it: new pipelines, new deploy facts.
        // Nothing new, nothing asked (the steady state stays at its two requests).
        let new_pipelines = p_changes.updated.iter().any(|id| !before.contains_key(id));
        if new_pipelines || self.deployments_stale {
            let pid = snap.project.id;
            match self.client.readable_deployments(pid).await {
                Ok(d) => {
                    self.deployments_stale = false;
                    if snap.deployments != d {
                        snap.deployments = d;
                        *changed = true;
                    }
                }
                Err(e @ (GitlabError::RateLimited { .. } | GitlabError::Unauthorized { .. })) => {
                    self.deployments_stale = true;
                    return Err(e);
                }
                Err(e) => {
                    // The new pipelines' jobs stay "unknown" (manual ones count as deploys)
                    // until the next refresh reads the deployments again.
                    self.deployments_stale = true;
                    self.notices.push(format!(
                        "cannot read deployments (tried again next refresh): {e}"
                    ));
                }
            }
        }

        let server_time = earliest(mr_time, p.server_time);
        snap.fetched_at = server_time.or_else(|| Some(Timestamp::now()));
        *changed |= !mr_changes.is_empty() || !p_changes.is_empty();
        self.since = Some(self.window_start(server_time));
        Ok(())
    }

    /// Fetches missing details of what is on screen (and jobs of newly failed pipelines), at most
    /// `max_details_per_pass`; returns whether some are left for a follow-up pass.
    async fn details_pass(
        &mut self,
        changed: &mut bool,
        include_running: bool,
    ) -> Result<bool, GitlabError> {
        let Some(snap) = self.snap.as_ref() else {
            return Ok(false);
        };
        let pid = snap.project.id;
        let approvals: Vec<u64> = self
            .visible_mrs
            .iter()
            .filter(|iid| snap.mrs.contains_key(iid) && !snap.approvals.contains_key(iid))
            .copied()
            .collect();
        // Jobs: visible or wanted and not cached; plus visible pipelines still running, whose
        // jobs move without the pipeline's `updated_at` moving (a few, newest first).
        let mut jobs: Vec<u64> = self
            .visible_pipelines
            .iter()
            .chain(self.wanted_jobs.iter())
            .filter(|id| snap.pipelines.contains_key(id) && !snap.jobs.contains_key(id))
            .copied()
            .collect::<BTreeSet<u64>>()
            .into_iter()
            .rev()
            .collect();
        let now = Instant::now();
        let running: Vec<u64> = self
            .visible_pipelines
            .iter()
            .rev()
            .filter(|id| {
                include_running
                    && snap.jobs.contains_key(id)
                    && snap.pipelines.get(id).is_some_and(|p| p.status.is_active())
                    && self.jobs_backoff.get(id).is_none_or(|b| b.due <= now)
            })
            .take(ACTIVE_JOB_REFRESHES)
            .copied()
            .collect();
        jobs.extend(running);
        self.wanted_jobs
            .retain(|id| snap.pipelines.contains_key(id));
        self.jobs_backoff
            .retain(|id, _| snap.pipelines.get(id).is_some_and(|p| p.status.is_active()));
        self.wanted_bridges
            .retain(|id| snap.pipelines.contains_key(id));
        let downstream = downstream_work(
            snap,
            self.visible_pipelines
                .iter()
                .chain(self.wanted_bridges.iter()),
            include_running,
        );

        let budget = self.cfg.max_details_per_pass.max(1);
        let work: Vec<Detail> = approvals
            .into_iter()
            .map(Detail::Approvals)
            .chain(jobs.into_iter().map(Detail::Jobs))
            .chain(downstream)
            .collect();
        let total = work.len();
        // Bridges just fetched may name downstream pipelines whose jobs a follow-up pass gets.
        let mut more = false;
        for item in work.into_iter().take(budget) {
            match item {
                // A 404 means the MR or pipeline was deleted, which no `updated_after` delta
                // reports: drop it, or every refresh would ask again, fail and back off.
                Detail::Approvals(iid) => {
                    let a = match self.client.mr_approvals(pid, iid).await {
                        Ok(a) => a,
                        Err(GitlabError::NotFound { .. }) => {
                            if let Some(snap) = self.snap.as_mut()
                                && remove_shared(&mut snap.mrs, &iid).is_some()
                            {
                                delta::forget_mr_details(snap, iid);
                                *changed = true;
                            }
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    if let Some(snap) = self.snap.as_mut()
                        && snap.mrs.contains_key(&iid)
                    {
                        Arc::make_mut(&mut snap.approvals).insert(iid, a);
                        *changed = true;
                    }
                }
                Detail::Jobs(id) => {
                    let list = match self.client.pipeline_jobs(pid, id).await {
                        Ok(list) => list,
                        Err(GitlabError::NotFound { .. }) => {
                            self.wanted_jobs.remove(&id);
                            if let Some(snap) = self.snap.as_mut()
                                && remove_shared(&mut snap.pipelines, &id).is_some()
                            {
                                remove_shared(&mut snap.jobs, &id);
                                *changed = true;
                            }
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    self.wanted_jobs.remove(&id);
                    let moved = self
                        .snap
                        .as_ref()
                        .and_then(|s| s.jobs.get(&id))
                        .is_none_or(|old| jobs_moved(old, &list));
                    let streak = match self.jobs_backoff.get(&id) {
                        Some(b) if !moved => b.streak.saturating_add(1),
                        _ => 0,
                    };
                    self.jobs_backoff.insert(
                        id,
                        ActiveJobs {
                            streak,
                            due: Instant::now() + active_jobs_backoff(self.cfg.refresh, streak),
                        },
                    );
                    if let Some(snap) = self.snap.as_mut()
                        && snap.pipelines.contains_key(&id)
                        && snap.jobs.get(&id) != Some(&list)
                    {
                        Arc::make_mut(&mut snap.jobs).insert(id, list);
                        *changed = true;
                    }
                }
                Detail::Bridges { project, id } => {
                    let list = match self.client.pipeline_bridges(project, id).await {
                        Ok(list) => list,
                        // Another project's pipeline the token cannot see, or one deleted:
                        // known to have nothing to show, so not asked again until it changes.
                        Err(GitlabError::NotFound { .. } | GitlabError::Forbidden { .. }) => {
                            Vec::new()
                        }
                        Err(e) => return Err(e),
                    };
                    self.wanted_bridges.remove(&id);
                    if let Some(snap) = self.snap.as_mut() {
                        more |= list.iter().any(|b| b.downstream_pipeline.is_some());
                        *changed |= delta::apply_bridges(snap, id, list);
                    }
                }
                Detail::DownstreamJobs { project, id } => {
                    let list = match self.client.pipeline_jobs(project, id).await {
                        Ok(list) => list,
                        Err(GitlabError::NotFound { .. } | GitlabError::Forbidden { .. }) => {
                            Vec::new()
                        }
                        Err(e) => return Err(e),
                    };
                    if let Some(snap) = self.snap.as_mut()
                        && snap.jobs.get(&id) != Some(&list)
                    {
                        Arc::make_mut(&mut snap.jobs).insert(id, list);
                        *changed = true;
                    }
                }
            }
        }
        Ok(total > budget || more)
    }

    /// Single-MR detail and members requests, once the snapshot exists and we are not paused.
    async fn serve_pending(&mut self) -> Result<(), Closed> {
        if self.snap.is_none() || self.is_paused() {
            return Ok(());
        }
        let mut changed = false;
        let result = self.fetch_pending(&mut changed).await;
        let mut looked_up = (Vec::new(), Vec::new());
        let result = match result {
            Ok(()) => self.fetch_lookups(&mut changed, &mut looked_up).await,
            Err(e) => Err(e),
        };
        if changed {
            self.emit_snapshot().await?;
        }
        let (done, missing) = looked_up;
        if !done.is_empty() {
            self.send(PollEvent::LookedUp { done, missing }).await?;
        }
        if let Err(e) = result {
            self.on_error(&e).await?;
        }
        Ok(())
    }

    /// Serves `Lookup`s: what is found goes into the snapshot (pipelines pinned, with their
    /// jobs); what GitLab does not have is reported with its reason. An error other than 404
    /// leaves the rest pending for the next pass.
    async fn fetch_lookups(
        &mut self,
        changed: &mut bool,
        out: &mut (Vec<Lookup>, Vec<(Lookup, String)>),
    ) -> Result<(), GitlabError> {
        let Some(pid) = self.snap.as_ref().map(|s| s.project.id) else {
            return Ok(());
        };
        while let Some(&target) = self.pending_lookups.iter().next() {
            let missing = match target {
                Lookup::Job(id) => {
                    let known = self.snap.as_ref().and_then(|s| s.job(id)).cloned();
                    let job = match known {
                        Some(j) => Some(j),
                        None => match self.client.job(pid, id).await {
                            Ok(j) => Some(j),
                            Err(GitlabError::NotFound { .. }) => None,
                            Err(e) => return Err(e),
                        },
                    };
                    match job.as_ref().and_then(|j| j.pipeline_id()) {
                        Some(p) => self.pin_pipeline(pid, p, changed).await?,
                        None if job.is_some() => None,
                        None => Some(format!("GitLab has no job {id} in this project")),
                    }
                }
                Lookup::Pipeline(id) => self.pin_pipeline(pid, id, changed).await?,
                Lookup::Mr(iid) => {
                    if self.snap.as_ref().is_some_and(|s| s.mrs.contains_key(&iid)) {
                        None
                    } else {
                        match self.client.merge_request(pid, iid).await {
                            Ok(mr) if mr.state == MrState::Opened => {
                                if let Some(snap) = self.snap.as_mut() {
                                    *changed |= !delta::apply_mr_delta(snap, vec![mr]).is_empty();
                                }
                                None
                            }
                            Ok(mr) => Some(format!("!{iid} is {}", mr.state.as_str())),
                            Err(GitlabError::NotFound { .. }) => {
                                Some(format!("GitLab has no MR !{iid} in this project"))
                            }
                            Err(e) => return Err(e),
                        }
                    }
                }
            };
            self.pending_lookups.remove(&target);
            out.0.push(target);
            if let Some(why) = missing {
                out.1.push((target, why));
            }
        }
        Ok(())
    }

    /// Fetches a pipeline (and its jobs) the snapshot does not hold, and keeps it. Returns why
    /// not when GitLab does not have it.
    async fn pin_pipeline(
        &mut self,
        pid: u64,
        id: u64,
        changed: &mut bool,
    ) -> Result<Option<String>, GitlabError> {
        let have = self
            .snap
            .as_ref()
            .is_some_and(|s| s.pipelines.contains_key(&id));
        if !have {
            match self.client.pipeline(pid, id).await {
                Ok(p) => {
                    if let Some(snap) = self.snap.as_mut() {
                        snap.pinned.insert(id);
                        Arc::make_mut(&mut snap.pipelines).insert(id, p);
                        *changed = true;
                    }
                }
                Err(GitlabError::NotFound { .. }) => {
                    return Ok(Some(format!("GitLab has no pipeline {id} in this project")));
                }
                Err(e) => return Err(e),
            }
        } else if let Some(snap) = self.snap.as_mut() {
            snap.pinned.insert(id);
        }
        let have_jobs = self.snap.as_ref().is_some_and(|s| s.jobs.contains_key(&id));
        if !have_jobs {
            let jobs = self.client.pipeline_jobs(pid, id).await?;
            if let Some(snap) = self.snap.as_mut() {
                Arc::make_mut(&mut snap.jobs).insert(id, jobs);
                *changed = true;
            }
        }
        Ok(None)
    }

    async fn fetch_pending(&mut self, changed: &mut bool) -> Result<(), GitlabError> {
        let Some(pid) = self.snap.as_ref().map(|s| s.project.id) else {
            return Ok(());
        };
        while let Some(&iid) = self.pending_details.iter().next() {
            let ask_rules = !self.no_approval_state;
            let fetched = async {
                let mr = self.client.merge_request(pid, iid).await?;
                if mr.state != MrState::Opened {
                    return Ok((mr, None));
                }
                let diffs = self
                    .client
                    .mr_diffs_page(pid, iid, 1, DIFF_FILES_PER_PAGE)
                    .await?;
                let notes = self.client.mr_notes(pid, iid).await?;
                let discussions = self.client.mr_discussions(pid, iid).await?;
                let approvals = self.client.mr_approvals(pid, iid).await?;
                // CE's answer has no rule fields: no rules to ask for, and no 404 to spend.
                let rules = if ask_rules && !approvals.is_ce_shape() {
                    match self.client.mr_approval_state(pid, iid).await {
                        Ok(s) => Rules::Known(s),
                        // Not this MR gone (its approvals just answered): the edition or
                        // the licence has no rules.
                        Err(GitlabError::NotFound { .. } | GitlabError::Forbidden { .. }) => {
                            Rules::Unavailable
                        }
                        Err(e) => return Err(e),
                    }
                } else {
                    Rules::NotAsked
                };
                Ok((
                    mr,
                    Some(MrDetail {
                        diffs,
                        notes,
                        discussions,
                        approvals,
                        rules,
                    }),
                ))
            }
            .await;
            let (mr, details) = match fetched {
                Ok(f) => f,
                // Deleted: it stays pending no longer (else every refresh asks again and fails).
                Err(GitlabError::NotFound { .. }) => {
                    self.pending_details.remove(&iid);
                    if let Some(snap) = self.snap.as_mut()
                        && remove_shared(&mut snap.mrs, &iid).is_some()
                    {
                        delta::forget_mr_details(snap, iid);
                        *changed = true;
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            let Some(d) = details else {
                if let Some(snap) = self.snap.as_mut() {
                    let c = delta::apply_mr_delta(snap, vec![mr]);
                    *changed |= !c.is_empty();
                }
                self.pending_details.remove(&iid);
                continue;
            };
            if matches!(d.rules, Rules::Unavailable) {
                self.no_approval_state = true;
            }
            if let Some(snap) = self.snap.as_mut() {
                Arc::make_mut(&mut snap.mrs).insert(iid, Arc::new(mr));
                let (diffs, pages) = d.diffs;
                Arc::make_mut(&mut snap.diffs).insert(iid, diffs);
                Arc::make_mut(&mut snap.diff_pages).insert(
                    iid,
                    DiffPages {
                        next_page: pages.next_page,
                        total: pages.total,
                    },
                );
                Arc::make_mut(&mut snap.notes).insert(iid, d.notes);
                Arc::make_mut(&mut snap.discussions).insert(iid, d.discussions);
                Arc::make_mut(&mut snap.approvals).insert(iid, d.approvals);
                if let Rules::Known(rules) = d.rules {
                    Arc::make_mut(&mut snap.approval_state).insert(iid, rules);
                } else {
                    remove_shared(&mut snap.approval_state, &iid);
                }
                *changed = true;
            }
            self.pending_details.remove(&iid);
        }
        while let Some(&(iid, page)) = self.pending_diff_pages.iter().next() {
            self.fetch_diff_page(pid, iid, page, changed).await?;
            self.pending_diff_pages.remove(&(iid, page));
        }
        if self.pending_members {
            let members = self.client.members(pid).await?;
            self.pending_members = false;
            if let Some(snap) = self.snap.as_mut()
                && *snap.members != members
            {
                snap.members = Arc::new(members);
                *changed = true;
            }
        }
        Ok(())
    }

    /// Appends page `page` of MR `iid`'s changed files, when it is the page that comes next
    /// (a repeated ask, or one for an MR whose diffs were dropped since, costs nothing).
    async fn fetch_diff_page(
        &mut self,
        pid: u64,
        iid: u64,
        page: u32,
        changed: &mut bool,
    ) -> Result<(), GitlabError> {
        let due = self
            .snap
            .as_ref()
            .and_then(|s| s.diff_pages.get(&iid))
            .is_some_and(|p| p.next_page == Some(page));
        if !due {
            return Ok(());
        }
        let (more, info) = match self
            .client
            .mr_diffs_page(pid, iid, page, DIFF_FILES_PER_PAGE)
            .await
        {
            Ok(r) => r,
            // The MR is gone: the next refresh's delta drops it; nothing more to read.
            Err(GitlabError::NotFound { .. }) => (Vec::new(), PageInfo::default()),
            Err(e) => return Err(e),
        };
        if let Some(snap) = self.snap.as_mut()
            && snap
                .diff_pages
                .get(&iid)
                .is_some_and(|p| p.next_page == Some(page))
        {
            if let Some(files) = Arc::make_mut(&mut snap.diffs).get_mut(&iid) {
                files.extend(more);
            }
            // A later page may leave out `X-Total`: what the first said stays.
            let total = info
                .total
                .or(snap.diff_pages.get(&iid).and_then(|p| p.total));
            Arc::make_mut(&mut snap.diff_pages).insert(
                iid,
                DiffPages {
                    next_page: info.next_page,
                    total,
                },
            );
            *changed = true;
        }
        Ok(())
    }

    async fn log_tick(&mut self) -> Result<(), Closed> {
        let Some(job_id) = self.watch.as_ref().map(|w| w.job_id) else {
            return Ok(());
        };
        if self.is_paused() {
            if let (Some(w), Some(t)) = (self.watch.as_mut(), self.paused_until) {
                w.next = t;
            }
            return Ok(());
        }
        // A multi-project downstream job lives in its own project.
        let Some(pid) = self.snap.as_ref().map(|s| s.job_project_id(job_id)) else {
            // No project yet: try again after the cold start.
            if let Some(w) = self.watch.as_mut() {
                w.next = Instant::now() + self.cfg.focused_refresh;
            }
            return Ok(());
        };
        let trace_due = self
            .watch
            .as_ref()
            .is_some_and(|w| w.trace_due <= Instant::now());
        let first = self.watch.as_ref().is_some_and(|w| w.last.is_none());
        let result = async {
            let job = self.client.job(pid, job_id).await?;
            let complete = !job.status.is_active();
            // A running job's log only when its period is up; a finished job's once, at once.
            if !(complete || trace_due || first) {
                return Ok((job, None));
            }
            let trace = match self.client.job_trace_tail(pid, job_id).await {
                Ok(t) => Some(t),
                // 404 also means "no log yet" for a job that has not started.
                Err(GitlabError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            let sent = trace
                .as_ref()
                .map_or(0, |t| t.bytes.len() as u64 + t.dropped);
            let bytes = trace.map(|t| t.into_bytes()).unwrap_or_default();
            Ok((job, Some((bytes, sent))))
        }
        .await;
        match result {
            Ok((job, fetched)) => {
                let complete = !job.status.is_active();
                let mut snap_changed = false;
                // The shared job lists are copied only when the watched job did change.
                if let Some(snap) = self.snap.as_mut()
                    && let Some(p) = job.pipeline_id()
                    && snap
                        .jobs
                        .get(&p)
                        .and_then(|jobs| jobs.iter().find(|j| j.id == job.id))
                        .is_some_and(|old| *old != job)
                    && let Some(slot) = Arc::make_mut(&mut snap.jobs)
                        .get_mut(&p)
                        .and_then(|jobs| jobs.iter_mut().find(|j| j.id == job.id))
                {
                    *slot = job;
                    snap_changed = true;
                }
                let Some(w) = self.watch.as_mut() else {
                    return Ok(());
                };
                let now = Instant::now();
                let mut send = None;
                if let Some((bytes, sent)) = fetched {
                    let period = trace_refresh_period(self.cfg.focused_refresh, sent);
                    w.trace_due = now + period;
                    let same = w.last.as_deref().is_some_and(|l| *l == bytes);
                    if !same || complete {
                        let bytes = Arc::new(bytes);
                        w.last = Some(bytes.clone());
                        send = Some(bytes);
                    }
                }
                // Status checks: as often as the trace while it is small, else at the idle
                // refresh period (the last log follows the end of the job by that much at most).
                let period = w.trace_due.saturating_duration_since(now);
                w.next = now
                    + if period > self.cfg.focused_refresh {
                        self.cfg.refresh.max(self.cfg.focused_refresh)
                    } else {
                        self.cfg.focused_refresh
                    };
                if complete {
                    self.watch = None;
                }
                if let Some(bytes) = send {
                    self.send(PollEvent::JobLog {
                        job_id,
                        bytes,
                        complete,
                    })
                    .await?;
                }
                if snap_changed {
                    self.emit_snapshot().await?;
                }
            }
            Err(e) => {
                let delay = self.on_error(&e).await?;
                if let Some(w) = self.watch.as_mut() {
                    w.next =
                        Instant::now() + delay.min(self.cfg.refresh).max(self.cfg.focused_refresh);
                    if let GitlabError::NotFound { .. } = e {
                        // The job itself is gone: nothing more will come.
                        self.watch = None;
                    }
                }
            }
        }
        Ok(())
    }

    /// Reports the error and returns how long to wait before the next refresh: a few quick
    /// tries first (the client does not retry for the poller, so the screen sees each one), then
    /// a backoff from the refresh period up to 5 minutes. A 429 pauses all requests of this
    /// poller.
    async fn on_error(&mut self, e: &GitlabError) -> Result<Duration, Closed> {
        self.failures = self.failures.saturating_add(1);
        let backoff = if self.failures < QUICK_TRIES {
            backoff_delay(
                self.failures - 1,
                QUICK_RETRY_BASE,
                self.cfg.refresh,
                fastrand::f64(),
            )
        } else {
            backoff_delay(
                self.failures - QUICK_TRIES,
                self.cfg.refresh,
                MAX_ERROR_BACKOFF,
                fastrand::f64(),
            )
            .max(self.cfg.refresh)
        };
        let delay = match e {
            GitlabError::RateLimited { retry_after, .. } => {
                // A few minutes at most: an hour-long `Retry-After` (hostile, or a proxy's
                // default) must not freeze the screen; GitLab's own windows are a minute.
                let d = rate_limit_pause(*retry_after, backoff);
                self.paused_until = Instant::now().checked_add(d);
                d
            }
            _ => backoff,
        };
        tracing::warn!(project = %self.project, error = %e, delay_s = delay.as_secs(), "poll failed");
        self.send(PollEvent::Error {
            error: e.to_string(),
            attempt: self.failures,
            retry_in: delay,
        })
        .await?;
        Ok(delay)
    }

    async fn emit_snapshot(&mut self) -> Result<(), Closed> {
        let Some(snap) = self.snap.as_ref() else {
            return Ok(());
        };
        // A few pointers: the collections are shared with the published copy until the poller
        // changes one (see `ProjectSnapshot`).
        let event = PollEvent::Snapshot {
            snapshot: Arc::new(snap.clone()),
        };
        self.send(event).await
    }

    async fn send(&self, event: PollEvent) -> Result<(), Closed> {
        self.tx.send(event).await.map_err(|_| Closed)
    }
}

/// Cached details of changed MRs are dropped: "absent" means "fetch when needed", never "stale".
fn forget_changed_mr_details(snap: &mut ProjectSnapshot, c: &Changed) {
    for iid in &c.updated {
        delta::forget_mr_details(snap, *iid);
    }
}

const DETAIL_FOLLOW_UP: Duration = Duration::from_secs(1);
/// Changed files read per page in the detail: a screen or two of diffs, one request.
pub const DIFF_FILES_PER_PAGE: u32 = 20;

/// An MR's detail as fetched when its view opens.
struct MrDetail {
    diffs: (Vec<super::models::MrDiff>, PageInfo),
    notes: Vec<super::models::Note>,
    discussions: Vec<super::models::Discussion>,
    approvals: super::models::Approvals,
    rules: Rules,
}

/// The answer to `approval_state`.
enum Rules {
    Known(super::models::ApprovalState),
    /// 404/403: the edition or the licence has no approval rules.
    Unavailable,
    /// Not asked: CE's `/approvals` shape, or a 404 earlier in this project.
    NotAsked,
}
const ACTIVE_JOB_REFRESHES: usize = 3;
/// The longest an active pipeline whose jobs sit still waits for its next jobs fetch.
pub const MAX_ACTIVE_JOBS_BACKOFF: Duration = Duration::from_secs(180);

/// The jobs of an active pipeline without a move of its own (`updated_at` and status as they
/// were): a job starting or finishing does not always touch the pipeline (a `running` pipeline
/// stays `running`), so they are still fetched, less often the longer nothing moves.
struct ActiveJobs {
    /// Fetches in a row in which no job moved.
    streak: u32,
    due: Instant,
}

/// The wait before re-fetching an active pipeline's jobs after `streak` fetches in a row
/// without a move: the refresh period (just under it, so the next tick takes it), doubling,
/// up to [`MAX_ACTIVE_JOBS_BACKOFF`].
pub fn active_jobs_backoff(refresh: Duration, streak: u32) -> Duration {
    let base = refresh.saturating_sub(Duration::from_millis(500));
    base.saturating_mul(1u32 << streak.min(16))
        .min(MAX_ACTIVE_JOBS_BACKOFF.max(base))
}

/// Whether a job list differs in what the panes and the planner act on (a job added or gone,
/// a status): a running job's `duration` changes on every read on real GitLab and is no move.
fn jobs_moved(old: &[super::models::Job], new: &[super::models::Job]) -> bool {
    old.len() != new.len()
        || old
            .iter()
            .zip(new)
            .any(|(a, b)| a.id != b.id || a.status != b.status)
}
const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(300);
/// Tries of a failing refresh before the poller slows down to its backoff: the first and three
/// quick retries (2, 4, 8 s apart).
pub const QUICK_TRIES: u32 = 4;
const QUICK_RETRY_BASE: Duration = Duration::from_secs(2);
/// The longest a 429 pauses polling; `r` / `:refresh` may try once before it ends.
pub const MAX_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(180);

/// How long a 429 pauses the poller: the server's wait, else the backoff, between 1 s and
/// `MAX_RATE_LIMIT_PAUSE`.
pub fn rate_limit_pause(retry_after: Option<Duration>, backoff: Duration) -> Duration {
    retry_after
        .unwrap_or(backoff)
        .clamp(Duration::from_secs(1), MAX_RATE_LIMIT_PAUSE)
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

enum Detail {
    Approvals(u64),
    Jobs(u64),
    /// A pipeline's trigger jobs, each with its downstream pipeline.
    Bridges {
        project: u64,
        id: u64,
    },
    /// A downstream pipeline's jobs (`project` is its own: multi-project pipelines live in
    /// another one).
    DownstreamJobs {
        project: u64,
        id: u64,
    },
}

/// Downstream work for `roots` (pipelines on screen or just failed): the bridges of those that
/// failed or run and were not fetched since they last changed, then the same for their
/// downstream pipelines, and the jobs of each downstream pipeline not yet fetched. Running
/// roots with known downstream pipelines are asked again (a few), as their jobs are.
fn downstream_work<'a>(
    snap: &ProjectSnapshot,
    roots: impl Iterator<Item = &'a u64>,
    include_running: bool,
) -> Vec<Detail> {
    let pid = snap.project.id;
    let roots: BTreeSet<u64> = roots.copied().collect();
    let mut out = Vec::new();
    let mut refreshes = 0;
    for &id in roots.iter().rev() {
        let Some(p) = snap.pipelines.get(&id) else {
            continue;
        };
        if !ProjectSnapshot::wants_bridges(p) {
            continue;
        }
        match snap.bridges.get(&id) {
            None => out.push(Detail::Bridges { project: pid, id }),
            Some(list)
                if include_running
                    && p.status.is_active()
                    && list.iter().any(|b| b.downstream_pipeline.is_some())
                    && refreshes < ACTIVE_JOB_REFRESHES =>
            {
                refreshes += 1;
                out.push(Detail::Bridges { project: pid, id });
            }
            Some(_) => {}
        }
        for (_, _, d) in snap.downstream_tree(id) {
            let project = d.project_id.unwrap_or(pid);
            if !snap.jobs.contains_key(&d.id) {
                out.push(Detail::DownstreamJobs { project, id: d.id });
            }
            if ProjectSnapshot::wants_bridges(d) && !snap.bridges.contains_key(&d.id) {
                out.push(Detail::Bridges { project, id: d.id });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bridge_to(id: u64, child: u64, status: &str, updated: &str) -> super::super::Bridge {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": "trigger", "stage": "deploy", "status": status,
            "downstream_pipeline": {"id": child, "project_id": 1, "status": status,
                "source": "parent_pipeline", "updated_at": updated}}))
        .unwrap()
    }

    fn kinds(w: &[Detail]) -> Vec<String> {
        w.iter()
            .map(|d| match d {
                Detail::Approvals(i) => format!("approvals {i}"),
                Detail::Jobs(i) => format!("jobs {i}"),
                Detail::Bridges { id, .. } => format!("bridges {id}"),
                Detail::DownstreamJobs { id, .. } => format!("downstream jobs {id}"),
            })
            .collect()
    }

    /// Bridges only for failed or running pipelines among those asked about, once until they
    /// change; then the downstream pipelines' jobs; a moved child's jobs are fetched again.
    #[test]
    fn downstream_work_follows_failed_and_running_pipelines_only() {
        let mut snap = crate::testkit::snapshot();
        // 101 failed, 102 success, 103 running.
        let roots = [101u64, 102, 103];
        assert_eq!(
            kinds(&downstream_work(&snap, roots.iter(), true)),
            vec!["bridges 103", "bridges 101"]
        );
        delta::apply_bridges(
            &mut snap,
            101,
            vec![bridge_to(9, 9001, "failed", "2026-03-01T11:00:00Z")],
        );
        std::sync::Arc::make_mut(&mut snap.bridges).insert(103, Vec::new());
        // A failed child may itself fail in a grandchild.
        assert_eq!(
            kinds(&downstream_work(&snap, roots.iter(), true)),
            vec!["downstream jobs 9001", "bridges 9001"]
        );
        std::sync::Arc::make_mut(&mut snap.jobs).insert(9001, Vec::new());
        std::sync::Arc::make_mut(&mut snap.bridges).insert(9001, Vec::new());
        assert!(downstream_work(&snap, roots.iter(), true).is_empty());
        // The child moved: what was fetched below it goes, and is fetched again.
        assert!(delta::apply_bridges(
            &mut snap,
            101,
            vec![bridge_to(9, 9001, "failed", "2026-03-01T11:05:00Z")],
        ));
        assert_eq!(
            kinds(&downstream_work(&snap, roots.iter(), true)),
            vec!["downstream jobs 9001", "bridges 9001"]
        );
        // The parent changed: its bridges are forgotten with the child's jobs.
        std::sync::Arc::make_mut(&mut snap.jobs).insert(9001, Vec::new());
        snap.forget_downstream(101);
        assert!(!snap.jobs.contains_key(&9001));
        assert_eq!(
            kinds(&downstream_work(&snap, roots.iter(), true)),
            vec!["bridges 101"]
        );
    }

    #[test]
    fn trace_period_grows_with_the_log_so_re_downloads_stay_in_budget() {
        let base = Duration::from_secs(4);
        assert_eq!(trace_refresh_period(base, 0), base);
        assert_eq!(trace_refresh_period(base, 100_000), base);
        for mb in [3u64, 10, 50, 200] {
            let len = mb * 1_000_000;
            let p = trace_refresh_period(base, len);
            let per_min = len as f64 * 60.0 / p.as_secs_f64();
            assert!(per_min <= 5_000_000.0, "{mb} MB: {per_min} B/min");
            assert!(
                per_min >= 4_000_000.0,
                "{mb} MB refreshed too rarely: {p:?}"
            );
        }
    }

    #[test]
    fn unchanged_active_jobs_back_off_to_a_cap() {
        let r = Duration::from_secs(12);
        assert!(active_jobs_backoff(r, 0) < r);
        assert!(active_jobs_backoff(r, 1) > r);
        assert_eq!(active_jobs_backoff(r, 5), MAX_ACTIVE_JOBS_BACKOFF);
        assert_eq!(active_jobs_backoff(r, u32::MAX), MAX_ACTIVE_JOBS_BACKOFF);
        // A slow refresh period is never shortened by the cap.
        let slow = Duration::from_secs(600);
        assert!(active_jobs_backoff(slow, 3) >= Duration::from_secs(599));
    }

    #[test]
    fn a_running_jobs_duration_is_no_move() {
        let job = |id: u64, status: &str, duration: f64| -> super::super::models::Job {
            serde_json::from_value(serde_json::json!({
                "id": id, "status": status, "duration": duration
            }))
            .unwrap()
        };
        let old = vec![job(1, "running", 3.0), job(2, "pending", 0.0)];
        assert!(!jobs_moved(
            &old,
            &[job(1, "running", 9.0), job(2, "pending", 0.0)]
        ));
        assert!(jobs_moved(
            &old,
            &[job(1, "success", 9.0), job(2, "pending", 0.0)]
        ));
        assert!(jobs_moved(&old, &[job(1, "running", 9.0)]));
    }

    #[test]
    fn a_429_pauses_for_a_few_minutes_at_most() {
        let backoff = Duration::from_secs(12);
        assert_eq!(
            rate_limit_pause(Some(Duration::from_secs(3600)), backoff),
            MAX_RATE_LIMIT_PAUSE
        );
        assert_eq!(
            rate_limit_pause(Some(Duration::from_secs(30)), backoff),
            Duration::from_secs(30)
        );
        assert_eq!(rate_limit_pause(None, backoff), backoff);
        assert_eq!(
            rate_limit_pause(Some(Duration::ZERO), backoff),
            Duration::from_secs(1)
        );
        assert!(MAX_RATE_LIMIT_PAUSE <= Duration::from_secs(300));
    }
}
