//! Pipeline and job endpoints, including traces and the CI writes (retry, cancel, play).

use axum::http::StatusCode;

use super::http::{Params, Reply};
use super::json;
use super::logs::{self, LogCtx};
use super::state::{Job, Ms, Pipeline, World, WriteError};

fn pipeline_of<'a>(w: &'a World, id: &str) -> Result<&'a Pipeline, Reply> {
    id.parse::<u64>()
        .ok()
        .and_then(|i| w.pipeline(i))
        .ok_or_else(|| Reply::message(404, "404 Not found"))
}

fn job_of<'a>(w: &'a World, id: &str) -> Result<&'a Job, Reply> {
    id.parse::<u64>()
        .ok()
        .and_then(|i| w.job(i))
        .ok_or_else(|| Reply::message(404, "404 Not found"))
}

fn write_error(e: WriteError) -> Reply {
    match e {
        WriteError::NotFound(_) => Reply::message(404, "404 Not found"),
        WriteError::Forbidden(why) => Reply::message(403, &format!("403 Forbidden - {why}")),
        WriteError::BadRequest(why) => Reply::message(400, &format!("400 Bad request - {why}")),
    }
}

pub fn list_pipelines(w: &World, now: Ms, p: &Params) -> Reply {
    let checks = [
        p.one_of(
            "order_by",
            &["id", "status", "ref", "updated_at", "user_id"],
        ),
        p.one_of("sort", &["asc", "desc"]),
    ];
    if let Some(Err(r)) = checks.into_iter().find(Result::is_err) {
        return r;
    }
    let (ua, ub) = match p.time_range("updated_after", "updated_before") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let source = p.get("source");
    let username = p
        .get("username")
        .and_then(|n| w.user_by_name(n))
        .map(|u| u.id);
    let mut rows: Vec<(&Pipeline, &'static str, Ms)> = w
        .pipelines
        .iter()
        .filter(|pl| match source {
            Some(s) => pl.source == s,
            // child pipelines are hidden unless asked for
            None => pl.source != "parent_pipeline",
        })
        .filter(|pl| p.get("ref").is_none_or(|r| pl.git_ref == r))
        .filter(|pl| p.get("sha").is_none_or(|s| pl.sha == s))
        .filter(|pl| p.get("username").is_none() || username == Some(pl.user_id))
        .map(|pl| {
            (
                pl,
                w.pipeline_status(pl, now),
                w.pipeline_updated_at(pl, now),
            )
        })
        .filter(|(_, st, _)| p.get("status").is_none_or(|s| *st == s))
        .filter(|(pl, st, _)| match p.get("scope") {
            Some("running") => *st == "running",
            Some("pending") => *st == "pending",
            Some("finished") => super::state::TERMINAL.contains(st),
            Some("branches") => !pl.git_ref.starts_with("refs/"),
            Some("tags") => false,
            _ => true,
        })
        .filter(|(_, _, up)| ua.is_none_or(|t| *up >= t) && ub.is_none_or(|t| *up <= t))
        .collect();
    let asc = p.get("sort") == Some("asc");
    rows.sort_by(|a, b| {
        let o = match p.get("order_by") {
            Some("updated_at") => a.2.cmp(&b.2),
            Some("status") => a.1.cmp(b.1),
            Some("ref") => a.0.git_ref.cmp(&b.0.git_ref),
            Some("user_id") => a.0.user_id.cmp(&b.0.user_id),
            _ => std::cmp::Ordering::Equal,
        }
        .then(a.0.id.cmp(&b.0.id));
        if asc { o } else { o.reverse() }
    });
    let page = p.page(rows.len());
    let items = rows[page.range()]
        .iter()
        .map(|(pl, ..)| json::pipeline_item(w, pl, now))
        .collect();
    Reply::Page(page, items)
}

pub fn pipeline(w: &World, now: Ms, id: &str) -> Reply {
    match pipeline_of(w, id) {
        Ok(pl) => Reply::ok(json::pipeline_full(w, pl, now)),
        Err(r) => r,
    }
}

/// `scope` takes one status or several (`scope[]=failed&scope[]=success`).
fn scope_ok(p: &Params, status: &str) -> bool {
    match p.all("scope") {
        None => true,
        Some(s) => s.is_empty() || s.iter().any(|x| x == status),
    }
}

pub fn pipeline_jobs(w: &World, now: Ms, id: &str, p: &Params) -> Reply {
    let pl = match pipeline_of(w, id) {
        Ok(pl) => pl,
        Err(r) => return r,
    };
    let include_retried = p.flag("include_retried").unwrap_or(false);
    let mut jobs: Vec<&Job> = pl
        .jobs
        .iter()
        .map(|&j| &w.jobs[j])
        .filter(|j| include_retried || !j.retried)
        .filter(|j| scope_ok(p, j.status(now)))
        .collect();
    jobs.sort_by_key(|j| std::cmp::Reverse(j.id));
    let page = p.page(jobs.len());
    let items = jobs[page.range()]
        .iter()
        .map(|j| json::job(w, j, now))
        .collect();
    Reply::Page(page, items)
}

pub fn bridges(w: &World, now: Ms, id: &str, p: &Params) -> Reply {
    let pl = match pipeline_of(w, id) {
        Ok(pl) => pl,
        Err(r) => return r,
    };
    let items = pl
        .bridges
        .iter()
        .map(|b| json::bridge(w, pl, b, now))
        .filter(|v| scope_ok(p, v["status"].as_str().unwrap_or("")))
        .collect();
    Reply::list(p, items)
}

pub fn project_jobs(w: &World, now: Ms, p: &Params) -> Reply {
    // Newest first; walk backwards so a small page at scale does not build every job.
    let matching: Vec<&Job> = w
        .jobs
        .iter()
        .rev()
        .filter(|j| scope_ok(p, j.status(now)))
        .collect();
    let page = p.page(matching.len());
    let items = matching[page.range()]
        .iter()
        .map(|j| json::job(w, j, now))
        .collect();
    Reply::Page(page, items)
}

pub fn job(w: &World, now: Ms, id: &str) -> Reply {
    match job_of(w, id) {
        Ok(j) => Reply::ok(json::job(w, j, now)),
        Err(r) => r,
    }
}

/// The log so far: nothing until the job starts, a growing prefix while it runs, all of it after.
pub fn trace_bytes(w: &World, j: &Job, now: Ms) -> Option<Vec<u8>> {
    if !j.has_started(now) {
        return None;
    }
    let start = j.started_at?;
    let finish = j.finished_at.unwrap_or(start + j.dur_ms);
    let pl = w.pipeline(j.pipeline_id)?;
    let ctx = LogCtx {
        seed: w.seed,
        job_id: j.id,
        job_name: &j.name,
        image: &j.image,
        project_path: &w.project.path,
        project_id: w.project.id,
        sha: &pl.sha,
        git_ref: &pl.git_ref,
        started_s: start / 1000,
        dur_s: (finish - start) / 1000,
        environment: j.environment.as_ref().map(|e| e.name.as_str()),
    };
    let mut full = logs::render(j.log, &ctx);
    logs::pad(&mut full, w.trace_padding);
    let cut = j.canceled_at.filter(|&c| c <= now && c < finish);
    let at = cut.unwrap_or(now);
    if cut.is_none() && at >= finish {
        let mut out = full.body;
        out.extend_from_slice(&full.footer);
        return Some(out);
    }
    let frac = (at - start) as f64 / (finish - start).max(1) as f64;
    Some(logs::partial(&full, frac))
}

pub fn trace(w: &World, now: Ms, id: &str) -> Reply {
    let j = match job_of(w, id) {
        Ok(j) => j,
        Err(r) => return r,
    };
    match trace_bytes(w, j, now) {
        Some(bytes) => Reply::Text(StatusCode::OK, bytes),
        // Current GitLab answers 200 with an empty body before the job starts (older: 404).
        None => Reply::Text(StatusCode::OK, Vec::new()),
    }
}

pub fn retry_job(w: &mut World, now: Ms, id: &str) -> Reply {
    let jid = match job_of(w, id) {
        Ok(j) => j.id,
        Err(r) => return r,
    };
    match w.retry_job(jid, now) {
        Ok(new) => match w.job(new) {
            Some(j) => Reply::created(json::job(w, j, now)),
            None => Reply::message(500, "500 Internal Server Error"),
        },
        Err(e) => write_error(e),
    }
}

pub fn cancel_job(w: &mut World, now: Ms, id: &str) -> Reply {
    let jid = match job_of(w, id) {
        Ok(j) => j.id,
        Err(r) => return r,
    };
    match w.cancel_job(jid, now) {
        Ok(()) => match w.job(jid) {
            Some(j) => Reply::created(json::job(w, j, now)),
            None => Reply::message(500, "500 Internal Server Error"),
        },
        Err(e) => write_error(e),
    }
}

pub fn play_job(w: &mut World, now: Ms, id: &str) -> Reply {
    let jid = match job_of(w, id) {
        Ok(j) => j.id,
        Err(r) => return r,
    };
    match w.play_job(jid, now) {
        Ok(()) => match w.job(jid) {
            Some(j) => Reply::ok(json::job(w, j, now)),
            None => Reply::message(500, "500 Internal Server Error"),
        },
        Err(e) => write_error(e),
    }
}

pub fn retry_pipeline(w: &mut World, now: Ms, id: &str) -> Reply {
    let pid = match pipeline_of(w, id) {
        Ok(p) => p.id,
        Err(r) => return r,
    };
    match w.retry_pipeline(pid, now) {
        Ok(()) => match w.pipeline(pid) {
            Some(p) => Reply::created(json::pipeline_full(w, p, now)),
            None => Reply::message(500, "500 Internal Server Error"),
        },
        Err(e) => write_error(e),
    }
}

pub fn cancel_pipeline(w: &mut World, now: Ms, id: &str) -> Reply {
    let pid = match pipeline_of(w, id) {
        Ok(p) => p.id,
        Err(r) => return r,
    };
    match w.cancel_pipeline(pid, now) {
        Ok(()) => match w.pipeline(pid) {
            Some(p) => Reply::ok(json::pipeline_full(w, p, now)),
            None => Reply::message(500, "500 Internal Server Error"),
        },
        Err(e) => write_error(e),
    }
}

/// `POST /projects/:id/pipeline?ref=`: the default branch or an open MR's source branch.
pub fn create_pipeline(w: &mut World, now: Ms, p: &Params) -> Reply {
    let Some(git_ref) = p.get("ref").map(str::to_string) else {
        return Reply::error(400, "ref is missing");
    };
    let user = w.current_user;
    if git_ref == w.project.default_branch {
        let id = w.push_to_main_at_head(now, user);
        return match w.pipeline(id) {
            Some(pl) => Reply::created(json::pipeline_full(w, pl, now)),
            None => Reply::message(500, "500 Internal Server Error"),
        };
    }
    let Some(mr) = w
        .mrs
        .values()
        .find(|m| m.source_branch == git_ref && m.state == "opened")
    else {
        return Reply::message(400, "400 Bad request - Reference not found");
    };
    let (spec, sha) = (mr.spec.clone(), mr.sha.clone());
    let pi = w.add_pipeline(
        &spec.template,
        &spec.overrides,
        git_ref,
        "api",
        None,
        sha,
        now,
        user,
        "Triggered by API".into(),
    );
    Reply::created(json::pipeline_full(w, &w.pipelines[pi], now))
}
