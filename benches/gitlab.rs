//! GitLab data layer figures (see BENCHMARKS.md, "GitLab data layer").
//!
//! Before the timed benchmarks, `main` measures the request budget of the poller against the
//! embedded simulator and prints it: requests per steady-state refresh with 50 open MRs and 20
//! pipelines, idle (target 2) and busy. The timed part parses what the simulator serves at
//! `--scale 1000`: the MR and pipeline list pages, and a whole `status --json` snapshot.
//!
//! Run: `cargo bench --bench gitlab`

// Test and benchmark code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;
use std::time::Duration;

use gitaiops::gitlab::delta;
use gitaiops::gitlab::poller::{self, PollCmd, PollConfig, PollEvent};
use gitaiops::gitlab::{MergeRequest, MrQuery, Pipeline, PipelineQuery, ProjectSnapshot};
use gitaiops::sim::{SimConfig, SimHandle};
use gitaiops::testkit::{self, client};
use tokio::sync::mpsc;

struct Payloads {
    /// Raw bodies of every page, as served.
    mr_pages: Vec<Vec<u8>>,
    pipeline_pages: Vec<Vec<u8>>,
    /// A full snapshot as `status --json` prints it.
    snapshot_json: Vec<u8>,
    mr_count: usize,
    pipeline_count: usize,
}

static PAYLOADS: OnceLock<Payloads> = OnceLock::new();

fn main() {
    gitaiops::gitlab::client::ensure_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        overview_budget().await;
        request_budget().await;
        for scale in [0, 1000] {
            downstream_budget(scale).await;
        }
        let p = scale_payloads(1000).await;
        println!(
            "scale 1000 payloads: {} MRs in {} pages ({} KiB), {} pipelines in {} pages, snapshot JSON {} KiB",
            p.mr_count,
            p.mr_pages.len(),
            p.mr_pages.iter().map(Vec::len).sum::<usize>() / 1024,
            p.pipeline_count,
            p.pipeline_pages.len(),
            p.snapshot_json.len() / 1024,
        );
        let _ = PAYLOADS.set(p);
    });
    divan::main();
}

/// The overview's steady-state cost at the server, nothing changing (frozen clock), on a clock
/// scaled by 1/120 (refresh 100 ms for 12 s, quiet ceiling 1 s for 120 s): 6 s of counting
/// stand for 12 minutes. Printed per minute at the shipped 12 s refresh, by endpoint.
async fn overview_budget() {
    use gitaiops::gitlab::overview::WatchSpec;
    use gitaiops::gitlab::overview_poller::{self, OverviewConfig, OverviewEvent};
    let cases: [(&str, usize, bool); 4] = [
        ("group of 20 projects", 20, true),
        ("20 named projects", 20, false),
        ("group of 5 projects", 5, true),
        ("2 named projects", 2, false),
    ];
    for (name, n, as_group) in cases {
        let sim = testkit::start_sim(SimConfig {
            projects: n,
            ..testkit::manual_config()
        })
        .await;
        let named: Vec<String> = if as_group {
            Vec::new()
        } else {
            let listed = client(&sim).group_projects("acme").await.unwrap();
            listed
                .items
                .into_iter()
                .map(|p| p.path_with_namespace)
                .collect()
        };
        let spec = WatchSpec {
            instance: 0,
            projects: named,
            groups: if as_group {
                vec!["acme".into()]
            } else {
                Vec::new()
            },
        };
        let (tx, mut rx) = mpsc::channel(64);
        let (_cmd_tx, cmd_rx) = mpsc::channel(8);
        let cancel = tokio_util::sync::CancellationToken::new();
        let cfg = OverviewConfig {
            refresh: Duration::from_millis(100),
            quiet_ceiling: Duration::from_millis(1000),
            relist: Duration::from_secs(3600),
            overlap: Duration::from_secs(5),
        };
        let started = std::time::Instant::now();
        overview_poller::spawn(client(&sim), spec, cfg, tx, cmd_rx, cancel.clone());
        loop {
            match rx.recv().await {
                Some(OverviewEvent::Rows { rows, .. })
                    if rows.len() == n && rows.iter().all(|r| r.checked_at.is_some()) =>
                {
                    break;
                }
                Some(_) => {}
                None => panic!("the overview stopped"),
            }
        }
        let cold = sim.requests().len();
        let cold_ms = started.elapsed().as_millis();
        tokio::time::sleep(Duration::from_secs(3)).await;
        sim.clear_requests();
        tokio::time::sleep(Duration::from_secs(6)).await;
        let reqs = sim.requests();
        cancel.cancel();
        let per_min =
            |f: &dyn Fn(&str) -> bool| reqs.iter().filter(|r| f(&r.path)).count() as f64 / 12.0;
        println!(
            "overview, {name}: cold start {cold} requests ({cold_ms} ms); steady state {:.1} requests/min at a 12 s refresh: group MRs {:.1}, project MRs {:.1}, pipelines {:.1}, deployments {:.1}, other {:.1}",
            reqs.len() as f64 / 12.0,
            per_min(&|p| p.starts_with("/api/v4/groups/") && p.ends_with("/merge_requests")),
            per_min(&|p| p.starts_with("/api/v4/projects/") && p.ends_with("/merge_requests")),
            per_min(&|p| p.ends_with("/pipelines")),
            per_min(&|p| p.ends_with("/deployments")),
            per_min(&|p| {
                !p.ends_with("/merge_requests")
                    && !p.ends_with("/pipelines")
                    && !p.ends_with("/deployments")
            }),
        );
        sim.shutdown().await;
    }
}

