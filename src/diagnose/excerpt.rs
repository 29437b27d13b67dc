//! Log excerpts for a model: the error lines with their context plus the tail, within a token
//! budget (about 4 characters per token, like LogDx and GitLab estimate).
//!
//! A focused excerpt beats the whole log (LogDx: grep+tail at ~20k tokens scored best, the raw
//! log worst). Every line keeps its 1-based number so a model can cite it, gaps are marked, and
//! each line is redacted before it enters the excerpt.

use std::collections::BTreeMap;

use super::extract::{self, Extraction, Role};
use super::log::LogIndex;
use crate::redact::redact;

/// Characters per token for budgeting (an estimate, not a tokenizer).
pub const CHARS_PER_TOKEN: usize = 4;
/// Lines of context kept before / after each error line (LogDx's grep settings).
const BEFORE: usize = 3;
const AFTER: usize = 8;
/// At most this many trailing lines are reserved for the tail first.
const TAIL_LINES: usize = 200;
/// Share of the budget the reserved tail may take.
const TAIL_SHARE: f64 = 0.35;
/// Longer lines are cut (with a marker) so one minified line cannot eat the budget.
const LINE_MAX: usize = 400;

#[derive(Debug, Clone, PartialEq)]
pub struct Excerpt {
    /// `"<n>| <text>"` lines in log order, with `... [N lines omitted] ...` between gaps.
    pub text: String,
    /// Included 1-based inclusive line ranges.
    pub ranges: Vec<(usize, usize)>,
    pub total_lines: usize,
    pub omitted_lines: usize,
    /// `text.len() / 4`, rounded up.
    pub approx_tokens: usize,
}

/// Builds an excerpt of at most `budget_tokens` tokens (estimated).
pub fn build(log: &LogIndex, ex: &Extraction, budget_tokens: usize) -> Excerpt {
    let limit = budget_tokens.saturating_mul(CHARS_PER_TOKEN);
    // Gap markers are not known until the lines are chosen: shrink and retry on overshoot.
    let mut budget = limit;
    loop {
        let e = build_chars(log, ex, budget);
        if e.text.len() <= limit || budget == 0 {
            return e;
        }
        budget = budget.saturating_sub(e.text.len() - limit + 64);
    }
}

fn build_chars(log: &LogIndex, ex: &Extraction, budget: usize) -> Excerpt {
    let n = log.line_count();
    // A private key's body lines match no single-line rule: whole blocks are found first.
    let finder = memchr::memmem::Finder::new(b"PRIVATE KEY");
    let secret = crate::redact::secret_block_ranges(
        n,
        |i| finder.find(log.raw(i)).is_some(),
        |i| log.plain_cow(i),
    );
    let mut chosen: BTreeMap<usize, String> = BTreeMap::new();
    let mut used = 0usize;
    let try_add = |i: usize, chosen: &mut BTreeMap<usize, String>, used: &mut usize| {
        if chosen.contains_key(&i) {
            return true;
        }
        let line = if crate::redact::in_ranges(&secret, i) {
            format!("{}| [REDACTED:private-key]", i + 1)
        } else {
            render_line(log, i)
        };
        let cost = line.len() + 1;
        if *used + cost > budget {
            return false;
        }
        *used += cost;
        chosen.insert(i, line);
        true
    };

    // 1. The reserved tail: where the job ended is where most failures show.
    let tail_budget = (budget as f64 * TAIL_SHARE) as usize;
    for i in (n.saturating_sub(TAIL_LINES)..n).rev() {
        if used >= tail_budget || !try_add(i, &mut chosen, &mut used) {
            break;
        }
    }
    // 2. Error windows, strongest first; on equal weight the later one (nearer the failure).
    let mut windows: Vec<(u8, usize)> = ex
        .hits
        .iter()
        .filter_map(|h| {
            let priority = match h.role {
                Role::Exit | Role::Test | Role::Summary => h.weight.max(5),
                Role::Cause | Role::Detail if h.weight >= 2 => h.weight,
                _ => return None,
            };
            Some((priority, h.line))
        })
        .collect();
    windows.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    windows.dedup_by_key(|w| w.1);
    'windows: for (_, line) in windows {
        let from = line.saturating_sub(BEFORE);
        let to = (line + AFTER).min(n.saturating_sub(1));
        // The error line itself first, then its context outwards.
        let mut order = vec![line];
        order.extend((from..line).rev());
        order.extend(line + 1..=to);
        for i in order {
            if !try_add(i, &mut chosen, &mut used) {
                break 'windows;
            }
        }
    }
    // 3. Whatever budget is left extends the tail backwards.
    for i in (0..n).rev() {
        if !try_add(i, &mut chosen, &mut used) {
            break;
        }
    }
    assemble(chosen, n)
}

