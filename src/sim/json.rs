//! GitLab's JSON shapes for the simulated entities. Field names and types follow the fixtures in
//! `shared/fixtures/gitlab/` (e.g. `changes_count` is a string, pipeline `coverage` a string, job
//! `duration` a float); list items are slimmer than single objects, as on GitLab.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::state::{Job, Mr, Ms, NoteRec, Pipeline, UserRec, World};

/// GitLab's wire form for timestamps: UTC with milliseconds.
pub fn ts(ms: Ms) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => crate::gitlab::models::ts::format_ms(t),
        Err(_) => "1970-01-01T00:00:00.000Z".into(),
    }
}

fn opt_ts(ms: Option<Ms>) -> Value {
    ms.map_or(Value::Null, |m| Value::String(ts(m)))
}

fn avatar(username: &str) -> String {
    let digest = Sha256::digest(username.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("https://www.gravatar.com/avatar/{hex}?s=80&d=identicon")
}

pub fn user_ref(w: &World, id: u64) -> Value {
    match w.user(id) {
        Some(u) => user_basic(w, u),
        None => Value::Null,
    }
}

fn user_basic(w: &World, u: &UserRec) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "name": u.name,
        "state": "active",
        "locked": false,
        "avatar_url": avatar(&u.username),
        "web_url": format!("{}/{}", w.base_url, u.username),
    })
}

/// `GET /user`: the token's owner.
pub fn current_user(w: &World) -> Value {
    let Some(u) = w.user(w.current_user) else {
        return Value::Null;
    };
    let mut v = user_basic(w, u);
    if let Some(o) = v.as_object_mut() {
        let created = ts(w.project.created_at - 86_400_000 * 30);
        for (k, val) in [
            ("created_at", json!(created)),
            ("bio", json!("")),
            ("location", json!("")),
            ("public_email", json!("")),
            ("linkedin", json!("")),
            ("twitter", json!("")),
            ("website_url", json!("")),
            ("organization", json!("Acme")),
            ("job_title", json!("")),
            ("bot", json!(u.bot)),
            ("email", json!(format!("{}@acme.dev", u.username))),
            ("is_admin", json!(false)),
            ("can_create_group", json!(true)),
            ("can_create_project", json!(true)),
            ("two_factor_enabled", json!(true)),
            ("external", json!(false)),
            ("private_profile", json!(false)),
            ("last_sign_in_at", json!(created)),
            ("confirmed_at", json!(created)),
            ("theme_id", json!(1)),
            ("color_scheme_id", json!(1)),
            ("projects_limit", json!(100000)),
            ("identities", json!([])),
            ("namespace_id", json!(u.id + 100)),
        ] {
            o.insert(k.into(), val);
        }
    }
    v
}

/// `GET /users/:id`: the public profile (`API::Entities::User`), with `bot`.
pub fn user_profile(w: &World, u: &UserRec) -> Value {
    let mut v = user_basic(w, u);
    if let Some(o) = v.as_object_mut() {
        for (k, val) in [
            (
                "created_at",
                json!(ts(w.project.created_at - 86_400_000 * 30)),
            ),
            ("bio", json!("")),
            ("location", json!("")),
            ("public_email", json!(u.public_email)),
            ("skype", json!("")),
            ("linkedin", json!("")),
            ("twitter", json!("")),
            ("discord", json!("")),
            ("website_url", json!("")),
            ("organization", json!("Acme")),
            ("job_title", json!("")),
            ("pronouns", Value::Null),
            ("bot", json!(u.bot)),
            ("work_information", Value::Null),
            ("followers", json!(0)),
            ("following", json!(0)),
            ("is_followed", json!(false)),
            ("local_time", Value::Null),
        ] {
            o.insert(k.into(), val);
        }
    }
    v
}

