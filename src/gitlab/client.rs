//! The typed GitLab REST v4 calls: one method per endpoint, `Link` pagination, list answers parsed
//! item by item (one bad item is skipped and said, never the whole list), job logs kept to their
//! tail. How a request leaves (auth, redirects, caps, retries, counting, read-only) is
//! `transport.rs`; nothing here talks to reqwest directly.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::HeaderMap;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;

use super::deploys::Deployments;
use super::error::{GitlabError, Result, one_line};
use super::models::{
    ApprovalState, Approvals, Bridge, Commit, Deployment, Discussion, Job, Member, MergeRequest,
    MrDiff, Note, Pipeline, Project, User, UserStatus,
};
use super::stats::RequestStats;
use super::transport::{BodyLimit, Transport};
pub use super::transport::{
    ClientConfig, DEFAULT_MAX_JSON_BYTES, DEFAULT_MAX_TRACE_BYTES, ensure_crypto_provider,
    normalize_base_url,
};

/// Where a list walk stopped: the next page's URL (already checked to be on the server).
#[derive(Debug, Clone)]
pub struct NextPage {
    url: Url,
    path: String,
    per_page: usize,
}

/// GitLab never sends more than `per_page` (at most 100) items a page; a page with more is not
/// GitLab's, and keeping it whole would let one answer fill memory.
fn per_page_of(query: &[(&str, String)]) -> usize {
    query
        .iter()
        .find(|(k, _)| *k == "per_page")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 100)
}

/// Pages of an MR's discussions read when its detail opens.
pub const DISCUSSION_PAGES: u32 = 5;

/// What one page of an offset-paginated list says about the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageInfo {
    /// The page after this one (`None`: this was the last).
    pub next_page: Option<u32>,
    /// Items in the whole list, from `X-Total`: GitLab leaves it out above 10,000 items.
    pub total: Option<u64>,
}

impl PageInfo {
    /// `X-Next-Page` (empty on the last page), else the `page` of `Link: rel="next"`; a next
    /// page that does not move forward is no next page (a server must not loop us).
    pub fn from_headers(headers: &HeaderMap, page: u32) -> PageInfo {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let from_link = || {
            let link = next_link(headers)?;
            let url = Url::parse(&link)
                .or_else(|_| Url::parse("http://x/").and_then(|b| b.join(&link)))
                .ok()?;
            url.query_pairs()
                .find(|(k, _)| k == "page")
                .and_then(|(_, v)| v.parse::<u32>().ok())
        };
        let next_page = match header("x-next-page") {
            Some(v) => v.parse::<u32>().ok(),
            None => from_link(),
        }
        .filter(|&n| n > page);
        PageInfo {
            next_page,
            total: header("x-total").and_then(|v| v.parse().ok()),
        }
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
    inner: Arc<Transport>,
    /// This handle refuses writes whatever the shared switch says (the planner's and the
    /// diagnoser's view: they only ever read).
    read_only_view: bool,
    /// This handle tries each request once: its caller retries visibly (the poller shows
    /// "retrying (2/4) in 4s" instead of waiting silently through the client's retries).
    single_attempt: bool,
}

impl std::fmt::Debug for GitlabClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitlabClient")
            .field("host", &self.inner.host())
            .field("read_only", &self.is_read_only())
            .finish_non_exhaustive()
    }
}

impl GitlabClient {
    pub fn new(cfg: ClientConfig) -> Result<Self> {
        Ok(Self {
            inner: Arc::new(Transport::new(cfg)?),
            read_only_view: false,
            single_attempt: false,
        })
    }

    /// `gitlab.example.com` or `127.0.0.1:4567`.
    pub fn host(&self) -> &str {
        self.inner.host()
    }

    /// The instance's canonical origin (`https://gitlab.example.com:443`, every loopback name
    /// as `127.0.0.1`): what the audit log keys executions by.
    pub fn origin(&self) -> &str {
        self.inner.origin()
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only_view || self.inner.is_read_only()
    }

    /// Switches read-only on for every handle of this client, for good: the next write of any
    /// task is refused before it is sent.
    pub fn set_read_only(&self) {
        self.inner.set_read_only();
    }

