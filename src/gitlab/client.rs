//! The HTTP client for GitLab REST v4.
//!
//! One place decides how every request leaves the process: bearer auth, extra CA, proxies from
//! the environment, timeouts, `Link` pagination, 429 handling, bounded retries of idempotent GETs,
//! request counting and read-only enforcement. The pure pieces (link parsing, backoff, rate-limit
//! waits, URL normalisation) are free functions so they can be unit-tested without a server.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::error::{GitlabError, Result, error_body_message, one_line};
use super::models::{
    Approvals, Bridge, Commit, Job, Member, MergeRequest, MrDiff, Note, Pipeline, Project, User,
    UserStatus,
};
use super::stats::{RateLimitSeen, RequestStats};

/// Everything the client needs; `Default` gives the production values.
#[derive(Clone)]
pub struct ClientConfig {
    /// "https://gitlab.example.com" or "http://127.0.0.1:1234" (a trailing `/api/v4` is accepted
    /// and dropped; a bare host gets `https://`).
    pub base_url: String,
    pub token: Option<SecretString>,
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
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            token: None,
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
        }
    }
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("ca_file", &self.ca_file)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

/// A list response: the items of every page plus the server's clock from the first page.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub items: Vec<T>,
    /// From the `Date` header: the reference for the next `updated_after` delta.
    pub server_time: Option<Timestamp>,
}

/// The outcome of a write call, as the executor records it.
#[derive(Debug, Clone)]
pub struct WriteResponse {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub body: serde_json::Value,
    pub duration: Duration,
}

/// `GET /projects/:id/merge_requests` parameters.
#[derive(Debug, Clone, Default)]
pub struct MrQuery {
    /// `opened`, `closed`, `merged`, `locked` or `all` (GitLab's default is `all`).
    pub state: Option<String>,
    pub updated_after: Option<Timestamp>,
    /// Default `updated_at`.
    pub order_by: Option<String>,
    /// Default `desc`.
    pub sort: Option<String>,
    /// Default (0) means 100, the maximum.
    pub per_page: u32,
    /// Stop after this many pages (None: follow `Link` to the end, within a safety cap).
    pub max_pages: Option<u32>,
}

impl MrQuery {
    /// Every open MR, most recently updated first.
    pub fn opened() -> Self {
        Self {
            state: Some("opened".into()),
            ..Self::default()
        }
    }

    /// Every MR (any state) updated at or after `t`: merged and closed ones leave the open set.
    pub fn changed_since(t: Timestamp) -> Self {
        Self {
            state: Some("all".into()),
            updated_after: Some(t),
            ..Self::default()
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![
            (
                "order_by",
                self.order_by.clone().unwrap_or_else(|| "updated_at".into()),
            ),
            ("sort", self.sort.clone().unwrap_or_else(|| "desc".into())),
            ("per_page", per_page(self.per_page).to_string()),
        ];
        if let Some(s) = &self.state {
            q.push(("state", s.clone()));
        }
        if let Some(t) = self.updated_after {
            q.push(("updated_after", iso_seconds(t)));
        }
        q
    }
}

/// `GET /projects/:id/pipelines` parameters.
#[derive(Debug, Clone, Default)]
pub struct PipelineQuery {
    pub updated_after: Option<Timestamp>,
    /// Default `id`.
    pub order_by: Option<String>,
    /// Default `desc`.
    pub sort: Option<String>,
    /// Default (0) means 100.
    pub per_page: u32,
    pub max_pages: Option<u32>,
    pub git_ref: Option<String>,
    pub source: Option<String>,
    pub status: Option<String>,
}

impl PipelineQuery {
    /// The newest `n` pipelines (one page).
    pub fn latest(n: u32) -> Self {
        Self {
            per_page: n,
            max_pages: Some(1),
            ..Self::default()
        }
    }

