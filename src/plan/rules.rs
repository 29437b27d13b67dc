//! The offline planner: deterministic rules over the snapshot, no model, no network. It is the
//! default when no key is configured, and its output passes the same gate as a model's
//! (`parse::check_value`).
//!
//! In priority order: retry infrastructure failures (GitLab's `failure_reason` says the runner,
//! not the code, failed); report a red default branch; comment a diagnosis on MRs whose pipeline
//! failed for code reasons; suggest reviewers for MRs that have none (`review::route`, else the
//! members with the lowest review load); rebase MRs that only need a rebase; flag stale MRs and
//! deploys left waiting.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use jiff::Timestamp;

use super::fence;
use super::schema::MAX_COMMANDS;
use super::snapshot::{JobLogs, tail_excerpt};
use crate::command::{Command, Plan};
use crate::gitlab::models::{Job, MergeRequest, Status};
use crate::gitlab::snapshot::ProjectSnapshot;
use crate::review::route::{RouteConfig, RouteInput, route};
use crate::review::triage::{Signal, TriageConfig, triage};

#[derive(Debug, Clone)]
pub struct RulesOptions {
    pub stale_days: i64,
    /// A manual deploy waiting longer than this is flagged.
    pub deploy_wait_hours: i64,
}

impl Default for RulesOptions {
    fn default() -> Self {
        Self {
            stale_days: 7,
            deploy_wait_hours: 2,
        }
    }
}

/// Marker in comments the rules post, so the next run does not post the same diagnosis again.
const COMMENT_MARK: &str = "gitaiops diagnosis";

/// The line of a log excerpt most likely to name the error: the last one mentioning an error,
/// else the last line.
fn error_line(log: &str) -> Option<String> {
    let tail = tail_excerpt(log.as_bytes(), 40);
    let lines: Vec<&str> = tail.lines().collect();
    let is_error = |l: &&&str| {
        let l = l.to_ascii_lowercase();
        [
            "error",
            "failed",
            "fatal",
            "exception",
            "panicked",
            "denied",
            "not found",
        ]
        .iter()
        .any(|w| l.contains(w))
            && !l.contains("job failed: exit code")
    };
    lines
        .iter()
        .rev()
        .find(is_error)
        .or(lines.last())
        .map(|l| fence::clean(l, 200))
        .filter(|l| !l.is_empty())
}

/// Log lines that mean the network or a registry failed, not the code: GitLab reports these as
/// `script_failure`, yet a retry is the right first move.
fn transient_line(log: &str) -> Option<String> {
    const PATTERNS: &[&str] = &[
        "etimedout",
        "econnreset",
        "econnrefused",
        "eai_again",
        "could not resolve host",
        "temporary failure in name resolution",
        "tls handshake timeout",
        "connection reset by peer",
        "i/o timeout",
        "502 bad gateway",
        "503 service unavailable",
        "504 gateway time",
        "toomanyrequests",
        "rate limit exceeded",
    ];
    tail_excerpt(log.as_bytes(), 40)
        .lines()
        .rev()
        .find(|l| {
            let l = l.to_ascii_lowercase();
            PATTERNS.iter().any(|p| l.contains(p))
        })
        .map(|l| fence::clean(l, 200))
}

/// What reviewer routing reads beyond the snapshot (`plan::fetch::fetch_review`): the
/// CODEOWNERS file, recent commits on the changed files, members of the groups CODEOWNERS
/// names, and what GitLab says about the candidates (bot, state, busy status). Empty:
/// routing falls back to recent authors and load.
#[derive(Debug, Clone, Default)]
pub struct ReviewData {
    pub codeowners: Option<crate::review::codeowners::CodeOwners>,
    pub commits: Vec<crate::review::route::RecentCommit>,
    /// Group full path -> usernames of its direct members.
    pub groups: BTreeMap<String, Vec<String>>,
    /// Username -> what `GET /users/:id` and `GET /users/:id/status` said.
    pub people: BTreeMap<String, crate::review::route::PersonFacts>,
    /// What could not be fetched (errors, the request budget).
    pub notes: Vec<String>,
}

