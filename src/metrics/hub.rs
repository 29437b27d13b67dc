//! The process's metrics: its counters, its GitLab clients, the newest snapshot per watched
//! project and the poll health, served over HTTP as `/metrics`, `/healthz` and `/readyz`. One
//! per process (the exporter, or a TUI session with `--metrics-listen`), owned, never global.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::gitlab::GitlabClient;
use crate::gitlab::snapshot::ProjectSnapshot;

use super::ci::{CiSource, PipelineDetails};
use super::{CLASSIC_CONTENT_TYPE, CONTENT_TYPE, InstanceView, Telemetry, View};

#[derive(Default)]
struct ProjectState {
    snapshot: Option<Arc<ProjectSnapshot>>,
    details: Option<Arc<PipelineDetails>>,
    last_ok: Option<Instant>,
}

struct State {
    started: Instant,
    projects: BTreeMap<String, ProjectState>,
}

pub struct Hub {
    telemetry: Telemetry,
    clients: Vec<GitlabClient>,
    period: Duration,
    state: Mutex<State>,
}

impl Hub {
    /// `clients`: one per GitLab instance; `period`: the poll period (health is judged on it);
    /// `projects`: the watched projects (each must poll successfully for `/readyz`).
    pub fn new(clients: Vec<GitlabClient>, period: Duration, projects: &[String]) -> Arc<Hub> {
        Arc::new(Hub {
            telemetry: Telemetry::default(),
            clients,
            period,
            state: Mutex::new(State {
                started: Instant::now(),
                projects: projects
                    .iter()
                    .map(|p| (p.clone(), ProjectState::default()))
                    .collect(),
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Plain data: still consistent after a panic elsewhere.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// The newest snapshot of `project` (its CI series).
    pub fn snapshot(&self, project: &str, snap: Arc<ProjectSnapshot>) {
        self.state()
            .projects
            .entry(project.to_string())
            .or_default()
            .snapshot = Some(snap);
    }

    /// The single-pipeline answers of `project`'s newest pipelines (exporter).
    pub fn pipeline_details(&self, project: &str, details: Arc<PipelineDetails>) {
        self.state()
            .projects
            .entry(project.to_string())
            .or_default()
            .details = Some(details);
    }

    /// The session watches `project` instead of whatever it watched: the old one's CI series
    /// and health go (a TUI project switch).
    pub fn watch_only(&self, project: &str) {
        let mut g = self.state();
        g.projects.retain(|p, _| p == project);
        g.projects.entry(project.to_string()).or_default();
        g.started = Instant::now();
    }

    /// A poll pass of `project` ended.
    pub fn poll_finished(&self, project: &str, seconds: f64, ok: bool) {
        let now = jiff::Timestamp::now().as_millisecond() as f64 / 1e3;
        self.telemetry.poll_finished(project, seconds, ok, now);
        if ok {
            self.state()
                .projects
                .entry(project.to_string())
                .or_default()
                .last_ok = Some(Instant::now());
        }
    }

    /// Live: every watched project polled successfully within 3 periods (counted from the
    /// start for one that has not yet).
    pub fn healthy(&self) -> bool {
        let g = self.state();
        let limit = self.period.saturating_mul(3);
        g.projects
            .values()
            .all(|p| p.last_ok.unwrap_or(g.started).elapsed() < limit)
    }

    /// Ready: every watched project has been polled successfully once.
    pub fn ready(&self) -> bool {
        let g = self.state();
        !g.projects.is_empty() && g.projects.values().all(|p| p.last_ok.is_some())
    }

    /// The OpenMetrics text of a scrape now.
    pub fn render(&self) -> String {
        type Held = (Arc<ProjectSnapshot>, Option<Arc<PipelineDetails>>);
        let held: Vec<Held> = self
            .state()
            .projects
            .values()
            .filter_map(|p| Some((p.snapshot.clone()?, p.details.clone())))
            .collect();
        super::render(&View {
            instances: self
                .clients
                .iter()
                .map(|c| InstanceView {
                    instance: c.host(),
                    stats: c.stats(),
                })
                .collect(),
            telemetry: &self.telemetry,
            ci: held
                .iter()
                .map(|(s, d)| CiSource {
                    snapshot: s,
                    details: d.as_deref(),
                })
                .collect(),
        })
    }
}

/// Loopback unless `allow_remote`: metrics name projects and refs. `flag` and `allow_flag` name
/// the options in the error (`--listen`/`--allow-remote`, `--metrics-listen`/...).
pub fn listen_addr(
    listen: &str,
    allow_remote: bool,
    flag: &str,
    allow_flag: &str,
) -> anyhow::Result<SocketAddr> {
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| anyhow::anyhow!("{flag} {listen:?}: expected IP:PORT (127.0.0.1:9464)"))?;
    if !addr.ip().is_loopback() && !allow_remote {
        anyhow::bail!(
            "{flag} {addr}: not a loopback address; metrics name your projects and refs, pass {allow_flag} to serve them beyond this machine"
        );
    }
    Ok(addr)
}

/// The routes: `/metrics`, `/healthz` (200 while polling works), `/readyz` (200 once every
/// project was polled).
pub fn router(hub: Arc<Hub>) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz))
        .with_state(hub)
}

/// Serves `router(hub)` on `listener` until `shutdown` completes.
pub async fn serve(
    hub: Arc<Hub>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(hub))
        .with_graceful_shutdown(shutdown)
        .await
}

