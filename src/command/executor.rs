//! Runs approved commands against GitLab.
//!
//! Right before sending, the target is fetched again and the command re-validated on that fresh
//! state: what the planner (or the operator) saw may be minutes old. A command whose
//! preconditions no longer hold is refused as stale and nothing is sent. The outcome is written to
//! the audit log (and synced) before it is reported, so whatever the UI shows is on disk.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::gitlab::{GitlabClient, GitlabError, ProjectSnapshot, WriteResponse};

use super::audit::{AuditLog, EXECUTION_LOCK_WAIT, REMEMBER_DONE, RecordHeader, execution_record};
use super::model::{Command, Target};
use super::queue::{Finish, ItemId, Ticket};
use super::request::{HttpRequest, requests};
use super::risk::{Risk, risk};
use super::validate::validate;

/// What the executor needs: the client (read-only enforced inside it) and the audit log.
#[derive(Clone, Debug)]
pub struct ExecContext {
    pub client: GitlabClient,
    pub audit: AuditLog,
}

/// One execution's result, for the queue (`Queue::finish(report.item, report.finish, now)`) and
/// the activity feed (`report.line()`).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecReport {
    pub item: ItemId,
    pub command: Command,
    pub finish: Finish,
    /// The request that was sent (the last one, when a command sends several).
    pub request: Option<HttpRequest>,
    pub http_status: Option<u16>,
    pub duration: Duration,
    /// Set when the audit record could not be written: shown loudly, never swallowed.
    pub audit_error: Option<String>,
}

impl ExecReport {
    /// One line: `done: retry_job job 11: new job 1234 (pending)`.
    pub fn line(&self) -> String {
        let what = format!("{} {}", self.command.kind(), self.command.target());
        let mut s = match &self.finish {
            Finish::Done(summary) => format!("done: {what}: {summary}"),
            Finish::Failed(why) => format!("failed: {what}: {why}"),
            Finish::Stale(why) => format!("refused: {what}: stale: {why}"),
        };
        if let Some(e) = &self.audit_error {
            s.push_str(&format!(" (AUDIT LOG NOT WRITTEN: {e})"));
        }
        s
    }
}

/// Spawns the execution as a tokio task; the report arrives on `tx` after the audit record is
/// on disk.
pub fn spawn(
    ctx: ExecContext,
    ticket: Ticket,
    snap: Arc<ProjectSnapshot>,
    tx: mpsc::Sender<ExecReport>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let report = execute(&ctx, &ticket, &snap).await;
        // A closed channel means the UI is gone; the audit log already holds the outcome.
        let _ = tx.send(report).await;
    })
}

/// Re-fetches, re-validates, sends, audits. Never panics on GitLab's answers.
///
/// Exactly once, across processes: the audit log's execution lock is held from the check
/// "was this done already?" (by keyed identity, on this instance, project by id) to the record
/// of this execution, so two `apply` runs, or `apply` and the TUI, cannot both send it.
pub async fn execute(ctx: &ExecContext, ticket: &Ticket, snap: &ProjectSnapshot) -> ExecReport {
    let started = Instant::now();
    let cmd = &ticket.command;
    let origin = ctx.client.origin().to_string();
    let project_id = snap.project.id;
    let lock = if matches!(cmd, Command::Note { .. }) {
        None
    } else {
        match ctx.audit.lock_for_execution(EXECUTION_LOCK_WAIT).await {
            Ok(l) => Some(l),
            Err(e) => {
                let finish = Finish::Failed(format!("not sent: audit log busy or unusable: {e}"));
                return record(
                    ctx, ticket, finish, None, None, started, &origin, project_id,
                );
            }
        }
    };
    if lock.is_some() {
        let since = jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::try_from(REMEMBER_DONE).unwrap_or_default())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        match ctx.audit.executed_since(cmd, project_id, &origin, since) {
            Ok(Some(when)) => {
                let finish = Finish::Stale(format!(
                    "already executed at {when} (audit log); not sent again"
                ));
                return record(
                    ctx, ticket, finish, None, None, started, &origin, project_id,
                );
            }
            Ok(None) => {}
            Err(e) => {
                let finish = Finish::Failed(format!("not sent: cannot read the audit log: {e}"));
                return record(
                    ctx, ticket, finish, None, None, started, &origin, project_id,
                );
            }
        }
    }
    let (finish, request, http_status) = run(&ctx.client, cmd, ticket.risk, snap).await;
    let report = record(
        ctx,
        ticket,
        finish,
        request,
        http_status,
        started,
        &origin,
        project_id,
    );
    drop(lock);
    report
}

