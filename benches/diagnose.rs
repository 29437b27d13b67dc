//! Diagnosis benchmarks: indexing a real 2.8 MB GitLab trace and running the rules engine over
//! the largest real CI log of the LogDx corpus (~3 MB).
//!
//! `cargo bench --bench diagnose`

// Test and benchmark code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use gitaiops::diagnose::log::LogIndex;
use gitaiops::diagnose::{JobContext, rules};
use gitaiops::testkit::shared_path;

fn main() {
    divan::main();
}

fn shared(rel: &str) -> Vec<u8> {
    let path = shared_path(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("benchmark input {}: {e}", path.display()))
}

const GITLAB_TRACE: &str = "fixtures/gitlab/job_trace_runner13_cr.log";
const LARGE_CI_LOG: &str = "eval/logdx/cases/rust-compiletest-wasm-exceptions-asm-v2-001/raw.log";

/// One pass over a 2.8 MB runner 13 trace: line ranges and sections.
#[divan::bench]
fn log_index_parse_2_8mb(bencher: divan::Bencher) {
    let bytes = Arc::new(shared(GITLAB_TRACE));
    bencher
        .counter(divan::counter::BytesCount::new(bytes.len()))
        .bench(|| LogIndex::parse(divan::black_box(bytes.clone())));
}

/// Rendering every line of the 2.8 MB trace to plain text (what extraction does first).
#[divan::bench]
fn log_index_plain_all_lines_2_8mb(bencher: divan::Bencher) {
    let log = LogIndex::parse(Arc::new(shared(GITLAB_TRACE)));
    bencher.bench(|| {
        let mut n = 0usize;
        for i in 0..log.line_count() {
            n += log.plain_cow(i).len();
        }
        n
    });
}

/// Parse + rules diagnosis of a ~3 MB real CI log (31k lines).
#[divan::bench]
fn diagnose_rules_3mb(bencher: divan::Bencher) {
    let bytes = Arc::new(shared(LARGE_CI_LOG));
    let ctx = JobContext::default();
    bencher
        .counter(divan::counter::BytesCount::new(bytes.len()))
        .bench(|| {
            let log = LogIndex::parse(bytes.clone());
            rules::diagnose(&log, divan::black_box(&ctx))
        });
}
