//! Reviewer routing and `gitaiops codeowners` end to end: the simulated GitLab over loopback
//! (its user profiles, statuses and group members in GitLab's shapes), the planner's routing
//! fetch with its cache and request budget, `gitaiops plan --json` and `gitaiops codeowners`
//! as child processes.

// Runs against the embedded simulator (the default `sim` feature).
#![cfg(feature = "sim")]
// Test and benchmark code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use gitaiops::command::Command as Cmd;
use gitaiops::gitlab::client::{ClientConfig, GitlabClient};
use gitaiops::plan::fetch::{
    FetchOptions, ReviewCache, ReviewLimits, fetch_for_plan, fetch_review,
};
use gitaiops::plan::rules::{RulesOptions, plan_rules_with};
use gitaiops::sim::{SimClock, SimConfig, SimHandle};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gitaiops");

async fn start_sim() -> SimHandle {
    gitaiops::sim::start(SimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        scale: 0,
        seed: 42,
        token: None,
        clock: SimClock::Manual,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn client(base: &str) -> GitlabClient {
    GitlabClient::new(ClientConfig {
        base_url: base.to_string(),
        token: Some("test-token".to_string().into()),
        read_only: true,
        no_proxy: true,
        backoff_base: Duration::from_millis(10),
        ..ClientConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn sim_serves_bot_flags_statuses_and_direct_group_members() {
    let sim = start_sim().await;
    let c = client(&sim.base_url());
    // `GET /users/:id` is GitLab's public profile, with `bot`.
    let bot = c.user(19).await.unwrap();
    assert_eq!(
        (bot.username.as_str(), bot.bot),
        ("release-bot", Some(true))
    );
    let priya = c.user(12).await.unwrap();
    assert_eq!(priya.bot, Some(false));
    assert_eq!(priya.public_email.as_deref(), Some("priya@acme.dev"));
    // `GET /users/:id_or_username/status`: busy, or all null when unset.
    let s = c.user_status("lfischer").await.unwrap();
    assert_eq!(s.availability.as_deref(), Some("busy"));
    assert!(s.message.is_some_and(|m| m.contains("On call")));
    let s = c.user_status("12").await.unwrap();
    assert_eq!((s.availability, s.message), (None, None));
    // `/groups/:id/members` is direct members only; `/members/all` adds the parent's.
    let direct: Vec<String> = c
        .group_members("acme/frontend")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.username)
        .collect();
    assert_eq!(direct, ["atanaka", "nokafor"]);
    let url = format!(
        "{}/api/v4/groups/acme%2Ffrontend/members/all",
        sim.base_url()
    );
    let all: Value = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut all: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["username"].as_str())
        .collect();
    all.sort();
    assert_eq!(all, ["atanaka", "dwhitfield", "nokafor"]);
    assert!(matches!(
        c.group_members("acme/nope").await,
        Err(gitaiops::gitlab::error::GitlabError::NotFound { .. })
    ));
    sim.shutdown().await;
}

#[tokio::test]
async fn routing_proposes_every_required_owner_and_the_cache_saves_the_second_run() {
    let sim = start_sim().await;
    let c = client(&sim.base_url());
    let cache = ReviewCache::default();
    let limits = ReviewLimits::default();

    let (mut snap, logs) = fetch_for_plan(&c, "acme/platform", &FetchOptions::default())
        .await
        .unwrap();
    let before = c.request_count();
    let review = fetch_review(&c, &mut snap, &limits, &cache).await;
    let first = c.request_count() - before;
    assert!(
        first > 0 && first <= limits.max_requests,
        "{first} requests"
    );
    assert!(review.notes.is_empty(), "{:?}", review.notes);
    // Only the groups the matched rules name, and direct members only.
    assert_eq!(review.groups.get("acme/sre").map(Vec::len), Some(2));
    assert!(!review.groups.contains_key("acme"));
    assert_eq!(
        review
            .people
            .get("lfischer")
            .and_then(|p| p.availability.as_deref()),
        Some("busy")
    );

    let now = snap.fetched_at.unwrap();
    let plan = plan_rules_with(&snap, &logs, now, &RulesOptions::default(), &review);
    let Some(Cmd::AssignReviewers {
        reviewers,
        rationale,
        evidence,
        ..
    }) = plan
        .commands
        .iter()
        .find(|c| matches!(c, Cmd::AssignReviewers { mr_iid: 11, .. }))
    else {
        panic!("a reviewer proposal for !11: {:#?}", plan.commands);
    };
    let mut got = reviewers.clone();
    got.sort();
    // Cargo.toml in [Backend][2]: both its owners; ops/ in [Infra] through @acme/sre;
    // src/worker/ is owned by the author alone.
    assert_eq!(got, ["dwhitfield", "lfischer", "priya"]);
    assert!(
        rationale.contains("[Backend] `Cargo.toml` needs 2: @priya, @lfischer"),
        "{rationale}"
    );
    assert!(
        rationale.contains("[Infra] `ops/`: @dwhitfield via @acme/sre"),
        "{rationale}"
    );
    assert!(
        rationale.contains("Not covered: [Backend] `src/worker/`"),
        "{rationale}"
    );
    assert!(rationale.contains("@lfischer is busy"), "{rationale}");
    assert!(
        evidence.iter().any(|e| e.contains("NOT COVERED")),
        "{evidence:#?}"
    );

    // A second run (a fresh snapshot, as the TUI takes) costs nothing new.
    let (mut snap2, _) = fetch_for_plan(&c, "acme/platform", &FetchOptions::default())
        .await
        .unwrap();
    let before = c.request_count();
    let again = fetch_review(&c, &mut snap2, &limits, &cache).await;
    assert_eq!(
        c.request_count() - before,
        0,
        "everything came from the cache"
    );
    assert_eq!(again.people, review.people);
    assert_eq!(again.groups, review.groups);
    assert_eq!(again.commits.len(), review.commits.len());

    // A tight budget stops early and says so.
    let (mut snap3, _) = fetch_for_plan(&c, "acme/platform", &FetchOptions::default())
        .await
        .unwrap();
    let tight = ReviewLimits {
        max_requests: 5,
        ..ReviewLimits::default()
    };
    let before = c.request_count();
    let cut = fetch_review(&c, &mut snap3, &tight, &ReviewCache::default()).await;
    assert!(c.request_count() - before <= 5);
    assert!(
        cut.notes.iter().any(|n| n.contains("request budget")),
        "{:?}",
        cut.notes
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn plan_json_from_the_binary_routes_mr_11() {
    let sim = start_sim().await;
    let base = sim.base_url();
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || {
            let mut c = Command::new(BIN);
            c.args([
                "plan",
                "--json",
                "--provider",
                "rules",
                "--project",
                "acme/platform",
            ])
            .arg("--gitlab-url")
            .arg(&base)
            .env("GITLAB_TOKEN", "test-token")
            .env("GITAIOPS_CONFIG", dir.join("absent.toml"))
            .env("GITAIOPS_STATE_DIR", dir.join("state"))
            .env("HOME", &dir)
            .env_remove("GITAIOPS_PROVIDER")
            .stdin(Stdio::null());
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
            c.output().unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cmd = plan["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "assign_reviewers" && c["mr_iid"] == 11)
        .unwrap_or_else(|| panic!("{plan:#}"));
    let mut reviewers: Vec<&str> = cmd["reviewers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    reviewers.sort();
    assert_eq!(reviewers, ["dwhitfield", "lfischer", "priya"]);
    assert!(cmd["rationale"].as_str().unwrap().contains("Not covered"));
    sim.shutdown().await;
}

fn codeowners(file_text: &str) -> (std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("CODEOWNERS");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(file_text.as_bytes())
        .unwrap();
    (path, dir)
}

#[test]
fn codeowners_reports_gitlabs_errors_and_exit_codes() {
    // GitLab's file_spec "detects syntax errors" case.
    let (path, _dir) = codeowners(
        "*.rb\n\n[]\n*_spec.rb @gl-test\n\n^[Optional][5]\n*.txt @user\n\n[Invalid section\n\n[OK section header]\n",
    );
    let out = Command::new(BIN)
        .arg("codeowners")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let codes: Vec<&str> = err
        .lines()
        .map(|l| l.split(": ").nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        codes,
        [
            "missing_entry_owner",
            "missing_section_name",
            "invalid_approval_requirement",
            "invalid_section_format"
        ],
        "{err}"
    );
    assert!(
        err.lines()
            .next()
            .unwrap()
            .starts_with("CODEOWNERS line 1: "),
        "{err}"
    );

    // `[0]` and `^[Docs][0]` are valid; a CI lint must not fail them.
    let (path, _dir) = codeowners("[Docs][0]\n*.md @docs\n^[Ops][0] @ops\nops/\n");
    let out = Command::new(BIN)
        .args(["codeowners", "--json"])
        .arg(&path)
        .arg("a.md")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["problems"], serde_json::json!([]));
    assert_eq!(v["paths"][0]["sections"][0]["approvals"], 1);

    // `^[Section][N]` is GitLab's invalid_approval_requirement, in JSON too.
    let (path, _dir) = codeowners("^[Docs][2]\n*.md @docs\n");
    let out = Command::new(BIN)
        .args(["codeowners", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["problems"][0]["code"], "invalid_approval_requirement");
    assert_eq!(v["problems"][0]["line"], 1);
}

#[test]
fn codeowners_ends_quietly_when_the_reader_goes_away() {
    // Far more output than a pipe buffers, so the writer meets the closed pipe.
    let (path, _dir) = codeowners("* @a\n[Rust] @b\n*.rs\n");
    let paths: Vec<String> = (0..4000).map(|i| format!("src/dir{i}/file.rs")).collect();
    for json in [false, true] {
        let mut c = Command::new(BIN);
        c.arg("codeowners").arg(&path).args(&paths);
        if json {
            c.arg("--json");
        }
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one line, then close the pipe (`| head -1`).
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 64];
        let n = std::io::Read::read(&mut stdout, &mut first).unwrap();
        assert!(n > 0);
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(out.status.code(), Some(0), "json={json}: {err}");
    }
}
