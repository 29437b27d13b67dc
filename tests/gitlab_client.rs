//! The GitLab client and poller against the embedded simulator over real loopback HTTP.
//!
//! Every failure mode GitLab can produce (401, 403, 404, 429 with and without headers, 500,
//! truncated JSON, slow answers) must come back as a typed error or a bounded retry, never a
//! panic or a hang; the simulator's request log proves how many requests were made and that
//! read-only mode lets no write out.

// Runs against the embedded simulator (the default `sim` feature).
#![cfg(feature = "sim")]
// Test and benchmark code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use gitaiops::gitlab::poller::{self, PollCmd, PollConfig, PollEvent};
use gitaiops::gitlab::{ClientConfig, GitlabClient, GitlabError, MrQuery, PipelineQuery, Status};
use gitaiops::sim::{SimConfig, SimHandle};
use gitaiops::testkit;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::mpsc;

mod hostile;

async fn start_sim(token: Option<&str>, scale: usize) -> SimHandle {
    testkit::start_sim(SimConfig {
        scale,
        token: token.map(String::from),
        ..testkit::manual_config()
    })
    .await
}

fn client_for(sim: &SimHandle, edit: impl FnOnce(&mut ClientConfig)) -> GitlabClient {
    let mut cfg = ClientConfig {
        token: Some(SecretString::from("test-token")),
        backoff_base: Duration::from_millis(10),
        request_timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(2),
        ..testkit::client_config(sim)
    };
    edit(&mut cfg);
    GitlabClient::new(cfg).unwrap()
}

/// The test's own view of the sim's control endpoints (not part of GitLab).
struct Control {
    http: reqwest::Client,
    base: String,
}

impl Control {
    fn new(sim: &SimHandle) -> Self {
        gitaiops::gitlab::client::ensure_crypto_provider();
        Self {
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            base: sim.base_url(),
        }
    }