async fn start_sim(scale: usize) -> SimHandle {
    testkit::start_sim(SimConfig {
        scale,
        ..testkit::manual_config()
    })
    .await
}

async fn sim_requests(http: &reqwest::Client, base: &str) -> usize {
    let v: Vec<serde_json::Value> = http
        .get(format!("{base}/-/sim/requests"))
        .send()
        .await
        .expect("requests")
        .json()
        .await
        .expect("json");
    v.len()
}

async fn until_refresh_done(rx: &mut mpsc::Receiver<PollEvent>) -> u64 {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
            Ok(Some(PollEvent::Requests { total, .. })) => return total,
            Ok(Some(_)) => {}
            _ => panic!("poller stalled"),
        }
    }
}

/// The smallest scale whose open-MR count reaches 50 (the scenario closes and merges some).
async fn sim_with_open_mrs(target: usize) -> (SimHandle, usize) {
    let mut scale = target;
    loop {
        let sim = start_sim(scale).await;
        let c = client(&sim);
        let pid = c.project(&sim.project_path()).await.expect("project").id;
        let open = c
            .merge_requests(pid, &MrQuery::opened())
            .await
            .expect("mrs")
            .items
            .len();
        if open >= target || scale > target * 4 {
            return (sim, open);
        }
        sim.shutdown().await;
        scale = (scale * target).div_ceil(open.max(1)).max(scale + 1);
    }
}

