//! LogDx-CI deterministic diagnosis scorer (`diagnosis_score_v1_1`, "Scoring method 1" of
//! `../shared/eval/logdx/README.md`), re-implemented from that description and checked against
//! the published per-case answers in `scorer-vectors/` (all components within 1e-4).
//!
//! Public API:
//! - [`GroundTruth`]: `ground_truth.json` (serde; [`GroundTruth::from_json`] gives a readable error).
//! - [`DiagnosisRecord`]: the fields of a diagnosis the scorer reads, in LogDx's shape
//!   (`summary`, `root_cause`, `root_cause_category`, `confidence`, `relevant_files`,
//!   `relevant_tests`, `evidence[{quote, reason}]`, `suggested_fix`, `provider_error`).
//!   [`DiagnosisRecord::from_value`] reads it leniently from JSON (wrong types count as missing;
//!   `provider_error` is read at the top level or under `metadata`);
//!   [`DiagnosisRecord::failed`] is the row for a diagnosis that never came back (scores 0 but
//!   must still be averaged in).
//! - [`score_case`]`(diagnosis: &Value, truth, context) -> CaseScore` and
//!   [`score_record`]`(&DiagnosisRecord, truth, context)`. `context` is the exact text the
//!   diagnoser was shown (used only for the evidence-quote check).
//! - [`aggregate`]`(&[CaseScore]) -> Summary`: means over non-null values, rates over all cases.
//! - Baseline contexts, to rebuild what upstream showed its diagnosers and to compare against:
//!   [`tail_context`], [`grep_context`], [`hybrid_grep_tail_context`] (all on raw log bytes).
//!
//! Field names of [`CaseScore`] are those of the upstream per-case rows so the JSON compares
//! directly.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The 13 category values a diagnosis may predict.
pub const PREDICTION_CATEGORIES: [&str; 13] = [
    "test_assertion",
    "compile_error",
    "type_error",
    "lint_failure",
    "formatting_failure",
    "dependency_install",
    "docker_build",
    "github_actions_config",
    "permission_or_secret",
    "network_or_flaky",
    "timeout_or_oom",
    "unknown",
    "other",
];

/// Unordered category pairs that earn 0.5 instead of 0.
const PARTIAL_PAIRS: [(&str, &str); 10] = [
    ("lint_failure", "formatting_failure"),
    ("lint_failure", "test_assertion"),
    ("formatting_failure", "test_assertion"),
    ("test_assertion", "github_actions_config"),
    ("github_actions_config", "permission_or_secret"),
    ("compile_error", "type_error"),
    ("compile_error", "docker_build"),
    ("docker_build", "dependency_install"),
    ("dependency_install", "network_or_flaky"),
    ("network_or_flaky", "timeout_or_oom"),
];

/// Quotes shorter than this (code points, after trimming) are not checked.
const MIN_QUOTE_CHARS: usize = 8;

