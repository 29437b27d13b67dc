//! Statuses derived from the timeline and the clock: a job's, a pipeline's composite status
//! and times, an MR's merge status. Nothing here is stored.

use super::{Job, Mr, Ms, Pipeline, Plan, TERMINAL, World};

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

    pub(super) fn blocks_later_stages(&self) -> bool {
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

impl World {
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
}
