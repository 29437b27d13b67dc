//! A model's answer -> commands, item by item. The command module's strict parser and validator
//! decide (`command::parse_plan`, `command::validate`); this adds what only the planner knows:
//! every string redacted before anything else sees it, duplicates and over-long plans refused,
//! and rejected items kept (shortened) with their reason for the operator and the re-ask.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::schema::MAX_COMMANDS;
use crate::command::{Command, parse_plan, validate};
use crate::gitlab::snapshot::ProjectSnapshot;
use crate::llm::provider::strip_wrapping;
use crate::redact::redact;

/// A proposal that did not make it, as `plan --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    /// The item as the model sent it (redacted, long strings shortened).
    pub raw: Value,
    pub reason: String,
}

/// A parsed and validated plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Checked {
    pub summary: String,
    pub commands: Vec<Command>,
    pub rejected: Vec<Rejected>,
}

impl Checked {
    /// The validator's errors in the form the re-ask carries.
    pub fn errors(&self) -> Vec<String> {
        self.rejected.iter().map(|r| r.reason.clone()).collect()
    }
}

/// Redacts every string in a JSON value in place.
pub fn redact_value(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(r) = redact(s) {
                *s = r;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_value),
        Value::Object(o) => o.values_mut().for_each(redact_value),
        _ => {}
    }
}

/// A bounded copy for display: strings cut at 300 characters, arrays at 20 items, depth 6.
pub fn shorten(v: &Value, depth: usize) -> Value {
    match v {
        Value::String(s) if s.chars().count() > 300 => {
            let head: String = s.chars().take(300).collect();
            Value::String(format!("{head}…[{} chars]", s.chars().count()))
        }
        Value::Array(a) if depth < 6 => {
            Value::Array(a.iter().take(20).map(|x| shorten(x, depth + 1)).collect())
        }
        Value::Object(o) if depth < 6 => Value::Object(
            o.iter()
                .take(40)
                .map(|(k, x)| (shorten_key(k), shorten(x, depth + 1)))
                .collect(),
        ),
        Value::Array(_) | Value::Object(_) => Value::String("…".into()),
        other => other.clone(),
    }
}

fn shorten_key(k: &str) -> String {
    if k.chars().count() > 60 {
        format!("{}…", k.chars().take(60).collect::<String>())
    } else {
        k.to_string()
    }
}

/// Parses and validates a model's answer against the snapshot. `Err` is a whole-answer failure
/// (not JSON, not a plan) with a one-line reason; bad items are `Checked::rejected`.
pub fn check_answer(text: &str, snap: &ProjectSnapshot) -> Result<Checked, String> {
    let body = strip_wrapping(text);
    // A key given twice is refused (the model or an injection saying two things at once).
    let mut v: Value = crate::strict_json::from_str(body).map_err(|e| {
        format!(
            "not valid JSON (line {}, column {}): {}",
            e.line(),
            e.column(),
            e
        )
    })?;
    redact_value(&mut v);
    check_value(&v, snap)
}

/// Strict-mode answers carry every optional field, as `null` when unused: the same as absent.
fn drop_null_fields(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(items) = v.get_mut("commands").and_then(Value::as_array_mut) {
        for item in items {
            if let Some(o) = item.as_object_mut() {
                o.retain(|_, x| !x.is_null());
            }
        }
    }
    v
}

/// The complete commands of an answer cut off mid-way: the text up to the last command object
/// that closed inside the root's `commands` array, closed again. `None` when no command was
/// complete. Each salvaged command is still parsed and validated by `check_value`.
pub fn salvage(text: &str) -> Option<Value> {
    let mut body = text.trim();
    if body.starts_with("<think>")
        && let Some(end) = body.find("</think>")
    {
        body = body[end + "</think>".len()..].trim_start();
    }
    if let Some(rest) = body.strip_prefix("```") {
        body = rest.strip_prefix("json").unwrap_or(rest).trim_start();
    }
    let mut stack: Vec<u8> = Vec::new();
    let (mut in_str, mut esc) = (false, false);
    let mut last_good = None;
    for (i, b) in body.bytes().enumerate() {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => stack.push(b),
            b'}' | b']' => {
                stack.pop();
                // Back inside the root object's array: an element just closed.
                if b == b'}' && stack == [b'{', b'['] {
                    last_good = Some(i + 1);
                }
            }
            _ => {}
        }
    }
    let end = last_good?;
    serde_json::from_str(&format!("{}]}}", &body[..end])).ok()
}

