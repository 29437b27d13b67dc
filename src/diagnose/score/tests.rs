use std::path::PathBuf;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::*;

/// The shared folder. Missing fixtures fail the test: a scorer that was never checked against
/// the published answers is not known to be right.
fn shared_dir() -> PathBuf {
    let dir = crate::testkit::shared_path("");
    assert!(
        dir.join("eval/logdx/scorer-vectors").is_dir(),
        "LogDx fixtures not found under ../shared or /work/shared"
    );
    dir
}

fn truth(id: &str) -> GroundTruth {
    let p = shared_dir().join(format!("eval/logdx/cases/{id}/ground_truth.json"));
    GroundTruth::from_json(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn rebuild_context(method: &str, id: &str, ctx: &Value) -> String {
    if ctx.is_null() {
        return String::new(); // no diagnosis, so no context either
    }
    let base = shared_dir().join("eval/logdx");
    let bytes = match ctx["file_here"].as_str() {
        Some(f) => std::fs::read(base.join("scorer-vectors").join(method).join(f)).unwrap(),
        None => {
            let raw = std::fs::read(base.join(format!("cases/{id}/raw.log"))).unwrap();
            match method {
                "tail-200" => tail_context(&raw, 200),
                "hybrid-grep-120k-tail" => hybrid_grep_tail_context(&raw),
                other => panic!("unknown method {other}"),
            }
        }
    };
    let sha = format!("{:x}", Sha256::digest(&bytes));
    assert_eq!(
        sha,
        ctx["sha256"].as_str().unwrap(),
        "{method}/{id}: rebuilt context differs from upstream ({} bytes, want {})",
        bytes.len(),
        ctx["bytes"]
    );
    String::from_utf8_lossy(&bytes).into_owned()
}

fn want_str(case: &Value, field: &str) -> String {
    case["published_row"][field].as_str().unwrap().to_string()
}

fn check_method(method: &str) {
    let dir = shared_dir().join("eval/logdx/scorer-vectors").join(method);
    let scores: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("scores.json")).unwrap()).unwrap();
    let tol = scores["tolerance"].as_f64().unwrap();
    let cases = scores["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 35);
    let mut all = Vec::new();
    let mut failures = Vec::new();
    for (id, case) in cases {
        let record = match std::fs::read_to_string(dir.join(format!("{id}.diagnosis.json"))) {
            Ok(text) => DiagnosisRecord::from_value(&serde_json::from_str(&text).unwrap()),
            // The upstream run failed and left no diagnosis; it is still scored, as a 0.
            Err(_) => DiagnosisRecord::failed(want_str(case, "provider_error")),
        };
        let context = rebuild_context(method, id, &case["context"]);
        let got = serde_json::to_value(score_record(&record, &truth(id), &context)).unwrap();
        let want = &case["published_row"];
        for field in [
            "category_accuracy",
            "category_match_score_v1_1",
            "required_signal_mention_recall",
            "critical_signal_mention_recall",
            "relevant_file_recall",
            "relevant_test_recall",
            "must_mention_coverage",
            "valid_evidence_quote_rate",
            "diagnosis_score_v1",
            "diagnosis_score_v1_1",
        ] {
            let ok = match (got[field].as_f64(), want[field].as_f64()) {
                (Some(a), Some(b)) => (a - b).abs() <= tol,
                (None, None) => got[field].is_null() && want[field].is_null(),
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "{method}/{id} {field}: got {} want {}",
                    got[field], want[field]
                ));
            }
        }
        for field in [
            "diagnosis_success",
            "abstained",
            "confident_error",
            "confident_error_v1_1",
            "forbidden_claim_violations",
            "missed_signals",
            "root_cause_category",
        ] {
            if got[field] != want[field] {
                failures.push(format!(
                    "{method}/{id} {field}: got {} want {}",
                    got[field], want[field]
                ));
            }
        }
        all.push(serde_json::from_value::<CaseScore>(got).unwrap());
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let pooled = scores["pooled_mean_diagnosis_score_v1_1_35_cases"]
        .as_f64()
        .unwrap();
    let summary = aggregate(&all);
    assert_eq!(summary.cases, 35);
    assert!(
        (summary.mean_diagnosis_score_v1_1 - pooled).abs() <= tol,
        "{summary:?} vs {pooled}"
    );
}

#[test]
fn reproduces_published_tail_200_vectors() {
    check_method("tail-200");
}

#[test]
fn reproduces_published_hybrid_vectors() {
    check_method("hybrid-grep-120k-tail");
}

fn gt() -> GroundTruth {
    serde_json::from_value(json!({
        "root_cause": {"summary": "x", "category": "lint_error"},
        "required_signals": [
            {"type": "failed_test", "value": "test_foo", "importance": "critical"},
            {"type": "stack_location", "file": "src/a.py", "line": 3, "importance": "critical"},
            {"type": "exit_code", "value": "E999", "aliases": ["short"], "importance": "important"}
        ],
        "relevant_files": ["src/a.py", "  "],
        "relevant_tests": [],
        "expected_diagnosis": {"must_mention": ["ruff", "E501"], "must_not_claim": ["network failure", "panic"]}
    }))
    .unwrap()
}

