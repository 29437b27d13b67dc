//! What a client has sent: every request counted once, by endpoint (a templated path, never an
//! id or a project name) and outcome, with a sliding one-minute window for the header's rate and
//! the rate-limit headers as last seen. One `RequestStats` per client, shared by every task that
//! uses the client, so the numbers are the process's real traffic to that GitLab.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One (method, endpoint, outcome) row.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointCount {
    pub method: String,
    /// `/projects/:id/merge_requests/:iid/approvals`
    pub endpoint: String,
    /// The HTTP status (`"200"`, `"429"`), or `"error"` when no response arrived.
    pub status: String,
    pub count: u64,
    /// Time spent waiting for these responses, summed.
    pub seconds: f64,
}

/// `RateLimit-Remaining` / `RateLimit-Limit` of the newest response that carried them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitSeen {
    pub remaining: Option<u64>,
    pub limit: Option<u64>,
}

/// Upper bounds (seconds) of the request latency histogram: GitLab answers most reads in tens
/// of milliseconds and a slow trace or a large list in seconds; the request timeout is 30 s.
pub const LATENCY_BUCKETS: [f64; 10] = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The latency of one (method, endpoint): counts per bucket (not cumulative; the last slot is
/// +Inf), sum and count, as a Prometheus histogram holds them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Latency {
    pub method: String,
    pub endpoint: String,
    /// One count per `LATENCY_BUCKETS` bound, then the overflow.
    pub buckets: [u64; LATENCY_BUCKETS.len() + 1],
    pub sum: f64,
    pub count: u64,
}

#[derive(Default)]
struct Inner {
    total: u64,
    recent: VecDeque<Instant>,
    by: BTreeMap<(String, String, String), (u64, f64)>,
    /// By (method, endpoint): the endpoints are templated, so this stays small.
    latency: BTreeMap<(String, String), Latency>,
    rate_limit: RateLimitSeen,
}

