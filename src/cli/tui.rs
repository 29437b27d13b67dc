//! Plain `gitaiops` and `gitaiops demo`: resolve the session (settings, keymap, planner, audit
//! log, the simulated GitLab for the demo) and hand it to the TUI.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::app::activity::ActivityKind;
use crate::app::{self, Keymap, PlannerInfo};
#[cfg(feature = "sim")]
use crate::args::DemoArgs;
use crate::args::{GlobalArgs, MetricsArgs};
use crate::config::Settings;
use crate::driver::{Driver, DriverConfig};
#[cfg(feature = "sim")]
use crate::gitlab::client::ClientConfig;
use crate::gitlab::client::GitlabClient;
use crate::gitlab::overview::WatchSpec;
use crate::gitlab::poller::PollConfig;
#[cfg(feature = "sim")]
use crate::sim::{self, SimClock, SimConfig};

use std::sync::Arc;

use crate::plan::run::{Backend, Planner, PlannerOptions};
use crate::plan::trigger::TriggerConfig;
use crate::tui::runtime::{self, Session};
use crate::tui::theme::{self, Theme};

/// The TUI needs a terminal on both ends; scripts have `status --json`.
fn require_tty() -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        bail!(
            "the TUI needs a terminal (stdin and stdout); for scripts use `gitaiops status --json`"
        );
    }
    Ok(())
}

/// Keymap with the config file's overrides, and what could not be applied.
/// The keymap with `[ui.keymap]` applied; an override that cannot apply, or that leaves an
/// action without a key, stops the start with every problem listed (before the screen opens,
/// where an Activity line would be cut and missed).
fn keymap(settings: Option<&Settings>) -> anyhow::Result<(Keymap, Vec<(ActivityKind, String)>)> {
    let Some(s) = settings else {
        return Ok((Keymap::defaults(), Vec::new()));
    };
    let (map, warnings, errors) = Keymap::with_overrides(&s.file.ui.keymap);
    if !errors.is_empty() {
        anyhow::bail!(
            "[ui.keymap] in {}: {}. Fix or remove these lines.",
            s.config_path.display(),
            errors.join("; ")
        );
    }
    Ok((
        map,
        warnings
            .into_iter()
            .map(|w| (ActivityKind::Info, w))
            .collect(),
    ))
}

/// The planner of this session (config, env, `--provider`): what the header names and what
/// `p` runs, and when it runs on its own. A planner that cannot be built (missing key) falls
/// back to the offline rules, said in the activity feed.
fn planner(
    settings: Option<&Settings>,
    notes: &mut Vec<(ActivityKind, String)>,
) -> (PlannerInfo, Arc<Planner>, TriggerConfig) {
    let section = settings.map(|s| s.file.planner.clone()).unwrap_or_default();
    let ps =
        crate::plan::settings::resolve(&section, None, &|k| std::env::var(k).ok()).map(|mut ps| {
            ps.no_proxy = crate::net::is_loopback_url(&ps.base_url);
            if let Some(k) = &ps.api_key {
                crate::redact::register_secret(secrecy::ExposeSecret::expose_secret(k));
            }
            ps
        });
    let built = ps
        .as_ref()
        .map_err(|e| e.to_string())
        .and_then(Planner::from_settings);
    let planner = match built {
        Ok(p) => p,
        Err(e) => {
            notes.push((
                ActivityKind::Error,
                format!("planner: {e}; using the offline rules planner"),
            ));
            Planner::new(Backend::Rules, PlannerOptions::default())
        }
    };
    let info = PlannerInfo {
        provider: planner.label(),
        state: "idle".into(),
        tokens: 0,
    };
    let trigger = match &ps {
        Ok(p) => TriggerConfig {
            debounce: p.debounce,
            interval: p.interval,
        },
        Err(_) => TriggerConfig::default(),
    };
    (info, Arc::new(planner), trigger)
}