    /// Pipelines whose `updated_at` moved at or after `t` (each status change moves it).
    pub fn changed_since(t: Timestamp) -> Self {
        Self {
            updated_after: Some(t),
            order_by: Some("updated_at".into()),
            ..Self::default()
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![
            (
                "order_by",
                self.order_by.clone().unwrap_or_else(|| "id".into()),
            ),
            ("sort", self.sort.clone().unwrap_or_else(|| "desc".into())),
            ("per_page", per_page(self.per_page).to_string()),
        ];
        if let Some(t) = self.updated_after {
            q.push(("updated_after", iso_seconds(t)));
        }
        if let Some(r) = &self.git_ref {
            q.push(("ref", r.clone()));
        }
        if let Some(s) = &self.source {
            q.push(("source", s.clone()));
        }
        if let Some(s) = &self.status {
            q.push(("status", s.clone()));
        }
        q
    }
}

fn per_page(n: u32) -> u32 {
    if n == 0 { 100 } else { n.min(100) }
}

/// `2019-03-15T08:00:00Z`: the form GitLab documents for time filters.
fn iso_seconds(t: Timestamp) -> String {
    Timestamp::from_second(t.as_second())
        .unwrap_or(t)
        .to_string()
}

/// Safety cap on `Link` following so that a server that always says "next" cannot trap us.
const MAX_PAGES: u32 = 200;

/// Everything but unreserved characters is encoded, `/` included (`group%2Fproject`).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A project path or file path as one URL path segment.
pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, PATH_SEGMENT).to_string()
}

/// One per GitLab instance per process: every task (poller, planner, diagnosis, executor) holds
/// a clone, so they share one connection pool, one request counter and one read-only switch.
#[derive(Clone)]
pub struct GitlabClient {
    inner: Arc<Inner>,
    /// This handle refuses writes whatever the shared switch says (the planner's and the
    /// diagnoser's view: they only ever read).
    read_only_view: bool,
    /// This handle tries each request once: its caller retries visibly (the poller shows
    /// "retrying (2/4) in 4s" instead of waiting silently through the client's retries).
    single_attempt: bool,
}

struct Inner {
    http: reqwest::Client,
    /// Scheme, host, port and any path prefix, without `/api/v4` and without a trailing slash.
    base: Url,
    host: String,
    token: Option<SecretString>,
    /// Only ever switched on (`:readonly`); never off for the life of the client.
    read_only: AtomicBool,
    max_retries: u32,
    backoff_base: Duration,
    max_retry_wait: Duration,
    request_timeout: Duration,
    stats: RequestStats,
}

impl std::fmt::Debug for GitlabClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitlabClient")
            .field("host", &self.inner.host)
            .field("read_only", &self.is_read_only())
            .finish_non_exhaustive()
    }
}

/// A response that arrived with a success status.
struct Fetched {
    headers: HeaderMap,
    body: Vec<u8>,
    status: StatusCode,
}

impl Fetched {
    fn server_time(&self) -> Option<Timestamp> {
        header_str(&self.headers, "date").and_then(parse_http_date)
    }
}

