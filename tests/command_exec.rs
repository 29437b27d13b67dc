//! Commands end to end against the embedded simulated GitLab over loopback: the queue, the
//! executor, read-only, the audit log, and `gitaiops apply` as a child process.

// Runs against the embedded simulator (the default `sim` feature).
#![cfg(feature = "sim")]
// Test and benchmark code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use gitaiops::command::audit::{self, AuditEvent, AuditLog};
use gitaiops::command::executor::{ExecContext, execute, spawn};
use gitaiops::command::queue::{Approval, Finish, Proposed, Queue, QueueError, Source, Status};
use gitaiops::command::request::requests;
use gitaiops::command::{Command, Policy, Risk};
use gitaiops::config::PolicySection;
use gitaiops::gitlab::client::{ClientConfig, GitlabClient, MrQuery, PipelineQuery};
use gitaiops::gitlab::{DetailedMergeStatus, FailureReason, ProjectSnapshot, Status as GlStatus};
use gitaiops::sim::SimHandle;
use gitaiops::testkit::{manual_sim, writes};
use serde_json::{Value, json};

mod hostile;

fn client(base: &str, read_only: bool) -> GitlabClient {
    GitlabClient::new(ClientConfig {
        base_url: base.to_string(),
        token: Some("test-token".to_string().into()),
        read_only,
        no_proxy: true,
        backoff_base: Duration::from_millis(10),
        ..ClientConfig::default()
    })
    .unwrap()
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// What the TUI's poller would hold: open MRs (single fetch, for the head pipeline), recent
/// pipelines with their jobs, approvals, members.
async fn load_snapshot(c: &GitlabClient, path: &str) -> ProjectSnapshot {
    let project = c.project(path).await.unwrap();
    let pid = project.id;
    let mut s = ProjectSnapshot {
        host: c.host().to_string(),
        project,
        ..ProjectSnapshot::default()
    };
    s.members = c.members(pid).await.unwrap().into();
    for mr in c
        .merge_requests(pid, &MrQuery::opened())
        .await
        .unwrap()
        .items
    {
        let full = c.merge_request(pid, mr.iid).await.unwrap();
        if let Ok(a) = c.mr_approvals(pid, mr.iid).await {
            std::sync::Arc::make_mut(&mut s.approvals).insert(mr.iid, a);
        }
        if let Some(hp) = &full.head_pipeline {
            std::sync::Arc::make_mut(&mut s.pipelines).insert(hp.id, (**hp).clone());
        }
        std::sync::Arc::make_mut(&mut s.mrs).insert(mr.iid, full.into());
    }
    for p in c
        .pipelines(pid, &PipelineQuery::latest(50))
        .await
        .unwrap()
        .items
    {
        std::sync::Arc::make_mut(&mut s.pipelines).insert(p.id, p);
    }
    let ids: Vec<u64> = s.pipelines.keys().copied().collect();
    for id in ids {
        std::sync::Arc::make_mut(&mut s.jobs).insert(id, c.pipeline_jobs(pid, id).await.unwrap());
    }
    s.deployments = Some(c.deployments(pid).await.unwrap());
    s
}

/// A failed job that a retry fixes (runner_system_failure, MR !10 in the scenario).
fn flaky_failed_job(s: &ProjectSnapshot) -> (u64, u64) {
    let j = s
        .all_jobs()
        .find(|j| {
            j.status == GlStatus::Failed
                && j.failure_reason == Some(FailureReason::RunnerSystemFailure)
        })
        .expect("the scenario has a runner_system_failure job");
    (j.id, j.pipeline_id().unwrap())
}

fn mergeable_mr(s: &ProjectSnapshot) -> (u64, String) {
    let mr = s
        .mrs
        .values()
        .find(|m| m.detailed_merge_status == Some(DetailedMergeStatus::Mergeable))
        .expect("the scenario has a mergeable MR");
    (mr.iid, mr.sha.clone().unwrap())
}

fn cmd(v: Value) -> Command {
    gitaiops::command::parse_command(&v).unwrap()
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

struct Rig {
    sim: SimHandle,
    base: String,
    path: String,
    client: GitlabClient,
    snap: ProjectSnapshot,
    _dir: tempfile::TempDir,
    audit: AuditLog,
}

async fn rig(read_only_client: bool) -> Rig {
    let sim = manual_sim().await;
    let base = sim.base_url();
    let path = sim.project_path();
    let client = client(&base, read_only_client);
    let snap = load_snapshot(&client, &path).await;
    sim.clear_requests();
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(&dir.path().join("audit.jsonl")).unwrap();
    Rig {
        sim,
        base,
        path,
        client,
        snap,
        _dir: dir,
        audit,
    }
}

impl Rig {
    fn ctx(&self) -> ExecContext {
        ExecContext {
            client: self.client.clone(),
            audit: self.audit.clone(),
        }
    }

    fn queue(&self, policy: Policy) -> Queue {
        Queue::new(policy, "tester@host", "session1")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_sends_exactly_the_previewed_request_and_changes_state() {
    let r = rig(false).await;
    let (job, pipeline) = flaky_failed_job(&r.snap);
    let c = cmd(
        json!({"kind": "retry_job", "project": r.path, "job_id": job,
        "rationale": "runner_system_failure"}),
    );
    let preview = requests(&c, &r.snap).unwrap();
    let mut q = r.queue(Policy::default());
    let id = q.propose(c, Source::Planner, &r.snap, now()).id();
    assert_eq!(q.get(id).unwrap().risk, Risk::Low);
    assert_eq!(q.approve(id, now()), Ok(Approval::Approved));
    r.audit.append_all(&q.drain_records()).unwrap();
    let ticket = q.start(id, now()).unwrap();
    let report = execute(&r.ctx(), &ticket, &r.snap).await;
    q.finish(id, report.finish.clone(), now()).unwrap();
    let Finish::Done(summary) = &report.finish else {
        panic!("{}", report.line())
    };
    assert!(summary.starts_with("201: new job "), "{summary}");
    assert_eq!(q.get(id).unwrap().status, Status::Done);

    // Exactly the request shown in the details view, and nothing else that writes.
    assert_eq!(
        writes(&r.sim),
        vec![(preview[0].method.clone(), preview[0].path.clone())]
    );
    // The sim's state changed: a new test job replaced the failed one in the pipeline.
    let jobs = r.client.pipeline_jobs(1, pipeline).await.unwrap();
    let old_name = &r.snap.job(job).unwrap().name;
    let new = jobs
        .iter()
        .find(|j| &j.name == old_name)
        .expect("job by name");
    assert!(new.id > job, "a retry creates a new job");
    assert_ne!(new.status, GlStatus::Failed);

    // The audit log holds proposal, decision, execution.
    let recs: Vec<_> = audit::read_all(r.audit.path())
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let events: Vec<&str> = recs.iter().map(|r| r.event_name()).collect();
    assert_eq!(events, ["proposal", "decision", "execution"]);
    match &recs[2].event {
        AuditEvent::Execution {
            outcome,
            method,
            path,
            status,
            operator,
            ..
        } => {
            assert_eq!(outcome, "done");
            assert_eq!(method.as_deref(), Some("POST"));
            assert_eq!(path.as_deref(), Some(preview[0].path.as_str()));
            assert_eq!(*status, Some(201));
            assert_eq!(operator, "tester@host");
        }
        e => panic!("{e:?}"),
    }
    r.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_sends_nothing() {
    let r = rig(false).await;
    let (job, _) = flaky_failed_job(&r.snap);
    let mut q = r.queue(Policy::default());
    let id = q
        .propose(
            cmd(json!({"kind": "retry_job", "project": r.path, "job_id": job, "rationale": "r"})),
            Source::Planner,
            &r.snap,
            now(),
        )
        .id();
    q.reject(id, Some("not now".into()), now()).unwrap();
    assert!(q.start(id, now()).is_err());
    assert!(q.startable().is_empty());
    assert!(writes(&r.sim).is_empty());
    r.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_commands_are_refused_without_a_write() {
    let r = rig(false).await;
    let (job, _) = flaky_failed_job(&r.snap);
    let mut q = r.queue(Policy::default());
    let id = q
        .propose(
            cmd(json!({"kind": "retry_job", "project": r.path, "job_id": job, "rationale": "r"})),
            Source::Planner,
            &r.snap,
            now(),
        )
        .id();
    q.approve(id, now()).unwrap();
    // Someone else retries it in the meantime.
    r.client.retry_job(1, job).await.unwrap();
    r.sim.clear_requests();

    let ticket = q.start(id, now()).unwrap();
    let report = execute(&r.ctx(), &ticket, &r.snap).await;
    let Finish::Stale(why) = &report.finish else {
        panic!("{}", report.line())
    };
    assert!(
        why.contains(&format!("job {job} was already retried as job")),
        "{why}"
    );
    assert!(
        report.line().starts_with("refused: retry_job"),
        "{}",
        report.line()
    );
    q.finish(id, report.finish.clone(), now()).unwrap();
    assert_eq!(q.get(id).unwrap().status, Status::Stale);
    assert!(writes(&r.sim).is_empty());
    // The refusal is in the audit log with its reason.
    let last = audit::read_all(r.audit.path())
        .unwrap()
        .pop()
        .unwrap()
        .unwrap();
    match last.event {
        AuditEvent::Execution {
            outcome, summary, ..
        } => {
            assert_eq!(outcome, "stale");
            assert!(summary.contains("already retried"), "{summary}");
        }
        e => panic!("{e:?}"),
    }
    r.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_sends_no_write_across_a_run_of_approvals() {
    // The client itself is read-only; the policy is not, so the executor really tries.
    let r = rig(true).await;
    let (job, pipeline) = flaky_failed_job(&r.snap);
    let (iid, sha) = mergeable_mr(&r.snap);
    let batch = vec![
        json!({"kind": "retry_job", "project": r.path, "job_id": job, "rationale": "r"}),
        json!({"kind": "retry_pipeline", "project": r.path, "pipeline_id": pipeline, "rationale": "r"}),
        json!({"kind": "comment_mr", "project": r.path, "mr_iid": iid, "body": "hello", "rationale": "r"}),
        json!({"kind": "set_labels", "project": r.path, "mr_iid": iid, "add": ["ci::ok"], "rationale": "r"}),
        json!({"kind": "merge_mr", "project": r.path, "mr_iid": iid, "sha": sha, "rationale": "r"}),
    ];
    let mut q = r.queue(Policy::default());
    for v in &batch {
        let id = q
            .propose(cmd(v.clone()), Source::Planner, &r.snap, now())
            .id();
        match q.approve(id, now()).unwrap() {
            Approval::NeedsConfirmation { phrase } => {
                q.confirm(id, &phrase, now()).unwrap();
            }
            Approval::Approved => {}
            a => panic!("{a:?}"),
        }
        let t = q.start(id, now()).unwrap();
        let report = execute(&r.ctx(), &t, &r.snap).await;
        let Finish::Failed(why) = &report.finish else {
            panic!("{}", report.line())
        };
        assert!(why.contains("read-only"), "{why}");
        q.finish(id, report.finish, now()).unwrap();
    }
    // And with the policy read-only too, approvals are refused before the executor.
    let mut q = r.queue(Policy::from_config(&PolicySection::default(), true).unwrap());
    for v in &batch {
        let id = q
            .propose(cmd(v.clone()), Source::Planner, &r.snap, now())
            .id();
        assert!(matches!(
            q.approve(id, now()),
            Err(QueueError::Refused { .. })
        ));
        assert!(q.start(id, now()).is_err());
    }
    assert_eq!(writes(&r.sim), Vec::<(String, String)>::new());
    r.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_approval_sends_one_request() {
    let r = rig(false).await;
    let (job, _) = flaky_failed_job(&r.snap);
    let c = cmd(json!({"kind": "retry_job", "project": r.path, "job_id": job, "rationale": "r"}));
    let mut q = r.queue(Policy::default());
    let id = q.propose(c.clone(), Source::Planner, &r.snap, now()).id();
    // The same command proposed again (planner re-run, operator palette): no second item.
    assert_eq!(
        q.propose(c.clone(), Source::Operator, &r.snap, now()),
        Proposed::Duplicate(id)
    );
    // Key repeat: approve and start pressed several times, each start spawning the executor.
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let snap = Arc::new(r.snap.clone());
    let mut spawned = 0;
    for _ in 0..3 {
        let _ = q.approve(id, now());
        if let Ok(t) = q.start(id, now()) {
            spawn(r.ctx(), t, snap.clone(), tx.clone());
            spawned += 1;
        }
    }
    drop(tx);
    assert_eq!(spawned, 1);
    let report = rx.recv().await.unwrap();
    assert!(
        matches!(report.finish, Finish::Done(_)),
        "{}",
        report.line()
    );
    assert!(rx.recv().await.is_none());
    q.finish(id, report.finish, now()).unwrap();
    // Re-proposal after it is done: still nothing new.
    assert_eq!(
        q.propose(c, Source::Planner, &r.snap, now()),
        Proposed::Duplicate(id)
    );
    assert_eq!(writes(&r.sim).len(), 1);
    r.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_turns_out_to_deploy_is_not_played_on_a_medium_risk_approval() {
    let r = rig(false).await;
    // `eu-central-1` (stage `regions`): only GitLab's deployments say it deploys.
    let job = r
        .snap
        .jobs
        .values()
        .flatten()
        .find(|j| j.name == "eu-central-1" && j.status == GlStatus::Manual)
        .expect("a manual region deploy in the scenario")
        .clone();
    // The copy the operator approved on was read before its deployment was known (covered
    // and not named): medium. The executor reads the deployments again before playing.
    let mut seen = r.snap.clone();
    seen.deployments
        .as_mut()
        .expect("the rig read the deployments")
        .by_job
        .remove(&job.id);
    let c = cmd(json!({"kind": "play_job", "project": r.path, "job_id": job.id, "rationale": "r"}));
    let mut q = r.queue(Policy::default());
    let id = q.propose(c, Source::Operator, &seen, now()).id();
    assert_eq!(q.get(id).unwrap().risk, Risk::Medium);
    assert_eq!(q.approve(id, now()), Ok(Approval::Approved));
    let ticket = q.start(id, now()).unwrap();
    let report = execute(&r.ctx(), &ticket, &seen).await;
    let Finish::Stale(why) = &report.finish else {
        panic!("{}", report.line())
    };
    assert!(why.contains("risk is now high"), "{why}");
    assert!(writes(&r.sim).is_empty());
    r.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_risk_needs_the_second_confirmation() {
    let r = rig(false).await;
    let (iid, sha) = mergeable_mr(&r.snap);
    let c = cmd(
        json!({"kind": "merge_mr", "project": r.path, "mr_iid": iid, "sha": sha,
        "rationale": "approved and green"}),
    );
    let mut q = r.queue(Policy::default());
    let id = q.propose(c, Source::Planner, &r.snap, now()).id();
    assert_eq!(q.get(id).unwrap().risk, Risk::High);
    let Approval::NeedsConfirmation { phrase } = q.approve(id, now()).unwrap() else {
        panic!("high risk must ask again")
    };
    assert_eq!(phrase, format!("merge !{iid}"));
    // Default No.
    q.decline_confirmation(id, now()).unwrap();
    assert!(q.start(id, now()).is_err());
    assert!(writes(&r.sim).is_empty());

    // Confirmed by naming the target: merged, with the head sha.
    q.approve(id, now()).unwrap();
    q.confirm(id, &phrase, now()).unwrap();
    let t = q.start(id, now()).unwrap();
    let report = execute(&r.ctx(), &t, &r.snap).await;
    assert!(
        matches!(report.finish, Finish::Done(_)),
        "{}",
        report.line()
    );
    assert_eq!(
        writes(&r.sim),
        vec![(
            "PUT".to_string(),
            format!("/api/v4/projects/1/merge_requests/{iid}/merge")
        )]
    );
    let mr = r.client.merge_request(1, iid).await.unwrap();
    assert_eq!(mr.state.as_str(), "merged");
    r.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_labels_reach_gitlab() {
    let r = rig(false).await;
    let (iid, _) = mergeable_mr(&r.snap);
    let c = cmd(
        json!({"kind": "set_labels", "project": r.path, "mr_iid": iid,
        "add": ["wrong"], "rationale": "triage"}),
    );
    let mut q = r.queue(Policy::default());
    let id = q.propose(c.clone(), Source::Planner, &r.snap, now()).id();
    let edit = gitaiops::command::queue::Edit::from_text(&c, "add: ci::green\nremove:").unwrap();
    assert_eq!(q.edit(id, &edit, &r.snap, now()), Ok(Status::Proposed));
    q.approve(id, now()).unwrap();
    let t = q.start(id, now()).unwrap();
    let report = execute(&r.ctx(), &t, &r.snap).await;
    assert!(
        matches!(report.finish, Finish::Done(_)),
        "{}",
        report.line()
    );
    let mr = r.client.merge_request(1, iid).await.unwrap();
    assert!(
        mr.labels.contains(&"ci::green".to_string()),
        "{:?}",
        mr.labels
    );
    assert!(!mr.labels.contains(&"wrong".to_string()));
    r.sim.shutdown().await;
}

// ---- apply, as a child process -------------------------------------------------------------

struct ApplyRun {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn apply_cmd(base: &str, dir: &Path, plan: &Path, extra: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_gitaiops"));
    c.arg("apply")
        .arg(plan)
        .args(extra)
        .arg("--gitlab-url")
        .arg(base)
        .arg("--project")
        .arg("acme/platform")
        .env("GITLAB_TOKEN", "test-token")
        .env("GITAIOPS_CONFIG", dir.join("absent-config.toml"))
        .env("GITAIOPS_STATE_DIR", dir.join("state"))
        .env("GITAIOPS__AUDIT__PATH", dir.join("audit.jsonl"))
        .env("HOME", dir)
        .env_remove("GITAIOPS_READ_ONLY")
        .env_remove("GITAIOPS_PROJECT")
        .env_remove("GITLAB_HOST");
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        c.env_remove(v);
    }
    c.stdin(Stdio::null());
    c
}

async fn run_apply(base: &str, dir: &Path, plan: &Value, extra: &[&str]) -> ApplyRun {
    let plan_path = dir.join(format!("plan-{}.json", fastrand::u32(..)));
    std::fs::write(&plan_path, plan.to_string()).unwrap();
    let mut c = apply_cmd(base, dir, &plan_path, extra);
    let out = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    ApplyRun {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn line_for(out: &str, n: usize) -> &str {
    out.lines()
        .find(|l| l.starts_with(&format!("{n}. ")))
        .unwrap_or_else(|| panic!("no line for command {n} in:\n{out}"))
}

fn audit_records(dir: &Path) -> Vec<audit::AuditRecord> {
    audit::read_all(&dir.join("audit.jsonl"))
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_runs_low_and_medium_with_yes_and_refuses_the_rest_with_reasons() {
    let r = rig(false).await;
    let dir = tempfile::tempdir().unwrap();
    let (job, pipeline) = flaky_failed_job(&r.snap);
    let (iid, sha) = mergeable_mr(&r.snap);
    let author = r.snap.mr(iid).unwrap().author_username().to_string();
    let reviewer = r
        .snap
        .members
        .iter()
        .find(|m| m.username != author && m.access_level >= 30)
        .unwrap()
        .username
        .clone();
    let running = r
        .snap
        .all_jobs()
        .find(|j| j.status == GlStatus::Running || j.status == GlStatus::Success)
        .unwrap()
        .id;
    let p = &r.path;
    // In the shape `plan --json` prints (planner, model and rejected are ignored).
    let plan = json!({"planner": "rules", "model": null, "rejected": [],
        "summary": "tidy up", "commands": [
        {"kind": "retry_pipeline", "project": p, "pipeline_id": pipeline, "rationale": "flaky runner"},
        {"kind": "set_labels", "project": p, "mr_iid": iid, "add": ["ready"], "rationale": "green"},
        {"kind": "assign_reviewers", "project": p, "mr_iid": iid, "reviewers": [reviewer], "rationale": "owner"},
        {"kind": "merge_mr", "project": p, "mr_iid": iid, "sha": sha, "rationale": "ready"},
        {"kind": "retry_job", "project": p, "job_id": job, "rationale": "made stale by command 1"},
        {"kind": "retry_job", "project": p, "job_id": running, "rationale": "not failed"},
        {"kind": "delete_project", "project": p, "rationale": "no"},
        {"kind": "set_labels", "project": p, "mr_iid": iid, "add": ["ready"], "rationale": "again"}
    ]});
    let run = run_apply(&r.base, dir.path(), &plan, &["--yes"]).await;
    let out = &run.stdout;
    assert_eq!(
        run.code,
        Some(3),
        "refusals make the exit 3 (partial)\n{out}\n{}",
        run.stderr
    );
    assert!(line_for(out, 1).contains(": done ("), "{out}");
    assert!(line_for(out, 2).contains(": done ("), "{out}");
    assert!(line_for(out, 3).contains(": done ("), "{out}");
    let l4 = line_for(out, 4);
    assert!(
        l4.contains("refused: high risk") && l4.contains(&format!("merge !{iid}")),
        "{l4}"
    );
    let l5 = line_for(out, 5);
    assert!(
        l5.contains("refused: stale: ") && l5.contains("already retried"),
        "{l5}"
    );
    let l6 = line_for(out, 6);
    assert!(
        l6.contains("refused: invalid: ")
            && (l6.contains("only failed or canceled") || l6.contains("already running")),
        "{l6}"
    );
    let l7 = line_for(out, 7);
    assert!(
        l7.contains("refused: invalid: ") && l7.contains("unknown kind"),
        "{l7}"
    );
    assert!(
        line_for(out, 8).contains("refused: duplicate of command 2"),
        "{out}"
    );
    // The details went to stderr, with the request each command sends.
    assert!(
        run.stderr.contains(&format!(
            "sends: POST /api/v4/projects/1/pipelines/{pipeline}/retry"
        )),
        "{}",
        run.stderr
    );

    // Exactly three writes, in plan order.
    let w = writes(&r.sim);
    assert_eq!(
        w,
        vec![
            (
                "POST".to_string(),
                format!("/api/v4/projects/1/pipelines/{pipeline}/retry")
            ),
            (
                "PUT".to_string(),
                format!("/api/v4/projects/1/merge_requests/{iid}")
            ),
            (
                "PUT".to_string(),
                format!("/api/v4/projects/1/merge_requests/{iid}")
            ),
        ]
    );
    let mr = r.client.merge_request(1, iid).await.unwrap();
    assert!(mr.labels.contains(&"ready".to_string()));
    assert_eq!(
        mr.reviewers
            .iter()
            .map(|u| u.username.clone())
            .collect::<Vec<_>>(),
        [reviewer]
    );
    assert_eq!(mr.state.as_str(), "opened", "high risk was not executed");

    // The audit log has a record for every command.
    let recs = audit_records(dir.path());
    let proposals = recs.iter().filter(|r| r.event_name() == "proposal").count();
    assert_eq!(
        proposals, 7,
        "one per command (the duplicate is not a new proposal)"
    );
    let executions: Vec<String> = recs
        .iter()
        .filter_map(|r| match &r.event {
            AuditEvent::Execution { outcome, .. } => Some(outcome.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(executions, ["done", "done", "done", "stale"]);
    assert!(recs.iter().any(|r| matches!(&r.event,
        AuditEvent::Decision { decision, reason: Some(why), .. }
            if decision == "refuse" && why.contains("high risk"))));

    // Applying the same plan again never repeats what was done.
    r.sim.clear_requests();
    let again = run_apply(&r.base, dir.path(), &plan, &["--yes"]).await;
    assert!(
        line_for(&again.stdout, 2).contains("already executed"),
        "{}",
        again.stdout
    );
    assert!(writes(&r.sim).is_empty(), "{}", again.stdout);
    r.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_without_yes_and_without_a_terminal_asks_nobody_and_sends_nothing() {
    let r = rig(false).await;
    let dir = tempfile::tempdir().unwrap();
    let (job, _) = flaky_failed_job(&r.snap);
    let plan = json!([{"kind": "retry_job", "project": r.path, "job_id": job, "rationale": "r"}]);
    let run = run_apply(&r.base, dir.path(), &plan, &[]).await;
    assert_eq!(run.code, Some(3), "partial");
    assert!(
        line_for(&run.stdout, 1).contains("refused: needs approval and there is no terminal"),
        "{}",
        run.stdout
    );
    assert!(writes(&r.sim).is_empty());
    r.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_read_only_sends_no_write() {
    let r = rig(false).await;
    let dir = tempfile::tempdir().unwrap();
    let (job, pipeline) = flaky_failed_job(&r.snap);
    let (iid, _) = mergeable_mr(&r.snap);
    let plan = json!({"summary": "", "commands": [
        {"kind": "retry_job", "project": r.path, "job_id": job, "rationale": "r"},
        {"kind": "retry_pipeline", "project": r.path, "pipeline_id": pipeline, "rationale": "r"},
        {"kind": "comment_mr", "project": r.path, "mr_iid": iid, "body": "hi", "rationale": "r"}
    ]});
    let run = run_apply(&r.base, dir.path(), &plan, &["--yes", "--read-only"]).await;
    assert_eq!(run.code, Some(3), "partial");
    for n in 1..=3 {
        assert!(
            line_for(&run.stdout, n).contains("refused: read-only mode"),
            "{}",
            run.stdout
        );
    }
    assert!(writes(&r.sim).is_empty());
    let recs = audit_records(dir.path());
    assert_eq!(
        recs.iter().filter(|r| r.event_name() == "proposal").count(),
        3
    );
    assert_eq!(
        recs.iter().filter(|r| r.event_name() == "decision").count(),
        3
    );

    // `gitaiops audit` prints them, as text and as JSON lines.
    for (flag, check) in [("", "decision"), ("--json", "\"event\":\"decision\"")] {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_gitaiops"));
        c.arg("audit")
            .env("GITAIOPS_CONFIG", dir.path().join("absent-config.toml"))
            .env("GITAIOPS_STATE_DIR", dir.path().join("state"))
            .env("GITAIOPS__AUDIT__PATH", dir.path().join("audit.jsonl"));
        if !flag.is_empty() {
            c.arg(flag);
        }
        let out = c.output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text.lines().count(), 6, "{text}");
        assert!(text.contains(check), "{text}");
        assert!(text.contains("read-only mode"), "{text}");
    }
    r.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_record_survives_kill_9_right_after_done() {
    let r = rig(false).await;
    let dir = tempfile::tempdir().unwrap();
    let (job, _) = flaky_failed_job(&r.snap);
    let (iid, _) = mergeable_mr(&r.snap);
    // The second command's write hangs in the sim, so the process is certainly alive when
    // killed.
    http()
        .post(format!("{}/-/sim/faults", r.base))
        .json(&json!({"method": "POST",
            "path_prefix": format!("/api/v4/projects/1/merge_requests/{iid}/notes"),
            "kind": "latency", "latency_ms": 20000, "times": null}))
        .send()
        .await
        .unwrap();
    let plan = json!([
        {"kind": "retry_job", "project": r.path, "job_id": job, "rationale": "r"},
        {"kind": "comment_mr", "project": r.path, "mr_iid": iid, "body": "hi", "rationale": "r"}
    ]);
    let plan_path: PathBuf = dir.path().join("plan.json");
    std::fs::write(&plan_path, plan.to_string()).unwrap();
    let mut c = apply_cmd(&r.base, dir.path(), &plan_path, &["--yes"]);
    c.stdout(Stdio::piped()).stderr(Stdio::null());
    let audit_path = dir.path().join("audit.jsonl");
    let (line, alive) = tokio::task::spawn_blocking(move || {
        let mut child = c.spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let alive = child.try_wait().unwrap().is_none();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        (line, alive)
    })
    .await
    .unwrap();
    assert!(
        line.starts_with("1. ") && line.contains(": done ("),
        "{line}"
    );
    assert!(alive, "the process was still running when killed");
    let recs = audit::read_all(&audit_path).unwrap();
    assert!(recs.iter().all(Result::is_ok), "no torn record");
    assert!(recs.iter().flatten().any(|r| matches!(&r.event,
        AuditEvent::Execution { outcome, .. } if outcome == "done")));
    r.sim.shutdown().await;
}

// ---- a write succeeds only on its documented status ---------------------------------------

/// An open MR to comment on.
fn any_open_mr(s: &ProjectSnapshot) -> u64 {
    *s.mrs.keys().next().expect("the scenario has open MRs")
}

fn execution_outcomes(audit: &AuditLog) -> Vec<(String, Option<u16>)> {
    audit::read_all(audit.path())
        .unwrap()
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|r| match r.event {
            AuditEvent::Execution {
                outcome, status, ..
            } => Some((outcome, status)),
            _ => None,
        })
        .collect()
}

/// `POST …/notes` documents 201 (202 for quick actions only). A 200 (a proxy's page, a
/// redirect turned into a GET by a client that follows) is not proof that a note was written:
/// it is `failed` with the reason, and the same command may be approved again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_answered_with_an_undocumented_status_is_failed_not_done() {
    let r = rig(false).await;
    let iid = any_open_mr(&r.snap);
    let pid = r.snap.project.id;
    let http = http();
    let resp = http
        .post(format!("{}/-/sim/faults", r.base))
        .json(&json!({"method": "POST", "path_prefix": format!("/api/v4/projects/{pid}/merge_requests/{iid}/notes"),
            "kind": "status", "status": 200, "times": 1}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let c = cmd(
        json!({"kind": "comment_mr", "project": r.path, "mr_iid": iid,
        "body": "please rebase", "rationale": "r"}),
    );
    let mut q = r.queue(Policy::default());
    let id = q.propose(c.clone(), Source::Operator, &r.snap, now()).id();
    q.approve(id, now()).unwrap();
    r.audit.append_all(&q.drain_records()).unwrap();
    let ticket = q.start(id, now()).unwrap();
    let report = execute(&r.ctx(), &ticket, &r.snap).await;
    let Finish::Failed(why) = &report.finish else {
        panic!("a 200 to a POST of a note is not done: {}", report.line())
    };
    assert!(
        why.contains("answered 200") && why.contains("201 or 202"),
        "{why}"
    );
    assert_eq!(
        execution_outcomes(&r.audit),
        vec![("failed".to_string(), Some(200))]
    );
    q.finish(id, report.finish.clone(), now()).unwrap();

    // Not "already executed": the operator can try again, and the real 201 is done.
    let id2 = match q.propose(c, Source::Operator, &r.snap, now()) {
        Proposed::New(id, _) => id,
        other => panic!("{other:?}"),
    };
    q.approve(id2, now()).unwrap();
    let ticket = q.start(id2, now()).unwrap();
    let report = execute(&r.ctx(), &ticket, &r.snap).await;
    assert!(
        matches!(report.finish, Finish::Done(_)),
        "{}",
        report.line()
    );
    r.sim.shutdown().await;
}

/// A proxy in front of GitLab answers the note's POST with a 302 to a page that returns 200:
/// clients that follow turned it into a GET and printed "done (200 POST)". Now it is failed,
/// names the redirect, and the foreign origin receives nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirected_write_is_failed_and_nothing_follows_it() {
    let sim = manual_sim().await;
    let path = sim.project_path();
    let foreign = hostile::serve(|_| hostile::json(200, &json!({"id": 1, "body": "fake"}))).await;
    let foreign_url = foreign.url_as_localhost();
    let proxy = hostile::serve_proxy(
        sim.base_url(),
        move |s| {
            (s.method == "POST" && s.path().ends_with("/notes"))
                .then(|| hostile::redirect(302, &format!("{foreign_url}/landing")))
        },
        |_, _| None,
    )
    .await;
    let client = client(&proxy.url(), false);
    let snap = load_snapshot(&client, &path).await;
    let iid = any_open_mr(&snap);
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(&dir.path().join("audit.jsonl")).unwrap();
    let ctx = ExecContext {
        client: client.clone(),
        audit: audit.clone(),
    };
    let c = cmd(json!({"kind": "comment_mr", "project": path, "mr_iid": iid,
        "body": "hello", "rationale": "r"}));
    let mut q = Queue::new(Policy::default(), "tester@host", "s2");
    let id = q.propose(c, Source::Operator, &snap, now()).id();
    q.approve(id, now()).unwrap();
    let ticket = q.start(id, now()).unwrap();
    let report = execute(&ctx, &ticket, &snap).await;
    let Finish::Failed(why) = &report.finish else {
        panic!("{}", report.line())
    };
    assert!(
        why.contains("302") && why.contains("check --gitlab-url"),
        "{why}"
    );
    assert!(foreign.requests().is_empty(), "{:?}", foreign.requests());
    assert_eq!(
        execution_outcomes(&audit),
        vec![("failed".to_string(), None)]
    );
    sim.shutdown().await;
}

// ---- exactly once across spellings, secrets, processes and instance names -----------------

/// Writes the sim at `base` received (`(method, path)`), read over HTTP like any client.
async fn http_writes(base: &str) -> Vec<(String, String)> {
    let v: Value = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{base}/-/sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] != "GET" && r["method"] != "HEAD")
        .map(|r| {
            (
                r["method"].as_str().unwrap_or("").to_string(),
                r["path"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// POSTs of notes the sim received.
async fn note_posts(base: &str) -> usize {
    http_writes(base)
        .await
        .iter()
        .filter(|(m, p)| m == "POST" && p.ends_with("/notes"))
        .count()
}

fn comment_plan(project: &str, iid: u64, body: &str) -> Value {
    json!({"summary": "s", "commands": [
        {"kind": "comment_mr", "project": project, "mr_iid": iid, "body": body, "rationale": "r"}
    ]})
}

/// The same note, applied again under another spelling of the project, with a secret-looking
/// body (the log keeps it redacted), and against the same sim reached as `localhost`: never a
/// second POST.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_never_runs_the_same_command_twice_under_another_spelling() {
    let r = rig(false).await;
    let dir = tempfile::tempdir().unwrap();
    let iid = any_open_mr(&r.snap);
    let body = "rotate glpat-Q7w8E9r0T1y2U3i4O5p6 today";
    let first = run_apply(
        &r.base,
        dir.path(),
        &comment_plan(&r.path, iid, body),
        &["--yes"],
    )
    .await;
    assert!(
        line_for(&first.stdout, 1).contains("done"),
        "{}\n{}",
        first.stdout,
        first.stderr
    );
    assert_eq!(note_posts(&r.base).await, 1);
    let log = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(!log.contains("glpat-Q7w8"), "the log holds no secret");

    let upper = r.path.to_uppercase();
    let localhost = r.base.replace("127.0.0.1", "localhost");
    for (base, project) in [
        (r.base.as_str(), upper.as_str()),
        (localhost.as_str(), r.path.as_str()),
        (localhost.as_str(), upper.as_str()),
    ] {
        let again = run_apply(
            base,
            dir.path(),
            &comment_plan(project, iid, body),
            &["--yes"],
        )
        .await;
        assert!(
            line_for(&again.stdout, 1).contains("already executed"),
            "{base} {project}: {}\n{}",
            again.stdout,
            again.stderr
        );
        // Re-applying a plan that was done is idempotent: not a failure for a script.
        assert_eq!(again.code, Some(0), "{}", again.stderr);
    }
    assert_eq!(note_posts(&r.base).await, 1, "no second POST");
    r.sim.shutdown().await;
}

/// Two `apply` runs at the same moment: the execution lock makes exactly one of them send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_applies_send_once() {
    let r = rig(false).await;
    let dir = tempfile::tempdir().unwrap();
    let iid = any_open_mr(&r.snap);
    let plan = comment_plan(&r.path, iid, "only once");
    let (a, b) = tokio::join!(
        run_apply(&r.base, dir.path(), &plan, &["--yes"]),
        run_apply(&r.base, dir.path(), &plan, &["--yes"]),
    );
    assert_eq!(note_posts(&r.base).await, 1, "{}\n{}", a.stdout, b.stdout);
    for x in [&a, &b] {
        assert!(x.stdout.contains("1. "), "{}\n{}", x.stdout, x.stderr);
    }
    let done = [&a, &b]
        .iter()
        .filter(|x| line_for(&x.stdout, 1).contains(": done ("))
        .count();
    assert_eq!(done, 1, "{}\n{}", a.stdout, b.stdout);
    r.sim.shutdown().await;
}

/// 20,000 junk items: one audit record (and one line) for everything past the limit, not one
/// fsync'd record each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_junk_plan_writes_one_record_for_the_items_over_the_limit() {
    let r = rig(false).await;
    let dir = tempfile::tempdir().unwrap();
    let plan = Value::Array(vec![json!(1); 20_000]);
    let run = run_apply(&r.base, dir.path(), &plan, &["--yes"]).await;
    assert_eq!(run.code, Some(3), "partial");
    let recs = audit_records(dir.path());
    assert!(recs.len() <= 101, "{} records", recs.len());
    assert!(
        recs.iter().any(
            |r| matches!(&r.event, AuditEvent::Proposal { reason: Some(why), .. }
            if why.contains("19900 item(s) over the limit of 100"))
        ),
        "{recs:?}"
    );
    assert!(
        run.stdout.lines().count() <= 101,
        "{}",
        run.stdout.lines().count()
    );
    assert!(
        run.stdout.contains("19900 item(s) over the limit"),
        "{}",
        run.stdout
    );
    r.sim.shutdown().await;
}

/// `apply --json`: one record per command with stable fields, then a summary; a plan with one
/// command done, one refused and one failed exits 3 (partial).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_json_prints_one_record_per_command_and_a_summary_and_exits_3() {
    let r = rig(false).await;
    let dir = tempfile::tempdir().unwrap();
    let (job, _) = flaky_failed_job(&r.snap);
    let (iid, sha) = mergeable_mr(&r.snap);
    let pid = r.snap.project.id;
    // The comment's POST is answered 200 instead of 201: failed, not done.
    let resp = http()
        .post(format!("{}/-/sim/faults", r.base))
        .json(&json!({"method": "POST", "path_prefix": format!("/api/v4/projects/{pid}/merge_requests/{iid}/notes"),
            "kind": "status", "status": 200, "times": 1}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let p = &r.path;
    let plan = json!({"summary": "three outcomes", "commands": [
        {"kind": "retry_job", "project": p, "job_id": job, "rationale": "flaky"},
        {"kind": "merge_mr", "project": p, "mr_iid": iid, "sha": sha, "rationale": "high risk, no terminal"},
        {"kind": "comment_mr", "project": p, "mr_iid": iid, "body": "please rebase", "rationale": "r"}
    ]});
    let run = run_apply(&r.base, dir.path(), &plan, &["--yes", "--json"]).await;
    assert_eq!(run.code, Some(3), "{}\n{}", run.stdout, run.stderr);
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    let outcomes: Vec<(&str, u64, &str, &str)> = lines[..3]
        .iter()
        .map(|v| {
            (
                v["type"].as_str().unwrap(),
                v["item"].as_u64().unwrap(),
                v["kind"].as_str().unwrap(),
                v["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("command", 1, "retry_job", "done"),
            ("command", 2, "merge_mr", "refused"),
            ("command", 3, "comment_mr", "failed"),
        ]
    );
    assert!(
        lines[2]["detail"]
            .as_str()
            .unwrap()
            .contains("answered 200")
    );
    assert!(
        lines[1]["target"]
            .as_str()
            .unwrap()
            .contains(&iid.to_string())
    );
    let summary = &lines[3];
    assert_eq!(summary["type"], "summary");
    assert_eq!(
        (
            summary["done"].as_u64(),
            summary["refused"].as_u64(),
            summary["failed"].as_u64(),
            summary["exit_code"].as_u64()
        ),
        (Some(1), Some(1), Some(1), Some(3))
    );
    // Applied again: the done one is skipped as already executed, the failed comment is
    // tried again (and done now), the merge is still refused.
    let again = run_apply(&r.base, dir.path(), &plan, &["--yes", "--json"]).await;
    let lines: Vec<Value> = again
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["outcome"], "skipped");
    assert_eq!(lines[2]["outcome"], "done");
    assert_eq!(lines[3]["already_executed"], 1);
    assert_eq!(again.code, Some(3));
    r.sim.shutdown().await;
}

/// GitLab runs quick actions in a comment: a `comment_mr` whose body says `/close` on a line
/// would close the MR without anyone approving a close. The simulator runs them as GitLab does
/// (a raw note closes), and `apply` posts such lines as code: the MR stays open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_never_carries_a_quick_action_nobody_approved() {
    let r = rig(false).await;
    let pid = r.snap.project.id;
    let mut open = r.snap.mrs.keys().copied();
    let (raw_iid, iid) = (open.next().unwrap(), open.next().unwrap());

    // The simulator is as strict as GitLab: a raw note with `/close` closes the MR.
    let raw = reqwest::Client::new()
        .post(format!(
            "{}/api/v4/projects/{pid}/merge_requests/{raw_iid}/notes",
            r.base
        ))
        .header("PRIVATE-TOKEN", "sim-token")
        .json(&json!({"body": "bye\n/close"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 201);
    let closed = r.client.merge_request(pid, raw_iid).await.unwrap();
    assert_eq!(
        closed.state.to_string(),
        "closed",
        "the sim runs quick actions"
    );

    let dir = tempfile::tempdir().unwrap();
    let body = "Thanks, looks fine.\n/close\n/approve";
    let run = run_apply(
        &r.base,
        dir.path(),
        &comment_plan(&r.path, iid, body),
        &["--yes"],
    )
    .await;
    assert!(
        line_for(&run.stdout, 1).contains("done"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    // The operator saw the body with its line breaks, and what will be sent.
    assert!(run.stderr.contains("`/close`"), "{}", run.stderr);
    assert!(
        run.stderr.contains("quick actions are sent as code"),
        "{}",
        run.stderr
    );
    let mr = r.client.merge_request(pid, iid).await.unwrap();
    assert_eq!(mr.state.to_string(), "opened", "the comment closed nothing");
    let before = r
        .snap
        .approvals
        .get(&iid)
        .map_or(0, |a| a.approved_by.len());
    let approvals = r.client.mr_approvals(pid, iid).await.unwrap();
    assert_eq!(
        approvals.approved_by.len(),
        before,
        "the comment approved nothing"
    );
    r.sim.shutdown().await;
}

// ---- what GitLab says when it refuses a write ----------------------------------------------

/// Runs an approved (and confirmed) `merge_mr` of a mergeable MR through a proxy in front of
/// the simulator whose answer to the merge PUT is `merge_answer`; `mr_after` rewrites the MR's
/// JSON once the merge was tried (what GitLab reports after refusing it).
async fn refused_merge(
    merge_answer: (u16, Value),
    mr_after: impl Fn(&mut Value) + Send + Sync + 'static,
) -> String {
    use std::sync::atomic::{AtomicBool, Ordering};
    let sim = manual_sim().await;
    let path = sim.project_path();
    let tried = Arc::new(AtomicBool::new(false));
    let (t1, t2) = (tried.clone(), tried.clone());
    let proxy = hostile::serve_proxy(
        sim.base_url(),
        move |s| {
            (s.method == "PUT" && s.path().ends_with("/merge")).then(|| {
                t1.store(true, Ordering::SeqCst);
                hostile::json(merge_answer.0, &merge_answer.1)
            })
        },
        move |s, up| {
            let single_mr = s.method == "GET"
                && s.path().contains("/merge_requests/")
                && s.path()
                    .rsplit('/')
                    .next()
                    .is_some_and(|x| x.parse::<u64>().is_ok());
            if !(single_mr && t2.load(Ordering::SeqCst)) {
                return None;
            }
            let mut v: Value = serde_json::from_slice(&up.body).ok()?;
            mr_after(&mut v);
            Some(hostile::json(up.status, &v))
        },
    )
    .await;
    let client = client(&proxy.url(), false);
    let snap = load_snapshot(&client, &path).await;
    let (iid, sha) = mergeable_mr(&snap);
    let dir = tempfile::tempdir().unwrap();
    let ctx = ExecContext {
        client: client.clone(),
        audit: AuditLog::open(&dir.path().join("audit.jsonl")).unwrap(),
    };
    let c = cmd(
        json!({"kind": "merge_mr", "project": path, "mr_iid": iid, "sha": sha,
        "rationale": "r"}),
    );
    let mut q = Queue::new(Policy::default(), "tester@host", "s3");
    let id = q.propose(c, Source::Operator, &snap, now()).id();
    if let Approval::NeedsConfirmation { phrase } = q.approve(id, now()).unwrap() {
        q.confirm(id, &phrase, now()).unwrap();
    }
    let ticket = q.start(id, now()).unwrap();
    let report = execute(&ctx, &ticket, &snap).await;
    sim.shutdown().await;
    assert!(tried.load(Ordering::SeqCst), "{}", report.line());
    let Finish::Failed(why) = report.finish else {
        panic!("{}", report.line())
    };
    why
}

/// GitLab answers 401 (not 403) when the user may read but not merge: on a write that is
/// "not permitted", never "token rejected".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_or_403_on_a_merge_says_not_permitted() {
    for code in [401u16, 403] {
        let why = refused_merge(
            (code, json!({"message": format!("{code} Unauthorized")})),
            |_| {},
        )
        .await;
        assert!(why.contains(&format!("{code} from")), "{why}");
        assert!(why.contains("not permitted"), "{why}");
        assert!(!why.contains("token rejected"), "{why}");
    }
}

/// After a 405/406/409/422 on merge GitLab's message is generic; the MR re-fetched says why
/// (`detailed_merge_status`, `merge_error`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_merge_reports_the_mrs_state_and_merge_error() {
    for code in [405u16, 406, 409, 422] {
        let why = refused_merge((code, json!({"message": "405 Method Not Allowed"})), |mr| {
            mr["detailed_merge_status"] = json!("need_rebase");
            mr["merge_error"] = json!("Merge failed: fast-forward merge is not possible");
        })
        .await;
        assert!(why.contains("GitLab now reports !"), "{code}: {why}");
        assert!(why.contains("need_rebase"), "{code}: {why}");
        assert!(
            why.contains("merge_error: Merge failed: fast-forward merge is not possible"),
            "{code}: {why}"
        );
    }
}

/// One target GitLab cannot answer for (a 500 on that job) makes only its command stale; the
/// rest of the plan still runs. Before, the whole plan stopped ("cannot fetch … to validate").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_with_one_unfetchable_target_refuses_only_that_command() {
    let sim = manual_sim().await;
    let path = sim.project_path();
    let direct = client(&sim.base_url(), false);
    let snap = load_snapshot(&direct, &path).await;
    let (job, _) = flaky_failed_job(&snap);
    let iid = any_open_mr(&snap);
    let broken = format!("/jobs/{job}");
    let proxy = hostile::serve_proxy(
        sim.base_url(),
        move |s| {
            (s.method == "GET" && s.path().ends_with(&broken))
                .then(|| hostile::json(500, &json!({"message": "500 Internal Server Error"})))
        },
        |_, _| None,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let plan = json!({"summary": "s", "commands": [
        {"kind": "retry_job", "project": path, "job_id": job, "rationale": "flaky"},
        {"kind": "set_labels", "project": path, "mr_iid": iid, "add": ["ready"], "rationale": "r"}
    ]});
    let run = run_apply(&proxy.url(), dir.path(), &plan, &["--yes"]).await;
    let out = &run.stdout;
    // 3: partial (one refused, one done).
    assert_eq!(run.code, Some(3), "{out}\n{}", run.stderr);
    let first = line_for(out, 1);
    assert!(
        first.contains("refused: stale: cannot fetch the target again") && first.contains("500"),
        "{first}"
    );
    assert!(line_for(out, 2).contains("done"), "{out}\n{}", run.stderr);
    let sent = writes(&sim);
    assert!(sent.iter().all(|(_, p)| !p.contains("/retry")), "{sent:?}");
    assert!(sent.iter().any(|(m, _)| m == "PUT"), "{sent:?}");
    sim.shutdown().await;
}

/// `PUT …/rebase` only schedules the rebase (202): the executor polls the MR with
/// `include_rebase_in_progress=true` until it is done, and a rebase that failed is failed with
/// GitLab's `merge_error`, not "done".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebase_is_polled_until_done_and_reports_merge_error() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let sim = manual_sim().await;
    let path = sim.project_path();
    let polls = Arc::new(AtomicUsize::new(0));
    let p2 = polls.clone();
    let proxy = hostile::serve_proxy(
        sim.base_url(),
        |_| None,
        move |s, up| {
            if !(s.method == "GET" && s.uri.contains("include_rebase_in_progress=true")) {
                return None;
            }
            let n = p2.fetch_add(1, Ordering::SeqCst);
            let mut v: Value = serde_json::from_slice(&up.body).ok()?;
            if n == 0 {
                v["rebase_in_progress"] = json!(true);
            } else {
                v["rebase_in_progress"] = json!(false);
                v["merge_error"] = json!("Rebase failed: conflict in src/lib.rs");
            }
            Some(hostile::json(up.status, &v))
        },
    )
    .await;
    let client = client(&proxy.url(), false);
    let snap = load_snapshot(&client, &path).await;
    let (iid, _) = mergeable_mr(&snap);
    let dir = tempfile::tempdir().unwrap();
    let ctx = ExecContext {
        client: client.clone(),
        audit: AuditLog::open(&dir.path().join("audit.jsonl")).unwrap(),
    };
    let c = cmd(json!({"kind": "rebase_mr", "project": path, "mr_iid": iid, "rationale": "r"}));
    let mut q = Queue::new(Policy::default(), "tester@host", "s4");
    let id = q.propose(c, Source::Operator, &snap, now()).id();
    if let Approval::NeedsConfirmation { phrase } = q.approve(id, now()).unwrap() {
        q.confirm(id, &phrase, now()).unwrap();
    }
    let ticket = q.start(id, now()).unwrap();
    let report = execute(&ctx, &ticket, &snap).await;
    sim.shutdown().await;
    assert_eq!(polls.load(Ordering::SeqCst), 2, "polled until done");
    let Finish::Failed(why) = &report.finish else {
        panic!("{}", report.line())
    };
    assert_eq!(why, "rebase failed: Rebase failed: conflict in src/lib.rs");
}
