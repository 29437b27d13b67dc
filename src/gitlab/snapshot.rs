//! The polled state of one project: what the pollers produce and everything else reads.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::deploys::{DeployFact, Deployments};
use super::models::{
    ApprovalState, Approvals, Bridge, Discussion, Job, Member, MergeRequest, MrDiff, Note,
    Pipeline, Project, Status, User,
};

/// Every entity is keyed by (host, project id) so several projects and hosts can share views.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProjectKey {
    pub host: String,
    pub project_id: u64,
}

/// One project's state. Maps are ordered so that anything built from a snapshot (prompts,
/// JSON output, renders) is deterministic.
///
/// The collections are shared (`Arc`): the poller publishes its snapshot after every refresh
/// that changed something, and a publish is a clone. Sharing makes that clone a few pointers
/// instead of a deep copy of every MR (the poller and the screen held two full copies, a third
/// while one was in flight). The poller changes a collection through `Arc::make_mut`, which
/// copies it only while a published snapshot still shares it; open MRs are shared one by one
/// as well, so that copy is of pointers, and an unchanged MR is never copied.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProjectSnapshot {
    /// Host name of the GitLab instance (`gitlab.com`, `127.0.0.1:4567`).
    pub host: String,
    pub project: Project,
    /// The authenticated user, fetched once per session.
    pub user: Option<User>,
    /// Open merge requests by iid.
    pub mrs: Arc<BTreeMap<u64, Arc<MergeRequest>>>,
    /// Recent pipelines by id.
    pub pipelines: Arc<BTreeMap<u64, Pipeline>>,
    /// Jobs by pipeline id, for the pipelines whose jobs were fetched (downstream pipelines'
    /// too: pipeline ids are unique on an instance).
    pub jobs: Arc<BTreeMap<u64, Vec<Job>>>,
    /// Trigger jobs by the pipeline that holds them, for the failed or running pipelines
    /// whose bridges were fetched. Each carries its `downstream_pipeline` (a child or
    /// multi-project pipeline, which the pipeline list leaves out since GitLab 17.0).
    #[serde(default)]
    pub bridges: Arc<BTreeMap<u64, Vec<Bridge>>>,
    /// Approvals by MR iid, for the MRs whose approvals were fetched.
    pub approvals: Arc<BTreeMap<u64, Approvals>>,
    /// Changed files by MR iid, fetched on demand (detail view, planner).
    pub diffs: Arc<BTreeMap<u64, Vec<MrDiff>>>,
    /// How far each MR's `diffs` were read: they load a page at a time (detail view).
    #[serde(default)]
    pub diff_pages: Arc<BTreeMap<u64, DiffPages>>,
    /// Recent notes by MR iid, fetched on demand.
    pub notes: Arc<BTreeMap<u64, Vec<Note>>>,
    /// Threads by MR iid (with their resolved state), fetched when the detail opens.
    #[serde(default)]
    pub discussions: Arc<BTreeMap<u64, Vec<Discussion>>>,
    /// Approval rules by MR iid, where the instance has them (Premium): absent on CE, and
    /// until the detail of that MR opened.
    #[serde(default)]
    pub approval_state: Arc<BTreeMap<u64, ApprovalState>>,
    /// Project members (cached; refreshed on demand).
    pub members: Arc<Vec<Member>>,
    /// Pipelines kept (with their jobs) beyond the newest ones because something on screen or
    /// in the queue refers to them (a command's target, the log being viewed).
    #[serde(skip)]
    pub pinned: std::collections::BTreeSet<u64>,
    /// Server time of the last successful refresh (from the `Date` header when present).
    #[serde(default, with = "opt_ts")]
    pub fetched_at: Option<Timestamp>,
    /// The project's newest deployments: which jobs deploy where. `None` until read, or when
    /// the token may not read them (then nobody can tell which manual job deploys).
    #[serde(default)]
    pub deployments: Option<Deployments>,
}

/// Where an MR's changed files stand: the pages read so far and what is left.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffPages {
    /// The page to read next; `None` once every file is loaded.
    pub next_page: Option<u32>,
    /// Files in all, when GitLab said (`X-Total`, left out above 10,000).
    pub total: Option<u64>,
}

/// Removes `key` from a shared map; the map is copied (if shared) only when `key` is in it.
pub fn remove_shared<K: Ord + Clone, V: Clone>(
    map: &mut Arc<BTreeMap<K, V>>,
    key: &K,
) -> Option<V> {
    if !map.contains_key(key) {
        return None;
    }
    Arc::make_mut(map).remove(key)
}

pub(crate) mod opt_ts {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        crate::gitlab::models::ts::ser(t, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        Ok(s.and_then(|s| s.parse().ok()))
    }
}

impl ProjectSnapshot {
    pub fn key(&self) -> ProjectKey {
        ProjectKey {
            host: self.host.clone(),
            project_id: self.project.id,
        }
    }

    pub fn path(&self) -> &str {
        &self.project.path_with_namespace
    }

