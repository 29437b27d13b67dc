//! The job-log viewer's state: which sections are folded, the cursor and viewport, search,
//! wrap and follow. Text comes from `diagnose::log::LogIndex`; nothing here allocates per log
//! line, so a 50 MB log costs the same as a small one until lines are on screen.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use regex::Regex;

use crate::diagnose::log::LogIndex;

use super::text;

/// One row of the viewer before wrapping: a log line, or a folded section shown as one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Line(usize),
    Folded(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SegKind {
    Lines { first: usize },
    Folded { section: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seg {
    /// Entry index of the segment's first entry.
    start: usize,
    len: usize,
    kind: SegKind,
}

#[derive(Debug, Clone)]
pub struct LogView {
    pub job_id: u64,
    pub title: String,
    pub index: Option<Arc<LogIndex>>,
    /// The job finished: no more updates will come.
    pub complete: bool,
    pub error: Option<String>,
    /// Fold state chosen by the operator, by section start line (stable while a log grows).
    overrides: HashMap<usize, bool>,
    /// Set by fold-all / unfold-all; otherwise each section's own `collapsed` option applies.
    all_folded: Option<bool>,
    segs: Vec<Seg>,
    entries: usize,
    /// Selected entry.
    pub cursor: usize,
    /// First entry on screen.
    pub top: usize,
    /// Columns scrolled to the right (when not wrapping).
    pub left: usize,
    pub wrap: bool,
    /// Stay at the end as the log grows. Scrolling up pauses it.
    pub follow: bool,
    pub search: Option<String>,
    pub notice: Option<String>,
    /// Lines inside a multi-line secret (a private key's body): never shown, never searched.
    secret: Vec<(usize, usize)>,
}

static ERROR_LINE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(^\s*(error|fatal|failed|failure|panic)\b|^\s*error(\[|:)|\berror:|\bERR!|^\s*E\s{2,}|\bpanicked at\b|^Traceback |\bexception\b|\bFAILED\b|\bcommand not found\b|exit (code|status) [1-9])",
    )
    .ok()
});

/// The line ranges of multi-line secrets (private keys) in a log. Candidate lines are found
/// with a byte search, so a log without any costs one pass of `memmem`.
pub fn secret_ranges(index: &LogIndex) -> Vec<(usize, usize)> {
    let finder = memchr::memmem::Finder::new(b"PRIVATE KEY");
    crate::redact::secret_block_ranges(
        index.line_count(),
        |i| finder.find(index.raw(i)).is_some(),
        |i| index.plain_cow(i),
    )
}

/// A line that looks like the start of a failure. Lines GitLab's runner prints after every
/// failed job ("ERROR: Job failed: exit code 1") are skipped: the cause is above them.
pub fn is_error_line(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with("ERROR: Job failed") || t.starts_with("Cleaning up") {
        return false;
    }
    ERROR_LINE.as_ref().is_some_and(|re| re.is_match(line))
}

impl LogView {
    pub fn new(job_id: u64, title: String, follow: bool) -> LogView {
        LogView {
            job_id,
            title,
            index: None,
            complete: false,
            error: None,
            overrides: HashMap::new(),
            all_folded: None,
            segs: Vec::new(),
            entries: 0,
            cursor: 0,
            top: 0,
            left: 0,
            wrap: false,
            follow,
            search: None,
            notice: None,
            secret: Vec::new(),
        }
    }

    pub fn entry_count(&self) -> usize {
        self.entries
    }

    /// Installs a (re)parsed log. Folds and position are kept; when following, the view moves
    /// to the new end.
    pub fn set_index(&mut self, index: Arc<LogIndex>, complete: bool, rows: usize, cols: usize) {
        let keep_line = self.current_line();
        let first_load = self.index.is_none();
        self.secret = secret_ranges(&index);
        self.index = Some(index);
        self.complete = complete;
        self.error = None;
        self.rebuild();
        if self.follow || first_load {
            self.to_bottom(rows, cols);
            if complete && !first_load {
                // The job ended while following: stay at the end, stop following.
                self.follow = false;
            }
        } else if let Some(line) = keep_line {
            self.cursor = self.entry_of_line(line);
            self.scroll_into_view(rows, cols);
        }
        if complete {
            self.follow = false;
        }
    }

    /// Whether `line` belongs to a multi-line secret block: a viewer shows a marker instead.
    pub fn in_secret_block(&self, line: usize) -> bool {
        crate::redact::in_ranges(&self.secret, line)
    }

    fn section_folded(&self, idx: usize) -> bool {
        let Some(s) = self.index.as_ref().and_then(|i| i.sections().get(idx)) else {
            return false;
        };
        self.overrides
            .get(&s.start_line)
            .copied()
            .unwrap_or(self.all_folded.unwrap_or(s.collapsed))
    }

    /// Recomputes the entry segments from the fold state: O(sections), not O(lines).
    fn rebuild(&mut self) {
        self.segs.clear();
        let Some(index) = self.index.clone() else {
            self.entries = 0;
            return;
        };
        let n = index.line_count();
        let mut line = 0;
        let mut entry = 0;
        for (i, s) in index.sections().iter().enumerate() {
            if s.start_line < line || s.start_line >= n || !self.section_folded(i) {
                continue;
            }
            if s.start_line > line {
                let len = s.start_line - line;
                self.segs.push(Seg {
                    start: entry,
                    len,
                    kind: SegKind::Lines { first: line },
                });
                entry += len;
            }
            self.segs.push(Seg {
                start: entry,
                len: 1,
                kind: SegKind::Folded { section: i },
            });
            entry += 1;
            line = s.end_line.map(|e| e + 1).unwrap_or(n).max(s.start_line + 1);
        }
        if line < n {
            self.segs.push(Seg {
                start: entry,
                len: n - line,
                kind: SegKind::Lines { first: line },
            });
            entry += n - line;
        }
        self.entries = entry;
        self.cursor = self.cursor.min(self.entries.saturating_sub(1));
        self.top = self.top.min(self.cursor);
    }

    pub fn entry(&self, e: usize) -> Option<Entry> {
        let pos = self.segs.partition_point(|s| s.start + s.len <= e);
        let seg = self.segs.get(pos)?;
        if e < seg.start {
            return None;
        }
        Some(match seg.kind {
            SegKind::Lines { first } => Entry::Line(first + (e - seg.start)),
            SegKind::Folded { section } => Entry::Folded(section),
        })
    }

    /// The entry showing `line`: the line itself, or the folded section hiding it.
    pub fn entry_of_line(&self, line: usize) -> usize {
        for s in &self.segs {
            match s.kind {
                SegKind::Lines { first } if line >= first && line < first + s.len => {
                    return s.start + (line - first);
                }
                SegKind::Folded { section } => {
                    if let Some(sec) = self.index.as_ref().and_then(|i| i.sections().get(section)) {
                        let end = sec.end_line.unwrap_or(usize::MAX);
                        if line >= sec.start_line && line <= end {
                            return s.start;
                        }
                    }
                }
                _ => {}
            }
        }
        self.entries.saturating_sub(1)
    }

    /// The log line at the cursor (a folded section counts as its first line).
    pub fn current_line(&self) -> Option<usize> {
        let index = self.index.as_ref()?;
        match self.entry(self.cursor)? {
            Entry::Line(l) => Some(l),
            Entry::Folded(s) => index.sections().get(s).map(|s| s.start_line),
        }
    }

    /// Screen rows an entry takes: 1, or its wrapped height.
    pub fn entry_height(&self, e: usize, cols: usize) -> usize {
        if !self.wrap || cols == 0 {
            return 1;
        }
        match (self.entry(e), &self.index) {
            (Some(Entry::Line(l)), Some(index)) => {
                let w = text::width(&index.plain_cow(l));
                w.div_ceil(cols).max(1)
            }
            _ => 1,
        }
    }

    pub fn scroll_into_view(&mut self, rows: usize, cols: usize) {
        let rows = rows.max(1);
        if self.cursor < self.top {
            self.top = self.cursor;
            return;
        }
        // Move the top down until the cursor's entry fits (bounded by the screen height).
        loop {
            let mut used = 0;
            for e in self.top..=self.cursor {
                used += self.entry_height(e, cols);
                if used > rows {
                    break;
                }
            }
            if used <= rows || self.top >= self.cursor {
                break;
            }
            self.top += 1;
        }
        // No blank screen under the last entry: after folding (`-` folds all) the entries
        // from the top may no longer reach the bottom; earlier ones fill it.
        let mut used = 0;
        for e in self.top..self.entries {
            used += self.entry_height(e, cols);
            if used >= rows {
                return;
            }
        }
        while self.top > 0 {
            let h = self.entry_height(self.top - 1, cols);
            if used + h > rows {
                break;
            }
            used += h;
            self.top -= 1;
        }
    }

    pub fn move_by(&mut self, delta: isize, rows: usize, cols: usize) {
        if self.entries == 0 {
            return;
        }
        if delta < 0 {
            self.follow = false;
        }
        let c = (self.cursor as isize + delta).clamp(0, self.entries as isize - 1);
        self.cursor = c as usize;
        self.scroll_into_view(rows, cols);
        if delta > 0 && self.cursor + 1 == self.entries && !self.complete {
            // Scrolling back down to the end resumes following a running job.
            self.follow = true;
        }
    }

    pub fn to_top(&mut self) {
        self.follow = false;
        self.cursor = 0;
        self.top = 0;
    }

    pub fn to_bottom(&mut self, rows: usize, cols: usize) {
        self.cursor = self.entries.saturating_sub(1);
        // Fill the screen from the end upwards.
        let rows = rows.max(1);
        let mut used = 0;
        let mut top = self.entries;
        while top > 0 {
            let h = self.entry_height(top - 1, cols);
            if used + h > rows {
                break;
            }
            used += h;
            top -= 1;
        }
        self.top = top.min(self.cursor);
        if !self.complete && self.index.is_some() {
            self.follow = true;
        }
    }

    pub fn toggle_follow(&mut self, rows: usize, cols: usize) {
        if self.follow {
            self.follow = false;
            self.notice = Some("follow paused".into());
        } else if self.complete {
            self.notice = Some("the job has finished: nothing to follow".into());
        } else {
            self.to_bottom(rows, cols);
            self.follow = true;
            self.notice = Some("following".into());
        }
    }

    /// Folds the innermost section at the cursor, or unfolds the folded section there.
    pub fn toggle_section(&mut self, rows: usize, cols: usize) {
        let Some(index) = self.index.clone() else {
            return;
        };
        match self.entry(self.cursor) {
            Some(Entry::Folded(s)) => {
                if let Some(sec) = index.sections().get(s) {
                    self.overrides.insert(sec.start_line, false);
                }
            }
            Some(Entry::Line(l)) => {
                let Some(sec) = index.section_at(l) else {
                    self.notice = Some("not inside a section".into());
                    return;
                };
                let start = sec.start_line;
                self.overrides.insert(start, true);
                self.rebuild();
                self.cursor = self.entry_of_line(start);
                self.scroll_into_view(rows, cols);
                return;
            }
            None => return,
        }
        self.rebuild();
        self.scroll_into_view(rows, cols);
    }

    pub fn set_all_folded(&mut self, folded: bool, rows: usize, cols: usize) {
        let line = self.current_line();
        self.overrides.clear();
        self.all_folded = Some(folded);
        self.rebuild();
        if let Some(l) = line {
            self.cursor = self.entry_of_line(l);
        }
        self.scroll_into_view(rows, cols);
    }

    /// Unfolds every folded section that hides `line`, so it can be shown.
    fn reveal(&mut self, line: usize) {
        let Some(index) = self.index.clone() else {
            return;
        };
        for (i, s) in index.sections().iter().enumerate() {
            let end = s.end_line.unwrap_or(usize::MAX);
            if s.start_line < line && line <= end && self.section_folded(i) {
                self.overrides.insert(s.start_line, false);
            }
        }
        self.rebuild();
    }

    pub fn goto_line(&mut self, line: usize, rows: usize, cols: usize) {
        self.reveal(line);
        self.follow = false;
        self.cursor = self.entry_of_line(line);
        // Put the target a few rows below the top, with context above it.
        self.top = self.cursor.saturating_sub(rows / 4);
        self.scroll_into_view(rows, cols);
    }

    /// Finds the next (or previous) line containing the search text, wrapping around.
    /// Case-insensitive unless the query has an upper-case letter.
    pub fn find(&mut self, forward: bool, rows: usize, cols: usize) {
        let (Some(q), Some(index)) = (self.search.clone(), self.index.clone()) else {
            self.notice = Some("no search: press / first".into());
            return;
        };
        let n = index.line_count();
        if n == 0 || q.is_empty() {
            return;
        }
        let smart = q.chars().any(|c| c.is_uppercase());
        let ql = q.to_lowercase();
        let matches = |l: &str| {
            if smart {
                l.contains(q.as_str())
            } else {
                l.to_lowercase().contains(&ql)
            }
        };
        // What is not on screen cannot be found: a hit is confirmed on the redacted text, so
        // a search cannot test guesses of a hidden secret.
        let hit = |i: usize| {
            if self.in_secret_block(i) {
                return false;
            }
            let l = index.plain_cow(i);
            matches(&l) && matches(&crate::redact::redact(&l))
        };
        let start = self.current_line().unwrap_or(0);
        let found = (1..=n)
            .map(|k| {
                if forward {
                    (start + k) % n
                } else {
                    (start + n - k % n) % n
                }
            })
            .find(|&i| hit(i));
        match found {
            Some(i) => {
                let wrapped = if forward { i <= start } else { i >= start };
                self.notice = Some(if wrapped {
                    format!("\"{q}\": line {} (wrapped)", i + 1)
                } else {
                    format!("\"{q}\": line {}", i + 1)
                });
                self.goto_line(i, rows, cols);
            }
            None => self.notice = Some(format!("\"{q}\" not found")),
        }
    }

    pub fn first_error(&mut self, rows: usize, cols: usize) {
        let Some(index) = self.index.clone() else {
            return;
        };
        // The diagnoser's extraction knows causes per toolchain (and skips runner trailers);
        // the plain pattern is the fallback for logs none of its rules recognise.
        let ex = crate::diagnose::extract::extract(&index);
        let cause = ex
            .hits
            .iter()
            .filter(|h| {
                h.weight > 0
                    && matches!(
                        h.role,
                        crate::diagnose::extract::Role::Cause
                            | crate::diagnose::extract::Role::Test
                    )
            })
            .map(|h| h.line)
            .min();
        let found =
            cause.or_else(|| (0..index.line_count()).find(|&i| is_error_line(&index.plain_cow(i))));
        match found {
            Some(i) => {
                self.notice = Some(format!("first error: line {}", i + 1));
                self.goto_line(i, rows, cols);
            }
            None => self.notice = Some("no error line found".into()),
        }
    }

    /// Moves to the next/previous section start.
    pub fn jump_section(&mut self, forward: bool, rows: usize, cols: usize) {
        let Some(index) = self.index.clone() else {
            return;
        };
        let cur = self.current_line().unwrap_or(0);
        let starts = index.sections().iter().map(|s| s.start_line);
        let target = if forward {
            starts.filter(|&l| l > cur).min()
        } else {
            starts.filter(|&l| l < cur).max()
        };
        match target {
            Some(l) => {
                self.follow = false;
                self.cursor = self.entry_of_line(l);
                self.scroll_into_view(rows, cols);
            }
            None => self.notice = Some("no more sections".into()),
        }
    }

    pub fn is_folded_entry(&self, e: usize) -> bool {
        matches!(self.entry(e), Some(Entry::Folded(_)))
    }

    /// Whether `line` starts a section (drawn with an unfolded marker).
    pub fn starts_section(&self, line: usize) -> Option<usize> {
        let index = self.index.as_ref()?;
        index.sections().iter().position(|s| s.start_line == line)
    }
}

/// Columns for log text: the viewer's inner width minus the line-number gutter.
pub fn text_cols(total: usize, line_count: usize) -> usize {
    total.saturating_sub(gutter_width(line_count))
}

/// Digits of the largest line number, a fold-marker column and a space.
pub fn gutter_width(line_count: usize) -> usize {
    line_count.max(1).to_string().len() + 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(text: &str) -> Arc<LogIndex> {
        Arc::new(LogIndex::parse(Arc::new(text.as_bytes().to_vec())))
    }

    /// Lines: 0 intro, 1-4 section "build" (1 header .. 4 end marker), 5-8 "test" with a
    /// collapsed-by-default inner section 6-7, 9 error, 10 tail.
    fn sample() -> Arc<LogIndex> {
        log(concat!(
            "intro\n",
            "\x1b[0Ksection_start:1000:build\r\x1b[0KBuilding\n",
            "cc main.c\n",
            "ld main\n",
            "\x1b[0Ksection_end:1030:build\r\x1b[0K\n",
            "\x1b[0Ksection_start:1030:test\r\x1b[0KTesting\n",
            "\x1b[0Ksection_start:1031:setup[collapsed=true]\r\x1b[0KSetup\n",
            "\x1b[0Ksection_end:1032:setup\r\x1b[0K\n",
            "\x1b[0Ksection_end:1090:test\r\x1b[0K\n",
            "error: test failed: assertion `left == right`\n",
            "ERROR: Job failed: exit code 1\n",
        ))
    }

    fn view() -> LogView {
        let mut v = LogView::new(7, "job".into(), false);
        v.set_index(sample(), true, 5, 80);
        v
    }

    fn entries(v: &LogView) -> Vec<Entry> {
        (0..v.entry_count()).map(|e| v.entry(e).unwrap()).collect()
    }

    #[test]
    fn a_private_key_is_hidden_whole_and_cannot_be_searched() {
        let text = concat!(
            "$ cat deploy_key\n",
            "-----BEGIN OPENSSH PRIVATE KEY-----\n",
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n",
            "AAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIB\n",
            "-----END OPENSSH PRIVATE KEY-----\n",
            "$ echo TOKEN=glpat-Q7w8E9r0T1y2U3i4O5p6\n",
            "-----BEGIN RSA PRIVATE KEY-----\n",
            "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM\n",
            "$ next\n",
        );
        let mut v = LogView::new(1, "job".into(), false);
        v.set_index(log(text), true, 5, 80);
        let hidden: Vec<usize> = (0..9).filter(|&l| v.in_secret_block(l)).collect();
        assert_eq!(hidden, vec![1, 2, 3, 4, 6, 7]);
        v.cursor = 0;
        v.search = Some("AAAAAAAAAAEAAAAz".into());
        v.find(true, 5, 80);
        assert!(
            v.notice.as_deref().unwrap_or("").contains("not found"),
            "{:?}",
            v.notice
        );
        // A single-line secret hidden on screen cannot be confirmed by searching for it either.
        v.search = Some("glpat-Q7w8".into());
        v.find(true, 5, 80);
        assert!(
            v.notice.as_deref().unwrap_or("").contains("not found"),
            "{:?}",
            v.notice
        );
        v.search = Some("next".into());
        v.find(true, 5, 80);
        assert!(
            v.notice.as_deref().unwrap_or("").contains("line 9"),
            "{:?}",
            v.notice
        );
    }

    #[test]
    fn sections_collapsed_by_option_are_folded_at_first() {
        let v = view();
        let idx = v.index.clone().unwrap();
        assert_eq!(idx.line_count(), 11);
        let setup = idx
            .sections()
            .iter()
            .position(|s| s.name == "setup")
            .unwrap();
        assert_eq!(v.entry_count(), 10);
        assert_eq!(v.entry(6), Some(Entry::Folded(setup)));
        assert_eq!(v.entry(7), Some(Entry::Line(8)));
        assert_eq!(v.cursor, 9, "opens at the end");
    }

    #[test]
    fn toggle_fold_at_cursor_and_all() {
        let mut v = view();
        v.cursor = 2; // "cc main.c" inside build
        v.toggle_section(5, 80);
        assert_eq!(v.entry(1), Some(Entry::Folded(0)));
        assert_eq!(v.cursor, 1, "cursor lands on the folded header");
        assert_eq!(v.entry_count(), 7);
        v.toggle_section(5, 80);
        assert_eq!(v.entry(1), Some(Entry::Line(1)));
        v.set_all_folded(false, 5, 80);
        assert_eq!(v.entry_count(), 11);
        v.set_all_folded(true, 5, 80);
        assert_eq!(
            entries(&v),
            vec![
                Entry::Line(0),
                Entry::Folded(0),
                Entry::Folded(1),
                Entry::Line(9),
                Entry::Line(10)
            ]
        );
        // The cursor was on line 1 (build's header); it stays on what now shows it.
        assert_eq!(v.entry(v.cursor), Some(Entry::Folded(0)));
        v.cursor = 0;
        v.toggle_section(5, 80);
        assert_eq!(v.notice.as_deref(), Some("not inside a section"));
    }

    /// Found on a first day: `G` then `-` (fold all) left a blank screen until `g`.
    #[test]
    fn folding_all_at_the_bottom_keeps_the_screen_full() {
        let mut v = view();
        v.to_bottom(5, 80);
        assert!(v.top > 0);
        v.set_all_folded(true, 5, 80);
        // 5 entries remain, 5 rows: all of them shown from the first.
        assert_eq!(v.entry_count(), 5);
        assert_eq!(v.top, 0, "the screen is filled from the first entry");
        assert!(v.cursor >= v.top && v.cursor < v.top + 5);
    }

    #[test]
    fn search_wraps_and_reveals_folded_lines() {
        let mut v = view();
        v.set_all_folded(true, 5, 80);
        v.to_top();
        v.search = Some("ld main".into());
        v.find(true, 5, 80);
        assert_eq!(v.current_line(), Some(3), "inside the folded build section");
        assert!(!v.is_folded_entry(1));
        v.find(true, 5, 80);
        assert_eq!(v.current_line(), Some(3), "only match: wraps to itself");
        assert!(v.notice.as_deref().unwrap().contains("wrapped"));
        v.search = Some("Building".into());
        v.find(false, 5, 80);
        assert_eq!(v.current_line(), Some(1));
        v.search = Some("BUILDING".into());
        v.find(true, 5, 80);
        assert_eq!(
            v.notice.as_deref(),
            Some("\"BUILDING\" not found"),
            "smart case"
        );
    }

    #[test]
    fn first_error_skips_the_runner_trailer() {
        let mut v = view();
        v.first_error(5, 80);
        assert_eq!(v.current_line(), Some(9));
        assert!(is_error_line("npm ERR! code ELIFECYCLE"));
        assert!(is_error_line("thread 'main' panicked at src/main.rs:3:5"));
        assert!(!is_error_line("Running with gitlab-runner 17.0"));
        assert!(!is_error_line("ERROR: Job failed: exit code 1"));
    }

    #[test]
    fn first_error_is_the_diagnosers_cause_not_a_word_match() {
        let text = "Installing exception handler crate\n$ cargo build\nerror[E0425]: cannot find value `x` in this scope\n --> src/main.rs:2:5\nERROR: Job failed: exit code 1\n";
        let mut v = LogView::new(1, "job".into(), false);
        v.set_index(
            Arc::new(LogIndex::parse(Arc::new(text.as_bytes().to_vec()))),
            true,
            5,
            80,
        );
        // The plain pattern would stop at line 0 ("exception").
        assert!(is_error_line("Installing exception handler crate"));
        v.first_error(5, 80);
        assert_eq!(v.current_line(), Some(2));
    }

    #[test]
    fn follow_tracks_growth_and_pauses_when_scrolled_up() {
        let mut v = LogView::new(7, "job".into(), true);
        let mut text = String::new();
        for i in 0..20 {
            text.push_str(&format!("line {i}\n"));
        }
        v.set_index(log(&text), false, 5, 80);
        assert!(v.follow);
        assert_eq!(v.current_line(), Some(19));
        assert_eq!(v.top, 15);
        text.push_str("line 20\nline 21\n");
        v.set_index(log(&text), false, 5, 80);
        assert_eq!(v.current_line(), Some(21), "followed the new end");
        v.move_by(-3, 5, 80);
        assert!(!v.follow, "scrolling up pauses");
        text.push_str("line 22\n");
        v.set_index(log(&text), false, 5, 80);
        assert_eq!(v.current_line(), Some(18), "paused: stays put");
        v.move_by(100, 5, 80);
        assert!(
            v.follow,
            "back at the end of a running job: following again"
        );
        text.push_str("line 23\n");
        v.set_index(log(&text), true, 5, 80);
        assert_eq!(v.current_line(), Some(23));
        assert!(!v.follow, "finished job: nothing more to follow");
        v.toggle_follow(5, 80);
        assert!(!v.follow);
    }

    #[test]
    fn wrap_counts_screen_rows() {
        let mut v = LogView::new(1, "job".into(), false);
        v.set_index(
            log(&format!("short\n{}\nend\n", "x".repeat(25))),
            true,
            3,
            10,
        );
        v.wrap = true;
        assert_eq!(v.entry_height(1, 10), 3);
        v.to_bottom(3, 10);
        assert_eq!(v.top, 2, "the long line does not fit with the last one");
        v.to_bottom(4, 10);
        assert_eq!(v.top, 1);
    }
}
