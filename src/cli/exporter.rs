//! `gitaiops exporter`: headless polling of the configured projects, served as Prometheus
//! metrics (`/metrics`), liveness (`/healthz`) and readiness (`/readyz`). Read-only: the
//! client refuses every request that is not a GET.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use tokio::sync::mpsc;

use crate::args::{ExporterArgs, GlobalArgs};
use crate::config::Settings;
use crate::gitlab::GitlabClient;
use crate::gitlab::poller::{self, PollConfig, PollEvent};
use crate::gitlab::snapshot::ProjectSnapshot;
use crate::metrics::{self, InstanceView, PollView, View};

use super::out;

#[derive(Default)]
struct Polled {
    snapshots: BTreeMap<String, Arc<ProjectSnapshot>>,
    last_ok: Option<Instant>,
    last_ok_unix: Option<f64>,
    /// An error after the last snapshot: the poller is failing right now.
    failing: bool,
    polls_ok: u64,
    polls_failed: u64,
}

struct Shared {
    client: GitlabClient,
    period: Duration,
    polled: Mutex<Polled>,
}

impl Shared {
    fn polled(&self) -> std::sync::MutexGuard<'_, Polled> {
        self.polled.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Loopback unless `--allow-remote`: metrics name projects and refs.
pub fn listen_addr(listen: &str, allow_remote: bool) -> anyhow::Result<SocketAddr> {
    let addr: SocketAddr = listen
        .parse()
        .with_context(|| format!("--listen {listen:?}: expected IP:PORT (127.0.0.1:9464)"))?;
    if !addr.ip().is_loopback() && !allow_remote {
        bail!(
            "--listen {addr}: not a loopback address; metrics name your projects and refs, pass --allow-remote to serve them beyond this machine"
        );
    }
    Ok(addr)
}

pub async fn run(global: GlobalArgs, args: ExporterArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&global)?;
    if !settings.has_token() {
        bail!(
            "no GitLab token: export GITLAB_TOKEN=<token with read_api scope> (or set token_cmd in {})",
            settings.config_path.display()
        );
    }
    settings.project()?;
    let addr = listen_addr(&args.listen, args.allow_remote)?;
    let client = GitlabClient::new(settings.client_config()?)?;
    client.set_read_only();
    let period = settings.refresh();
    let shared = Arc::new(Shared {
        client: client.clone(),
        period,
        polled: Mutex::new(Polled::default()),
    });
    let (tx, mut rx) = mpsc::channel::<(String, PollEvent)>(64);
    let mut handles = Vec::new();
    for project in settings.projects() {
        let project = project.trim().to_string();
        if project.is_empty() {
            continue;
        }
        let (ptx, mut prx) = mpsc::channel(16);
        let cfg = PollConfig {
            refresh: period,
            ..PollConfig::default()
        };
        handles.push(poller::spawn(client.clone(), project.clone(), cfg, ptx));
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(e) = prx.recv().await {
                if tx.send((project.clone(), e)).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let collector = {
        let shared = shared.clone();
        tokio::spawn(async move {
            while let Some((project, event)) = rx.recv().await {
                let mut g = shared.polled();
                match event {
                    PollEvent::Snapshot { snapshot } => {
                        g.snapshots.insert(project, snapshot);
                        g.last_ok = Some(Instant::now());
                        g.last_ok_unix = Some(jiff::Timestamp::now().as_millisecond() as f64 / 1e3);
                        g.failing = false;
                        g.polls_ok += 1;
                    }
                    PollEvent::Error { error, .. } => {
                        tracing::warn!(project = %project, error = %error, "exporter poll failed");
                        g.failing = true;
                        g.polls_failed += 1;
                    }
                    _ => {}
                }
            }
        })
    };
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(serve_metrics))
        .route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    // Scripts and tests read the address from here when they asked for port 0.
    out::eprintln(&format!(
        "gitaiops exporter: serving http://{bound}/metrics"
    ));
    tracing::info!(%bound, "exporter listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    collector.abort();
    drop(handles);
    Ok(ExitCode::SUCCESS)
}

async fn serve_metrics(
    axum::extract::State(s): axum::extract::State<Arc<Shared>>,
) -> impl IntoResponse {
    let (snaps, poll) = {
        let g = s.polled();
        let poll = PollView {
            last_duration_seconds: None,
            last_success_unix: g.last_ok_unix,
            polls_ok: g.polls_ok,
            polls_failed: g.polls_failed,
        };
        (g.snapshots.values().cloned().collect::<Vec<_>>(), poll)
    };
    let body = metrics::render(&View {
        instances: vec![InstanceView {
            instance: s.client.host(),
            stats: s.client.stats(),
        }],
        poll,
        snapshots: snaps.iter().map(|a| &**a).collect(),
    });
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
}

/// 200 while polling works: the last snapshot is younger than 3 periods, or no poll has failed
/// since it (the poller only reports a snapshot when something changed).
async fn healthz(axum::extract::State(s): axum::extract::State<Arc<Shared>>) -> StatusCode {
    let g = s.polled();
    let fresh = g.last_ok.is_some_and(|t| t.elapsed() < s.period * 3);
    if g.last_ok.is_some() && (fresh || !g.failing) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// 200 once the first poll has succeeded.
async fn readyz(axum::extract::State(s): axum::extract::State<Arc<Shared>>) -> StatusCode {
    if s.polled().last_ok.is_some() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}