    pub fn mr(&self, iid: u64) -> Option<&MergeRequest> {
        self.mrs.get(&iid).map(|m| &**m)
    }

    pub fn pipeline(&self, id: u64) -> Option<&Pipeline> {
        self.pipelines.get(&id)
    }

    /// Every known job, across the pipelines whose jobs were fetched.
    pub fn all_jobs(&self) -> impl Iterator<Item = &Job> {
        self.jobs.values().flatten()
    }

    pub fn job(&self, id: u64) -> Option<&Job> {
        self.all_jobs().find(|j| j.id == id)
    }

    /// What GitLab's deployments say about `job`: a job of another project (a multi-project
    /// downstream pipeline) is not covered by this project's deployments.
    pub fn deploy_fact(&self, job: &Job) -> DeployFact<'_> {
        // The job's pipeline says its project; the scan of every job is for payloads without it.
        let project = job
            .pipeline
            .as_ref()
            .and_then(|p| p.project_id)
            .unwrap_or_else(|| self.job_project_id(job.id));
        match &self.deployments {
            Some(d) if project == self.project.id => d.fact(job),
            _ => DeployFact::Unknown,
        }
    }

    /// Whether `job` deploys as far as anyone can tell: a deployment names it, or its name or
    /// stage says so (built-in words and `extra`, the project's `[policy] deploy_patterns`).
    pub fn job_deploys(&self, job: &Job, extra: &[String]) -> bool {
        matches!(self.deploy_fact(job), DeployFact::Deploys(_)) || job.named_like_deploy(extra)
    }

    /// The environment a deployment says `job` deploys to (`None` when none says so or the
    /// deployment's environment has no name).
    pub fn environment_of(&self, job: &Job) -> Option<&str> {
        match self.deploy_fact(job) {
            DeployFact::Deploys(env) if !env.is_empty() => Some(env),
            _ => None,
        }
    }

    /// The project a pipeline lives in: this one, or — for a multi-project downstream pipeline
    /// reached through a trigger job — its own (its jobs and traces are asked of that project).
    pub fn pipeline_project_id(&self, pipeline: u64) -> u64 {
        if self.pipelines.contains_key(&pipeline) {
            return self.project.id;
        }
        self.downstream_pipeline(pipeline)
            .and_then(|d| d.project_id)
            .unwrap_or(self.project.id)
    }

    /// The project of the pipeline holding job `id` (see [`Self::pipeline_project_id`]).
    pub fn job_project_id(&self, id: u64) -> u64 {
        self.jobs
            .iter()
            .find(|(_, js)| js.iter().any(|j| j.id == id))
            .map_or(self.project.id, |(p, _)| self.pipeline_project_id(*p))
    }

    /// The pipeline that reports on an MR: its `head_pipeline` when the single MR was fetched,
    /// else the newest merge-request pipeline for its iid, else the newest branch pipeline on its
    /// head sha.
    pub fn pipeline_for_mr<'a>(&'a self, mr: &'a MergeRequest) -> Option<&'a Pipeline> {
        if let Some(hp) = &mr.head_pipeline {
            return self.pipelines.get(&hp.id).or(Some(hp));
        }
        let newest = self.pipelines.values().rev();
        newest
            .clone()
            .find(|p| mr_ref(p.git_ref.as_deref()).is_some_and(|(iid, _)| iid == mr.iid))
            .or_else(|| {
                newest.clone().find(|p| {
                    p.git_ref.as_deref() == Some(mr.source_branch.as_str())
                        && p.sha.is_some()
                        && p.sha == mr.sha
                })
            })
    }

    /// The MR a pipeline belongs to: its `refs/merge-requests/<iid>/…` ref, else an open MR
    /// whose source branch and head it ran on (a branch pipeline of the MR's head).
    pub fn mr_of_pipeline(&self, pipeline: u64) -> Option<u64> {
        let p = self.pipeline(pipeline)?;
        if let Some((iid, _)) = mr_ref(p.git_ref.as_deref()) {
            return Some(iid);
        }
        self.mrs
            .values()
            .find(|m| {
                p.git_ref.as_deref() == Some(m.source_branch.as_str())
                    && p.sha.is_some()
                    && p.sha == m.sha
            })
            .map(|m| m.iid)
    }

    /// The downstream pipelines under `id`'s trigger jobs, with the bridge that started each.
    pub fn downstream(&self, id: u64) -> impl Iterator<Item = (&Bridge, &Pipeline)> {
        self.bridges
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|b| b.downstream_pipeline.as_ref().map(|d| (b, d)))
    }

    /// Every downstream pipeline below `id`, depth first, with its depth (1 = a child of `id`).
    /// Bounded: a cycle in hostile data or a deep chain stops at [`MAX_DOWNSTREAM_DEPTH`].
    pub fn downstream_tree(&self, id: u64) -> Vec<(usize, &Bridge, &Pipeline)> {
        let mut out = Vec::new();
        self.walk_downstream(id, 1, &mut out);
        out
    }

    fn walk_downstream<'a>(
        &'a self,
        id: u64,
        depth: usize,
        out: &mut Vec<(usize, &'a Bridge, &'a Pipeline)>,
    ) {
        if depth > MAX_DOWNSTREAM_DEPTH || out.len() >= MAX_DOWNSTREAM {
            return;
        }
        for (b, d) in self.downstream(id) {
            if d.id == id || out.iter().any(|(_, _, seen)| seen.id == d.id) {
                continue;
            }
            out.push((depth, b, d));
            self.walk_downstream(d.id, depth + 1, out);
        }
    }

    /// A downstream pipeline known through a bridge (not in the pipeline list).
    pub fn downstream_pipeline(&self, id: u64) -> Option<&Pipeline> {
        self.bridges
            .values()
            .flatten()
            .filter_map(|b| b.downstream_pipeline.as_ref())
            .find(|d| d.id == id)
    }

    /// Forgets `id`'s bridges and everything fetched below them (downstream jobs, bridges),
    /// so that they are fetched again (the pipeline changed) or not kept (it was dropped).
    pub fn forget_downstream(&mut self, id: u64) {
        let below: Vec<u64> = self
            .downstream_tree(id)
            .iter()
            .map(|(_, _, d)| d.id)
            .collect();
        remove_shared(&mut self.bridges, &id);
        for d in below {
            if !self.pipelines.contains_key(&d) {
                remove_shared(&mut self.jobs, &d);
            }
            remove_shared(&mut self.bridges, &d);
        }
    }

    /// Whether a pipeline's downstream pipelines are worth fetching: it failed (a failure
    /// downstream shows no failed job in its own list) or it is still running.
    pub fn wants_bridges(p: &Pipeline) -> bool {
        p.status == Status::Failed || p.status.is_active()
    }

    pub fn default_branch(&self) -> &str {
        self.project.default_branch.as_deref().unwrap_or("main")
    }

    /// Where a failed job passed on the same commit: a job of the same name that succeeded in
    /// its own pipeline (a retry, when GitLab lists retried jobs) or in another pipeline with
    /// the same `sha`. Same code, different outcome: flaky. From what is held, no request.
    pub fn passed_elsewhere(&self, pipeline: u64, job: &Job) -> Option<u64> {
        if job.status != Status::Failed {
            return None;
        }
        let sha = self.pipelines.get(&pipeline).and_then(|p| p.sha.as_deref());
        self.jobs.iter().find_map(|(pid, jobs)| {
            let same_commit = *pid == pipeline
                || sha.is_some_and(|s| {
                    self.pipelines.get(pid).and_then(|p| p.sha.as_deref()) == Some(s)
                });
            (same_commit
                && jobs
                    .iter()
                    .any(|j| j.id != job.id && j.name == job.name && j.status == Status::Success))
            .then_some(*pid)
        })
    }
}