/// `--metrics-listen`: the session's metrics served beside the TUI until it ends. Bound before
/// the screen opens, so a taken port or a refused address is a plain error.
struct MetricsServer {
    hub: Arc<crate::metrics::Hub>,
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn metrics_server(
    args: &MetricsArgs,
    client: &GitlabClient,
    period: std::time::Duration,
    project: &str,
    notes: &mut Vec<(ActivityKind, String)>,
) -> anyhow::Result<Option<MetricsServer>> {
    let Some(listen) = &args.metrics_listen else {
        return Ok(None);
    };
    let addr = crate::metrics::listen_addr(
        listen,
        args.metrics_allow_remote,
        "--metrics-listen",
        "--metrics-allow-remote",
    )?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("--metrics-listen: cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    let hub = crate::metrics::Hub::new(vec![client.clone()], period, &[project.to_string()]);
    let stop = tokio_util::sync::CancellationToken::new();
    let done = stop.clone();
    let task = tokio::spawn(crate::metrics::hub::serve(
        hub.clone(),
        listener,
        async move { done.cancelled().await },
    ));
    tracing::info!(%bound, "metrics listening");
    notes.push((
        ActivityKind::Info,
        format!("metrics: http://{bound}/metrics"),
    ));
    Ok(Some(MetricsServer { hub, stop, task }))
}

impl MetricsServer {
    async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// Plain `gitaiops`: the configured GitLab project.
pub async fn run_live(global: GlobalArgs, metrics: MetricsArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&global)?;
    if !settings.has_token() && settings.file.instances.is_empty() {
        bail!(
            "no GitLab token. Export one with read_api scope: `export GITLAB_TOKEN=glpat-...` (or set token_cmd in {}), and name the project with --project group/name. To try gitaiops without GitLab or a token, run `gitaiops demo`.",
            settings.config_path.display()
        );
    }
    require_tty()?;
    // One client per instance: built (and its CA file read) once, before the screen opens.
    let specs = settings.instances()?;
    let mut clients = Vec::new();
    for s in &specs {
        clients.push(
            GitlabClient::new(s.client.clone())
                .with_context(|| format!("GitLab client for {}", s.name))?,
        );
    }
    let (instance, project) = first_project(&settings, &specs, &clients).await?;
    let client = clients[instance].clone();
    let watched: Vec<app::state::Watched> = specs
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            s.projects.iter().map(move |p| app::state::Watched {
                instance: i,
                path: p.clone(),
            })
        })
        .collect();
    let many = settings.watches_many() || specs.len() > 1;
    let overview: Vec<WatchSpec> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| WatchSpec {
            instance: i,
            projects: s.projects.clone(),
            groups: s.groups.clone(),
        })
        .collect();
    let (keymap, mut notes) = keymap(Some(&settings))?;
    notes.extend(
        settings
            .warnings
            .iter()
            .map(|w| (ActivityKind::Error, w.clone())),
    );
    notes.insert(
        0,
        (
            ActivityKind::Info,
            if many {
                format!(
                    "watching {} on {} every {}s; {project} first",
                    describe_watch(&specs),
                    specs
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(" and "),
                    settings.refresh().as_secs()
                )
            } else {
                format!(
                    "watching {project} on {} every {}s",
                    settings.gitlab_url(),
                    settings.refresh().as_secs()
                )
            },
        ),
    );
    let (planner_info, planner, trigger) = planner(Some(&settings), &mut notes);
    let audit = open_audit(Some(&settings), &mut notes);
    let server =
        metrics_server(&metrics, &client, settings.refresh(), &project, &mut notes).await?;
    let session = Session {
        settings: app::Settings {
            host: specs[instance].name.clone(),
            project,
            watched,
            instances: specs.iter().map(|s| s.name.clone()).collect(),
            instance,
            overview: many,
            read_only: settings.read_only(),
            ascii: settings.file.ui.ascii,
            demo: false,
        },
        keymap,
        notes,
        planner: planner_info,
        trigger,
        theme: theme_for(&settings.file.ui, settings.file.ui.ascii)?,
        fixed_now: None,
        osc52: settings.file.ui.osc52.unwrap_or(true),
        hyperlinks: hyperlinks_on(settings.file.ui.hyperlinks),
        policy: crate::command::Policy::from_config(&settings.file.policy, global.read_only)
            .map_err(|e| anyhow::anyhow!("[policy]: {e}"))?,
    };
    let mut driver = Driver::new(DriverConfig {
        client: clients[0].clone(),
        more_clients: clients[1..].to_vec(),
        poll: PollConfig {
            refresh: settings.refresh(),
            ..PollConfig::default()
        },
        planner,
        audit,
    })
    .with_diagnosis_worker_if_found();
    driver.use_instance(instance);
    if many {
        driver.start_overview(overview);
    }
    let driver = match &server {
        Some(s) => driver.with_metrics(s.hub.clone()),
        None => driver,
    };
    let result = runtime::run(session, driver).await;
    if let Some(s) = server {
        s.stop().await;
    }
    result
}

