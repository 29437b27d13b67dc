//! `GET /projects/:id/deployments`: GitLab records a deployment for every job that has an
//! `environment:` when its pipeline is created, and the deployment follows its job's status.
//! This is the only REST place that says which job deploys where (the job entity has no
//! `environment`), so the simulator serves it with GitLab's filters, order and checks.

use serde_json::{Value, json};

use super::http::{Params, Reply};
use super::json::{self as js, ts};
use super::state::{Job, Ms, World};

/// gitlab.com-sized deployment ids; a deployment's id follows its job's creation order.
pub const DEPLOYMENT_BASE: u64 = 731_220_001;

/// GitLab's deployment statuses (`Deployment.statuses`); `blocked` needs deployment approvals
/// (Premium), which the simulator does not model.
const STATUSES: [&str; 7] = [
    "created", "running", "success", "failed", "canceled", "skipped", "blocked",
];

/// A deployment's status from its job's: the deployment is `created` while the job waits
/// (manual, pending, scheduled, waiting for its resource group, preparing).
fn status(j: &Job, now: Ms) -> &'static str {
    match j.status(now) {
        "running" => "running",
        "success" => "success",
        "failed" => "failed",
        "canceled" | "canceling" => "canceled",
        "skipped" => "skipped",
        _ => "created",
    }
}

/// Every deployment that exists at `now`: (id, iid, job), oldest first.
fn all(w: &World, now: Ms) -> Vec<(u64, u64, &Job)> {
    w.jobs
        .iter()
        .filter(|j| j.environment.is_some() && j.created_at <= now)
        .enumerate()
        .map(|(i, j)| (DEPLOYMENT_BASE + i as u64, i as u64 + 1, j))
        .collect()
}

pub fn list(w: &World, now: Ms, p: &Params) -> Reply {
    let checks = [
        p.one_of(
            "order_by",
            &[
                "id",
                "iid",
                "created_at",
                "updated_at",
                "finished_at",
                "ref",
            ],
        ),
        p.one_of("sort", &["asc", "desc"]),
        p.one_of("status", &STATUSES),
    ];
    if let Some(Err(r)) = checks.into_iter().find(Result::is_err) {
        return r;
    }
    let ((ua, ub), (fa, fb)) = match (
        p.time_range("updated_after", "updated_before"),
        p.time_range("finished_after", "finished_before"),
    ) {
        (Ok(u), Ok(f)) => (u, f),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    // DeploymentsFinder's checks that GitLab raises as 400s (the `updated_at` pairing is only
    // tracked, not refused, on current GitLab).
    let by_finished = fa.is_some() || fb.is_some();
    if by_finished && (ua.is_some() || ub.is_some()) {
        return bad("Both `updated_at` filter and `finished_at` filter can not be specified");
    }
    if by_finished != (p.get("order_by") == Some("finished_at")) {
        return bad("`finished_at` filter and `finished_at` sorting must be paired");
    }
    if by_finished && p.get("status") != Some("success") {
        return bad("`finished_at` filter must be combined with `success` status filter.");
    }
    let mut rows: Vec<(u64, u64, &Job, Ms)> = all(w, now)
        .into_iter()
        .filter(|(_, _, j)| p.get("status").is_none_or(|s| status(j, now) == s))
        .filter(|(_, _, j)| {
            p.get("environment")
                .is_none_or(|e| j.environment.as_ref().is_some_and(|env| env.name == e))
        })
        .map(|(id, iid, j)| (id, iid, j, j.last_change(now)))
        .filter(|(.., up)| ua.is_none_or(|t| *up >= t) && ub.is_none_or(|t| *up <= t))
        .filter(|(_, _, j, _)| {
            let fin = j.finished_at.filter(|f| *f <= now);
            (fa.is_none() && fb.is_none())
                || fin.is_some_and(|f| fa.is_none_or(|t| f >= t) && fb.is_none_or(|t| f <= t))
        })
        .collect();
    // GitLab's default order is `id asc`.
    let desc = p.get("sort") == Some("desc");
    rows.sort_by(|a, b| {
        let o = match p.get("order_by") {
            Some("created_at") => a.2.created_at.cmp(&b.2.created_at),
            Some("updated_at") => a.3.cmp(&b.3),
            Some("finished_at") => a.2.finished_at.cmp(&b.2.finished_at),
            Some("ref") => git_ref(w, a.2).cmp(git_ref(w, b.2)),
            _ => std::cmp::Ordering::Equal,
        }
        .then(a.0.cmp(&b.0));
        if desc { o.reverse() } else { o }
    });
    let page = p.page(rows.len());
    let items = rows[page.range()]
        .iter()
        .map(|(id, iid, j, up)| entity(w, *id, *iid, j, *up, now))
        .collect();
    Reply::Page(page, items)
}

fn bad(why: &str) -> Reply {
    Reply::message(400, &format!("400 Bad request - {why}"))
}

fn git_ref<'a>(w: &'a World, j: &Job) -> &'a str {
    w.pipeline(j.pipeline_id).map_or("", |p| p.git_ref.as_str())
}

/// GitLab's `Entities::Deployment`: the environment as `EnvironmentBasic`, the job in full.
fn entity(w: &World, id: u64, iid: u64, j: &Job, updated: Ms, now: Ms) -> Value {
    let p = w.pipeline(j.pipeline_id);
    let env = j.environment.as_ref();
    let name = env.map_or("", |e| e.name.as_str());
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let env_id = 4_118_001 + env_index(w, name);
    let status = status(j, now);
    let finished = match status {
        "success" | "failed" | "canceled" => j.finished_at.or(j.canceled_at).filter(|f| *f <= now),
        _ => None,
    };
    json!({
        "id": id,
        "iid": iid,
        "ref": p.map_or("", |p| p.git_ref.as_str()),
        "sha": p.map_or("", |p| p.sha.as_str()),
        "created_at": ts(j.created_at),
        "updated_at": ts(updated),
        "finished_at": finished.map(ts),
        "status": status,
        "user": js::user_ref(w, j.user_id),
        "environment": {
            "id": env_id,
            "name": name,
            "slug": slug,
            "external_url": format!("https://{slug}.acme.dev"),
            "created_at": ts(w.project.created_at),
            "updated_at": ts(updated),
        },
        "deployable": js::job(w, j, now),
    })
}

/// An environment's position among the project's environments (first deployment first).
fn env_index(w: &World, name: &str) -> u64 {
    let mut seen: Vec<&str> = Vec::new();
    for j in &w.jobs {
        if let Some(e) = &j.environment
            && !seen.contains(&e.name.as_str())
        {
            seen.push(e.name.as_str());
        }
    }
    seen.iter().position(|n| *n == name).unwrap_or(seen.len()) as u64
}
