//! The TUI's command flow end to end, without a terminal: the app's `update` (keys, palette,
//! dialogs) plus what the runtime does with its effects (audit log, the real executor) against
//! the embedded simulated GitLab over loopback.

// Runs against the embedded simulator (the default `sim` feature).
#![cfg(feature = "sim")]
// Test and benchmark code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use gitaiops::app::pipelines::PipeRow;
use gitaiops::app::state::Overlay;
use gitaiops::app::{AppState, Key, Msg, Pane, update};
use gitaiops::command::Status as QueueStatus;
use gitaiops::command::audit::{self, AuditLog};
use gitaiops::command::executor::{ExecContext, spawn};
use gitaiops::command::{Policy, Queue};
use gitaiops::driver::{Driver, DriverConfig};
use gitaiops::gitlab::client::{ClientConfig, GitlabClient};
use gitaiops::gitlab::poller::PollConfig;
use gitaiops::gitlab::{FailureReason, ProjectSnapshot, Status};
use gitaiops::plan::run::{Backend, Planner, PlannerOptions};
use gitaiops::sim::{SimClock, SimConfig, SimHandle};
use gitaiops::testkit::{AppBuilder, client_config};
use serde_json::Value;
use tokio::sync::mpsc;

struct Rig {
    sim: SimHandle,
    state: AppState,
    /// The driver the binary runs: its poller, audit writer and executor.
    driver: Driver,
    client: GitlabClient,
    audit: AuditLog,
    _dir: tempfile::TempDir,
}

async fn rig(read_only: bool) -> Rig {
    rig_at(read_only, 0, None).await
}