    async fn fault(&self, f: Value) {
        let r = self
            .http
            .post(format!("{}/-/sim/faults", self.base))
            .json(&f)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "fault rejected: {}", r.status());
    }

    async fn clear_faults(&self) {
        self.http
            .delete(format!("{}/-/sim/faults", self.base))
            .send()
            .await
            .unwrap();
    }

    async fn requests(&self) -> Vec<Value> {
        self.http
            .get(format!("{}/-/sim/requests", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn clear_requests(&self) {
        self.http
            .delete(format!("{}/-/sim/requests", self.base))
            .send()
            .await
            .unwrap();
    }

    async fn advance(&self, seconds: u64) {
        let r = self
            .http
            .post(format!("{}/-/sim/advance?seconds={seconds}", self.base))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    async fn count(&self, path_contains: &str) -> usize {
        self.requests()
            .await
            .iter()
            .filter(|r| r["path"].as_str().unwrap_or("").contains(path_contains))
            .count()
    }
}

async fn project_id(c: &GitlabClient, sim: &SimHandle) -> u64 {
    c.project(&sim.project_path()).await.unwrap().id
}

#[tokio::test]
async fn pagination_follows_link_across_pages() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |_| {});
    let pid = project_id(&c, &sim).await;

    let all = c.merge_requests(pid, &MrQuery::opened()).await.unwrap();
    assert!(all.items.len() >= 10, "scenario has ~15 open MRs");
    assert!(all.server_time.is_some(), "Date header read");

    ctl.clear_requests().await;
    let paged = c
        .merge_requests(
            pid,
            &MrQuery {
                per_page: 4,
                ..MrQuery::opened()
            },
        )
        .await
        .unwrap();
    let mut a: Vec<u64> = all.items.iter().map(|m| m.iid).collect();
    let mut b: Vec<u64> = paged.items.iter().map(|m| m.iid).collect();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b, "same MRs, no duplicates, none missing");
    let pages = ctl.count("/merge_requests").await;
    assert_eq!(pages, all.items.len().div_ceil(4));

    // max_pages stops early.
    let one = c.pipelines(pid, &PipelineQuery::latest(3)).await.unwrap();
    assert_eq!(one.items.len(), 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn pagination_at_scale_collects_every_page() {
    let sim = start_sim(None, 250).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |_| {});
    let pid = project_id(&c, &sim).await;
    ctl.clear_requests().await;
    let all = c
        .pipelines(
            pid,
            &PipelineQuery {
                per_page: 100,
                ..PipelineQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(all.items.len() >= 200, "got {}", all.items.len());
    let ids: std::collections::BTreeSet<u64> = all.items.iter().map(|p| p.id).collect();
    assert_eq!(ids.len(), all.items.len());
    assert_eq!(ctl.count("/pipelines").await, all.items.len().div_ceil(100));
    sim.shutdown().await;
}

#[tokio::test]
async fn wrong_token_is_a_typed_401_without_retry() {
    let sim = start_sim(Some("right-token"), 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |cfg| {
        cfg.token = Some(SecretString::from("wrong-token"));
    });
    let e = c.current_user().await.unwrap_err();
    assert!(matches!(e, GitlabError::Unauthorized { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("401 from {}: token rejected — check GITLAB_TOKEN", c.host())
    );
    assert_eq!(ctl.requests().await.len(), 1, "a 401 is never retried");

    let ok = client_for(&sim, |cfg| {
        cfg.token = Some(SecretString::from("right-token"));
    });
    assert!(ok.current_user().await.is_ok());
    sim.shutdown().await;
}

#[tokio::test]
async fn forbidden_and_not_found_are_typed_and_not_retried() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |_| {});
    let pid = project_id(&c, &sim).await;

    ctl.fault(json!({"path_prefix": format!("/api/v4/projects/{pid}/pipelines"), "kind": "status", "status": 403, "times": 1}))
        .await;
    ctl.clear_requests().await;
    let e = c
        .pipelines(pid, &PipelineQuery::latest(5))
        .await
        .unwrap_err();
    assert!(matches!(e, GitlabError::Forbidden { .. }), "{e:?}");
    assert!(e.to_string().starts_with("403 from "), "{e}");
    assert_eq!(ctl.requests().await.len(), 1);

    let e = c.merge_request(pid, 987_654).await.unwrap_err();
    assert!(matches!(e, GitlabError::NotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("/merge_requests/987654"), "{e}");

    let e = c.job_trace(pid, 987_654_321).await.unwrap_err();
    assert_eq!(e.status(), Some(404));
    sim.shutdown().await;
}

#[tokio::test]
async fn server_errors_are_retried_a_bounded_number_of_times() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |cfg| cfg.max_retries = 3);
    let pid = project_id(&c, &sim).await;
    let prefix = format!("/api/v4/projects/{pid}/merge_requests");

    // One 500, then success: the caller never sees it.
    ctl.fault(json!({"path_prefix": prefix, "kind": "status", "status": 500, "times": 1}))
        .await;
    ctl.clear_requests().await;
    assert!(c.merge_requests(pid, &MrQuery::opened()).await.is_ok());
    assert_eq!(ctl.count("/merge_requests").await, 2);

    // 500 forever: 1 try + 3 retries, then a typed error.
    ctl.fault(json!({"path_prefix": prefix, "kind": "status", "status": 500}))
        .await;
    ctl.clear_requests().await;
    let e = c.merge_requests(pid, &MrQuery::opened()).await.unwrap_err();
    assert!(
        matches!(e, GitlabError::Server { status: 500, .. }),
        "{e:?}"
    );
    assert_eq!(ctl.count("/merge_requests").await, 4);
    ctl.clear_faults().await;

    // Writes are never retried.
    let job = any_job(&c, pid).await;
    ctl.fault(json!({"method": "POST", "kind": "status", "status": 502}))
        .await;
    ctl.clear_requests().await;
    let e = c.retry_job(pid, job).await.unwrap_err();
    assert_eq!(e.status(), Some(502));
    assert_eq!(ctl.requests().await.len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limits_honour_headers_and_back_off_without_them() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |cfg| cfg.max_retries = 3);
    let pid = project_id(&c, &sim).await;
    let prefix = format!("/api/v4/projects/{pid}/pipelines");

    // Retry-After: 1 is waited for, then the call succeeds.
    ctl.fault(json!({"path_prefix": prefix, "kind": "rate_limit", "retry_after": 1, "times": 1}))
        .await;
    ctl.clear_requests().await;
    let t = Instant::now();
    assert!(c.pipelines(pid, &PipelineQuery::latest(5)).await.is_ok());
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(ctl.count("/pipelines").await, 2);

    // RateLimit-Reset only (absolute time on the server's clock).
    ctl.fault(json!({"path_prefix": prefix, "kind": "rate_limit", "reset_in": 1, "times": 1}))
        .await;
    ctl.clear_requests().await;
    let t = Instant::now();
    assert!(c.pipelines(pid, &PipelineQuery::latest(5)).await.is_ok());
    assert!(
        t.elapsed() >= Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(ctl.count("/pipelines").await, 2);

    // No headers: jittered exponential backoff (10 ms base here), then success.
    ctl.fault(json!({"path_prefix": prefix, "kind": "rate_limit", "times": 2}))
        .await;
    ctl.clear_requests().await;
    assert!(c.pipelines(pid, &PipelineQuery::latest(5)).await.is_ok());
    assert_eq!(ctl.count("/pipelines").await, 3);

    // No headers, forever: bounded, then RateLimited for the caller to back off.
    ctl.fault(json!({"path_prefix": prefix, "kind": "rate_limit"}))
        .await;
    ctl.clear_requests().await;
    let e = c
        .pipelines(pid, &PipelineQuery::latest(5))
        .await
        .unwrap_err();
    assert!(matches!(e, GitlabError::RateLimited { .. }), "{e:?}");
    assert_eq!(ctl.count("/pipelines").await, 4);
    ctl.clear_faults().await;

    // A wait longer than max_retry_wait is handed to the caller at once, not slept through.
    ctl.fault(
        json!({"path_prefix": prefix, "kind": "rate_limit", "retry_after": 3600, "times": 1}),
    )
    .await;
    ctl.clear_requests().await;
    let t = Instant::now();
    let e = c
        .pipelines(pid, &PipelineQuery::latest(5))
        .await
        .unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5));
    match e {
        GitlabError::RateLimited { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_secs(3600)))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ctl.count("/pipelines").await, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn truncated_json_is_a_parse_error() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |_| {});
    let pid = project_id(&c, &sim).await;
    ctl.fault(json!({"path_prefix": format!("/api/v4/projects/{pid}/merge_requests"), "kind": "truncate", "times": 1}))
        .await;
    let e = c.merge_requests(pid, &MrQuery::opened()).await.unwrap_err();
    match &e {
        GitlabError::Parse { path, detail, .. } => {
            assert!(path.ends_with("/merge_requests"), "{path}");
            assert!(!detail.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(!e.to_string().contains('\n'));
    // The next call is fine again.
    assert!(c.merge_requests(pid, &MrQuery::opened()).await.is_ok());
    sim.shutdown().await;
}

#[tokio::test]
async fn slow_responses_time_out_boundedly() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |cfg| {
        cfg.request_timeout = Duration::from_millis(300);
        cfg.max_retries = 1;
    });
    ctl.fault(json!({"path_prefix": "/api/v4/user", "kind": "latency", "latency_ms": 5000}))
        .await;
    let t = Instant::now();
    let e = c.current_user().await.unwrap_err();
    assert!(matches!(e, GitlabError::Timeout { .. }), "{e:?}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(c.request_count(), 2, "one try and one retry");
    assert_eq!(e.to_string(), format!("timeout talking to {}", c.host()));
    sim.shutdown().await;
}

#[tokio::test]
async fn unreachable_server_is_a_network_error() {
    // Bind and drop to find a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = GitlabClient::new(ClientConfig {
        base_url: format!("http://127.0.0.1:{port}"),
        no_proxy: true,
        max_retries: 1,
        backoff_base: Duration::from_millis(10),
        ..ClientConfig::default()
    })
    .unwrap();
    let e = c.current_user().await.unwrap_err();
    assert!(matches!(e, GitlabError::Network { .. }), "{e:?}");
    assert!(e.to_string().starts_with("cannot reach 127.0.0.1:"), "{e}");
}

