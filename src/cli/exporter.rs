//! `gitaiops exporter`: headless polling of the configured projects, served as Prometheus
//! metrics (`/metrics`), liveness (`/healthz`) and readiness (`/readyz`). Read-only: the
//! client refuses every request that is not a GET.
//!
//! One poller per project, the same one the TUI runs (deltas: 2 requests per refresh). The
//! poller fetches jobs only of the pipelines it is told are visible; here those are the newest
//! pipeline of each ref, what the CI series show, so jobs are read once per new pipeline (and
//! while one runs) instead of on every pull.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use tokio::sync::mpsc;

use crate::args::{ExporterArgs, GlobalArgs};
use crate::config::Settings;
use crate::gitlab::GitlabClient;
use crate::gitlab::poller::{self, PollCmd, PollConfig, PollEvent};
use crate::gitlab::snapshot::ProjectSnapshot;
use crate::metrics::ci::PipelineDetails;
use crate::metrics::{self, Hub};

use super::out;

/// The newest pipeline of each ref (what `gitlab_ci_pipeline_*` and the job series show).
fn shown_pipelines(snap: &ProjectSnapshot) -> Vec<u64> {
    let mut newest: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for p in snap.pipelines.values() {
        if let Some(r) = p.git_ref.as_deref() {
            let e = newest.entry(r).or_insert(p.id);
            *e = (*e).max(p.id);
        }
    }
    let mut ids: Vec<u64> = newest.into_values().collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.truncate(metrics::ci::MAX_REFS);
    ids
}

/// Reads the finished pipelines among `shown` that `details` lacks (or holds in an older
/// state) one by one: the list has no duration, queued duration or coverage. Keeps only the
/// shown ones, so the map stays as small as the number of refs.
async fn read_details(
    client: &GitlabClient,
    snap: &ProjectSnapshot,
    shown: &[u64],
    details: &mut PipelineDetails,
) -> bool {
    let mut changed = false;
    details.retain(|id, _| shown.contains(id));
    for id in shown {
        let Some(listed) = snap.pipelines.get(id) else {
            continue;
        };
        let current = details.get(id).is_some_and(|d| d.status == listed.status);
        if current || !listed.status.is_terminal() {
            continue;
        }
        match client.pipeline(snap.project.id, *id).await {
            Ok(p) => {
                details.insert(*id, p);
                changed = true;
            }
            // Without it the series lack a duration until the next change: said in the log.
            Err(e) => tracing::warn!(pipeline = id, error = %e, "exporter: pipeline not read"),
        }
    }
    changed
}

/// Polls `project` until the process ends, feeding the hub.
fn watch(client: GitlabClient, project: String, cfg: PollConfig, hub: Arc<Hub>) {
    tokio::spawn(async move {
        let (tx, mut rx) = mpsc::channel(16);
        let handle = poller::spawn(client.clone(), project.clone(), cfg, tx);
        let mut visible: BTreeSet<u64> = BTreeSet::new();
        let mut details = PipelineDetails::new();
        while let Some(event) = rx.recv().await {
            match event {
                PollEvent::Snapshot { snapshot } => {
                    let shown = shown_pipelines(&snapshot);
                    let set: BTreeSet<u64> = shown.iter().copied().collect();
                    if set != visible {
                        visible = set;
                        handle.send(PollCmd::Visible {
                            mrs: Vec::new(),
                            pipelines: shown.clone(),
                        });
                    }
                    if read_details(&client, &snapshot, &shown, &mut details).await {
                        hub.pipeline_details(&project, Arc::new(details.clone()));
                    }
                    hub.snapshot(&project, snapshot);
                }
                PollEvent::Requests { seconds, ok, .. } => hub.poll_finished(&project, seconds, ok),
                PollEvent::Error { error, .. } => {
                    tracing::warn!(project = %project, error = %error, "exporter poll failed");
                }
                PollEvent::Warning { text } => {
                    tracing::warn!(project = %project, "{text}");
                }
                _ => {}
            }
        }
        drop(handle);
    });
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
    let addr = metrics::listen_addr(
        &args.listen,
        args.allow_remote,
        "--listen",
        "--allow-remote",
    )?;
    let client = GitlabClient::new(settings.client_config()?)?;
    client.set_read_only();
    let period = settings.refresh();
    let projects: Vec<String> = settings
        .projects()
        .iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let hub = Hub::new(vec![client.clone()], period, &projects);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    for project in projects {
        let cfg = PollConfig {
            refresh: period,
            ..PollConfig::default()
        };
        watch(client.clone(), project, cfg, hub.clone());
    }
    // Scripts and tests read the address from here when they asked for port 0.
    out::eprintln(&format!(
        "gitaiops exporter: serving http://{bound}/metrics"
    ));
    tracing::info!(%bound, "exporter listening");
    metrics::hub::serve(hub, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}
