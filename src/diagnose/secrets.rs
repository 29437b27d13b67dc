//! Secrets a job printed into its log. The redactor keeps them off the screen and out of every
//! prompt, but they are in GitLab's copy of the trace, readable by anyone who can read the job:
//! the operator must learn which kinds were printed, where, and that they must be rotated.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::log::LogIndex;

/// At most this many line numbers are kept per kind (the count is kept whole).
const MAX_LINES_PER_KIND: usize = 10;

/// One kind of secret and where it was printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFinding {
    /// The redactor's kind (`gitlab-token`, `private-key`, `aws-access-key`), or `credential`
    /// when only the key it was assigned to said it was a secret.
    pub kind: String,
    /// 1-based line numbers, the first `MAX_LINES_PER_KIND`.
    pub lines: Vec<usize>,
    /// Lines with this kind, all of them.
    pub count: usize,
}

/// Every line the redactor changes, grouped by kind, in the order the kinds first appear.
/// Cost: one redaction pass per line (the same rules the viewer and the prompts use).
pub fn scan(log: &LogIndex) -> Vec<SecretFinding> {
    let finder = memchr::memmem::Finder::new(b"PRIVATE KEY");
    let blocks = crate::redact::secret_block_ranges(
        log.line_count(),
        |i| finder.find(log.raw(i)).is_some(),
        |i| log.plain_cow(i),
    );
    let n = log.line_count();
    let by_kind = if n < PARALLEL_LINES {
        scan_lines(log, &blocks, 0..n)
    } else {
        // Two halves on two threads: on a big trace the scan is the longest of the diagnosis's
        // threads, and it ran alone for its last second while the extraction had finished.
        let mid = n / 2;
        let (first, second) = std::thread::scope(|s| {
            let second = s.spawn(|| scan_lines(log, &blocks, mid..n));
            let first = scan_lines(log, &blocks, 0..mid);
            (first, second.join())
        });
        // A half that panicked is scanned again here rather than reported as "no secrets".
        let second = second.unwrap_or_else(|_| scan_lines(log, &blocks, mid..n));
        merge(first, second)
    };
    let mut out: Vec<(usize, SecretFinding)> = by_kind.into_values().collect();
    out.sort_by_key(|(first, _)| *first);
    out.into_iter().map(|(_, f)| f).collect()
}

/// Lines from which the scan runs in two halves (about 10 MB of typical trace).
const PARALLEL_LINES: usize = 100_000;

type ByKind = BTreeMap<String, (usize, SecretFinding)>;

fn scan_lines(log: &LogIndex, blocks: &[(usize, usize)], lines: std::ops::Range<usize>) -> ByKind {
    let mut by_kind = ByKind::new();
    // Its lazy DFA cache goes when the scan ends (a TUI diagnoses a log now and then); each
    // half of a big scan has its own.
    let mut screen = crate::redact::Screen::new();
    for i in lines {
        let plain = log.plain_cow(i);
        if crate::redact::in_ranges(blocks, i) {
            // A key's body lines match no single-line rule; its BEGIN line names it once.
            if crate::redact::opens_private_key(&plain) {
                record(&mut by_kind, "private-key", i + 1);
            }
            continue;
        }
        // Nearly every line matches no rule: the one-pass screen saves the per-rule searches
        // (most of the scan's time on a big trace).
        if let Cow::Owned(red) = screen.redact(&plain) {
            for kind in kinds(&red, &plain) {
                record(&mut by_kind, &kind, i + 1);
            }
        }
    }
    by_kind
}

/// The findings of two consecutive runs of lines, as one run over both would have recorded
/// them: the first run's lines come first, counts add up, at most `MAX_LINES_PER_KIND` kept.
fn merge(mut first: ByKind, second: ByKind) -> ByKind {
    for (kind, (line, f)) in second {
        match first.get_mut(&kind) {
            Some((_, mine)) => {
                mine.count += f.count;
                let room = MAX_LINES_PER_KIND.saturating_sub(mine.lines.len());
                mine.lines.extend(f.lines.into_iter().take(room));
            }
            None => {
                first.insert(kind, (line, f));
            }
        }
    }
    first
}

fn record(by_kind: &mut ByKind, kind: &str, line: usize) {
    let (_, f) = by_kind.entry(kind.to_string()).or_insert_with(|| {
        (
            line,
            SecretFinding {
                kind: kind.to_string(),
                lines: Vec::new(),
                count: 0,
            },
        )
    });
    // One line with two tokens of a kind counts once.
    if f.lines.last() == Some(&line) {
        return;
    }
    f.count += 1;
    if f.lines.len() < MAX_LINES_PER_KIND {
        f.lines.push(line);
    }
}