/// Writes the execution record (synced) and builds the report.
#[allow(clippy::too_many_arguments)]
fn record(
    ctx: &ExecContext,
    ticket: &Ticket,
    finish: Finish,
    request: Option<HttpRequest>,
    http_status: Option<u16>,
    started: Instant,
    origin: &str,
    project_id: u64,
) -> ExecReport {
    let cmd = &ticket.command;
    let duration = started.elapsed();
    let (outcome, text) = match &finish {
        Finish::Done(s) => ("done", s.as_str()),
        Finish::Failed(s) => ("failed", s.as_str()),
        Finish::Stale(s) => ("stale", s.as_str()),
    };
    let mut rec = execution_record(
        RecordHeader::for_command(jiff::Timestamp::now(), &ticket.session, ticket.item, cmd),
        &ticket.operator,
        outcome,
        request.as_ref(),
        http_status,
        text,
        duration.as_millis() as u64,
        cmd,
    );
    rec.gitlab = Some(origin.to_string());
    rec.identity = Some(ctx.audit.identity_hash(cmd, project_id));
    let audit_error = ctx.audit.append(&rec).err().map(|e| e.to_string());
    ExecReport {
        item: ticket.item,
        command: cmd.clone(),
        finish,
        request,
        http_status,
        duration,
        audit_error,
    }
}

async fn run(
    client: &GitlabClient,
    cmd: &Command,
    approved_risk: Risk,
    snap: &ProjectSnapshot,
) -> (Finish, Option<HttpRequest>, Option<u16>) {
    if let Command::Note { .. } = cmd {
        return (
            Finish::Done("acknowledged (no GitLab call)".into()),
            None,
            None,
        );
    }
    let fresh = match refresh_target(client, cmd, snap).await {
        Ok(s) => s,
        Err(e) => {
            return (
                Finish::Failed(format!("could not re-check: {e}")),
                None,
                e.status(),
            );
        }
    };
    if let Err(reasons) = validate(cmd, &fresh) {
        return (Finish::Stale(reasons.join("; ")), None, None);
    }
    // The approval covered the risk seen then: a job that turns out to deploy (its environment
    // only in the fresh copy) must not run on a medium-risk (or policy) approval.
    let now_risk = risk(cmd, &fresh);
    if now_risk > approved_risk {
        return (
            Finish::Stale(format!(
                "risk is now {now_risk} (approved as {approved_risk}); approve it again"
            )),
            None,
            None,
        );
    }
    let reqs = match requests(cmd, &fresh) {
        Ok(r) => r,
        Err(e) => return (Finish::Stale(e), None, None),
    };
    let mut last = (None, None, String::new());
    for req in reqs {
        let method = match Method::from_bytes(req.method.as_bytes()) {
            Ok(m) => m,
            Err(_) => {
                return (
                    Finish::Failed(format!("bad method {}", req.method)),
                    Some(req),
                    None,
                );
            }
        };
        match client.write(method, req.api_path(), req.body.clone()).await {
            Ok(resp) if !documented_success(cmd).contains(&resp.status) => {
                // Another 2xx (a proxy's page, an endpoint that changed) says nothing about
                // whether the action happened: it is not recorded as done, so it is not
                // refused later as "already executed" either.
                let status = resp.status;
                return (
                    Finish::Failed(format!(
                        "GitLab answered {status} to {} {}, not {} as the endpoint documents; not counted as done — check on GitLab",
                        req.method,
                        req.path,
                        expected_text(documented_success(cmd))
                    )),
                    Some(req),
                    Some(status),
                );
            }
            Ok(resp) => {
                let mut summary = summarize(cmd, &resp);
                if let Command::RebaseMr { mr_iid, .. } = cmd {
                    // 202 only schedules the rebase: wait for GitLab to say how it went.
                    match rebase_outcome(client, fresh.project.id, *mr_iid).await {
                        Ok(s) => summary = s,
                        Err(why) => return (Finish::Failed(why), Some(req), Some(resp.status)),
                    }
                }
                last = (Some(req), Some(resp.status), summary);
            }
            Err(e) => {
                let status = e.status();
                let mut text = failure_text(&e);
                if let Command::MergeMr { mr_iid, .. } = cmd
                    && matches!(status, Some(405 | 406 | 409 | 422))
                {
                    text.push_str(&merge_refusal(client, fresh.project.id, *mr_iid).await);
                }
                return (Finish::Failed(text), Some(req), status);
            }
        }
    }
    let (req, status, summary) = last;
    (Finish::Done(summary), req, status)
}

