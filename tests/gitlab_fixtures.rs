//! Every real GitLab payload in `shared/fixtures/gitlab/` parses into our models, with the values
//! that matter read correctly; and hostile variations (unknown enum values, unknown fields,
//! nulls, truncation) never fail a parse that should succeed nor panic.

// Test and benchmark code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use gitaiops::gitlab::models::*;
use gitaiops::testkit::fixture_path;
use serde::de::DeserializeOwned;

fn fixtures_dir() -> PathBuf {
    let dir = fixture_path("gitlab");
    assert!(dir.is_dir(), "fixtures not found at {}", dir.display());
    dir
}

fn load<T: DeserializeOwned>(name: &str) -> T {
    let path = fixtures_dir().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

const COVERED: &[&str] = &[
    "job_cancel.json",
    "job_get.json",
    "job_play.json",
    "job_retry.json",
    "jobs_list.json",
    "merge_request_get.json",
    "merge_requests_list.json",
    "mr_approval_state.json",
    "mr_approvals.json",
    "mr_diffs_list.json",
    "mr_discussions_list.json",
    "mr_note_get.json",
    "notes_list.json",
    "pipeline_cancel.json",
    "pipeline_create.json",
    "pipeline_get.json",
    "pipeline_jobs_list.json",
    "pipeline_retry.json",
    "pipelines_list.json",
    "project_get.json",
    "project_members_list.json",
    "user_current.json",
    "user_get.json",
];

#[test]
fn every_json_fixture_has_a_test() {
    let mut found: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    found.sort();
    let missing: Vec<&String> = found
        .iter()
        .filter(|n| !COVERED.contains(&n.as_str()))
        .collect();
    assert!(missing.is_empty(), "fixtures without a test: {missing:?}");
}

#[test]
fn job_cancel() {
    let j: Job = load("job_cancel.json");
    assert_eq!((j.id, j.name.as_str()), (1, "rubocop"));
    assert_eq!(j.status, Status::Canceled);
    assert!(j.finished_at.is_none() && j.runner.is_none() && j.user.is_none());
    assert_eq!(j.duration, Some(8.0));
}

#[test]
fn job_get() {
    let j: Job = load("job_get.json");
    assert_eq!(j.id, 8);
    assert_eq!(j.status, Status::Failed);
    assert_eq!(j.pipeline_id(), Some(6));
    assert_eq!(
        j.pipeline.as_ref().and_then(|p| p.status.clone()),
        Some(Status::Pending)
    );
    assert_eq!(j.duration, Some(0.465));
    assert_eq!(j.tag_list, vec!["docker runner", "macos-10.15"]);
    assert_eq!(j.user.as_ref().map(|u| u.username.as_str()), Some("root"));
    let commit = j.commit.as_ref().unwrap();
    assert_eq!(commit.author_email.as_deref(), Some("admin@example.com"));
    // Commit times carry an offset (`+01:00`) and still parse.
    assert!(commit.created_at.is_some());
    assert!(j.started_at.unwrap() < j.finished_at.unwrap());
}

#[test]
fn job_play() {
    let j: Job = load("job_play.json");
    assert_eq!(j.status, Status::Pending);
    assert!(j.duration.is_none() && j.started_at.is_none());
}

#[test]
fn job_retry() {
    let j: Job = load("job_retry.json");
    assert_eq!((j.id, j.status.clone()), (1, Status::Pending));
    assert!(!j.allow_failure);
}

#[test]
fn jobs_list() {
    let jobs: Vec<Job> = load("jobs_list.json");
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].failure_reason, Some(FailureReason::ScriptFailure));
    assert!(!jobs[0].failure_reason.as_ref().unwrap().is_infrastructure());
    assert_eq!(
        jobs[1].failure_reason,
        Some(FailureReason::StuckOrTimeoutFailure)
    );
    assert!(jobs[1].failure_reason.as_ref().unwrap().is_infrastructure());
    let runner = jobs[0].runner.as_ref().unwrap();
    assert_eq!((runner.id, runner.is_shared), (32, Some(true)));
    assert!(jobs[1].runner.is_none());
}