struct Rules<'a> {
    snap: &'a ProjectSnapshot,
    review: &'a ReviewData,
    logs: &'a JobLogs,
    now: Timestamp,
    opts: &'a RulesOptions,
    project: String,
    commands: Vec<Command>,
    retried: BTreeSet<u64>,
    findings: Vec<String>,
}

/// Plans from the snapshot alone.
pub fn plan_rules(
    snap: &ProjectSnapshot,
    logs: &JobLogs,
    now: Timestamp,
    opts: &RulesOptions,
) -> Plan {
    plan_rules_with(snap, logs, now, opts, &ReviewData::default())
}

/// Plans from the snapshot and the review data (CODEOWNERS, recent commits) for routing.
pub fn plan_rules_with(
    snap: &ProjectSnapshot,
    logs: &JobLogs,
    now: Timestamp,
    opts: &RulesOptions,
    review: &ReviewData,
) -> Plan {
    let mut r = Rules {
        snap,
        review,
        logs,
        now,
        opts,
        project: snap.path().to_string(),
        commands: Vec::new(),
        retried: BTreeSet::new(),
        findings: Vec::new(),
    };
    r.default_branch();
    let tcfg = TriageConfig {
        stale_days: opts.stale_days,
        ..TriageConfig::default()
    };
    let triaged: Vec<(&MergeRequest, Vec<Signal>)> = snap
        .mrs
        .values()
        .map(|mr| (&**mr, triage(mr, snap, now, &tcfg)))
        .collect();
    let mut red_mrs = 0;
    for (mr, signals) in &triaged {
        for s in signals {
            if let Signal::PipelineFailed { pipeline_id, .. } = s {
                red_mrs += 1;
                r.failed_mr_pipeline(mr, *pipeline_id);
            }
        }
    }
    let mut no_reviewers = 0;
    let mut topped_up = 0;
    for (mr, signals) in &triaged {
        if signals.contains(&Signal::NoReviewers) {
            no_reviewers += 1;
            r.reviewers(mr);
        } else if !mr.reviewers.is_empty()
            && !mr.is_draft()
            && r.review.codeowners.is_some()
            && snap.diffs.contains_key(&mr.iid)
            && r.reviewers(mr)
        {
            // Reviewers who do not cover every required code-owner rule: add owners.
            topped_up += 1;
        }
    }
    for (mr, signals) in &triaged {
        if signals.contains(&Signal::NeedsRebase) {
            r.commands.push(Command::RebaseMr {
                project: r.project.clone(),
                mr_iid: mr.iid,
                rationale: format!(
                    "GitLab reports !{} as needing a rebase and it has no conflicts; a rebase lets its pipeline run on the current target.",
                    mr.iid
                ),
                confidence: Some(0.6),
                evidence: vec!["detailed_merge_status: need_rebase".into()],
            });
        }
    }
    let mut stale = 0;
    for (mr, signals) in &triaged {
        for s in signals {
            if let Signal::Stale { days } = s {
                stale += 1;
                r.commands.push(Command::Note {
                    project: r.project.clone(),
                    text: format!(
                        "!{} by {} has had no activity for {days} days: ask whether it is still needed, or close it.",
                        mr.iid,
                        fence::ident(mr.author_username())
                    ),
                    rationale: format!(
                        "No update for {days} days (stale after {}); idle MRs hide real work and go out of date.",
                        opts.stale_days
                    ),
                    confidence: Some(0.9),
                    evidence: vec![format!("stale {days}d")],
                });
            }
        }
    }
    r.deploys();

    let mut parts = Vec::new();
    parts.extend(r.findings.iter().cloned());
    if red_mrs > 0 {
        parts.push(format!("{red_mrs} MR pipeline(s) failing"));
    }
    if no_reviewers > 0 {
        parts.push(format!("{no_reviewers} MR(s) without a reviewer"));
    }
    if topped_up > 0 {
        parts.push(format!(
            "{topped_up} MR(s) whose reviewers do not cover every required code-owner rule"
        ));
    }
    if stale > 0 {
        parts.push(format!("{stale} stale MR(s)"));
    }
    let total = r.commands.len();
    let mut commands = r.commands;
    // Most valuable first: unblock (retries, red default branch), route, explain, the rest.
    let rank = |c: &Command| match c {
        Command::RetryJob { .. } => 0,
        Command::Note { text, .. } if text.contains(" is red: ") => 1,
        // Adding owners to an MR that has reviewers can wait behind the explanations.
        Command::AssignReviewers { mr_iid, .. }
            if snap.mr(*mr_iid).is_some_and(|m| !m.reviewers.is_empty()) =>
        {
            5
        }
        Command::AssignReviewers { .. } => 2,
        Command::Note { text, .. } if text.starts_with("Deploy job") => 3,
        Command::CommentMr { .. } => 4,
        Command::RebaseMr { .. } => 5,
        _ => 6,
    };
    commands.sort_by_key(rank);
    commands.truncate(MAX_COMMANDS);
    let mut summary = String::from("Offline rules planner (no model). ");
    if parts.is_empty() {
        summary.push_str("Nothing needs attention.");
    } else {
        let _ = write!(summary, "{}.", parts.join("; "));
    }
    if total > commands.len() {
        let _ = write!(
            summary,
            " {} lower-priority suggestions not shown.",
            total - commands.len()
        );
    }
    Plan { summary, commands }
}

