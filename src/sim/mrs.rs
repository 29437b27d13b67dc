//! Merge request endpoints: list/single/diffs/approvals/notes/discussions and the writes
//! (notes, update, rebase, merge).

use axum::http::StatusCode;
use serde_json::json;

use super::http::{Params, Reply};
use super::json;
use super::repo;
use super::state::{Mr, Ms, NoteRec, World};

fn find<'a>(w: &'a World, iid: &str) -> Result<&'a Mr, Reply> {
    iid.parse::<u64>()
        .ok()
        .and_then(|i| w.mrs.get(&i))
        .ok_or_else(|| Reply::not_found("Merge Request"))
}

pub fn list(w: &World, now: Ms, p: &Params) -> Reply {
    list_many(&[w], now, p, "all")
}

/// The MRs of several projects in one list: `GET /groups/:id/merge_requests` (default scope
/// `all`) and `GET /merge_requests` (default scope `created_by_me`), with the project list's
/// filters, order and paging.
pub fn list_many(worlds: &[&World], now: Ms, p: &Params, default_scope: &str) -> Reply {
    let Some(w) = worlds.first() else {
        return Reply::Page(p.page(0), Vec::new());
    };
    let checks = [
        p.one_of(
            "scope",
            &["created_by_me", "assigned_to_me", "reviews_for_me", "all"],
        ),
        p.one_of("state", &["opened", "closed", "locked", "merged", "all"]),
        p.one_of(
            "order_by",
            &[
                "created_at",
                "updated_at",
                "merged_at",
                "title",
                "label_priority",
                "milestone_due",
                "popularity",
                "priority",
            ],
        ),
        p.one_of("sort", &["asc", "desc"]),
    ];
    if let Some(Err(r)) = checks.into_iter().find(Result::is_err) {
        return r;
    }
    let state = p.get("state").unwrap_or("all");
    let ((ua, ub), (ca, cb)) = match (
        p.time_range("updated_after", "updated_before"),
        p.time_range("created_after", "created_before"),
    ) {
        (Ok(u), Ok(c)) => (u, c),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let iids = p.ids("iids");
    let labels = labels_param(p, "labels");
    let user_filter = |name_key: &str, id_key: &str| -> Option<u64> {
        p.get(id_key).and_then(|v| v.parse().ok()).or_else(|| {
            p.get(name_key)
                .and_then(|n| w.user_by_name(n))
                .map(|u| u.id)
        })
    };
    let author = user_filter("author_username", "author_id");
    let reviewer = user_filter("reviewer_username", "reviewer_id");
    let assignee = p.get("assignee_id");
    let search = p.get("search").map(str::to_ascii_lowercase);
    let me = w.current_user;
    let scope = p.get("scope").unwrap_or(default_scope);
    let in_scope = |m: &Mr| match scope {
        "created_by_me" => m.author == me,
        "assigned_to_me" => m.assignees.contains(&me),
        "reviews_for_me" => m.reviewers.contains(&me),
        _ => true,
    };
    let kept: Vec<&Mr> = worlds
        .iter()
        .flat_map(|w| w.mrs.values())
        .filter(|m| in_scope(m))
        .filter(|m| state == "all" || m.state == state)
        .filter(|m| ua.is_none_or(|t| m.updated_at >= t))
        .filter(|m| ub.is_none_or(|t| m.updated_at <= t))
        .filter(|m| ca.is_none_or(|t| m.created_at >= t))
        .filter(|m| cb.is_none_or(|t| m.created_at <= t))
        .filter(|m| iids.as_ref().is_none_or(|ids| ids.contains(&m.iid)))
        .filter(|m| match labels.as_deref() {
            None => true,
            Some([one]) if one == "None" => m.labels.is_empty(),
            Some([one]) if one == "Any" => !m.labels.is_empty(),
            Some(ls) => ls.iter().all(|l| m.labels.contains(l)),
        })
        .filter(|m| author.is_none_or(|a| m.author == a))
        .filter(|m| reviewer.is_none_or(|r| m.reviewers.contains(&r)))
        .filter(|m| match assignee {
            None => true,
            Some("None") => m.assignees.is_empty(),
            Some("Any") => !m.assignees.is_empty(),
            Some(id) => id.parse().is_ok_and(|id| m.assignees.contains(&id)),
        })
        .filter(|m| match p.get("wip").or(p.get("draft")) {
            Some("yes") | Some("true") => m.is_draft(),
            Some("no") | Some("false") => !m.is_draft(),
            _ => true,
        })
        .filter(|m| p.get("source_branch").is_none_or(|b| m.source_branch == b))
        .filter(|m| p.get("target_branch").is_none_or(|b| m.target_branch == b))
        .filter(|m| {
            search.as_deref().is_none_or(|s| {
                m.title.to_ascii_lowercase().contains(s)
                    || m.description.to_ascii_lowercase().contains(s)
            })
        })
        .collect();
    // Pair each MR with its project (MRs are looked up by id: ids are instance-wide).
    let mut mrs: Vec<(&World, &Mr)> = kept
        .into_iter()
        .filter_map(|m| {
            worlds
                .iter()
                .find(|w| w.mrs.get(&m.iid).is_some_and(|x| x.id == m.id))
                .map(|w| (*w, m))
        })
        .collect();
    let order_by = p.get("order_by").unwrap_or("created_at");
    let asc = p.get("sort") == Some("asc");
    mrs.sort_by(|(_, a), (_, b)| {
        let o = match order_by {
            "updated_at" => a.updated_at.cmp(&b.updated_at),
            "title" => a.title.cmp(&b.title),
            "merged_at" => a.merged_at.cmp(&b.merged_at),
            _ => a.created_at.cmp(&b.created_at),
        }
        .then(a.id.cmp(&b.id));
        if asc { o } else { o.reverse() }
    });
    let page = p.page(mrs.len());
    let simple = p.get("view") == Some("simple");
    let items = mrs[page.range()]
        .iter()
        .map(|&(w, m)| {
            if simple {
                json!({"id": m.id, "iid": m.iid, "project_id": w.project.id, "title": m.title,
                    "description": m.description, "state": m.state, "created_at": json::ts(m.created_at),
                    "updated_at": json::ts(m.updated_at),
                    "web_url": format!("{}/-/merge_requests/{}", json::project_web_url(w), m.iid)})
            } else {
                json::mr_item(w, m, now)
            }
        })
        .collect();
    Reply::Page(page, items)
}

pub fn single(w: &World, now: Ms, iid: &str, p: &Params) -> Reply {
    match find(w, iid) {
        Ok(mr) => Reply::ok(json::mr_full(
            w,
            mr,
            now,
            p.flag("include_rebase_in_progress").unwrap_or(false),
        )),
        Err(r) => r,
    }
}

pub fn diffs(w: &World, iid: &str, p: &Params) -> Reply {
    let mr = match find(w, iid) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let page = p.page(repo::diff_count(mr));
    let items = page
        .range()
        .filter_map(|i| repo::diff_at(w.seed, mr, i))
        .collect();
    Reply::Page(page, items)
}

pub fn approvals(w: &World, now: Ms, iid: &str) -> Reply {
    match find(w, iid) {
        Ok(mr) => Reply::ok(json::approvals(w, mr, now)),
        Err(r) => r,
    }
}

fn notes_of(w: &World, iid: u64, p: &Params) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..w.notes.len())
        .filter(|&i| w.notes[i].mr_iid == iid)
        .collect();
    // GitLab's default for notes is created_at desc.
    let asc = p.get("sort") == Some("asc");
    idx.sort_by(|&a, &b| {
        let o = w.notes[a]
            .created_at
            .cmp(&w.notes[b].created_at)
            .then(w.notes[a].id.cmp(&w.notes[b].id));
        if asc { o } else { o.reverse() }
    });
    idx
}

