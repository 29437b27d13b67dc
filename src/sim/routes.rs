//! The dispatcher: request log, faults, auth, then `/api/v4` routes by path segments (ids may
//! be numeric or URL-encoded paths such as `acme%2Fplatform`), plus the `/-/sim/` controls.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::faults::{Fault, FaultKind, RequestRecord};
use super::http::{self, Params, Reply, decode};
use super::json as js;
use super::{ci, deploys, mrs, repo, scenario};

const MAX_BODY: usize = 2 * 1024 * 1024;

pub async fn handle(State(s): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let method = parts.method.clone();
    let base = base_url(&parts.headers, &s);
    if path == "/-/sim" || path.starts_with("/-/sim/") {
        let bytes = to_bytes(body, MAX_BODY).await.unwrap_or_default();
        let resp = control(&s, &method, &path, query.as_deref(), &bytes);
        return with_date(resp, s.clock.now());
    }

    let now = s.clock.now();
    if let Ok(mut log) = s.requests.lock() {
        log.push(RequestRecord {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            time: js::ts(now),
        });
    }
    let fault = s
        .faults
        .lock()
        .ok()
        .and_then(|mut f| f.take(method.as_str(), &path));
    let mut truncate = false;
    if let Some(f) = fault {
        match f.kind {
            FaultKind::Latency => {
                tokio::time::sleep(Duration::from_millis(f.latency_ms.unwrap_or(1000))).await;
            }
            FaultKind::Status => {
                return with_date(status_fault(f.status.unwrap_or(500)), s.clock.now());
            }
            FaultKind::RateLimit => return with_date(rate_limited(&f, now), now),
            FaultKind::Truncate => truncate = true,
        }
    }

    if let Some(expected) = &s.token
        && presented_token(&parts.headers).as_deref() != Some(expected.as_str())
    {
        let r = http::json_response(
            StatusCode::UNAUTHORIZED,
            &json!({"message": "401 Unauthorized"}),
        );
        return with_date(r, s.clock.now());
    }

    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let r = http::json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &json!({"message": "413 Request Entity Too Large"}),
            );
            return with_date(r, s.clock.now());
        }
    };
    let ct = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let params = match Params::new(query.as_deref(), ct, &bytes) {
        Ok(p) => p,
        Err(e) => {
            let r = http::json_response(StatusCode::BAD_REQUEST, &json!({"error": e}));
            return with_date(r, s.clock.now());
        }
    };
    let now = s.clock.now();
    let reply = match s.lock_worlds() {
        Some(mut worlds) => {
            for w in worlds.iter_mut() {
                w.tick(now);
            }
            api(&mut worlds, now, &method, &path, &params)
        }
        None => Reply::message(500, "500 Internal Server Error"),
    };
    let mut resp = http::render(reply, &format!("{base}{path}"), &params);
    if truncate {
        resp = truncated(resp).await;
    }
    rate_limit_headers(&mut resp, &s, now);
    with_date(resp, now)
}

/// The limit the simulator announces: gitlab.com's authenticated API quota per minute.
const RATE_LIMIT: u64 = 2000;

/// GitLab.com sends `RateLimit-*` on every response, throttled or not: this request counted in
/// the current one-minute window (the simulator never throttles on its own; faults do).
fn rate_limit_headers(resp: &mut Response, s: &Shared, now: i64) {
    let minute = now.div_euclid(60_000);
    let observed = match s.throttle.lock() {
        Ok(mut t) => {
            if t.0 != minute {
                *t = (minute, 0);
            }
            t.1 += 1;
            t.1
        }
        Err(_) => return,
    };
    let reset_ms = (minute + 1) * 60_000;
    let h = resp.headers_mut();
    h.insert(
        "ratelimit-name",
        HeaderValue::from_static("throttle_authenticated_api"),
    );
    h.insert("ratelimit-limit", HeaderValue::from(RATE_LIMIT));
    h.insert("ratelimit-observed", HeaderValue::from(observed));
    h.insert(
        "ratelimit-remaining",
        HeaderValue::from(RATE_LIMIT.saturating_sub(observed)),
    );
    h.insert("ratelimit-reset", HeaderValue::from(reset_ms / 1000));
    if let Ok(v) = HeaderValue::from_str(&http::http_date(reset_ms)) {
        h.insert("ratelimit-resettime", v);
    }
}

/// The request's own scheme and host (Link URLs must point where the client connected).
fn base_url(h: &HeaderMap, s: &Shared) -> String {
    h.get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| s.base_url.clone(), |host| format!("http://{host}"))
}