#[tokio::test]
async fn read_only_lets_no_write_leave() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |cfg| cfg.read_only = true);
    let pid = project_id(&c, &sim).await;
    let job = any_job(&c, pid).await;
    let mr = c
        .merge_requests(pid, &MrQuery::opened())
        .await
        .unwrap()
        .items[0]
        .clone();

    let attempts = vec![
        c.retry_job(pid, job).await,
        c.cancel_job(pid, job).await,
        c.play_job(pid, job).await,
        c.retry_pipeline(pid, 1).await,
        c.cancel_pipeline(pid, 1).await,
        c.create_mr_note(pid, mr.iid, "hello").await,
        c.update_mr(pid, mr.iid, json!({"add_labels": "x"})).await,
        c.rebase_mr(pid, mr.iid).await,
        c.merge_mr(pid, mr.iid, mr.sha.as_deref().unwrap_or(""))
            .await,
        c.write(reqwest::Method::DELETE, "/projects/1", None).await,
    ];
    for r in attempts {
        assert!(matches!(r, Err(GitlabError::ReadOnly { .. })), "{r:?}");
    }
    let non_get: Vec<Value> = ctl
        .requests()
        .await
        .into_iter()
        .filter(|r| r["method"] != "GET")
        .collect();
    assert!(non_get.is_empty(), "writes reached the server: {non_get:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn writes_reach_the_server_when_allowed() {
    let sim = start_sim(None, 0).await;
    let c = client_for(&sim, |_| {});
    let pid = project_id(&c, &sim).await;
    let mr = c
        .merge_requests(pid, &MrQuery::opened())
        .await
        .unwrap()
        .items[0]
        .clone();
    let w = c
        .create_mr_note(pid, mr.iid, "note from the client test")
        .await
        .unwrap();
    assert_eq!(w.status, 201);
    assert_eq!(w.method, "POST");
    let notes = c.mr_notes(pid, mr.iid).await.unwrap();
    assert!(notes.iter().any(|n| n.body == "note from the client test"));

    let failed = c
        .pipelines(pid, &PipelineQuery::latest(20))
        .await
        .unwrap()
        .items;
    let mut retried = false;
    for p in failed.iter().filter(|p| p.status == Status::Failed) {
        let jobs = c.pipeline_jobs(pid, p.id).await.unwrap();
        if let Some(j) = jobs.iter().find(|j| j.status == Status::Failed) {
            let w = c.retry_job(pid, j.id).await.unwrap();
            let new_id = w.body["id"].as_u64().unwrap();
            assert_ne!(new_id, j.id, "a retry makes a new job");
            retried = true;
            break;
        }
    }
    assert!(retried, "the scenario has a failed job to retry");
    sim.shutdown().await;
}

#[tokio::test]
async fn traces_files_and_commits() {
    let sim = start_sim(None, 0).await;
    let c = client_for(&sim, |_| {});
    let pid = project_id(&c, &sim).await;
    let job = any_finished_job(&c, pid).await;
    let trace = c.job_trace(pid, job).await.unwrap();
    assert!(!trace.is_empty());
    let project = c.project(&sim.project_path()).await.unwrap();
    let branch = project.default_branch.clone().unwrap_or("main".into());
    let mut owners = None;
    for path in ["CODEOWNERS", ".gitlab/CODEOWNERS", "docs/CODEOWNERS"] {
        if let Some(b) = c.repository_file_raw(pid, path, &branch).await.unwrap() {
            owners = Some(b);
            break;
        }
    }
    assert!(
        owners.is_some_and(|b| !b.is_empty()),
        "scenario has a CODEOWNERS file"
    );
    assert_eq!(
        c.repository_file_raw(pid, "no/such/file.txt", &branch)
            .await
            .unwrap(),
        None
    );
    let since = "2020-01-01T00:00:00Z".parse().unwrap();
    let commits = c.commits_for_path(pid, "src", since).await.unwrap();
    for cm in &commits {
        assert!(cm.author_name.is_some());
    }
    sim.shutdown().await;
}

async fn any_job(c: &GitlabClient, pid: u64) -> u64 {
    let ps = c.pipelines(pid, &PipelineQuery::latest(5)).await.unwrap();
    for p in ps.items {
        if let Some(j) = c.pipeline_jobs(pid, p.id).await.unwrap().first() {
            return j.id;
        }
    }
    panic!("no job in the scenario");
}

async fn any_finished_job(c: &GitlabClient, pid: u64) -> u64 {
    let ps = c.pipelines(pid, &PipelineQuery::latest(20)).await.unwrap();
    for p in ps.items {
        let jobs = c.pipeline_jobs(pid, p.id).await.unwrap();
        if let Some(j) = jobs.iter().find(|j| j.status.is_terminal()) {
            return j.id;
        }
    }
    panic!("no finished job in the scenario");
}

// ---- poller ----------------------------------------------------------------------------------

async fn next_event(rx: &mut mpsc::Receiver<PollEvent>) -> PollEvent {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("poller event within 20 s")
        .expect("poller alive")
}