pub fn notes(w: &World, iid: &str, p: &Params) -> Reply {
    let mr = match find(w, iid) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let items = notes_of(w, mr.iid, p)
        .into_iter()
        .map(|i| json::note(w, &w.notes[i]))
        .collect();
    Reply::list(p, items)
}

pub fn note(w: &World, iid: &str, note_id: &str) -> Reply {
    let mr = match find(w, iid) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let id: Option<u64> = note_id.parse().ok();
    w.notes
        .iter()
        .find(|n| Some(n.id) == id && n.mr_iid == mr.iid)
        .map_or_else(|| Reply::not_found("Note"), |n| Reply::ok(json::note(w, n)))
}

pub fn discussions(w: &World, iid: &str, p: &Params) -> Reply {
    let mr = match find(w, iid) {
        Ok(m) => m,
        Err(r) => return r,
    };
    // Discussions come oldest first, whatever `sort` says (the endpoint has no order
    // parameter); a thread sits where its first note does, its replies inside it.
    let mut idx: Vec<usize> = (0..w.notes.len())
        .filter(|&i| w.notes[i].mr_iid == mr.iid)
        .collect();
    idx.sort_by_key(|&i| (w.notes[i].created_at, w.notes[i].id));
    let mut threads: Vec<Vec<&NoteRec>> = Vec::new();
    for i in idx {
        let n = &w.notes[i];
        match n
            .thread
            .and_then(|t| threads.iter_mut().find(|d| d[0].thread == Some(t)))
        {
            Some(d) => d.push(n),
            None => threads.push(vec![n]),
        }
    }
    let items = threads.iter().map(|d| json::discussion(w, d)).collect();
    Reply::list(p, items)
}

