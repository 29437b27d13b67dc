//! TUI costs: one frame at 120x40 with the simulator at --scale 1000 (1000 MRs), applying a
//! snapshot, and a 50 MB job log (index + first screen, then frames while scrolling).
//!
//! `cargo bench --bench tui` (figures in BENCHMARKS.md, "## TUI"). Before the timings it prints
//! the memory a 50 MB log costs once opened (RSS growth of this process).

// Test and benchmark code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, LazyLock};

use gitaiops::app::{AppState, Key, KeyCode, Msg, update};
use gitaiops::diagnose::log::LogIndex;
use gitaiops::gitlab::ProjectSnapshot;
use gitaiops::testkit::{self, AppBuilder};

use gitaiops::sim::SimConfig;
use gitaiops::tui::draw::draw;
use gitaiops::tui::theme::Theme;
use jiff::Timestamp;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

/// A scale-1000 project fetched from the embedded simulator over HTTP, as the poller would
/// see it: open MRs, 20 pipelines, jobs of the newest/failed ones, approvals of the MRs on
/// screen.
static SCALE_1000: LazyLock<(Arc<ProjectSnapshot>, Timestamp)> = LazyLock::new(|| {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sim = testkit::start_sim(SimConfig {
            scale: 1000,
            ..testkit::manual_config()
        })
        .await;
        let client = testkit::client(&sim);
        let mut snap =
            gitaiops::gitlab::poller::fetch_snapshot(&client, &sim.project_path(), 20, 5)
                .await
                .unwrap();
        let pid = snap.project.id;
        let newest: Vec<u64> = snap.mrs.values().rev().take(20).map(|m| m.iid).collect();
        for iid in newest {
            let a = client.mr_approvals(pid, iid).await.unwrap();
            std::sync::Arc::make_mut(&mut snap.approvals).insert(iid, a);
        }
        let now = sim.now();
        sim.shutdown().await;
        (Arc::new(snap), now)
    })
});

fn state(w: u16, h: u16, snap: Arc<ProjectSnapshot>, now: Timestamp) -> AppState {
    AppBuilder::new()
        .host("127.0.0.1")
        .size(w, h)
        .snapshot(snap)
        .now(now)
        .build()
}

/// A CI log of about `mb` MB: sections every 2000 lines, ANSI colours, progress redraws.
fn big_log(mb: usize) -> Arc<Vec<u8>> {
    let mut out = Vec::with_capacity(mb << 20);
    let mut i = 0u64;
    while out.len() < mb << 20 {
        if i.is_multiple_of(2000) {
            if i > 0 {
                out.extend_from_slice(
                    format!(
                        "\x1b[0Ksection_end:{}:part_{}\r\x1b[0K\n",
                        1_700_000_000 + i,
                        i / 2000 - 1
                    )
                    .as_bytes(),
                );
            }
            out.extend_from_slice(
                format!("\x1b[0Ksection_start:{}:part_{}[collapsed=false]\r\x1b[0K\x1b[36;1m$ cargo test --package part_{}\x1b[0;m\n", 1_700_000_000 + i, i / 2000, i / 2000).as_bytes(),
            );
        }
        let line = match i % 7 {
            0 => format!(
                "   Compiling crate_{i} v0.{}.{} (/builds/acme/platform/crates/crate_{i})\n",
                i % 13,
                i % 5
            ),
            1 => format!(
                "test module_{}::tests::case_{i} ... \x1b[32mok\x1b[0m\n",
                i % 97
            ),
            2 => format!(
                "Downloading artifacts {}%\r\x1b[0KDownloading artifacts 100%\n",
                i % 100
            ),
            3 => format!(
                "\x1b[38;5;244m[{:>8}] debug: cache key {:016x}\x1b[0m\n",
                i,
                i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ),
            4 => format!(
                "warning: unused variable `x_{i}` in src/lib.rs:{}:9\n",
                i % 400
            ),
            5 => format!(
                "\x1b[38;2;200;120;40mnote\x1b[0m: running {} tests\n",
                i % 50
            ),
            _ => format!(
                "    Finished `test` profile [unoptimized + debuginfo] target(s) in {}.{:02}s\n",
                i % 90,
                i % 100
            ),
        };
        out.extend_from_slice(line.as_bytes());
        i += 1;
    }
    Arc::new(out)
}