/// The kinds of the markers the redactor put into `red` that were not already in `orig`.
fn kinds(red: &str, orig: &str) -> Vec<String> {
    let count = |s: &str, m: &str| s.matches(m).count();
    let mut out = Vec::new();
    for (i, _) in red.match_indices("[REDACTED") {
        let rest = &red[i + "[REDACTED".len()..];
        let kind = match rest.strip_prefix(':') {
            Some(k) => k.split(']').next().unwrap_or("credential"),
            None => "credential",
        };
        if !out.iter().any(|k: &String| k == kind) {
            out.push(kind.to_string());
        }
    }
    // A log that quotes a marker itself (`[REDACTED]` in a test fixture) is not a leak.
    if count(red, "[REDACTED") <= count(orig, "[REDACTED") {
        return Vec::new();
    }
    out
}

/// "gitlab-token (line 12), credential (lines 40, 41 and 3 more)".
pub fn describe(findings: &[SecretFinding]) -> String {
    findings
        .iter()
        .map(|f| {
            let mut lines: Vec<String> = f.lines.iter().map(|l| l.to_string()).collect();
            let more = f.count.saturating_sub(f.lines.len());
            if more > 0 {
                lines.push(format!("{more} more"));
            }
            let word = if f.count == 1 { "line" } else { "lines" };
            format!("{} ({word} {})", f.kind, lines.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn scan_text(t: &str) -> Vec<SecretFinding> {
        scan(&LogIndex::parse(Arc::new(t.as_bytes().to_vec())))
    }

    #[test]
    fn printed_secrets_are_found_by_kind_and_line() {
        let log = "$ echo start\n\
                   export TOKEN=glpat-abcdefghij0123456789\n\
                   curl -H 'PRIVATE-TOKEN: glpat-zyxwvutsrq9876543210' https://x\n\
                   password=Sup3rS3cretValue!\n\
                   -----BEGIN RSA PRIVATE KEY-----\n\
                   MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n\
                   -----END RSA PRIVATE KEY-----\n\
                   done [MASKED]\n";
        let f = scan_text(log);
        let kinds: Vec<&str> = f.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(
            kinds,
            vec!["gitlab-token", "credential", "private-key"],
            "{f:?}"
        );
        assert_eq!(f[0].lines, vec![2, 3]);
        assert_eq!(f[1].lines, vec![4]);
        assert_eq!(f[2].lines, vec![5]);
        assert_eq!(
            describe(&f),
            "gitlab-token (lines 2, 3), credential (line 4), private-key (line 5)"
        );
    }

    #[test]
    fn a_clean_log_and_a_quoted_marker_find_nothing() {
        assert!(
            scan_text("$ make test\nok [MASKED]\nsha 0123456789abcdef0123456789abcdef01234567\n")
                .is_empty()
        );
        assert!(scan_text("expected output: [REDACTED] and [REDACTED:jwt]\n").is_empty());
    }

    #[test]
    fn many_lines_keep_the_count_and_the_first_lines() {
        let log: String = (0..25)
            .map(|i| format!("key{i}: AKIAIOSFODNN7EXAMPL{}\n", i % 10))
            .collect();
        let f = scan_text(&log);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].count, 25);
        assert_eq!(f[0].lines.len(), MAX_LINES_PER_KIND);
        assert!(describe(&f).ends_with(", 15 more)"), "{}", describe(&f));
    }

    /// The two-halves scan of a big log records what one pass records: kinds in the order they
    /// first appear, counts, and the first lines of a kind spread over both halves.
    #[test]
    fn halves_record_what_one_pass_records() {
        let mut log = String::new();
        // The scan splits at the middle line: one kind's lines straddle it.
        let mid = (PARALLEL_LINES + 40) / 2;
        for i in 0..PARALLEL_LINES + 40 {
            match i {
                5 | 7 => log.push_str("export TOKEN=glpat-abcdefghij0123456789\n"),
                i if i + 8 > mid && i < mid + 8 => {
                    log.push_str(&format!("key{i}: AKIAIOSFODNN7EXAMPL{}\n", i % 10))
                }
                i if i == PARALLEL_LINES + 3 => log.push_str("password=Sup3rS3cretValue!\n"),
                _ => log.push_str("   Compiling serde v1.0.200\n"),
            }
        }
        let ix = LogIndex::parse(Arc::new(log.into_bytes()));
        let halves = scan(&ix);
        let mut one: Vec<(usize, SecretFinding)> = scan_lines(&ix, &[], 0..ix.line_count())
            .into_values()
            .collect();
        one.sort_by_key(|(first, _)| *first);
        let one: Vec<SecretFinding> = one.into_iter().map(|(_, f)| f).collect();
        assert_eq!(halves, one);
        let kinds: Vec<&str> = halves.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(kinds, ["gitlab-token", "aws-access-key", "credential"]);
        assert_eq!(halves[1].count, 15);
        assert_eq!(halves[1].lines.len(), MAX_LINES_PER_KIND);
    }
}