/// `GET /users/:id/status` (`API::Entities::UserStatus`): all null when none is set.
pub fn user_status(u: &UserRec) -> Value {
    match &u.status {
        Some(s) => json!({
            "emoji": s.emoji,
            "availability": s.availability,
            "message": s.message,
            "message_html": format!("<p>{}</p>", s.message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")),
            "clear_status_at": Value::Null,
        }),
        None => json!({
            "emoji": Value::Null, "availability": Value::Null, "message": Value::Null,
            "message_html": "", "clear_status_at": Value::Null,
        }),
    }
}

pub fn member(w: &World, u: &UserRec) -> Value {
    let mut v = user_basic(w, u);
    if let Some(o) = v.as_object_mut() {
        o.insert("access_level".into(), json!(u.access_level));
        o.insert("created_at".into(), json!(ts(w.project.created_at)));
        o.insert("expires_at".into(), Value::Null);
        o.insert("membership_state".into(), json!("active"));
    }
    v
}

pub fn project_web_url(w: &World) -> String {
    format!("{}/{}", w.base_url, w.project.path)
}

/// Project settings that never change in the simulation (GitLab sends ~100 of them).
const PROJECT_SETTINGS: &str = include_str!("../../assets/sim/project_settings.json");

pub fn project(w: &World, now: Ms) -> Value {
    let settings: Value = serde_json::from_str(PROJECT_SETTINGS).unwrap_or(Value::Null);
    merge(project_core(w, now), settings)
}

/// The fields of `simple=true` (GitLab's `BasicProjectDetails`): what a project list costs
/// without the settings.
pub fn project_simple(w: &World, now: Ms) -> Value {
    const KEYS: [&str; 19] = [
        "id",
        "description",
        "name",
        "name_with_namespace",
        "path",
        "path_with_namespace",
        "created_at",
        "default_branch",
        "tag_list",
        "topics",
        "ssh_url_to_repo",
        "http_url_to_repo",
        "web_url",
        "readme_url",
        "forks_count",
        "avatar_url",
        "star_count",
        "last_activity_at",
        "namespace",
    ];
    match project_core(w, now) {
        Value::Object(mut all) => {
            all.retain(|k, _| KEYS.contains(&k.as_str()));
            Value::Object(all)
        }
        other => other,
    }
}

fn project_core(w: &World, now: Ms) -> Value {
    let p = &w.project;
    let web = project_web_url(w);
    let api = format!("{}/api/v4/projects/{}", w.base_url, p.id);
    let host = w
        .base_url
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    json!({
        "id": p.id,
        "description": p.description,
        "name": p.name,
        "name_with_namespace": format!("Acme / {}", p.name),
        "path": p.name,
        "path_with_namespace": p.path,
        "created_at": ts(p.created_at),
        "updated_at": ts(now),
        "default_branch": p.default_branch,
        "tag_list": ["billing", "checkout"],
        "topics": ["billing", "checkout"],
        "ssh_url_to_repo": format!("git@{host}:{}.git", p.path),
        "http_url_to_repo": format!("{web}.git"),
        "web_url": web,
        "readme_url": format!("{web}/-/blob/{}/README.md", p.default_branch),
        "forks_count": 0,
        "avatar_url": null,
        "star_count": 12,
        "last_activity_at": ts(now),
        "namespace": {
            "id": p.namespace_id,
            "name": "Acme",
            "path": p.namespace,
            "kind": "group",
            "full_path": p.namespace,
            "parent_id": null,
            "avatar_url": null,
            "web_url": format!("{}/groups/{}", w.base_url, p.namespace),
        },
        "container_registry_image_prefix": format!("registry.acme.dev/{}", p.path),
        "_links": {
            "self": api,
            "issues": format!("{api}/issues"),
            "merge_requests": format!("{api}/merge_requests"),
            "repo_branches": format!("{api}/repository/branches"),
            "labels": format!("{api}/labels"),
            "events": format!("{api}/events"),
            "members": format!("{api}/members"),
            "cluster_agents": format!("{api}/cluster_agents"),
        },
        "visibility": "private",
        "archived": false,
        "empty_repo": false,
        "issues_enabled": true,
        "merge_requests_enabled": true,
        "jobs_enabled": true,
        "merge_method": "merge",
        "squash_option": "default_off",
        "only_allow_merge_if_pipeline_succeeds": true,
        "only_allow_merge_if_all_discussions_are_resolved": w.threads_must_be_resolved,
        "allow_merge_on_skipped_pipeline": false,
        "remove_source_branch_after_merge": true,
        "ci_config_path": "",
        "open_issues_count": 7,
        "creator_id": w.current_user,
        "permissions": {
            "project_access": {"access_level": 50, "notification_level": 3},
            "group_access": null,
        },
    })
}

fn detailed_status(w: &World, p: &Pipeline, status: &str, now: Ms) -> Value {
    let warnings = status == "success" && w.pipeline_has_warnings(p, now);
    let (text, label) = match status {
        "success" if warnings => ("Warning", "passed with warnings"),
        "success" => ("Passed", "passed"),
        "failed" => ("Failed", "failed"),
        "running" => ("Running", "running"),
        "pending" => ("Pending", "pending"),
        "canceled" => ("Canceled", "canceled"),
        "skipped" => ("Skipped", "skipped"),
        "manual" => ("Blocked", "waiting for manual action"),
        "created" => ("Created", "created"),
        "waiting_for_resource" => ("Waiting", "waiting for resource"),
        other => (other, other),
    };
    let group = if warnings {
        "success-with-warnings".to_string()
    } else {
        status.to_string()
    };
    let icon = if warnings {
        "status_warning".to_string()
    } else {
        format!("status_{status}")
    };
    let path = format!("/{}/-/pipelines/{}", w.project.path, p.id);
    json!({
        "icon": icon,
        "text": text,
        "label": label,
        "group": group,
        "tooltip": label,
        "has_details": true,
        "details_path": path,
        "illustration": null,
        "favicon": format!("/assets/ci_favicons/favicon_{icon}.png"),
    })
}

pub fn pipeline_web_url(w: &World, id: u64) -> String {
    format!("{}/-/pipelines/{id}", project_web_url(w))
}

/// A pipeline list item: no `detailed_status`, `duration` or `user`.
pub fn pipeline_item(w: &World, p: &Pipeline, now: Ms) -> Value {
    json!({
        "id": p.id,
        "iid": p.iid,
        "project_id": w.project.id,
        "sha": p.sha,
        "ref": p.git_ref,
        "status": w.pipeline_status(p, now),
        "source": p.source,
        "created_at": ts(p.created_at),
        "updated_at": ts(w.pipeline_updated_at(p, now)),
        "web_url": pipeline_web_url(w, p.id),
        "name": p.name,
    })
}

pub fn pipeline_full(w: &World, p: &Pipeline, now: Ms) -> Value {
    let status = w.pipeline_status(p, now);
    let started = w.pipeline_started_at(p, now);
    let finished = w.pipeline_finished_at(p, now);
    let duration = match (started, finished) {
        (Some(s), Some(f)) => json!((f - s) / 1000),
        (Some(s), None) => json!((now - s) / 1000),
        _ => Value::Null,
    };
    let queued = started.map_or(Value::Null, |s| json!((s - p.created_at) as f64 / 1000.0));
    let coverage = match (status, p.coverage) {
        ("success", Some(c)) if p.source != "parent_pipeline" => json!(format!("{c:.2}")),
        _ => Value::Null,
    };
    let mut v = pipeline_item(w, p, now);
    if let Some(o) = v.as_object_mut() {
        for (k, val) in [
            ("before_sha", json!(p.before_sha)),
            ("tag", json!(false)),
            ("yaml_errors", Value::Null),
            ("user", user_ref(w, p.user_id)),
            ("started_at", opt_ts(started)),
            ("finished_at", opt_ts(finished)),
            ("committed_at", Value::Null),
            ("duration", duration),
            ("queued_duration", queued),
            ("coverage", coverage),
            ("detailed_status", detailed_status(w, p, status, now)),
            ("archived", json!(false)),
        ] {
            o.insert(k.into(), val);
        }
    }
    v
}

/// The job entity (lists and single job share it on GitLab).
pub fn job(w: &World, j: &Job, now: Ms) -> Value {
    let status = j.status(now);
    let p = w.pipeline(j.pipeline_id);
    let (sha, git_ref, source, title) = p.map_or(("", "", "push", ""), |p| {
        (
            p.sha.as_str(),
            p.git_ref.as_str(),
            p.source.as_str(),
            p.commit_title.as_str(),
        )
    });
    let started = j.started_at.filter(|&s| s <= now && !j.skipped);
    let end = j
        .canceled_at
        .filter(|&c| c <= now)
        .or(j.finished_at.filter(|&f| f <= now));
    let (started, finished) = match (started, end) {
        (Some(s), Some(f)) => (Some(s), Some(f.max(s))),
        (s, None) => (s, None),
        (None, Some(f)) if status == "canceled" => (None, Some(f)),
        (None, _) => (None, None),
    };
    let duration = match (started, finished) {
        (Some(s), Some(f)) => json!((f - s) as f64 / 1000.0),
        (Some(s), None) => json!((now - s) as f64 / 1000.0),
        _ => Value::Null,
    };
    let queued_duration = match started {
        Some(s) => json!((s - j.queued_at.min(s)) as f64 / 1000.0),
        None if matches!(status, "pending" | "waiting_for_resource") => {
            json!((now - j.queued_at) as f64 / 1000.0)
        }
        None => Value::Null,
    };
    let runner = started.map(|_| {
        let n = 1 + j.id % 5;
        json!({
            "id": 40 + n,
            "description": format!("acme-docker-runner-0{n}"),
            "ip_address": null,
            "active": true,
            "paused": false,
            "is_shared": false,
            "runner_type": "group_type",
            "name": "gitlab-runner",
            "online": true,
            "status": "online",
        })
    });
    let runner_manager = started.map(|s| {
        let n = 1 + j.id % 5;
        json!({
            "id": 140 + n,
            "system_id": format!("s_{:012x}", super::state::mix(n) & 0xffff_ffff_ffff),
            "version": "17.5.2",
            "revision": "c6eae8d7",
            "platform": "linux",
            "architecture": "amd64",
            "created_at": ts(w.project.created_at),
            "contacted_at": ts(s),
            "ip_address": "10.12.0.5",
        })
    });
    let has_artifacts = status == "success" && !j.manual;
    let web_url = format!("{}/-/jobs/{}", project_web_url(w), j.id);
    let coverage = match (status, j.log) {
        ("success", super::logs::LogKind::CargoTest) => {
            p.and_then(|p| p.coverage).map_or(Value::Null, |c| json!(c))
        }
        _ => Value::Null,
    };
    let author = w.user(p.map_or(w.current_user, |p| p.user_id));
    let mut v = json!({
        "commit": {
            "author_email": author.map(|u| format!("{}@acme.dev", u.username)),
            "author_name": author.map(|u| u.name.clone()),
            "created_at": ts(p.map_or(j.created_at, |p| p.created_at) - 120_000),
            "id": sha,
            "message": format!("{title}\n"),
            "short_id": &sha[..8.min(sha.len())],
            "title": title,
        },
        "coverage": coverage,
        "archived": false,
        "source": source,
        "allow_failure": j.allow_failure,
        "created_at": ts(j.created_at),
        "started_at": opt_ts(started),
        "finished_at": opt_ts(finished),
        "erased_at": null,
        "duration": duration,
        "queued_duration": queued_duration,
        "artifacts_expire_at": if has_artifacts { opt_ts(finished.map(|f| f + 30 * 86_400_000)) } else { Value::Null },
        "tag_list": ["docker", "linux"],
        "id": j.id,
        "name": j.name,
        "pipeline": {
            "id": j.pipeline_id,
            "project_id": w.project.id,
            "ref": git_ref,
            "sha": sha,
            "status": p.map_or("created", |p| w.pipeline_status(p, now)),
        },
        "ref": git_ref,
        "artifacts": if has_artifacts {
            json!([{"file_type": "trace", "size": 4096 + j.id % 8192, "filename": "job.log", "file_format": null}])
        } else { json!([]) },
        "runner": runner,
        "runner_manager": runner_manager,
        "stage": j.stage,
        "status": status,
        "tag": false,
        "web_url": web_url,
        "project": {"ci_job_token_scope_enabled": false},
        "user": user_ref(w, j.user_id),
    });
    if let Some(o) = v.as_object_mut() {
        if let Some(reason) = j.failure_reason(now) {
            o.insert("failure_reason".into(), json!(reason));
        }
        // GitLab's REST job entity has no `environment` (only the GraphQL and CI job-token
        // views do): a client must not be able to lean on it, so the simulator sends none.
        if has_artifacts && !matches!(j.log, super::logs::LogKind::Deploy) {
            o.insert(
                "artifacts_file".into(),
                json!({"filename": "artifacts.zip", "size": 1000 + j.id % 100_000}),
            );
        }
    }
    v
}

pub fn bridge(w: &World, p: &Pipeline, b: &super::state::BridgeRec, now: Ms) -> Value {
    let down = w.pipeline(b.downstream);
    let status = down.map_or("created", |d| w.pipeline_status(d, now));
    let started = down.and_then(|d| w.pipeline_started_at(d, now));
    let finished = down.and_then(|d| w.pipeline_finished_at(d, now));
    json!({
        "commit": {"id": p.sha, "short_id": &p.sha[..8.min(p.sha.len())], "title": p.commit_title},
        "coverage": null,
        "allow_failure": false,
        "created_at": ts(p.created_at),
        "started_at": opt_ts(started),
        "finished_at": opt_ts(finished),
        "erased_at": null,
        "duration": match (started, finished) {
            (Some(s), Some(f)) => json!((f - s) as f64 / 1000.0),
            _ => Value::Null,
        },
        "queued_duration": null,
        "id": b.id,
        "name": b.name,
        "pipeline": {"id": p.id, "iid": p.iid, "project_id": w.project.id, "sha": p.sha, "ref": p.git_ref,
            "status": w.pipeline_status(p, now), "source": p.source, "created_at": ts(p.created_at),
            "updated_at": ts(w.pipeline_updated_at(p, now)), "web_url": pipeline_web_url(w, p.id)},
        "ref": p.git_ref,
        "stage": b.stage,
        "status": status,
        "tag": false,
        "web_url": format!("{}/-/jobs/{}", project_web_url(w), b.id),
        "user": user_ref(w, p.user_id),
        "downstream_pipeline": down.map(|d| pipeline_item(w, d, now)),
    })
}

fn references(w: &World, iid: u64) -> Value {
    json!({"short": format!("!{iid}"), "relative": format!("!{iid}"), "full": format!("{}!{iid}", w.project.path)})
}

fn users(w: &World, ids: &[u64]) -> Value {
    Value::Array(ids.iter().map(|&id| user_ref(w, id)).collect())
}

/// An MR list item: no `head_pipeline`, `diff_refs`, `changes_count`, `user` or `merge_error`.
pub fn mr_item(w: &World, mr: &Mr, now: Ms) -> Value {
    let dms = w.detailed_merge_status(mr, now);
    let merge_user = mr.merge_user.map_or(Value::Null, |u| user_ref(w, u));
    let done_tasks = mr.description.matches("- [x]").count();
    let tasks = done_tasks + mr.description.matches("- [ ]").count();
    let head = json!({
        "id": mr.id,
        "iid": mr.iid,
        "project_id": w.project.id,
        "title": mr.title,
        "description": mr.description,
        "state": mr.state,
        "imported": false,
        "imported_from": "none",
        "created_at": ts(mr.created_at),
        "updated_at": ts(mr.updated_at),
        "merged_by": merge_user,
        "merge_user": merge_user,
        "merged_at": opt_ts(mr.merged_at),
        "merge_after": null,
        "prepared_at": ts(mr.created_at + 30_000),
        "closed_by": mr.closed_by.map_or(Value::Null, |u| user_ref(w, u)),
        "closed_at": opt_ts(mr.closed_at),
    });
    let rest = json!({
        "target_branch": mr.target_branch,
        "source_branch": mr.source_branch,
        "user_notes_count": w.user_notes_count(mr.iid),
        "upvotes": 0,
        "downvotes": 0,
        "author": user_ref(w, mr.author),
        "assignees": users(w, &mr.assignees),
        "assignee": mr.assignees.first().map_or(Value::Null, |&a| user_ref(w, a)),
        "reviewers": users(w, &mr.reviewers),
        "source_project_id": w.project.id,
        "target_project_id": w.project.id,
        "labels": mr.labels,
        "draft": mr.is_draft(),
        "work_in_progress": mr.is_draft(),
        "milestone": null,
        "merge_when_pipeline_succeeds": mr.auto_merge,
        "merge_status": if mr.conflicts { "cannot_be_merged" } else { "can_be_merged" },
        "detailed_merge_status": dms,
        "sha": mr.sha,
        "merge_commit_sha": mr.merge_commit_sha,
        "squash_commit_sha": null,
        "discussion_locked": null,
        "should_remove_source_branch": null,
        "force_remove_source_branch": true,
        "reference": format!("!{}", mr.iid),
        "references": references(w, mr.iid),
        "web_url": format!("{}/-/merge_requests/{}", project_web_url(w), mr.iid),
        "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": null, "human_total_time_spent": null},
        "squash": false,
        "squash_on_merge": false,
        "task_completion_status": {"count": tasks, "completed_count": done_tasks},
        "has_conflicts": mr.conflicts,
        "blocking_discussions_resolved": w.discussions_resolved(mr.iid),
        "approvals_before_merge": null,
    });
    merge(head, rest)
}