/// `check_answer` for an already-parsed value (the rules planner's output goes through here too,
/// so both planners face the same gate).
pub fn check_value(v: &Value, snap: &ProjectSnapshot) -> Result<Checked, String> {
    let v = &drop_null_fields(v);
    let parsed = parse_plan(v).map_err(|e| format!("not a plan: {e}"))?;
    let items: &[Value] = match v {
        Value::Array(a) => a,
        _ => v
            .get("commands")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]),
    };
    let raw = |i: usize| items.get(i).map(|x| shorten(x, 0)).unwrap_or(Value::Null);
    let mut out = Checked {
        summary: crate::plan::fence::clean_block(&parsed.summary, 2_000),
        ..Checked::default()
    };
    // (index, reason) so rejections are reported in the model's order.
    let mut rejected: BTreeMap<usize, String> = BTreeMap::new();
    for r in &parsed.rejected {
        rejected.insert(r.index, r.error.to_string());
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (index, cmd) in parsed.commands {
        let at = format!("commands[{index}]");
        if let Err(errs) = validate(&cmd, snap) {
            rejected.insert(index, format!("{at}: {}", errs.join("; ")));
            continue;
        }
        let claims = ungrounded(&cmd, snap);
        if !claims.is_empty() {
            rejected.insert(index, format!("{at}: {}", claims.join("; ")));
            continue;
        }
        if let Some(first) = seen.get(&cmd.identity()) {
            rejected.insert(index, format!("{at}: duplicate of commands[{first}]"));
            continue;
        }
        if out.commands.len() == MAX_COMMANDS {
            rejected.insert(
                index,
                format!(
                    "{at}: more than {MAX_COMMANDS} commands; a plan proposes the few that matter"
                ),
            );
            continue;
        }
        seen.insert(cmd.identity(), index);
        out.commands.push(cmd);
    }
    out.rejected = rejected
        .into_iter()
        .map(|(i, reason)| Rejected {
            raw: raw(i),
            reason,
        })
        .collect();
    Ok(out)
}

/// Job `failure_reason` values GitLab documents (`gitlab::models::FailureReason`).
const FAILURE_REASONS: [&str; 12] = [
    "script_failure",
    "stuck_or_timeout_failure",
    "runner_system_failure",
    "job_execution_timeout",
    "api_failure",
    "unmet_prerequisites",
    "scheduler_failure",
    "data_integrity_failure",
    "runner_unsupported",
    "stale_schedule",
    "archived_failure",
    "unknown_failure",
];

/// The text a command asserts facts in: its rationale, and a note's text or a comment's body.
fn claim_texts(cmd: &Command) -> Vec<&str> {
    let mut t = vec![cmd.rationale()];
    match cmd {
        Command::Note { text, .. } => t.push(text),
        Command::CommentMr { body, .. } => t.push(body),
        _ => {}
    }
    t
}

