//! The simulated project's state. Job and pipeline statuses are not stored: they are derived from
//! each job's planned timeline and the sim clock, so pipelines progress without a background task
//! and a world with thousands of jobs costs nothing while idle.

use std::collections::BTreeMap;

use super::logs::LogKind;

/// Unix time in milliseconds (the sim clock's unit).
pub type Ms = i64;

/// Ids are dense from these bases so a lookup is an index, not a map.
pub const PIPELINE_BASE: u64 = 7001;
pub const JOB_BASE: u64 = 30001;
pub const MR_ID_BASE: u64 = 88000;
pub const NOTE_BASE: u64 = 5001;

#[derive(Debug, Clone)]
pub struct UserRec {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub access_level: u32,
    pub bot: bool,
    /// `public_email` of `GET /users/:id` (empty unless the user published one).
    pub public_email: String,
    /// `GET /users/:id/status`, when the user set one.
    pub status: Option<UserStatusRec>,
}

/// A user's status: `availability` is `busy` or `not_set`.
#[derive(Debug, Clone)]
pub struct UserStatusRec {
    pub availability: String,
    pub emoji: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ProjectInfo {
    pub id: u64,
    pub path: String,
    pub name: String,
    pub namespace: String,
    pub namespace_id: u64,
    pub description: String,
    pub default_branch: String,
    pub created_at: Ms,
}

/// How a job ends when it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Success,
    Failed {
        reason: String,
        /// Infrastructure or network trouble: a retry succeeds.
        flaky: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnvSpec {
    pub name: String,
    pub tier: String,
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: u64,
    pub pipeline_id: u64,
    pub name: String,
    pub stage: String,
    pub stage_idx: usize,
    pub log: LogKind,
    pub image: String,
    pub dur_ms: Ms,
    pub allow_failure: bool,
    pub manual: bool,
    pub played_at: Option<Ms>,
    pub environment: Option<EnvSpec>,
    /// A resource group held by another deployment until then: `waiting_for_resource` before.
    pub resource_until: Option<Ms>,
    pub plan: Plan,
    pub created_at: Ms,
    /// When its stage is reached (`created` before).
    pub queued_at: Ms,
    pub started_at: Option<Ms>,
    pub finished_at: Option<Ms>,
    /// The layout decided it never runs (an earlier stage failed): `skipped` from `queued_at`.
    pub skipped: bool,
    pub canceled_at: Option<Ms>,
    pub retried: bool,
    pub user_id: u64,
}

impl Job {
    pub fn status(&self, now: Ms) -> &'static str {
        if self.canceled_at.is_some_and(|c| c <= now) {
            return "canceled";
        }
        if now < self.queued_at {
            return "created";
        }
        if self.skipped {
            return "skipped";
        }
        if self.manual && self.played_at.is_none() {
            return "manual";
        }
        match self.started_at {
            None => return "pending",
            Some(s) if now < s => {
                return if self.resource_until.is_some_and(|r| now < r) {
                    "waiting_for_resource"
                } else {
                    "pending"
                };
            }
            _ => {}
        }
        match self.finished_at {
            Some(f) if now < f => "running",
            _ => match self.plan {
                Plan::Success => "success",
                Plan::Failed { .. } => "failed",
            },
        }
    }

    /// Only failed jobs carry a reason (GitLab omits the field otherwise).
    pub fn failure_reason(&self, now: Ms) -> Option<&str> {
        match (&self.plan, self.status(now)) {
            (Plan::Failed { reason, .. }, "failed") => Some(reason.as_str()),
            _ => None,
        }
    }

    /// Started at or before `now` and not canceled before it started: it has a log.
    pub fn has_started(&self, now: Ms) -> bool {
        match self.started_at {
            Some(s) => s <= now && !self.skipped && self.canceled_at.is_none_or(|c| c > s),
            None => false,
        }
    }

    /// Every time at which this job's status changes, up to `now`: drives `updated_at`.
    pub fn last_change(&self, now: Ms) -> Ms {
        let mut t = self.created_at;
        for c in [
            Some(self.queued_at),
            self.started_at,
            self.finished_at,
            self.canceled_at,
            self.played_at,
            self.resource_until,
        ]
        .into_iter()
        .flatten()
        {
            if c <= now && c > t {
                t = c;
            }
        }
        t
    }

    fn blocks_later_stages(&self) -> bool {
        !self.allow_failure
            && !self.retried
            && (!self.manual || self.played_at.is_some())
            && !self.skipped
            && matches!(self.plan, Plan::Failed { .. })
    }

    pub fn is_active(&self, now: Ms) -> bool {
        matches!(
            self.status(now),
            "created" | "pending" | "running" | "waiting_for_resource"
        )
    }
}

/// A trigger job: its status is its downstream pipeline's.
#[derive(Debug, Clone)]
pub struct BridgeRec {
    pub id: u64,
    pub name: String,
    pub stage: String,
    pub downstream: u64,
}

#[derive(Debug, Clone)]
pub struct Pipeline {
    pub id: u64,
    pub iid: u64,
    pub sha: String,
    pub before_sha: String,
    pub git_ref: String,
    pub source: String,
    pub mr_iid: Option<u64>,
    pub created_at: Ms,
    pub user_id: u64,
    pub name: Option<String>,
    pub jobs: Vec<usize>,
    pub bridges: Vec<BridgeRec>,
    pub coverage: Option<f64>,
    pub commit_title: String,
}

#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: String,
    pub add: u32,
    pub del: u32,
    pub new_file: bool,
}