/// Concatenates two JSON objects (`json!` has a macro recursion limit for big literals).
fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(ao), Value::Object(bo)) = (a.as_object_mut(), b) {
        ao.extend(bo);
    }
    a
}

pub fn mr_full(w: &World, mr: &Mr, now: Ms, include_rebase: bool) -> Value {
    let mut v = mr_item(w, mr, now);
    let head = w.head_pipeline(mr);
    let head_json = head.map_or(Value::Null, |p| pipeline_full(w, p, now));
    let changes = mr.changes_count();
    let changes_count = if changes > 1000 {
        "1000+".to_string()
    } else {
        changes.to_string()
    };
    let (lb_started, lb_finished) = head.map_or((None, None), |p| {
        (
            w.pipeline_started_at(p, now),
            w.pipeline_finished_at(p, now),
        )
    });
    let dms = w.detailed_merge_status(mr, now);
    if let Some(o) = v.as_object_mut() {
        for (k, val) in [
            ("subscribed", json!(true)),
            ("changes_count", json!(changes_count)),
            ("latest_build_started_at", opt_ts(lb_started)),
            ("latest_build_finished_at", opt_ts(lb_finished)),
            ("first_deployed_to_production_at", Value::Null),
            (
                "pipeline",
                head.map_or(Value::Null, |p| pipeline_item(w, p, now)),
            ),
            ("head_pipeline", head_json),
            (
                "diff_refs",
                json!({"base_sha": mr.base_sha, "head_sha": mr.sha, "start_sha": mr.base_sha}),
            ),
            ("merge_error", json!(mr.merge_error)),
            ("user", json!({"can_merge": dms == "mergeable"})),
            ("first_contribution", json!(false)),
        ] {
            o.insert(k.into(), val);
        }
        if include_rebase {
            o.insert("rebase_in_progress".into(), json!(false));
        }
    }
    v
}