/// Waits for the `Requests` event that closes a refresh, collecting what came before it.
async fn until_requests(rx: &mut mpsc::Receiver<PollEvent>) -> (Vec<PollEvent>, u64) {
    let mut seen = Vec::new();
    loop {
        match next_event(rx).await {
            PollEvent::Requests { total, .. } => return (seen, total),
            e => seen.push(e),
        }
    }
}

fn slow_poll() -> PollConfig {
    PollConfig {
        // Refreshes happen only when the test asks.
        refresh: Duration::from_secs(3600),
        focused_refresh: Duration::from_millis(200),
        ..PollConfig::default()
    }
}

#[tokio::test]
async fn poller_cold_start_then_two_requests_per_idle_refresh() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |_| {});
    let (tx, mut rx) = mpsc::channel(64);
    let handle = poller::spawn(c.clone(), sim.project_path(), slow_poll(), tx);

    let (events, total) = until_requests(&mut rx).await;
    assert_eq!(
        total, 5,
        "cold start: user, project, open MRs, pipelines, deployments"
    );
    let snap = events
        .iter()
        .find_map(|e| match e {
            PollEvent::Snapshot { snapshot } => Some(snapshot.clone()),
            _ => None,
        })
        .expect("a snapshot after the cold start");
    assert!(snap.mrs.len() >= 10 && !snap.pipelines.is_empty());
    assert!(snap.user.is_some());

    // Idle: two deltas, no snapshot (nothing changed).
    for _ in 0..3 {
        ctl.clear_requests().await;
        handle.send(PollCmd::RefreshNow);
        let (events, _) = until_requests(&mut rx).await;
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, PollEvent::Snapshot { .. })),
            "{events:?}"
        );
        let reqs = ctl.requests().await;
        assert_eq!(reqs.len(), 2, "{reqs:?}");
        assert!(
            reqs.iter()
                .all(|r| r["query"].as_str().unwrap_or("").contains("updated_after"))
        );
    }

    // Time passes: pipelines progress and a snapshot is emitted. A new pipeline arrived (one
    // every 150-360 s): GitLab created its deployments with it, so they are read again — once.
    ctl.clear_requests().await;
    ctl.advance(600).await;
    handle.send(PollCmd::RefreshNow);
    let (events, _) = until_requests(&mut rx).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, PollEvent::Snapshot { .. })),
        "advancing the clock changes pipelines"
    );
    let reqs = ctl.requests().await;
    let deployments = |reqs: &[serde_json::Value]| {
        reqs.iter()
            .filter(|r| r["path"].as_str().unwrap_or("").ends_with("/deployments"))
            .count()
    };
    assert_eq!(deployments(&reqs), 1, "{reqs:?}");
    ctl.clear_requests().await;
    handle.send(PollCmd::RefreshNow);
    until_requests(&mut rx).await;
    assert_eq!(deployments(&ctl.requests().await), 0);
    handle.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn poller_fetches_details_only_for_visible_rows() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |_| {});
    let (tx, mut rx) = mpsc::channel(64);
    let handle = poller::spawn(c.clone(), sim.project_path(), slow_poll(), tx);
    let (events, _) = until_requests(&mut rx).await;
    let snap = events
        .into_iter()
        .find_map(|e| match e {
            PollEvent::Snapshot { snapshot, .. } => Some(snapshot),
            _ => None,
        })
        .unwrap();
    let mrs: Vec<u64> = snap.mrs.keys().take(2).copied().collect();
    let pipes: Vec<u64> = snap.pipelines.keys().rev().take(1).copied().collect();

    ctl.clear_requests().await;
    handle.send(PollCmd::Visible {
        mrs: mrs.clone(),
        pipelines: pipes.clone(),
    });
    let PollEvent::Snapshot { snapshot, .. } = next_event(&mut rx).await else {
        panic!("details produce a snapshot");
    };
    for iid in &mrs {
        assert!(snapshot.approvals.contains_key(iid));
    }
    assert!(snapshot.jobs.contains_key(&pipes[0]));
    assert_eq!(snapshot.approvals.len(), 2, "only visible MRs");
    assert_eq!(ctl.count("/approvals").await, 2);
    assert_eq!(ctl.count("/jobs").await, 1);

    // Same rows again: cached, no request.
    ctl.clear_requests().await;
    handle.send(PollCmd::Visible {
        mrs,
        pipelines: pipes,
    });
    handle.send(PollCmd::FetchMembers);
    let PollEvent::Snapshot { snapshot, .. } = next_event(&mut rx).await else {
        panic!("members produce a snapshot");
    };
    assert!(!snapshot.members.is_empty());
    let reqs = ctl.requests().await;
    assert_eq!(reqs.len(), 1, "only the members call: {reqs:?}");
    handle.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn poller_drops_a_deleted_pipeline_instead_of_failing_every_refresh() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |_| {});
    let pid = project_id(&c, &sim).await;
    let (tx, mut rx) = mpsc::channel(64);
    let handle = poller::spawn(c.clone(), sim.project_path(), slow_poll(), tx);
    let (events, _) = until_requests(&mut rx).await;
    let snap = events
        .into_iter()
        .find_map(|e| match e {
            PollEvent::Snapshot { snapshot, .. } => Some(snapshot),
            _ => None,
        })
        .unwrap();
    let gone = *snap.pipelines.keys().next_back().unwrap();
    // Deleted on the server: its jobs answer 404 (pipeline deletions reach no delta).
    ctl.fault(
        json!({"path_prefix": format!("/api/v4/projects/{pid}/pipelines/{gone}/jobs"),
        "kind": "status", "status": 404}),
    )
    .await;
    ctl.clear_requests().await;
    handle.send(PollCmd::Visible {
        mrs: vec![],
        pipelines: vec![gone],
    });
    match next_event(&mut rx).await {
        PollEvent::Snapshot { snapshot, .. } => {
            assert!(!snapshot.pipelines.contains_key(&gone));
        }
        e => panic!("expected a snapshot without the deleted pipeline, got {e:?}"),
    }
    assert_eq!(ctl.count("/jobs").await, 1);
    handle.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn poller_forgets_a_detail_request_for_a_deleted_mr() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |_| {});
    let pid = project_id(&c, &sim).await;
    let (tx, mut rx) = mpsc::channel(64);
    let handle = poller::spawn(c.clone(), sim.project_path(), slow_poll(), tx);
    let (events, _) = until_requests(&mut rx).await;
    let snap = events
        .into_iter()
        .find_map(|e| match e {
            PollEvent::Snapshot { snapshot, .. } => Some(snapshot),
            _ => None,
        })
        .unwrap();
    let iid = *snap.mrs.keys().next().unwrap();
    let path = format!("/api/v4/projects/{pid}/merge_requests/{iid}");
    ctl.fault(json!({"path_prefix": path, "kind": "status", "status": 404}))
        .await;
    ctl.clear_requests().await;
    handle.send(PollCmd::FetchMrDetail(iid));
    match next_event(&mut rx).await {
        PollEvent::Snapshot { snapshot, .. } => assert!(!snapshot.mrs.contains_key(&iid)),
        e => panic!("expected a snapshot without the deleted MR, got {e:?}"),
    }
    // The next refresh does not ask for it again.
    handle.send(PollCmd::RefreshNow);
    let _ = until_requests(&mut rx).await;
    let asked = ctl
        .requests()
        .await
        .iter()
        .filter(|r| r["path"].as_str() == Some(path.as_str()))
        .count();
    assert_eq!(asked, 1);
    handle.shutdown().await;
    sim.shutdown().await;
}

