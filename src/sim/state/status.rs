//! Statuses derived from the timeline and the clock: a job's, a pipeline's composite status
//! and times, an MR's merge status. Nothing here is stored.

use super::{Job, Mr, Ms, Pipeline, Plan, TERMINAL, World};

impl Job {
    pub fn status(&self, now: Ms) -> &'static str {
        if let Some(c) = self.canceled_at.filter(|c| *c <= now) {
            // A running job asked to stop is `canceling` while its runner cleans up
            // (GitLab 16.10+, runners with graceful cancel), then `canceled`.
            let was_running =
                self.started_at.is_some_and(|s| s < c) && self.finished_at.is_some_and(|f| f > c);
            return if was_running && now < c + CANCEL_GRACE_MS {
                "canceling"
            } else {
                "canceled"
            };
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
        // `when: delayed`: scheduled until its `start_in` is up (or someone plays it).
        if let Some(d) = self.delay_ms
            && self.played_at.is_none()
            && now < self.queued_at + d
        {
            return "scheduled";
        }
        match self.started_at {
            None => return "pending",
            Some(s) if now < s => {
                return if self.resource_until.is_some_and(|r| now < r) {
                    "waiting_for_resource"
                } else if self.environment.is_some() && now + PREPARE_MS >= s {
                    // A deployment job's prerequisites (its environment) run before it.
                    "preparing"
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

    /// Cancelable: not finished, not waiting for a person (GitLab's `CANCELABLE_STATUSES`
    /// less `manual`).
    pub fn is_active(&self, now: Ms) -> bool {
        matches!(
            self.status(now),
            "created" | "pending" | "running" | "waiting_for_resource" | "preparing" | "scheduled"
        )
    }
}

impl World {
    /// GitLab's composite status over a pipeline's current jobs and its trigger jobs
    /// (`Gitlab::Ci::Status::Composite`): an allowed failure counts as
    /// `success_with_warnings`, a manual job that may fail (the default for `when: manual`)
    /// as `ignored`; then the first rule that matches, in GitLab's order.
    pub fn pipeline_status(&self, p: &Pipeline, now: Ms) -> &'static str {
        let mut set: std::collections::BTreeSet<&'static str> = Default::default();
        for &j in &p.jobs {
            let job = &self.jobs[j];
            if job.retried {
                continue;
            }
            let s = job.status(now);
            set.insert(match s {
                "failed" | "canceled" if job.allow_failure => "success_with_warnings",
                "manual" if job.allow_failure => "ignored",
                other => other,
            });
        }
        // A trigger job with `strategy: depend` has its downstream pipeline's status.
        for b in &p.bridges {
            if let Some(d) = self.pipeline(b.downstream) {
                set.insert(self.pipeline_status(d, now));
            }
        }
        composite(&set)
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
        if !self.discussions_resolved(mr.iid) {
            return "discussions_not_resolved";
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

/// How long a deployment job is `preparing` before it runs.
pub const PREPARE_MS: Ms = 4_000;
/// How long a canceled running job is `canceling` before it is `canceled`.
pub const CANCEL_GRACE_MS: Ms = 6_000;

/// GitLab's composite status of a set of job statuses, in its order of rules.
pub fn composite(set: &std::collections::BTreeSet<&str>) -> &'static str {
    let only = |names: &[&str]| !set.is_empty() && set.iter().all(|s| names.contains(s));
    let any = |name: &str| set.contains(name);
    const SWW: &str = "success_with_warnings";
    if set.is_empty() {
        "created"
    } else if only(&["skipped", "ignored"]) {
        "skipped"
    } else if only(&["success", "skipped", SWW, "ignored"]) {
        "success"
    } else if only(&["created", SWW, "ignored"]) {
        "created"
    } else if only(&["preparing", SWW, "ignored"]) {
        "preparing"
    } else if only(&["canceled", "success", "skipped", SWW, "ignored"]) {
        "canceled"
    } else if only(&["pending", "created", "skipped", SWW, "ignored"]) {
        "pending"
    } else if any("running") || any("pending") {
        "running"
    } else if any("waiting_for_resource") {
        "waiting_for_resource"
    } else if any("manual") {
        "manual"
    } else if any("scheduled") {
        "scheduled"
    } else if any("preparing") {
        "preparing"
    } else if any("created") {
        "running"
    } else if any("canceling") {
        "canceling"
    } else {
        "failed"
    }
}