/// `GET …/approval_state`: Premium and Ultimate only. CE has no such route: Grape's 404 for
/// an unknown route, whatever the MR.
pub fn approval_state(w: &World, iid: &str) -> Reply {
    if w.ce {
        return Reply::error(404, "404 Not Found");
    }
    match find(w, iid) {
        Ok(mr) => Reply::ok(json::approval_state(w, mr)),
        Err(r) => r,
    }
}

pub fn mr_pipelines(w: &World, now: Ms, iid: &str, p: &Params) -> Reply {
    let mr = match find(w, iid) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let items = mr
        .pipelines
        .iter()
        .rev()
        .filter_map(|&id| w.pipeline(id))
        .map(|pl| json::pipeline_item(w, pl, now))
        .collect();
    Reply::list(p, items)
}

pub fn create_note(w: &mut World, now: Ms, iid: &str, p: &Params) -> Reply {
    let iid = match find(w, iid) {
        Ok(m) => m.iid,
        Err(r) => return r,
    };
    let Some(body) = p.get("body") else {
        return Reply::error(400, "body is missing");
    };
    if body.trim().is_empty() {
        return Reply::error(400, "body is empty");
    }
    if body.len() > 1_000_000 {
        return Reply::message(400, "400 Bad request - Note body is too long");
    }
    match w.add_note(iid, body, now) {
        Ok(id) => w.notes.iter().find(|n| n.id == id).map_or_else(
            || Reply::not_found("Note"),
            |n| Reply::created(json::note(w, n)),
        ),
        Err(_) => Reply::not_found("Merge Request"),
    }
}

const UPDATE_ATTRS: &[&str] = &[
    "assignee_id",
    "assignee_ids",
    "confidential",
    "description",
    "discussion_locked",
    "labels",
    "add_labels",
    "remove_labels",
    "milestone_id",
    "remove_source_branch",
    "state_event",
    "target_branch",
    "title",
    "reviewer_ids",
    "squash",
    "allow_collaboration",
    "merge_after",
];

/// Labels arrive as `a,b`, as `labels[]=a&labels[]=b` or as a JSON array.
fn labels_param(p: &Params, key: &str) -> Option<Vec<String>> {
    let vals = p.all(key)?;
    let mut out: Vec<String> = Vec::new();
    for l in vals.iter().flat_map(|v| v.split(',')).map(str::trim) {
        if !l.is_empty() && !out.iter().any(|x| x == l) {
            out.push(l.to_string());
        }
    }
    Some(out)
}