/// "acme/platform, group acme": what the session watches, for the first activity line.
fn describe_watch(specs: &[crate::config::InstanceSpec]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for s in specs {
        parts.extend(s.projects.iter().cloned());
        parts.extend(s.groups.iter().map(|g| format!("group {g}")));
    }
    parts.join(", ")
}

/// The project on screen first: the first named project, else the most recently active
/// project of the first group that has one (read before the screen opens, so a wrong group
/// name is a plain error).
async fn first_project(
    settings: &Settings,
    specs: &[crate::config::InstanceSpec],
    clients: &[GitlabClient],
) -> anyhow::Result<(usize, String)> {
    if let Some((i, p)) = specs
        .iter()
        .enumerate()
        .find_map(|(i, s)| s.projects.first().map(|p| (i, p.clone())))
    {
        return Ok((i, p));
    }
    let mut problems = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        for g in &s.groups {
            match clients[i].group_projects(g).await {
                Ok(ps) => {
                    if let Some(p) = ps.items.iter().find(|p| p.archived != Some(true)) {
                        return Ok((i, p.path_with_namespace.clone()));
                    }
                    problems.push(format!("group {g} on {} has no project", s.name));
                }
                Err(e) => problems.push(format!("group {g} on {}: {e}", s.name)),
            }
        }
    }
    if problems.is_empty() {
        // Neither projects nor groups: the message that says how to name one.
        return settings.project().map(|p| (0, p.to_string()));
    }
    bail!("nothing to watch: {}", problems.join("; "))
}

/// The audit log from `[audit] path`, else the state dir; why not, in the activity feed (then
/// nothing can execute).
fn open_audit(
    settings: Option<&Settings>,
    notes: &mut Vec<(ActivityKind, String)>,
) -> Option<crate::command::audit::AuditLog> {
    let configured = settings.and_then(|s| s.file.audit.path.as_deref());
    let opened = crate::command::audit::resolve_path(configured)
        .map_err(|e| e.to_string())
        .and_then(|path| {
            crate::command::audit::AuditLog::open(&path)
                .map_err(|e| format!("{}: {e}", path.display()))
        });
    match opened {
        Ok(log) => {
            notes.push((
                ActivityKind::Info,
                format!("audit log: {}", log.path().display()),
            ));
            Some(log)
        }
        Err(e) => {
            notes.push((
                ActivityKind::Error,
                format!("audit log unavailable, commands cannot run: {e}"),
            ));
            None
        }
    }
}

