//! The TUI's command flow end to end, without a terminal: the app's `update` (keys, palette,
//! dialogs) plus what the runtime does with its effects (audit log, the real executor) against
//! the embedded simulated GitLab over loopback.

// Test and benchmark code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use gitaiops::app::pipelines::PipeRow;
use gitaiops::app::state::Overlay;
use gitaiops::app::{AppState, Effect, Key, Msg, Pane, update};
use gitaiops::command::Status as QueueStatus;
use gitaiops::command::audit::{self, AuditLog};
use gitaiops::command::executor::{ExecContext, spawn};
use gitaiops::command::{Policy, Queue};
use gitaiops::gitlab::client::{ClientConfig, GitlabClient};
use gitaiops::gitlab::poller::fetch_snapshot;
use gitaiops::gitlab::{FailureReason, ProjectSnapshot, Status};
use gitaiops::sim::SimHandle;
use gitaiops::testkit::{AppBuilder, client_config, manual_sim};
use serde_json::Value;
use tokio::sync::mpsc;

struct Rig {
    sim: SimHandle,
    state: AppState,
    client: GitlabClient,
    audit: AuditLog,
    _dir: tempfile::TempDir,
}

async fn rig(read_only: bool) -> Rig {
    let sim = manual_sim().await;
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
    let mut r = Rig {
        sim,
        state,
        client,
        audit,
        _dir: dir,
    };
    r.refresh().await;
    r.sim.clear_requests();
    r
}

impl Rig {
    async fn refresh(&mut self) {
        let snap = fetch_snapshot(&self.client, &self.sim.project_path(), 20, 20)
            .await
            .unwrap();
        let epoch = self.state.epoch;
        self.run(Msg::Snapshot {
            epoch,
            snapshot: Arc::new(snap),
        })
        .await;
    }

    fn snap(&self) -> Arc<ProjectSnapshot> {
        self.state.snapshot.clone().unwrap()
    }

    /// `update`, then the runtime's part: audit records to disk, executions through the real
    /// executor with this rig's client, reports back as messages.
    async fn run(&mut self, msg: Msg) {
        let mut queue = vec![msg];
        while let Some(msg) = queue.pop() {
            for fx in update(&mut self.state, msg) {
                match fx {
                    Effect::Audit(recs) => self.audit.append_all(&recs).unwrap(),
                    Effect::Execute(ticket) => {
                        let (tx, mut rx) = mpsc::channel(1);
                        let ctx = ExecContext {
                            client: self.client.clone(),
                            audit: self.audit.clone(),
                        };
                        spawn(ctx, *ticket, self.snap(), tx);
                        let report = tokio::time::timeout(Duration::from_secs(20), rx.recv())
                            .await
                            .unwrap()
                            .unwrap();
                        queue.push(Msg::Executed(Box::new(report)));
                    }
                    _ => {}
                }
            }
        }
    }

    async fn keys(&mut self, specs: &[&str]) {
        for k in specs {
            self.run(Msg::Key(Key::parse(k).unwrap())).await;
        }
    }

    async fn typed(&mut self, text: &str) {
        for c in text.chars() {
            let k = if c == '\n' {
                Key::parse("enter").unwrap()
            } else {
                Key::char(c)
            };
            self.run(Msg::Key(k)).await;
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
        self.run(Msg::Snapshot { epoch, snapshot }).await;
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