fn mentions(w: &World, ids: &[u64]) -> String {
    ids.iter()
        .filter_map(|&id| w.user(id))
        .map(|u| format!("@{}", u.username))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn update(w: &mut World, now: Ms, iid: &str, p: &Params) -> Reply {
    let iid = match find(w, iid) {
        Ok(m) => m.iid,
        Err(r) => return r,
    };
    if !UPDATE_ATTRS.iter().any(|a| p.has(a)) {
        return Reply::error(
            400,
            &format!(
                "{} are missing, at least one parameter must be provided",
                UPDATE_ATTRS.join(", ")
            ),
        );
    }
    let known = |ids: Vec<u64>| -> Vec<u64> {
        ids.into_iter().filter(|&id| w.user(id).is_some()).collect()
    };
    let reviewers = p.ids("reviewer_ids").map(known);
    let assignees = p
        .ids("assignee_ids")
        .or_else(|| p.ids("assignee_id"))
        .map(known);
    let Some(mr) = w.mrs.get(&iid) else {
        return Reply::not_found("Merge Request");
    };
    let mut mr = mr.clone();
    let mut events: Vec<String> = Vec::new();
    if let Some(t) = p.get("title") {
        if t.trim().is_empty() {
            return Reply::message(400, "400 Bad request - title is empty");
        }
        let was_draft = mr.is_draft();
        mr.title = t.to_string();
        events.push(match (was_draft, mr.is_draft()) {
            (true, false) => "marked this merge request as **ready**".into(),
            (false, true) => "marked this merge request as **draft**".into(),
            _ => format!("changed title to **{t}**"),
        });
    }
    if let Some(d) = p.get("description") {
        mr.description = d.to_string();
        events.push("changed the description".into());
    }
    let before = mr.labels.clone();
    if let Some(l) = labels_param(p, "labels") {
        mr.labels = l;
    }
    if let Some(add) = labels_param(p, "add_labels") {
        for l in add {
            if !mr.labels.contains(&l) {
                mr.labels.push(l);
            }
        }
    }
    if let Some(rm) = labels_param(p, "remove_labels") {
        mr.labels.retain(|l| !rm.contains(l));
    }
    let added: Vec<String> = mr
        .labels
        .iter()
        .filter(|l| !before.contains(l))
        .map(|l| format!("~\"{l}\""))
        .collect();
    let removed: Vec<String> = before
        .iter()
        .filter(|l| !mr.labels.contains(l))
        .map(|l| format!("~\"{l}\""))
        .collect();
    match (added.is_empty(), removed.is_empty()) {
        (false, true) => events.push(format!(
            "added {} label{}",
            added.join(" "),
            if added.len() > 1 { "s" } else { "" }
        )),
        (true, false) => events.push(format!(
            "removed {} label{}",
            removed.join(" "),
            if removed.len() > 1 { "s" } else { "" }
        )),
        (false, false) => events.push(format!(
            "added {} and removed {} labels",
            added.join(" "),
            removed.join(" ")
        )),
        (true, true) => {}
    }
    if let Some(r) = reviewers
        && r != mr.reviewers
    {
        let new: Vec<u64> = r
            .iter()
            .copied()
            .filter(|id| !mr.reviewers.contains(id))
            .collect();
        if new.is_empty() {
            events.push("removed review request".into());
        } else {
            events.push(format!("requested review from {}", mentions(w, &new)));
        }
        mr.reviewers = r;
    }
    if let Some(a) = assignees
        && a != mr.assignees
    {
        events.push(if a.is_empty() {
            "unassigned everyone".into()
        } else {
            format!("assigned to {}", mentions(w, &a))
        });
        mr.assignees = a;
    }
    if let Some(t) = p.get("target_branch") {
        mr.target_branch = t.to_string();
    }
    match p.get("state_event") {
        Some("close") if mr.state == "opened" => {
            mr.state = "closed";
            mr.closed_at = Some(now);
            mr.closed_by = Some(w.current_user);
            events.push("closed".into());
        }
        Some("reopen") if mr.state == "closed" => {
            mr.state = "opened";
            mr.closed_at = None;
            mr.closed_by = None;
            events.push("reopened".into());
        }
        _ => {}
    }
    mr.updated_at = now;
    w.mrs.insert(iid, mr);
    for e in events {
        w.system_note(iid, e, now);
    }
    match w.mrs.get(&iid) {
        Some(mr) => Reply::ok(json::mr_full(w, mr, now, false)),
        None => Reply::not_found("Merge Request"),
    }
}

pub fn rebase(w: &mut World, now: Ms, iid: &str) -> Reply {
    let (iid, state, conflicts) = match find(w, iid) {
        Ok(m) => (m.iid, m.state, m.conflicts),
        Err(r) => return r,
    };
    if state != "opened" {
        return Reply::message(403, "403 Forbidden - Cannot push to source branch");
    }
    if conflicts {
        if let Some(mr) = w.mrs.get_mut(&iid) {
            mr.merge_error = Some(
                "Rebase failed: Rebase locally, resolve all conflicts, then push the branch."
                    .into(),
            );
        }
    } else {
        if let Some(mr) = w.mrs.get_mut(&iid) {
            mr.merge_error = None;
        }
        w.push_to_mr(iid, now, "Rebase onto main".into());
        w.system_note(iid, "rebased the source branch".into(), now);
    }
    Reply::Json(StatusCode::ACCEPTED, json!({"rebase_in_progress": true}))
}

/// `PUT .../merge`: 405 unless mergeable (or auto-merge requested while CI runs), 409 on a stale
/// `sha`, else merged (or auto-merge armed: still opened, `merge_when_pipeline_succeeds`).
pub fn merge(w: &mut World, now: Ms, iid: &str, p: &Params) -> Reply {
    let mr = match find(w, iid) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let iid = mr.iid;
    let auto = p.flag("merge_when_pipeline_succeeds").unwrap_or(false)
        || p.flag("auto_merge").unwrap_or(false);
    let status = w.detailed_merge_status(mr, now);
    let waits_for_ci = auto && status == "ci_still_running";
    if status != "mergeable" && !waits_for_ci {
        return Reply::message(405, "405 Method Not Allowed");
    }
    if let Some(sha) = p.get("sha")
        && sha != mr.sha
    {
        // GitLab names the head it has (`merge_requests.rb`).
        return Reply::message(
            409,
            &format!("SHA does not match HEAD of source branch: {}", mr.sha),
        );
    }
    let current = w.current_user;
    if waits_for_ci {
        if let Some(mr) = w.mrs.get_mut(&iid) {
            mr.auto_merge = true;
            mr.updated_at = now;
        }
        w.system_note(
            iid,
            "enabled an automatic merge when the pipeline for this merge request succeeds".into(),
            now,
        );
    } else {
        w.merge_mr(iid, now, current);
    }
    match w.mrs.get(&iid) {
        Some(mr) => Reply::ok(json::mr_full(w, mr, now, false)),
        None => Reply::not_found("Merge Request"),
    }
}
