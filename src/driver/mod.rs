//! The driver: everything a session does besides the terminal. It owns the one GitLab client
//! of the instance (shared by every task, so one connection pool, one request counter, one
//! read-only switch), the poller of the current project, the audit log, and the planner,
//! diagnosis and executor tasks. The UI hands it every non-terminal `Effect` (`perform`) and
//! reads one stream of `Msg`s back (`next`). It never reads `AppState`: effects carry what
//! they need. UI-free, so tests drive the same code the binary ships.

pub mod diagnosis;
pub mod planning;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::activity::ActivityKind;
use crate::app::logscan::{self, ScanMsg, ScanRequest};
use crate::app::planner::PlanMsg;
use crate::app::{Effect, Msg};
use crate::command::audit::{self, AuditLog};
use crate::command::executor::{self, ExecContext, ExecReport};
use crate::command::model::Target;
use crate::command::queue::Finish;
use crate::diagnose::log::LogIndex;
use crate::gitlab::client::GitlabClient;
use crate::gitlab::overview::WatchSpec;
use crate::gitlab::overview_poller::{self, OverviewCmd, OverviewConfig};
use crate::gitlab::poller::{self, Lookup, PollCmd, PollConfig, PollEvent, PollerHandle};
use crate::metrics::Hub;
use crate::plan::fetch::ReviewCache;
use crate::plan::run::Planner;

/// What a driver is made of.
pub struct DriverConfig {
    /// The first instance's one client (read-only already set when the session is read-only).
    pub client: GitlabClient,
    /// The clients of the other instances (`[[instances]]`), in the session's order after
    /// `client`: one per instance, so one connection pool and one request counter each.
    pub more_clients: Vec<GitlabClient>,
    pub poll: PollConfig,
    pub planner: Arc<Planner>,
    /// The audit log; without one nothing can execute (the policy is read-only then).
    pub audit: Option<AuditLog>,
}

/// The poller of the current project with its own channel: switching projects drops both, so
/// nothing from the old project can arrive afterwards.
struct PollerSlot {
    handle: PollerHandle,
    rx: mpsc::Receiver<PollEvent>,
    open: bool,
    epoch: u64,
    project: String,
}

/// Results of background tasks, before they become messages.
enum Internal {
    Msg(Msg),
    Exec(Box<ExecReport>),
    /// A trace parsed off the async workers; only the newest (`seq`) is delivered.
    Log {
        seq: u64,
        job_id: u64,
        index: Arc<LogIndex>,
        complete: bool,
    },
}

pub struct Driver {
    /// The current project's instance's client.
    client: GitlabClient,
    /// Every instance's client, by index (`clients[0]` is the first).
    clients: Vec<GitlabClient>,
    instance: usize,
    /// The overview tasks (one per instance) and how to tell them things.
    overview: Vec<mpsc::Sender<OverviewCmd>>,
    overview_cancel: CancellationToken,
    poll_cfg: PollConfig,
    planner: Arc<Planner>,
    audit: Option<AuditLog>,
    slot: Option<PollerSlot>,
    /// Replayed to a replacement poller.
    visible: (Vec<u64>, Vec<u64>),
    watching: Option<u64>,
    plan_cancel: Option<CancellationToken>,
    /// CODEOWNERS, group members and people's status between planner runs.
    review_cache: ReviewCache,
    tx: mpsc::Sender<Internal>,
    rx: mpsc::Receiver<Internal>,
    /// Messages already known (a write that failed at once), delivered before anything else.
    ready: VecDeque<Msg>,
    log_seq: u64,
    log_applied: u64,
    /// The session's metrics (`--metrics-listen`): fed from what passes through here.
    metrics: Option<Arc<Hub>>,
    /// The planner run in flight and when it was asked for (its latency).
    plan_started: Option<(u64, std::time::Instant)>,
    /// The watched job's log as last delivered: a re-fetch that only grew it is append-parsed.
    /// Dropped when the viewer closes, so its memory goes back.
    log_last: Option<(u64, Arc<LogIndex>)>,
    /// The log scan (search, first error) in flight.
    scan_cancel: Option<CancellationToken>,
    /// The binary whose `diagnose-worker` runs background diagnoses, when set.
    diagnosis_worker: Option<Arc<diagnosis::Worker>>,
}

