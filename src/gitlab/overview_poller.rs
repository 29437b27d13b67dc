//! Keeps the overview of one instance fresh within a request budget that scales with the
//! number of projects:
//! - the MRs of a watched group cost one request per refresh (`GET /groups/:id/merge_requests`,
//!   a full read first, then `updated_after` deltas); a project named on its own reads its MRs
//!   on its own schedule;
//! - pipelines stay per project, read as `updated_after` deltas; a project where nothing changed
//!   waits twice as long each time, up to a ceiling, and goes back to the refresh period on any
//!   change (of its pipelines or its MRs) or when the operator opens it;
//! - the newest deployment is re-read only when a default-branch pipeline changed;
//! - a group's project list is read again rarely (`relist`).

use std::collections::HashSet;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::client::{GitlabClient, MrQuery, PipelineQuery};
use super::error::GitlabError;
use super::models::{MergeRequest, Project};
use super::overview::{
    ACTIVE_WITHIN, LastDeploy, OpenMrs, PipelineWindow, ProjectSummary, QUIET_CEILING, WatchSpec,
    quiet_period,
};

/// What the overview of an instance reports.
#[derive(Debug, Clone, PartialEq)]
pub enum OverviewEvent {
    /// The signed-in user of the instance.
    User { instance: usize, username: String },
    /// Every row of the instance, after something in them changed.
    Rows {
        instance: usize,
        rows: Vec<ProjectSummary>,
    },
    /// The projects the user is a member of (`:project` completes from them).
    Memberships { instance: usize, paths: Vec<String> },
    /// A read that is not one project's failed (the user, a group's project list).
    Problem { instance: usize, message: String },
}

/// Commands from the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverviewCmd {
    /// The operator opened this project: read it at the refresh period again.
    Focus(String),
    /// Read everything now (`:refresh`).
    RefreshNow,
}

#[derive(Debug, Clone)]
pub struct OverviewConfig {
    /// The refresh period: group MR reads and a busy project's pipelines.
    pub refresh: Duration,
    /// The longest a quiet project waits.
    pub quiet_ceiling: Duration,
    /// How often a group's project list is read again.
    pub relist: Duration,
    /// How far back each delta reaches before the previous answer's `Date` (clock skew, and
    /// writes committed while the previous answer was served).
    pub overlap: Duration,
}

impl Default for OverviewConfig {
    fn default() -> Self {
        OverviewConfig {
            refresh: Duration::from_secs(12),
            quiet_ceiling: QUIET_CEILING,
            relist: Duration::from_secs(30 * 60),
            overlap: Duration::from_secs(5),
        }
    }
}

/// One project as the poller follows it.
struct Tracked {
    row: ProjectSummary,
    /// The groups (indexes into the spec's) it was listed by; empty when named on its own.
    groups: HashSet<usize>,
    named: bool,
    pipelines: PipelineWindow,
    pipelines_since: Option<Timestamp>,
    /// Named-only projects read their own MRs.
    mrs: OpenMrs,
    mrs_since: Option<Timestamp>,
    deploy_stale: bool,
    streak: u32,
    due: Instant,
}

impl Tracked {
    fn new(instance: usize, p: &Project, now: Instant) -> Tracked {
        let mut row = ProjectSummary::new(instance, &p.path_with_namespace);
        row.id = p.id;
        row.web_url = p.web_url.clone();
        row.default_branch = p.default_branch.clone().unwrap_or_default();
        Tracked {
            row,
            groups: HashSet::new(),
            named: false,
            pipelines: PipelineWindow::default(),
            pipelines_since: None,
            mrs: OpenMrs::default(),
            mrs_since: None,
            deploy_stale: true,
            streak: 0,
            due: now,
        }
    }

    /// Reads this project at the refresh period again, starting now.
    fn wake(&mut self, now: Instant) {
        self.streak = 0;
        self.due = now;
    }

    fn count_mrs(&mut self) {
        let (open, waiting, ready) = self.mrs.counts();
        self.row.open_mrs = open;
        self.row.waiting_on_me = waiting;
        self.row.ready = ready;
    }
}

/// Every open MR on the first read, then what changed since `since` (merged and closed ones
/// leave the open set).
fn mr_query(since: Option<Timestamp>) -> MrQuery {
    match since {
        None => MrQuery {
            max_pages: Some(10),
            ..MrQuery::opened()
        },
        Some(t) => MrQuery {
            max_pages: Some(5),
            ..MrQuery::changed_since(t)
        },
    }
}

