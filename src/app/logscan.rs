//! Log search and "first error" as scans that can run off the UI task: on a 50 MB log either
//! takes a second or more, and every pane would freeze meanwhile. A small log is scanned inline
//! (a few milliseconds); a big one goes to the runtime as `Effect::LogScan`, which reports
//! progress and the result as `Msg::LogScan` and stops when cancelled (`Esc`).

use std::sync::Arc;

use crate::diagnose::log::LogIndex;

use super::logview::is_error_line;
use super::msg::Shared;

/// Logs with more lines than this are scanned off the UI task. Searching 20,000 lines takes a
/// few milliseconds, well inside a frame.
pub const INLINE_SCAN_LINES: usize = 20_000;

/// Lines between two progress checks (the cancel flag is read, progress maybe sent).
pub const SCAN_CHUNK: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanKind {
    /// The next (or previous) line containing `query` after `start`, wrapping around;
    /// case-insensitive unless the query has an upper-case letter.
    Find {
        query: String,
        start: usize,
        forward: bool,
    },
    /// The diagnoser's first cause line, else the first line that looks like an error.
    FirstError,
}

/// One scan of one log: what `Effect::LogScan` carries.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRequest {
    pub job_id: u64,
    pub seq: u64,
    pub index: Shared<LogIndex>,
    /// Lines of multi-line secrets: never matched.
    pub secret: Vec<(usize, usize)>,
    pub kind: ScanKind,
}

/// What a scan running off the UI task reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanMsg {
    Progress {
        job_id: u64,
        seq: u64,
        done: usize,
        total: usize,
    },
    Done {
        job_id: u64,
        seq: u64,
        line: Option<usize>,
    },
}

/// The scan a log view waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingScan {
    pub seq: u64,
    pub kind: ScanKind,
}

impl PendingScan {
    /// The status line while it runs.
    pub fn progress_text(&self, done: usize, total: usize) -> String {
        let pct = (done.saturating_mul(100) / total.max(1)).min(100);
        match &self.kind {
            ScanKind::Find { query, .. } => format!("searching \"{query}\": {pct}% (Esc cancels)"),
            ScanKind::FirstError => "looking for the first error… (Esc cancels)".into(),
        }
    }
}

/// Runs a scan. `tick(done)` is called every [`SCAN_CHUNK`] lines with the lines scanned so
/// far; returning `false` stops the scan, which then returns `None`. `Some(line)` is the
/// result: the line found, or `None` for no match.
pub fn run(
    index: &Arc<LogIndex>,
    secret: &[(usize, usize)],
    kind: &ScanKind,
    tick: &mut dyn FnMut(usize) -> bool,
) -> Option<Option<usize>> {
    match kind {
        ScanKind::Find {
            query,
            start,
            forward,
        } => find(index, secret, query, *start, *forward, tick),
        ScanKind::FirstError => first_error(index, tick),
    }
}

fn find(
    index: &LogIndex,
    secret: &[(usize, usize)],
    q: &str,
    start: usize,
    forward: bool,
    tick: &mut dyn FnMut(usize) -> bool,
) -> Option<Option<usize>> {
    let n = index.line_count();
    if n == 0 || q.is_empty() {
        return Some(None);
    }
    let smart = q.chars().any(|c| c.is_uppercase());
    let ql = q.to_lowercase();
    let matches = |l: &str| {
        if smart {
            l.contains(q)
        } else {
            l.to_lowercase().contains(&ql)
        }
    };
    // What is not on screen cannot be found: a hit is confirmed on the redacted text, so a
    // search cannot test guesses of a hidden secret.
    let hit = |i: usize| {
        if crate::redact::in_ranges(secret, i) {
            return false;
        }
        let l = index.plain_cow(i);
        matches(&l) && matches(&crate::redact::redact(&l))
    };
    for k in 1..=n {
        if k % SCAN_CHUNK == 0 && !tick(k) {
            return None;
        }
        let i = if forward {
            (start + k) % n
        } else {
            (start + n - k % n) % n
        };
        if hit(i) {
            return Some(Some(i));
        }
    }
    Some(None)
}