/// Gives freed heap pages back to the system. glibc keeps freed heap memory for reuse, so
/// without this a session that opened a 50 MB log stays ~50-90 MiB bigger after closing it, and
/// one whose background diagnoses grew lazy DFA caches keeps their ~2 MiB for the rest of the day.
/// Runs a moment later (once the poller has dropped its copy of a closed log too), on a blocking
/// thread (the trim walks the heap).
pub(crate) fn release_freed_memory_soon() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tokio::spawn(async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let _ = tokio::task::spawn_blocking(trim_heap).await;
    });
}

/// Returns free heap pages to the kernel now; call it on a blocking thread (it walks the heap).
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it is thread-safe and
    // touches no memory the program holds.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// How often a log scan in flight reports its progress.
const SCAN_PROGRESS_EVERY: Duration = Duration::from_millis(100);

impl Driver {
    pub fn new(cfg: DriverConfig) -> Driver {
        let (tx, rx) = mpsc::channel(64);
        let clients: Vec<GitlabClient> = std::iter::once(cfg.client.clone())
            .chain(cfg.more_clients)
            .collect();
        Driver {
            client: cfg.client,
            clients,
            instance: 0,
            overview: Vec::new(),
            overview_cancel: CancellationToken::new(),
            poll_cfg: cfg.poll,
            planner: cfg.planner,
            audit: cfg.audit,
            slot: None,
            visible: (Vec::new(), Vec::new()),
            watching: None,
            plan_cancel: None,
            review_cache: ReviewCache::default(),
            tx,
            rx,
            ready: VecDeque::new(),
            log_seq: 0,
            log_applied: 0,
            metrics: None,
            plan_started: None,
            log_last: None,
            scan_cancel: None,
            diagnosis_worker: None,
        }
    }

    /// [`Driver::with_diagnosis_worker`] with this program's own binary, when the system can
    /// say which it is.
    pub fn with_diagnosis_worker_if_found(self) -> Driver {
        match std::env::current_exe() {
            Ok(exe) => self.with_diagnosis_worker(exe),
            Err(_) => self,
        }
    }

    /// Background diagnoses run in child processes of `exe` (`gitaiops diagnose-worker`), so
    /// their memory is the system's again as soon as each is done (see `diagnose::worker`).
    /// Without it (tests, the library) they run on a blocking thread of this process.
    pub fn with_diagnosis_worker(mut self, exe: std::path::PathBuf) -> Driver {
        self.diagnosis_worker = Some(Arc::new(diagnosis::Worker::new(exe)));
        self
    }

