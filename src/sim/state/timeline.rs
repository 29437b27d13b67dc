//! Placing jobs on the timeline: a new pipeline from a template, and the stage-by-stage
//! layout of start and finish times (re-run after a retry or a play).

use std::collections::BTreeMap;

use super::{Job, Ms, Pipeline, Plan, World, pick, sha_for};
use crate::sim::logs::LogKind;
use crate::sim::scenario::JobOverride;

impl World {
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
                let ready = match (job.played_at, job.delay_ms) {
                    (Some(p), _) => p.max(job.queued_at),
                    (None, Some(d)) => job.queued_at + d,
                    (None, None) => job.queued_at,
                };
                let queue = pick(seed, job.id, 1, 2_000, 11_000) as Ms;
                let mut start = ready + queue;
                if let Some(r) = job.resource_until {
                    // Pending again once the resource is free, until a runner picks it up.
                    start = start.max(r + pick(seed, job.id, 4, 5_000, 9_000) as Ms);
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
        overrides: &BTreeMap<String, JobOverride>,
        git_ref: String,
        source: &str,
        mr_iid: Option<u64>,
        sha: String,
        created_at: Ms,
        user_id: u64,
        commit_title: String,
    ) -> usize {
        let pi = self.pipelines.len();
        let id = self.pipeline_base() + pi as u64;
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
            let jid = self.job_base() + self.jobs.len() as u64;
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
                delay_ms: ov.and_then(|o| o.delayed_s).map(|s| s as Ms * 1000),
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
}