static LOG_50MB: LazyLock<Arc<Vec<u8>>> = LazyLock::new(|| big_log(50));

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Opens the 50 MB log the way the app does (parse, install in the viewer, first frame) and
/// returns the state showing it.
fn open_log(bytes: Arc<Vec<u8>>) -> (AppState, Buffer) {
    let (snap, now) = SCALE_1000.clone();
    let mut s = state(120, 40, snap, now);
    let job = s
        .snapshot
        .as_ref()
        .and_then(|sn| sn.all_jobs().next().map(|j| j.id))
        .unwrap_or(1);
    for c in format!(":log {job}").chars() {
        update(&mut s, Msg::Key(Key::char(c)));
    }
    update(&mut s, Msg::Key(Key::plain(KeyCode::Enter)));
    let index = Arc::new(LogIndex::parse(bytes));
    update(
        &mut s,
        Msg::JobLog {
            job_id: job,
            index,
            complete: true,
        },
    );
    let mut buf = Buffer::empty(Rect::new(0, 0, 120, 40));
    draw(&s, &Theme::new(true, false), &mut buf);
    (s, buf)
}

fn main() {
    // One-off memory figure, before divan's timing loops.
    let bytes = LOG_50MB.clone();
    LazyLock::force(&SCALE_1000);
    let before = rss_kb();
    let started = std::time::Instant::now();
    let (s, _) = open_log(bytes.clone());
    let took = started.elapsed();
    let after = rss_kb();
    let lines = s
        .log_view()
        .and_then(|v| v.index.as_ref())
        .map(|i| i.line_count())
        .unwrap_or(0);
    eprintln!(
        "50 MB log ({} bytes, {lines} lines): first screen in {:.0} ms, RSS +{} MB over the {} MB of trace bytes already held",
        bytes.len(),
        took.as_secs_f64() * 1000.0,
        after.saturating_sub(before) / 1024,
        bytes.len() >> 20
    );
    drop(s);
    divan::main();
}

#[divan::bench]
fn frame_120x40_scale_1000(bencher: divan::Bencher) {
    let (snap, now) = SCALE_1000.clone();
    let s = state(120, 40, snap, now);
    let theme = Theme::new(true, false);
    bencher.bench_local(|| {
        let mut buf = Buffer::empty(Rect::new(0, 0, 120, 40));
        draw(&s, &theme, &mut buf);
        buf
    });
}

#[divan::bench]
fn apply_snapshot_scale_1000(bencher: divan::Bencher) {
    let (snap, now) = SCALE_1000.clone();
    let mut s = state(120, 40, snap.clone(), now);
    bencher.bench_local(|| {
        update(
            &mut s,
            Msg::Snapshot {
                epoch: 0,
                snapshot: snap.clone(),
            },
        )
    });
}

#[divan::bench]
fn filter_keystroke_scale_1000(bencher: divan::Bencher) {
    let (snap, now) = SCALE_1000.clone();
    let mut s = state(120, 40, snap, now);
    update(&mut s, Msg::Key(Key::char('/')));
    bencher.bench_local(|| {
        update(&mut s, Msg::Key(Key::char('e')));
        update(&mut s, Msg::Key(Key::plain(KeyCode::Backspace)))
    });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn open_50mb_log_first_screen() -> (AppState, Buffer) {
    open_log(LOG_50MB.clone())
}

#[divan::bench]
fn frame_120x40_50mb_log_scrolling(bencher: divan::Bencher) {
    let (mut s, _) = open_log(LOG_50MB.clone());
    for _ in 0..5 {
        update(&mut s, Msg::Key(Key::plain(KeyCode::PageUp)));
    }
    let theme = Theme::new(true, false);
    bencher.bench_local(|| {
        update(&mut s, Msg::Key(Key::char('k')));
        let mut buf = Buffer::empty(Rect::new(0, 0, 120, 40));
        draw(&s, &theme, &mut buf);
        buf
    });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn search_50mb_log_no_match(bencher: divan::Bencher) {
    let (mut s, _) = open_log(LOG_50MB.clone());
    for c in "/no such text anywhere".chars() {
        update(&mut s, Msg::Key(Key::char(c)));
    }
    update(&mut s, Msg::Key(Key::plain(KeyCode::Enter)));
    bencher.bench_local(|| update(&mut s, Msg::Key(Key::char('n'))));
}