fn presented_token(h: &HeaderMap) -> Option<String> {
    if let Some(t) = h.get("private-token").and_then(|v| v.to_str().ok()) {
        return Some(t.trim().to_string());
    }
    let auth = h.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = auth.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn with_date(mut r: Response, now: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&http::http_date(now)) {
        r.headers_mut().insert(header::DATE, v);
    }
    r
}

fn status_fault(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = status.canonical_reason().unwrap_or("Error");
    http::json_response(status, &json!({"message": format!("{code} {text}")}))
}

/// Rack::Attack's throttle answer: plain text, with `Retry-After` and the `RateLimit-*` set
/// only when the fault asks for them.
fn rate_limited(f: &Fault, now: i64) -> Response {
    let mut r = Response::new(Body::from("Retry later\n"));
    *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    if let Some(secs) = f.retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(secs) = f.reset_in {
        let reset = now / 1000 + secs as i64;
        h.insert("ratelimit-reset", HeaderValue::from(reset));
        h.insert("ratelimit-limit", HeaderValue::from_static("2000"));
        h.insert("ratelimit-observed", HeaderValue::from_static("2001"));
        h.insert("ratelimit-remaining", HeaderValue::from_static("0"));
        if let Ok(v) = HeaderValue::from_str(&http::http_date(reset * 1000)) {
            h.insert("ratelimit-resettime", v);
        }
    }
    r
}

/// The normal answer with its body cut in half (and a matching Content-Length).
async fn truncated(r: Response) -> Response {
    let (mut parts, body) = r.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let cut = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(cut))
}

type Worlds<'a> = [std::sync::MutexGuard<'a, super::state::World>];

/// Routes that span the instance's projects, then a project's routes, then the rest (users,
/// groups' members, version), which the first project's world answers.
fn api(worlds: &mut Worlds, now: i64, m: &Method, path: &str, p: &Params) -> Reply {
    let Some(rest) = path.strip_prefix("/api/v4/") else {
        return Reply::error(404, "404 Not Found");
    };
    let segs: Vec<String> = rest.trim_end_matches('/').split('/').map(decode).collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (m, segs.as_slice()) {
        (&Method::GET, ["projects"]) => projects_list(worlds, now, p, None),
        (&Method::GET, ["groups", g, "projects"]) => match group_path(worlds, g) {
            Some(g) => projects_list(worlds, now, p, Some(&g)),
            None => Reply::not_found("Group"),
        },
        (&Method::GET, ["groups", g, "merge_requests"]) => match group_path(worlds, g) {
            Some(g) => {
                let subgroups = p.flag("include_subgroups").unwrap_or(true);
                let members: Vec<&super::state::World> = worlds
                    .iter()
                    .map(|w| &**w)
                    .filter(|w| in_group(&w.project.path, &g, subgroups))
                    .collect();
                mrs::list_many(&members, now, p, "all")
            }
            None => Reply::not_found("Group"),
        },
        (&Method::GET, ["merge_requests"]) => {
            let all: Vec<&super::state::World> = worlds.iter().map(|w| &**w).collect();
            mrs::list_many(&all, now, p, "created_by_me")
        }
        (_, ["projects", id, rest @ ..]) => {
            let found = worlds.iter_mut().find(|w| {
                id.parse::<u64>().ok() == Some(w.project.id)
                    || id.eq_ignore_ascii_case(&w.project.path)
            });
            match found {
                Some(w) => project_api(w, now, m, rest, p),
                None => Reply::not_found("Project"),
            }
        }
        _ => match worlds.first_mut() {
            Some(w) => instance_api(w, m, &segs, p),
            None => Reply::error(404, "404 Not Found"),
        },
    }
}

/// A group's full path when the instance has it: a group of the scenario (`acme/backend`) or
/// a namespace of one of its projects (`acme`).
fn group_path(worlds: &Worlds, g: &str) -> Option<String> {
    let first = worlds.first()?;
    first
        .groups
        .iter()
        .map(|(path, _)| path.as_str())
        .chain(
            worlds
                .iter()
                .filter_map(|w| w.project.path.rsplit_once('/').map(|(ns, _)| ns)),
        )
        .find(|path| path.eq_ignore_ascii_case(g))
        .map(str::to_string)
}

/// Whether a project is in a group: directly, or in one of its subgroups when asked.
fn in_group(project: &str, group: &str, subgroups: bool) -> bool {
    match project.rsplit_once('/') {
        Some((ns, _)) if ns == group => true,
        Some((ns, _)) => {
            subgroups && ns.starts_with(group) && ns.as_bytes().get(group.len()) == Some(&b'/')
        }
        None => false,
    }
}

