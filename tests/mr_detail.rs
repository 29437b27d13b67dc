//! The MR detail's data over real loopback HTTP against the simulator: threads with their
//! resolved state, approval rules on EE and their absence on CE (asked once, never again),
//! and changed files a page at a time with GitLab's paging headers.

// Runs against the embedded simulator (the default `sim` feature).
#![cfg(feature = "sim")]
// Test code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use gitaiops::gitlab::poller::{self, PollCmd, PollConfig, PollEvent};
use gitaiops::gitlab::{GitlabError, ProjectSnapshot};
use gitaiops::sim::{Edition, SimConfig, SimHandle};
use gitaiops::testkit::{client, manual_config, start_sim};
use tokio::sync::mpsc;

async fn sim(edition: Edition) -> SimHandle {
    start_sim(SimConfig {
        edition,
        ..manual_config()
    })
    .await
}

/// `!7`: two threads resolved, one open, each note with GitLab's resolvable fields; plain
/// comments are discussions of their own and cannot be resolved.
#[tokio::test]
async fn threads_carry_their_resolved_state() {
    let sim = sim(Edition::Ee).await;
    let c = client(&sim);
    let pid = c.project(&sim.project_path()).await.unwrap().id;
    let d = c.mr_discussions(pid, 7).await.unwrap();
    let threads: Vec<_> = d.iter().filter(|d| !d.individual_note).collect();
    assert_eq!(threads.len(), 3);
    assert_eq!(
        threads.iter().map(|t| t.resolved()).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_eq!(threads[0].notes.len(), 2, "a reply stays in its thread");
    assert_eq!(
        threads[0].resolved_by().map(|u| u.username.as_str()),
        Some("priya")
    );
    for n in threads.iter().flat_map(|t| &t.notes) {
        assert!(n.resolvable && n.note_type.as_deref() == Some("DiscussionNote"));
        assert!(n.resolved.is_some());
        assert_eq!(n.resolved == Some(true), n.resolved_by.is_some());
    }
    // Oldest first, as GitLab lists discussions.
    let firsts: Vec<_> = d.iter().filter_map(|d| d.notes[0].created_at).collect();
    assert!(firsts.windows(2).all(|w| w[0] <= w[1]));
    // !4's plain comments: individual, not resolvable, and without the resolved fields.
    let raw: serde_json::Value = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!(
            "{}/api/v4/projects/{pid}/merge_requests/4/discussions",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let plain = raw
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["individual_note"] == true && d["notes"][0]["system"] == false)
        .expect("a plain comment");
    assert_eq!(plain["notes"][0]["resolvable"], false);
    assert!(plain["notes"][0].get("resolved").is_none());
    // The project does not require resolved threads: the list says none block (GitLab's
    // `mergeable_discussions_state?`).
    let mr = c.merge_request(pid, 7).await.unwrap();
    assert_eq!(mr.blocking_discussions_resolved, Some(true));
}

#[tokio::test]
async fn approval_rules_on_ee_and_a_404_on_ce() {
    let ee = sim(Edition::Ee).await;
    let c = client(&ee);
    let pid = c.project(&ee.project_path()).await.unwrap().id;
    let state = c.mr_approval_state(pid, 7).await.unwrap();
    let rule = &state.rules[0];
    assert_eq!(
        (rule.name.as_str(), rule.approvals_required, rule.approved),
        ("Backend", Some(2), Some(false))
    );
    assert_eq!(rule.approved_by[0].username, "priya");
    assert!(rule.can_still_approve().all(|u| u.username != "priya"));
    assert!(rule.can_still_approve().count() >= 1);

    let ce = sim(Edition::Ce).await;
    let c = client(&ce);
    let pid = c.project(&ce.project_path()).await.unwrap().id;
    assert!(matches!(
        c.mr_approval_state(pid, 7).await,
        Err(GitlabError::NotFound { .. })
    ));
    assert!(c.mr_approvals(pid, 7).await.unwrap().is_ce_shape());
}

/// `!12` changes 1,051 files: 20 a page, `X-Total` 1051, the last page says no next.
#[tokio::test]
async fn changed_files_come_a_page_at_a_time() {
    let sim = sim(Edition::Ee).await;
    let c = client(&sim);
    let pid = c.project(&sim.project_path()).await.unwrap().id;
    let (files, info) = c.mr_diffs_page(pid, 12, 1, 20).await.unwrap();
    assert_eq!(files.len(), 20);
    assert_eq!((info.next_page, info.total), (Some(2), Some(1051)));
    let (files, info) = c.mr_diffs_page(pid, 12, 11, 100).await.unwrap();
    assert_eq!(files.len(), 51);
    assert_eq!(info.next_page, None);
    // per_page above 100 is clamped by the client, as GitLab would.
    let (files, _) = c.mr_diffs_page(pid, 12, 1, 500).await.unwrap();
    assert_eq!(files.len(), 100);
}

async fn snapshot_after(
    rx: &mut mpsc::Receiver<PollEvent>,
    done: impl Fn(&ProjectSnapshot) -> bool,
) -> Arc<ProjectSnapshot> {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("an event within 20 s")
            .expect("poller alive");
        if let PollEvent::Snapshot { snapshot } = e
            && done(&snapshot)
        {
            return snapshot;
        }
    }
}

fn quiet() -> PollConfig {
    PollConfig {
        refresh: Duration::from_secs(3600),
        ..PollConfig::default()
    }
}

/// Opening a detail on EE reads the rules; on CE they are never asked for (the `/approvals`
/// shape says CE). The next page of files is read when asked, once.
#[tokio::test]
async fn the_poller_fetches_threads_rules_and_pages_of_files() {
    for edition in [Edition::Ee, Edition::Ce] {
        let sim = sim(edition).await;
        let c = client(&sim);
        let (tx, mut rx) = mpsc::channel(64);
        let handle = poller::spawn(c, sim.project_path(), quiet(), tx);
        snapshot_after(&mut rx, |_| true).await;
        sim.clear_requests();
        handle.send(PollCmd::FetchMrDetail(12));
        let snap = snapshot_after(&mut rx, |s| s.discussions.contains_key(&12)).await;
        assert_eq!(snap.diffs[&12].len(), 20);
        assert_eq!(snap.diff_pages[&12].next_page, Some(2));
        assert_eq!(snap.diff_pages[&12].total, Some(1051));
        let asked: Vec<String> = sim.requests().into_iter().map(|r| r.path).collect();
        let rules = asked
            .iter()
            .filter(|p| p.ends_with("/approval_state"))
            .count();
        assert_eq!(
            (rules, snap.approval_state.contains_key(&12)),
            if edition == Edition::Ee {
                (1, true)
            } else {
                (0, false)
            },
            "{asked:?}"
        );
        sim.clear_requests();
        handle.send(PollCmd::FetchMoreDiffs { iid: 12, page: 2 });
        // A repeat of the same page costs nothing.
        handle.send(PollCmd::FetchMoreDiffs { iid: 12, page: 2 });
        let snap = snapshot_after(&mut rx, |s| s.diffs[&12].len() > 20).await;
        assert_eq!(snap.diffs[&12].len(), 40);
        assert_eq!(snap.diff_pages[&12].next_page, Some(3));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let pages = sim
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/diffs"))
            .count();
        assert_eq!(pages, 1, "{:?}", sim.requests());
        handle.shutdown().await;
    }
}