type HubState = axum::extract::State<Arc<Hub>>;

/// OpenMetrics when the scraper asks for it (Prometheus does), else Prometheus text 0.0.4.
async fn metrics(
    axum::extract::State(hub): HubState,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    // Rendering walks every snapshot: off the async workers.
    let rendered = tokio::task::spawn_blocking(move || {
        let om = hub.render();
        if openmetrics {
            (CONTENT_TYPE, om)
        } else {
            (CLASSIC_CONTENT_TYPE, super::classic_text(&om))
        }
    })
    .await;
    match rendered {
        Ok((ctype, body)) => ([(header::CONTENT_TYPE, ctype)], body).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn status(ok: bool, what: &'static str) -> (StatusCode, &'static str) {
    if ok {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, what)
    }
}

async fn healthz(axum::extract::State(hub): HubState) -> (StatusCode, &'static str) {
    status(hub.healthy(), "no successful poll within 3 poll periods\n")
}

async fn readyz(axum::extract::State(hub): HubState) -> (StatusCode, &'static str) {
    status(hub.ready(), "not every project has been polled yet\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_unless_allowed() {
        let a = listen_addr("127.0.0.1:9464", false, "--listen", "--allow-remote").unwrap();
        assert_eq!(a.port(), 9464);
        assert!(listen_addr("[::1]:0", false, "--listen", "--allow-remote").is_ok());
        let e = listen_addr(
            "0.0.0.0:9464",
            false,
            "--metrics-listen",
            "--metrics-allow-remote",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("--metrics-allow-remote"), "{e}");
        assert!(listen_addr("0.0.0.0:9464", true, "--listen", "--allow-remote").is_ok());
        assert!(listen_addr("localhost:80", false, "--listen", "--allow-remote").is_err());
    }

    #[test]
    fn ready_after_every_project_polled_and_unhealthy_when_polls_stop() {
        let projects = ["a/b".to_string(), "c/d".to_string()];
        let hub = Hub::new(Vec::new(), Duration::from_millis(40), &projects);
        assert!(!hub.ready());
        assert!(hub.healthy(), "starting up is not a failure");
        hub.poll_finished("a/b", 0.1, true);
        hub.poll_finished("c/d", 0.1, false);
        assert!(!hub.ready(), "c/d has not succeeded yet");
        hub.poll_finished("c/d", 0.1, true);
        assert!(hub.ready() && hub.healthy());
        std::thread::sleep(Duration::from_millis(130));
        hub.poll_finished("a/b", 0.1, true);
        assert!(!hub.healthy(), "c/d's last success is older than 3 periods");
        assert!(hub.ready(), "readiness does not go back");
        hub.watch_only("a/b");
        assert!(hub.healthy() && hub.ready());
    }
}