/// `GET /projects` and `GET /groups/:id/projects` with the filters a dashboard sends:
/// `archived`, `search`, `simple`, `order_by`/`sort`, `include_subgroups`; the simulated user
/// is a member of every project, so `membership` changes nothing.
fn projects_list(worlds: &Worlds, now: i64, p: &Params, group: Option<&str>) -> Reply {
    let checks = [
        p.one_of(
            "order_by",
            &[
                "id",
                "name",
                "path",
                "created_at",
                "updated_at",
                "last_activity_at",
                "similarity",
                "star_count",
            ],
        ),
        p.one_of("sort", &["asc", "desc"]),
    ];
    if let Some(Err(r)) = checks.into_iter().find(Result::is_err) {
        return r;
    }
    let subgroups = p.flag("include_subgroups").unwrap_or(false);
    let search = p.get("search").map(str::to_ascii_lowercase);
    let mut ws: Vec<&super::state::World> = worlds
        .iter()
        .map(|w| &**w)
        .filter(|w| group.is_none_or(|g| in_group(&w.project.path, g, subgroups)))
        // No simulated project is archived.
        .filter(|_| p.flag("archived") != Some(true))
        .filter(|w| {
            search
                .as_deref()
                .is_none_or(|s| w.project.path.to_ascii_lowercase().contains(s))
        })
        .collect();
    let asc = p.get("sort") == Some("asc");
    match p.get("order_by").unwrap_or("created_at") {
        "name" | "path" => ws.sort_by(|a, b| a.project.name.cmp(&b.project.name)),
        // Activity and creation are the same instant for every simulated project: by id.
        _ => ws.sort_by_key(|w| w.project.id),
    }
    if !asc {
        ws.reverse();
    }
    let simple = p.flag("simple").unwrap_or(false);
    let page = p.page(ws.len());
    let items = ws[page.range()]
        .iter()
        .map(|w| {
            if simple {
                js::project_simple(w, now)
            } else {
                js::project(w, now)
            }
        })
        .collect();
    Reply::Page(page, items)
}

fn instance_api(w: &mut super::state::World, m: &Method, segs: &[&str], p: &Params) -> Reply {
    match (m, segs) {
        (&Method::GET, ["user"]) => Reply::ok(js::current_user(w)),
        (&Method::GET, ["version"]) => Reply::ok(
            json!({"version": "17.5.2-ee", "revision": "c6eae8d7", "kas": {"enabled": false}, "enterprise": true}),
        ),
        (&Method::GET, ["users", id]) => match id.parse().ok().and_then(|id| w.user(id)) {
            Some(u) => Reply::ok(js::user_profile(w, u)),
            None => Reply::not_found("User"),
        },
        (&Method::GET, ["users", who, "status"]) => {
            let u = match who.parse::<u64>() {
                Ok(id) => w.user(id),
                Err(_) => w
                    .users
                    .iter()
                    .find(|u| u.username.eq_ignore_ascii_case(who)),
            };
            match u {
                Some(u) => Reply::ok(js::user_status(u)),
                None => Reply::not_found("User"),
            }
        }
        // `members` lists direct members; `members/all` adds those inherited from ancestors.
        (&Method::GET, ["groups", g, "members", rest @ ..]) if rest.len() <= 1 => {
            let all = rest == ["all"];
            if rest.len() == 1 && !all {
                return Reply::error(404, "404 Not Found");
            }
            let Some((path, _)) = w
                .groups
                .iter()
                .find(|(path, _)| path.eq_ignore_ascii_case(g))
            else {
                return Reply::not_found("Group");
            };
            let mut ids: Vec<u64> = Vec::new();
            for (gp, members) in &w.groups {
                let ancestor = path.len() > gp.len()
                    && path.starts_with(gp.as_str())
                    && path.as_bytes()[gp.len()] == b'/';
                if gp == path || (all && ancestor) {
                    ids.extend(
                        members
                            .iter()
                            .filter(|id| !ids.contains(id))
                            .copied()
                            .collect::<Vec<_>>(),
                    );
                }
            }
            let items = ids
                .iter()
                .filter_map(|&id| w.user(id))
                .map(|u| js::member(w, u))
                .collect();
            Reply::list(p, items)
        }
        _ => Reply::error(404, "404 Not Found"),
    }
}

