//! The overview of many projects against simulated instances over loopback HTTP: what its rows
//! say, and what it costs in requests at the server.

// Runs against the embedded simulator (the default `sim` feature).
#![cfg(feature = "sim")]
// Test code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use gitaiops::gitlab::overview::{ProjectSummary, WatchSpec};
use gitaiops::gitlab::overview_poller::{self, OverviewCmd, OverviewConfig, OverviewEvent};
use gitaiops::sim::{SimConfig, SimHandle};
use gitaiops::testkit;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

async fn sim(projects: usize, seed: u64) -> SimHandle {
    testkit::start_sim(SimConfig {
        projects,
        seed,
        ..testkit::manual_config()
    })
    .await
}

struct Running {
    rx: mpsc::Receiver<OverviewEvent>,
    _cmds: mpsc::Sender<OverviewCmd>,
    cancel: CancellationToken,
}

fn start(sim: &SimHandle, spec: WatchSpec, cfg: OverviewConfig) -> Running {
    let (tx, rx) = mpsc::channel(64);
    let (cmds, cmd_rx) = mpsc::channel(8);
    let cancel = CancellationToken::new();
    overview_poller::spawn(testkit::client(sim), spec, cfg, tx, cmd_rx, cancel.clone());
    Running {
        rx,
        _cmds: cmds,
        cancel,
    }
}

/// The first `Rows` with `n` rows that were all read.
async fn rows(r: &mut Running, n: usize) -> Vec<ProjectSummary> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let ev = tokio::time::timeout_at(deadline, r.rx.recv())
            .await
            .expect("rows within 20 s")
            .expect("the overview runs");
        if let OverviewEvent::Rows { rows, .. } = ev
            && rows.len() == n
            && rows.iter().all(|r| r.checked_at.is_some())
        {
            return rows;
        }
    }
}

fn group(instance: usize, g: &str) -> WatchSpec {
    WatchSpec {
        instance,
        projects: Vec::new(),
        groups: vec![g.into()],
    }
}

#[tokio::test]
async fn a_group_lists_its_projects_and_their_rows_say_what_needs_attention() {
    let s = sim(5, 42).await;
    let mut r = start(&s, group(0, "acme"), OverviewConfig::default());
    let got = rows(&mut r, 5).await;
    let paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
    for p in [
        "acme/platform",
        "acme/billing",
        "acme/web",
        "acme/infra",
        "acme/docs",
    ] {
        assert!(paths.contains(&p), "{p} in {paths:?}");
    }
    let platform = got.iter().find(|r| r.path == "acme/platform").unwrap();
    // The scenario's main branch: its newest finished pipelines failed.
    assert!(platform.failing_default > 0, "{platform:?}");
    assert!(
        platform.open_mrs > 10 && platform.waiting_on_me > 0,
        "{platform:?}"
    );
    assert!(platform.last_deploy.is_some(), "{platform:?}");
    // acme/infra (every third sibling) has no open MR.
    let infra = got.iter().find(|r| r.path == "acme/infra").unwrap();
    assert_eq!(infra.open_mrs, 0, "{infra:?}");
    // acme/web (an even sibling) has a green default branch.
    let web = got.iter().find(|r| r.path == "acme/web").unwrap();
    assert_eq!(web.failing_default, 0, "{web:?}");
    r.cancel.cancel();
}

#[tokio::test]
async fn named_projects_and_an_unknown_one_each_get_a_row() {
    let s = sim(3, 42).await;
    let spec = WatchSpec {
        instance: 1,
        projects: vec!["acme/billing".into(), "acme/nope".into()],
        groups: Vec::new(),
    };
    let mut r = start(&s, spec, OverviewConfig::default());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let got = loop {
        let ev = tokio::time::timeout_at(deadline, r.rx.recv())
            .await
            .unwrap()
            .unwrap();
        if let OverviewEvent::Rows { instance, rows } = ev {
            assert_eq!(instance, 1);
            if rows.iter().any(|r| r.checked_at.is_some()) {
                break rows;
            }
        }
    };
    let billing = got.iter().find(|r| r.path == "acme/billing").unwrap();
    assert!(
        billing.error.is_none() && billing.open_mrs > 0,
        "{billing:?}"
    );
    let nope = got.iter().find(|r| r.path == "acme/nope").unwrap();
    assert!(
        nope.error.as_deref().unwrap_or("").contains("404")
            || nope
                .error
                .as_deref()
                .unwrap_or("")
                .to_lowercase()
                .contains("not found"),
        "{nope:?}"
    );
    r.cancel.cancel();
}

/// Requests per minute the overview of `spec` costs at `sim` once every row was read, with
/// nothing changing (frozen clock), on a scaled clock: the refresh period is 100 ms and the
/// quiet ceiling 1 s (the shipped 12 s / 120 s divided by 120), so 6 s stand for 12 minutes.
/// Returned as requests per real minute at the shipped 12 s refresh.
async fn steady_per_minute(sim: &SimHandle, spec: WatchSpec, n: usize) -> f64 {
    let cfg = OverviewConfig {
        refresh: Duration::from_millis(100),
        quiet_ceiling: Duration::from_millis(1000),
        relist: Duration::from_secs(3600),
        overlap: Duration::from_secs(5),
    };
    let mut r = start(sim, spec, cfg);
    rows(&mut r, n).await;
    // Let the quiet projects reach their ceiling, then count.
    tokio::time::sleep(Duration::from_secs(3)).await;
    sim.clear_requests();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let count = sim.requests().len() as f64;
    r.cancel.cancel();
    // 6 s = 60 refresh periods = 12 minutes at 12 s.
    count / 12.0
}

#[tokio::test]
async fn twenty_quiet_projects_of_a_group_stay_within_the_budget() {
    let s = sim(20, 42).await;
    let per_min = steady_per_minute(&s, group(0, "acme"), 20).await;
    // One group MR read per refresh (5 a minute) and each project's pipelines at most every
    // 120 s (10 a minute): 15. The target is 30.
    assert!(per_min <= 30.0, "{per_min} requests/min");
    assert!(per_min >= 5.0, "the group is still read: {per_min}");
}