fn first_error(
    index: &Arc<LogIndex>,
    tick: &mut dyn FnMut(usize) -> bool,
) -> Option<Option<usize>> {
    // The diagnoser's extraction knows causes per toolchain (and skips runner trailers); the
    // plain pattern is the fallback for logs none of its rules recognise.
    let ex = crate::diagnose::extract::extract(index);
    if !tick(0) {
        return None;
    }
    let cause = ex
        .hits
        .iter()
        .filter(|h| {
            h.weight > 0
                && matches!(
                    h.role,
                    crate::diagnose::extract::Role::Cause | crate::diagnose::extract::Role::Test
                )
        })
        .map(|h| h.line)
        .min();
    if cause.is_some() {
        return Some(cause);
    }
    for i in 0..index.line_count() {
        if i % SCAN_CHUNK == SCAN_CHUNK - 1 && !tick(i) {
            return None;
        }
        if is_error_line(&index.plain_cow(i)) {
            return Some(Some(i));
        }
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(lines: usize, needle_at: Option<usize>) -> Arc<LogIndex> {
        let mut s = String::new();
        for i in 0..lines {
            if Some(i) == needle_at {
                s.push_str("the Needle is here\n");
            } else {
                s.push_str("compiling crate number something\n");
            }
        }
        Arc::new(LogIndex::parse(Arc::new(s.into_bytes())))
    }

    fn find_kind(q: &str, start: usize, forward: bool) -> ScanKind {
        ScanKind::Find {
            query: q.into(),
            start,
            forward,
        }
    }

    #[test]
    fn finds_wrapping_both_ways_and_reports_progress() {
        let ix = log(10_000, Some(100));
        let mut ticks = Vec::new();
        let mut tick = |d: usize| {
            ticks.push(d);
            true
        };
        assert_eq!(
            run(&ix, &[], &find_kind("needle", 5000, true), &mut tick),
            Some(Some(100))
        );
        assert_eq!(
            ticks,
            [4096],
            "progress every chunk until the wrap-around hit"
        );
        let mut ok = |_: usize| true;
        assert_eq!(
            run(&ix, &[], &find_kind("needle", 50, false), &mut ok),
            Some(Some(100))
        );
        // Smart case: an upper-case letter makes the search exact.
        assert_eq!(
            run(&ix, &[], &find_kind("NEEDLE", 0, true), &mut ok),
            Some(None)
        );
        assert_eq!(
            run(&ix, &[], &find_kind("Needle", 0, true), &mut ok),
            Some(Some(100))
        );
        // A hidden secret block is never matched.
        assert_eq!(
            run(&ix, &[(90, 110)], &find_kind("needle", 0, true), &mut ok),
            Some(None)
        );
    }

    #[test]
    fn a_cancelled_scan_stops_at_the_next_chunk() {
        let ix = log(50_000, None);
        let mut seen = 0;
        let mut stop = |d: usize| {
            seen = d;
            false
        };
        assert_eq!(
            run(&ix, &[], &find_kind("absent", 0, true), &mut stop),
            None
        );
        assert_eq!(seen, SCAN_CHUNK);
        let mut stop = |_: usize| false;
        assert_eq!(run(&ix, &[], &ScanKind::FirstError, &mut stop), None);
    }

    #[test]
    fn first_error_falls_back_to_the_error_pattern() {
        let mut s = "step 1\n".repeat(5000);
        s.push_str("Error: something broke\n");
        let ix = Arc::new(LogIndex::parse(Arc::new(s.into_bytes())));
        let mut ok = |_: usize| true;
        assert_eq!(
            run(&ix, &[], &ScanKind::FirstError, &mut ok),
            Some(Some(5000))
        );
        assert_eq!(
            PendingScan {
                seq: 1,
                kind: find_kind("x", 0, true)
            }
            .progress_text(25, 100),
            "searching \"x\": 25% (Esc cancels)"
        );
    }
}
