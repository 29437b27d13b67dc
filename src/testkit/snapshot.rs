//! A small hand-made project snapshot in GitLab's wire form, for tests of the app and renders.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::gitlab::{
    ApprovalState, Approvals, Discussion, Job, MergeRequest, MrDiff, Note, Pipeline,
    ProjectSnapshot,
};

pub const NOW: &str = "2026-03-01T12:00:00Z";

pub fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn user(id: u64, username: &str) -> Value {
    json!({"id": id, "username": username, "name": username.to_uppercase(), "state": "active"})
}

#[allow(clippy::too_many_arguments)]
fn mr(
    iid: u64,
    title: &str,
    author: Value,
    reviewers: Vec<Value>,
    labels: &[&str],
    created: &str,
    updated: &str,
    extra: Value,
) -> MergeRequest {
    let mut v = json!({
        "id": 9000 + iid, "iid": iid, "project_id": 1, "title": title, "state": "opened",
        "description": format!("Description of !{iid}"),
        "created_at": created, "updated_at": updated,
        "target_branch": "main", "source_branch": format!("feature-{iid}"),
        "author": author, "assignees": [], "reviewers": reviewers, "labels": labels,
        "draft": false, "has_conflicts": false, "sha": format!("sha{iid}"),
        "detailed_merge_status": "mergeable", "web_url": format!("http://gitlab.test/acme/platform/-/merge_requests/{iid}")
    });
    if let (Some(obj), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in extra {
            obj.insert(k.clone(), x.clone());
        }
    }
    serde_json::from_value(v).unwrap()
}

fn pipeline(
    id: u64,
    status: &str,
    git_ref: &str,
    source: &str,
    created: &str,
    duration: Option<u64>,
) -> Pipeline {
    serde_json::from_value(json!({
        "id": id, "iid": id - 100, "project_id": 1, "status": status, "source": source, "ref": git_ref,
        "sha": format!("psha{id}"), "created_at": created, "updated_at": created, "started_at": created,
        "duration": duration, "user": user(1, "alice"),
        "web_url": format!("http://gitlab.test/acme/platform/-/pipelines/{id}"),
    }))
    .unwrap()
}

fn job(
    id: u64,
    pipeline: u64,
    stage: &str,
    name: &str,
    status: &str,
    reason: Option<&str>,
    duration: Option<f64>,
) -> Job {
    let mut v = json!({
        "id": id, "name": name, "stage": stage, "status": status, "allow_failure": false,
        "ref": "feature", "pipeline": {"id": pipeline, "project_id": 1, "status": status},
        "created_at": "2026-03-01T11:00:00Z", "started_at": "2026-03-01T11:00:10Z",
        "duration": duration, "tag_list": []
    });
    if let Some(r) = reason {
        v["failure_reason"] = json!(r);
    }
    serde_json::from_value(v).unwrap()
}