/// Thousands of open MRs: the first page goes on screen with the pipelines, the other pages
/// follow in a second snapshot of the same cold start (no extra request).
#[tokio::test]
async fn poller_shows_the_first_page_of_open_mrs_before_the_rest() {
    let sim = start_sim(None, 1000).await;
    let c = client_for(&sim, |_| {});
    let pid = project_id(&c, &sim).await;
    let open = c
        .merge_requests(pid, &MrQuery::opened())
        .await
        .unwrap()
        .items
        .len();
    assert!(
        open > 200,
        "scale 1000 has several pages of open MRs: {open}"
    );
    let before = c.request_count();
    let (tx, mut rx) = mpsc::channel(64);
    let handle = poller::spawn(c.clone(), sim.project_path(), slow_poll(), tx);
    let (events, total) = until_requests(&mut rx).await;
    let snaps: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            PollEvent::Snapshot { snapshot } => Some(snapshot.clone()),
            _ => None,
        })
        .collect();
    assert!(snaps.len() >= 2, "{} snapshots", snaps.len());
    assert_eq!(snaps[0].mrs.len(), 100, "the first page at once");
    assert!(!snaps[0].pipelines.is_empty(), "with the pipelines");
    assert_eq!(snaps.last().unwrap().mrs.len(), open, "then every open MR");
    let pages = open.div_ceil(100) as u64;
    assert_eq!(
        total - before,
        4 + pages,
        "user, project, pipelines, deployments and each page once"
    );
    handle.shutdown().await;
    sim.shutdown().await;
}

/// GitLab sends the whole log on every fetch: a big running log is re-fetched on a period that
/// grows with its size, and at once when asked.
#[tokio::test]
async fn poller_refetches_a_big_running_log_rarely_and_on_request() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    ctl.http
        .post(format!("{}/-/sim/trace-padding?bytes=3000000", ctl.base))
        .send()
        .await
        .unwrap();
    let c = client_for(&sim, |_| {});
    let pid = project_id(&c, &sim).await;
    let running = c
        .pipelines(pid, &PipelineQuery::latest(20))
        .await
        .unwrap()
        .items;
    let mut job = None;
    for p in running {
        if let Some(j) = c
            .pipeline_jobs(pid, p.id)
            .await
            .unwrap()
            .into_iter()
            .find(|j| j.status == Status::Running)
        {
            job = Some(j.id);
            break;
        }
    }
    let job = job.expect("a running job in the scenario");
    let cfg = PollConfig {
        refresh: Duration::from_secs(3600),
        focused_refresh: Duration::from_millis(100),
        ..PollConfig::default()
    };
    let (tx, mut rx) = mpsc::channel(64);
    let handle = poller::spawn(c.clone(), sim.project_path(), cfg, tx);
    until_requests(&mut rx).await;
    handle.send(PollCmd::WatchJobLog(Some(job)));
    let first = loop {
        if let PollEvent::JobLog { bytes, .. } = next_event(&mut rx).await {
            break bytes.len();
        }
    };
    assert!(first > 1_000_000, "padded log: {first}");
    // A small log would be fetched every 100 ms; this one (period ~20 s) is not.
    ctl.clear_requests().await;
    ctl.advance(10).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(ctl.count("/trace").await, 0);
    // The operator asks: fetched now, grown.
    handle.send(PollCmd::RefreshNow);
    let grown = loop {
        if let PollEvent::JobLog { bytes, .. } = next_event(&mut rx).await {
            break bytes.len();
        }
    };
    assert!(grown > first, "{grown} > {first}");
    assert_eq!(ctl.count("/trace").await, 1);
    handle.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn poller_watches_a_job_log_until_it_finishes() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |_| {});
    let pid = project_id(&c, &sim).await;
    let (tx, mut rx) = mpsc::channel(64);
    let handle = poller::spawn(c.clone(), sim.project_path(), slow_poll(), tx);
    until_requests(&mut rx).await;

    let job = any_finished_job(&c, pid).await;
    handle.send(PollCmd::WatchJobLog(Some(job)));
    loop {
        if let PollEvent::JobLog {
            job_id,
            bytes,
            complete,
        } = next_event(&mut rx).await
        {
            assert_eq!(job_id, job);
            assert!(!bytes.is_empty());
            assert!(complete, "a finished job's log is complete at once");
            break;
        }
    }
    // Finished: no more trace requests.
    ctl.clear_requests().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(ctl.count("/trace").await, 0);
    handle.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn poller_backs_off_as_a_whole_on_429() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |cfg| cfg.max_retries = 0);
    let (tx, mut rx) = mpsc::channel(64);
    let cfg = PollConfig {
        refresh: Duration::from_millis(100),
        ..slow_poll()
    };
    let handle = poller::spawn(c.clone(), sim.project_path(), cfg, tx);
    until_requests(&mut rx).await;

    ctl.fault(json!({"kind": "rate_limit", "retry_after": 2}))
        .await;
    ctl.clear_requests().await;
    handle.send(PollCmd::RefreshNow);
    let (events, _) = until_requests(&mut rx).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, PollEvent::Error { error, .. } if error.starts_with("429 from"))),
        "{events:?}"
    );
    // While paused (2 s), the 100 ms refresh period sends nothing; a manual refresh tries once
    // (and meets the 429 again), a second one only says how long is left.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ctl.requests().await.len(), 1, "paused after the 429");
    handle.send(PollCmd::RefreshNow);
    until_requests(&mut rx).await;
    assert_eq!(
        ctl.requests().await.len(),
        2,
        "one manual try through the pause"
    );
    handle.send(PollCmd::RefreshNow);
    match next_event(&mut rx).await {
        PollEvent::Warning { text } => {
            assert!(text.starts_with("still rate limited"), "{text}")
        }
        e => panic!("{e:?}"),
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ctl.requests().await.len(), 2, "no second manual try");
    ctl.clear_faults().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        ctl.requests().await.len() > 1,
        "resumes after the server's wait"
    );
    handle.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn poller_reports_auth_errors_and_keeps_running() {
    let sim = start_sim(Some("right"), 0).await;
    let c = client_for(&sim, |cfg| cfg.token = Some(SecretString::from("wrong")));
    let (tx, mut rx) = mpsc::channel(64);
    let handle = poller::spawn(c, sim.project_path(), slow_poll(), tx);
    let (events, _) = until_requests(&mut rx).await;
    let err = events
        .iter()
        .find_map(|e| match e {
            PollEvent::Error { error, .. } => Some(error.clone()),
            _ => None,
        })
        .expect("an error event");
    assert!(err.contains("401") && err.contains("GITLAB_TOKEN"), "{err}");
    assert!(!handle.is_finished());
    drop(handle);
    sim.shutdown().await;
}

