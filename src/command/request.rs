//! The exact HTTP request(s) a command sends, and the preconditions re-checked before it does.
//!
//! The details view, `apply` and the audit log show these, and the executor sends exactly these:
//! what the operator approves is what goes over the wire.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::gitlab::ProjectSnapshot;

use super::model::Command;

/// Appended to every comment we post, so the planner can recognise (and skip) its own output.
pub const BOT_MARKER: &str = "<!-- gitaiops -->";

/// One REST call. `path` is the full path on the host, `/api/v4/...`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

impl HttpRequest {
    fn new(method: &str, path: String, body: Option<Value>) -> Self {
        HttpRequest {
            method: method.to_string(),
            path,
            body,
        }
    }

    /// The path below `/api/v4`, as the client's `write` takes it.
    pub fn api_path(&self) -> &str {
        self.path.strip_prefix("/api/v4").unwrap_or(&self.path)
    }
}

impl std::fmt::Display for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(b) = &self.body {
            write!(f, " {b}")?;
        }
        Ok(())
    }
}

/// The request(s) `cmd` will send on `snap`'s project; empty for a note. Fails only when the
/// request cannot be formed (a reviewer who is not a member has no user id).
pub fn requests(cmd: &Command, snap: &ProjectSnapshot) -> Result<Vec<HttpRequest>, String> {
    let p = format!("/api/v4/projects/{}", snap.project.id);
    let r = match cmd {
        Command::Note { .. } => return Ok(Vec::new()),
        Command::CommentMr { mr_iid, body, .. } => HttpRequest::new(
            "POST",
            format!("{p}/merge_requests/{mr_iid}/notes"),
            Some(json!({ "body": comment_body(body) })),
        ),
        Command::SetLabels {
            mr_iid,
            add,
            remove,
            ..
        } => {
            let mut b = serde_json::Map::new();
            if !add.is_empty() {
                b.insert("add_labels".into(), Value::String(add.join(",")));
            }
            if !remove.is_empty() {
                b.insert("remove_labels".into(), Value::String(remove.join(",")));
            }
            HttpRequest::new(
                "PUT",
                format!("{p}/merge_requests/{mr_iid}"),
                Some(Value::Object(b)),
            )
        }
        Command::RetryJob { job_id, .. } => {
            HttpRequest::new("POST", format!("{p}/jobs/{job_id}/retry"), None)
        }
        Command::PlayJob { job_id, .. } => {
            HttpRequest::new("POST", format!("{p}/jobs/{job_id}/play"), None)
        }
        Command::AssignReviewers {
            mr_iid, reviewers, ..
        } => {
            let ids = reviewers
                .iter()
                .map(|r| {
                    let name = r.trim_start_matches('@');
                    snap.members
                        .iter()
                        .find(|m| m.username.eq_ignore_ascii_case(name))
                        .map(|m| m.id)
                        .ok_or_else(|| format!("{name} is not a member of the project"))
                })
                .collect::<Result<Vec<u64>, String>>()?;
            HttpRequest::new(
                "PUT",
                format!("{p}/merge_requests/{mr_iid}"),
                Some(json!({ "reviewer_ids": ids })),
            )
        }
        Command::RetryPipeline { pipeline_id, .. } => {
            HttpRequest::new("POST", format!("{p}/pipelines/{pipeline_id}/retry"), None)
        }
        Command::CancelPipeline { pipeline_id, .. } => {
            HttpRequest::new("POST", format!("{p}/pipelines/{pipeline_id}/cancel"), None)
        }
        Command::RebaseMr { mr_iid, .. } => {
            HttpRequest::new("PUT", format!("{p}/merge_requests/{mr_iid}/rebase"), None)
        }
        Command::MergeMr { mr_iid, sha, .. } => {
            // GitLab refuses with 409 when the head moved since `sha`: the last line of defence
            // behind our own re-check. The full sha from the fresh MR is sent when we have it.
            let full = snap
                .mr(*mr_iid)
                .and_then(|m| m.sha.as_deref())
                .filter(|h| {
                    h.to_ascii_lowercase()
                        .starts_with(&sha.to_ascii_lowercase())
                })
                .unwrap_or(sha);
            HttpRequest::new(
                "PUT",
                format!("{p}/merge_requests/{mr_iid}/merge"),
                Some(json!({ "sha": full })),
            )
        }
    };
    Ok(vec![r])
}