pub fn snapshot() -> ProjectSnapshot {
    let mut s = ProjectSnapshot {
        host: "gitlab.test".into(),
        project: serde_json::from_value(json!({
            "id": 1, "name": "platform", "path_with_namespace": "acme/platform", "default_branch": "main"
        }))
        .unwrap(),
        user: Some(serde_json::from_value(user(1, "alice")).unwrap()),
        fetched_at: Some(now()),
        ..Default::default()
    };
    let mrs = [
        mr(
            1,
            "Fix cache invalidation on deploy",
            user(1, "alice"),
            vec![user(3, "carol")],
            &["backend", "bug"],
            "2026-02-27T09:00:00Z",
            "2026-03-01T10:00:00Z",
            json!({}),
        ),
        mr(
            2,
            "Add rate-limit headers to the API client",
            user(2, "bob"),
            vec![user(4, "dave")],
            &["api"],
            "2026-02-28T15:00:00Z",
            "2026-03-01T09:00:00Z",
            json!({}),
        ),
        mr(
            3,
            "Draft: move CI to rules:",
            user(3, "carol"),
            vec![],
            &["ci"],
            "2026-03-01T08:00:00Z",
            "2026-03-01T11:00:00Z",
            json!({"draft": true, "detailed_merge_status": "draft_status"}),
        ),
        mr(
            4,
            "Bump serde to 1.0.228",
            user(5, "renovate-bot"),
            vec![user(1, "alice")],
            &["backend", "dependencies"],
            "2026-02-20T12:00:00Z",
            "2026-03-01T11:55:00Z",
            json!({"has_conflicts": true, "detailed_merge_status": "conflict"}),
        ),
    ];
    for m in mrs {
        std::sync::Arc::make_mut(&mut s.mrs).insert(m.iid, m.into());
    }
    let pipes = [
        pipeline(
            101,
            "failed",
            "refs/merge-requests/1/head",
            "merge_request_event",
            "2026-03-01T11:00:00Z",
            Some(754),
        ),
        pipeline(
            102,
            "success",
            "refs/merge-requests/2/head",
            "merge_request_event",
            "2026-03-01T09:00:00Z",
            Some(402),
        ),
        pipeline(
            103,
            "running",
            "refs/merge-requests/3/head",
            "merge_request_event",
            "2026-03-01T11:50:00Z",
            None,
        ),
        pipeline(
            104,
            "pending",
            "refs/merge-requests/4/head",
            "merge_request_event",
            "2026-03-01T11:56:00Z",
            None,
        ),
        pipeline(
            105,
            "success",
            "main",
            "push",
            "2026-03-01T07:00:00Z",
            Some(380),
        ),
        pipeline(
            106,
            "failed",
            "main",
            "push",
            "2026-03-01T11:30:00Z",
            Some(95),
        ),
    ];
    for p in pipes {
        std::sync::Arc::make_mut(&mut s.pipelines).insert(p.id, p);
    }
    std::sync::Arc::make_mut(&mut s.jobs).insert(
        101,
        vec![
            job(1004, 101, "deploy", "deploy-staging", "skipped", None, None),
            job(1003, 101, "test", "lint", "success", None, Some(31.0)),
            job(
                1002,
                101,
                "test",
                "unit",
                "failed",
                Some("script_failure"),
                Some(412.0),
            ),
            job(1001, 101, "build", "compile", "success", None, Some(298.0)),
        ],
    );
    std::sync::Arc::make_mut(&mut s.jobs).insert(
        103,
        vec![
            job(1033, 103, "test", "integration", "pending", None, None),
            job(1032, 103, "test", "unit", "running", None, None),
            job(1031, 103, "build", "compile", "success", None, Some(301.0)),
        ],
    );
    std::sync::Arc::make_mut(&mut s.jobs).insert(
        106,
        vec![job(
            1061,
            106,
            "build",
            "compile",
            "failed",
            Some("runner_system_failure"),
            Some(95.0),
        )],
    );
    let approvals: [(u64, Value); 3] = [
        (
            1,
            json!({"iid": 1, "approved": false, "approvals_required": 2, "approvals_left": 2, "approved_by": []}),
        ),
        (
            2,
            json!({"iid": 2, "approved": true, "approvals_required": 1, "approvals_left": 0, "approved_by": [{"user": user(3, "carol")}]}),
        ),
        (
            4,
            json!({"iid": 4, "approved": false, "approvals_required": 1, "approvals_left": 1, "approved_by": []}),
        ),
    ];
    for (iid, a) in approvals {
        let a: Approvals = serde_json::from_value(a).unwrap();
        std::sync::Arc::make_mut(&mut s.approvals).insert(iid, a);
    }
    let diffs: Vec<MrDiff> = serde_json::from_value(json!([
        {"old_path": "src/cache.rs", "new_path": "src/cache.rs", "diff": "@@ -1,3 +1,4 @@\n-old\n+new\n+more\n ctx\n"},
        {"old_path": "src/deploy.rs", "new_path": "src/deploy.rs", "diff": "@@ -1 +1 @@\n-a\n+b\n"},
        {"old_path": "", "new_path": "tests/cache_test.rs", "new_file": true, "diff": "@@ -0,0 +1,2 @@\n+x\n+y\n"}
    ]))
    .unwrap();
    std::sync::Arc::make_mut(&mut s.diffs).insert(1, diffs);
    let notes: Vec<Note> = serde_json::from_value(json!([
        {"id": 1, "body": "Looks good, but the unit tests fail.", "author": user(3, "carol"), "created_at": "2026-03-01T11:40:00Z", "system": false},
        {"id": 2, "body": "requested review from @carol", "author": user(1, "alice"), "created_at": "2026-03-01T10:00:00Z", "system": true}
    ]))
    .unwrap();
    std::sync::Arc::make_mut(&mut s.notes).insert(1, notes);
    std::sync::Arc::make_mut(&mut s.discussions).insert(1, discussions());
    let rules: ApprovalState = serde_json::from_value(json!({
        "approval_rules_overwritten": false,
        "rules": [
            {"id": 1, "name": "Backend", "rule_type": "regular", "approvals_required": 2,
             "eligible_approvers": [user(3, "carol"), user(4, "dave")], "users": [user(3, "carol"), user(4, "dave")],
             "groups": [], "contains_hidden_groups": false, "approved_by": [], "approved": false},
            {"id": 2, "name": "src/deploy.rs", "rule_type": "code_owner", "approvals_required": 1,
             "eligible_approvers": [user(2, "bob")], "users": [user(2, "bob")],
             "groups": [], "contains_hidden_groups": false, "approved_by": [], "approved": false}
        ]
    }))
    .unwrap();
    std::sync::Arc::make_mut(&mut s.approval_state).insert(1, rules);
    s
}

