//! The UI task (DESIGN.md "Flow"): owns `AppState`, turns terminal input, signals, poller
//! events and parsed logs into `Msg`s, performs the `Effect`s, and draws only when the screen
//! would change, at most ~30 times a second. Idle means no wake-ups except a once-a-minute
//! clock (for age labels), and no bytes to the terminal unless a visible cell changed.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, EventStream};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use futures::StreamExt;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use crate::app::activity::ActivityKind;
use crate::app::{self, AppState, Effect, Keymap, Msg, PlannerInfo};
use crate::command::Queue;
use crate::command::audit::{self, AuditLog};
use crate::command::executor::{self, ExecContext, ExecReport};
use crate::diagnose::log::LogIndex;
use crate::gitlab::client::{ClientConfig, GitlabClient};
use crate::gitlab::poller::{self, PollCmd, PollConfig, PollEvent, PollerHandle};

use super::draw::draw;
use super::input;
use super::terminal::TerminalGuard;
use super::theme::Theme;

/// Frame budget: at most ~30 draws a second, however fast messages arrive.
const FRAME: Duration = Duration::from_millis(33);
/// Age labels are coarse (minutes), so the clock only needs to look once a minute.
const CLOCK: Duration = Duration::from_secs(60);

/// Everything a session needs, resolved from config (live) or from the simulator (demo).
pub struct Session {
    pub settings: app::Settings,
    pub keymap: Keymap,
    /// Shown in the activity feed at start (keymap problems, where the demo runs, ...).
    pub notes: Vec<(ActivityKind, String)>,
    pub planner: PlannerInfo,
    pub client_cfg: ClientConfig,
    pub poll_cfg: PollConfig,
    pub theme: Theme,
    /// A fixed "now" (a frozen simulated world); the wall clock otherwise.
    pub fixed_now: Option<Timestamp>,
    /// The planner (and the diagnoser's model, when it is an LLM) with its trigger settings.
    pub ai: super::ai::Ai,
    /// Command policy from `[policy]` and `--read-only`.
    pub policy: crate::command::Policy,
    /// The audit log, or why it cannot be opened (then nothing can execute).
    pub audit: Result<AuditLog, String>,
}

/// The poller of the current project with its own channel: switching projects drops both,
/// so nothing from the old project can arrive afterwards.
struct PollerSlot {
    handle: PollerHandle,
    rx: mpsc::Receiver<PollEvent>,
    open: bool,
    epoch: u64,
}

impl PollerSlot {
    fn spawn(client: GitlabClient, project: String, cfg: PollConfig, epoch: u64) -> PollerSlot {
        let (tx, rx) = mpsc::channel(64);
        PollerSlot {
            handle: poller::spawn(client, project, cfg, tx),
            rx,
            open: true,
            epoch,
        }
    }
}

/// What was last sent to the terminal, to skip frames that would change nothing.
struct Screen {
    last: Option<Buffer>,
    cursor: Option<Position>,
    force: bool,
    last_draw: Instant,
}

struct ParsedLog {
    seq: u64,
    job_id: u64,
    index: Arc<LogIndex>,
    complete: bool,
}

