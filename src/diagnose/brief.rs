//! A diagnosis in a few words, for list rows ("test: refunds::idempotent_retry",
//! "infra: runner_system_failure", "compile: E0308 mismatched types in ledger.rs"), and the
//! signature that groups failures with the same cause across jobs and pipelines (same test,
//! same error line modulo numbers, ids and paths, same runner failure).

use super::model::{Category, Diagnosis};
use crate::gitlab::models::FailureReason;

/// The longest brief; list columns cut it further.
const MAX: usize = 60;

/// What the category is called in a brief.
fn prefix(c: Category) -> &'static str {
    match c {
        Category::TestAssertion => "test",
        Category::CompileError => "compile",
        Category::TypeError => "types",
        Category::LintFailure => "lint",
        Category::FormattingFailure => "format",
        Category::DependencyInstall => "deps",
        Category::DockerBuild => "docker",
        Category::GithubActionsConfig => "ci config",
        Category::PermissionOrSecret => "auth",
        Category::NetworkOrFlaky => "network",
        Category::TimeoutOrOom => "timeout/oom",
        Category::Infrastructure => "infra",
        Category::Unknown => "unknown",
        Category::Other => "error",
    }
}

/// The tool's message the rules engine led its summary with (`… failed (label) — what`).
fn headline(d: &Diagnosis) -> Option<&str> {
    let marker = format!("({}) — ", d.category.label());
    let (_, what) = d.summary.split_once(&marker)?;
    Some(what.trim()).filter(|w| !w.is_empty())
}

/// A test id without the path that every test of its module shares: the last two segments
/// (`billing::invoice::tests::rounds` → `tests::rounds`) when short, else the last one.
fn short_test(t: &str) -> String {
    let t = t.trim();
    for sep in ["::", " › ", " > ", "/", "."] {
        if t.contains(sep) {
            let parts: Vec<&str> = t.split(sep).filter(|p| !p.trim().is_empty()).collect();
            let n = parts.len();
            if n >= 2 {
                let two = format!("{}{sep}{}", parts[n - 2].trim(), parts[n - 1].trim());
                if two.chars().count() <= 40 {
                    return two;
                }
                return parts[n - 1].trim().to_string();
            }
        }
    }
    t.to_string()
}

/// A message without its tool's generic lead-in (`error:`, `npm ERR!`, `fatal:`); rustc's
/// `error[E0308]: x` becomes `E0308 x`.
fn strip_lead(s: &str) -> String {
    let s = s.trim().trim_matches('`').trim();
    if let Some(rest) = s.strip_prefix("error[")
        && let Some((code, msg)) = rest.split_once("]:")
    {
        return format!("{code} {}", msg.trim());
    }
    let mut s = s;
    for lead in [
        "= note: ",
        "= help: ",
        "note: ",
        "npm ERR! ",
        "npm error ",
        "ERROR: ",
        "Error: ",
        "error: ",
        "fatal: ",
        "FATAL: ",
        "E: ",
    ] {
        if let Some(rest) = s.strip_prefix(lead) {
            s = rest.trim_start();
        }
    }
    s.to_string()
}

fn cut(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        return s;
    }
    // ASCII, so `--ascii` screens stay ASCII (columns cut again with their own marker).
    let mut out: String = s.chars().take(max.saturating_sub(3)).collect();
    out.push_str("...");
    out
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// The cause in a few words. `reason` is the job's `failure_reason` from GitLab: a runner or
/// timeout failure says more than any log line.
pub fn brief(d: &Diagnosis, reason: Option<&FailureReason>) -> String {
    if let Some(r) = reason {
        if *r == FailureReason::JobExecutionTimeout || *r == FailureReason::StuckOrTimeoutFailure {
            return format!("timeout: {}", r.as_str());
        }
        if r.is_infrastructure() {
            return format!("infra: {}", r.as_str());
        }
    }
    let p = prefix(d.category);
    if let Some(first) = d.tests.first() {
        let more = match d.tests.len() {
            1 => String::new(),
            n => format!(" +{}", n - 1),
        };
        return cut(&format!("{p}: {}{more}", short_test(first)), MAX);
    }
    let what = match (d.category, headline(d)) {
        (Category::Unknown, _) | (_, None) => return p.to_string(),
        (_, Some(h)) => strip_lead(h),
    };
    let file = match d.category {
        Category::CompileError | Category::TypeError | Category::LintFailure => d
            .files
            .first()
            .map(|f| basename(f))
            .filter(|f| !what.contains(*f)),
        _ => None,
    };
    let body = match file {
        // The message gives way to the file, which says where to look.
        Some(f) => format!(
            "{} in {f}",
            cut(&what, MAX.saturating_sub(p.len() + 2 + f.len() + 4))
        ),
        None => what,
    };
    cut(&format!("{p}: {body}"), MAX)
}