/// What a comment posts: the body with secrets redacted (a model must not be able to publish a
/// token it read in a job log, and the operator approves the redacted text it is shown), then the
/// marker.
pub fn comment_body(body: &str) -> String {
    format!("{}\n\n{BOT_MARKER}", shown_body(body).trim_end())
}

/// The body as it is shown for approval and sent: secrets redacted, and every line GitLab
/// would run as a quick action (`/merge`, `/close`, `/approve`) put in a code span, so a
/// comment never carries an action the operator did not approve as that action.
pub fn shown_body(body: &str) -> String {
    let body = crate::redact::redact(body);
    crate::gitlab::quick_actions::neutralise(&body).0
}

/// What must still hold right before execution (re-checked against fresh state).
pub fn preconditions(cmd: &Command, snap: &ProjectSnapshot) -> Vec<String> {
    let mr_title = |iid: u64| {
        snap.mr(iid)
            .map(|m| format!("!{iid} \"{}\"", m.title))
            .unwrap_or_else(|| format!("!{iid}"))
    };
    let job_name = |id: u64| {
        snap.job(id)
            .map(|j| format!("job {id} ({})", j.name))
            .unwrap_or_else(|| format!("job {id}"))
    };
    match cmd {
        Command::Note { .. } => vec!["none: a note calls nothing".into()],
        Command::CommentMr { mr_iid, .. } | Command::SetLabels { mr_iid, .. } => {
            vec![format!("{} exists", mr_title(*mr_iid))]
        }
        Command::RetryJob { job_id, .. } => {
            vec![format!("{} is failed or canceled", job_name(*job_id))]
        }
        Command::PlayJob { job_id, .. } => {
            let mut v = vec![format!("{} is manual", job_name(*job_id))];
            if let Some(why) = super::risk::deploy_reason(*job_id, snap, &[]) {
                v.push(why);
            }
            v
        }
        Command::AssignReviewers {
            mr_iid, reviewers, ..
        } => vec![
            format!("{} is open", mr_title(*mr_iid)),
            format!(
                "reviewers {}: project members, not the author",
                reviewers.join(", ")
            ),
        ],
        Command::RetryPipeline { pipeline_id, .. } => {
            vec![format!("pipeline {pipeline_id} is failed or canceled")]
        }
        Command::CancelPipeline { pipeline_id, .. } => {
            vec![format!("pipeline {pipeline_id} is pending or running")]
        }
        Command::RebaseMr { mr_iid, .. } => vec![format!(
            "{} is open and has no conflicts",
            mr_title(*mr_iid)
        )],
        Command::MergeMr { mr_iid, sha, .. } => vec![
            format!(
                "{} is open, not a draft, without conflicts",
                mr_title(*mr_iid)
            ),
            format!("its head is still {sha}"),
            "its pipeline for that head succeeded".into(),
            "required approvals are given".into(),
        ],
    }
}

/// Each requirement of `cmd` with whether it holds against `snap` now: every precondition
/// checked when the command validates, else each validation error (the precise reason, which
/// names what fails) checked false. The same validation the queue and the executor run.
pub fn requirements_now(cmd: &Command, snap: &ProjectSnapshot) -> Vec<(bool, String)> {
    match super::validate::validate(cmd, snap) {
        Ok(()) => preconditions(cmd, snap)
            .into_iter()
            .map(|p| (true, p))
            .collect(),
        Err(errs) => errs.into_iter().map(|e| (false, e)).collect(),
    }
}