/// A watched group's MR reads: where the next delta starts.
#[derive(Default)]
struct GroupMrs {
    since: Option<Timestamp>,
}

struct Overview {
    client: GitlabClient,
    spec: WatchSpec,
    cfg: OverviewConfig,
    tx: mpsc::Sender<OverviewEvent>,
    me: Option<u64>,
    /// By project id, in the order first seen.
    projects: Vec<Tracked>,
    /// A named project that could not be read yet: retried at the next relist.
    unresolved: Vec<(String, String)>,
    group_mrs: Vec<GroupMrs>,
    next_group_read: Instant,
    next_relist: Instant,
    last_sent: Option<Vec<ProjectSummary>>,
    /// Problems already reported: a group that keeps failing is said once, not every refresh.
    reported: HashSet<String>,
}

/// Starts the overview of one instance; it ends when `cancel` fires or the receiver is gone.
pub fn spawn(
    client: GitlabClient,
    spec: WatchSpec,
    cfg: OverviewConfig,
    tx: mpsc::Sender<OverviewEvent>,
    cmds: mpsc::Receiver<OverviewCmd>,
    cancel: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let now = Instant::now();
        let groups = spec.groups.len();
        let mut o = Overview {
            client,
            spec,
            cfg,
            tx,
            me: None,
            projects: Vec::new(),
            unresolved: Vec::new(),
            group_mrs: (0..groups).map(|_| GroupMrs::default()).collect(),
            next_group_read: now,
            next_relist: now,
            last_sent: None,
            reported: HashSet::new(),
        };
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = o.run(cmds) => {}
        }
    })
}