/// Facts a command's text names that the snapshot does not hold: a job, pipeline or MR id that
/// is not in it, or a failure reason no job in it has. Models copy plausible examples as facts;
/// a claim is held to the snapshot like a command's target.
pub fn ungrounded(cmd: &Command, snap: &ProjectSnapshot) -> Vec<String> {
    static REFS: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?i)\b(jobs?|builds?|pipelines?|merge requests?|mrs?)\s*(?:id\s*)?[#!]?(\d{1,12})\b|(?:^|[^\w/])!(\d{1,9})\b",
        )
        .ok()
    });
    let mut out = Vec::new();
    let Some(re) = REFS.as_ref() else { return out };
    for text in claim_texts(cmd) {
        let lower = text.to_ascii_lowercase();
        for caps in re.captures_iter(text) {
            let word = caps.get(1).map(|m| m.as_str().to_ascii_lowercase());
            let (what, id) = match (word.as_deref(), caps.get(2), caps.get(3)) {
                (Some(w), Some(n), _) => (w.trim_end_matches('s').to_string(), n.as_str()),
                (None, _, Some(n)) => ("mr".to_string(), n.as_str()),
                _ => continue,
            };
            let Ok(id) = id.parse::<u64>() else { continue };
            let known = match what.as_str() {
                "job" | "build" => snap.job(id).is_some(),
                "pipeline" => {
                    snap.pipelines.contains_key(&id)
                        || snap
                            .mrs
                            .values()
                            .any(|m| m.head_pipeline.as_ref().is_some_and(|p| p.id == id))
                }
                _ => snap.mrs.contains_key(&id),
            };
            if !known {
                let label = match what.as_str() {
                    "job" | "build" => format!("job {id}"),
                    "pipeline" => format!("pipeline {id}"),
                    _ => format!("MR !{id}"),
                };
                let claim = format!("names {label}, which is not in the snapshot");
                if !out.contains(&claim) {
                    out.push(claim);
                }
            }
        }
        for reason in FAILURE_REASONS {
            let found = lower.match_indices(reason).any(|(i, _)| {
                let before = lower[..i].chars().next_back();
                let after = lower[i + reason.len()..].chars().next();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            let seen = snap.all_jobs().any(|j| {
                j.failure_reason
                    .as_ref()
                    .is_some_and(|r| r.as_str() == reason)
            });
            if found && !seen {
                let claim =
                    format!("names failure reason {reason}, which no job in the snapshot has");
                if !out.contains(&claim) {
                    out.push(claim);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::models::FailureReason;
    use crate::plan::snapshot::tests::sample;
    use serde_json::json;

    #[test]
    fn an_answer_with_a_key_given_twice_is_refused() {
        let snap = sample();
        let e = check_answer(
            r#"{"summary": "s", "commands": [{"kind": "note", "project": "p", "text": "a", "text": "b", "rationale": "r"}]}"#,
            &snap,
        )
        .unwrap_err();
        assert!(e.contains("duplicate key \"text\""), "{e}");
    }

    #[test]
    fn good_items_survive_bad_ones_are_explained() {
        let s = sample();
        let answer = json!({"summary": "main is red", "commands": [
            {"kind": "retry_job", "project": "acme/platform", "job_id": 5000, "rationale": "runner_system_failure"},
            {"kind": "retry_job", "project": "acme/platform", "job_id": 999999, "rationale": "made up"},
            {"kind": "delete_project", "project": "acme/platform", "rationale": "x"},
            {"kind": "note", "project": "acme/platform", "text": "t", "rationale": "r", "risk": "none"},
            {"kind": "merge_mr", "project": "acme/platform", "mr_iid": 42, "sha": "a".repeat(40), "rationale": "ship it"},
            {"kind": "retry_job", "project": "acme/platform", "job_id": 5000, "rationale": "again"},
            {"kind": "comment_mr", "project": "other/project", "mr_iid": 42, "body": "hi", "rationale": "r"}
        ]});
        let c = check_answer(&answer.to_string(), &s).unwrap();
        assert_eq!(c.summary, "main is red");
        assert_eq!(c.commands.len(), 1);
        assert_eq!(c.rejected.len(), 6);
        let reasons: Vec<&str> = c.rejected.iter().map(|r| r.reason.as_str()).collect();
        assert!(reasons[0].contains("job 999999"), "{reasons:?}");
        assert!(reasons[1].contains("unknown kind"), "{reasons:?}");
        assert!(reasons[2].contains("unknown field"), "{reasons:?}");
        assert!(reasons[3].contains("pipeline 901 is failed"), "{reasons:?}");
        assert!(
            reasons[4].contains("duplicate of commands[0]"),
            "{reasons:?}"
        );
        assert!(
            reasons[5].contains("not the project in view"),
            "{reasons:?}"
        );
        assert_eq!(c.rejected[1].raw["kind"], "delete_project");
    }

    #[test]
    fn whole_answer_failures() {
        let s = sample();
        assert!(
            check_answer("{\"summary\": \"x\", \"comm", &s)
                .unwrap_err()
                .starts_with("not valid JSON")
        );
        assert!(
            check_answer("\"hello\"", &s)
                .unwrap_err()
                .starts_with("not a plan")
        );
        assert!(check_answer("{\"summary\": \"x\"}", &s).is_err());
        let fenced = "```json\n{\"summary\": \"quiet\", \"commands\": []}\n```";
        assert_eq!(check_answer(fenced, &s).unwrap().summary, "quiet");
    }

    #[test]
    fn secrets_and_huge_strings_are_contained() {
        let s = sample();
        let huge = "x".repeat(100_000);
        let answer = json!({"summary": "token glpat-Abc123xYz789DefGhi012", "commands": [
            {"kind": "note", "project": "acme/platform", "text": huge, "rationale": "r"},
            {"kind": "note", "project": "acme/platform", "text": "use glpat-Abc123xYz789DefGhi012", "rationale": "r"}
        ]});
        let c = check_answer(&answer.to_string(), &s).unwrap();
        assert!(!c.summary.contains("glpat-Abc"));
        assert_eq!(c.commands.len(), 1);
        assert!(
            !serde_json::to_string(&c.commands[0])
                .unwrap()
                .contains("glpat-Abc")
        );
        let raw = c.rejected[0].raw.to_string();
        assert!(raw.len() < 1_000, "rejected item shortened: {}", raw.len());
    }

    #[test]
    fn failure_reason_names_are_gitlabs() {
        for r in FAILURE_REASONS {
            let parsed: FailureReason = serde_json::from_value(json!(r)).unwrap();
            assert_eq!(parsed.as_str(), r);
        }
    }

    #[test]
    fn claims_must_name_what_the_snapshot_holds() {
        let s = sample();
        let reasons: Vec<&str> = s
            .all_jobs()
            .filter_map(|j| j.failure_reason.as_ref().map(|r| r.as_str()))
            .collect();
        let absent = FAILURE_REASONS
            .into_iter()
            .find(|r| !reasons.contains(r))
            .unwrap();
        let answer = json!({"summary": "s", "commands": [
            {"kind": "note", "project": "acme/platform", "text": format!("Job 5000 failed with {absent}; retry it."), "rationale": "copied from the example"},
            {"kind": "note", "project": "acme/platform", "text": "Pipeline 424242 is red.", "rationale": "r"},
            {"kind": "note", "project": "acme/platform", "text": "!9999 waits for review", "rationale": "r"},
            {"kind": "note", "project": "acme/platform", "text": "Three jobs failed in MR !42; see job 5000.", "rationale": format!("{} in job 5000", reasons[0])}
        ]});
        let c = check_answer(&answer.to_string(), &s).unwrap();
        assert_eq!(c.commands.len(), 1, "{:?}", c.rejected);
        let why: Vec<&str> = c.rejected.iter().map(|r| r.reason.as_str()).collect();
        assert!(
            why[0].contains(&format!("failure reason {absent}")),
            "{why:?}"
        );
        assert!(why[1].contains("pipeline 424242"), "{why:?}");
        assert!(why[2].contains("MR !9999"), "{why:?}");
    }

    #[test]
    fn strict_nulls_mean_absent() {
        let s = sample();
        let answer = json!({"commands": [{"kind": "retry_job", "project": "acme/platform",
            "job_id": 5000, "rationale": "runner lost", "confidence": null, "evidence": null}],
            "summary": "x"});
        let c = check_answer(&answer.to_string(), &s).unwrap();
        assert_eq!(c.commands.len(), 1, "{:?}", c.rejected);
    }

    #[test]
    fn complete_commands_survive_a_cut() {
        let cut = r#"{"commands": [{"kind": "note", "project": "p", "text": "a {b} \"c]", "rationale": "r", "evidence": ["x"]}, {"kind": "note", "project": "p", "text": "b", "rationale": "r"}, {"kind": "retry_job", "proj"#;
        let v = salvage(cut).unwrap();
        assert_eq!(v["commands"].as_array().unwrap().len(), 2);
        assert_eq!(v["commands"][0]["text"], "a {b} \"c]");
        let looping = format!(
            r#"```json
{{"commands": [{{"kind": "note", "project": "p", "text": "t", "rationale": "r"}}], "summary": "{}"#,
            "the same words ".repeat(50)
        );
        assert_eq!(
            salvage(&looping).unwrap()["commands"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(salvage(r#"{"summary": "all cut"#), None);
        assert_eq!(salvage(r#"{"commands": [{"kind": "no"#), None);
    }

    #[test]
    fn plan_is_capped() {
        let s = sample();
        let notes: Vec<Value> = (0..12)
            .map(|i| json!({"kind": "note", "project": "acme/platform", "text": format!("n{i}"), "rationale": "r"}))
            .collect();
        let c = check_value(&json!({"summary": "", "commands": notes}), &s).unwrap();
        assert_eq!(c.commands.len(), MAX_COMMANDS);
        assert_eq!(c.rejected.len(), 12 - MAX_COMMANDS);
    }
}