impl GitlabClient {
    pub fn new(cfg: ClientConfig) -> Result<Self> {
        ensure_crypto_provider();

        let base = normalize_base_url(&cfg.base_url)?;
        let host = host_of(&base);
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("gitaiops/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.request_timeout);
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
            inner: Arc::new(Inner {
                http,
                base,
                host,
                token: cfg.token,
                read_only: AtomicBool::new(cfg.read_only),
                max_retries: cfg.max_retries,
                backoff_base: cfg.backoff_base,
                max_retry_wait: cfg.max_retry_wait,
                request_timeout: cfg.request_timeout,
                stats: RequestStats::default(),
            }),
            read_only_view: false,
            single_attempt: false,
        })
    }

    /// `gitlab.example.com` or `127.0.0.1:4567`.
    pub fn host(&self) -> &str {
        &self.inner.host
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only_view || self.inner.read_only.load(Ordering::SeqCst)
    }

    /// Switches read-only on for every handle of this client, for good: the next write of any
    /// task is refused before it is sent.
    pub fn set_read_only(&self) {
        self.inner.read_only.store(true, Ordering::SeqCst);
    }

    /// A handle on the same connection pool and counter that can never write.
    pub fn read_only_view(&self) -> GitlabClient {
        GitlabClient {
            read_only_view: true,
            ..self.clone()
        }
    }

    /// A handle on the same pool and counter whose GETs are not retried inside the client.
    pub fn single_attempt(&self) -> GitlabClient {
        GitlabClient {
            single_attempt: true,
            ..self.clone()
        }
    }

    /// Every HTTP request sent by any handle of this client, retries included.
    pub fn request_count(&self) -> u64 {
        self.inner.stats.total()
    }

    pub fn requests_last_minute(&self) -> u32 {
        self.inner.stats.last_minute()
    }

    /// Requests by endpoint and outcome, rate-limit headers as last seen.
    pub fn stats(&self) -> &RequestStats {
        &self.inner.stats
    }

    // ---- reads -------------------------------------------------------------------------

    pub async fn current_user(&self) -> Result<User> {
        self.get_json("/user", &[]).await
    }

    pub async fn membership_projects(&self) -> Result<Vec<Project>> {
        let q = [
            ("membership", "true".to_string()),
            ("simple", "true".to_string()),
            ("order_by", "last_activity_at".to_string()),
            ("per_page", "100".to_string()),
        ];
        Ok(self.get_list("/projects", &q, Some(10)).await?.items)
    }

    pub async fn project(&self, path_or_id: &str) -> Result<Project> {
        self.get_json(&format!("/projects/{}", project_ref(path_or_id)), &[])
            .await
    }

    /// Direct, inherited and invited members.
    pub async fn members(&self, project_id: u64) -> Result<Vec<Member>> {
        let q = [("per_page", "100".to_string())];
        Ok(self
            .get_list(&format!("/projects/{project_id}/members/all"), &q, None)
            .await?
            .items)
    }

    /// Direct members of a group (CODEOWNERS `@group` owners are its direct members only).
    pub async fn group_members(&self, group_path: &str) -> Result<Vec<Member>> {
        let q = [("per_page", "100".to_string())];
        Ok(self
            .get_list(
                &format!("/groups/{}/members", project_ref(group_path)),
                &q,
                Some(5),
            )
            .await?
            .items)
    }

    /// A user's public profile: `bot`, `state`, `public_email`.
    pub async fn user(&self, id: u64) -> Result<User> {
        self.get_json(&format!("/users/{id}"), &[]).await
    }

    /// A user's status: `availability` is `busy` when they set it so.
    pub async fn user_status(&self, id_or_username: &str) -> Result<UserStatus> {
        self.get_json(
            &format!("/users/{}/status", encode_segment(id_or_username)),
            &[],
        )
        .await
    }

    pub async fn merge_requests(
        &self,
        project_id: u64,
        q: &MrQuery,
    ) -> Result<Listed<MergeRequest>> {
        self.get_list(
            &format!("/projects/{project_id}/merge_requests"),
            &q.params(),
            q.max_pages,
        )
        .await
    }

    pub async fn merge_request(&self, project_id: u64, iid: u64) -> Result<MergeRequest> {
        self.get_json(&format!("/projects/{project_id}/merge_requests/{iid}"), &[])
            .await
    }

    pub async fn mr_diffs(&self, project_id: u64, iid: u64) -> Result<Vec<MrDiff>> {
        let q = [("per_page", "100".to_string())];
        Ok(self
            .get_list(
                &format!("/projects/{project_id}/merge_requests/{iid}/diffs"),
                &q,
                Some(20),
            )
            .await?
            .items)
    }

    pub async fn mr_approvals(&self, project_id: u64, iid: u64) -> Result<Approvals> {
        self.get_json(
            &format!("/projects/{project_id}/merge_requests/{iid}/approvals"),
            &[],
        )
        .await
    }

    /// The newest 100 notes (system notes included), newest first.
    pub async fn mr_notes(&self, project_id: u64, iid: u64) -> Result<Vec<Note>> {
        let q = [
            ("sort", "desc".to_string()),
            ("order_by", "created_at".to_string()),
            ("per_page", "100".to_string()),
        ];
        Ok(self
            .get_list(
                &format!("/projects/{project_id}/merge_requests/{iid}/notes"),
                &q,
                Some(1),
            )
            .await?
            .items)
    }

    pub async fn pipelines(&self, project_id: u64, q: &PipelineQuery) -> Result<Listed<Pipeline>> {
        self.get_list(
            &format!("/projects/{project_id}/pipelines"),
            &q.params(),
            q.max_pages,
        )
        .await
    }

    pub async fn pipeline(&self, project_id: u64, id: u64) -> Result<Pipeline> {
        self.get_json(&format!("/projects/{project_id}/pipelines/{id}"), &[])
            .await
    }

    pub async fn pipeline_jobs(&self, project_id: u64, id: u64) -> Result<Vec<Job>> {
        let q = [("per_page", "100".to_string())];
        Ok(self
            .get_list(
                &format!("/projects/{project_id}/pipelines/{id}/jobs"),
                &q,
                None,
            )
            .await?
            .items)
    }

    pub async fn pipeline_bridges(&self, project_id: u64, id: u64) -> Result<Vec<Bridge>> {
        let q = [("per_page", "100".to_string())];
        Ok(self
            .get_list(
                &format!("/projects/{project_id}/pipelines/{id}/bridges"),
                &q,
                None,
            )
            .await?
            .items)
    }

    pub async fn job(&self, project_id: u64, id: u64) -> Result<Job> {
        self.get_json(&format!("/projects/{project_id}/jobs/{id}"), &[])
            .await
    }

    /// The whole log so far, as bytes (it is not guaranteed to be UTF-8).
    pub async fn job_trace(&self, project_id: u64, id: u64) -> Result<Vec<u8>> {
        let path = format!("/projects/{project_id}/jobs/{id}/trace");
        let url = self.url(&path, &[])?;
        Ok(self.get_with_retry(url, &path).await?.body)
    }

    /// A file's raw bytes at `git_ref`; `None` when the file (or ref) does not exist.
    pub async fn repository_file_raw(
        &self,
        project_id: u64,
        file_path: &str,
        git_ref: &str,
    ) -> Result<Option<Vec<u8>>> {
        let path = format!(
            "/projects/{project_id}/repository/files/{}/raw",
            encode_segment(file_path)
        );
        let url = self.url(&path, &[("ref", git_ref.to_string())])?;
        match self.get_with_retry(url, &path).await {
            Ok(f) => Ok(Some(f.body)),
            Err(GitlabError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Commits touching `path` since `since` (newest first, at most 500): who knows this code.
    pub async fn commits_for_path(
        &self,
        project_id: u64,
        path: &str,
        since: Timestamp,
    ) -> Result<Vec<Commit>> {
        let q = [
            ("path", path.to_string()),
            ("since", iso_seconds(since)),
            ("per_page", "100".to_string()),
        ];
        Ok(self
            .get_list(
                &format!("/projects/{project_id}/repository/commits"),
                &q,
                Some(5),
            )
            .await?
            .items)
    }

    // ---- writes ------------------------------------------------------------------------

    /// One non-idempotent request, never retried. `path` is relative to `/api/v4`.
    pub async fn write(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<WriteResponse> {
        if !path.starts_with('/') || path.contains("://") {
            return Err(GitlabError::Config(format!(
                "write path must be relative to /api/v4: {path}"
            )));
        }
        let url = self.url(path, &[])?;
        let started = Instant::now();
        let f = self
            .send_once(method.clone(), url, path, body.as_ref())
            .await?;
        let body = if f.body.iter().all(u8::is_ascii_whitespace) {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&f.body).unwrap_or_else(|_| {
                serde_json::Value::String(one_line(&String::from_utf8_lossy(&f.body), 500))
            })
        };
        Ok(WriteResponse {
            method: method.to_string(),
            path: path.to_string(),
            status: f.status.as_u16(),
            body,
            duration: started.elapsed(),
        })
    }

    /// Returns the new job (a retry creates a new job id).
    pub async fn retry_job(&self, project_id: u64, job_id: u64) -> Result<WriteResponse> {
        self.write(
            Method::POST,
            &format!("/projects/{project_id}/jobs/{job_id}/retry"),
            None,
        )
        .await
    }

    pub async fn cancel_job(&self, project_id: u64, job_id: u64) -> Result<WriteResponse> {
        self.write(
            Method::POST,
            &format!("/projects/{project_id}/jobs/{job_id}/cancel"),
            None,
        )
        .await
    }

    pub async fn play_job(&self, project_id: u64, job_id: u64) -> Result<WriteResponse> {
        self.write(
            Method::POST,
            &format!("/projects/{project_id}/jobs/{job_id}/play"),
            None,
        )
        .await
    }

    pub async fn retry_pipeline(&self, project_id: u64, id: u64) -> Result<WriteResponse> {
        self.write(
            Method::POST,
            &format!("/projects/{project_id}/pipelines/{id}/retry"),
            None,
        )
        .await
    }

    pub async fn cancel_pipeline(&self, project_id: u64, id: u64) -> Result<WriteResponse> {
        self.write(
            Method::POST,
            &format!("/projects/{project_id}/pipelines/{id}/cancel"),
            None,
        )
        .await
    }

    pub async fn create_mr_note(
        &self,
        project_id: u64,
        iid: u64,
        body: &str,
    ) -> Result<WriteResponse> {
        self.write(
            Method::POST,
            &format!("/projects/{project_id}/merge_requests/{iid}/notes"),
            Some(serde_json::json!({ "body": body })),
        )
        .await
    }

    /// `PUT merge_requests/:iid` with e.g. `{"add_labels": "x"}` or `{"reviewer_ids": [1, 2]}`.
    pub async fn update_mr(
        &self,
        project_id: u64,
        iid: u64,
        body: serde_json::Value,
    ) -> Result<WriteResponse> {
        self.write(
            Method::PUT,
            &format!("/projects/{project_id}/merge_requests/{iid}"),
            Some(body),
        )
        .await
    }

    pub async fn rebase_mr(&self, project_id: u64, iid: u64) -> Result<WriteResponse> {
        self.write(
            Method::PUT,
            &format!("/projects/{project_id}/merge_requests/{iid}/rebase"),
            None,
        )
        .await
    }

    /// Always sends the head `sha` the operator saw, so unseen commits are never merged.
    pub async fn merge_mr(&self, project_id: u64, iid: u64, sha: &str) -> Result<WriteResponse> {
        self.write(
            Method::PUT,
            &format!("/projects/{project_id}/merge_requests/{iid}/merge"),
            Some(serde_json::json!({ "sha": sha })),
        )
        .await
    }

    // ---- machinery ---------------------------------------------------------------------

    fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url> {
        let base = self.inner.base.as_str().trim_end_matches('/');
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

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        let url = self.url(path, query)?;
        let f = self.get_with_retry(url, path).await?;
        self.parse(path, &f.body)
    }

    async fn get_list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        max_pages: Option<u32>,
    ) -> Result<Listed<T>> {
        let mut url = self.url(path, query)?;
        let mut items = Vec::new();
        let mut server_time = None;
        let limit = max_pages.unwrap_or(MAX_PAGES).clamp(1, MAX_PAGES);
        for page in 1..=limit {
            let f = self.get_with_retry(url.clone(), path).await?;
            if page == 1 {
                server_time = f.server_time();
            }
            let mut batch: Vec<T> = self.parse(path, &f.body)?;
            items.append(&mut batch);
            let Some(next) = next_link(&f.headers) else {
                break;
            };
            match rebase_link(&self.inner.base, &next) {
                Some(u) => url = u,
                None => {
                    tracing::warn!(path, "ignoring unusable Link rel=next");
                    break;
                }
            }
            if page == MAX_PAGES {
                tracing::warn!(path, "stopped following Link after {MAX_PAGES} pages");
            }
        }
        Ok(Listed { items, server_time })
    }

    fn parse<T: DeserializeOwned>(&self, path: &str, body: &[u8]) -> Result<T> {
        serde_json::from_slice(body).map_err(|e| GitlabError::Parse {
            host: self.inner.host.clone(),
            path: path.to_string(),
            detail: one_line(&e.to_string(), 200),
        })
    }

    /// GETs are idempotent: retried after transient failures, waiting as long as the server asks
    /// (within `max_retry_wait`) or a jittered exponential backoff when it gives no hint.
    async fn get_with_retry(&self, url: Url, path: &str) -> Result<Fetched> {
        let mut attempt = 0u32;
        let started = Instant::now();
        loop {
            match self.send_once(Method::GET, url.clone(), path, None).await {
                Ok(f) => return Ok(f),
                Err(e)
                    if e.is_transient()
                        && !self.single_attempt
                        && attempt < self.inner.max_retries =>
                {
                    let wait = match &e {
                        GitlabError::RateLimited {
                            retry_after: Some(d),
                            ..
                        } => *d,
                        _ => backoff_delay(
                            attempt,
                            self.inner.backoff_base,
                            self.inner.max_retry_wait,
                            fastrand::f64(),
                        ),
                    };
                    // Another try that could only end after the budget (a hung or dead host:
                    // each try runs into the timeout) is not made: the caller hears within
                    // ~20 s, not after every try has timed out.
                    if wait > self.inner.max_retry_wait
                        || !within_retry_budget(started.elapsed(), wait, self.inner.request_timeout)
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

    /// The only place a request leaves the process.
    async fn send_once(
        &self,
        method: Method,
        url: Url,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Fetched> {
        if self.is_read_only() && method != Method::GET && method != Method::HEAD {
            return Err(GitlabError::ReadOnly {
                method: method.to_string(),
                path: path.to_string(),
            });
        }
        let host = &self.inner.host;
        let mut req = self.inner.http.request(method.clone(), url);
        if let Some(t) = &self.inner.token {
            req = req.bearer_auth(t.expose_secret());
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let stats = &self.inner.stats;
        stats.sent();
        let started = Instant::now();
        let resp = match req.send().await {
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
        let body = resp
            .bytes()
            .await
            .map_err(|e| transport_error(host, &e))?
            .to_vec();
        tracing::debug!(
            %method, path, status = status.as_u16(), bytes = body.len(),
            ms = started.elapsed().as_millis() as u64, "gitlab request"
        );
        if status.is_success() {
            return Ok(Fetched {
                headers,
                body,
                status,
            });
        }
        Err(status_error(host, path, status, &headers, &body))
    }
}

/// How long one call may spend on retries, counting the timeout of the next try.
const RETRY_BUDGET: Duration = Duration::from_secs(25);

/// Whether another try, after `wait`, could still end within the budget if it ran into the
/// request timeout.
pub fn within_retry_budget(elapsed: Duration, wait: Duration, timeout: Duration) -> bool {
    elapsed + wait + timeout <= RETRY_BUDGET
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
        detail: one_line(&detail, 200),
    }
}

fn status_error(
    host: &str,
    path: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> GitlabError {
    let host = host.to_string();
    let code = status.as_u16();
    match code {
        401 => GitlabError::Unauthorized { host },
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
            what: percent_encoding::percent_decode_str(path)
                .decode_utf8_lossy()
                .into_owned(),
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

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

pub use crate::net::{MAX_RATE_LIMIT_WAIT, backoff_delay, parse_http_date, rate_limit_wait};

/// The `rel="next"` target of every `Link` header (there may be several headers, each with a
/// comma-separated list of `<url>; rel="..."` entries).
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(parse_link_next)
}

pub fn parse_link_next(value: &str) -> Option<String> {
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let url = &after[..close];
        let params_end = after[close..].find('<').map_or(after.len(), |i| close + i);
        let params = &after[close + 1..params_end];
        let is_next = params.split(';').any(|p| {
            let p = p.trim().trim_end_matches(',').trim();
            p.strip_prefix("rel=").is_some_and(|r| {
                r.trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
            })
        });
        if is_next {
            return Some(url.to_string());
        }
        rest = &after[params_end..];
    }
    None
}

/// Puts a `Link` URL's path and query onto our own base (scheme, host, port). A GitLab whose
/// `external_url` is wrong behind a proxy advertises links to another host; following them would
/// fail at best and send the token elsewhere at worst.
fn rebase_link(base: &Url, link: &str) -> Option<Url> {
    let parsed = Url::parse(link).or_else(|_| base.join(link)).ok()?;
    let mut u = base.clone();
    u.set_path(parsed.path());
    u.set_query(parsed.query());
    Some(u)
}

/// Accepts `gitlab.example.com`, `https://gitlab.example.com/`, `.../api/v4`.
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
    let mut url = Url::parse(&with_scheme)
        .map_err(|e| GitlabError::Config(format!("bad GitLab URL {raw:?}: {e}")))?;
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

fn host_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// A numeric id as is, a full path URL-encoded (`group%2Fproject`).
fn project_ref(path_or_id: &str) -> String {
    if !path_or_id.is_empty() && path_or_id.bytes().all(|b| b.is_ascii_digit()) {
        path_or_id.to_string()
    } else {
        encode_segment(path_or_id.trim_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn link_next_is_found_among_other_relations() {
        let v = r#"<https://g.example/api/v4/projects/1/merge_requests?page=1&per_page=2>; rel="prev", <https://g.example/api/v4/projects/1/merge_requests?page=3&per_page=2>; rel="next", <https://g.example/api/v4/projects/1/merge_requests?page=5&per_page=2>; rel="last""#;
        assert_eq!(
            parse_link_next(v).as_deref(),
            Some("https://g.example/api/v4/projects/1/merge_requests?page=3&per_page=2")
        );
    }

    #[test]
    fn link_without_next_means_last_page() {
        let v = r#"<https://g/x?page=1>; rel="first", <https://g/x?page=2>; rel="last""#;
        assert_eq!(parse_link_next(v), None);
        assert_eq!(parse_link_next(""), None);
        assert_eq!(parse_link_next("garbage <unterminated"), None);
    }

    #[test]
    fn link_accepts_unquoted_and_multi_valued_rel_and_keyset_cursors() {
        assert_eq!(
            parse_link_next("<https://g/x?cursor=a,b>; rel=next").as_deref(),
            Some("https://g/x?cursor=a,b")
        );
        assert_eq!(
            parse_link_next(r#"<https://g/y?id_after=42>; rel="last next""#).as_deref(),
            Some("https://g/y?id_after=42")
        );
    }

    #[test]
    fn link_next_across_several_headers() {
        let h = headers(&[
            ("link", r#"<https://g/a?page=1>; rel="first""#),
            ("link", r#"<https://g/a?page=2>; rel="next""#),
        ]);
        assert_eq!(next_link(&h).as_deref(), Some("https://g/a?page=2"));
    }

    #[test]
    fn links_are_rebased_onto_our_own_origin() {
        let base = normalize_base_url("http://127.0.0.1:9999").unwrap();
        let u = rebase_link(
            &base,
            "https://wrong.internal/api/v4/projects/1/pipelines?page=2",
        )
        .unwrap();
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9999/api/v4/projects/1/pipelines?page=2"
        );
    }

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
    fn urls_keep_a_path_prefix_and_encode_project_paths() {
        let c = GitlabClient::new(ClientConfig {
            base_url: "https://example.org/gitlab".into(),
            ..ClientConfig::default()
        })
        .unwrap();
        let u = c
            .url(
                &format!("/projects/{}", project_ref("acme/platform")),
                &[("ref", "a b".into())],
            )
            .unwrap();
        assert_eq!(
            u.as_str(),
            "https://example.org/gitlab/api/v4/projects/acme%2Fplatform?ref=a+b"
        );
        assert_eq!(project_ref("42"), "42");
        assert_eq!(encode_segment("docs/CODEOWNERS"), "docs%2FCODEOWNERS");
    }

    #[test]
    fn queries_carry_deltas_in_gitlab_time_format() {
        let t: Timestamp = "2024-03-15T08:00:00.123Z".parse().unwrap();
        let q = MrQuery::changed_since(t).params();
        assert!(q.contains(&("state", "all".into())));
        assert!(q.contains(&("updated_after", "2024-03-15T08:00:00Z".into())));
        assert!(q.contains(&("order_by", "updated_at".into())));
        let q = PipelineQuery::latest(20).params();
        assert!(q.contains(&("per_page", "20".into())));
        assert!(q.contains(&("order_by", "id".into())));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let cfg = ClientConfig {
            base_url: "https://g".into(),
            token: Some(SecretString::from("glpat-supersecret")),
            ..ClientConfig::default()
        };
        assert!(!format!("{cfg:?}").contains("supersecret"));
        let c = GitlabClient::new(cfg).unwrap();
        assert!(!format!("{c:?}").contains("supersecret"));
    }

    #[tokio::test]
    async fn read_only_refuses_before_sending() {
        let c = GitlabClient::new(ClientConfig {
            // Nothing listens here; a request that left would fail with a network error.
            base_url: "http://127.0.0.1:9".into(),
            read_only: true,
            no_proxy: true,
            ..ClientConfig::default()
        })
        .unwrap();
        let e = c.retry_job(1, 2).await.unwrap_err();
        assert!(matches!(e, GitlabError::ReadOnly { .. }), "{e}");
        assert_eq!(c.request_count(), 0);
    }
}