/// Many machine-generated files, produced on demand (the huge-churn MR).
#[derive(Debug, Clone)]
pub struct Generated {
    pub prefix: String,
    pub count: u32,
    pub add: u32,
}

/// What a new pipeline for an MR looks like: its template and per-job overrides.
#[derive(Debug, Clone, Default)]
pub struct PipelineSpec {
    pub template: String,
    pub overrides: BTreeMap<String, super::scenario::JobOverride>,
}

#[derive(Debug, Clone)]
pub struct Mr {
    pub iid: u64,
    pub id: u64,
    pub title: String,
    pub description: String,
    pub author: u64,
    pub source_branch: String,
    pub target_branch: String,
    pub state: &'static str,
    pub created_at: Ms,
    pub updated_at: Ms,
    pub merged_at: Option<Ms>,
    pub closed_at: Option<Ms>,
    pub merge_user: Option<u64>,
    pub closed_by: Option<u64>,
    pub reviewers: Vec<u64>,
    pub assignees: Vec<u64>,
    pub labels: Vec<String>,
    pub approvals_required: u32,
    pub approved_by: Vec<(u64, Ms)>,
    pub conflicts: bool,
    pub sha: String,
    pub base_sha: String,
    pub merge_commit_sha: Option<String>,
    pub files: Vec<FileChange>,
    pub generated: Option<Generated>,
    pub pipelines: Vec<u64>,
    pub spec: PipelineSpec,
    pub merge_error: Option<String>,
    pub illustrates: Option<String>,
    /// Auto-merge set while the pipeline was running: merges when it succeeds.
    pub auto_merge: bool,
}

impl Mr {
    pub fn is_draft(&self) -> bool {
        let t = self.title.trim_start().to_ascii_lowercase();
        t.starts_with("draft:") || t.starts_with("[draft]") || t.starts_with("(draft)")
    }

    pub fn approvals_left(&self) -> u32 {
        self.approvals_required
            .saturating_sub(self.approved_by.len() as u32)
    }

    pub fn changes_count(&self) -> usize {
        self.files.len() + self.generated.as_ref().map_or(0, |g| g.count as usize)
    }
}

#[derive(Debug, Clone)]
pub struct NoteRec {
    pub id: u64,
    pub mr_iid: u64,
    pub author: u64,
    pub body: String,
    pub created_at: Ms,
    pub system: bool,
}

/// A commit that touched a file: serves `repository/commits?path=`.
#[derive(Debug, Clone)]
pub struct CommitRec {
    pub sha: String,
    pub path: String,
    pub author: u64,
    pub at: Ms,
    pub title: String,
}