pub fn approvals(w: &World, mr: &Mr, now: Ms) -> Value {
    let approved_by: Vec<Value> = mr
        .approved_by
        .iter()
        .map(|&(u, at)| json!({"user": user_ref(w, u), "approved_at": ts(at)}))
        .collect();
    let eligible: Vec<Value> = w
        .users
        .iter()
        .filter(|u| u.access_level >= 30 && u.id != mr.author && !u.bot)
        .map(|u| user_basic(w, u))
        .collect();
    if w.ce {
        // CE's entity (`merge_request_approvals.rb`): `approved` means someone approved.
        return json!({
            "user_has_approved": mr.approved_by.iter().any(|&(u, _)| u == w.current_user),
            "user_can_approve": mr.author != w.current_user && mr.state == "opened",
            "approved": !approved_by.is_empty(),
            "approved_by": approved_by,
        });
    }
    let left = mr.approvals_left();
    json!({
        "id": mr.id,
        "iid": mr.iid,
        "project_id": w.project.id,
        "title": mr.title,
        "description": mr.description,
        "state": mr.state,
        "created_at": ts(mr.created_at),
        "updated_at": ts(mr.updated_at),
        "merge_status": if mr.conflicts { "cannot_be_merged" } else { "can_be_merged" },
        "approved": left == 0,
        "approvals_required": mr.approvals_required,
        "approvals_left": left,
        "require_password_to_approve": false,
        "approved_by": approved_by,
        "suggested_approvers": eligible.iter().take(3).cloned().collect::<Vec<_>>(),
        "approvers": [],
        "approver_groups": [],
        "user_has_approved": mr.approved_by.iter().any(|&(u, _)| u == w.current_user),
        "user_can_approve": mr.author != w.current_user && mr.state == "opened",
        "approval_rules_left": if left > 0 { json!([{"id": 1, "name": "Backend", "rule_type": "regular"}]) } else { json!([]) },
        "has_approval_rules": true,
        "merge_request_approvers_available": true,
        "multiple_approval_rules_available": true,
        "invalid_approvers_rules": [],
        "detailed_merge_status": w.detailed_merge_status(mr, now),
    })
}