#[test]
fn merge_request_get() {
    let mr: MergeRequest = load("merge_request_get.json");
    assert_eq!((mr.id, mr.iid, mr.project_id), (33092005, 14656, 278964));
    assert_eq!(mr.state, MrState::Opened);
    assert_eq!(
        mr.detailed_merge_status,
        Some(DetailedMergeStatus::Mergeable)
    );
    let hp = mr.head_pipeline.as_ref().unwrap();
    assert_eq!((hp.id, hp.status.clone()), (77056819, Status::Success));
    assert_eq!(
        mr.diff_refs.as_ref().and_then(|d| d.head_sha.as_deref()),
        mr.sha.as_deref()
    );
    assert_eq!(mr.user.as_ref().and_then(|u| u.can_merge), Some(false));
    assert_eq!(mr.changes_count.as_deref(), Some("35"));
    assert_eq!(
        mr.milestone.as_ref().map(|m| m.title.as_str()),
        Some("12.2")
    );
    assert_eq!(mr.author_username(), "alexkalderimis");
    assert_eq!(mr.labels.len(), 9);
    // `draft: true` wins over the deprecated `work_in_progress: false`.
    assert!(mr.is_draft());
    assert_eq!(mr.has_conflicts, Some(true));
    assert!(mr.conflicts());
    assert_eq!(
        mr.updated_at.unwrap().to_string(),
        "2019-08-20T09:09:56.69Z"
    );
}

#[test]
fn merge_requests_list() {
    let mrs: Vec<MergeRequest> = load("merge_requests_list.json");
    assert_eq!(
        mrs.iter().map(|m| m.iid).collect::<Vec<_>>(),
        vec![15442, 15441, 15440]
    );
    // `draft` is absent here; the deprecated `work_in_progress` decides.
    assert!(mrs[0].is_draft() && mrs[1].is_draft() && !mrs[2].is_draft());
    // List items have no head pipeline and no diff refs.
    assert!(mrs.iter().all(|m| m.head_pipeline.is_none()));
    assert!(mrs[0].milestone.is_none());
    assert!(mrs[1].labels.contains(&"workflow::In dev".to_string()));
}

#[test]
fn mr_approval_state() {
    let s: ApprovalState = load("mr_approval_state.json");
    assert_eq!(s.approval_rules_overwritten, Some(true));
    assert_eq!(s.rules.len(), 1);
    assert_eq!(s.rules[0].name, "Ruby");
    assert_eq!(s.rules[0].approvals_required, Some(2));
    assert_eq!(s.rules[0].approved, Some(true));
}

#[test]
fn mr_approvals() {
    let a: Approvals = load("mr_approvals.json");
    assert_eq!(a.iid, 5);
    // The older shape has no `approved`: satisfied is derived from approvals_left.
    assert_eq!(a.approved, None);
    assert_eq!((a.given(), a.required()), (2, 2));
    assert_eq!(a.approvals_left, Some(1));
    assert!(!a.satisfied());
    assert_eq!(a.approved_by[1].user.username, "ryley");
}

#[test]
fn mr_diffs_list() {
    let d: Vec<MrDiff> = load("mr_diffs_list.json");
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].new_path, "README");
    assert_eq!(d[1].old_path, "VERSION");
    assert!(!d[0].new_file && !d[0].renamed_file && !d[0].deleted_file);
}

#[test]
fn mr_discussions_list() {
    let d: Vec<Discussion> = load("mr_discussions_list.json");
    assert_eq!(d.len(), 3);
    assert_eq!(d[0].notes.len(), 2);
    assert!(d[1].individual_note);
    // gitlab4j's "Merge request" and GitLab's "MergeRequest" are both kept verbatim.
    assert_eq!(
        d[0].notes[0].noteable_type.as_deref(),
        Some("Merge request")
    );
    assert_eq!(d[2].notes[0].noteable_type.as_deref(), Some("MergeRequest"));
}

#[test]
fn mr_note_get() {
    let n: Note = load("mr_note_get.json");
    assert_eq!((n.id, n.body.as_str()), (301, "Comment for MR"));
    assert_eq!(n.noteable_iid, Some(2));
    assert!(!n.system);
    assert_eq!(n.internal, Some(false));
    assert_eq!(n.created_at.unwrap().to_string(), "2013-10-02T08:57:14Z");
}