    /// Items skipped or repaired in list answers since the last call (one line each): the
    /// caller says so where the operator sees it.
    pub fn take_problems(&self) -> Vec<String> {
        self.inner.take_problems()
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

    /// The job-log cap in bytes (`[gitlab] max_trace_mb`).
    pub fn max_trace_bytes(&self) -> u64 {
        self.inner.max_trace_bytes
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
        // The 300 most recently active are enough to complete a name from.
        Ok(self.get_list("/projects", &q, Some(3)).await?.items)
    }

    /// A group's projects, subgroups included, archived ones left out, the most recently
    /// active first: one page of up to `MAX_GROUP_PROJECTS`.
    pub async fn group_projects(&self, group_path: &str) -> Result<Listed<Project>> {
        let q = [
            ("archived", "false".to_string()),
            ("include_subgroups", "true".to_string()),
            ("simple", "true".to_string()),
            ("order_by", "last_activity_at".to_string()),
            ("sort", "desc".to_string()),
            (
                "per_page",
                crate::gitlab::overview::MAX_GROUP_PROJECTS.to_string(),
            ),
        ];
        self.get_list(
            &format!("/groups/{}/projects", project_ref(group_path)),
            &q,
            Some(1),
        )
        .await
    }

    /// The MRs of every project of a group (subgroups included) in one list: what lets a
    /// whole group's MRs cost one request per refresh.
    pub async fn group_merge_requests(
        &self,
        group_path: &str,
        q: &MrQuery,
    ) -> Result<Listed<MergeRequest>> {
        let mut params = q.params();
        params.push(("scope", "all".to_string()));
        self.get_list(
            &format!("/groups/{}/merge_requests", project_ref(group_path)),
            &params,
            q.max_pages,
        )
        .await
    }

    /// The project's newest deployment that was attempted (running, success, failed or
    /// canceled; not one that waits to be played or approved), among its newest 20, in any
    /// environment; `None` when there is none or the token may not read them.
    pub async fn last_deployment(&self, project_id: u64) -> Result<Option<Deployment>> {
        let q = [
            ("order_by", "id".to_string()),
            ("sort", "desc".to_string()),
            ("per_page", "20".to_string()),
        ];
        match self
            .get_list::<Deployment>(&format!("/projects/{project_id}/deployments"), &q, Some(1))
            .await
        {
            Ok(l) => Ok(l
                .items
                .into_iter()
                .find(|d| !matches!(d.status.as_deref(), Some("created" | "blocked") | None))),
            Err(GitlabError::Forbidden { .. } | GitlabError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
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

    /// The single MR with `rebase_in_progress` (after a `PUT …/rebase`, which only schedules it).
    pub async fn merge_request_rebase_state(
        &self,
        project_id: u64,
        iid: u64,
    ) -> Result<MergeRequest> {
        self.get_json(
            &format!("/projects/{project_id}/merge_requests/{iid}"),
            &[("include_rebase_in_progress", "true".to_string())],
        )
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

    /// One page of an MR's changed files, and where the list goes on: the detail reads the
    /// first page when it opens and the next ones as the operator reaches the end (a vendored
    /// tree of 1,000 files must not cost 10 requests before anything shows).
    pub async fn mr_diffs_page(
        &self,
        project_id: u64,
        iid: u64,
        page: u32,
        per_page: u32,
    ) -> Result<(Vec<MrDiff>, PageInfo)> {
        let path = format!("/projects/{project_id}/merge_requests/{iid}/diffs");
        let query = [
            ("page", page.max(1).to_string()),
            ("per_page", per_page.clamp(1, 100).to_string()),
        ];
        let url = self.url(&path, &query)?;
        let f = self.get_with_retry(url, &path).await?;
        let (items, problems) =
            self.parse_list::<MrDiff>(&path, &f.headers, &f.body, per_page_of(&query))?;
        for p in problems {
            self.inner
                .note_problem(format!("{}: {p}", endpoint_name(&path)));
        }
        Ok((items, PageInfo::from_headers(&f.headers, page.max(1))))
    }

    /// Every thread of an MR, oldest first (GitLab has no order parameter here), at most
    /// `DISCUSSION_PAGES` pages of 100: system notes are threads too, so a long-lived MR has
    /// hundreds.
    pub async fn mr_discussions(&self, project_id: u64, iid: u64) -> Result<Vec<Discussion>> {
        let q = [("per_page", "100".to_string())];
        Ok(self
            .get_list(
                &format!("/projects/{project_id}/merge_requests/{iid}/discussions"),
                &q,
                Some(DISCUSSION_PAGES),
            )
            .await?
            .items)
    }

    /// The approval rules of an MR (Premium and Ultimate only: CE answers 404, an EE without
    /// the licence 403).
    pub async fn mr_approval_state(&self, project_id: u64, iid: u64) -> Result<ApprovalState> {
        self.get_json(
            &format!("/projects/{project_id}/merge_requests/{iid}/approval_state"),
            &[],
        )
        .await
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

    /// The newest page of the project's deployments (every status), as an index of which jobs
    /// deploy where. One request: deployments are created with their pipeline, so the newest
    /// page covers the jobs on screen; older jobs the page cannot cover are "unknown".
    pub async fn deployments(&self, project_id: u64) -> Result<Deployments> {
        const PER_PAGE: usize = 100;
        let path = format!("/projects/{project_id}/deployments");
        let q = [
            ("order_by", "id".to_string()),
            ("sort", "desc".to_string()),
            ("per_page", PER_PAGE.to_string()),
        ];
        let url = self.url(&path, &q)?;
        let (listed, next) = self
            .walk_list::<Deployment>(&path, url, PER_PAGE, 1)
            .await?;
        let full = next.is_some() || listed.items.len() >= PER_PAGE;
        Ok(Deployments::from_page(
            listed.items,
            full,
            listed.server_time,
        ))
    }

    /// [`Self::deployments`], or `None` when the token may not read them (a guest, or a
    /// project with the feature off): that answer does not change from one call to the next,
    /// so it is not an error — every manual job then counts as a deploy.
    pub async fn readable_deployments(&self, project_id: u64) -> Result<Option<Deployments>> {
        match self.deployments(project_id).await {
            Ok(d) => Ok(Some(d)),
            Err(GitlabError::Forbidden { .. } | GitlabError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn job(&self, project_id: u64, id: u64) -> Result<Job> {
        self.get_json(&format!("/projects/{project_id}/jobs/{id}"), &[])
            .await
    }

    /// The log so far, as bytes (it is not guaranteed to be UTF-8). A log larger than the cap
    /// (`max_trace_bytes`) is streamed through a bounded buffer: its last part is kept, cut at a
    /// line start, under a first line that says so.
    pub async fn job_trace(&self, project_id: u64, id: u64) -> Result<Vec<u8>> {
        Ok(self.job_trace_tail(project_id, id).await?.into_bytes())
    }

    /// `job_trace` with what was left out said separately.
    pub async fn job_trace_tail(&self, project_id: u64, id: u64) -> Result<Trace> {
        let path = format!("/projects/{project_id}/jobs/{id}/trace");
        let url = self.url(&path, &[])?;
        let cap = self.inner.max_trace_bytes;
        let f = self
            .inner
            .get_with_retry(url, &path, BodyLimit::Tail(cap), !self.single_attempt)
            .await?;
        Ok(Trace::from_tail(f.body, f.dropped, cap))
    }

    /// The last `cap` bytes of a job's trace (at most the configured trace cap): what a
    /// background diagnosis reads. GitLab's REST trace endpoint sends the whole log (it honours
    /// no `Range`), so the bytes before the tail still cross the wire but are never kept.
    pub async fn job_trace_tail_within(&self, project_id: u64, id: u64, cap: u64) -> Result<Trace> {
        let path = format!("/projects/{project_id}/jobs/{id}/trace");
        let url = self.url(&path, &[])?;
        let cap = cap.min(self.inner.max_trace_bytes).max(1);
        let f = self
            .inner
            .get_with_retry(url, &path, BodyLimit::Tail(cap), !self.single_attempt)
            .await?;
        Ok(Trace::from_tail(f.body, f.dropped, cap))
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
        if self.is_read_only() && method != Method::GET && method != Method::HEAD {
            return Err(GitlabError::ReadOnly {
                method: method.to_string(),
                path: path.to_string(),
            });
        }
        let url = self.url(path, &[])?;
        let started = Instant::now();
        let limit = BodyLimit::Whole(self.inner.max_json_bytes);
        let f = self
            .inner
            .send_once(method.clone(), url, path, body.as_ref(), limit)
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
        self.inner.url(path, query)
    }

    async fn get_with_retry(&self, url: Url, path: &str) -> Result<super::transport::Fetched> {
        let limit = BodyLimit::Whole(self.inner.max_json_bytes);
        self.inner
            .get_with_retry(url, path, limit, !self.single_attempt)
            .await
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        let url = self.url(path, query)?;
        let f = self.get_with_retry(url, path).await?;
        self.parse(path, &f.headers, &f.body)
    }

    async fn get_list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        max_pages: Option<u32>,
    ) -> Result<Listed<T>> {
        let url = self.url(path, query)?;
        let limit = max_pages.unwrap_or(MAX_PAGES).clamp(1, MAX_PAGES);
        let (listed, next) = self.walk_list(path, url, per_page_of(query), limit).await?;
        if next.is_some() && max_pages.is_none() {
            tracing::warn!(path, "stopped following Link after {MAX_PAGES} pages");
        }
        Ok(listed)
    }

    /// Reads up to `limit` pages from `url` on, following `Link: rel="next"`; returns the items
    /// and the next page's URL when the walk stopped at `limit` with more to read.
    async fn walk_list<T: DeserializeOwned>(
        &self,
        path: &str,
        mut url: Url,
        per_page: usize,
        limit: u32,
    ) -> Result<(Listed<T>, Option<Url>)> {
        let mut items = Vec::new();
        let mut server_time = None;
        // A server whose `Link` points back at a page already read would cost `MAX_PAGES`
        // requests per refresh: a URL seen before ends the walk.
        let mut seen: HashSet<String> = HashSet::new();
        seen.insert(url.as_str().to_string());
        for page in 1..=limit {
            let f = self.get_with_retry(url.clone(), path).await?;
            if page == 1 {
                server_time = f.server_time();
            }
            let (mut batch, problems) =
                self.parse_list::<T>(path, &f.headers, &f.body, per_page)?;
            for p in problems {
                self.inner
                    .note_problem(format!("{}: {p}", endpoint_name(path)));
            }
            items.append(&mut batch);
            let Some(next) = next_link(&f.headers) else {
                break;
            };
            match rebase_link(self.inner.base(), &next) {
                Some(u) => {
                    if !seen.insert(u.as_str().to_string()) {
                        tracing::warn!(path, "Link rel=next repeats a page already read; stopped");
                        break;
                    }
                    if page == limit {
                        return Ok((Listed { items, server_time }, Some(u)));
                    }
                    url = u;
                }
                None => {
                    tracing::warn!(path, "ignoring unusable Link rel=next");
                    break;
                }
            }
        }
        Ok((Listed { items, server_time }, None))
    }

    /// The first page of open MRs, and where the rest continues: the screen shows the first
    /// page while the others load (`merge_requests_rest`).
    pub async fn merge_requests_first_page(
        &self,
        project_id: u64,
        q: &MrQuery,
    ) -> Result<(Listed<MergeRequest>, Option<NextPage>)> {
        let path = format!("/projects/{project_id}/merge_requests");
        let params = q.params();
        let url = self.url(&path, &params)?;
        let (listed, next) = self.walk_list(&path, url, per_page_of(&params), 1).await?;
        Ok((
            listed,
            next.map(|url| NextPage {
                url,
                path,
                per_page: per_page_of(&params),
            }),
        ))
    }

    /// The pages after `merge_requests_first_page`'s (at most `MAX_PAGES - 1` more).
    pub async fn merge_requests_rest(&self, next: NextPage) -> Result<Listed<MergeRequest>> {
        let limit = MAX_PAGES.saturating_sub(1).max(1);
        let (listed, more) = self
            .walk_list(&next.path, next.url, next.per_page, limit)
            .await?;
        if more.is_some() {
            tracing::warn!(path = %next.path, "stopped following Link after {MAX_PAGES} pages");
        }
        Ok(listed)
    }

    fn parse<T: DeserializeOwned>(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<T> {
        let text = self.json_text(path, headers, body)?;
        serde_json::from_str(&text).map_err(|e| self.parse_error(path, &e.to_string()))
    }

    /// A list answer item by item: an item that does not fit the model (a `null` state, a
    /// string id) is skipped and reported, the rest are kept.
    fn parse_list<T: DeserializeOwned>(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
        max_items: usize,
    ) -> Result<(Vec<T>, Vec<String>)> {
        let text = self.json_text(path, headers, body)?;
        let mut problems = Vec::new();
        if let std::borrow::Cow::Owned(_) = &text {
            problems.push("invalid UTF-8 in the answer was replaced".to_string());
        }
        let raw: Vec<&serde_json::value::RawValue> = serde_json::from_str(&text)
            .map_err(|e| self.parse_error(path, &format!("expected a JSON array: {e}")))?;
        if raw.len() > max_items {
            problems.push(format!(
                "a page held {} items though {max_items} were asked for: kept the first {max_items}",
                raw.len()
            ));
        }
        let mut items = Vec::with_capacity(raw.len().min(max_items));
        for (i, r) in raw.iter().take(max_items).enumerate() {
            match serde_json::from_str::<T>(r.get()) {
                Ok(t) => items.push(t),
                Err(e) => problems.push(format!(
                    "skipped item {}{}: {}",
                    i + 1,
                    item_label(r.get()),
                    one_line(&e.to_string(), 120)
                )),
            }
        }
        Ok((items, problems))
    }

    /// The body as JSON text: HTML (a login page, a proxy's error page) is named as such, and
    /// invalid UTF-8 is replaced rather than failing the whole answer.
    fn json_text<'a>(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: &'a [u8],
    ) -> Result<std::borrow::Cow<'a, str>> {
        if looks_like_html(headers, body) {
            return Err(self.parse_error(path, "expected JSON, got HTML (a login page or proxy?)"));
        }
        Ok(String::from_utf8_lossy(body))
    }

    fn parse_error(&self, path: &str, detail: &str) -> GitlabError {
        GitlabError::Parse {
            host: self.inner.host().to_string(),
            path: path.to_string(),
            detail: one_line(detail, 200),
        }
    }
}

/// A job log as kept: its bytes, and how much of the front was left out for the cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub bytes: Vec<u8>,
    /// Bytes dropped from the front (0: the whole log).
    pub dropped: u64,
    pub cap: u64,
}

impl Trace {
    /// The tail as read: when something was dropped, the partial first line goes too.
    fn from_tail(mut bytes: Vec<u8>, mut dropped: u64, cap: u64) -> Trace {
        if dropped > 0
            && let Some(nl) = memchr::memchr(b'\n', &bytes[..bytes.len().min(64 * 1024)])
        {
            bytes.drain(..=nl);
            dropped += (nl + 1) as u64;
        }
        Trace {
            bytes,
            dropped,
            cap,
        }
    }

    pub fn truncated(&self) -> bool {
        self.dropped > 0
    }

    /// `log larger than 32 MB: showing the last 32 MB`, when it was cut.
    pub fn notice(&self) -> Option<String> {
        self.truncated().then(|| {
            let mb = self.cap.div_ceil(1024 * 1024);
            format!("log larger than {mb} MB: showing the last {mb} MB")
        })
    }

    /// The bytes, led by the notice line when the log was cut, so every viewer shows it.
    /// The line goes in front in place: a cut log is the cap's size (32 MiB by default), and a
    /// copy doubled it at the peak of opening one.
    pub fn into_bytes(self) -> Vec<u8> {
        let notice = self.notice();
        let mut bytes = self.bytes;
        if let Some(n) = notice {
            let line = format!("[gitaiops] {n}\n");
            bytes.splice(0..0, line.into_bytes());
        }
        bytes
    }
}

/// `merge_requests` for `/projects/1/merge_requests`, for problem lines.
fn endpoint_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// ` (iid 42)` / ` (id 7)` from an item's text, when it has one readable.
fn item_label(item: &str) -> String {
    let Ok(serde_json::Value::Object(o)) = serde_json::from_str::<serde_json::Value>(item) else {
        return String::new();
    };
    for k in ["iid", "id"] {
        if let Some(n) = o.get(k).and_then(serde_json::Value::as_u64) {
            return format!(" ({k} {n})");
        }
    }
    String::new()
}

fn looks_like_html(headers: &HeaderMap, body: &[u8]) -> bool {
    let ct_html = super::transport::header_str(headers, "content-type")
        .is_some_and(|c| c.to_ascii_lowercase().contains("html"));
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&body[..0], |i| &body[i..body.len().min(i + 16)]);
    let lower = start.to_ascii_lowercase();
    ct_html
        || lower.starts_with(b"<!doctype")
        || lower.starts_with(b"<html")
        || lower.starts_with(b"<head")
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
    use secrecy::SecretString;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn page_info_reads_next_page_and_total_and_copes_without_them() {
        let h = headers(&[("x-next-page", "3"), ("x-total", "57")]);
        assert_eq!(
            PageInfo::from_headers(&h, 2),
            PageInfo {
                next_page: Some(3),
                total: Some(57)
            }
        );
        // The last page: `X-Next-Page` present but empty.
        let h = headers(&[("x-next-page", ""), ("x-total", "57")]);
        assert_eq!(PageInfo::from_headers(&h, 3).next_page, None);
        // Above 10,000 items GitLab sends no total; only the Link says more follow.
        let h = headers(&[(
            "link",
            "<https://gl/api/v4/projects/1/merge_requests/2/diffs?page=4&per_page=20>; rel=\"next\"",
        )]);
        assert_eq!(
            PageInfo::from_headers(&h, 3),
            PageInfo {
                next_page: Some(4),
                total: None
            }
        );
        // A next page that goes back is no next page.
        let h = headers(&[("x-next-page", "1")]);
        assert_eq!(PageInfo::from_headers(&h, 1).next_page, None);
        assert_eq!(
            PageInfo::from_headers(&HeaderMap::new(), 1),
            PageInfo::default()
        );
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