// ---- hostile servers ---------------------------------------------------------------------

fn client_at(base: &str, edit: impl FnOnce(&mut ClientConfig)) -> GitlabClient {
    let mut cfg = ClientConfig {
        base_url: base.to_string(),
        token: Some(SecretString::from("glpat-SECRET0123456789abcd")),
        no_proxy: true,
        backoff_base: Duration::from_millis(10),
        request_timeout: Duration::from_secs(10),
        ..ClientConfig::default()
    };
    edit(&mut cfg);
    GitlabClient::new(cfg).unwrap()
}

/// Two hops: our server sends us to a foreign origin, which redirects within itself. Following
/// redirects re-sent the token on the second hop (and printed the foreign data as GitLab's); no
/// request may reach the foreign origin at all, and the error names it.
#[tokio::test]
async fn a_two_hop_redirect_is_an_error_and_the_token_never_leaves_its_origin() {
    let foreign = hostile::serve(|s| {
        if s.path() == "/second" {
            hostile::json(200, &json!({"id": 666, "username": "attacker"}))
        } else {
            hostile::redirect(302, "/second")
        }
    })
    .await;
    let target = format!("{}/first", foreign.url_as_localhost());
    let ours = hostile::serve(move |_| hostile::redirect(302, &target)).await;
    let c = client_at(&ours.url(), |_| {});

    let e = c.current_user().await.unwrap_err();
    assert!(
        matches!(e, GitlabError::Redirect { status: 302, .. }),
        "{e:?}"
    );
    let line = e.to_string();
    assert!(
        line.contains(&format!("http://localhost:{}", foreign.addr.port()))
            && line.contains("check --gitlab-url"),
        "{line}"
    );
    assert!(foreign.requests().is_empty(), "{:?}", foreign.requests());
    assert_eq!(ours.requests().len(), 1, "a redirect is not retried");

    // A write is redirected the same way: an error, never a GET that passes for done.
    let e = c
        .create_mr_note(1, 2, "hello")
        .await
        .expect_err("a redirected write fails");
    assert!(matches!(e, GitlabError::Redirect { .. }), "{e:?}");
    assert!(foreign.requests().is_empty());
}