impl Rules<'_> {
    fn failed_jobs(&self, pipeline_id: u64) -> Vec<&Job> {
        self.snap
            .jobs
            .get(&pipeline_id)
            .map(|jobs| {
                let mut failed: Vec<&Job> = jobs
                    .iter()
                    .filter(|j| j.status == Status::Failed && !j.allow_failure)
                    .collect();
                // A later attempt of the same job (already retried) supersedes the failure.
                failed.retain(|f| {
                    !jobs
                        .iter()
                        .any(|j| j.name == f.name && j.id > f.id && j.status != Status::Failed)
                });
                failed.sort_by_key(|j| j.id);
                failed
            })
            .unwrap_or_default()
    }

    /// Infrastructure by GitLab's `failure_reason`, or a network/registry error in the log:
    /// `Some(None)` for the former, `Some(Some(line))` for the latter.
    fn retryable(&self, j: &Job) -> Option<Option<String>> {
        if j.failure_reason
            .as_ref()
            .is_some_and(|r| r.is_infrastructure())
        {
            return Some(None);
        }
        match self.logs.get(&j.id) {
            // The diagnoser read the whole log: trust its verdict.
            Some(log) if log.diagnosis.is_some() => log
                .diagnosis
                .as_ref()
                .filter(|d| d.infra_or_flaky)
                .map(|d| {
                    Some(format!(
                        "{}: {}",
                        d.category.label(),
                        fence::clean(&d.summary, 160)
                    ))
                }),
            Some(log) => transient_line(&log.excerpt).map(Some),
            None => None,
        }
    }

    fn retry(&mut self, j: &Job, context: &str, transient: Option<String>) {
        if !self.retried.insert(j.id) {
            return;
        }
        let reason = j
            .failure_reason
            .as_ref()
            .map(|r| r.as_str().to_string())
            .unwrap_or_default();
        let mut evidence = vec![format!("failure_reason: {}", fence::word(&reason))];
        let rationale = match &transient {
            Some(line) => {
                evidence.push(line.clone());
                format!(
                    "Job {} {context} failed for a cause outside the code under test (network, registry, runner or a flaky service); a retry usually passes.",
                    j.id
                )
            }
            None => {
                if let Some(line) = self.logs.get(&j.id).and_then(|l| error_line(&l.excerpt)) {
                    evidence.push(line);
                }
                format!(
                    "Job {} {context} failed with {}, an infrastructure failure (the runner or GitLab, not the code); a retry usually passes.",
                    j.id,
                    fence::word(&reason)
                )
            }
        };
        self.commands.push(Command::RetryJob {
            project: self.project.clone(),
            job_id: j.id,
            rationale,
            confidence: Some(if transient.is_some() { 0.6 } else { 0.7 }),
            evidence,
        });
    }

    fn default_branch(&mut self) {
        let default = self.snap.default_branch().to_string();
        let newest = self
            .snap
            .pipelines
            .values()
            .rev()
            .find(|p| p.git_ref.as_deref() == Some(default.as_str()) && !p.status.is_active());
        let Some(p) = newest.filter(|p| p.status == Status::Failed) else {
            return;
        };
        let pid = p.id;
        let failed: Vec<Job> = self.failed_jobs(pid).into_iter().cloned().collect();
        self.findings
            .push(format!("default branch red (pipeline {pid})"));
        let mut code = Vec::new();
        for j in &failed {
            match self.retryable(j) {
                Some(transient) => self.retry(j, "on the default branch", transient),
                None => code.push(j),
            }
        }
        if failed.is_empty() || !code.is_empty() {
            let jobs: Vec<String> = code
                .iter()
                .map(|j| format!("job {} ({})", j.id, fence::clean(&j.name, 60)))
                .collect();
            let mut evidence = Vec::new();
            for j in &code {
                if let Some(line) = self.logs.get(&j.id).and_then(|l| error_line(&l.excerpt)) {
                    evidence.push(line);
                }
            }
            evidence.truncate(5);
            self.commands.push(Command::Note {
                project: self.project.clone(),
                text: if jobs.is_empty() {
                    format!("{default} is red: pipeline {pid} failed (jobs not fetched). Every MR based on it inherits the failure; fix it first.")
                } else {
                    format!(
                        "{default} is red: pipeline {pid} failed in {}. Every MR based on it inherits the failure; fix it first.",
                        jobs.join(", ")
                    )
                },
                rationale: format!(
                    "The newest finished pipeline on the default branch ({pid}) failed for a code or configuration reason, which a retry will not fix."
                ),
                confidence: Some(0.9),
                evidence,
            });
        }
    }

    fn failed_mr_pipeline(&mut self, mr: &MergeRequest, pipeline_id: u64) {
        let failed: Vec<Job> = self.failed_jobs(pipeline_id).into_iter().cloned().collect();
        let mut code = Vec::new();
        for j in &failed {
            match self.retryable(j) {
                Some(transient) => self.retry(j, &format!("of !{}", mr.iid), transient),
                None => code.push(j),
            }
        }
        if code.is_empty() {
            return;
        }
        let already = self.snap.notes.get(&mr.iid).is_some_and(|notes| {
            notes.iter().any(|n| {
                n.body.contains(COMMENT_MARK) && n.body.contains(&format!("#{pipeline_id}"))
            })
        });
        if already {
            return;
        }
        let mut body = format!("**Pipeline #{pipeline_id} failed** ({COMMENT_MARK})\n");
        let mut evidence = Vec::new();
        for j in &code {
            let reason = j
                .failure_reason
                .as_ref()
                .map(|r| fence::word(r.as_str()))
                .unwrap_or_else(|| "unknown".into());
            let _ = write!(
                body,
                "\n- `{}` (job {}, stage {}): {reason}",
                fence::clean(&j.name, 80).replace('`', "'"),
                j.id,
                fence::clean(&j.stage, 40).replace('`', "'"),
            );
            let diagnosis = self.logs.get(&j.id).and_then(|l| l.diagnosis.as_ref());
            if let Some(d) = diagnosis {
                let _ = write!(
                    body,
                    " — **{}**: {}\n  Suggested fix: {}",
                    d.category.label(),
                    fence::clean(&d.summary, 300),
                    fence::clean(&d.fix, 300)
                );
            }
            let quote = diagnosis
                .and_then(|d| d.evidence.first())
                .map(|e| format!("L{}: {}", e.line, fence::clean(&e.text, 200)))
                .or_else(|| self.logs.get(&j.id).and_then(|l| error_line(&l.excerpt)));
            if let Some(line) = quote {
                let _ = write!(body, "\n  ```\n  {}\n  ```", line.replace("```", "'''"));
                evidence.push(line);
            }
        }
        body.push_str(
            "\n\nThese failures are in the code or CI configuration (not the runner), so a retry will not fix them.",
        );
        evidence.truncate(5);
        self.commands.push(Command::CommentMr {
            project: self.project.clone(),
            mr_iid: mr.iid,
            body,
            rationale: format!(
                "Pipeline {pipeline_id} of !{} failed in {} job(s) for code or config reasons; the author should see why without opening the logs.",
                mr.iid,
                code.len()
            ),
            confidence: Some(0.6),
            evidence,
        });
    }

    /// Proposes reviewers for `mr` (`review::route`: code owners, recent authors, load).
    /// Whether a command was added.
    fn reviewers(&mut self, mr: &MergeRequest) -> bool {
        let mut input = RouteInput::new(self.snap, mr.iid, self.now);
        input.codeowners = self.review.codeowners.as_ref();
        input.recent_commits = &self.review.commits;
        input.groups = &self.review.groups;
        input.people = &self.review.people;
        let routing = route(&input, &RouteConfig::default());
        match routing.proposal {
            Some(cmd) => {
                self.commands.push(cmd);
                true
            }
            None => false,
        }
    }

    fn deploys(&mut self) {
        let limit = self.opts.deploy_wait_hours * 3600;
        let mut waiting: Vec<(&Job, i64)> = self
            .snap
            .all_jobs()
            .filter(|j| {
                matches!(j.status, Status::Manual | Status::WaitingForResource)
                    && self.snap.job_deploys(j, &[])
            })
            .filter_map(|j| {
                let waited = j.created_at.map(|t| self.now.as_second() - t.as_second())?;
                (waited > limit).then_some((j, waited))
            })
            .collect();
        waiting.sort_by_key(|(j, _)| j.id);
        for (j, waited) in waiting {
            let env = self
                .snap
                .environment_of(j)
                .map(|e| fence::clean(e, 60))
                .unwrap_or_else(|| "an environment".into());
            let what = if j.status == Status::Manual {
                "waiting for someone to play it"
            } else {
                "waiting for its resource group (another deploy holds it)"
            };
            self.findings.push(format!(
                "deploy job {} to {env} waiting {}h",
                j.id,
                waited / 3600
            ));
            self.commands.push(Command::Note {
                project: self.project.clone(),
                text: format!(
                    "Deploy job {} ({}) to {env} has been {what} for {}h.",
                    j.id,
                    fence::clean(&j.name, 60),
                    waited / 3600
                ),
                rationale: format!(
                    "Deploys queued for more than {}h delay every change behind them; someone should decide to run or cancel it.",
                    self.opts.deploy_wait_hours
                ),
                confidence: Some(0.8),
                evidence: vec![format!("job {} status {}", j.id, fence::word(j.status.as_str()))],
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Kind, Target};
    use crate::plan::parse::check_value;
    use crate::plan::snapshot::tests::{now, sample, user};

    fn plan(s: &ProjectSnapshot, logs: &JobLogs) -> Plan {
        plan_rules(s, logs, now(), &RulesOptions::default())
    }

    #[test]
    fn sample_project_plan() {
        let s = sample();
        let mut logs = JobLogs::new();
        logs.insert(5100, "$ bundle exec rspec\nFailure/Error: expect(x).to eq 1\nERROR: Job failed: exit code 1\n".into());
        let p = plan(&s, &logs);
        let kinds: Vec<(Kind, Target)> =
            p.commands.iter().map(|c| (c.kind(), c.target())).collect();
        assert_eq!(kinds[0], (Kind::RetryJob, Target::Job(5000)), "{kinds:?}");
        let ranks: Vec<Kind> = kinds.iter().map(|(k, _)| *k).collect();
        assert!(
            ranks.iter().position(|k| *k == Kind::CommentMr)
                > ranks.iter().position(|k| *k == Kind::RetryJob)
        );
        assert!(
            kinds.contains(&(Kind::CommentMr, Target::Mr(42))),
            "{kinds:?}"
        );
        assert!(
            kinds.iter().any(|(k, _)| *k == Kind::Note),
            "stale !44 flagged"
        );
        assert!(p.summary.starts_with("Offline rules planner"));
        let comment = p
            .commands
            .iter()
            .find(|c| c.kind() == Kind::CommentMr)
            .unwrap();
        let body = serde_json::to_value(comment).unwrap()["body"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(body.contains("Failure/Error: expect(x).to eq 1"), "{body}");
        assert!(body.contains("script_failure"));
        // Every rules command passes the same gate as a model's.
        let checked = check_value(&serde_json::to_value(&p).unwrap(), &s).unwrap();
        assert!(checked.rejected.is_empty(), "{:?}", checked.rejected);
        assert_eq!(checked.commands.len(), p.commands.len());
    }

    #[test]
    fn reviewers_go_to_the_least_loaded_non_author() {
        let mut s = sample();
        if let Some(m) = std::sync::Arc::make_mut(&mut s.mrs)
            .get_mut(&43)
            .map(std::sync::Arc::make_mut)
        {
            m.reviewers.clear();
        }
        let p = plan(&s, &JobLogs::new());
        let assign = p
            .commands
            .iter()
            .find(|c| c.kind() == Kind::AssignReviewers)
            .expect("a reviewer proposal");
        match assign {
            Command::AssignReviewers {
                reviewers, mr_iid, ..
            } => {
                assert_eq!(*mr_iid, 43);
                // alice 0, bob is the author, carol 1 (!42), dave 1 (!44), erin 0 -> alice.
                assert_eq!(reviewers, &vec!["alice".to_string()]);
            }
            _ => unreachable!(),
        }
        let checked = check_value(&serde_json::to_value(&p).unwrap(), &s).unwrap();
        assert!(checked.rejected.is_empty(), "{:?}", checked.rejected);
    }

    #[test]
    fn reviewers_follow_codeowners_when_the_review_data_has_them() {
        let mut s = sample();
        if let Some(m) = std::sync::Arc::make_mut(&mut s.mrs)
            .get_mut(&43)
            .map(std::sync::Arc::make_mut)
        {
            m.reviewers.clear();
        }
        let diffs: Vec<crate::gitlab::models::MrDiff> = serde_json::from_value(serde_json::json!([
            {"old_path": "src/billing.rs", "new_path": "src/billing.rs", "diff": "@@ -1 +1 @@\n-a\n+b\n"}
        ]))
        .unwrap();
        std::sync::Arc::make_mut(&mut s.diffs).insert(43, diffs);
        let review = ReviewData {
            codeowners: Some(crate::review::codeowners::CodeOwners::parse(
                "src/billing.rs @erin\n",
            )),
            ..ReviewData::default()
        };
        let p = plan_rules_with(
            &s,
            &JobLogs::new(),
            now(),
            &RulesOptions::default(),
            &review,
        );
        let Some(Command::AssignReviewers {
            reviewers,
            mr_iid,
            evidence,
            ..
        }) = p
            .commands
            .iter()
            .find(|c| c.kind() == Kind::AssignReviewers)
        else {
            panic!("a reviewer proposal: {:?}", p.commands);
        };
        assert_eq!(*mr_iid, 43);
        // Without CODEOWNERS the least loaded (alice) is chosen; the owner wins with it.
        assert_eq!(reviewers[0], "erin", "{evidence:?}");
        assert!(
            evidence.iter().any(|e| e.contains("CODEOWNERS")),
            "{evidence:?}"
        );
    }

    #[test]
    fn no_repeat_comment_and_quiet_project() {
        let mut s = sample();
        std::sync::Arc::make_mut(&mut s.notes).insert(
            42,
            vec![crate::gitlab::models::Note {
                id: 1,
                body: format!("**Pipeline #901 failed** ({COMMENT_MARK})"),
                author: Some(user(9, "gitaiops")),
                ..Default::default()
            }],
        );
        let p = plan(&s, &JobLogs::new());
        assert!(!p.commands.iter().any(|c| c.kind() == Kind::CommentMr));

        let mut quiet = sample();
        std::sync::Arc::make_mut(&mut quiet.pipelines).clear();
        std::sync::Arc::make_mut(&mut quiet.jobs).clear();
        std::sync::Arc::make_mut(&mut quiet.mrs).retain(|iid, _| *iid == 43);
        let p = plan(&quiet, &JobLogs::new());
        assert!(p.commands.is_empty(), "{:?}", p.commands);
        assert!(p.summary.contains("Nothing needs attention"));
    }

    #[test]
    fn network_errors_in_the_log_are_retried() {
        let s = sample();
        let mut logs = JobLogs::new();
        logs.insert(
            5100,
            "npm ERR! code ETIMEDOUT\nnpm ERR! network request to https://registry.npmjs.org failed\n".into(),
        );
        let p = plan(&s, &logs);
        let retry = p
            .commands
            .iter()
            .find(|c| c.target() == Target::Job(5100))
            .expect("job 5100 retried");
        assert_eq!(retry.kind(), Kind::RetryJob);
        assert!(retry.rationale().contains("outside the code"));
        assert!(!p.commands.iter().any(|c| c.kind() == Kind::CommentMr));
    }

    #[test]
    fn diagnosed_logs_decide_retry_or_comment() {
        use crate::plan::snapshot::job_log;
        let s = sample();
        let job = s.job(5100).unwrap().clone();
        let compile = b"$ cargo build\n   Compiling platform v0.1.0\nerror[E0425]: cannot find value `x` in this scope\n --> src/lib.rs:3:5\nerror: could not compile `platform` (lib) due to 1 previous error\nERROR: Job failed: exit code 101\n".to_vec();
        let mut logs = JobLogs::new();
        logs.insert(5100, job_log("acme/platform", &job, compile, 20));
        let d = logs[&5100].diagnosis.clone().unwrap();
        assert!(!d.infra_or_flaky, "{d:?}");
        let p = plan(&s, &logs);
        let body = p
            .commands
            .iter()
            .find_map(|c| match c {
                Command::CommentMr { body, .. } => Some(body.clone()),
                _ => None,
            })
            .expect("a diagnosis comment");
        assert!(body.contains(d.category.label()), "{body}");
        assert!(body.contains("E0425"), "{body}");

        let net = b"$ npm ci\nnpm ERR! code ETIMEDOUT\nnpm ERR! errno ETIMEDOUT\nnpm ERR! network request to https://registry.npmjs.org/webpack failed, reason: connect ETIMEDOUT 104.16.0.35:443\nERROR: Job failed: exit code 1\n".to_vec();
        let mut logs = JobLogs::new();
        logs.insert(5100, job_log("acme/platform", &job, net, 20));
        assert!(logs[&5100].diagnosis.as_ref().unwrap().infra_or_flaky);
        assert!(logs[&5100].excerpt.contains("ETIMEDOUT"));
        let p = plan(&s, &logs);
        assert!(
            p.commands
                .iter()
                .any(|c| c.kind() == Kind::RetryJob && c.target() == Target::Job(5100))
        );
    }

    #[test]
    fn deterministic() {
        let s = sample();
        assert_eq!(plan(&s, &JobLogs::new()), plan(&s, &JobLogs::new()));
    }

    #[test]
    fn waiting_deploy_is_flagged() {
        let mut s = sample();
        for j in std::sync::Arc::make_mut(&mut s.jobs).values_mut().flatten() {
            if j.id == 5200 {
                j.created_at = crate::plan::snapshot::tests::ts("2026-11-20T05:00:00Z");
            }
        }
        let p = plan(&s, &JobLogs::new());
        assert!(
            p.commands.iter().any(
                |c| matches!(c, Command::Note { text, .. } if text.contains("Deploy job 5200"))
            ),
            "{:?}",
            p.commands
        );
    }
}