#[test]
fn perfect_diagnosis_scores_its_ceiling() {
    let d = json!({
        "summary": "ruff E501 failed test_foo", "root_cause": "line too long in src/a.py (short)",
        "root_cause_category": "lint_failure", "confidence": 0.9,
        "evidence": [{"quote": "src/a.py:1:1 E501 line too long", "reason": "r"}],
    });
    let s = score_case(&d, &gt(), "src/a.py:1:1   E501 line\ttoo long\n");
    assert_eq!(s.category_match_score_v1_1, Some(1.0));
    assert_eq!(s.required_signal_mention_recall, Some(1.0));
    assert_eq!(
        s.relevant_file_recall,
        Some(1.0),
        "blank entries are dropped"
    );
    assert_eq!(s.relevant_test_recall, None);
    assert_eq!(
        s.valid_evidence_quote_rate,
        Some(1.0),
        "whitespace runs compare equal"
    );
    // No relevant tests: the 0.10 is out of reach.
    assert_eq!(s.diagnosis_score_v1_1, 0.9);
    assert!(s.diagnosis_success && !s.abstained && !s.confident_error_v1_1);
}

#[test]
fn partial_credit_negated_claims_and_confident_error() {
    // formatting vs lint: half credit. "not a network failure" still violates (literal check).
    let d = json!({"summary": "prettier: this is not a network failure", "root_cause_category": "formatting_failure", "confidence": 0.8});
    let s = score_case(&d, &gt(), "");
    assert_eq!(s.category_match_score_v1_1, Some(0.5));
    assert_eq!(s.category_accuracy, Some(0.0));
    assert_eq!(
        s.forbidden_claim_violations,
        vec!["network failure".to_string()]
    );
    assert!(s.confident_error_v1_1 && s.confident_error);
    assert_eq!(s.diagnosis_score_v1_1, 0.0, "clamped at 0");
    // Low confidence, same text: the confident-error penalty goes away, the forbidden one stays.
    let d = json!({"summary": "panic and network failure", "root_cause_category": "other", "confidence": 0.2});
    let s = score_case(&d, &gt(), "");
    assert_eq!(s.forbidden_claim_violations.len(), 2);
    assert!(s.abstained && !s.confident_error_v1_1);
}

#[test]
fn unknown_is_zero_and_failed_diagnosis_counts() {
    let s = score_case(
        &json!({"summary": "E501", "root_cause_category": "unknown", "confidence": 0.9}),
        &gt(),
        "",
    );
    assert_eq!(s.category_match_score_v1_1, Some(0.0));
    assert!(s.abstained);
    let failed = score_record(&DiagnosisRecord::failed("timeout"), &gt(), "");
    assert!(!failed.diagnosis_success);
    assert_eq!(failed.diagnosis_score_v1_1, 0.0);
    assert_eq!(failed.valid_evidence_quote_rate, None);
    let sum = aggregate(&[s, failed]);
    assert_eq!(sum.cases, 2);
    assert_eq!(sum.diagnosis_success_rate, 0.5);
    assert_eq!(sum.valid_evidence_quote_rate, None);
}

#[test]
fn quotes_shorter_than_8_chars_are_ignored_and_ansi_is_stripped() {
    let d = json!({"evidence": [{"quote": "  short  "}, {"quote": "\u{1b}[31merror: boom\u{1b}[0m"}, {"quote": "not in the log at all"}]});
    let s = score_case(&d, &gt(), "2024 \u{1b}[1merror: boom\u{1b}[0m\r\n");
    assert_eq!(s.valid_evidence_quote_rate, Some(0.5));
}

#[test]
fn provider_error_is_read_from_metadata_and_garbage_is_tolerated() {
    let d = json!({"summary": "x", "metadata": {"provider_error": "HTTP 500"}, "confidence": "high", "evidence": "nope", "relevant_files": [1, "a"]});
    let r = DiagnosisRecord::from_value(&d);
    assert_eq!(r.provider_error.as_deref(), Some("HTTP 500"));
    assert_eq!(r.confidence, 0.0);
    assert!(r.evidence.is_empty());
    assert_eq!(r.relevant_files, vec!["a"]);
    assert!(!score_record(&r, &gt(), "").diagnosis_success);
}

#[test]
fn normalisation_matches_python() {
    assert_eq!(norm("a\r\nb\rc\u{1b}]0;title\u{7}d"), "a\nb\ncd");
    assert_eq!(norm_ws(" \u{1f}a \t\n b\u{a0}\u{1c}c  "), "a b c");
    assert_eq!(py_trim("\u{1d} x \u{1e}"), "x");
    assert_eq!(round4(0.03125), 0.0312, "half to even like Python's round");
    assert_eq!(round4(2.0 / 3.0), 0.6667);
}

#[test]
fn grep_and_tail_contexts() {
    let log: Vec<u8> = (1..=30)
        .map(|i| {
            if i == 5 || i == 14 {
                format!("{i} ERROR here\n")
            } else {
                format!("{i}\n")
            }
        })
        .collect::<String>()
        .into_bytes();
    let grep = String::from_utf8(grep_context(&log)).unwrap();
    // 5 -> 2..=13 and 14 -> 11..=22 touch, so one merged window 2..=22.
    let want: String = (2..=22)
        .map(|i| {
            if i == 5 || i == 14 {
                format!("{i} ERROR here\n")
            } else {
                format!("{i}\n")
            }
        })
        .collect();
    assert_eq!(grep, want);
    assert_eq!(tail_context(&log, 2), b"29\n30\n");
    assert_eq!(tail_context(b"", 2), b"");
    assert!(grep_context(b"all good\n").is_empty());
    let hybrid = String::from_utf8(hybrid_grep_tail_context(&log)).unwrap();
    assert!(hybrid.starts_with("# CILogBench hybrid context\n\nhybrid_method: hybrid-grep-120k-tail-v2\nselected_method: grep\n"));
    assert!(hybrid.ends_with(&want));
}