pub async fn run(session: Session) -> anyhow::Result<ExitCode> {
    let Session {
        settings,
        keymap,
        notes,
        planner,
        mut client_cfg,
        poll_cfg,
        theme,
        fixed_now,
        mut ai,
        mut policy,
        audit,
    } = session;
    let clock = Clock(fixed_now);
    let client = GitlabClient::new(client_cfg.clone())?;
    let project = settings.project.clone();
    let mut notes = notes;
    let audit = match audit {
        Ok(log) => Some(log),
        Err(e) => {
            // Nothing that changes GitLab runs unrecorded.
            policy.read_only = true;
            notes.push((
                ActivityKind::Error,
                format!("audit log unavailable, commands cannot run: {e}"),
            ));
            None
        }
    };
    let mut state = AppState::new(settings, keymap, planner, clock.now(), TimeZone::system());
    state.commands = Queue::new(policy, audit::operator_id(), audit::new_session_id());
    if let Some(log) = &audit {
        // What an earlier session (or `apply`) already did is never run again.
        let since = Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_hours(24))
            .unwrap_or(Timestamp::UNIX_EPOCH);
        match audit::read_all(log.path()) {
            Ok(records) => {
                for (identity, when) in audit::done_identities(&records, since, client.host()) {
                    state.commands.remember_done(identity, &when);
                }
            }
            Err(e) => notes.push((
                ActivityKind::Error,
                format!("audit log unreadable ({e}); earlier executions not remembered"),
            )),
        }
    }
    if let Some(log) = &audit {
        notes.push((
            ActivityKind::Info,
            format!("audit log: {}", log.path().display()),
        ));
    }
    for (kind, text) in notes {
        clock.update(&mut state, Msg::Activity { kind, text });
    }
    let (exec_tx, mut exec_rx) = mpsc::channel::<ExecReport>(16);

    let mut guard = TerminalGuard::new()?;
    let size = guard.terminal.size()?;
    clock.update(
        &mut state,
        Msg::Resize {
            w: size.width,
            h: size.height,
        },
    );

    let mut slot = PollerSlot::spawn(client, project, poll_cfg.clone(), 0);
    // Replayed to a replacement poller (read-only switch).
    let mut visible = PollCmd::Visible {
        mrs: Vec::new(),
        pipelines: Vec::new(),
    };
    let mut watching: Option<u64> = None;

    let (log_tx, mut log_rx) = mpsc::channel::<ParsedLog>(4);
    let mut log_seq = 0u64;
    let mut log_applied = 0u64;

    let mut events = EventStream::new();
    let mut signals = Signals::new()?;
    let mut minute = tokio::time::interval_at(Instant::now() + CLOCK, CLOCK);
    minute.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut screen = Screen {
        last: None,
        cursor: None,
        force: true,
        last_draw: Instant::now() - FRAME,
    };
    let mut frame_due: Option<Instant> = None;

    let reason: String = 'main: loop {
        if state.dirty || screen.force {
            let now = Instant::now();
            if now >= screen.last_draw + FRAME {
                frame_due = None;
                if let Err(e) = paint(&mut guard, &mut state, &theme, &mut screen, clock) {
                    // The terminal is gone or broken: stop rather than spin on write errors.
                    break format!("terminal write failed: {e}");
                }
            } else {
                frame_due = Some(screen.last_draw + FRAME);
            }
        }

        let mut msgs: Vec<Msg> = Vec::new();
        let plan_due = ai.deadline();
        tokio::select! {
            biased;
            sig = signals.next() => break sig.to_string(),
            _ = super::terminal::PANICKED.notified() => {
                slot.handle.send(PollCmd::Shutdown);
                drop(guard);
                anyhow::bail!("internal error: a task panicked (details in the log file)");
            }
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => {
                    if let Some(k) = input::key(k) {
                        msgs.push(Msg::Key(k));
                    }
                }
                // Bursts of resizes coalesce: the state follows each, the frame budget draws once.
                Some(Ok(Event::Resize(w, h))) => msgs.push(Msg::Resize { w, h }),
                Some(Ok(_)) => {}
                Some(Err(e)) => break format!("terminal read error: {e}"),
                None => break "terminal closed".to_string(),
            },
            ev = slot.rx.recv(), if slot.open => match ev {
                Some(PollEvent::Snapshot { snapshot, .. }) => {
                    ai.snapshot(state.snapshot.as_deref(), &snapshot);
                    msgs.push(Msg::Snapshot { epoch: slot.epoch, snapshot })
                }
                Some(PollEvent::Error { error, .. }) => msgs.push(Msg::PollError { epoch: slot.epoch, error }),
                Some(PollEvent::Requests { total, last_minute }) => {
                    msgs.push(Msg::Requests { epoch: slot.epoch, total, last_minute })
                }
                Some(PollEvent::JobLog { job_id, bytes, complete }) => {
                    // Parsing a big trace takes a while: off the UI task, newest result wins.
                    log_seq += 1;
                    let (seq, tx) = (log_seq, log_tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let started = std::time::Instant::now();
                        let len = bytes.len();
                        let index = Arc::new(LogIndex::parse(bytes));
                        tracing::debug!(job_id, bytes = len, lines = index.line_count(), ms = started.elapsed().as_millis() as u64, "job log parsed");
                        let _ = tx.blocking_send(ParsedLog { seq, job_id, index, complete });
                    });
                }
                None => {
                    slot.open = false;
                    msgs.push(Msg::PollError { epoch: slot.epoch, error: "the poller stopped; :refresh or restart".into() });
                }
            },
            Some(m) = ai.rx.recv() => {
                if matches!(m, Msg::Plan(app::planner::PlanMsg::Finished { .. })) {
                    ai.finished();
                }
                msgs.push(m);
            }
            _ = sleep_until_opt(plan_due), if plan_due.is_some() => {
                if let Some(m) = ai.due(&state) {
                    msgs.push(m);
                    // The trigger started it: ask the app to run it like a `p`.
                    let run = state.plan.run + 1;
                    ai.start_plan(run, client_cfg.clone(), state.settings.project.clone());
                }
            }
            Some(p) = log_rx.recv() => {
                if p.seq > log_applied {
                    log_applied = p.seq;
                    msgs.push(Msg::JobLog { job_id: p.job_id, index: p.index, complete: p.complete });
                }
            }
            Some(report) = exec_rx.recv() => msgs.push(Msg::Executed(Box::new(report))),
            _ = minute.tick() => msgs.push(Msg::Tick),
            _ = sleep_until_opt(frame_due), if frame_due.is_some() => {}
        }

        for msg in msgs {
            for fx in clock.update(&mut state, msg) {
                match fx {
                    Effect::Quit => break 'main "quit".to_string(),
                    Effect::Suspend => {
                        guard.suspend()?;
                        screen.force = true;
                        for fx in clock.update(&mut state, Msg::Resumed) {
                            if fx == Effect::ForceRedraw {
                                screen.force = true;
                            }
                        }
                    }
                    Effect::ForceRedraw => screen.force = true,
                    Effect::Refresh => {
                        if !slot.open {
                            // A stopped poller is replaced by a fresh one.
                            let client = GitlabClient::new(client_cfg.clone())?;
                            slot = PollerSlot::spawn(
                                client,
                                state.settings.project.clone(),
                                poll_cfg.clone(),
                                slot.epoch,
                            );
                            slot.handle.send(visible.clone());
                            slot.handle.send(PollCmd::WatchJobLog(watching));
                        }
                        slot.handle.send(PollCmd::RefreshNow)
                    }
                    Effect::SetVisible { mrs, pipelines } => {
                        visible = PollCmd::Visible { mrs, pipelines };
                        slot.handle.send(visible.clone());
                    }
                    Effect::WatchJobLog(job) => {
                        watching = job;
                        slot.handle.send(PollCmd::WatchJobLog(job));
                    }
                    Effect::FetchMrDetail(iid) => slot.handle.send(PollCmd::FetchMrDetail(iid)),
                    Effect::SwitchProject { project, epoch } => {
                        let client = GitlabClient::new(client_cfg.clone())?;
                        tracing::info!(%project, epoch, "switching project");
                        slot = PollerSlot::spawn(client, project, poll_cfg.clone(), epoch);
                        watching = None;
                    }
                    Effect::ReadOnly => {
                        // Read-only lives in the HTTP client: a new client, a new poller on the
                        // same project, told what the old one was showing.
                        client_cfg.read_only = true;
                        let client = GitlabClient::new(client_cfg.clone())?;
                        slot = PollerSlot::spawn(
                            client,
                            state.settings.project.clone(),
                            poll_cfg.clone(),
                            slot.epoch,
                        );
                        slot.handle.send(visible.clone());
                        slot.handle.send(PollCmd::WatchJobLog(watching));
                        tracing::info!("read-only switched on");
                    }
                    Effect::Plan { run } => {
                        // Reviewer proposals are checked against the members: have the poller
                        // load them (one request) while the planner reads the rest.
                        if state
                            .snapshot
                            .as_ref()
                            .is_some_and(|s| s.members.is_empty())
                        {
                            slot.handle.send(PollCmd::FetchMembers);
                        }
                        ai.start_plan(run, client_cfg.clone(), state.settings.project.clone());
                    }
                    Effect::Diagnose { job_id } => {
                        let index = app::diagnosis::loaded_index(&state, job_id);
                        ai.start_diagnosis(
                            job_id,
                            index,
                            state.snapshot.clone(),
                            client_cfg.clone(),
                        );
                    }
                    Effect::Audit(records) => {
                        // Written (and synced) before the frame that shows the decision.
                        let written = match &audit {
                            Some(log) => log.append_all(&records).map_err(|e| e.to_string()),
                            None => Err("no audit log".to_string()),
                        };
                        if let Err(e) = written {
                            tracing::error!(error = %e, "audit log write failed");
                            clock.update(
                                &mut state,
                                Msg::Activity {
                                    kind: ActivityKind::Error,
                                    text: format!(
                                        "AUDIT LOG NOT WRITTEN ({} records): {e}",
                                        records.len()
                                    ),
                                },
                            );
                        }
                    }
                    Effect::Execute(ticket) => {
                        let item = ticket.item;
                        match (
                            &audit,
                            state.snapshot.clone(),
                            GitlabClient::new(client_cfg.clone()),
                        ) {
                            (Some(log), Some(snap), Ok(client)) => {
                                // The runtime's current client config: `:readonly` is honoured.
                                let ctx = ExecContext {
                                    client,
                                    audit: log.clone(),
                                };
                                executor::spawn(ctx, *ticket, snap, exec_tx.clone());
                            }
                            (_, _, client) => {
                                let why = match client {
                                    Err(e) => format!("GitLab client: {e:#}"),
                                    Ok(_) if audit.is_none() => "no audit log".into(),
                                    Ok(_) => "no snapshot".into(),
                                };
                                let report = ExecReport {
                                    item,
                                    command: ticket.command.clone(),
                                    finish: crate::command::queue::Finish::Failed(format!(
                                        "not sent: {why}"
                                    )),
                                    request: None,
                                    http_status: None,
                                    duration: Duration::ZERO,
                                    audit_error: None,
                                };
                                let _ = exec_tx.try_send(report);
                            }
                        }
                    }
                }
            }
        }
    };
    tracing::info!(reason = %reason, "tui exiting");
    slot.handle.send(PollCmd::Shutdown);
    drop(guard);
    Ok(ExitCode::SUCCESS)
}