/// A small gzip body that inflates to 100 MB: refused at the 32 MB cap on the decompressed
/// stream (the memory figure is in BENCHMARKS.md, measured by scripts/hostile_rss.py).
#[tokio::test]
async fn a_gzip_bomb_is_refused_at_the_cap_on_the_decompressed_stream() {
    let bomb = hostile::gzip_of(100 * 1024 * 1024, b' ');
    assert!(bomb.len() < 200 * 1024, "{} bytes compressed", bomb.len());
    let server = hostile::serve(move |_| hostile::raw_gzip(&bomb, "application/json")).await;
    let c = client_at(&server.url(), |_| {});
    let e = c.current_user().await.unwrap_err();
    assert!(
        matches!(e, GitlabError::TooLarge { limit_mb: 32, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("larger than 32 MB"), "{e}");
    assert_eq!(server.requests().len(), 1, "too large is not retried");
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_cap() {
    let server = hostile::serve(|_| hostile::endless(&[b'['; 64 * 1024], "application/json")).await;
    let c = client_at(&server.url(), |cfg| cfg.max_json_bytes = 4 * 1024 * 1024);
    let e = c.merge_requests(1, &MrQuery::opened()).await.unwrap_err();
    assert!(
        matches!(e, GitlabError::TooLarge { limit_mb: 4, .. }),
        "{e:?}"
    );
}

/// Numbered lines up to at least `len` bytes: a job log too big for a small cap.
fn numbered_log(len: usize) -> Vec<u8> {
    let mut log = Vec::new();
    let mut n = 0;
    while log.len() < len {
        log.extend_from_slice(format!("line {n} of a long job log\n").as_bytes());
        n += 1;
    }
    log
}

/// A log over the cap keeps its last part, from a line start, under a line saying so.
#[tokio::test]
async fn a_job_log_over_the_cap_keeps_its_tail_and_says_so() {
    let log = numbered_log(3 * 1024 * 1024);
    let body = log.clone();
    let server = hostile::serve(move |_| hostile::raw(200, "text/plain", body.clone())).await;
    let c = client_at(&server.url(), |cfg| cfg.max_trace_bytes = 1024 * 1024);
    let t = c.job_trace_tail(1, 2).await.unwrap();
    assert!(t.truncated());
    assert!(t.bytes.len() <= 1024 * 1024);
    assert!(log.ends_with(&t.bytes), "the tail is the log's end");
    assert!(t.bytes.starts_with(b"line "), "cut at a line start");
    assert_eq!(
        t.notice().as_deref(),
        Some("log larger than 1 MB: showing the last 1 MB")
    );
    let bytes = c.job_trace(1, 2).await.unwrap();
    assert!(bytes.starts_with(b"[gitaiops] log larger than 1 MB: showing the last 1 MB\n"));
    // Within the cap: the log as it is.
    let small = hostile::serve(|_| hostile::raw(200, "text/plain", &b"short\nlog\n"[..])).await;
    let c = client_at(&small.url(), |_| {});
    assert_eq!(c.job_trace(1, 2).await.unwrap(), b"short\nlog\n");
}

/// The tail's buffer never grows past the cap: it is a ring that writes to all of its capacity,
/// so a doubling past the cap (1 MiB for a 1,000,000-byte cap, 64 MB for 32 MiB and up) would
/// all be resident after a big log streamed through.
#[tokio::test]
async fn a_job_log_tail_buffer_stays_within_the_cap() {
    let log = numbered_log(3 * 1024 * 1024);
    let body = log.clone();
    let server = hostile::serve(move |_| hostile::raw(200, "text/plain", body.clone())).await;
    let cap = 1_000_000;
    let c = client_at(&server.url(), |cfg| cfg.max_trace_bytes = cap);
    let t = c.job_trace_tail(1, 2).await.unwrap();
    assert!(log.ends_with(&t.bytes), "the tail is the log's end");
    assert!(
        t.bytes.capacity() as u64 <= cap,
        "buffer capacity {} over the cap {cap}",
        t.bytes.capacity()
    );
}

#[tokio::test]
async fn an_html_page_with_200_is_named_as_html() {
    let server = hostile::serve(|_| {
        hostile::raw(
            200,
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html><body>Sign in</body></html>",
        )
    })
    .await;
    let c = client_at(&server.url(), |_| {});
    let e = c.current_user().await.unwrap_err();
    assert!(
        e.to_string()
            .contains("expected JSON, got HTML (a login page or proxy?)"),
        "{e}"
    );
}

/// One bad item (a null state, a string id, invalid UTF-8) no longer fails the whole page: it
/// is skipped (or repaired) and said.
#[tokio::test]
async fn one_bad_item_does_not_fail_the_list() {
    let mut body = br#"[{"id":1,"iid":1,"title":"fine","state":"opened"},
        {"id":2,"iid":2,"title":null,"state":"opened","source_branch":null,"target_branch":null},
        {"id":3,"iid":3,"title":"no state","state":null},
        {"id":"four","iid":4,"title":"bad id","state":"opened"},
        {"id":5,"iid":5,"title":"bad "#
        .to_vec();
    body.extend_from_slice(b"\xff\xfe utf8");
    body.extend_from_slice(br#"","state":"opened"}]"#);
    let server = hostile::serve(move |_| hostile::raw(200, "application/json", body.clone())).await;
    let c = client_at(&server.url(), |_| {});
    let mrs = c.merge_requests(1, &MrQuery::opened()).await.unwrap().items;
    let iids: Vec<u64> = mrs.iter().map(|m| m.iid).collect();
    assert_eq!(
        iids,
        vec![1, 2, 5],
        "null title/branches repaired; bad items skipped"
    );
    assert_eq!(mrs[1].title, "");
    assert!(mrs[2].title.contains('\u{FFFD}'), "{}", mrs[2].title);
    let problems = c.take_problems();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("skipped item 3 (iid 3)")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("item 4")),
        "{problems:?}"
    );
    assert!(problems.iter().any(|p| p.contains("UTF-8")), "{problems:?}");
    assert!(c.take_problems().is_empty(), "drained");
}

/// A `Link` that points back at a page already read ends the walk instead of costing 200
/// requests per refresh.
#[tokio::test]
async fn a_link_loop_stops_at_the_first_repeated_url() {
    let server = hostile::serve(|s| {
        let page = if s.uri.contains("page=2") { 2 } else { 1 };
        let next = "/api/v4/projects/1/merge_requests?page=2";
        let mut r = hostile::json(
            200,
            &json!([{"id": page, "iid": page, "title": "t", "state": "opened"}]),
        );
        r.headers_mut().insert(
            "link",
            format!("<http://wrong.example{next}>; rel=\"next\"")
                .parse()
                .unwrap(),
        );
        r
    })
    .await;
    let c = client_at(&server.url(), |_| {});
    let mrs = c.merge_requests(1, &MrQuery::opened()).await.unwrap();
    let uris: Vec<String> = server.requests().iter().map(|r| r.uri.clone()).collect();
    assert_eq!(uris.len(), 2, "page 1, then page 2 once: {uris:?}");
    assert_eq!(mrs.items.len(), 2);
}

#[tokio::test]
async fn a_401_names_where_the_token_came_from() {
    let server =
        hostile::serve(|_| hostile::json(401, &json!({"message": "401 Unauthorized"}))).await;
    let c = client_at(&server.url(), |cfg| cfg.token_origin = "--token-cmd".into());
    let e = c.current_user().await.unwrap_err();
    assert!(e.to_string().ends_with("check --token-cmd"), "{e}");
}

/// A proxy's hour-long `Retry-After` no longer freezes polling: `r` tries at once.
#[tokio::test]
async fn a_manual_refresh_tries_through_a_long_rate_limit_pause() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |cfg| cfg.max_retries = 0);
    ctl.fault(json!({"path_prefix": "/api/v4/user", "kind": "rate_limit", "retry_after": 3600, "times": 1}))
        .await;
    let (tx, mut rx) = mpsc::channel(64);
    let handle = poller::spawn(c, sim.project_path(), slow_poll(), tx);
    let (events, _) = until_requests(&mut rx).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, PollEvent::Error { error, .. } if error.starts_with("429"))),
        "{events:?}"
    );
    handle.send(PollCmd::RefreshNow);
    let (events, _) = until_requests(&mut rx).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, PollEvent::Snapshot { .. })),
        "the manual refresh loaded: {events:?}"
    );
    handle.shutdown().await;
    sim.shutdown().await;
}