    /// Background diagnoses answered by worker processes, and workers that failed (each of
    /// those diagnosed in this process instead).
    pub fn worker_counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.diagnosis_worker.as_ref().map_or((0, 0), |w| {
            (w.answered.load(Relaxed), w.failed.load(Relaxed))
        })
    }

    /// Feeds `hub` with the session's polls, planner runs, proposals, decisions, executions
    /// and diagnoses.
    pub fn with_metrics(mut self, hub: Arc<Hub>) -> Driver {
        self.metrics = Some(hub);
        self
    }

    /// The instance's client (its request counter is the process's).
    pub fn client(&self) -> &GitlabClient {
        &self.client
    }

    /// The poller's refresh period (the app calls data older than twice this stale).
    pub fn refresh_period(&self) -> Duration {
        self.poll_cfg.refresh
    }

    pub fn planner(&self) -> &Arc<Planner> {
        &self.planner
    }

    pub fn audit(&self) -> Option<&AuditLog> {
        self.audit.as_ref()
    }

    /// What earlier sessions (or `apply`) executed on the session's instances in the last day:
    /// never run again. Read once at start.
    pub fn done_identities(&self) -> Result<Vec<(String, String)>, String> {
        let Some(log) = &self.audit else {
            return Ok(Vec::new());
        };
        let since = jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_hours(24))
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let records = audit::read_all(log.path()).map_err(|e| e.to_string())?;
        // Every instance of the session: a switch to another one must not forget what was
        // already done there.
        let mut done = Vec::new();
        for c in &self.clients {
            done.extend(audit::done_identities(&records, since, c.origin()));
        }
        Ok(done)
    }

    /// Proposals earlier sessions left waiting on this instance and project (the last day).
    pub fn waiting_proposals(
        &self,
        project: &str,
        own_session: &str,
    ) -> Result<Vec<crate::command::Command>, String> {
        let Some(log) = &self.audit else {
            return Ok(Vec::new());
        };
        let since = jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_hours(24))
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let records = audit::read_all(log.path()).map_err(|e| e.to_string())?;
        Ok(crate::command::restore::waiting_proposals(
            &records,
            since,
            self.client.origin(),
            project,
            own_session,
        ))
    }

    /// Starts polling `project` (epoch 0 at start; `SwitchProject` moves on).
    pub fn start(&mut self, project: String, epoch: u64) {
        self.spawn_poller(project, epoch);
    }

    /// Starts the overview of every instance (several projects, groups or instances): its
    /// rows arrive as `Msg::Overview`. A spec naming an instance without a client is skipped.
    pub fn start_overview(&mut self, specs: Vec<WatchSpec>) {
        let cfg = OverviewConfig {
            refresh: self.poll_cfg.refresh,
            ..OverviewConfig::default()
        };
        for spec in specs {
            let Some(client) = self.clients.get(spec.instance) else {
                continue;
            };
            let (ev_tx, mut ev_rx) = mpsc::channel(16);
            let (cmd_tx, cmd_rx) = mpsc::channel(8);
            overview_poller::spawn(
                client.read_only_view(),
                spec,
                cfg.clone(),
                ev_tx,
                cmd_rx,
                self.overview_cancel.clone(),
            );
            let out = self.tx.clone();
            tokio::spawn(async move {
                while let Some(ev) = ev_rx.recv().await {
                    if out.send(Internal::Msg(Msg::Overview(ev))).await.is_err() {
                        break;
                    }
                }
            });
            self.overview.push(cmd_tx);
        }
    }

    /// The project on screen at start is on instance `i`: its client speaks for the session.
    pub fn use_instance(&mut self, i: usize) {
        if let Some(c) = self.clients.get(i) {
            self.client = c.clone();
            self.instance = i;
        }
    }

    fn tell_overview(&self, cmd: OverviewCmd) {
        for o in &self.overview {
            let _ = o.try_send(cmd.clone());
        }
    }

    fn spawn_poller(&mut self, project: String, epoch: u64) {
        let (tx, rx) = mpsc::channel(64);
        let handle = poller::spawn(
            self.client.clone(),
            project.clone(),
            self.poll_cfg.clone(),
            tx,
        );
        self.slot = Some(PollerSlot {
            handle,
            rx,
            open: true,
            epoch,
            project,
        });
    }

    fn poll(&self, cmd: PollCmd) {
        if let Some(slot) = &self.slot {
            slot.handle.send(cmd);
        }
    }

    /// Performs one effect. Terminal effects (quit, suspend, redraw) are the UI's and ignored
    /// here. Must be called on the tokio runtime; nothing here blocks except the audit write,
    /// which is synced to disk before the UI shows the decision.
    pub fn perform(&mut self, fx: Effect) {
        match fx {
            Effect::Quit
            | Effect::Suspend
            | Effect::ForceRedraw
            | Effect::OpenUrl { .. }
            | Effect::CopyUrl { .. } => {}
            Effect::Refresh => {
                if let Some(slot) = &self.slot
                    && !slot.open
                {
                    // A stopped poller is replaced by a fresh one, told what the old one did.
                    let (project, epoch) = (slot.project.clone(), slot.epoch);
                    self.spawn_poller(project, epoch);
                    let (mrs, pipelines) = self.visible.clone();
                    self.poll(PollCmd::Visible { mrs, pipelines });
                    self.poll(PollCmd::WatchJobLog(self.watching));
                }
                self.poll(PollCmd::RefreshNow);
                self.tell_overview(OverviewCmd::RefreshNow);
            }
            Effect::SetVisible { mrs, pipelines } => {
                self.visible = (mrs.clone(), pipelines.clone());
                self.poll(PollCmd::Visible { mrs, pipelines });
            }
            Effect::WatchJobLog(job) => {
                self.watching = job;
                if self.log_last.as_ref().map(|(id, _)| *id) != job
                    && self.log_last.take().is_some()
                {
                    release_freed_memory_soon();
                }
                self.poll(PollCmd::WatchJobLog(job));
            }
            Effect::FetchMrDetail(iid) => self.poll(PollCmd::FetchMrDetail(iid)),
            Effect::FetchMoreDiffs { iid, page } => {
                self.poll(PollCmd::FetchMoreDiffs { iid, page })
            }
            Effect::FetchMembers => self.poll(PollCmd::FetchMembers),
            Effect::Lookup(targets) => {
                let wanted = targets
                    .into_iter()
                    .filter_map(|t| match t {
                        Target::Job(id) => Some(Lookup::Job(id)),
                        Target::Pipeline(id) => Some(Lookup::Pipeline(id)),
                        Target::Mr(iid) => Some(Lookup::Mr(iid)),
                        Target::Project => None,
                    })
                    .collect();
                self.poll(PollCmd::Lookup(wanted));
            }
            Effect::SwitchProject {
                project,
                epoch,
                instance,
            } => {
                tracing::info!(%project, epoch, instance, "switching project");
                if instance != self.instance
                    && let Some(c) = self.clients.get(instance)
                {
                    // Everything from here on (poller, planner, executor, diagnosis) speaks
                    // to the project's own instance.
                    self.client = c.clone();
                    self.instance = instance;
                    self.review_cache = ReviewCache::default();
                }
                self.tell_overview(OverviewCmd::Focus(project.clone()));
                if let Some(hub) = &self.metrics {
                    hub.watch_only(&project);
                }
                self.watching = None;
                self.log_last = None;
                self.visible = (Vec::new(), Vec::new());
                self.spawn_poller(project, epoch);
            }
            Effect::ReadOnly => {
                // Every handle of every instance's client, in every task, from the next
                // request on.
                for c in &self.clients {
                    c.set_read_only();
                }
                tracing::info!("read-only switched on");
            }
            Effect::Plan { run, project } => {
                if let Some(c) = self.plan_cancel.take() {
                    c.cancel();
                }
                let cancel = CancellationToken::new();
                self.plan_cancel = Some(cancel.clone());
                self.plan_started = Some((run, std::time::Instant::now()));
                let (client, planner) = (self.client.read_only_view(), self.planner.clone());
                let cache = self.review_cache.clone();
                let tx = self.msg_sender();
                tokio::spawn(async move {
                    planning::plan_task(client, planner, cache, project, run, tx, cancel).await;
                });
            }
            Effect::CancelPlan => {
                if let Some(c) = self.plan_cancel.take() {
                    c.cancel();
                }
            }
            Effect::LogScan(req) => self.log_scan(*req),
            Effect::CancelLogScan => {
                if let Some(c) = self.scan_cancel.take() {
                    c.cancel();
                }
            }
            Effect::Diagnose(req) => {
                let (client, planner) = (self.client.read_only_view(), self.planner.clone());
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let msg = diagnosis::diagnosis_task(client, planner, *req).await;
                    let _ = tx.send(Internal::Msg(Msg::Diagnosis(Box::new(msg)))).await;
                });
            }
            Effect::DiagnoseInBackground(req) => {
                let client = self.client.read_only_view();
                let tx = self.msg_sender();
                let worker = self.diagnosis_worker.clone();
                tokio::spawn(async move { diagnosis::causes_task(client, *req, tx, worker).await });
            }
            Effect::Audit(mut records) => {
                // Every record names the instance, so proposals can be restored for it only.
                for r in &mut records {
                    r.gitlab
                        .get_or_insert_with(|| self.client.host().to_string());
                }
                if let Some(hub) = &self.metrics {
                    hub.telemetry().audited(&records);
                }
                let written = match &self.audit {
                    Some(log) => log.append_all(&records).map_err(|e| e.to_string()),
                    None => Err("no audit log".to_string()),
                };
                if let Err(e) = written {
                    tracing::error!(error = %e, "audit log write failed");
                    self.ready.push_back(Msg::Activity {
                        kind: ActivityKind::Error,
                        text: format!("AUDIT LOG NOT WRITTEN ({} records): {e}", records.len()),
                    });
                }
            }
            Effect::Execute { ticket, snapshot } => match &self.audit {
                Some(log) => {
                    let ctx = ExecContext {
                        client: self.client.clone(),
                        audit: log.clone(),
                    };
                    let (etx, mut erx) = mpsc::channel::<ExecReport>(1);
                    executor::spawn(ctx, *ticket, snapshot.0, etx);
                    let tx = self.tx.clone();
                    tokio::spawn(async move {
                        if let Some(r) = erx.recv().await {
                            let _ = tx.send(Internal::Exec(Box::new(r))).await;
                        }
                    });
                }
                None => {
                    // Nothing that changes GitLab runs unrecorded.
                    if let Some(hub) = &self.metrics {
                        hub.telemetry().executed(ticket.command.kind(), "failed");
                    }
                    self.ready.push_back(Msg::Executed(Box::new(ExecReport {
                        item: ticket.item,
                        command: ticket.command.clone(),
                        finish: Finish::Failed("not sent: no audit log".into()),
                        request: None,
                        http_status: None,
                        duration: Duration::ZERO,
                        audit_error: None,
                    })));
                }
            },
        }
    }

    /// A sender for tasks that produce app messages.
    fn msg_sender(&self) -> mpsc::Sender<Msg> {
        let (tx, mut rx) = mpsc::channel::<Msg>(16);
        let out = self.tx.clone();
        tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                if out.send(Internal::Msg(m)).await.is_err() {
                    break;
                }
            }
        });
        tx
    }

    /// The next message for the app. Cancel-safe: usable as a branch of `select!`.
    pub async fn next(&mut self) -> Msg {
        loop {
            if let Some(m) = self.ready.pop_front() {
                return m;
            }
            let event = async {
                match &mut self.slot {
                    Some(slot) if slot.open => Some(slot.rx.recv().await),
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                ev = event => {
                    if let Some(m) = ev.and_then(|ev| self.on_poll_event(ev)) {
                        return m;
                    }
                }
                Some(i) = self.rx.recv() => {
                    if let Some(m) = self.on_internal(i) {
                        return m;
                    }
                }
            }
        }
    }

    fn on_poll_event(&mut self, ev: Option<PollEvent>) -> Option<Msg> {
        let slot = self.slot.as_mut()?;
        let epoch = slot.epoch;
        if let Some(hub) = &self.metrics {
            match &ev {
                Some(PollEvent::Snapshot { snapshot }) => {
                    hub.snapshot(&slot.project, snapshot.clone());
                }
                Some(PollEvent::Requests { seconds, ok, .. }) => {
                    hub.poll_finished(&slot.project, *seconds, *ok);
                }
                _ => {}
            }
        }
        match ev {
            Some(PollEvent::Snapshot { snapshot, .. }) => Some(Msg::Snapshot { epoch, snapshot }),
            Some(PollEvent::Error {
                error,
                attempt,
                retry_in,
            }) => Some(Msg::PollError {
                epoch,
                error,
                attempt,
                retry_in,
            }),
            Some(PollEvent::Requests {
                total, last_minute, ..
            }) => Some(Msg::Requests {
                epoch,
                total,
                last_minute,
            }),
            Some(PollEvent::Warning { text }) => Some(Msg::Activity {
                kind: ActivityKind::Error,
                text,
            }),
            Some(PollEvent::LookedUp { done, missing }) => {
                let target = |l: Lookup| match l {
                    Lookup::Job(id) => Target::Job(id),
                    Lookup::Pipeline(id) => Target::Pipeline(id),
                    Lookup::Mr(iid) => Target::Mr(iid),
                };
                Some(Msg::LookedUp {
                    epoch,
                    done: done.into_iter().map(target).collect(),
                    missing: missing
                        .into_iter()
                        .map(|(l, why)| (target(l), why))
                        .collect(),
                })
            }
            Some(PollEvent::JobLog {
                job_id,
                bytes,
                complete,
            }) => {
                // Parsing a big trace takes a while: off the async workers, newest wins.
                self.log_seq += 1;
                let (seq, tx) = (self.log_seq, self.tx.clone());
                let prev = self
                    .log_last
                    .as_ref()
                    .filter(|(id, _)| *id == job_id)
                    .map(|(_, ix)| ix.clone());
                tokio::task::spawn_blocking(move || {
                    let started = std::time::Instant::now();
                    let len = bytes.len();
                    // GitLab sent the whole log again: only what grew is parsed.
                    let index = Arc::new(match prev {
                        Some(prev) => prev.extended(bytes),
                        None => LogIndex::parse(bytes),
                    });
                    tracing::debug!(
                        job_id,
                        bytes = len,
                        lines = index.line_count(),
                        ms = started.elapsed().as_millis() as u64,
                        "job log parsed"
                    );
                    let _ = tx.blocking_send(Internal::Log {
                        seq,
                        job_id,
                        index,
                        complete,
                    });
                });
                None
            }
            None => {
                slot.open = false;
                Some(Msg::PollError {
                    epoch,
                    error: "the poller stopped; :refresh or restart".into(),
                    attempt: 0,
                    retry_in: Duration::ZERO,
                })
            }
        }
    }

    fn on_internal(&mut self, i: Internal) -> Option<Msg> {
        if let Some(hub) = &self.metrics {
            let t = hub.telemetry();
            match &i {
                Internal::Msg(Msg::Plan(PlanMsg::Finished { run, result })) => {
                    let seconds = match self.plan_started {
                        Some((r, at)) if r == *run => at.elapsed().as_secs_f64(),
                        _ => 0.0,
                    };
                    t.plan_finished(result, seconds);
                }
                Internal::Msg(Msg::Diagnosis(d)) => t.diagnosed(&d.result, &d.engine),
                Internal::Exec(r) => {
                    let result = match &r.finish {
                        Finish::Done(_) => "done",
                        Finish::Failed(_) => "failed",
                        Finish::Stale(_) => "stale",
                    };
                    t.executed(r.command.kind(), result);
                }
                _ => {}
            }
        }
        match i {
            Internal::Msg(m) => Some(m),
            Internal::Exec(r) => Some(Msg::Executed(r)),
            Internal::Log {
                seq,
                job_id,
                index,
                complete,
            } => (seq > self.log_applied).then(|| {
                self.log_applied = seq;
                self.log_last = (self.watching == Some(job_id)).then(|| (job_id, index.clone()));
                Msg::JobLog {
                    job_id,
                    index,
                    complete,
                }
            }),
        }
    }

    /// Scans a big log on a blocking thread, replacing any scan in flight: progress at most
    /// every 100 ms, then the result, unless cancelled first.
    fn log_scan(&mut self, req: ScanRequest) {
        if let Some(c) = self.scan_cancel.take() {
            c.cancel();
        }
        let cancel = CancellationToken::new();
        self.scan_cancel = Some(cancel.clone());
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let (job_id, seq) = (req.job_id, req.seq);
            let total = req.index.0.line_count();
            let mut last = started;
            let mut tick = |done: usize| {
                if cancel.is_cancelled() {
                    return false;
                }
                if last.elapsed() >= SCAN_PROGRESS_EVERY {
                    last = std::time::Instant::now();
                    // Progress is best effort: a full channel skips one.
                    let _ = tx.try_send(Internal::Msg(Msg::LogScan(ScanMsg::Progress {
                        job_id,
                        seq,
                        done,
                        total,
                    })));
                }
                true
            };
            let found = logscan::run(&req.index.0, &req.secret, &req.kind, &mut tick);
            // The scan's working memory (the first-error extraction's lazy DFA states and hits,
            // ~4 MiB on a 50 MB log) is free now but glibc would keep it while the log stays open;
            // its warm caches are not kept either (scans come seconds apart, as diagnoses do).
            crate::diagnose::extract::release_cache();
            trim_heap();
            tracing::debug!(
                job_id,
                lines = total,
                ms = started.elapsed().as_millis() as u64,
                cancelled = found.is_none(),
                "log scan"
            );
            if let Some(line) = found
                && !cancel.is_cancelled()
            {
                let _ = tx.blocking_send(Internal::Msg(Msg::LogScan(ScanMsg::Done {
                    job_id,
                    seq,
                    line,
                })));
            }
        });
    }

    /// Stops the poller and any run in flight.
    pub fn shutdown(&mut self) {
        self.overview_cancel.cancel();
        if let Some(c) = self.plan_cancel.take() {
            c.cancel();
        }
        if let Some(c) = self.scan_cancel.take() {
            c.cancel();
        }
        if let Some(slot) = self.slot.take() {
            slot.handle.send(PollCmd::Shutdown);
        }
    }
}
