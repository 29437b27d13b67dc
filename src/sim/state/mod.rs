//! The simulated project's state. Job and pipeline statuses are not stored: they are derived from
//! each job's planned timeline and the sim clock, so pipelines progress without a background task
//! and a world with thousands of jobs costs nothing while idle.

use std::collections::BTreeMap;

use crate::sim::logs::LogKind;

mod seeded;
mod status;
#[cfg(test)]
mod tests;
mod timeline;
mod writes;

pub use seeded::{mix, pick, sha_for};
pub use writes::WriteError;
/// Unix time in milliseconds (the sim clock's unit).
pub type Ms = i64;

/// Ids are dense from these bases so a lookup is an index, not a map. The sizes are
/// gitlab.com's (late 2026): pipeline ids of 10 digits, job ids of 11, MR and note ids of 9-10,
/// so that every column, parser and JSON path meets real magnitudes.
pub const PIPELINE_BASE: u64 = 2_104_330_001;
pub const JOB_BASE: u64 = 11_402_880_001;
pub const MR_ID_BASE: u64 = 380_000_000;
pub const NOTE_BASE: u64 = 2_201_000_001;
/// Trigger jobs share the job id space; theirs start here, clear of the dense job range.
pub const BRIDGE_BASE: u64 = JOB_BASE + 900_000;

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
    /// `when: delayed` with `start_in`: `scheduled` for this long once its stage is reached.
    pub delay_ms: Option<Ms>,
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
    pub overrides: BTreeMap<String, crate::sim::scenario::JobOverride>,
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
    /// Merged results pipelines: its pipelines run on `refs/merge-requests/<iid>/merge`, on
    /// the merge commit of its head and its target (never the MR's own `sha`).
    pub merged_results: bool,
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
    /// The thread this note is part of (a world-unique key); `None`: a plain comment, which
    /// GitLab lists as a discussion of its own (`individual_note`) that cannot be resolved.
    pub thread: Option<u64>,
    /// Who resolved the note's thread and when (thread notes only: GitLab resolves a thread
    /// by resolving each of its notes).
    pub resolved: Option<(u64, Ms)>,
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
    /// Filler bytes added to every job log (`POST /-/sim/trace-padding`): big-log benchmarks.
    pub trace_padding: usize,
    /// GitLab CE/FOSS: the approvals answer has its CE shape (see [`World::set_ce`]).
    pub ce: bool,
    /// The project's `only_allow_merge_if_all_discussions_are_resolved` (GitLab's default is
    /// off): while it is, an unresolved thread blocks the merge
    /// (`blocking_discussions_resolved: false`, `discussions_not_resolved`).
    pub threads_must_be_resolved: bool,
    /// Added to every id base: the projects of one simulated instance share its id spaces
    /// (pipeline, job, MR and note ids are instance-wide on GitLab), so each project's dense
    /// range starts at its own offset.
    pub id_shift: u64,
}

pub const TERMINAL: [&str; 4] = ["success", "failed", "canceled", "skipped"];

impl World {
    pub fn pipeline_base(&self) -> u64 {
        PIPELINE_BASE + self.id_shift
    }

    pub fn job_base(&self) -> u64 {
        JOB_BASE + self.id_shift
    }

    pub fn mr_id_base(&self) -> u64 {
        MR_ID_BASE + self.id_shift
    }

    pub fn note_base(&self) -> u64 {
        NOTE_BASE + self.id_shift
    }

    pub fn bridge_base(&self) -> u64 {
        BRIDGE_BASE + self.id_shift
    }

    /// Turns the world into a GitLab CE/FOSS one: no approval rules, so no MR needs an
    /// approval (approvals given stay), and the approvals answer takes its CE shape.
    pub fn set_ce(&mut self) {
        self.ce = true;
        for mr in self.mrs.values_mut() {
            mr.approvals_required = 0;
        }
    }

    pub fn user(&self, id: u64) -> Option<&UserRec> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn user_by_name(&self, username: &str) -> Option<&UserRec> {
        self.users.iter().find(|u| u.username == username)
    }

    pub fn pipeline(&self, id: u64) -> Option<&Pipeline> {
        let i = id.checked_sub(self.pipeline_base())? as usize;
        self.pipelines.get(i)
    }

    pub fn job(&self, id: u64) -> Option<&Job> {
        let i = id.checked_sub(self.job_base())? as usize;
        self.jobs.get(i)
    }

    fn job_index(&self, id: u64) -> Option<usize> {
        let i = id.checked_sub(self.job_base())? as usize;
        (i < self.jobs.len()).then_some(i)
    }

    pub fn next_sha(&mut self) -> String {
        self.sha_counter += 1;
        sha_for(self.seed, 0x5EED_0000 + self.sha_counter)
    }

    /// The merge commit a merged results pipeline runs on: the MR's head merged into its
    /// target, a sha of its own.
    pub fn merge_sha(&self, head: &str) -> String {
        let h = head
            .bytes()
            .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
        sha_for(self.seed, 0x3E5E_0000_0000 ^ h)
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
}

/// The ref of an MR's pipelines: `refs/merge-requests/<iid>/head`, or `/merge` for merged
/// results pipelines.
pub fn mr_ref(iid: u64, merged_results: bool) -> String {
    let kind = if merged_results { "merge" } else { "head" };
    format!("refs/merge-requests/{iid}/{kind}")
}