/// The statuses GitLab documents for each write's success (checked against GitLab's source,
/// `lib/api`): POST defaults to 201 in Grape unless the endpoint sets another; a note that is
/// only quick actions answers 202; rebase is scheduled (202); play and pipeline cancel set 200.
pub fn documented_success(cmd: &Command) -> &'static [u16] {
    match cmd {
        Command::Note { .. } => &[],
        Command::CommentMr { .. } => &[201, 202],
        Command::SetLabels { .. } | Command::AssignReviewers { .. } => &[200],
        Command::RetryJob { .. } | Command::RetryPipeline { .. } => &[201],
        Command::PlayJob { .. } | Command::CancelPipeline { .. } => &[200],
        Command::RebaseMr { .. } => &[202],
        Command::MergeMr { .. } => &[200],
    }
}

fn expected_text(codes: &[u16]) -> String {
    let v: Vec<String> = codes.iter().map(u16::to_string).collect();
    v.join(" or ")
}

/// How often, and how far apart, a scheduled rebase is polled before `apply` moves on.
const REBASE_POLLS: u32 = 10;
const REBASE_POLL_GAP: Duration = Duration::from_secs(1);

/// Polls the MR (`include_rebase_in_progress=true`) until GitLab's rebase is done, then says
/// how it went: `merge_error` when it failed (an `Err`).
async fn rebase_outcome(client: &GitlabClient, pid: u64, iid: u64) -> Result<String, String> {
    for attempt in 0..REBASE_POLLS {
        if attempt > 0 {
            tokio::time::sleep(REBASE_POLL_GAP).await;
        }
        match client.merge_request_rebase_state(pid, iid).await {
            Ok(mr) if mr.rebase_in_progress == Some(true) => continue,
            Ok(mr) => {
                return match mr.merge_error.as_deref().filter(|e| !e.trim().is_empty()) {
                    Some(err) => Err(format!(
                        "rebase failed: {}",
                        crate::text::one_line(&crate::redact::redact(err), 200)
                    )),
                    None => Ok("rebase finished".into()),
                };
            }
            Err(e) => {
                return Ok(format!(
                    "rebase requested; its outcome could not be read: {e}"
                ));
            }
        }
    }
    Ok(format!(
        "rebase still in progress after {}s",
        REBASE_POLLS as u64 * REBASE_POLL_GAP.as_secs()
    ))
}

/// After GitLab refused a merge (405/406/409/422), what it says about the MR now: the
/// refusal's own message is often generic ("Method Not Allowed").
async fn merge_refusal(client: &GitlabClient, pid: u64, iid: u64) -> String {
    match client.merge_request(pid, iid).await {
        Ok(mr) => {
            let mut t = format!(
                "; GitLab now reports !{iid} as {}",
                crate::text::one_line(mr.merge_state().unwrap_or("unknown"), 60)
            );
            if let Some(err) = mr.merge_error.as_deref().filter(|e| !e.trim().is_empty()) {
                t.push_str(&format!(
                    " (merge_error: {})",
                    crate::text::one_line(&crate::redact::redact(err), 200)
                ));
            }
            t
        }
        Err(e) => format!("; could not re-fetch !{iid}: {e}"),
    }
}

