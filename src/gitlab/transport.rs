//! How a request to GitLab leaves the process, and how its answer comes back.
//!
//! One place decides: bearer auth, extra CA, proxies from the environment, timeouts, no
//! redirects (a 3xx is an error naming where it pointed: credentials never travel to another
//! origin and a redirected write never passes for done), a cap on every body counted after
//! decompression, bounded retries of idempotent GETs, request counting and read-only
//! enforcement. The typed GitLab calls live in `client.rs` and only ever go through here.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};

use super::error::{GitlabError, Result, error_body_message, one_line};
use super::stats::{RateLimitSeen, RequestStats};
use crate::net::{backoff_delay, parse_http_date, rate_limit_wait};

/// JSON bodies larger than this (after decompression) are refused: a list page of 100 items is
/// a few hundred KB, so this is only ever reached by a broken or hostile server (a gzip bomb).
pub const DEFAULT_MAX_JSON_BYTES: u64 = 32 * MB;
/// Job logs keep their last this many bytes by default (`[gitlab] max_trace_mb`).
pub const DEFAULT_MAX_TRACE_BYTES: u64 = 32 * MB;
const MB: u64 = 1024 * 1024;

/// Everything the client needs; `Default` gives the production values.
#[derive(Clone)]
pub struct ClientConfig {
    /// "https://gitlab.example.com" or "http://127.0.0.1:1234" (a trailing `/api/v4` is accepted
    /// and dropped; a bare host gets `https://`; user-info is refused).
    pub base_url: String,
    pub token: Option<SecretString>,
    /// Where the token came from, named in a 401 (`GITLAB_TOKEN`, `--token-cmd`, ...).
    pub token_origin: String,
    /// Extra CA bundle (PEM) trusted on top of the system store.
    pub ca_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// No non-GET request may leave: `GitlabError::ReadOnly` before anything is sent.
    pub read_only: bool,
    /// Retries of idempotent GETs after 429, 5xx, timeouts and network errors.
    pub max_retries: u32,
    /// Skip proxies from the environment (loopback demo and tests).
    pub no_proxy: bool,
    /// First backoff step when the server gives no hint (1 s; doubled per attempt, jittered).
    pub backoff_base: Duration,
    /// Longest wait a single call will sleep before retrying; a longer `Retry-After` is returned
    /// to the caller as `RateLimited` so that it can back off as a whole.
    pub max_retry_wait: Duration,
    /// Cap on a JSON body, after decompression (32 MB).
    pub max_json_bytes: u64,
    /// Cap on a job log: a longer one keeps its last this many bytes (32 MB).
    pub max_trace_bytes: u64,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            token: None,
            token_origin: "GITLAB_TOKEN".into(),
            ca_file: None,
            // A dead host is reported within ~20 s (3 tries of 5 s plus backoff), not minutes;
            // a hung one after 15 s per try: the screen must not say "live" meanwhile.
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            read_only: false,
            max_retries: 2,
            no_proxy: false,
            backoff_base: Duration::from_secs(1),
            max_retry_wait: Duration::from_secs(60),
            max_json_bytes: DEFAULT_MAX_JSON_BYTES,
            max_trace_bytes: DEFAULT_MAX_TRACE_BYTES,
        }
    }
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("token_origin", &self.token_origin)
            .field("ca_file", &self.ca_file)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

/// How much of a body is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyLimit {
    /// All of it, or `TooLarge` past this many bytes.
    Whole(u64),
    /// The last this many bytes; what came before is dropped as it streams by.
    Tail(u64),
}

/// A response that arrived with a success status.
pub(crate) struct Fetched {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub status: StatusCode,
    /// Bytes dropped from the front under `BodyLimit::Tail`.
    pub dropped: u64,
}

impl Fetched {
    pub fn server_time(&self) -> Option<Timestamp> {
        header_str(&self.headers, "date").and_then(parse_http_date)
    }
}