pub fn note(w: &World, n: &NoteRec) -> Value {
    let mr_id = w.mr_id_base() + n.mr_iid;
    let author = w.user(n.author).map_or(Value::Null, |u| {
        let mut a = user_basic(w, u);
        if let Some(o) = a.as_object_mut() {
            o.insert("created_at".into(), json!(ts(w.project.created_at)));
        }
        a
    });
    let mut v = json!({
        "id": n.id,
        "type": if n.thread.is_some() { json!("DiscussionNote") } else { Value::Null },
        "body": n.body,
        "attachment": null,
        "author": author,
        "created_at": ts(n.created_at),
        "updated_at": ts(n.created_at),
        "system": n.system,
        "noteable_id": mr_id,
        "noteable_type": "MergeRequest",
        "project_id": w.project.id,
        "noteable_iid": n.mr_iid,
        "commit_id": null,
        "resolvable": n.thread.is_some(),
        "confidential": false,
        "internal": false,
        "imported": false,
        "imported_from": "none",
    });
    // GitLab's note entity exposes these three only when the note is resolvable
    // (`if: ->(note, _) { note.resolvable? }`); a plain comment has none of them.
    if n.thread.is_some()
        && let Some(o) = v.as_object_mut()
    {
        o.insert("resolved".into(), json!(n.resolved.is_some()));
        o.insert(
            "resolved_by".into(),
            n.resolved.map_or(Value::Null, |(u, _)| user_ref(w, u)),
        );
        o.insert(
            "resolved_at".into(),
            n.resolved.map_or(Value::Null, |(_, at)| json!(ts(at))),
        );
    }
    v
}