/// `gitaiops demo`: the simulated GitLab in-process on a loopback port, spoken to over HTTP
/// exactly like a real one. No token, no network.
#[cfg(feature = "sim")]
pub async fn run_demo(global: GlobalArgs, args: DemoArgs) -> anyhow::Result<ExitCode> {
    require_tty()?;
    // The config file is optional here: a broken one must not keep anyone from the demo.
    let (settings, mut notes) = match Settings::load(&global) {
        Ok(s) => (Some(s), Vec::new()),
        Err(e) => (
            None,
            vec![(ActivityKind::Error, format!("config ignored: {e:#}"))],
        ),
    };
    let sim = sim::start(SimConfig {
        scale: args.scale,
        seed: args.seed,
        clock: if args.frozen {
            SimClock::Manual
        } else {
            SimClock::Real
        },
        projects: args.projects.into(),
        ..SimConfig::default()
    })
    .await
    .context("starting the simulated GitLab")?;
    let (keymap, warnings) = keymap(settings.as_ref())?;
    notes.extend(warnings);
    notes.insert(
        0,
        (
            ActivityKind::Info,
            format!(
                "demo: simulated GitLab at {} (seed {}, scale {})",
                sim.base_url(),
                args.seed,
                args.scale
            ),
        ),
    );
    let (planner_info, planner, trigger) = planner(settings.as_ref(), &mut notes);
    let read_only = global.read_only || settings.as_ref().is_some_and(|s| s.read_only());
    let policy = match settings
        .as_ref()
        .map(|s| crate::command::Policy::from_config(&s.file.policy, read_only))
    {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            notes.push((
                ActivityKind::Error,
                format!("[policy] ignored, read-only instead: {e}"),
            ));
            crate::command::Policy {
                read_only: true,
                ..Default::default()
            }
        }
        None => crate::command::Policy {
            read_only,
            ..Default::default()
        },
    };
    let ascii = global.ascii || settings.as_ref().is_some_and(|s| s.file.ui.ascii);
    let client = GitlabClient::new(ClientConfig {
        base_url: sim.base_url(),
        read_only,
        no_proxy: true,
        ..ClientConfig::default()
    })?;
    let refresh = settings
        .as_ref()
        .map(|s| s.refresh())
        .unwrap_or(PollConfig::default().refresh);
    let audit = open_audit(settings.as_ref(), &mut notes);
    let server = metrics_server(
        &args.metrics,
        &client,
        refresh,
        &sim.project_path(),
        &mut notes,
    )
    .await?;
    let session = Session {
        settings: app::Settings {
            host: sim.addr().to_string(),
            project: sim.project_path(),
            watched: vec![app::state::Watched::on_first(&sim.project_path())],
            instances: vec![sim.addr().to_string()],
            instance: 0,
            overview: args.projects > 1,
            read_only,
            ascii,
            demo: true,
        },
        keymap,
        notes,
        planner: planner_info,
        trigger,
        theme: match settings.as_ref() {
            Some(s) => theme_for(&s.file.ui, ascii)?,
            None => Theme::build(
                !theme::no_color_from_env(),
                ascii,
                theme::ThemeName::default(),
                theme::depth_from_env(),
                None,
            ),
        },
        fixed_now: args.frozen.then(|| sim.now()),
        policy,
        osc52: settings
            .as_ref()
            .and_then(|s| s.file.ui.osc52)
            .unwrap_or(true),
        hyperlinks: hyperlinks_on(settings.as_ref().and_then(|s| s.file.ui.hyperlinks)),
    };
    let mut driver = Driver::new(DriverConfig {
        client: client.clone(),
        more_clients: Vec::new(),
        poll: PollConfig {
            refresh,
            ..PollConfig::default()
        },
        planner,
        audit,
    })
    .with_diagnosis_worker_if_found();
    if args.projects > 1 {
        // Several simulated projects: the whole `acme` group, as a group watch would.
        driver.start_overview(vec![WatchSpec {
            instance: 0,
            projects: Vec::new(),
            groups: vec!["acme".into()],
        }]);
    }
    let driver = match &server {
        Some(s) => driver.with_metrics(s.hub.clone()),
        None => driver,
    };
    tracing::info!(url = %sim.base_url(), seed = args.seed, scale = args.scale, frozen = args.frozen, "demo: simulated GitLab serving");
    let result = runtime::run(session, driver).await;
    if let Some(s) = server {
        s.stop().await;
    }
    sim.shutdown().await;
    result
}

/// The theme `[ui]` asks for, fitted to this terminal; a bad theme name or skin file stops the
/// start with the reason.
fn theme_for(ui: &crate::config::UiSection, ascii: bool) -> anyhow::Result<Theme> {
    Theme::from_settings(
        !theme::no_color_from_env(),
        ascii,
        ui.theme.as_deref(),
        ui.skin.as_deref(),
        theme::depth_from_env(),
    )
}

/// `[ui] hyperlinks` when set, else on unless the terminal is known to show OSC 8 as
/// garbage (the Linux console, dumb terminals).
fn hyperlinks_on(configured: Option<bool>) -> bool {
    configured.unwrap_or_else(|| {
        !crate::tui::hyperlinks::term_breaks_osc8(std::env::var("TERM").ok().as_deref())
    })
}