/// The connection, credentials and limits of one GitLab instance, shared by every handle.
/// How long one call may spend on retries, counting the timeout of the next try.
const RETRY_BUDGET: Duration = Duration::from_secs(25);

/// Whether another try, after `wait`, could still end within the budget if it ran into the
/// request timeout.
pub fn within_retry_budget(elapsed: Duration, wait: Duration, timeout: Duration) -> bool {
    elapsed + wait + timeout <= RETRY_BUDGET
}

pub(crate) struct Transport {
    http: reqwest::Client,
    /// Scheme, host, port and any path prefix, without `/api/v4` and without a trailing slash.
    base: Url,
    host: String,
    origin: String,
    token: Option<SecretString>,
    token_origin: String,
    /// Only ever switched on (`:readonly`); never off for the life of the client.
    read_only: AtomicBool,
    max_retries: u32,
    backoff_base: Duration,
    max_retry_wait: Duration,
    request_timeout: Duration,
    pub max_json_bytes: u64,
    pub max_trace_bytes: u64,
    pub stats: RequestStats,
    /// Items skipped or repaired in list answers since the last `take_problems`.
    problems: Mutex<Vec<String>>,
}

impl Transport {
    pub fn new(cfg: ClientConfig) -> Result<Self> {
        ensure_crypto_provider();
        let base = normalize_base_url(&cfg.base_url)?;
        let host = host_of(&base);
        let origin = crate::net::canonical_origin(base.as_str()).unwrap_or_else(|| host.clone());
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("gitaiops/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.request_timeout)
            // A REST client needs no redirect, and following one re-sends the token to wherever
            // it points (reqwest restores `Authorization` on a second hop within a foreign host).
            .redirect(reqwest::redirect::Policy::none());
        if cfg.no_proxy {
            builder = builder.no_proxy();
        }
        if let Some(path) = &cfg.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                GitlabError::Config(format!("cannot read CA file {}: {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                GitlabError::Config(format!("CA file {} is not PEM: {e}", path.display()))
            })?;
            if certs.is_empty() {
                return Err(GitlabError::Config(format!(
                    "CA file {} holds no certificate",
                    path.display()
                )));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder
            .build()
            .map_err(|e| GitlabError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            base,
            host,
            origin,
            token: cfg.token,
            token_origin: if cfg.token_origin.trim().is_empty() {
                "GITLAB_TOKEN".into()
            } else {
                cfg.token_origin
            },
            read_only: AtomicBool::new(cfg.read_only),
            max_retries: cfg.max_retries,
            backoff_base: cfg.backoff_base,
            max_retry_wait: cfg.max_retry_wait,
            request_timeout: cfg.request_timeout,
            max_json_bytes: cfg.max_json_bytes.max(1),
            max_trace_bytes: cfg.max_trace_bytes.max(1),
            stats: RequestStats::default(),
            problems: Mutex::new(Vec::new()),
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only.load(Ordering::SeqCst)
    }

    pub fn set_read_only(&self) {
        self.read_only.store(true, Ordering::SeqCst);
    }

    /// Notes a problem with an answer that did not fail the call (a skipped list item).
    pub fn note_problem(&self, p: String) {
        tracing::warn!(problem = %p, "gitlab answer repaired");
        let mut g = self.problems.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: a hostile server cannot grow this without limit.
        if g.len() < 100 {
            g.push(p);
        }
    }

    pub fn take_problems(&self) -> Vec<String> {
        std::mem::take(&mut *self.problems.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// `<base>/api/v4<path>?<query>`.
    pub fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url> {
        let base = self.base.as_str().trim_end_matches('/');
        let mut url = Url::parse(&format!("{base}/api/v4{path}"))
            .map_err(|e| GitlabError::Config(format!("bad request path {path}: {e}")))?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// GETs are idempotent: retried after transient failures (unless `retry` is off: the
    /// caller retries visibly), waiting as long as the server asks (within `max_retry_wait`) or a
    /// jittered exponential backoff when it gives no hint.
    pub async fn get_with_retry(
        &self,
        url: Url,
        path: &str,
        limit: BodyLimit,
        retry: bool,
    ) -> Result<Fetched> {
        let mut attempt = 0u32;
        let started = Instant::now();
        loop {
            match self
                .send_once(Method::GET, url.clone(), path, None, limit)
                .await
            {
                Ok(f) => return Ok(f),
                Err(e) if retry && e.is_transient() && attempt < self.max_retries => {
                    let wait = match &e {
                        GitlabError::RateLimited {
                            retry_after: Some(d),
                            ..
                        } => *d,
                        _ => backoff_delay(
                            attempt,
                            self.backoff_base,
                            self.max_retry_wait,
                            fastrand::f64(),
                        ),
                    };
                    // Another try that could only end after the budget (a hung or dead host:
                    // each try runs into the timeout) is not made: the caller hears within
                    // ~20 s, not after every try has timed out.
                    if wait > self.max_retry_wait
                        || !within_retry_budget(started.elapsed(), wait, self.request_timeout)
                    {
                        return Err(e);
                    }
                    tracing::info!(path, attempt, wait_ms = wait.as_millis() as u64, error = %e, "retrying GET");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The only place a request leaves the process. `read_only` is the caller's handle's view
    /// (a read-only view refuses whatever the shared switch says).
    pub async fn send_once(
        &self,
        method: Method,
        url: Url,
        path: &str,
        body: Option<&serde_json::Value>,
        limit: BodyLimit,
    ) -> Result<Fetched> {
        if self.is_read_only() && method != Method::GET && method != Method::HEAD {
            return Err(GitlabError::ReadOnly {
                method: method.to_string(),
                path: path.to_string(),
            });
        }
        let host = &self.host;
        let request_url = url.clone();
        let mut req = self.http.request(method.clone(), url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose_secret());
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let stats = &self.stats;
        stats.sent();
        let started = Instant::now();
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                stats.finished(method.as_str(), path, None, started.elapsed());
                return Err(transport_error(host, &e));
            }
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        stats.finished(
            method.as_str(),
            path,
            Some(status.as_u16()),
            started.elapsed(),
        );
        stats.rate_limit_seen(RateLimitSeen {
            remaining: header_str(&headers, "ratelimit-remaining").and_then(|v| v.parse().ok()),
            limit: header_str(&headers, "ratelimit-limit").and_then(|v| v.parse().ok()),
        });
        if status.is_redirection() {
            // Nothing of the body is read: it is not GitLab's answer.
            return Err(GitlabError::Redirect {
                host: host.clone(),
                status: status.as_u16(),
                location: location_origin(&request_url, &headers),
            });
        }
        // Error bodies are only ever shown as one short line: a small cap is plenty.
        let limit = if status.is_success() {
            limit
        } else {
            BodyLimit::Whole(64 * 1024)
        };
        let (body, dropped) = match read_body(&mut resp, limit).await {
            Ok(b) => b,
            Err(ReadError::Transport(e)) => return Err(transport_error(host, &e)),
            Err(ReadError::TooLarge(max)) if status.is_success() => {
                return Err(GitlabError::TooLarge {
                    host: host.clone(),
                    path: path.to_string(),
                    limit_mb: max.div_ceil(MB),
                });
            }
            // An oversized error body: the status alone says enough.
            Err(ReadError::TooLarge(_)) => (Vec::new(), 0),
        };
        tracing::debug!(
            %method, path, status = status.as_u16(), bytes = body.len(), dropped,
            ms = started.elapsed().as_millis() as u64, "gitlab request"
        );
        if status.is_success() {
            return Ok(Fetched {
                headers,
                body,
                status,
                dropped,
            });
        }
        Err(status_error(
            host,
            &self.token_origin,
            path,
            status,
            &headers,
            &body,
        ))
    }
}

enum ReadError {
    Transport(reqwest::Error),
    TooLarge(u64),
}

/// Reads the (already decompressed) body chunk by chunk within `limit`: memory stays bounded
/// whatever the server sends or however it compresses it.
async fn read_body(
    resp: &mut reqwest::Response,
    limit: BodyLimit,
) -> std::result::Result<(Vec<u8>, u64), ReadError> {
    match limit {
        BodyLimit::Whole(max) => {
            if resp.content_length().is_some_and(|n| n > max) {
                return Err(ReadError::TooLarge(max));
            }
            let mut buf = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(ReadError::Transport)? {
                if (buf.len() + chunk.len()) as u64 > max {
                    return Err(ReadError::TooLarge(max));
                }
                buf.extend_from_slice(&chunk);
            }
            Ok((buf, 0))
        }
        BodyLimit::Tail(max) => {
            let max = usize::try_from(max).unwrap_or(usize::MAX);
            let mut buf: VecDeque<u8> = VecDeque::new();
            let mut dropped = 0u64;
            while let Some(chunk) = resp.chunk().await.map_err(ReadError::Transport)? {
                let chunk: &[u8] = if chunk.len() > max {
                    dropped += (chunk.len() - max) as u64;
                    &chunk[chunk.len() - max..]
                } else {
                    &chunk
                };
                let over = (buf.len() + chunk.len()).saturating_sub(max);
                if over > 0 {
                    buf.drain(..over);
                    dropped += over as u64;
                }
                // Grow by doubling, but never past the cap: a ring buffer that drains at the
                // front and fills at the back writes to every byte of its capacity, and an
                // amortized doubling past 32 MiB reached ~64 MB, all of it resident once a
                // 50 MB log had streamed through (measured: 49 MB resident for a 32 MiB tail).
                let need = buf.len() + chunk.len();
                if need > buf.capacity() {
                    let want = need.max(buf.capacity() * 2).min(max.max(need));
                    buf.reserve_exact(want - buf.len());
                }
                buf.extend(chunk);
            }
            Ok((Vec::from(buf), dropped))
        }
    }
}

/// The origin a redirect points to (`https://other.example`), relative targets resolved; for
/// the error line only, so it is flattened and clipped.
fn location_origin(request: &Url, headers: &HeaderMap) -> String {
    let Some(loc) = headers
        .get(reqwest::header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    else {
        return "(no Location header)".into();
    };
    match request.join(loc.trim()) {
        Ok(u) => {
            let origin = u.origin().ascii_serialization();
            if origin == "null" {
                one_line(&format!("{}:", u.scheme()), 80)
            } else {
                origin
            }
        }
        Err(_) => format!("an unparsable Location ({})", one_line(&loc, 80)),
    }
}

/// reqwest is built without a default crypto provider (ring is lighter to build than aws-lc),
/// so anything that builds a `reqwest::Client` must call this first; it is idempotent.
pub fn ensure_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn transport_error(host: &str, e: &reqwest::Error) -> GitlabError {
    if e.is_timeout() {
        return GitlabError::Timeout {
            host: host.to_string(),
        };
    }
    // The innermost cause is the informative part ("Connection refused", "UnknownIssuer").
    let mut detail = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        detail = s.to_string();
        src = s.source();
    }
    GitlabError::Network {
        host: host.to_string(),
        detail: one_line(&crate::redact::redact(&detail), 200),
    }
}

fn status_error(
    host: &str,
    token_origin: &str,
    path: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> GitlabError {
    let host = host.to_string();
    let code = status.as_u16();
    match code {
        401 => GitlabError::Unauthorized {
            host,
            token_from: token_origin.to_string(),
        },
        403 => {
            let m = error_body_message(body);
            GitlabError::Forbidden {
                host,
                message: if m.is_empty() { "forbidden".into() } else { m },
            }
        }
        404 => GitlabError::NotFound {
            host,
            // `/projects/acme%2Fnope` reads better as `/projects/acme/nope`.
            what: one_line(
                &percent_encoding::percent_decode_str(path).decode_utf8_lossy(),
                200,
            ),
        },
        429 => {
            let server_now = header_str(headers, "date").and_then(parse_http_date);
            GitlabError::RateLimited {
                host,
                retry_after: rate_limit_wait(headers, server_now.unwrap_or_else(Timestamp::now)),
            }
        }
        500..=599 => GitlabError::Server {
            host,
            status: code,
            message: error_body_message(body),
        },
        _ => GitlabError::Status {
            host,
            status: code,
            message: error_body_message(body),
        },
    }
}

pub(crate) fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Accepts `gitlab.example.com`, `https://gitlab.example.com/`, `.../api/v4`. A user name or
/// password in the URL is refused: it would be shown on screen and in `config show`, and
/// reqwest would send it as Basic auth instead of the token.
pub fn normalize_base_url(raw: &str) -> Result<Url> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(GitlabError::Config(
            "no GitLab URL: set GITLAB_HOST or pass --gitlab-url".into(),
        ));
    }
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| {
        GitlabError::Config(format!(
            "bad GitLab URL {:?}: {e}",
            crate::net::without_userinfo(raw)
        ))
    })?;
    if crate::net::has_userinfo(&url) {
        return Err(GitlabError::Config(crate::net::userinfo_message(raw)));
    }
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(GitlabError::Config(format!(
            "bad GitLab URL {raw:?}: expected http(s)://host"
        )));
    }
    let path = url.path().trim_end_matches('/');
    let path = path.strip_suffix("/api/v4").unwrap_or(path).to_string();
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

pub(crate) fn host_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn a_hung_host_is_not_retried_past_the_budget() {
        let s = Duration::from_secs;
        // Quick failures (5xx, refused) are retried.
        assert!(within_retry_budget(s(0), s(1), s(15)));
        assert!(within_retry_budget(s(2), s(2), s(15)));
        // A try that timed out after 15 s is not repeated: it would end after 25 s.
        assert!(!within_retry_budget(s(15), s(1), s(15)));
        // A dead host (5 s connect timeout) gets one more try, not three.
        assert!(within_retry_budget(s(5), s(1), s(15)));
        assert!(!within_retry_budget(s(11), s(2), s(15)));
    }

    #[test]
    fn base_urls_are_normalised() {
        let u = normalize_base_url("gitlab.example.com").unwrap();
        assert_eq!(u.as_str(), "https://gitlab.example.com/");
        assert_eq!(host_of(&u), "gitlab.example.com");
        let u = normalize_base_url("http://127.0.0.1:4567/api/v4/").unwrap();
        assert_eq!(host_of(&u), "127.0.0.1:4567");
        assert_eq!(u.path(), "/");
        let u = normalize_base_url("https://example.org/gitlab/").unwrap();
        assert_eq!(u.path(), "/gitlab");
        assert!(normalize_base_url("").is_err());
        assert!(normalize_base_url("ftp://x").is_err());
    }

    #[test]
    fn user_info_in_the_url_is_refused_without_echoing_the_password() {
        for raw in [
            "https://alice:hunter2pass@gitlab.example.com",
            "https://glpat-abcdefghij1234567890@gitlab.example.com",
            "alice:hunter2pass@gitlab.example.com",
        ] {
            let e = normalize_base_url(raw).unwrap_err().to_string();
            assert!(e.contains("user name or password"), "{e}");
            assert!(
                !e.contains("hunter2pass") && !e.contains("glpat-abc"),
                "{e}"
            );
        }
    }

    #[test]
    fn redirect_targets_are_named_by_origin() {
        let req = Url::parse("http://127.0.0.1:9/api/v4/user").unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "location",
            HeaderValue::from_static("https://Other.Example:8443/steal?x=1"),
        );
        assert_eq!(location_origin(&req, &h), "https://other.example:8443");
        h.insert("location", HeaderValue::from_static("/elsewhere"));
        assert_eq!(location_origin(&req, &h), "http://127.0.0.1:9");
        assert_eq!(
            location_origin(&req, &HeaderMap::new()),
            "(no Location header)"
        );
    }
}