fn render_line(log: &LogIndex, i: usize) -> String {
    let plain = log.plain_cow(i);
    let body = extract::strip_ci_timestamp(&plain);
    let redacted = redact(body);
    let text: &str = &redacted;
    let shown = if text.len() > LINE_MAX {
        let mut end = LINE_MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{} ...[+{} chars]", &text[..end], text.len() - end)
    } else {
        text.to_string()
    };
    format!("{}| {}", i + 1, shown)
}

fn assemble(chosen: BTreeMap<usize, String>, total: usize) -> Excerpt {
    let mut text = String::new();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut next = 0usize;
    for (i, line) in &chosen {
        if *i > next {
            text.push_str(&format!("... [{} lines omitted] ...\n", i - next));
        }
        text.push_str(line);
        text.push('\n');
        match ranges.last_mut() {
            Some(r) if r.1 == *i => r.1 = i + 1,
            _ => ranges.push((i + 1, i + 1)),
        }
        next = i + 1;
    }
    if next < total {
        text.push_str(&format!("... [{} lines omitted] ...\n", total - next));
    }
    let included: usize = ranges.iter().map(|r| r.1 - r.0 + 1).sum();
    Excerpt {
        approx_tokens: text.len().div_ceil(CHARS_PER_TOKEN),
        text,
        ranges,
        total_lines: total,
        omitted_lines: total - included,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::extract::extract;
    use std::sync::Arc;

    fn log_of(lines: &[String]) -> LogIndex {
        LogIndex::parse(Arc::new(lines.join("\n").into_bytes()))
    }

    #[test]
    fn keeps_error_window_and_tail_within_budget() {
        let mut lines: Vec<String> = (0..5000).map(|i| format!("noise line {i}")).collect();
        lines[1000] = "error[E0308]: mismatched types".into();
        lines[1001] = " --> src/lib.rs:3:5".into();
        let log = log_of(&lines);
        let ex = extract(&log);
        let e = build(&log, &ex, 2000);
        assert!(e.approx_tokens <= 2000, "{}", e.approx_tokens);
        assert!(e.text.contains("1001| error[E0308]: mismatched types"));
        assert!(e.text.contains("1002|  --> src/lib.rs:3:5"));
        assert!(e.text.contains("5000| noise line 4999"));
        assert!(e.text.contains("lines omitted"));
        assert!(e.ranges.contains(&(998, 1009)), "{:?}", &e.ranges[..2]);
        assert_eq!(
            e.omitted_lines + e.ranges.iter().map(|r| r.1 - r.0 + 1).sum::<usize>(),
            5000
        );
    }

    #[test]
    fn small_log_is_whole() {
        let lines: Vec<String> = (0..10).map(|i| format!("l{i}")).collect();
        let log = log_of(&lines);
        let e = build(&log, &extract(&log), 10_000);
        assert_eq!(e.ranges, vec![(1, 10)]);
        assert_eq!(e.omitted_lines, 0);
        assert!(!e.text.contains("omitted"));
    }

    #[test]
    fn a_private_key_body_never_enters_the_excerpt() {
        let text = "$ cat key\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIB\n-----END OPENSSH PRIVATE KEY-----\nerror: permission denied (publickey)\n";
        let log = LogIndex::parse(std::sync::Arc::new(text.as_bytes().to_vec()));
        let ex = crate::diagnose::extract::extract(&log);
        let e = build(&log, &ex, 4000);
        assert!(
            !e.text.contains("b3BlbnNzaC1") && !e.text.contains("AAAAAAAAAAEAAAAz"),
            "{}",
            e.text
        );
        assert!(e.text.contains("permission denied"), "{}", e.text);
    }

    #[test]
    fn secrets_are_redacted_and_long_lines_cut() {
        let lines = vec![
            "export GITLAB_TOKEN=glpat-abcdefghijklmnopqrstuvwx".to_string(),
            "x".repeat(5000),
        ];
        let log = log_of(&lines);
        let e = build(&log, &extract(&log), 10_000);
        assert!(
            !e.text.contains("glpat-abcdefghijklmnopqrstuvwx"),
            "{}",
            e.text
        );
        assert!(e.text.contains("...[+4600 chars]"));
    }

    #[test]
    fn zero_budget_gives_empty_excerpt() {
        let lines = vec!["a".to_string(), "b".to_string()];
        let log = log_of(&lines);
        let e = build(&log, &extract(&log), 0);
        assert!(e.ranges.is_empty());
        assert_eq!(e.omitted_lines, 2);
    }
}