fn project_api(
    w: &mut super::state::World,
    now: i64,
    m: &Method,
    segs: &[&str],
    p: &Params,
) -> Reply {
    match (m, segs) {
        (&Method::GET, []) => Reply::ok(js::project(w, now)),
        (&Method::GET, ["members"] | ["members", "all"]) => {
            let q = p.get("query").map(str::to_ascii_lowercase);
            let ids = p.ids("user_ids");
            let items = w
                .users
                .iter()
                .filter(|u| {
                    q.as_deref().is_none_or(|q| {
                        u.username.to_ascii_lowercase().contains(q)
                            || u.name.to_ascii_lowercase().contains(q)
                    })
                })
                .filter(|u| ids.as_ref().is_none_or(|ids| ids.contains(&u.id)))
                .map(|u| js::member(w, u))
                .collect();
            Reply::list(p, items)
        }
        // merge requests
        (&Method::GET, ["merge_requests"]) => mrs::list(w, now, p),
        (&Method::GET, ["merge_requests", iid]) => mrs::single(w, now, iid, p),
        (&Method::PUT, ["merge_requests", iid]) => mrs::update(w, now, iid, p),
        (&Method::GET, ["merge_requests", iid, "diffs"]) => mrs::diffs(w, iid, p),
        (&Method::GET, ["merge_requests", iid, "approvals"]) => mrs::approvals(w, now, iid),
        (&Method::GET, ["merge_requests", iid, "approval_state"]) => mrs::approval_state(w, iid),
        (&Method::GET, ["merge_requests", iid, "notes"]) => mrs::notes(w, iid, p),
        (&Method::POST, ["merge_requests", iid, "notes"]) => mrs::create_note(w, now, iid, p),
        (&Method::GET, ["merge_requests", iid, "notes", nid]) => mrs::note(w, iid, nid),
        (&Method::GET, ["merge_requests", iid, "discussions"]) => mrs::discussions(w, iid, p),
        (&Method::GET, ["merge_requests", iid, "pipelines"]) => mrs::mr_pipelines(w, now, iid, p),
        (&Method::PUT, ["merge_requests", iid, "rebase"]) => mrs::rebase(w, now, iid),
        (&Method::PUT, ["merge_requests", iid, "merge"]) => mrs::merge(w, now, iid, p),
        // pipelines
        (&Method::GET, ["pipelines"]) => ci::list_pipelines(w, now, p),
        (&Method::POST, ["pipeline"]) => ci::create_pipeline(w, now, p),
        (&Method::GET, ["pipelines", id]) => ci::pipeline(w, now, id),
        (&Method::GET, ["pipelines", id, "jobs"]) => ci::pipeline_jobs(w, now, id, p),
        (&Method::GET, ["pipelines", id, "bridges"]) => ci::bridges(w, now, id, p),
        (&Method::GET, ["deployments"]) => deploys::list(w, now, p),
        (&Method::POST, ["pipelines", id, "retry"]) => ci::retry_pipeline(w, now, id),
        (&Method::POST, ["pipelines", id, "cancel"]) => ci::cancel_pipeline(w, now, id),
        // jobs
        (&Method::GET, ["jobs"]) => ci::project_jobs(w, now, p),
        (&Method::GET, ["jobs", id]) => ci::job(w, now, id),
        (&Method::GET, ["jobs", id, "trace"]) => ci::trace(w, now, id),
        (&Method::POST, ["jobs", id, "retry"]) => ci::retry_job(w, now, id),
        (&Method::POST, ["jobs", id, "cancel"]) => ci::cancel_job(w, now, id),
        (&Method::POST, ["jobs", id, "play"]) => ci::play_job(w, now, id),
        // repository
        (&Method::GET, ["repository", "files", file, "raw"]) => match repo::raw_file(w, file) {
            Some(text) => Reply::Text(StatusCode::OK, text.into_bytes()),
            None => Reply::not_found("File"),
        },
        (&Method::GET, ["repository", "files", file]) => match repo::raw_file(w, file) {
            Some(text) => Reply::ok(file_json(w, file, p.get("ref"), &text)),
            None => Reply::not_found("File"),
        },
        (&Method::GET, ["repository", "commits"]) => match p.time("since") {
            Ok(since) => Reply::list(p, repo::commits_for(w, p.get("path"), since)),
            Err(e) => Reply::error(400, &e),
        },
        _ => Reply::error(404, "404 Not Found"),
    }
}