/// Only `/pipelines` fails on the first load: the MRs arrive anyway and the error names the
/// pipelines; the next refresh lists the pipelines again.
#[tokio::test]
async fn a_failed_pipeline_list_on_first_load_does_not_hide_the_mrs() {
    let sim = start_sim(None, 0).await;
    let ctl = Control::new(&sim);
    let c = client_for(&sim, |cfg| cfg.max_retries = 0);
    let pid = project_id(&c, &sim).await;
    ctl.fault(json!({"path_prefix": format!("/api/v4/projects/{pid}/pipelines"), "kind": "status", "status": 502}))
        .await;
    let (tx, mut rx) = mpsc::channel(64);
    let handle = poller::spawn(c, sim.project_path(), slow_poll(), tx);
    let (events, _) = until_requests(&mut rx).await;
    let snap = events
        .iter()
        .find_map(|e| match e {
            PollEvent::Snapshot { snapshot, .. } => Some(snapshot.clone()),
            _ => None,
        })
        .expect("a snapshot with the MRs");
    assert!(!snap.mrs.is_empty() && snap.pipelines.is_empty());
    assert!(
        events.iter().any(|e| matches!(e, PollEvent::Warning { text } if text.starts_with("cannot load pipelines: 502"))),
        "{events:?}"
    );
    ctl.clear_faults().await;
    handle.send(PollCmd::RefreshNow);
    let (events, _) = until_requests(&mut rx).await;
    let snap = events
        .iter()
        .find_map(|e| match e {
            PollEvent::Snapshot { snapshot, .. } => Some(snapshot.clone()),
            _ => None,
        })
        .expect("pipelines arrive");
    assert!(!snap.pipelines.is_empty());
    handle.shutdown().await;
    sim.shutdown().await;
}

/// A bad item in a list is said once, as a warning, and the rest of the snapshot arrives.
#[tokio::test]
async fn the_poller_says_once_that_an_item_was_skipped() {
    let sim = start_sim(None, 0).await;
    let proxy = hostile::serve_proxy(
        sim.base_url(),
        |_| None,
        |s, up| {
            if s.method == "GET" && s.path().ends_with("/merge_requests") {
                let mut v: Value = serde_json::from_slice(&up.body).ok()?;
                v.as_array_mut()?.first_mut()?["state"] = Value::Null;
                Some(hostile::json(200, &v))
            } else {
                None
            }
        },
    )
    .await;
    let c = client_at(&proxy.url(), |cfg| {
        cfg.token = Some(SecretString::from("t"))
    });
    let (tx, mut rx) = mpsc::channel(64);
    let handle = poller::spawn(c, sim.project_path(), slow_poll(), tx);
    let (events, _) = until_requests(&mut rx).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, PollEvent::Snapshot { snapshot, .. } if !snapshot.mrs.is_empty()))
    );
    let warnings = |evs: &[PollEvent]| {
        evs.iter()
            .filter(|e| matches!(e, PollEvent::Warning { text } if text.starts_with("warning: merge_requests: skipped item 1")))
            .count()
    };
    assert_eq!(warnings(&events), 1, "{events:?}");
    handle.send(PollCmd::RefreshNow);
    let (events, _) = until_requests(&mut rx).await;
    assert_eq!(warnings(&events), 0, "said once");
    handle.shutdown().await;
    sim.shutdown().await;
}

/// 100,000 items in one page (GitLab sends at most `per_page`): the first `per_page` are kept
/// and the rest said, so one answer cannot fill memory (figures: scripts/hostile_rss.py).
#[tokio::test]
async fn a_page_with_more_items_than_asked_keeps_per_page() {
    let mut body = String::from("[");
    for i in 1..=100_000 {
        if i > 1 {
            body.push(',');
        }
        body.push_str(&format!(
            r#"{{"id":{i},"iid":{i},"title":"t","state":"opened"}}"#
        ));
    }
    body.push(']');
    let server = hostile::serve(move |_| hostile::raw(200, "application/json", body.clone())).await;
    let c = client_at(&server.url(), |_| {});
    let mrs = c.merge_requests(1, &MrQuery::opened()).await.unwrap().items;
    assert_eq!(mrs.len(), 100);
    let problems = c.take_problems();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("held 100000 items though 100 were asked for")),
        "{problems:?}"
    );
}