/// A pipeline template job, as written in the scenario.
#[derive(Debug, Clone)]
pub struct TemplateJob {
    pub name: String,
    pub stage: String,
    pub log: LogKind,
    pub secs: u32,
    pub image: String,
    pub allow_failure: bool,
    pub manual: bool,
    pub environment: Option<EnvSpec>,
}

pub struct World {
    pub seed: u64,
    pub project: ProjectInfo,
    pub users: Vec<UserRec>,
    pub current_user: u64,
    pub groups: Vec<(String, Vec<u64>)>,
    pub codeowners: String,
    pub files: BTreeMap<String, String>,
    pub commits: Vec<CommitRec>,
    pub templates: BTreeMap<String, Vec<TemplateJob>>,
    pub mrs: BTreeMap<u64, Mr>,
    pub pipelines: Vec<Pipeline>,
    pub jobs: Vec<Job>,
    pub notes: Vec<NoteRec>,
    /// Next time a pipeline arrives on its own (a push), and the range of gaps between them.
    pub next_arrival: Ms,
    pub arrival_gap_s: (u64, u64),
    pub arrivals: u64,
    /// Counter mixed into new SHAs so every push gets a fresh one.
    pub sha_counter: u64,
    /// The base URL for `web_url` fields (set once the listener is bound).
    pub base_url: String,
}

/// SplitMix64: a fast, well-mixed hash for deterministic per-entity randomness.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A deterministic value in `lo..hi` for (seed, id, salt).
pub fn pick(seed: u64, id: u64, salt: u64, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        return lo;
    }
    lo + mix(seed ^ mix(id ^ mix(salt))) % (hi - lo)
}

/// A 40-hex SHA derived from the seed and a tag.
pub fn sha_for(seed: u64, tag: u64) -> String {
    let mut s = String::with_capacity(40);
    let mut x = mix(seed ^ mix(tag));
    for _ in 0..3 {
        s.push_str(&format!("{x:016x}"));
        x = mix(x);
    }
    s.truncate(40);
    s
}

pub const TERMINAL: [&str; 4] = ["success", "failed", "canceled", "skipped"];

impl World {
    pub fn user(&self, id: u64) -> Option<&UserRec> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn user_by_name(&self, username: &str) -> Option<&UserRec> {
        self.users.iter().find(|u| u.username == username)
    }

    pub fn pipeline(&self, id: u64) -> Option<&Pipeline> {
        let i = id.checked_sub(PIPELINE_BASE)? as usize;
        self.pipelines.get(i)
    }

    pub fn job(&self, id: u64) -> Option<&Job> {
        let i = id.checked_sub(JOB_BASE)? as usize;
        self.jobs.get(i)
    }

    fn job_index(&self, id: u64) -> Option<usize> {
        let i = id.checked_sub(JOB_BASE)? as usize;
        (i < self.jobs.len()).then_some(i)
    }

    pub fn next_sha(&mut self) -> String {
        self.sha_counter += 1;
        sha_for(self.seed, 0x5EED_0000 + self.sha_counter)
    }

    /// The jobs of a pipeline that count (latest attempt of each), in stage then id order.
    pub fn current_jobs(&self, p: &Pipeline) -> Vec<usize> {
        let mut v: Vec<usize> = p
            .jobs
            .iter()
            .copied()
            .filter(|&j| !self.jobs[j].retried)
            .collect();
        v.sort_by_key(|&j| (self.jobs[j].stage_idx, self.jobs[j].id));
        v
    }

