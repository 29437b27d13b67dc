//! Planner costs on the simulated project at `--scale 1000`: building the budgeted context and
//! the whole prompt from a snapshot, the rules planner, and redaction of a large CI log. The
//! prompt's size is printed once so BENCHMARKS.md can state it.
//!
//! `cargo bench --bench planner`

// Test and benchmark code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::LazyLock;

use divan::{Bencher, black_box};
use gitaiops::gitlab::client::{ClientConfig, GitlabClient};
use gitaiops::gitlab::snapshot::ProjectSnapshot;
use gitaiops::plan::fence::Fence;
use gitaiops::plan::fetch::{FetchOptions, fetch_for_plan};
use gitaiops::plan::prompt::{PromptOptions, build_prompt};
use gitaiops::plan::rules::{RulesOptions, plan_rules};
use gitaiops::plan::snapshot::{ContextOptions, JobLogs, build_context};
use gitaiops::redact::redact;
use gitaiops::sim::SimConfig;
use gitaiops::testkit;
use jiff::Timestamp;

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

/// The simulator at scale 1000, read once over HTTP the way `gitaiops plan` reads it (more
/// pipelines, approvals and logs than the CLI's defaults, so the budget has to choose).
static WORLD: LazyLock<(ProjectSnapshot, JobLogs, Timestamp)> = LazyLock::new(|| {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let sim = testkit::start_sim(SimConfig {
            scale: 1000,
            ..testkit::manual_config()
        })
        .await;
        let client = GitlabClient::new(ClientConfig {
            read_only: true,
            ..testkit::client_config(&sim)
        })
        .expect("client");
        let opts = FetchOptions {
            pipelines: 1000,
            jobs_for_latest: 100,
            approvals: 300,
            logs: 40,
            log_lines: 20,
        };
        let (snap, logs) = fetch_for_plan(&client, &sim.project_path(), &opts)
            .await
            .expect("snapshot");
        let now = snap.fetched_at.unwrap_or_else(Timestamp::now);
        sim.shutdown().await;
        (snap, logs, now)
    })
});

fn main() {
    let (snap, logs, now) = &*WORLD;
    let prompt = build_prompt(
        snap,
        logs,
        *now,
        &Fence::random(),
        &PromptOptions::default(),
    );
    let bytes = prompt.system.len() + prompt.user.len() + prompt.schema.to_string().len();
    eprintln!(
        "scale 1000: {} open MRs, {} pipelines, {} job lists, {} logs; prompt {} bytes, ~{} tokens (budget {}); left out: {}",
        snap.mrs.len(),
        snap.pipelines.len(),
        snap.jobs.len(),
        logs.len(),
        bytes,
        prompt.est_tokens,
        PromptOptions::default().token_budget,
        prompt.omitted.join(" | ")
    );
    divan::main();
}

#[divan::bench]
fn context_32k(b: Bencher) {
    let (snap, logs, now) = &*WORLD;
    let fence = Fence::with_nonce("bench");
    let opts = ContextOptions::default();
    b.bench(|| build_context(black_box(snap), logs, *now, &fence, &opts));
}

#[divan::bench]
fn prompt_32k(b: Bencher) {
    let (snap, logs, now) = &*WORLD;
    let opts = PromptOptions::default();
    b.bench(|| build_prompt(black_box(snap), logs, *now, &Fence::random(), &opts));
}

#[divan::bench]
fn rules_plan(b: Bencher) {
    let (snap, logs, now) = &*WORLD;
    let opts = RulesOptions::default();
    b.bench(|| plan_rules(black_box(snap), logs, *now, &opts));
}

/// A 1 MB CI log with a few secrets in it.
#[divan::bench]
fn redact_1mb_log(b: Bencher) {
    let mut log = String::new();
    let mut i = 0;
    while log.len() < 1_000_000 {
        i += 1;
        log.push_str(&format!(
            "\x1b[32m[{i:06}]\x1b[0m Compiling crate-{i} v0.1.{i} (/builds/acme/platform/crates/c{i})\n"
        ));
        if i % 500 == 0 {
            log.push_str("export GITLAB_TOKEN=glpat-Abc123xYz789DefGhi012 DB_PASSWORD=hunter2\n");
        }
    }
    b.counter(divan::counter::BytesCount::new(log.len()))
        .bench(|| redact(black_box(&log)).len());
}