#[test]
fn notes_list() {
    let notes: Vec<Note> = load("notes_list.json");
    assert_eq!(
        notes.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![302, 305]
    );
    assert!(notes.iter().all(|n| n.system));
    assert_eq!(
        notes[0].author.as_ref().map(|a| a.username.as_str()),
        Some("pipin")
    );
}

#[test]
fn pipeline_cancel() {
    let p: Pipeline = load("pipeline_cancel.json");
    assert_eq!((p.id, p.iid), (46, Some(11)));
    assert_eq!(p.status, Status::Canceled);
    assert!(p.status.is_terminal());
    assert!(p.duration.is_none() && p.started_at.is_none() && p.yaml_errors.is_none());
}

#[test]
fn pipeline_create() {
    let p: Pipeline = load("pipeline_create.json");
    assert_eq!(p.id, 61);
    assert_eq!(p.status, Status::Pending);
    assert!(p.status.is_active());
    assert_eq!(p.git_ref.as_deref(), Some("main"));
}

#[test]
fn pipeline_get() {
    let p: Pipeline = load("pipeline_get.json");
    assert_eq!(p.id, 287);
    assert_eq!(p.status, Status::Success);
    assert_eq!(p.duration, Some(34.0));
    assert_eq!(p.queued_duration, Some(6.0));
    assert_eq!(p.name.as_deref(), Some("Build pipeline"));
    let ds = p.detailed_status.as_ref().unwrap();
    assert_eq!(ds.group.as_deref(), Some("success"));
    assert_eq!(ds.text.as_deref(), Some("passed"));
    assert!(p.coverage.is_none());
}

#[test]
fn pipeline_jobs_list() {
    let jobs: Vec<Job> = load("pipeline_jobs_list.json");
    assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), vec![6, 7]);
    assert!(jobs.iter().all(|j| j.pipeline_id() == Some(6)));
    assert!(jobs.iter().all(|j| j.status == Status::Failed));
}

#[test]
fn pipeline_retry() {
    let p: Pipeline = load("pipeline_retry.json");
    assert_eq!((p.id, p.status.clone()), (46, Status::Pending));
}

#[test]
fn pipelines_list() {
    let ps: Vec<Pipeline> = load("pipelines_list.json");
    assert_eq!(ps.iter().map(|p| p.id).collect::<Vec<_>>(), vec![47, 48]);
    assert_eq!(ps[1].source.as_deref(), Some("web"));
    // The list lacks duration, user and detailed_status.
    assert!(ps.iter().all(|p| p.duration.is_none() && p.user.is_none()));
    assert!(ps.iter().all(|p| p.detailed_status.is_none()));
}

#[test]
fn project_get() {
    let p: Project = load("project_get.json");
    assert_eq!(p.id, 3);
    assert_eq!(p.path_with_namespace, "diaspora/diaspora-project-site");
    assert_eq!(p.default_branch.as_deref(), Some("master"));
    assert_eq!(p.merge_method.as_deref(), Some("merge"));
    assert_eq!(p.only_allow_merge_if_pipeline_succeeds, Some(false));
    let ns = p.namespace.as_ref().unwrap();
    assert_eq!((ns.id, ns.kind.as_deref()), (3, Some("group")));
}

#[test]
fn project_members_list() {
    let m: Vec<Member> = load("project_members_list.json");
    assert_eq!(m.len(), 3);
    assert_eq!(m[0].username, "raymond_smith");
    assert_eq!(m[0].access_level, 30);
    // A datetime here, a date on real GitLab: kept as text either way.
    assert_eq!(m[0].expires_at.as_deref(), Some("2012-10-22T14:13:35Z"));
}

#[test]
fn user_current() {
    let u: User = load("user_current.json");
    assert_eq!((u.id, u.username.as_str()), (1, "john_smith"));
    assert_eq!(u.is_admin, Some(false));
    assert_eq!(u.state.as_deref(), Some("active"));
}

#[test]
fn user_get() {
    let u: User = load("user_get.json");
    assert_eq!(u.name, "John Smith");
    assert_eq!(u.bot, Some(false));
    assert_eq!(u.is_admin, None);
}

// ---- hostile variations ----------------------------------------------------------------------