    /// GitLab's composite status over a pipeline's current jobs (manual jobs are
    /// `allow_failure: true` by default and never block).
    pub fn pipeline_status(&self, p: &Pipeline, now: Ms) -> &'static str {
        let mut any = false;
        let (mut running, mut pending, mut waiting, mut created, mut done) =
            (false, false, false, false, false);
        let (mut failed, mut canceled, mut success, mut manual, mut all_skipped) =
            (false, false, false, false, true);
        for &j in &p.jobs {
            let job = &self.jobs[j];
            if job.retried {
                continue;
            }
            any = true;
            let s = job.status(now);
            if s != "skipped" {
                all_skipped = false;
            }
            match s {
                "running" => running = true,
                "pending" => pending = true,
                "waiting_for_resource" => waiting = true,
                "created" => created = true,
                "manual" => manual = true,
                "success" => {
                    success = true;
                    done = true
                }
                "failed" => {
                    done = true;
                    if !job.allow_failure {
                        failed = true
                    }
                }
                "canceled" => {
                    done = true;
                    canceled = true
                }
                _ => {}
            }
        }
        for b in &p.bridges {
            if let Some(d) = self.pipeline(b.downstream) {
                match self.pipeline_status(d, now) {
                    "running" | "pending" => running = true,
                    "created" => created = true,
                    "failed" => failed = true,
                    _ => {}
                }
            }
        }
        if !any {
            return "created";
        }
        if running || ((pending || created || waiting) && done) {
            return "running";
        }
        if pending {
            return "pending";
        }
        if waiting {
            return "waiting_for_resource";
        }
        if created {
            return "created";
        }
        if failed {
            return "failed";
        }
        if canceled {
            return "canceled";
        }
        if all_skipped {
            return "skipped";
        }
        if manual && !success {
            return "manual";
        }
        "success"
    }

    /// Passed while an allowed-to-fail job failed: GitLab's `success-with-warnings` group.
    pub fn pipeline_has_warnings(&self, p: &Pipeline, now: Ms) -> bool {
        p.jobs.iter().any(|&j| {
            let job = &self.jobs[j];
            !job.retried && job.allow_failure && job.status(now) == "failed"
        })
    }

    pub fn pipeline_updated_at(&self, p: &Pipeline, now: Ms) -> Ms {
        let mut t = p.created_at;
        for &j in &p.jobs {
            t = t.max(self.jobs[j].last_change(now));
        }
        for b in &p.bridges {
            if let Some(d) = self.pipeline(b.downstream) {
                t = t.max(self.pipeline_updated_at(d, now));
            }
        }
        t.min(now.max(p.created_at))
    }

    pub fn pipeline_started_at(&self, p: &Pipeline, now: Ms) -> Option<Ms> {
        p.jobs
            .iter()
            .filter_map(|&j| self.jobs[j].started_at)
            .filter(|&s| s <= now)
            .min()
    }

    pub fn pipeline_finished_at(&self, p: &Pipeline, now: Ms) -> Option<Ms> {
        if !TERMINAL.contains(&self.pipeline_status(p, now)) {
            return None;
        }
        p.jobs
            .iter()
            .filter(|&&j| !self.jobs[j].retried)
            .filter_map(|&j| {
                let job = &self.jobs[j];
                job.canceled_at.or(job.finished_at).or(Some(job.queued_at))
            })
            .filter(|&f| f <= now)
            .max()
    }

    /// The MR's head pipeline: its newest.
    pub fn head_pipeline(&self, mr: &Mr) -> Option<&Pipeline> {
        mr.pipelines.last().and_then(|&id| self.pipeline(id))
    }

    pub fn detailed_merge_status(&self, mr: &Mr, now: Ms) -> &'static str {
        if mr.state != "opened" {
            return "not_open";
        }
        if mr.is_draft() {
            return "draft_status";
        }
        if mr.conflicts {
            return "conflict";
        }
        if let Some(p) = self.head_pipeline(mr) {
            match self.pipeline_status(p, now) {
                "success" | "skipped" | "manual" => {}
                "failed" | "canceled" => return "ci_must_pass",
                _ => return "ci_still_running",
            }
        }
        if mr.approvals_left() > 0 {
            return "not_approved";
        }
        "mergeable"
    }

    /// Positions the jobs of stages `from_stage..` on the timeline. Stages run in order; a
    /// blocking failure skips every later stage at the moment its stage ends. With `now` set,
    /// jobs that already started (or were canceled) keep their times.
    pub fn layout(&mut self, pi: usize, from_stage: usize, floor: Ms, now: Option<Ms>) {
        let order = self.current_jobs(&self.pipelines[pi]);
        let max_stage = order
            .iter()
            .map(|&j| self.jobs[j].stage_idx)
            .max()
            .unwrap_or(0);
        let seed = self.seed;
        let mut t = floor;
        let mut blocked: Option<Ms> = None;
        for stage in 0..=max_stage {
            let in_stage: Vec<usize> = order
                .iter()
                .copied()
                .filter(|&j| self.jobs[j].stage_idx == stage)
                .collect();
            if in_stage.is_empty() {
                continue;
            }
            let fixed = |job: &Job| match now {
                None => stage < from_stage,
                Some(n) => {
                    stage < from_stage
                        || job.canceled_at.is_some()
                        || job.started_at.is_some_and(|s| s <= n) && !job.skipped
                }
            };
            let mut end = t;
            let mut fails = false;
            for &j in &in_stage {
                let job = &mut self.jobs[j];
                if fixed(job) {
                    if !job.skipped
                        && let Some(f) = job.finished_at
                    {
                        end = end.max(f);
                    }
                    fails |= job.blocks_later_stages();
                    continue;
                }
                if let Some(b) = blocked {
                    job.queued_at = b.max(job.created_at);
                    job.skipped = true;
                    job.started_at = None;
                    job.finished_at = None;
                    continue;
                }
                job.skipped = false;
                job.queued_at = t.max(job.created_at);
                if job.manual && job.played_at.is_none() {
                    job.started_at = None;
                    job.finished_at = None;
                    continue;
                }
                let ready = job.played_at.unwrap_or(job.queued_at).max(job.queued_at);
                let queue = pick(seed, job.id, 1, 2_000, 11_000) as Ms;
                let mut start = ready + queue;
                if let Some(r) = job.resource_until {
                    start = start.max(r);
                }
                job.started_at = Some(start);
                job.finished_at = Some(start + job.dur_ms);
                end = end.max(start + job.dur_ms);
                fails |= job.blocks_later_stages();
            }
            if blocked.is_none() && fails {
                blocked = Some(end);
            }
            t = end + pick(seed, pi as u64, stage as u64, 1_000, 4_000) as Ms;
        }
    }

    /// Adds a pipeline built from a template. Returns its index.
    #[allow(clippy::too_many_arguments)]
    pub fn add_pipeline(
        &mut self,
        template: &str,
        overrides: &BTreeMap<String, super::scenario::JobOverride>,
        git_ref: String,
        source: &str,
        mr_iid: Option<u64>,
        sha: String,
        created_at: Ms,
        user_id: u64,
        commit_title: String,
    ) -> usize {
        let pi = self.pipelines.len();
        let id = PIPELINE_BASE + pi as u64;
        let iid = pi as u64 + 101;
        let before_sha = if source == "merge_request_event" {
            "0000000000000000000000000000000000000000".to_string()
        } else {
            sha_for(self.seed, id ^ 0xBEF0)
        };
        let coverage = Some(70.0 + pick(self.seed, id, 3, 0, 2000) as f64 / 100.0);
        let name = match source {
            "merge_request_event" => None,
            _ => Some("Build pipeline".to_string()),
        };
        self.pipelines.push(Pipeline {
            id,
            iid,
            sha,
            before_sha,
            git_ref,
            source: source.to_string(),
            mr_iid,
            created_at,
            user_id,
            name,
            jobs: Vec::new(),
            bridges: Vec::new(),
            coverage,
            commit_title,
        });
        let tmpl = self.templates.get(template).cloned().unwrap_or_default();
        let mut stages: Vec<String> = Vec::new();
        for tj in &tmpl {
            if !stages.contains(&tj.stage) {
                stages.push(tj.stage.clone());
            }
        }
        for tj in &tmpl {
            let ov = overrides.get(&tj.name);
            let jid = JOB_BASE + self.jobs.len() as u64;
            let secs = ov.and_then(|o| o.secs).unwrap_or(tj.secs) as i64;
            let jitter = pick(self.seed, jid, 2, 850, 1150) as i64;
            let plan = match ov.and_then(|o| o.result.as_deref()) {
                Some("failed") => Plan::Failed {
                    reason: ov
                        .and_then(|o| o.reason.clone())
                        .unwrap_or_else(|| "script_failure".into()),
                    flaky: ov.and_then(|o| o.flaky).unwrap_or(false),
                },
                _ => Plan::Success,
            };
            let log = ov
                .and_then(|o| o.log.as_deref())
                .and_then(LogKind::parse)
                .unwrap_or(tj.log);
            let job = Job {
                id: jid,
                pipeline_id: id,
                name: ov.and_then(|o| o.name.clone()).unwrap_or(tj.name.clone()),
                stage: tj.stage.clone(),
                stage_idx: stages.iter().position(|s| *s == tj.stage).unwrap_or(0),
                log,
                image: tj.image.clone(),
                dur_ms: secs * jitter,
                allow_failure: ov
                    .and_then(|o| o.allow_failure)
                    .unwrap_or(tj.allow_failure || tj.manual),
                manual: tj.manual,
                played_at: None,
                environment: tj.environment.clone(),
                resource_until: ov
                    .and_then(|o| o.wait_for_resource_s)
                    .map(|s| created_at + s as Ms * 1000),
                plan,
                created_at,
                queued_at: created_at,
                started_at: None,
                finished_at: None,
                skipped: false,
                canceled_at: None,
                retried: false,
                user_id,
            };
            self.jobs.push(job);
            self.pipelines[pi].jobs.push(self.jobs.len() - 1);
        }
        self.layout(pi, 0, created_at + 1_000, None);
        pi
    }

    // ---- writes -------------------------------------------------------------------------

    /// Retries a finished job: a new job id, pending, the old one marked retried. Flaky
    /// failures pass on retry; real ones fail again.
    pub fn retry_job(&mut self, job_id: u64, now: Ms) -> Result<u64, WriteError> {
        let i = self.job_index(job_id).ok_or(WriteError::NotFound("Job"))?;
        let new = self.retry_job_inner(i, now)?;
        let pi = self.pipeline_index(self.jobs[i].pipeline_id);
        let stage = self.jobs[i].stage_idx;
        self.layout(pi, stage + 1, now, Some(now));
        Ok(new)
    }

    fn pipeline_index(&self, id: u64) -> usize {
        (id - PIPELINE_BASE) as usize
    }

    fn retry_job_inner(&mut self, i: usize, now: Ms) -> Result<u64, WriteError> {
        let old = &self.jobs[i];
        if old.retried {
            return Err(WriteError::Forbidden("Job is not retryable"));
        }
        let status = old.status(now);
        if !matches!(status, "success" | "failed" | "canceled") {
            return Err(WriteError::Forbidden("Job is not retryable"));
        }
        let mut job = old.clone();
        let id = JOB_BASE + self.jobs.len() as u64;
        job.id = id;
        job.created_at = now;
        job.queued_at = now;
        job.canceled_at = None;
        job.skipped = false;
        job.user_id = self.current_user;
        if job.manual {
            job.played_at = Some(now);
        }
        if let Plan::Failed { flaky: true, .. } = job.plan {
            job.plan = Plan::Success;
            job.log = LogKind::healthy_for(&job.name);
        }
        let start = now + pick(self.seed, id, 1, 2_000, 9_000) as Ms;
        job.started_at = Some(start);
        job.finished_at = Some(start + job.dur_ms);
        job.resource_until = None;
        self.jobs[i].retried = true;
        let pi = self.pipeline_index(job.pipeline_id);
        self.jobs.push(job);
        let idx = self.jobs.len() - 1;
        self.pipelines[pi].jobs.push(idx);
        Ok(id)
    }

    pub fn cancel_job(&mut self, job_id: u64, now: Ms) -> Result<(), WriteError> {
        let i = self.job_index(job_id).ok_or(WriteError::NotFound("Job"))?;
        let job = &mut self.jobs[i];
        let status = job.status(now);
        if !matches!(
            status,
            "created" | "pending" | "running" | "waiting_for_resource" | "manual"
        ) || job.retried
        {
            return Err(WriteError::Forbidden("Job is not cancelable"));
        }
        job.canceled_at = Some(now);
        Ok(())
    }

    pub fn play_job(&mut self, job_id: u64, now: Ms) -> Result<(), WriteError> {
        let i = self.job_index(job_id).ok_or(WriteError::NotFound("Job"))?;
        if self.jobs[i].status(now) != "manual" {
            return Err(WriteError::BadRequest("Unplayable Job"));
        }
        let job = &mut self.jobs[i];
        job.played_at = Some(now);
        job.user_id = self.current_user;
        let start = now + pick(self.seed, job.id, 7, 2_000, 8_000) as Ms;
        job.started_at = Some(start);
        job.finished_at = Some(start + job.dur_ms);
        Ok(())
    }

    /// Retries every failed or canceled job of the pipeline (a no-op when there are none).
    pub fn retry_pipeline(&mut self, id: u64, now: Ms) -> Result<(), WriteError> {
        let p = self
            .pipeline(id)
            .ok_or(WriteError::NotFound("404 Not found"))?;
        let targets: Vec<usize> = self
            .current_jobs(p)
            .into_iter()
            .filter(|&j| matches!(self.jobs[j].status(now), "failed" | "canceled"))
            .collect();
        let Some(first_stage) = targets.iter().map(|&j| self.jobs[j].stage_idx).min() else {
            return Ok(());
        };
        for j in targets {
            self.retry_job_inner(j, now)?;
        }
        let pi = self.pipeline_index(id);
        self.layout(pi, first_stage + 1, now, Some(now));
        Ok(())
    }

    /// Cancels everything still cancelable; 200 whatever the state.
    pub fn cancel_pipeline(&mut self, id: u64, now: Ms) -> Result<(), WriteError> {
        let p = self
            .pipeline(id)
            .ok_or(WriteError::NotFound("404 Not found"))?;
        let targets: Vec<usize> = self
            .current_jobs(p)
            .into_iter()
            .filter(|&j| self.jobs[j].is_active(now))
            .collect();
        for j in targets {
            self.jobs[j].canceled_at = Some(now);
        }
        Ok(())
    }

    pub fn add_note(&mut self, iid: u64, body: &str, now: Ms) -> Result<u64, WriteError> {
        let author = self.current_user;
        let mr = self
            .mrs
            .get_mut(&iid)
            .ok_or(WriteError::NotFound("404 Not found"))?;
        mr.updated_at = now;
        let id = NOTE_BASE + self.notes.len() as u64;
        self.notes.push(NoteRec {
            id,
            mr_iid: iid,
            author,
            body: body.to_string(),
            created_at: now,
            system: false,
        });
        Ok(id)
    }

    pub fn system_note(&mut self, iid: u64, body: String, now: Ms) {
        let id = NOTE_BASE + self.notes.len() as u64;
        self.notes.push(NoteRec {
            id,
            mr_iid: iid,
            author: self.current_user,
            body,
            created_at: now,
            system: true,
        });
    }

    pub fn user_notes_count(&self, iid: u64) -> usize {
        self.notes
            .iter()
            .filter(|n| n.mr_iid == iid && !n.system)
            .count()
    }

    /// Pushes a new commit to an MR's source branch and starts its pipeline.
    pub fn push_to_mr(&mut self, iid: u64, at: Ms, title: String) -> Option<u64> {
        let sha = self.next_sha();
        let mr = self.mrs.get_mut(&iid)?;
        if mr.state != "opened" {
            return None;
        }
        mr.sha = sha.clone();
        mr.updated_at = at;
        // A new commit keeps the MR's real failures; transient infrastructure trouble is gone.
        let mut spec = mr.spec.clone();
        spec.overrides.retain(|_, o| o.flaky != Some(true));
        let author = mr.author;
        let pi = self.add_pipeline(
            &spec.template,
            &spec.overrides,
            format!("refs/merge-requests/{iid}/head"),
            "merge_request_event",
            Some(iid),
            sha,
            at,
            author,
            title,
        );
        let pid = self.pipelines[pi].id;
        if let Some(mr) = self.mrs.get_mut(&iid) {
            mr.pipelines.push(pid);
        }
        Some(pid)
    }

    /// A push to the default branch: a `main` pipeline.
    pub fn push_to_main(&mut self, at: Ms, author: u64, title: String) -> u64 {
        let sha = self.next_sha();
        let branch = self.project.default_branch.clone();
        let pi = self.add_pipeline(
            "main",
            &BTreeMap::new(),
            branch,
            "push",
            None,
            sha,
            at,
            author,
            title,
        );
        self.pipelines[pi].id
    }

    /// Merges an MR at `at`: merged state, a merge commit and a pipeline on the default branch.
    pub fn merge_mr(&mut self, iid: u64, at: Ms, user: u64) {
        let Some(mr) = self.mrs.get(&iid) else { return };
        let title = format!(
            "Merge branch '{}' into '{}'",
            mr.source_branch, mr.target_branch
        );
        let merge_sha = self.next_sha();
        if let Some(mr) = self.mrs.get_mut(&iid) {
            mr.state = "merged";
            mr.merged_at = Some(at);
            mr.merge_user = Some(user);
            mr.merge_commit_sha = Some(merge_sha);
            mr.updated_at = at;
            mr.auto_merge = false;
        }
        self.system_note(iid, "merged".into(), at);
        self.push_to_main(at, user, title);
    }

    /// Auto-merges whose pipeline finished by `now`: merge on success, cancel on failure.
    fn settle_auto_merges(&mut self, now: Ms) {
        let waiting: Vec<u64> = self
            .mrs
            .values()
            .filter(|m| m.auto_merge && m.state == "opened")
            .map(|m| m.iid)
            .collect();
        for iid in waiting {
            let mr = &self.mrs[&iid];
            let Some(p) = self.head_pipeline(mr) else {
                continue;
            };
            let Some(done) = self.pipeline_finished_at(p, now) else {
                continue;
            };
            match self.detailed_merge_status(mr, now) {
                "mergeable" => self.merge_mr(iid, done, self.current_user),
                "ci_must_pass" => {
                    if let Some(m) = self.mrs.get_mut(&iid) {
                        m.auto_merge = false;
                        m.updated_at = done;
                    }
                    self.system_note(
                        iid,
                        "aborted the automatic merge because the pipeline failed".into(),
                        done,
                    );
                }
                _ => {}
            }
        }
    }

    /// A new pipeline for the default branch's current head (no new commit).
    pub fn push_to_main_at_head(&mut self, at: Ms, user: u64) -> u64 {
        let branch = self.project.default_branch.clone();
        let head = self
            .pipelines
            .iter()
            .rev()
            .find(|p| p.git_ref == branch && p.source == "push")
            .map(|p| (p.sha.clone(), p.commit_title.clone()));
        let (sha, title) = match head {
            Some(h) => h,
            None => (self.next_sha(), "Initial commit".to_string()),
        };
        let pi = self.add_pipeline(
            "main",
            &BTreeMap::new(),
            branch,
            "api",
            None,
            sha,
            at,
            user,
            title,
        );
        self.pipelines[pi].id
    }

    /// Materialises everything the clock has reached since the last request: pushes arrive
    /// every few minutes (deterministically from the seed).
    pub fn tick(&mut self, now: Ms) {
        self.settle_auto_merges(now);
        let mut guard = 0;
        while self.next_arrival <= now && guard < 10_000 {
            guard += 1;
            let at = self.next_arrival;
            self.arrivals += 1;
            let n = self.arrivals;
            let open: Vec<u64> = self
                .mrs
                .values()
                .filter(|m| m.state == "opened" && !m.conflicts)
                .map(|m| m.iid)
                .collect();
            if pick(self.seed, n, 11, 0, 10) < 4 || open.is_empty() {
                let author =
                    self.users[pick(self.seed, n, 12, 0, self.users.len() as u64) as usize].id;
                self.push_to_main(at, author, "Merge branch into 'main'".into());
            } else {
                let iid = open[pick(self.seed, n, 13, 0, open.len() as u64) as usize];
                self.push_to_mr(iid, at, "Address review comments".into());
            }
            let (lo, hi) = self.arrival_gap_s;
            self.next_arrival = at + pick(self.seed, n, 14, lo, hi.max(lo + 1)) as Ms * 1000;
        }
    }
}

/// A refused write, mapped to GitLab's status codes and bodies by the routes.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteError {
    NotFound(&'static str),
    Forbidden(&'static str),
    BadRequest(&'static str),
}