/// The time the app sees: the wall clock, or a frozen one.
#[derive(Clone, Copy)]
struct Clock(Option<Timestamp>);

impl Clock {
    fn now(self) -> Timestamp {
        self.0.unwrap_or_else(Timestamp::now)
    }

    fn update(self, state: &mut AppState, msg: Msg) -> Vec<Effect> {
        state.now = self.now();
        app::update(state, msg)
    }
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Renders the state off-screen and sends the frame only if a cell (or the cursor) changed;
/// the frame is wrapped in a synchronized update so terminals paint it at once. The size is
/// queried once (autoresize) and everything uses that, so a resize racing a frame is harmless.
fn paint(
    guard: &mut TerminalGuard,
    state: &mut AppState,
    theme: &Theme,
    screen: &mut Screen,
    clock: Clock,
) -> std::io::Result<()> {
    state.dirty = false;
    let t = &mut guard.terminal;
    t.autoresize()?;
    let area = t.get_frame().area();
    if (area.width, area.height) != (state.width, state.height) {
        clock.update(
            state,
            Msg::Resize {
                w: area.width,
                h: area.height,
            },
        );
        state.dirty = false;
    }
    let mut buf = Buffer::empty(Rect::new(0, 0, area.width, area.height));
    let cursor = draw(state, theme, &mut buf);
    if !screen.force && screen.last.as_ref() == Some(&buf) && screen.cursor == cursor {
        return Ok(());
    }
    if screen.force {
        t.clear()?;
    }
    crossterm::queue!(t.backend_mut(), BeginSynchronizedUpdate)?;
    t.current_buffer_mut().clone_from(&buf);
    t.flush()?;
    match cursor {
        Some(p) => {
            t.set_cursor_position(p)?;
            t.show_cursor()?;
        }
        // Hidden once, not on every frame: fewer bytes over a slow link.
        None if screen.cursor.is_some() || screen.last.is_none() || screen.force => {
            t.hide_cursor()?
        }
        None => {}
    }
    t.swap_buffers();
    crossterm::queue!(t.backend_mut(), EndSynchronizedUpdate)?;
    std::io::Write::flush(t.backend_mut())?;
    screen.last = Some(buf);
    screen.cursor = cursor;
    screen.force = false;
    screen.last_draw = Instant::now();
    Ok(())
}

/// SIGHUP (terminal closed), SIGTERM and SIGQUIT end the session cleanly.
struct Signals {
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    quit: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                hup: signal(SignalKind::hangup())?,
                term: signal(SignalKind::terminate())?,
                quit: signal(SignalKind::quit())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.hup.recv() => "SIGHUP",
                _ = self.term.recv() => "SIGTERM",
                _ = self.quit.recv() => "SIGQUIT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "interrupt"
        }
    }
}