fn failure_text(e: &GitlabError) -> String {
    match e {
        // The client refused before sending: say so plainly.
        GitlabError::ReadOnly { .. } => format!("{e} (nothing was sent)"),
        // On a write, GitLab answers 401 also when the user may read but not do this (merge
        // without the right, approve their own MR): the token worked for every read before.
        GitlabError::Unauthorized { host, .. } => format!(
            "401 from {host}: not permitted to do this (the token reads; check its scope \
             (`api`) and your role in the project)"
        ),
        GitlabError::Forbidden { host, message } => format!(
            "403 from {host}: not permitted to do this{}",
            if message.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", crate::text::one_line(message, 300))
            }
        ),
        _ => e.to_string(),
    }
}

/// A copy of `snap` with the command's target (and what its checks read) fetched fresh.
pub async fn refresh_target(
    client: &GitlabClient,
    cmd: &Command,
    snap: &ProjectSnapshot,
) -> Result<ProjectSnapshot, GitlabError> {
    let mut s = snap.clone();
    let pid = s.project.id;
    match cmd.target() {
        Target::Project => {}
        Target::Job(id) => match client.job(pid, id).await {
            Ok(job) => {
                for jobs in std::sync::Arc::make_mut(&mut s.jobs).values_mut() {
                    jobs.retain(|j| j.id != id);
                }
                let pipeline = job.pipeline_id().unwrap_or(0);
                if let Command::RetryJob { .. } = cmd
                    && pipeline != 0
                {
                    // The pipeline's current jobs show whether someone retried it meanwhile
                    // (the list leaves retried jobs out, so the target is added back).
                    let current = client.pipeline_jobs(pid, pipeline).await?;
                    std::sync::Arc::make_mut(&mut s.jobs).insert(pipeline, current);
                    if let Some(jobs) = std::sync::Arc::make_mut(&mut s.jobs).get_mut(&pipeline) {
                        jobs.retain(|j| j.id != id);
                    }
                }
                std::sync::Arc::make_mut(&mut s.jobs)
                    .entry(pipeline)
                    .or_default()
                    .push(job);
                if let Command::PlayJob { .. } = cmd {
                    // Read after the job, so the answer covers it: whether it deploys is
                    // decided on GitLab's deployments as they are now.
                    s.deployments = client.readable_deployments(pid).await?;
                }
            }
            Err(GitlabError::NotFound { .. }) => {
                for jobs in std::sync::Arc::make_mut(&mut s.jobs).values_mut() {
                    jobs.retain(|j| j.id != id);
                }
            }
            Err(e) => return Err(e),
        },
        Target::Pipeline(id) => match client.pipeline(pid, id).await {
            Ok(p) => {
                std::sync::Arc::make_mut(&mut s.pipelines).insert(id, p);
            }
            Err(GitlabError::NotFound { .. }) => {
                std::sync::Arc::make_mut(&mut s.pipelines).remove(&id);
            }
            Err(e) => return Err(e),
        },
        Target::Mr(iid) => {
            match client.merge_request(pid, iid).await {
                Ok(mr) => {
                    std::sync::Arc::make_mut(&mut s.mrs).insert(iid, mr.into());
                }
                Err(GitlabError::NotFound { .. }) => {
                    std::sync::Arc::make_mut(&mut s.mrs).remove(&iid);
                }
                Err(e) => return Err(e),
            }
            if let Command::MergeMr { .. } = cmd {
                // The head pipeline comes with the single MR; approvals need their own call.
                // Where the endpoint is unavailable GitLab still enforces approvals on merge.
                match client.mr_approvals(pid, iid).await {
                    Ok(a) => {
                        std::sync::Arc::make_mut(&mut s.approvals).insert(iid, a);
                    }
                    Err(GitlabError::NotFound { .. } | GitlabError::Forbidden { .. }) => {
                        std::sync::Arc::make_mut(&mut s.approvals).remove(&iid);
                    }
                    Err(e) => return Err(e),
                }
                let head = s.mrs.get(&iid).and_then(|m| m.head_pipeline.clone());
                if let Some(hp) = head {
                    // Fresh from the MR: it must win over an older copy of the same pipeline.
                    std::sync::Arc::make_mut(&mut s.pipelines).insert(hp.id, *hp);
                } else if let Some(mr) = s.mrs.get(&iid) {
                    // No head pipeline reported: drop what we knew so the check cannot pass on
                    // an old green pipeline.
                    let branch = mr.source_branch.clone();
                    std::sync::Arc::make_mut(&mut s.pipelines).retain(|_, p| {
                        crate::gitlab::snapshot::mr_ref(p.git_ref.as_deref())
                            .is_none_or(|(n, _)| n != iid)
                            && p.git_ref.as_deref() != Some(branch.as_str())
                    });
                }
            }
        }
    }
    if let Command::AssignReviewers { .. } = cmd {
        s.members = client.members(pid).await?.into();
    }
    Ok(s)
}