/// The details view of a command as (label, text) rows: rationale, confidence, evidence, the
/// payload the operator approves, the exact request(s) and the preconditions. Text is redacted;
/// multi-line bodies are kept for the UI to wrap.
pub fn details(cmd: &Command, snap: &ProjectSnapshot) -> Vec<(&'static str, String)> {
    let red = |s: &str| crate::redact::redact(s).into_owned();
    let mut rows = vec![("why", red(cmd.rationale()))];
    if let Some(c) = cmd.confidence() {
        rows.push(("confidence", format!("{c:.2}")));
    }
    for e in cmd.evidence() {
        rows.push(("evidence", red(e)));
    }
    match cmd {
        Command::CommentMr { body, .. } => {
            rows.push(("body", shown_body(body)));
            let (_, n) = crate::gitlab::quick_actions::neutralise(body);
            if n > 0 {
                rows.push((
                    "note",
                    format!(
                        "{n} line(s) GitLab would run as quick actions are sent as code, not run"
                    ),
                ));
            }
        }
        Command::Note { text, .. } => rows.push(("note", red(text))),
        Command::SetLabels { add, remove, .. } => {
            if !add.is_empty() {
                rows.push(("add labels", add.join(", ")));
            }
            if !remove.is_empty() {
                rows.push(("remove labels", remove.join(", ")));
            }
        }
        Command::AssignReviewers {
            mr_iid, reviewers, ..
        } => {
            rows.push(("reviewers", reviewers.join(", ")));
            // `reviewer_ids` replaces the MR's whole set: say whom it takes off.
            if let Some(mr) = snap.mr(*mr_iid) {
                let kept = |u: &str| {
                    reviewers
                        .iter()
                        .any(|r| r.trim_start_matches('@').eq_ignore_ascii_case(u))
                };
                let current: Vec<&str> = mr.reviewers.iter().map(|u| u.username.as_str()).collect();
                let removed: Vec<&str> = current.iter().copied().filter(|u| !kept(u)).collect();
                rows.push((
                    "replaces",
                    if current.is_empty() {
                        "no current reviewers".to_string()
                    } else if removed.is_empty() {
                        format!("current reviewers {} (all kept)", current.join(", "))
                    } else {
                        format!(
                            "current reviewers {}: removes {}",
                            current.join(", "),
                            removed.join(", ")
                        )
                    },
                ));
            }
        }
        Command::MergeMr { sha, .. } => rows.push(("head sha", sha.clone())),
        _ => {}
    }
    match requests(cmd, snap) {
        Ok(reqs) if reqs.is_empty() => rows.push(("sends", "nothing (no GitLab call)".into())),
        Ok(reqs) => rows.extend(reqs.iter().map(|r| ("sends", r.to_string()))),
        Err(e) => rows.push(("sends", format!("cannot form the request: {e}"))),
    }
    rows.extend(
        preconditions(cmd, snap)
            .into_iter()
            .map(|p| ("requires", p)),
    );
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::validate::tests::snap;

    fn req(v: Value) -> Vec<HttpRequest> {
        requests(&serde_json::from_value(v).unwrap(), &snap()).unwrap()
    }

    #[test]
    fn requirements_now_check_what_holds_and_name_what_does_not() {
        let ok: Command = serde_json::from_value(
            json!({"kind": "retry_job", "project": "g/app", "job_id": 11, "rationale": "r"}),
        )
        .unwrap();
        assert_eq!(
            requirements_now(&ok, &snap()),
            vec![(true, "job 11 (rspec) is failed or canceled".to_string())]
        );
        let bad: Command = serde_json::from_value(
            json!({"kind": "retry_job", "project": "g/app", "job_id": 15, "rationale": "r"}),
        )
        .unwrap();
        let now = requirements_now(&bad, &snap());
        assert_eq!(now.len(), 1);
        assert!(!now[0].0);
        assert!(now[0].1.contains("job 15 is success"), "{now:?}");
    }

    #[test]
    fn every_kind_maps_to_its_rest_call() {
        let p = "g/app";
        let one = |v: Value| {
            let r = req(v);
            assert_eq!(r.len(), 1);
            r.into_iter().next().unwrap()
        };
        let r = one(json!({"kind": "retry_job", "project": p, "job_id": 11, "rationale": "r"}));
        assert_eq!(r.to_string(), "POST /api/v4/projects/1/jobs/11/retry");
        assert_eq!(r.api_path(), "/projects/1/jobs/11/retry");
        let r = one(json!({"kind": "play_job", "project": p, "job_id": 13, "rationale": "r"}));
        assert_eq!(r.to_string(), "POST /api/v4/projects/1/jobs/13/play");
        let r = one(
            json!({"kind": "retry_pipeline", "project": p, "pipeline_id": 100, "rationale": "r"}),
        );
        assert_eq!(r.to_string(), "POST /api/v4/projects/1/pipelines/100/retry");
        let r = one(
            json!({"kind": "cancel_pipeline", "project": p, "pipeline_id": 101, "rationale": "r"}),
        );
        assert_eq!(
            r.to_string(),
            "POST /api/v4/projects/1/pipelines/101/cancel"
        );
        let r = one(json!({"kind": "rebase_mr", "project": p, "mr_iid": 42, "rationale": "r"}));
        assert_eq!(
            r.to_string(),
            "PUT /api/v4/projects/1/merge_requests/42/rebase"
        );
        let r = one(
            json!({"kind": "set_labels", "project": p, "mr_iid": 42, "add": ["a", "b"],
            "remove": ["c"], "rationale": "r"}),
        );
        assert_eq!(r.method, "PUT");
        assert_eq!(
            r.body,
            Some(json!({"add_labels": "a,b", "remove_labels": "c"}))
        );
        let r = one(
            json!({"kind": "assign_reviewers", "project": p, "mr_iid": 42,
            "reviewers": ["bob", "@carol"], "rationale": "r"}),
        );
        assert_eq!(r.body, Some(json!({"reviewer_ids": [8, 9]})));
        let r = one(
            json!({"kind": "merge_mr", "project": p, "mr_iid": 42, "sha": "aaaaaaa",
            "rationale": "r"}),
        );
        assert_eq!(r.path, "/api/v4/projects/1/merge_requests/42/merge");
        assert_eq!(
            r.body,
            Some(json!({"sha": "a".repeat(40)})),
            "short sha expanded to the head"
        );
        let r = one(
            json!({"kind": "comment_mr", "project": p, "mr_iid": 42, "body": "hi\n",
            "rationale": "r"}),
        );
        assert_eq!(r.body, Some(json!({"body": format!("hi\n\n{BOT_MARKER}")})));
        assert!(
            req(json!({"kind": "note", "project": p, "text": "t", "rationale": "r"})).is_empty()
        );
        let r = one(json!({"kind": "comment_mr", "project": p, "mr_iid": 42,
            "body": "leaked glpat-AAAAAAAAAAAAAAAAAAAA here", "rationale": "r"}));
        let posted = r.body.unwrap()["body"].as_str().unwrap().to_string();
        assert!(
            !posted.contains("glpat-A") && posted.contains("[REDACTED"),
            "{posted}"
        );
    }

    /// `reviewer_ids` replaces the MR's reviewers: the details say whom it takes off.
    #[test]
    fn assign_reviewers_says_which_reviewers_it_replaces() {
        let c: Command = serde_json::from_value(json!({"kind": "assign_reviewers",
            "project": "g/app", "mr_iid": 42, "reviewers": ["@bob"], "rationale": "r"}))
        .unwrap();
        let mut s = snap();
        let row = |s: &ProjectSnapshot| {
            details(&c, s)
                .into_iter()
                .find(|(l, _)| *l == "replaces")
                .map(|(_, t)| t)
        };
        assert_eq!(row(&s).as_deref(), Some("no current reviewers"));
        let user = |name: &str| -> crate::gitlab::models::UserRef {
            serde_json::from_value(json!({"id": 1, "username": name})).unwrap()
        };
        std::sync::Arc::make_mut(&mut s.mrs)
            .get_mut(&42)
            .map(std::sync::Arc::make_mut)
            .unwrap()
            .reviewers = vec![user("carol").into(), user("bob").into()];
        assert_eq!(
            row(&s).as_deref(),
            Some("current reviewers carol, bob: removes carol")
        );
    }

    #[test]
    fn details_show_payload_request_and_preconditions() {
        let c = serde_json::from_value(json!({"kind": "comment_mr", "project": "g/app",
            "mr_iid": 42, "body": "line1\nAWS AKIAABCDEFGHIJKLMNOP", "rationale": "r",
            "confidence": 0.7, "evidence": ["e1"]}))
        .unwrap();
        let rows = details(&c, &snap());
        let labels: Vec<&str> = rows.iter().map(|(l, _)| *l).collect();
        assert_eq!(
            labels,
            ["why", "confidence", "evidence", "body", "sends", "requires"]
        );
        assert!(rows[3].1.starts_with("line1\n") && !rows[3].1.contains("AKIA"));
        assert!(
            rows[4]
                .1
                .starts_with("POST /api/v4/projects/1/merge_requests/42/notes")
        );
    }

    #[test]
    fn unknown_reviewers_cannot_form_a_request() {
        let c = serde_json::from_value(json!({"kind": "assign_reviewers", "project": "g/app",
            "mr_iid": 42, "reviewers": ["mallory"], "rationale": "r"}))
        .unwrap();
        assert!(requests(&c, &snap()).unwrap_err().contains("mallory"));
    }

    #[test]
    fn preconditions_name_the_target() {
        let c = serde_json::from_value(json!({"kind": "retry_job", "project": "g/app",
            "job_id": 11, "rationale": "r"}))
        .unwrap();
        assert_eq!(
            preconditions(&c, &snap()),
            ["job 11 (rspec) is failed or canceled"]
        );
        let c = serde_json::from_value(json!({"kind": "play_job", "project": "g/app",
            "job_id": 14, "rationale": "r"}))
        .unwrap();
        assert!(preconditions(&c, &snap()).join(";").contains("production"));
    }
}