async fn request_budget() {
    let (sim, open) = sim_with_open_mrs(50).await;
    let http = reqwest::Client::builder().no_proxy().build().expect("http");
    let base = sim.base_url();
    let c = client(&sim);
    let cfg = PollConfig {
        refresh: Duration::from_secs(3600),
        pipelines_per_page: 20,
        ..PollConfig::default()
    };
    let (tx, mut rx) = mpsc::channel(256);
    let handle = poller::spawn(c.clone(), sim.project_path(), cfg, tx);
    let cold = until_refresh_done(&mut rx).await;

    const ROUNDS: u64 = 20;
    let before = sim_requests(&http, &base).await;
    for _ in 0..ROUNDS {
        handle.send(PollCmd::RefreshNow);
        until_refresh_done(&mut rx).await;
    }
    let idle = (sim_requests(&http, &base).await - before) as f64 / ROUNDS as f64;

    // Busy: 10 MRs and 5 pipelines on screen, 30 s of simulated time between refreshes.
    let (snap, _) = poller::cold_start(&c, &sim.project_path(), 20)
        .await
        .expect("cold start");
    handle.send(PollCmd::Visible {
        mrs: snap.mrs.keys().take(10).copied().collect(),
        pipelines: snap.pipelines.keys().rev().take(5).copied().collect(),
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = sim_requests(&http, &base).await;
    for _ in 0..ROUNDS {
        http.post(format!("{base}/-/sim/advance?seconds=30"))
            .send()
            .await
            .expect("advance");
        handle.send(PollCmd::RefreshNow);
        until_refresh_done(&mut rx).await;
    }
    let busy = (sim_requests(&http, &base).await - before) as f64 / ROUNDS as f64;
    println!(
        "request budget: {open} open MRs, 20 pipelines: cold start {cold} requests; idle refresh {idle:.2} requests (target 2); busy refresh (10 MRs + 5 pipelines on screen, +30 s/refresh) {busy:.2} requests"
    );
    handle.shutdown().await;
    sim.shutdown().await;
}

/// Requests at `scale` (0 = the scenario as written) with the 20 newest pipelines on screen, so
/// the failed and running ones among them get their bridges and downstream jobs: cold start
/// plus the first detail passes, then idle refreshes (nothing changed), then busy ones (+30 s of
/// simulated CI per refresh). Bridge and downstream requests are counted apart.
async fn downstream_budget(scale: usize) {
    let sim = start_sim(scale).await;
    let http = reqwest::Client::builder().no_proxy().build().expect("http");
    let base = sim.base_url();
    let c = client(&sim);
    let count = |log: &[serde_json::Value], from: usize| {
        let new = &log[from.min(log.len())..];
        let ending = |end: &str| {
            new.iter()
                .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with(end)))
                .count()
        };
        (new.len(), ending("/bridges"), ending("/deployments"))
    };
    let log = |http: reqwest::Client, base: String| async move {
        let v: Vec<serde_json::Value> = http
            .get(format!("{base}/-/sim/requests"))
            .send()
            .await
            .expect("requests")
            .json()
            .await
            .expect("json");
        v
    };
    let (snap, _) = poller::cold_start(&c, &sim.project_path(), 20)
        .await
        .expect("cold start");
    let visible: Vec<u64> = snap.pipelines.keys().rev().take(20).copied().collect();
    let start = log(http.clone(), base.clone()).await.len();
    let cfg = PollConfig {
        refresh: Duration::from_secs(3600),
        pipelines_per_page: 20,
        ..PollConfig::default()
    };
    let (tx, mut rx) = mpsc::channel(256);
    let handle = poller::spawn(c.clone(), sim.project_path(), cfg, tx);
    until_refresh_done(&mut rx).await;
    handle.send(PollCmd::Visible {
        mrs: Vec::new(),
        pipelines: visible,
    });
    // Detail passes follow each other 1 s apart until nothing on screen is missing.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let l = log(http.clone(), base.clone()).await;
    let (cold, cold_bridges, cold_deploys) = count(&l, start);
    let job_lists = l[start..]
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/jobs")))
        .count();
    const ROUNDS: usize = 10;
    let before = l.len();
    for _ in 0..ROUNDS {
        handle.send(PollCmd::RefreshNow);
        until_refresh_done(&mut rx).await;
    }
    let l = log(http.clone(), base.clone()).await;
    let (idle, idle_bridges, idle_deploys) = count(&l, before);
    let before = l.len();
    for _ in 0..ROUNDS {
        http.post(format!("{base}/-/sim/advance?seconds=30"))
            .send()
            .await
            .expect("advance");
        handle.send(PollCmd::RefreshNow);
        until_refresh_done(&mut rx).await;
    }
    let l = log(http.clone(), base.clone()).await;
    let (busy, busy_bridges, busy_deploys) = count(&l, before);
    println!(
        "downstream budget at scale {scale}, 20 pipelines on screen: cold start + detail passes {cold} requests ({cold_bridges} bridge lists, {job_lists} job lists, {cold_deploys} deployments); idle refresh {:.2} ({:.2} bridges, {:.2} deployments); busy refresh (+30 s) {:.2} ({:.2} bridges, {:.2} deployments)",
        idle as f64 / ROUNDS as f64,
        idle_bridges as f64 / ROUNDS as f64,
        idle_deploys as f64 / ROUNDS as f64,
        busy as f64 / ROUNDS as f64,
        busy_bridges as f64 / ROUNDS as f64,
        busy_deploys as f64 / ROUNDS as f64,
    );
    handle.shutdown().await;
    sim.shutdown().await;
}