#[test]
fn unknown_enum_values_are_kept_not_rejected() {
    let mut v: serde_json::Value = load("job_get.json");
    v["status"] = "quantum_superposition".into();
    v["failure_reason"] = "cosmic_ray".into();
    let j: Job = serde_json::from_value(v).unwrap();
    assert_eq!(j.status, Status::Unknown("quantum_superposition".into()));
    assert_eq!(j.status.to_string(), "quantum_superposition");
    assert!(!j.status.is_terminal() && !j.status.is_active());
    assert_eq!(
        j.failure_reason.as_ref().map(|r| r.as_str()),
        Some("cosmic_ray")
    );

    let mut v: serde_json::Value = load("merge_request_get.json");
    v["state"] = "archived_forever".into();
    v["detailed_merge_status"] = "can_be_merged".into();
    let mr: MergeRequest = serde_json::from_value(v).unwrap();
    assert_eq!(mr.state, MrState::Unknown("archived_forever".into()));
    assert_eq!(
        mr.detailed_merge_status.as_ref().map(|d| d.as_str()),
        Some("can_be_merged")
    );
    // Round trip keeps the unknown value verbatim.
    let back = serde_json::to_value(&mr).unwrap();
    assert_eq!(back["state"], "archived_forever");
}

#[test]
fn unknown_fields_are_ignored() {
    let mut v: serde_json::Value = load("pipeline_get.json");
    v["added_in_gitlab_99"] = serde_json::json!({"nested": [1, 2, 3]});
    v["detailed_status"]["sparkle"] = true.into();
    let p: Pipeline = serde_json::from_value(v).unwrap();
    assert_eq!(p.id, 287);
}

#[test]
fn nulls_and_missing_optionals_parse() {
    let mr: MergeRequest = serde_json::from_value(serde_json::json!({
        "id": 1, "iid": 2, "state": "opened", "description": null, "assignees": null,
        "reviewers": null, "labels": null, "author": null, "milestone": null,
        "created_at": null, "updated_at": "not a date", "changes_count": null,
        "head_pipeline": null, "diff_refs": null, "has_conflicts": null
    }))
    .unwrap();
    assert_eq!(mr.description, "");
    assert!(mr.assignees.is_empty() && mr.labels.is_empty());
    assert!(
        mr.updated_at.is_none(),
        "unparseable timestamps become None"
    );
    assert_eq!(mr.author_username(), "?");

    let j: Job = serde_json::from_value(serde_json::json!({
        "id": 5, "status": "failed", "allow_failure": null, "tag_list": null,
        "coverage": "82.68", "duration": "12.5", "runner": null, "pipeline": null
    }))
    .unwrap();
    assert!(!j.allow_failure && j.tag_list.is_empty());
    assert_eq!(j.coverage, Some(82.68));
    assert_eq!(j.duration, Some(12.5));

    let a: Approvals = serde_json::from_value(serde_json::json!({"approved_by": null})).unwrap();
    assert!(a.approved_by.is_empty() && a.satisfied());

    let labels: MergeRequest = serde_json::from_value(serde_json::json!({
        "id": 1, "iid": 1, "state": "opened",
        "labels": [{"name": "bug", "color": "#f00"}, "plain", 42]
    }))
    .unwrap();
    assert_eq!(labels.labels, vec!["bug", "plain"]);
}

#[test]
fn truncated_payloads_fail_cleanly_at_every_cut() {
    let bytes = std::fs::read(fixtures_dir().join("merge_requests_list.json")).unwrap();
    for cut in (0..bytes.len() - 1).step_by(97) {
        let r: Result<Vec<MergeRequest>, _> = serde_json::from_slice(&bytes[..cut]);
        assert!(r.is_err(), "a cut at {cut} bytes must not parse");
    }
    let r: Result<Vec<MergeRequest>, _> = serde_json::from_slice(&bytes);
    assert!(r.is_ok());
}

#[test]
fn job_traces_are_bytes_not_assumed_utf8() {
    let raw = std::fs::read(fixtures_dir().join("job_trace_runner13_cr.log")).unwrap();
    assert!(
        raw.windows(2).any(|w| w == b"\r\x1b"),
        "wire-exact CR markers"
    );
    // Invalid UTF-8 in a trace is data, not an error.
    let mut bytes = raw[..256].to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, b'\n']);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains('\u{fffd}'));
}