/// Builds a snapshot holding just what `cmds` refer to, fetched now (for `apply`). A target
/// that cannot be fetched (a 5xx, a timeout, a 403 on that one object) is said beside the
/// snapshot, by the index of its command in `cmds`: only those commands are stale, not the whole
/// plan. The project itself, a rejected token and a rate limit still end it.
pub async fn snapshot_for(
    client: &GitlabClient,
    project: &str,
    cmds: &[&Command],
) -> Result<(ProjectSnapshot, BTreeMap<usize, String>), GitlabError> {
    let p = client.project(project).await?;
    let mut s = ProjectSnapshot {
        host: client.host().to_string(),
        project: p,
        ..ProjectSnapshot::default()
    };
    let mut seen: BTreeMap<_, Option<String>> = BTreeMap::new();
    let mut unfetched: BTreeMap<usize, String> = BTreeMap::new();
    for (i, c) in cmds.iter().enumerate() {
        // Commands for another project are rejected by validation; nothing to fetch.
        if !c.project().eq_ignore_ascii_case(s.path()) {
            continue;
        }
        let key = (
            c.target(),
            matches!(c, Command::MergeMr { .. }),
            matches!(c, Command::AssignReviewers { .. }),
        );
        let failure = match seen.get(&key) {
            Some(f) => f.clone(),
            None => {
                let f = match refresh_target(client, c, &s).await {
                    Ok(fresh) => {
                        s = fresh;
                        None
                    }
                    Err(
                        e @ (GitlabError::Unauthorized { .. } | GitlabError::RateLimited { .. }),
                    ) => return Err(e),
                    Err(e) => Some(e.to_string()),
                };
                seen.insert(key, f.clone());
                f
            }
        };
        if let Some(why) = failure {
            unfetched.insert(i, why);
        }
    }
    s.fetched_at = Some(jiff::Timestamp::now());
    Ok((s, unfetched))
}