/// A discussion: a plain comment is its own (`individual_note: true`), a thread's notes go
/// together, oldest first. The id is GitLab's 40 hex digits.
pub fn discussion(w: &World, notes: &[&NoteRec]) -> Value {
    let key = match notes.first() {
        Some(n) => match n.thread {
            Some(t) => format!("thread-{t}"),
            None => format!("discussion-{}", n.id),
        },
        None => String::new(),
    };
    let id: String = Sha256::digest(key.as_bytes())
        .iter()
        .take(20)
        .map(|b| format!("{b:02x}"))
        .collect();
    let individual = notes.first().is_some_and(|n| n.thread.is_none());
    let notes: Vec<Value> = notes.iter().map(|n| note(w, n)).collect();
    json!({"id": id, "individual_note": individual, "notes": notes})
}

/// `GET …/approval_state` (Premium): one rule, the project's `Backend` rule, whose eligible
/// approvers are the developers and up other than the author and bots.
pub fn approval_state(w: &World, mr: &Mr) -> Value {
    let eligible: Vec<&UserRec> = w
        .users
        .iter()
        .filter(|u| u.access_level >= 30 && u.id != mr.author && !u.bot)
        .collect();
    let approved_by: Vec<Value> = mr
        .approved_by
        .iter()
        .filter_map(|&(u, _)| w.user(u))
        .map(|u| user_basic(w, u))
        .collect();
    let basic: Vec<Value> = eligible.iter().map(|u| user_basic(w, u)).collect();
    json!({
        "approval_rules_overwritten": false,
        "rules": [{
            "id": 1,
            "name": "Backend",
            "rule_type": "regular",
            "eligible_approvers": basic,
            "approvals_required": mr.approvals_required,
            "users": basic,
            "groups": [],
            "contains_hidden_groups": false,
            "approved_by": approved_by,
            "source_rule": null,
            "approved": mr.approvals_left() == 0,
            "overridden": false,
        }],
    })
}

pub fn commit(w: &World, sha: &str, author: u64, at: Ms, title: &str) -> Value {
    let u = w.user(author);
    let name = u.map_or("Unknown".to_string(), |u| u.name.clone());
    let email = u.map_or("unknown@acme.dev".to_string(), |u| {
        format!("{}@acme.dev", u.username)
    });
    json!({
        "id": sha,
        "short_id": &sha[..8.min(sha.len())],
        "created_at": ts(at),
        "parent_ids": [],
        "title": title,
        "message": format!("{title}\n"),
        "author_name": name,
        "author_email": email,
        "authored_date": ts(at),
        "committer_name": name,
        "committer_email": email,
        "committed_date": ts(at),
        "trailers": {},
        "extended_trailers": {},
        "web_url": format!("{}/-/commit/{sha}", project_web_url(w)),
    })
}