/// How deep downstream pipelines are followed (child of a child of a child).
pub const MAX_DOWNSTREAM_DEPTH: usize = 3;
/// At most this many downstream pipelines under one pipeline are shown and fetched.
pub const MAX_DOWNSTREAM: usize = 20;

/// The kind of ref an MR pipeline runs on: `refs/merge-requests/<iid>/head` (the source
/// branch's commit), `/merge` (merged-results: the commit GitLab made by merging the source
/// into the target) or `/train` (a merge train's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MrRefKind {
    Head,
    Merge,
    Train,
}

impl MrRefKind {
    /// Merged-results and merge-train pipelines test a merge commit: their `sha` is never the
    /// MR's head `sha` (GitLab checks the head with the merge call's own `sha` parameter).
    pub fn tests_a_merge_commit(self) -> bool {
        !matches!(self, MrRefKind::Head)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MrRefKind::Head => "head",
            MrRefKind::Merge => "merge",
            MrRefKind::Train => "train",
        }
    }
}

/// `refs/merge-requests/42/merge` → `(42, Merge)`; anything else → `None`.
pub fn mr_ref(git_ref: Option<&str>) -> Option<(u64, MrRefKind)> {
    let rest = git_ref?.strip_prefix("refs/merge-requests/")?;
    let (iid, kind) = rest.split_once('/')?;
    let kind = match kind {
        "head" => MrRefKind::Head,
        "merge" => MrRefKind::Merge,
        "train" => MrRefKind::Train,
        _ => return None,
    };
    Some((iid.parse().ok()?, kind))
}

#[cfg(test)]
mod mr_ref_tests {
    use super::*;

    #[test]
    fn mr_refs_of_every_kind_are_recognised() {
        assert_eq!(
            mr_ref(Some("refs/merge-requests/154420/merge")),
            Some((154420, MrRefKind::Merge))
        );
        assert_eq!(
            mr_ref(Some("refs/merge-requests/7/train")),
            Some((7, MrRefKind::Train))
        );
        assert_eq!(
            mr_ref(Some("refs/merge-requests/7/head")),
            Some((7, MrRefKind::Head))
        );
        assert_eq!(mr_ref(Some("refs/merge-requests/x/head")), None);
        assert_eq!(mr_ref(Some("main")), None);
        assert_eq!(mr_ref(None), None);
    }
}