fn file_json(w: &super::state::World, path: &str, git_ref: Option<&str>, text: &str) -> Value {
    use sha2::{Digest, Sha256};
    let sha256: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let head = super::state::sha_for(w.seed, 0xF11E);
    json!({
        "file_name": path.rsplit('/').next().unwrap_or(path),
        "file_path": path,
        "size": text.len(),
        "encoding": "base64",
        "content": base64(text.as_bytes()),
        "content_sha256": sha256,
        "ref": git_ref.unwrap_or(&w.project.default_branch),
        "blob_id": &sha256[..40],
        "commit_id": head,
        "last_commit_id": head,
        "execute_filemode": false,
    })
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `/-/sim/*`: test controls, never logged as API requests.
fn control(s: &Shared, m: &Method, path: &str, query: Option<&str>, body: &[u8]) -> Response {
    let ok = |v: Value| http::json_response(StatusCode::OK, &v);
    let bad = |msg: String| http::json_response(StatusCode::BAD_REQUEST, &json!({"error": msg}));
    let no_content = || {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        r
    };
    match (m, path.trim_end_matches('/')) {
        (&Method::GET, "/-/sim/requests") => {
            let list = s.requests.lock().map(|l| l.all()).unwrap_or_default();
            ok(serde_json::to_value(list).unwrap_or(Value::Null))
        }
        (&Method::DELETE, "/-/sim/requests") => {
            if let Ok(mut l) = s.requests.lock() {
                l.clear();
            }
            no_content()
        }
        (&Method::GET, "/-/sim/faults") => {
            let list = s.faults.lock().map(|f| f.list()).unwrap_or_default();
            ok(serde_json::to_value(list).unwrap_or(Value::Null))
        }
        (&Method::POST, "/-/sim/faults") => {
            let faults: Vec<Fault> = match serde_json::from_slice::<Value>(body) {
                Ok(v @ Value::Array(_)) => match serde_json::from_value(v) {
                    Ok(f) => f,
                    Err(e) => return bad(format!("invalid fault list: {e}")),
                },
                Ok(v) => match serde_json::from_value(v) {
                    Ok(f) => vec![f],
                    Err(e) => return bad(format!("invalid fault: {e}")),
                },
                Err(e) => return bad(format!("body is not JSON: {e}")),
            };
            if let Ok(mut set) = s.faults.lock() {
                for f in &faults {
                    set.add(f.clone());
                }
            }
            http::json_response(
                StatusCode::CREATED,
                &serde_json::to_value(faults).unwrap_or(Value::Null),
            )
        }
        (&Method::DELETE, "/-/sim/faults") => {
            if let Ok(mut f) = s.faults.lock() {
                f.clear();
            }
            no_content()
        }
        (&Method::POST, "/-/sim/advance") => {
            let pairs = http::parse_urlencoded(query.unwrap_or(""));
            let secs = pairs
                .iter()
                .find(|(k, _)| k == "seconds")
                .and_then(|(_, v)| v.parse::<f64>().ok());
            match secs {
                Some(secs) if secs.is_finite() && secs >= 0.0 => {
                    s.clock.advance((secs * 1000.0) as i64);
                    ok(json!({"now": js::ts(s.clock.now())}))
                }
                _ => bad("seconds must be a non-negative number".into()),
            }
        }
        (&Method::POST, "/-/sim/trace-padding") => {
            let pairs = http::parse_urlencoded(query.unwrap_or(""));
            let bytes = pairs
                .iter()
                .find(|(k, _)| k == "bytes")
                .and_then(|(_, v)| v.parse::<usize>().ok());
            match (bytes, s.worlds[0].lock()) {
                (Some(b), Ok(mut w)) => {
                    w.trace_padding = b.min(crate::sim::logs::MAX_PADDING);
                    ok(json!({"bytes": w.trace_padding}))
                }
                (None, _) => bad("bytes must be a non-negative integer".into()),
                (_, Err(_)) => http::json_response(StatusCode::INTERNAL_SERVER_ERROR, &Value::Null),
            }
        }
        (&Method::GET, "/-/sim/time") => ok(json!({"now": js::ts(s.clock.now())})),
        (&Method::GET, "/-/sim/scenario") => {
            let now = s.clock.now();
            match s.worlds[0].lock() {
                Ok(mut w) => {
                    w.tick(now);
                    ok(scenario::describe(&w, now))
                }
                Err(_) => http::json_response(StatusCode::INTERNAL_SERVER_ERROR, &Value::Null),
            }
        }
        _ => http::json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": "404 Not Found: unknown sim control endpoint"}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_examples() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn tokens_are_read_from_either_header() {
        let mut h = HeaderMap::new();
        h.insert("PRIVATE-TOKEN", HeaderValue::from_static("abc"));
        assert_eq!(presented_token(&h).as_deref(), Some("abc"));
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer xyz"),
        );
        assert_eq!(presented_token(&h).as_deref(), Some("xyz"));
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic xyz"));
        assert_eq!(presented_token(&h), None);
    }
}