/// The wire shape (`type`, `resolvable`, `resolved`, `resolved_by`, `resolved_at` on
/// each note of a thread; a plain comment without the last three).
pub fn discussions() -> Vec<Discussion> {
    let user = |id: u64, name: &str| json!({"id": id, "username": name, "name": name});
    let note = |id: u64, who: &str, body: &str, at: &str, resolved: Option<(&str, &str)>| {
        json!({"id": id, "type": "DiscussionNote", "body": body, "author": user(id, who),
               "created_at": at, "system": false, "resolvable": true,
               "resolved": resolved.is_some(),
               "resolved_by": resolved.map(|(w, _)| user(99, w)),
               "resolved_at": resolved.map(|(_, t)| t)})
    };
    serde_json::from_value(json!([
        {"id": "a1", "individual_note": false, "notes": [
            note(11, "carol", "Is the TTL right?\nIt looks short.", "2026-03-01T09:00:00Z", Some(("alice", "2026-03-01T10:00:00Z"))),
            note(12, "alice", "Fixed.", "2026-03-01T09:30:00Z", Some(("alice", "2026-03-01T10:00:00Z")))]},
        {"id": "b2", "individual_note": true, "notes": [
            {"id": 13, "type": null, "body": "plain comment", "author": user(3, "dave"),
             "created_at": "2026-03-01T09:10:00Z", "system": false, "resolvable": false}]},
        {"id": "c3", "individual_note": false, "notes": [
            note(14, "dave", "Needs a test\u{1b}[31m for the\u{202E} race.", "2026-03-01T11:00:00Z", None),
            note(15, "alice", "On it.", "2026-03-01T11:20:00Z", None)]},
        {"id": "d4", "individual_note": true, "notes": [
            {"id": 16, "body": "approved this merge request", "system": true,
             "created_at": "2026-03-01T11:30:00Z", "resolvable": false}]}
    ]))
    .unwrap()
}

/// Records in `snap` what GitLab's deployments would say: job `job_id` deploys to `env`. The
/// first call starts a complete answer (every job covered), as a project's deployments read
/// after its pipelines are.
pub fn deploys_to(snap: &mut ProjectSnapshot, job_id: u64, env: &str) {
    let d = snap
        .deployments
        .get_or_insert_with(|| crate::gitlab::Deployments {
            as_of: Some("2100-01-01T00:00:00Z".parse().unwrap()),
            ..Default::default()
        });
    d.by_job.insert(job_id, env.to_string());
}