/// A short, readable summary of GitLab's answer.
pub fn summarize(cmd: &Command, resp: &WriteResponse) -> String {
    let b = &resp.body;
    let s = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
    let n = |k: &str| b.get(k).and_then(Value::as_u64);
    let text = match cmd {
        Command::RetryJob { .. } => match n("id") {
            Some(id) => format!("new job {id} ({})", s("status")),
            None => String::new(),
        },
        Command::PlayJob { job_id, .. } => format!("job {job_id} is {}", s("status")),
        Command::RetryPipeline { pipeline_id, .. }
        | Command::CancelPipeline { pipeline_id, .. } => {
            format!("pipeline {pipeline_id} is {}", s("status"))
        }
        Command::CommentMr { .. } => match n("id") {
            Some(id) => format!("note {id} posted"),
            None => String::new(),
        },
        Command::SetLabels { .. } => {
            let labels: Vec<&str> = b
                .get("labels")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            format!("labels now: {}", labels.join(", "))
        }
        Command::AssignReviewers { .. } => {
            let names: Vec<&str> = b
                .get("reviewers")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|r| r.get("username").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            format!("reviewers now: {}", names.join(", "))
        }
        Command::RebaseMr { .. } => match b.get("rebase_in_progress").and_then(Value::as_bool) {
            Some(true) => "rebase in progress".into(),
            _ => "rebase requested".into(),
        },
        Command::MergeMr { .. } => format!("state {}", s("state")),
        Command::Note { .. } => String::new(),
    };
    let text = crate::redact::redact(&text).into_owned();
    if text.is_empty() {
        format!("{} {}", resp.status, resp.method)
    } else {
        format!("{}: {text}", resp.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resp(status: u16, body: Value) -> WriteResponse {
        WriteResponse {
            method: "POST".into(),
            path: "/x".into(),
            status,
            body,
            duration: Duration::from_millis(3),
        }
    }

    #[test]
    fn summaries_are_short_and_typed() {
        let retry: Command = serde_json::from_value(json!({"kind": "retry_job", "project": "g/a",
            "job_id": 11, "rationale": "r"}))
        .unwrap();
        assert_eq!(
            summarize(&retry, &resp(201, json!({"id": 99, "status": "pending"}))),
            "201: new job 99 (pending)"
        );
        assert_eq!(summarize(&retry, &resp(201, json!("garbage"))), "201 POST");
        let merge: Command = serde_json::from_value(json!({"kind": "merge_mr", "project": "g/a",
            "mr_iid": 4, "sha": "abcdefg", "rationale": "r"}))
        .unwrap();
        assert_eq!(
            summarize(&merge, &resp(200, json!({"state": "merged"}))),
            "200: state merged"
        );
    }

    #[test]
    fn every_write_has_documented_success_statuses() {
        let c = |v: Value| serde_json::from_value::<Command>(v).unwrap();
        let note = c(
            json!({"kind": "comment_mr", "project": "g/a", "mr_iid": 1, "body": "b", "rationale": "r"}),
        );
        assert_eq!(documented_success(&note), &[201, 202]);
        let play = c(json!({"kind": "play_job", "project": "g/a", "job_id": 1, "rationale": "r"}));
        assert_eq!(documented_success(&play), &[200]);
        let rebase =
            c(json!({"kind": "rebase_mr", "project": "g/a", "mr_iid": 1, "rationale": "r"}));
        assert_eq!(documented_success(&rebase), &[202]);
        assert_eq!(expected_text(&[201, 202]), "201 or 202");
    }

    #[test]
    fn report_lines() {
        let cmd: Command = serde_json::from_value(json!({"kind": "retry_job", "project": "g/a",
            "job_id": 11, "rationale": "r"}))
        .unwrap();
        let mut r = ExecReport {
            item: 1,
            command: cmd,
            finish: Finish::Stale("job 11 is already running".into()),
            request: None,
            http_status: None,
            duration: Duration::ZERO,
            audit_error: None,
        };
        assert_eq!(
            r.line(),
            "refused: retry_job job 11: stale: job 11 is already running"
        );
        r.finish = Finish::Failed("500 from h: server error".into());
        r.audit_error = Some("disk full".into());
        assert!(r.line().starts_with("failed: "));
        assert!(r.line().contains("AUDIT LOG NOT WRITTEN"));
    }

    /// GitLab answers 401 on a write the user may not make: that is "not permitted", not
    /// "token rejected" (the same token just read everything).
    #[test]
    fn write_refusals_say_not_permitted() {
        let e = GitlabError::Unauthorized {
            host: "gitlab.example.com".into(),
            token_from: "GITLAB_TOKEN".into(),
        };
        let t = failure_text(&e);
        assert!(
            t.starts_with("401 from gitlab.example.com: not permitted"),
            "{t}"
        );
        assert!(!t.contains("token rejected"), "{t}");
        let e = GitlabError::Forbidden {
            host: "h".into(),
            message: "403 Forbidden".into(),
        };
        assert_eq!(
            failure_text(&e),
            "403 from h: not permitted to do this: 403 Forbidden"
        );
    }
}