#[derive(Default)]
pub struct RequestStats {
    inner: Mutex<Inner>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl RequestStats {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves plain counters: still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A request is leaving: counted before it is sent, so a hung request still shows.
    pub fn sent(&self) {
        let now = Instant::now();
        let mut g = self.lock();
        g.total += 1;
        prune(&mut g.recent, now);
        g.recent.push_back(now);
    }

    /// Its outcome: `status` is `None` when no response arrived (timeout, refused, reset).
    pub fn finished(&self, method: &str, path: &str, status: Option<u16>, elapsed: Duration) {
        let key = (
            method.to_string(),
            endpoint_template(path),
            status.map_or_else(|| "error".to_string(), |s| s.to_string()),
        );
        let secs = elapsed.as_secs_f64();
        let mut g = self.lock();
        let l = g
            .latency
            .entry((key.0.clone(), key.1.clone()))
            .or_insert_with(|| Latency {
                method: key.0.clone(),
                endpoint: key.1.clone(),
                ..Latency::default()
            });
        let slot = LATENCY_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(LATENCY_BUCKETS.len());
        l.buckets[slot] += 1;
        l.sum += secs;
        l.count += 1;
        let e = g.by.entry(key).or_default();
        e.0 += 1;
        e.1 += secs;
    }

    /// Request latency by (method, endpoint), ordered by endpoint.
    pub fn latency(&self) -> Vec<Latency> {
        self.lock().latency.values().cloned().collect()
    }

    pub fn rate_limit_seen(&self, seen: RateLimitSeen) {
        if seen.remaining.is_some() || seen.limit.is_some() {
            self.lock().rate_limit = seen;
        }
    }

    /// Every request sent, retries included.
    pub fn total(&self) -> u64 {
        self.lock().total
    }

    /// Requests sent in the last minute.
    pub fn last_minute(&self) -> u32 {
        let mut g = self.lock();
        prune(&mut g.recent, Instant::now());
        g.recent.len() as u32
    }

    pub fn rate_limit(&self) -> RateLimitSeen {
        self.lock().rate_limit
    }

    /// Every row, ordered by endpoint.
    pub fn by_endpoint(&self) -> Vec<EndpointCount> {
        self.lock()
            .by
            .iter()
            .map(
                |((method, endpoint, status), (count, seconds))| EndpointCount {
                    method: method.clone(),
                    endpoint: endpoint.clone(),
                    status: status.clone(),
                    count: *count,
                    seconds: *seconds,
                },
            )
            .collect()
    }
}

fn prune(q: &mut VecDeque<Instant>, now: Instant) {
    while let Some(&t) = q.front() {
        if now.duration_since(t) >= WINDOW {
            q.pop_front();
        } else {
            break;
        }
    }
}

/// The path with everything that identifies an object replaced by a placeholder, so a label
/// never carries a project name, an id or a file path: `/projects/acme%2Fplatform/jobs/42/trace`
/// becomes `/projects/:id/jobs/:id/trace`. Query strings are dropped.
pub fn endpoint_template(path: &str) -> String {
    let path = path.split('?').next().unwrap_or("");
    let mut out = String::with_capacity(path.len());
    let mut prev = "";
    let mut in_file = false;
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        let placeholder = if in_file {
            // `repository/files/:file_path/raw`: the file path is one encoded segment.
            in_file = false;
            Some(":file_path")
        } else if matches!(prev, "projects" | "groups" | "users") {
            Some(":id")
        } else if seg.bytes().all(|b| b.is_ascii_digit()) {
            Some(if prev == "merge_requests" {
                ":iid"
            } else {
                ":id"
            })
        } else if seg.len() >= 7 && seg.len() <= 64 && seg.bytes().all(|b| b.is_ascii_hexdigit()) {
            // Commit shas (`repository/commits/:sha`).
            Some(":sha")
        } else {
            None
        };
        out.push('/');
        match placeholder {
            Some(p) => out.push_str(p),
            None if seg.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') => out.push_str(seg),
            // Anything else a server-controlled or user-chosen name could put here.
            None => out.push_str(":name"),
        }
        if prev == "repository" && seg == "files" {
            in_file = true;
        }
        prev = seg;
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_never_carry_ids_or_names() {
        let t = endpoint_template;
        assert_eq!(
            t("/projects/acme%2Fplatform/merge_requests/42/approvals"),
            "/projects/:id/merge_requests/:iid/approvals"
        );
        assert_eq!(
            t("/projects/7/jobs/12345678901/trace"),
            "/projects/:id/jobs/:id/trace"
        );
        assert_eq!(
            t("/projects/7/repository/files/docs%2FCODEOWNERS/raw?ref=main"),
            "/projects/:id/repository/files/:file_path/raw"
        );
        assert_eq!(
            t("/groups/platform%2Fsre/members/all"),
            "/groups/:id/members/all"
        );
        assert_eq!(t("/user"), "/user");
        assert_eq!(t("/users/9/status"), "/users/:id/status");
        assert_eq!(t("/projects/7/Secret-Name"), "/projects/:id/:name");
        assert_eq!(t(""), "/");
    }

    #[test]
    fn counts_by_endpoint_and_outcome() {
        let s = RequestStats::default();
        for status in [Some(200), Some(200), None] {
            s.sent();
            s.finished(
                "GET",
                "/projects/1/pipelines",
                status,
                Duration::from_millis(10),
            );
        }
        assert_eq!(s.total(), 3);
        assert_eq!(s.last_minute(), 3);
        let lat = s.latency();
        assert_eq!(lat.len(), 1, "one histogram per method and endpoint");
        assert_eq!(lat[0].endpoint, "/projects/:id/pipelines");
        assert_eq!(lat[0].count, 3);
        assert_eq!(
            lat[0].buckets[0], 3,
            "10 ms falls in the first bucket (<= 25 ms)"
        );
        let rows = s.by_endpoint();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].status, "200");
        assert_eq!(rows[0].count, 2);
        assert_eq!(rows[1].status, "error");
        s.rate_limit_seen(RateLimitSeen::default());
        s.rate_limit_seen(RateLimitSeen {
            remaining: Some(1999),
            limit: Some(2000),
        });
        s.rate_limit_seen(RateLimitSeen::default());
        assert_eq!(s.rate_limit().remaining, Some(1999));
        s.finished("GET", "/user", Some(200), Duration::from_millis(300));
        s.finished("GET", "/user", Some(200), Duration::from_secs(31));
        let user = s.latency().into_iter().find(|l| l.endpoint == "/user");
        let user = user.expect("a histogram for /user");
        assert_eq!(user.buckets[4], 1, "300 ms: the 0.5 s bucket");
        assert_eq!(user.buckets[LATENCY_BUCKETS.len()], 1, "31 s: +Inf");
        assert!((user.sum - 31.3).abs() < 1e-9);
    }
}