/// `worker`: the binary whose `diagnose-worker` runs the background diagnoses (as the TUI's
/// binary does), else they run in this process.
async fn rig_at(read_only: bool, scale: usize, worker: Option<std::path::PathBuf>) -> Rig {
    let sim = gitaiops::sim::start(SimConfig {
        clock: SimClock::Manual,
        scale,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = GitlabClient::new(ClientConfig {
        token: Some("demo".to_string().into()),
        read_only,
        ..client_config(&sim)
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(&dir.path().join("audit.jsonl")).unwrap();
    let mut state = AppBuilder::for_sim(&sim)
        .read_only(read_only)
        .size(140, 45)
        .build();
    state.commands = Queue::new(
        Policy {
            read_only,
            ..Policy::default()
        },
        audit::operator_id(),
        audit::new_session_id(),
    );
    let driver = Driver::new(DriverConfig {
        client: client.clone(),
        more_clients: Vec::new(),
        // Refreshes only when asked: every step of a test is explicit.
        poll: PollConfig {
            refresh: Duration::from_secs(3600),
            ..PollConfig::default()
        },
        planner: Arc::new(Planner::new(Backend::Rules, PlannerOptions::default())),
        audit: Some(audit.clone()),
    });
    let driver = match worker {
        Some(exe) => driver.with_diagnosis_worker(exe),
        None => driver,
    };
    let mut r = Rig {
        sim,
        state,
        client,
        driver,
        audit,
        _dir: dir,
    };
    r.run(Msg::Resize { w: 140, h: 45 });
    let project = r.state.settings.project.clone();
    let epoch = r.state.epoch;
    r.driver.start(project, epoch);
    // The first snapshot, with the jobs of the pipelines on screen.
    r.pump_until("the first snapshot with jobs", |s| {
        s.snapshot.as_ref().is_some_and(|s| !s.jobs.is_empty())
    })
    .await;
    r.sim.clear_requests();
    r
}

impl Rig {
    /// `update`, then every effect to the driver, exactly as the TUI's loop does.
    fn run(&mut self, msg: Msg) {
        for fx in update(&mut self.state, msg) {
            self.driver.perform(fx);
        }
    }

    /// Feeds the driver's messages into the app until `done` holds (20 s at most).
    async fn pump_until(&mut self, what: &str, done: impl Fn(&AppState) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !done(&self.state) {
            let msg = tokio::time::timeout_at(deadline, self.driver.next())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
            self.run(msg);
        }
    }

    /// Until nothing approved is waiting for the executor.
    async fn settle(&mut self) {
        self.pump_until("executions to finish", |s| {
            !s.queue
                .items
                .iter()
                .any(|i| matches!(i.status, QueueStatus::Approved | QueueStatus::Executing))
        })
        .await;
    }

    /// `r`: one poller refresh, through to its request report.
    async fn refresh(&mut self) {
        let before = self.client.request_count();
        self.run(Msg::Key(Key::char('r')));
        self.pump_until("a refresh", |s| s.requests_total > before)
            .await;
    }

    fn snap(&self) -> Arc<ProjectSnapshot> {
        self.state.snapshot.clone().unwrap()
    }

    async fn keys(&mut self, specs: &[&str]) {
        for k in specs {
            self.run(Msg::Key(Key::parse(k).unwrap()));
            self.settle().await;
        }
    }

    async fn typed(&mut self, text: &str) {
        for c in text.chars() {
            let k = if c == '\n' {
                Key::parse("enter").unwrap()
            } else {
                Key::char(c)
            };
            self.run(Msg::Key(k));
            self.settle().await;
        }
    }

    /// Non-GET requests the sim received, from its control endpoint over loopback.
    async fn writes(&self) -> Vec<String> {
        let v: Value = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("{}/-/sim/requests", self.sim.base_url()))
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
            .map(|r| format!("{} {}", r["method"], r["path"]))
            .collect()
    }

    /// Selects a job row in the pipelines pane (expanding its pipeline).
    async fn select_job(&mut self, job: u64, pipeline: u64) {
        self.keys(&["2"]).await;
        self.state.pipelines.expanded.insert(pipeline);
        let snapshot = self.snap();
        let epoch = self.state.epoch;
        self.run(Msg::Snapshot { epoch, snapshot });
        let pos = self
            .state
            .pipelines
            .rows
            .iter()
            .position(|r| matches!(r, PipeRow::Job { job: j, .. } if *j == job))
            .expect("job row shown");
        self.state.pipelines.cursor.selected = pos;
    }

    fn flaky_job(&self) -> (u64, u64) {
        let snap = self.snap();
        let j = snap
            .all_jobs()
            .find(|j| {
                j.status == Status::Failed
                    && j.failure_reason == Some(FailureReason::RunnerSystemFailure)
            })
            .expect("a runner_system_failure job in the scenario");
        (j.id, j.pipeline_id().unwrap())
    }

    fn audit_events(&self) -> Vec<String> {
        audit::read_all(self.audit.path())
            .unwrap()
            .into_iter()
            .map(|r| r.unwrap().event_name().to_string())
            .collect()
    }
}

#[tokio::test]
async fn operator_retry_then_approve_sends_one_post_and_shows_done() {
    let mut r = rig(false).await;
    let (job, pipeline) = r.flaky_job();
    let name = r.snap().job(job).unwrap().name.clone();
    r.select_job(job, pipeline).await;
    r.typed(":retry\n").await;
    assert_eq!(r.state.focus, Pane::Queue);
    assert_eq!(r.state.queue.items.len(), 1);
    assert_eq!(r.state.queue.items[0].status, QueueStatus::Proposed);
    assert!(r.writes().await.is_empty(), "proposing sends nothing");

    r.keys(&["a"]).await;
    let writes = r.writes().await;
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(
        writes[0].contains("POST") && writes[0].contains(&format!("/jobs/{job}/retry")),
        "{writes:?}"
    );
    assert_eq!(r.state.queue.items[0].status, QueueStatus::Done);
    assert!(r.state.queue.items[0].reason.is_some());
    assert_eq!(
        r.audit_events(),
        vec!["proposal", "decision", "execution"],
        "every transition audited"
    );
    // Approving again sends nothing more.
    r.keys(&["a"]).await;
    assert_eq!(r.writes().await.len(), 1);
    // After a refresh the retried job is in the snapshot and the done item stays done.
    r.refresh().await;
    assert_eq!(r.state.queue.items[0].status, QueueStatus::Done);
    let snap = r.snap();
    let fresh = snap
        .jobs
        .get(&pipeline)
        .into_iter()
        .flatten()
        .any(|j| j.name == name && j.id > job);
    assert!(fresh, "the new job is in the refreshed snapshot");
}

#[tokio::test]
async fn high_risk_merge_without_the_phrase_writes_nothing() {
    let mut r = rig(false).await;
    let snap = r.snap();
    let iid = snap
        .mrs
        .values()
        .find(|m| m.detailed_merge_status == Some(gitaiops::gitlab::DetailedMergeStatus::Mergeable))
        .map(|m| m.iid)
        .expect("a mergeable MR");
    r.keys(&["1"]).await;
    let pos = r.state.mrs.rows.iter().position(|i| *i == iid).unwrap();
    r.state.mrs.cursor.selected = pos;
    r.typed(":merge\n").await;
    assert_eq!(r.state.queue.items.len(), 1);
    r.keys(&["a"]).await;
    assert!(matches!(r.state.overlay, Overlay::Confirm { .. }));
    // Enter without typing: No.
    r.keys(&["enter"]).await;
    // y is not the phrase either.
    r.keys(&["a"]).await;
    r.typed("y\n").await;
    assert_eq!(r.state.queue.items[0].status, QueueStatus::Proposed);
    assert!(r.writes().await.is_empty(), "{:?}", r.writes().await);
    // The typed phrase merges, once.
    r.keys(&["a"]).await;
    r.typed(&format!("merge !{iid}\n")).await;
    let writes = r.writes().await;
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(
        writes[0].contains("PUT") && writes[0].contains("/merge"),
        "{writes:?}"
    );
}

#[tokio::test]
async fn read_only_sends_no_write() {
    let mut r = rig(true).await;
    let (job, pipeline) = r.flaky_job();
    r.select_job(job, pipeline).await;
    r.typed(":retry\n").await;
    r.keys(&["a"]).await;
    assert_ne!(r.state.queue.items[0].status, QueueStatus::Done);
    assert!(r.writes().await.is_empty(), "{:?}", r.writes().await);

    // Even an approved ticket given to the executor with the read-only client sends nothing.
    let snap = r.snap();
    let mut q = Queue::new(Policy::default(), "t", "s");
    let cmd = gitaiops::command::operator::from_palette(
        ":retry",
        gitaiops::command::operator::Selection::Job(job),
        &snap,
    )
    .unwrap();
    let id = q
        .propose(cmd, gitaiops::command::Source::Operator, &snap, r.sim.now())
        .id();
    q.approve(id, r.sim.now()).unwrap();
    let ticket = q.start(id, r.sim.now()).unwrap();
    let (tx, mut rx) = mpsc::channel(1);
    spawn(
        ExecContext {
            client: r.client.clone(),
            audit: r.audit.clone(),
        },
        ticket,
        snap,
        tx,
    );
    let report = rx.recv().await.unwrap();
    assert!(
        !matches!(report.finish, gitaiops::command::queue::Finish::Done(_)),
        "{report:?}"
    );
    assert!(r.writes().await.is_empty(), "{:?}", r.writes().await);
}

#[tokio::test]
async fn reject_with_a_reason_sends_nothing_and_is_audited() {
    let mut r = rig(false).await;
    let (job, pipeline) = r.flaky_job();
    r.select_job(job, pipeline).await;
    r.typed(":retry\n").await;
    r.keys(&["x"]).await;
    r.typed("runner is being replaced\n").await;
    assert_eq!(r.state.queue.items[0].status, QueueStatus::Rejected);
    assert!(
        r.state.queue.items[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("runner is being replaced")
    );
    // Approving a rejected item does nothing.
    r.keys(&["a"]).await;
    assert!(r.writes().await.is_empty());
    assert_eq!(r.audit_events(), vec!["proposal", "decision"]);
}

/// Failed jobs of pipelines older than the newest 20 (what the poller keeps), from the
/// simulator's API as any client would read it.
async fn old_failed_jobs(r: &Rig) -> Vec<u64> {
    let snap = r.snap();
    let newest_kept = *snap.pipelines.keys().next().unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let jobs: Value = http
        .get(format!(
            "{}/api/v4/projects/{}/jobs?scope[]=failed&per_page=100",
            r.sim.base_url(),
            snap.project.id
        ))
        .bearer_auth("demo")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jobs.as_array()
        .unwrap()
        .iter()
        .filter(|j| {
            j["pipeline"]["id"]
                .as_u64()
                .is_some_and(|p| p < newest_kept)
        })
        .filter_map(|j| j["id"].as_u64())
        .collect()
}

/// At `--scale 60` a real job beyond the newest pipelines is looked up, never called "not
/// found": `:log ID` loads its name and status, `:retry` on it is a valid proposal, and a
/// planner's `retry_job` for another one is valid once GitLab has answered. A job GitLab does
/// not have says so in GitLab's words.
#[tokio::test]
async fn targets_beyond_the_loaded_pipelines_are_looked_up_not_called_missing() {
    let mut r = rig_at(false, 60, None).await;
    let old = old_failed_jobs(&r).await;
    assert!(
        old.len() >= 2,
        "the scale-60 world has old failed jobs: {old:?}"
    );
    assert!(r.snap().job(old[0]).is_none(), "not in the loaded data");

    r.typed(&format!(":log {}\n", old[0])).await;
    r.pump_until("the looked-up job in the log view", |s| {
        s.snapshot
            .as_ref()
            .is_some_and(|snap| snap.job(old[0]).is_some())
            && s.looking_up.is_empty()
    })
    .await;
    let name = r.snap().job(old[0]).unwrap().name.clone();
    match &r.state.view {
        gitaiops::app::state::View::Log(v) => assert!(v.title.starts_with(&name), "{}", v.title),
        other => panic!("not the log view: {other:?}"),
    }
    r.typed(":retry\n").await;
    let item = r.state.queue.items.last().unwrap().clone();
    assert_eq!(item.status, QueueStatus::Proposed, "{item:?}");

    // A planner proposal for another old job: looked up, then valid.
    let cmd = gitaiops::command::Command::RetryJob {
        project: r.sim.project_path(),
        job_id: old[1],
        rationale: "runner lost".into(),
        confidence: None,
        evidence: vec![],
    };
    r.run(Msg::Propose {
        commands: vec![cmd],
        source: gitaiops::command::Source::Planner,
    });
    let row = r.state.queue.items.last().unwrap().clone();
    assert!(
        row.reason
            .as_deref()
            .is_some_and(|t| t.starts_with("looking up job")),
        "{row:?}"
    );
    r.pump_until("the lookup", |s| s.looking_up.is_empty())
        .await;
    let row = r.state.queue.items.last().unwrap().clone();
    assert_eq!(row.status, QueueStatus::Proposed, "{row:?}");
    // Headless `plan` validates with the same code against its own fetch: the same verdict.
    let snap = r.snap();
    assert!(
        gitaiops::command::validate::validate(
            &r.state.commands.items().last().unwrap().command,
            &snap
        )
        .is_ok()
    );

    // A job that does not exist: GitLab's answer, not a guess.
    let cmd = gitaiops::command::Command::RetryJob {
        project: r.sim.project_path(),
        job_id: 9_999_999,
        rationale: "x".into(),
        confidence: None,
        evidence: vec![],
    };
    r.run(Msg::Propose {
        commands: vec![cmd],
        source: gitaiops::command::Source::Planner,
    });
    r.pump_until("the lookup", |s| s.looking_up.is_empty())
        .await;
    let row = r.state.queue.items.last().unwrap().clone();
    assert_eq!(row.status, QueueStatus::Invalid);
    assert_eq!(
        row.reason.as_deref(),
        Some("GitLab has no job 9999999 in this project")
    );
    assert!(r.writes().await.is_empty(), "looking up writes nothing");
}

/// Failures explained before anyone asks (issue 19): with no key pressed, every failed
/// pipeline on screen gets its cause from a background diagnosis, each failed job's trace is
/// read once, and nothing is written.
#[tokio::test]
async fn failed_pipelines_on_screen_get_their_cause_without_a_key() {
    failed_pipelines_get_their_cause(rig(false).await).await;
}

/// The same with the diagnoses in child processes of the real binary (`diagnose-worker`), as
/// the TUI runs them: the same causes, the same single trace read per job.
#[tokio::test]
async fn background_diagnoses_in_worker_processes_give_the_same_causes() {
    let exe = std::path::PathBuf::from(env!("CARGO_BIN_EXE_gitaiops"));
    let r = failed_pipelines_get_their_cause(rig_at(false, 0, Some(exe)).await).await;
    // They came from the workers, not from the in-process fallback.
    let (answered, failed) = r.driver.worker_counts();
    assert!(answered >= 3, "{answered} worker diagnoses");
    assert_eq!(failed, 0);
}

/// A worker that cannot start (a binary replaced or removed under a running session) costs
/// nothing but memory: every diagnosis is made in process instead.
#[tokio::test]
async fn a_missing_worker_binary_falls_back_to_diagnosing_in_process() {
    let exe = std::path::PathBuf::from("/nonexistent/gitaiops");
    let r = failed_pipelines_get_their_cause(rig_at(false, 0, Some(exe)).await).await;
    let (answered, failed) = r.driver.worker_counts();
    assert_eq!(answered, 0);
    assert!(failed >= 3, "{failed} failed workers");
}

async fn failed_pipelines_get_their_cause(mut r: Rig) -> Rig {
    use gitaiops::app::causes;
    let all_known = |s: &AppState| {
        let Some(snap) = s.snapshot.as_deref() else {
            return false;
        };
        s.pipelines.rows.iter().all(|row| match row {
            PipeRow::Pipeline(id) => {
                let Some(p) = snap.pipeline(*id) else {
                    return true;
                };
                // A pipeline that failed downstream has its failed jobs in its child
                // pipeline: known once the bridges and the child's jobs are in.
                let failed = causes::failed_jobs(snap, *id);
                p.status != Status::Failed
                    || !snap.jobs.contains_key(id)
                    || (!failed.is_empty()
                        && failed.iter().all(|j| s.causes.known.contains_key(&j.id)))
            }
            _ => true,
        })
    };
    // The first snapshot already sent its failed jobs; later refreshes send the rest.
    for _ in 0..10 {
        if all_known(&r.state) {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while !r.state.causes.pending.is_empty() {
                let msg = r.driver.next().await;
                r.run(msg);
            }
        })
        .await;
        r.refresh().await;
    }
    assert!(
        all_known(&r.state),
        "causes: {:?}",
        r.state.causes.known.keys()
    );
    let snap = r.snap();
    let failed: Vec<u64> = snap
        .pipelines
        .values()
        .filter(|p| p.status == Status::Failed && snap.jobs.contains_key(&p.id))
        .map(|p| p.id)
        .collect();
    assert!(failed.len() >= 3, "{failed:?}");
    // #7015 on main fails in its child pipeline (e2e:firefox): its cause comes from there.
    let main_child = snap
        .pipelines
        .values()
        .find(|p| {
            p.status == Status::Failed
                && snap.jobs.get(&p.id).is_some_and(|js| {
                    !js.iter()
                        .any(|j| j.status == Status::Failed && !j.allow_failure)
                })
        })
        .map(|p| p.id)
        .expect("a pipeline that failed downstream");
    let jobs = causes::failed_jobs(&snap, main_child);
    assert!(
        jobs.iter().any(|j| j.name == "e2e:firefox"),
        "{main_child}: {:?}",
        jobs.iter().map(|j| &j.name).collect::<Vec<_>>()
    );
    let brief = causes::pipeline_brief(&snap, &r.state.causes, main_child).unwrap_or_default();
    assert!(brief.starts_with("test: "), "{brief}");
    for id in &failed {
        let b = causes::pipeline_brief(&snap, &r.state.causes, *id).unwrap();
        assert_ne!(b, causes::DIAGNOSING);
    }
    // The unit-test failure is named by its test, the runner failure by GitLab's reason.
    let briefs: Vec<&str> = r
        .state
        .causes
        .known
        .values()
        .map(|k| k.brief.as_str())
        .collect();
    assert!(briefs.iter().any(|b| b.starts_with("test: ")), "{briefs:?}");
    assert!(
        briefs.contains(&"infra: runner_system_failure"),
        "{briefs:?}"
    );
    // One trace read per diagnosed job, and only reads.
    let traces: Vec<String> = r
        .sim
        .requests()
        .into_iter()
        .filter(|q| q.path.ends_with("/trace"))
        .map(|q| q.path)
        .collect();
    let mut unique = traces.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(traces.len(), unique.len(), "a trace read twice: {traces:?}");
    assert!(r.writes().await.is_empty());
    r
}

/// The failure inbox groups the simulator's failures by cause (issue 19): the test that
/// fails on !8, !11 and !12 is one group of three pipelines, the runner failures of !10 and
/// !12 one group of two jobs. Opening the inbox loads the jobs of the failed pipelines that
/// are not on screen, so that every current failure gets its cause; nothing is written.
#[tokio::test]
async fn the_inbox_groups_the_simulators_failures_by_cause() {
    use gitaiops::app::inbox;
    let mut r = rig(false).await;
    r.keys(&["F"]).await;
    assert!(matches!(r.state.view, gitaiops::app::state::View::Inbox(_)));
    let grouped = |s: &AppState| {
        let Some(snap) = s.snapshot.as_deref() else {
            return false;
        };
        let g = inbox::groups(snap, &s.causes);
        g.iter()
            .any(|g| g.pipelines == 3 && g.brief.starts_with("test: "))
            && g.iter()
                .any(|g| g.brief == "infra: runner_system_failure" && g.jobs.len() == 2)
            && inbox::unexplained(snap, &s.causes) == 0
    };
    for _ in 0..10 {
        if grouped(&r.state) {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while !r.state.causes.pending.is_empty() {
                let msg = r.driver.next().await;
                r.run(msg);
            }
        })
        .await;
        r.refresh().await;
    }
    let snap = r.snap();
    let groups = inbox::groups(&snap, &r.state.causes);
    assert!(grouped(&r.state), "{groups:#?}");
    let test = groups
        .iter()
        .find(|g| g.pipelines == 3)
        .expect("the test group");
    let refs: Vec<&str> = test.jobs.iter().map(|j| j.git_ref.as_str()).collect();
    // Newest pipeline first: !8 ran 1.6 h ago, !12 13 h ago, !11 27.5 h ago.
    assert_eq!(refs, ["!8", "!12", "!11"], "{test:#?}");
    assert!(
        test.headline().starts_with("3 pipelines: test: "),
        "{}",
        test.headline()
    );
    let infra = groups.iter().find(|g| g.infra).expect("the runner group");
    let mut mrs: Vec<Option<u64>> = infra.jobs.iter().map(|j| j.mr_iid).collect();
    mrs.sort();
    assert_eq!(mrs, [Some(10), Some(12)]);
    assert!(r.writes().await.is_empty());
}
