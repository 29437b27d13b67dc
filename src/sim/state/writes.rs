//! Writes, as GitLab answers them: retry, cancel and play jobs, retry and cancel pipelines,
//! notes, pushes, merges; and `tick`, which lets the world move on by itself.

use super::*;

impl World {
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
        (id - self.pipeline_base()) as usize
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
        let id = self.job_base() + self.jobs.len() as u64;
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
            "created"
                | "pending"
                | "running"
                | "waiting_for_resource"
                | "preparing"
                | "scheduled"
                | "manual"
        ) || job.retried
        {
            return Err(WriteError::Forbidden("Job is not cancelable"));
        }
        job.canceled_at = Some(now);
        Ok(())
    }

    pub fn play_job(&mut self, job_id: u64, now: Ms) -> Result<(), WriteError> {
        let i = self.job_index(job_id).ok_or(WriteError::NotFound("Job"))?;
        // A delayed job can be started before its time, as a manual one can.
        if !matches!(self.jobs[i].status(now), "manual" | "scheduled") {
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
        let id = self.note_base() + self.notes.len() as u64;
        self.notes.push(NoteRec {
            id,
            mr_iid: iid,
            author,
            body: body.to_string(),
            created_at: now,
            system: false,
            thread: None,
            resolved: None,
        });
        // GitLab runs the quick actions of a note (lines starting with `/command` outside
        // code): a comment can close, approve or merge. The simulator does too, so a test
        // catches a comment that carries an action nobody approved as that action.
        for (cmd, arg) in crate::gitlab::quick_actions::parse(body) {
            self.quick_action(iid, &cmd, &arg, now);
        }
        Ok(id)
    }

    fn quick_action(&mut self, iid: u64, cmd: &str, arg: &str, now: Ms) {
        let user = self.current_user;
        let names: Vec<u64> = arg
            .split_whitespace()
            .filter_map(|u| self.user_by_name(u.trim_start_matches('@')).map(|u| u.id))
            .collect();
        let open = self.mrs.get(&iid).is_some_and(|m| m.state == "opened");
        match cmd {
            "merge" if open => self.merge_mr(iid, now, user),
            "close" | "reopen" | "approve" | "unapprove" | "label" | "unlabel"
            | "assign_reviewer" | "reviewer" | "request_review" => {
                let Some(mr) = self.mrs.get_mut(&iid) else {
                    return;
                };
                match cmd {
                    "close" if open => {
                        mr.state = "closed";
                        mr.closed_at = Some(now);
                        mr.closed_by = Some(user);
                    }
                    "reopen" if mr.state == "closed" => {
                        mr.state = "opened";
                        mr.closed_at = None;
                        mr.closed_by = None;
                    }
                    "approve" if open && !mr.approved_by.iter().any(|(u, _)| *u == user) => {
                        mr.approved_by.push((user, now));
                    }
                    "unapprove" => mr.approved_by.retain(|(u, _)| *u != user),
                    "label" => {
                        for l in arg.split_whitespace() {
                            let l = l.trim_start_matches('~').trim_matches('"').to_string();
                            if !l.is_empty() && !mr.labels.contains(&l) {
                                mr.labels.push(l);
                            }
                        }
                    }
                    "unlabel" => {
                        let gone: Vec<String> = arg
                            .split_whitespace()
                            .map(|l| l.trim_start_matches('~').trim_matches('"').to_string())
                            .collect();
                        mr.labels.retain(|l| !gone.contains(l));
                    }
                    _ if open => {
                        for id in names {
                            if !mr.reviewers.contains(&id) {
                                mr.reviewers.push(id);
                            }
                        }
                    }
                    _ => return,
                }
                mr.updated_at = now;
                self.system_note(iid, format!("quick action /{cmd}"), now);
            }
            _ => {}
        }
    }

    pub fn system_note(&mut self, iid: u64, body: String, now: Ms) {
        let id = self.note_base() + self.notes.len() as u64;
        self.notes.push(NoteRec {
            id,
            mr_iid: iid,
            author: self.current_user,
            body,
            created_at: now,
            system: true,
            thread: None,
            resolved: None,
        });
    }

    /// GitLab's `blocking_discussions_resolved` (`mergeable_discussions_state?`): true unless
    /// the project asks for resolved threads and one of this MR's is not.
    pub fn discussions_resolved(&self, iid: u64) -> bool {
        !self.threads_must_be_resolved
            || !self
                .notes
                .iter()
                .any(|n| n.mr_iid == iid && n.thread.is_some() && n.resolved.is_none())
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
        let merged_results = mr.merged_results;
        let (git_ref, sha) = if merged_results {
            (super::mr_ref(iid, true), self.merge_sha(&sha))
        } else {
            (super::mr_ref(iid, false), sha)
        };
        let pi = self.add_pipeline(
            &spec.template,
            &spec.overrides,
            git_ref,
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