/// Digits, hex ids and paths replaced so the same failure on two jobs has one signature.
fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        let word = if word.contains('/') {
            basename(word.trim_end_matches([':', ',', ')']))
        } else {
            word
        };
        let core = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let hexish = core.len() >= 7 && core.chars().all(|c| c.is_ascii_hexdigit());
        if hexish {
            out.push_str("<id>");
            continue;
        }
        let mut last_digit = false;
        for c in word.chars() {
            if c.is_ascii_digit() {
                if !last_digit {
                    out.push('#');
                }
                last_digit = true;
            } else {
                out.push(c);
                last_digit = false;
            }
        }
    }
    out
}

/// The grouping key of a failure: the runner failure, else the category and the first failing
/// test, else the category and the leading message with numbers, ids and paths normalised.
pub fn signature(d: &Diagnosis, reason: Option<&FailureReason>) -> String {
    if let Some(r) = reason
        && (r.is_infrastructure() || *r == FailureReason::JobExecutionTimeout)
    {
        return format!("reason:{}", r.as_str());
    }
    let c = d.category.as_str();
    if let Some(t) = d.tests.first() {
        return format!("{c}:test:{}", t.trim());
    }
    match headline(d) {
        Some(h) => format!("{c}:{}", normalize(&strip_lead(h))),
        None => c.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(category: Category, summary: &str, tests: &[&str], files: &[&str]) -> Diagnosis {
        Diagnosis {
            category,
            summary: summary.into(),
            root_cause: String::new(),
            evidence: Vec::new(),
            files: files.iter().map(|s| s.to_string()).collect(),
            tests: tests.iter().map(|s| s.to_string()).collect(),
            fix: String::new(),
            confidence: 0.7,
            infra_or_flaky: category.is_infra_or_flaky(),
            commands: Vec::new(),
            secrets: Vec::new(),
        }
    }

    #[test]
    fn tests_are_named_by_their_last_segments() {
        let d = diag(
            Category::TestAssertion,
            "Job `test:unit` failed (test failure) — 1 failing test: `x`",
            &["billing::invoice::tests::zero_decimal"],
            &[],
        );
        assert_eq!(brief(&d, None), "test: tests::zero_decimal");
        let d = diag(
            Category::TestAssertion,
            "",
            &[
                "CheckoutButton › shows a spinner while the payment is pending",
                "b",
            ],
            &[],
        );
        assert_eq!(
            brief(&d, None),
            "test: shows a spinner while the payment is pending +1"
        );
    }

    #[test]
    fn runner_failures_and_timeouts_come_from_gitlab() {
        let d = diag(Category::Unknown, "", &[], &[]);
        assert_eq!(
            brief(&d, Some(&FailureReason::RunnerSystemFailure)),
            "infra: runner_system_failure"
        );
        assert_eq!(
            brief(&d, Some(&FailureReason::JobExecutionTimeout)),
            "timeout: job_execution_timeout"
        );
        assert_eq!(brief(&d, Some(&FailureReason::ScriptFailure)), "unknown");
    }

    #[test]
    fn compile_errors_name_code_and_file() {
        let d = diag(
            Category::CompileError,
            "Job `build` (repo a/b) failed (compile error) — error[E0308]: mismatched types",
            &[],
            &["src/ledger.rs"],
        );
        assert_eq!(
            brief(&d, None),
            "compile: E0308 mismatched types in ledger.rs"
        );
        let d = diag(
            Category::NetworkOrFlaky,
            "Job `test:web` failed (network or flaky) — npm ERR! code ETIMEDOUT",
            &[],
            &[],
        );
        assert_eq!(brief(&d, None), "network: code ETIMEDOUT");
    }

    #[test]
    fn a_long_message_gives_way_to_the_file() {
        let d = diag(
            Category::LintFailure,
            &format!(
                "j failed (lint/format check) — = note: `-D clippy::unwrap-used` implied by `-D warnings` {}",
                "x".repeat(80)
            ),
            &[],
            &["src/api/routes.rs"],
        );
        let b = brief(&d, None);
        assert!(b.ends_with("... in routes.rs"), "{b}");
        assert!(b.chars().count() <= MAX, "{b}");
    }

    #[test]
    fn a_brief_is_bounded() {
        let long = "x".repeat(500);
        let d = diag(
            Category::Other,
            &format!("j failed (other) — {long}"),
            &[],
            &[],
        );
        assert!(brief(&d, None).chars().count() <= MAX);
    }

    #[test]
    fn signatures_ignore_numbers_ids_and_paths() {
        let a = diag(
            Category::DependencyInstall,
            "j failed (dependency install) — error: failed to fetch /builds/acme/a/x.lock after 3 tries (id 4f9a8b7c)",
            &[],
            &[],
        );
        let b = diag(
            Category::DependencyInstall,
            "k failed (dependency install) — error: failed to fetch /tmp/b/x.lock after 5 tries (id 0a1b2c3d)",
            &[],
            &[],
        );
        assert_eq!(signature(&a, None), signature(&b, None));
        let t1 = diag(Category::TestAssertion, "", &["refunds::idempotent"], &[]);
        let t2 = diag(Category::TestAssertion, "", &["refunds::other"], &[]);
        assert_ne!(signature(&t1, None), signature(&t2, None));
        assert_eq!(
            signature(&t1, Some(&FailureReason::RunnerSystemFailure)),
            "reason:runner_system_failure"
        );
    }
}