impl Overview {
    async fn run(&mut self, mut cmds: mpsc::Receiver<OverviewCmd>) {
        self.start().await;
        let mut cmds_open = true;
        loop {
            let now = Instant::now();
            if now >= self.next_relist {
                self.list().await;
                self.next_relist = now + self.cfg.relist;
            }
            if now >= self.next_group_read {
                self.read_groups().await;
                self.next_group_read = Instant::now() + self.cfg.refresh;
            }
            self.read_due_projects().await;
            if !self.publish().await {
                return;
            }
            let wake = self
                .projects
                .iter()
                .map(|p| p.due)
                .chain([self.next_group_read, self.next_relist])
                .min()
                .unwrap_or(now + self.cfg.refresh)
                // Never spin: a tenth of the refresh period at least between passes.
                .max(Instant::now() + self.cfg.refresh / 10);
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                cmd = cmds.recv(), if cmds_open => match cmd {
                    Some(OverviewCmd::Focus(path)) => {
                        let now = Instant::now();
                        if let Some(p) = self.projects.iter_mut().find(|p| p.row.path.eq_ignore_ascii_case(&path)) {
                            p.wake(now);
                        }
                    }
                    Some(OverviewCmd::RefreshNow) => {
                        let now = Instant::now();
                        self.next_group_read = now;
                        for p in &mut self.projects {
                            p.wake(now);
                        }
                    }
                    None => cmds_open = false,
                },
            }
        }
    }

    async fn send(&mut self, ev: OverviewEvent) -> bool {
        if let OverviewEvent::Problem { message, .. } = &ev
            && !self.reported.insert(message.clone())
        {
            return true;
        }
        self.tx.send(ev).await.is_ok()
    }

    /// Who I am (the rows count what waits on me) and what I am a member of (completion).
    async fn start(&mut self) {
        let instance = self.spec.instance;
        match self.client.current_user().await {
            Ok(u) => {
                self.me = Some(u.id);
                self.send(OverviewEvent::User {
                    instance,
                    username: u.username.clone(),
                })
                .await;
            }
            Err(e) => {
                self.send(OverviewEvent::Problem {
                    instance,
                    message: format!("who am I: {e}"),
                })
                .await;
            }
        }
        if let Ok(ps) = self.client.membership_projects().await {
            let paths = ps.into_iter().map(|p| p.path_with_namespace).collect();
            self.send(OverviewEvent::Memberships { instance, paths })
                .await;
        }
    }

    /// Reads the named projects and the groups' project lists; a project that left a group
    /// (archived, moved, quiet for too long) leaves the overview.
    async fn list(&mut self) {
        let now = Instant::now();
        let instance = self.spec.instance;
        let mut named: Vec<String> = self.spec.projects.clone();
        named.retain(|p| !p.trim().is_empty());
        self.unresolved.clear();
        for path in named {
            if self
                .find_path(&path)
                .is_some_and(|i| self.projects[i].named)
            {
                continue;
            }
            match self.client.project(path.trim()).await {
                Ok(p) => {
                    let i = self.track(&p, now);
                    self.projects[i].named = true;
                }
                Err(e) => self.unresolved.push((path.clone(), e.to_string())),
            }
        }
        for gi in 0..self.spec.groups.len() {
            let group = self.spec.groups[gi].clone();
            match self.client.group_projects(&group).await {
                Ok(list) => {
                    // "Recent" on GitLab's clock (its `Date`), not ours.
                    let cutoff = list
                        .server_time
                        .unwrap_or_else(Timestamp::now)
                        .checked_sub(
                            jiff::SignedDuration::try_from(ACTIVE_WITHIN).unwrap_or_default(),
                        )
                        .ok();
                    let keep: Vec<&Project> = list
                        .items
                        .iter()
                        .filter(|p| p.archived != Some(true))
                        .filter(|p| match (p.last_activity_at, cutoff) {
                            (Some(at), Some(cut)) => at >= cut,
                            _ => true,
                        })
                        .collect();
                    let ids: HashSet<u64> = keep.iter().map(|p| p.id).collect();
                    for t in &mut self.projects {
                        if !ids.contains(&t.row.id) {
                            t.groups.remove(&gi);
                        }
                    }
                    for p in keep {
                        let i = self.track(p, now);
                        self.projects[i].groups.insert(gi);
                    }
                }
                Err(e) => {
                    self.send(OverviewEvent::Problem {
                        instance,
                        message: format!("group {group}: {e}"),
                    })
                    .await;
                }
            }
        }
        self.projects.retain(|t| t.named || !t.groups.is_empty());
    }

    fn find_path(&self, path: &str) -> Option<usize> {
        self.projects
            .iter()
            .position(|t| t.row.path.eq_ignore_ascii_case(path.trim()))
    }

    fn track(&mut self, p: &Project, now: Instant) -> usize {
        match self.projects.iter().position(|t| t.row.id == p.id) {
            Some(i) => i,
            None => {
                self.projects.push(Tracked::new(self.spec.instance, p, now));
                self.projects.len() - 1
            }
        }
    }

    /// One MR read per group; a project whose MRs moved is read again soon.
    async fn read_groups(&mut self) {
        let now = Instant::now();
        for gi in 0..self.spec.groups.len() {
            let group = self.spec.groups[gi].clone();
            let since = self.group_mrs[gi].since;
            match self
                .client
                .group_merge_requests(&group, &mr_query(since))
                .await
            {
                Ok(listed) => {
                    let start = self.window_start(listed.server_time);
                    let gm = &mut self.group_mrs[gi];
                    gm.since = Some(start);
                    let full = since.is_none();
                    let touched: HashSet<u64> = listed.items.iter().map(|m| m.project_id).collect();
                    let me = self.me;
                    for t in &mut self.projects {
                        if !t.groups.contains(&gi) || t.named {
                            continue;
                        }
                        let mine: Vec<&MergeRequest> = listed
                            .items
                            .iter()
                            .filter(|m| m.project_id == t.row.id)
                            .collect();
                        if full {
                            t.mrs = OpenMrs::default();
                        }
                        let mut changed = false;
                        for mr in mine {
                            changed |= t.mrs.apply(mr, me);
                        }
                        if changed || full {
                            t.count_mrs();
                        }
                        // A push to an MR moves it: its pipelines are worth a look now.
                        if changed && !full && touched.contains(&t.row.id) {
                            t.wake(now);
                        }
                    }
                }
                Err(e) => {
                    let instance = self.spec.instance;
                    self.send(OverviewEvent::Problem {
                        instance,
                        message: format!("group {group} merge requests: {e}"),
                    })
                    .await;
                }
            }
        }
    }

    async fn read_due_projects(&mut self) {
        let now = Instant::now();
        for i in 0..self.projects.len() {
            if self.projects[i].due > now {
                continue;
            }
            let result = self.read_project(i).await;
            let t = &mut self.projects[i];
            match result {
                Ok(changed) => {
                    t.row.error = None;
                    t.streak = if changed {
                        0
                    } else {
                        t.streak.saturating_add(1)
                    };
                }
                Err(e) => {
                    t.row.error = Some(crate::text::one_line(&e.to_string(), 160));
                    t.streak = t.streak.saturating_add(1);
                }
            }
            let period = quiet_period(self.cfg.refresh, t.streak, self.cfg.quiet_ceiling);
            t.due = Instant::now() + period;
        }
    }

    /// Reads one project's pipelines (and its MRs when no group covers them, and its newest
    /// deployment when the default branch moved). Returns whether anything changed.
    async fn read_project(&mut self, i: usize) -> Result<bool, GitlabError> {
        let (id, default_branch, since, needs_mrs, mrs_since) = {
            let t = &self.projects[i];
            (
                t.row.id,
                t.row.default_branch.clone(),
                t.pipelines_since,
                t.groups.is_empty() || t.named,
                t.mrs_since,
            )
        };
        let mut changed = false;
        let listed = match since {
            None => {
                self.client
                    .pipelines(id, &PipelineQuery::latest(20))
                    .await?
            }
            Some(t) => {
                self.client
                    .pipelines(
                        id,
                        &PipelineQuery {
                            max_pages: Some(3),
                            ..PipelineQuery::changed_since(t)
                        },
                    )
                    .await?
            }
        };
        let start = self.window_start(listed.server_time);
        let mut items = listed.items;
        // The first read must see the default branch's head even on a busy project whose
        // newest 20 pipelines are all MRs'.
        if since.is_none()
            && !default_branch.is_empty()
            && !items
                .iter()
                .any(|p| p.git_ref.as_deref() == Some(default_branch.as_str()))
        {
            let q = PipelineQuery {
                git_ref: Some(default_branch.clone()),
                ..PipelineQuery::latest(10)
            };
            items.extend(self.client.pipelines(id, &q).await?.items);
        }
        let me = self.me;
        let t = &mut self.projects[i];
        let change = t.pipelines.apply(&items, &default_branch);
        changed |= change.any || since.is_none();
        t.deploy_stale |= change.default_branch;
        t.pipelines_since = Some(start);
        let (failing, newest, running) = t.pipelines.counts();
        t.row.failing_default = failing;
        t.row.default_status = newest;
        t.row.running = running;
        t.row.checked_at = listed.server_time.or(t.row.checked_at);

        if needs_mrs {
            let listed = self.client.merge_requests(id, &mr_query(mrs_since)).await?;
            let start = self.window_start(listed.server_time);
            let t = &mut self.projects[i];
            if mrs_since.is_none() {
                t.mrs = OpenMrs::default();
                changed = true;
            }
            for mr in &listed.items {
                changed |= t.mrs.apply(mr, me);
            }
            t.mrs_since = Some(start);
            t.count_mrs();
        }

        if self.projects[i].deploy_stale {
            let d = self.client.last_deployment(id).await?;
            let t = &mut self.projects[i];
            t.deploy_stale = false;
            let next = d.as_ref().map(LastDeploy::from_deployment);
            changed |= t.row.last_deploy != next;
            t.row.last_deploy = next;
        }
        Ok(changed)
    }

    fn window_start(&self, server_time: Option<Timestamp>) -> Timestamp {
        let now = server_time.unwrap_or_else(Timestamp::now);
        let overlap = jiff::SignedDuration::try_from(self.cfg.overlap).unwrap_or_default();
        now.checked_sub(overlap).unwrap_or(now)
    }

    /// Sends the rows when they differ from the last sent; false when nobody listens.
    async fn publish(&mut self) -> bool {
        let mut rows: Vec<ProjectSummary> = self.projects.iter().map(|t| t.row.clone()).collect();
        for (path, why) in &self.unresolved {
            let mut r = ProjectSummary::new(self.spec.instance, path);
            r.error = Some(crate::text::one_line(why, 160));
            rows.push(r);
        }
        if self.last_sent.as_ref() == Some(&rows) {
            return !self.tx.is_closed();
        }
        self.last_sent = Some(rows.clone());
        self.send(OverviewEvent::Rows {
            instance: self.spec.instance,
            rows,
        })
        .await
    }
}