async fn fetch_pages(http: &reqwest::Client, first: String) -> Vec<Vec<u8>> {
    let mut pages = Vec::new();
    let mut url = Some(first);
    while let Some(u) = url.take() {
        let r = http.get(&u).send().await.expect("page");
        url = r
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(gitaiops::gitlab::client::parse_link_next);
        pages.push(r.bytes().await.expect("body").to_vec());
    }
    pages
}

async fn scale_payloads(scale: usize) -> Payloads {
    let sim = start_sim(scale).await;
    let http = reqwest::Client::builder().no_proxy().build().expect("http");
    let c = client(&sim);
    let pid = c.project(&sim.project_path()).await.expect("project").id;
    let base = sim.base_url();
    let mr_pages = fetch_pages(
        &http,
        format!("{base}/api/v4/projects/{pid}/merge_requests?state=all&per_page=100"),
    )
    .await;
    let pipeline_pages = fetch_pages(
        &http,
        format!("{base}/api/v4/projects/{pid}/pipelines?per_page=100"),
    )
    .await;
    let mut snap = poller::fetch_snapshot(&c, &sim.project_path(), 100, 20)
        .await
        .expect("snapshot");
    // The whole MR history, not only the open ones: the heaviest snapshot the scale allows.
    let all = c
        .merge_requests(
            pid,
            &MrQuery {
                state: Some("all".into()),
                ..MrQuery::default()
            },
        )
        .await
        .expect("all mrs");
    for mr in all.items {
        std::sync::Arc::make_mut(&mut snap.mrs).insert(mr.iid, mr.into());
    }
    let all_p = c
        .pipelines(pid, &PipelineQuery::default())
        .await
        .expect("all pipelines");
    for p in all_p.items {
        std::sync::Arc::make_mut(&mut snap.pipelines).insert(p.id, p);
    }
    let snapshot_json = serde_json::to_vec(&snap).expect("json");
    let mr_count = snap.mrs.len();
    let pipeline_count = snap.pipelines.len();
    sim.shutdown().await;
    Payloads {
        mr_pages,
        pipeline_pages,
        snapshot_json,
        mr_count,
        pipeline_count,
    }
}

fn payloads() -> &'static Payloads {
    PAYLOADS.get().expect("payloads prepared in main")
}

#[divan::bench]
fn parse_mr_pages_scale_1000() -> usize {
    payloads()
        .mr_pages
        .iter()
        .map(|p| {
            serde_json::from_slice::<Vec<MergeRequest>>(divan::black_box(p))
                .expect("mrs")
                .len()
        })
        .sum()
}

#[divan::bench]
fn parse_pipeline_pages_scale_1000() -> usize {
    payloads()
        .pipeline_pages
        .iter()
        .map(|p| {
            serde_json::from_slice::<Vec<Pipeline>>(divan::black_box(p))
                .expect("pipelines")
                .len()
        })
        .sum()
}

#[divan::bench]
fn parse_snapshot_json_scale_1000() -> usize {
    let s: ProjectSnapshot =
        serde_json::from_slice(divan::black_box(&payloads().snapshot_json)).expect("snapshot");
    s.mrs.len()
}

/// Parse the MR pages and merge them into an empty snapshot: the cold-start CPU cost.
#[divan::bench]
fn parse_and_merge_mrs_scale_1000() -> usize {
    let mut snap = ProjectSnapshot::default();
    for p in &payloads().mr_pages {
        let items: Vec<MergeRequest> = serde_json::from_slice(divan::black_box(p)).expect("mrs");
        delta::apply_mr_delta(&mut snap, items);
    }
    snap.mrs.len()
}