// ---------------------------------------------------------------------------------------------
// Ground truth

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    #[serde(default)]
    pub root_cause: RootCause,
    #[serde(default)]
    pub required_signals: Vec<RequiredSignal>,
    #[serde(default)]
    pub relevant_files: Vec<String>,
    #[serde(default)]
    pub relevant_tests: Vec<String>,
    #[serde(default)]
    pub evidence_spans: Vec<EvidenceSpan>,
    #[serde(default)]
    pub expected_diagnosis: ExpectedDiagnosis,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RootCause {
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub category: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequiredSignal {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<u64>,
    #[serde(default)]
    pub importance: String,
    #[serde(default)]
    pub evidence_lines: Vec<[u64; 2]>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceSpan {
    pub start_line: u64,
    pub end_line: u64,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExpectedDiagnosis {
    #[serde(default)]
    pub must_mention: Vec<String>,
    #[serde(default)]
    pub must_not_claim: Vec<String>,
}

impl GroundTruth {
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("ground_truth.json is not valid: {e}"))
    }

    /// The ground-truth category in the prediction vocabulary.
    pub fn category(&self) -> &str {
        match self.root_cause.category.as_str() {
            "lint_error" => "lint_failure",
            "snapshot_diff" => "test_assertion",
            "generic_error" => "other",
            other => other,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Diagnosis

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceQuote {
    pub quote: String,
    pub reason: String,
}

/// The parts of a diagnosis the scorer reads (LogDx's answer shape).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiagnosisRecord {
    pub summary: String,
    pub root_cause: String,
    pub root_cause_category: String,
    pub confidence: f64,
    pub relevant_files: Vec<String>,
    pub relevant_tests: Vec<String>,
    pub evidence: Vec<EvidenceQuote>,
    pub suggested_fix: String,
    pub provider_error: Option<String>,
}

impl DiagnosisRecord {
    /// Reads a diagnosis from JSON without failing: a missing or wrongly typed field counts as
    /// empty, so a half-broken answer is graded on what it has.
    pub fn from_value(v: &Value) -> Self {
        let s = |key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
        let list = |key: &str| -> Vec<String> {
            v.get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let evidence = v
            .get("evidence")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter(|e| e.is_object())
                    .map(|e| EvidenceQuote {
                        quote: e.get("quote").and_then(Value::as_str).unwrap_or("").into(),
                        reason: e.get("reason").and_then(Value::as_str).unwrap_or("").into(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let provider_error = [
            v.get("provider_error"),
            v.pointer("/metadata/provider_error"),
        ]
        .into_iter()
        .flatten()
        .find(|e| !e.is_null())
        .map(|e| match e {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        DiagnosisRecord {
            summary: s("summary"),
            root_cause: s("root_cause"),
            root_cause_category: s("root_cause_category"),
            confidence: v.get("confidence").and_then(Value::as_f64).unwrap_or(0.0),
            relevant_files: list("relevant_files"),
            relevant_tests: list("relevant_tests"),
            evidence,
            suggested_fix: s("suggested_fix"),
            provider_error,
        }
    }

    /// The record of a diagnosis that failed (provider or parse error, context too large): it
    /// scores 0 and still counts in every average.
    pub fn failed(error: impl Into<String>) -> Self {
        DiagnosisRecord {
            root_cause_category: "unknown".into(),
            provider_error: Some(error.into()),
            ..Default::default()
        }
    }

    /// Every text the "appears in the diagnosis" checks search, normalised.
    fn blob(&self) -> String {
        let mut parts: Vec<&str> = vec![&self.summary, &self.root_cause];
        parts.extend(self.relevant_files.iter().map(String::as_str));
        parts.extend(self.relevant_tests.iter().map(String::as_str));
        for e in &self.evidence {
            parts.push(&e.quote);
            parts.push(&e.reason);
        }
        parts.push(&self.suggested_fix);
        norm(&parts.join("\n"))
    }
}

// ---------------------------------------------------------------------------------------------
// Scores

/// A signal the diagnosis did not mention (as in upstream rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissedSignal {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: Option<String>,
    pub file: Option<String>,
    pub importance: String,
}

/// One case's grade. `None` means "not applicable" and counts as 0 in the composites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseScore {
    pub diagnosis_success: bool,
    pub provider_error: Option<String>,
    pub root_cause_category: String,
    pub confidence: f64,
    pub category_accuracy: Option<f64>,
    pub category_match_score_v1_1: Option<f64>,
    pub required_signal_mention_recall: Option<f64>,
    pub critical_signal_mention_recall: Option<f64>,
    pub relevant_file_recall: Option<f64>,
    pub relevant_test_recall: Option<f64>,
    pub must_mention_coverage: Option<f64>,
    pub forbidden_claim_violations: Vec<String>,
    pub valid_evidence_quote_rate: Option<f64>,
    pub abstained: bool,
    pub confident_error: bool,
    pub confident_error_v1_1: bool,
    pub missed_signals: Vec<MissedSignal>,
    pub diagnosis_score_v1: f64,
    pub diagnosis_score_v1_1: f64,
}

/// Means over a set of cases (one diagnoser, one context method).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub cases: usize,
    pub mean_diagnosis_score_v1_1: f64,
    pub mean_diagnosis_score_v1: f64,
    pub category_accuracy: Option<f64>,
    pub category_match_score_v1_1: Option<f64>,
    pub required_signal_mention_recall: Option<f64>,
    pub critical_signal_mention_recall: Option<f64>,
    pub relevant_file_recall: Option<f64>,
    pub relevant_test_recall: Option<f64>,
    pub must_mention_coverage: Option<f64>,
    pub valid_evidence_quote_rate: Option<f64>,
    pub diagnosis_success_rate: f64,
    pub abstention_rate: f64,
    pub confident_error_rate: f64,
    pub confident_error_v1_1_rate: f64,
    pub forbidden_claim_rate: f64,
}

/// Grades one diagnosis given as JSON in LogDx's shape.
pub fn score_case(diagnosis: &Value, truth: &GroundTruth, context: &str) -> CaseScore {
    score_record(&DiagnosisRecord::from_value(diagnosis), truth, context)
}

/// Grades one diagnosis.
pub fn score_record(d: &DiagnosisRecord, truth: &GroundTruth, context: &str) -> CaseScore {
    let blob = d.blob();
    let mentions = |needle: &str| {
        let n = py_trim(needle);
        !n.is_empty() && blob.contains(n)
    };
    let gt = truth.category();
    let pred = d.root_cause_category.as_str();
    let conf = d.confidence;

    let diagnosis_success = d.provider_error.is_none()
        && (!py_trim(&d.summary).is_empty() || !py_trim(&d.root_cause).is_empty());

    let (category_accuracy, category_match) = if gt.is_empty() {
        (None, None)
    } else if pred == "unknown" && gt != "unknown" {
        (Some(0.0), Some(0.0))
    } else if pred == gt {
        (Some(1.0), Some(1.0))
    } else if PARTIAL_PAIRS
        .iter()
        .any(|&(a, b)| (a == pred && b == gt) || (a == gt && b == pred))
    {
        (Some(0.0), Some(0.5))
    } else {
        (Some(0.0), Some(0.0))
    };

    let signal_mentioned = |s: &RequiredSignal| {
        s.value.as_deref().is_some_and(&mentions)
            || s.aliases.iter().any(|a| mentions(a))
            || s.file.as_deref().is_some_and(&mentions)
    };
    let mut missed_signals = Vec::new();
    let (mut hit, mut crit_hit, mut crit_total) = (0usize, 0usize, 0usize);
    for s in &truth.required_signals {
        let m = signal_mentioned(s);
        let critical = s.importance == "critical";
        hit += usize::from(m);
        crit_total += usize::from(critical);
        crit_hit += usize::from(m && critical);
        if !m {
            missed_signals.push(MissedSignal {
                kind: s.kind.clone(),
                value: s.value.clone(),
                file: s.file.clone(),
                importance: s.importance.clone(),
            });
        }
    }
    let required_recall = ratio(hit, truth.required_signals.len());
    let critical_recall = ratio(crit_hit, crit_total);

    let fraction_mentioned = |items: &[String]| {
        let kept: Vec<&str> = items
            .iter()
            .map(|s| py_trim(s))
            .filter(|s| !s.is_empty())
            .collect();
        ratio(
            kept.iter().filter(|s| blob.contains(**s)).count(),
            kept.len(),
        )
    };
    let file_recall = fraction_mentioned(&truth.relevant_files);
    let test_recall = fraction_mentioned(&truth.relevant_tests);
    let must_mention = fraction_mentioned(&truth.expected_diagnosis.must_mention);
    let forbidden: Vec<String> = truth
        .expected_diagnosis
        .must_not_claim
        .iter()
        .filter(|c| mentions(c))
        .cloned()
        .collect();

    let quotes: Vec<&str> = d
        .evidence
        .iter()
        .map(|e| py_trim(&e.quote))
        .filter(|q| q.chars().count() >= MIN_QUOTE_CHARS)
        .collect();
    let quote_rate = if quotes.is_empty() {
        None
    } else {
        let ctx = norm_ws(context);
        ratio(
            quotes.iter().filter(|q| ctx.contains(&norm_ws(q))).count(),
            quotes.len(),
        )
    };

    let abstained = pred == "unknown" || conf < 0.25;
    let confident = conf >= 0.70;
    let confident_error = confident && (category_accuracy == Some(0.0) || !forbidden.is_empty());
    let below_half = |x: Option<f64>| x.is_some_and(|x| x < 0.5);
    let confident_error_v1_1 = confident
        && (!forbidden.is_empty()
            || (category_match == Some(0.0)
                && below_half(critical_recall)
                && below_half(must_mention)));

    let composite = |category: Option<f64>, confident_error: bool| {
        let z = |x: Option<f64>| x.unwrap_or(0.0);
        let raw = 0.25 * z(category)
            + 0.30 * z(critical_recall)
            + 0.20 * z(must_mention)
            + 0.10 * z(file_recall)
            + 0.10 * z(test_recall)
            + 0.05 * z(quote_rate)
            - if forbidden.is_empty() { 0.0 } else { 0.25 }
            - if confident_error { 0.25 } else { 0.0 };
        round4(raw.clamp(0.0, 1.0))
    };

    CaseScore {
        diagnosis_success,
        provider_error: d.provider_error.clone(),
        root_cause_category: d.root_cause_category.clone(),
        confidence: conf,
        category_accuracy,
        category_match_score_v1_1: category_match,
        required_signal_mention_recall: required_recall,
        critical_signal_mention_recall: critical_recall,
        relevant_file_recall: file_recall,
        relevant_test_recall: test_recall,
        must_mention_coverage: must_mention,
        valid_evidence_quote_rate: quote_rate,
        abstained,
        confident_error,
        confident_error_v1_1,
        missed_signals,
        diagnosis_score_v1: composite(category_accuracy, confident_error),
        diagnosis_score_v1_1: composite(category_match, confident_error_v1_1),
        forbidden_claim_violations: forbidden,
    }
}

/// Means over cases: fractional metrics over the non-null values, composites and rates over
/// every case (a failed diagnosis is a 0, never skipped). Rounded to 4 decimals like upstream.
pub fn aggregate(scores: &[CaseScore]) -> Summary {
    let n = scores.len();
    let mean = |f: &dyn Fn(&CaseScore) -> Option<f64>| {
        let vals: Vec<f64> = scores.iter().filter_map(f).collect();
        (!vals.is_empty()).then(|| round4(vals.iter().sum::<f64>() / vals.len() as f64))
    };
    let rate = |f: &dyn Fn(&CaseScore) -> bool| {
        if n == 0 {
            0.0
        } else {
            round4(scores.iter().filter(|s| f(s)).count() as f64 / n as f64)
        }
    };
    Summary {
        cases: n,
        mean_diagnosis_score_v1_1: mean(&|s| Some(s.diagnosis_score_v1_1)).unwrap_or(0.0),
        mean_diagnosis_score_v1: mean(&|s| Some(s.diagnosis_score_v1)).unwrap_or(0.0),
        category_accuracy: mean(&|s| s.category_accuracy),
        category_match_score_v1_1: mean(&|s| s.category_match_score_v1_1),
        required_signal_mention_recall: mean(&|s| s.required_signal_mention_recall),
        critical_signal_mention_recall: mean(&|s| s.critical_signal_mention_recall),
        relevant_file_recall: mean(&|s| s.relevant_file_recall),
        relevant_test_recall: mean(&|s| s.relevant_test_recall),
        must_mention_coverage: mean(&|s| s.must_mention_coverage),
        valid_evidence_quote_rate: mean(&|s| s.valid_evidence_quote_rate),
        diagnosis_success_rate: rate(&|s| s.diagnosis_success),
        abstention_rate: rate(&|s| s.abstained),
        confident_error_rate: rate(&|s| s.confident_error),
        confident_error_v1_1_rate: rate(&|s| s.confident_error_v1_1),
        forbidden_claim_rate: rate(&|s| !s.forbidden_claim_violations.is_empty()),
    }
}

/// `part / total` rounded to 4 decimals as upstream does before the composite; `None` when
/// there is nothing to measure.
fn ratio(part: usize, total: usize) -> Option<f64> {
    (total > 0).then(|| round4(part as f64 / total as f64))
}

/// Python's `round(x, 4)`: Rust's float formatting also rounds the exact binary value half to
/// even, so the two agree digit for digit.
fn round4(x: f64) -> f64 {
    format!("{x:.4}").parse().unwrap_or(x)
}

// ---------------------------------------------------------------------------------------------
// Text normalisation (the upstream scorer is Python: its `\s` and `strip()` also treat
// U+001C..U+001F as whitespace, Rust's do not)

fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn py_trim(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

static ANSI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*(?:\x07|\x1b\\)")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// ANSI CSI/OSC sequences removed, `\r\n` and lone `\r` turned into `\n`.
pub fn norm(s: &str) -> String {
    ANSI.replace_all(s, "")
        .replace("\r\n", "\n")
        .replace('\r', "\n")
}

/// [`norm`], then every whitespace run collapsed to one space and the ends trimmed.
pub fn norm_ws(s: &str) -> String {
    let n = norm(s);
    let mut out = String::with_capacity(n.len());
    let mut in_space = false;
    for c in n.chars() {
        if is_py_space(c) {
            in_space = true;
        } else {
            if in_space && !out.is_empty() {
                out.push(' ');
            }
            in_space = false;
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Baseline contexts (what upstream's tail-200, grep and hybrid reducers showed the diagnosers)

/// Upstream's grep reducer pattern (matched case-insensitively per line).
static GREP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)error|failed|failure|traceback|exception|assert|panic|exit code|##\[error\]")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});
const GREP_BEFORE: usize = 3;
const GREP_AFTER: usize = 8;
/// The hybrid reducer keeps grep while `grep_bytes / 4` is at most this many tokens.
pub const HYBRID_BUDGET_TOKENS: usize = 120_000;

/// Lines of a log: split on `\n`, the empty piece after a final newline dropped, bytes kept.
fn log_lines(raw: &[u8]) -> Vec<&[u8]> {
    let body = raw.strip_suffix(b"\n").unwrap_or(raw);
    if raw.is_empty() {
        return Vec::new();
    }
    body.split(|&b| b == b'\n').collect()
}

fn join_lines(lines: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

/// The last `n` lines, each followed by `\n`.
pub fn tail_context(raw: &[u8], n: usize) -> Vec<u8> {
    let lines = log_lines(raw);
    join_lines(&lines[lines.len().saturating_sub(n)..])
}

/// Lines matching upstream's error pattern with 3 lines before and 8 after, windows merged, in
/// log order, each followed by `\n` (empty when nothing matches).
pub fn grep_context(raw: &[u8]) -> Vec<u8> {
    let lines = log_lines(raw);
    let mut keep = vec![false; lines.len()];
    for (i, l) in lines.iter().enumerate() {
        if GREP.is_match(&String::from_utf8_lossy(l)) {
            let end = (i + GREP_AFTER).min(lines.len() - 1);
            keep[i.saturating_sub(GREP_BEFORE)..=end].fill(true);
        }
    }
    let kept: Vec<&[u8]> = lines
        .iter()
        .zip(keep)
        .filter_map(|(l, k)| k.then_some(*l))
        .collect();
    join_lines(&kept)
}

/// Upstream's `hybrid-grep-120k-tail-v2`: grep when it fits the token budget (bytes / 4),
/// else tail-200, behind its 8-line header.
pub fn hybrid_grep_tail_context(raw: &[u8]) -> Vec<u8> {
    let grep = grep_context(raw);
    let (method, reason, body) = if grep.len() / 4 <= HYBRID_BUDGET_TOKENS {
        ("grep", "primary_fits_budget", grep)
    } else {
        (
            "tail",
            "primary_too_large_used_fallback",
            tail_context(raw, 200),
        )
    };
    let mut out = format!(
        "# CILogBench hybrid context\n\nhybrid_method: hybrid-grep-120k-tail-v2\n\
         selected_method: {method}\nselected_reason: {reason}\nbudget_tokens: {HYBRID_BUDGET_TOKENS}\n\n\
         --- selected context ---\n"
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests;
