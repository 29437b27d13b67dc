//! The UI task (DESIGN.md "Flow"): owns `AppState`, turns terminal input and signals into
//! `Msg`s, takes the driver's `Msg`s, performs the terminal effects and hands every other one
//! to the driver, and draws only when the screen would change, at most ~30 times a second.
//! Idle means no wake-ups except a once-a-minute clock (for age labels) and the app's own
//! deadline, and no bytes to the terminal unless a visible cell changed.

use std::process::ExitCode;
use std::time::Duration;

use crossterm::event::{Event, EventStream};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use futures::StreamExt;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use tokio::time::{Instant, MissedTickBehavior};

use crate::app::activity::ActivityKind;
use crate::app::{self, AppState, Effect, Keymap, Msg, PlannerInfo};
use crate::command::Queue;
use crate::command::audit;
use crate::driver::Driver;
use crate::plan::trigger::{Trigger, TriggerConfig};

use super::draw::draw;
use super::input;
use super::terminal::TerminalGuard;
use super::theme::Theme;

/// Frame budget: at most ~30 draws a second, however fast messages arrive.
const FRAME: Duration = Duration::from_millis(33);
/// Age labels are coarse (minutes), so the clock only needs to look once a minute.
const CLOCK: Duration = Duration::from_secs(60);

/// Everything the screen needs, resolved from config (live) or from the simulator (demo). The
/// GitLab side (client, poller, audit log, planner) is the `Driver`'s.
pub struct Session {
    pub settings: app::Settings,
    pub keymap: Keymap,
    /// Shown in the activity feed at start (keymap problems, where the demo runs, ...).
    pub notes: Vec<(ActivityKind, String)>,
    pub planner: PlannerInfo,
    /// When the planner runs on its own (debounce, interval).
    pub trigger: TriggerConfig,
    pub theme: Theme,
    /// A fixed "now" (a frozen simulated world); the wall clock otherwise.
    pub fixed_now: Option<Timestamp>,
    /// Command policy from `[policy]` and `--read-only`.
    pub policy: crate::command::Policy,
    /// `y` writes OSC 52 (`[ui] osc52`, on unless the terminal refuses it).
    pub osc52: bool,
    /// MR and pipeline ids are OSC 8 hyperlinks (`[ui] hyperlinks`; off by default where
    /// `TERM` is `linux` or `dumb`).
    pub hyperlinks: bool,
}

/// What was last sent to the terminal, to skip frames that would change nothing.
struct Screen {
    last: Option<Buffer>,
    cursor: Option<Position>,
    force: bool,
    last_draw: Instant,
    /// The hyperlinks of the last frame sent (empty when they are off).
    links: super::hyperlinks::LinkMap,
    hyperlinks: bool,
}

pub async fn run(session: Session, mut driver: Driver) -> anyhow::Result<ExitCode> {
    let Session {
        settings,
        keymap,
        notes,
        planner,
        trigger,
        theme,
        fixed_now,
        mut policy,
        osc52,
        hyperlinks,
    } = session;
    let clock = Clock(fixed_now);
    let mut notes = notes;
    if driver.audit().is_none() {
        // Nothing that changes GitLab runs unrecorded.
        policy.read_only = true;
    }
    let mut state = AppState::new(settings, keymap, planner, clock.now(), TimeZone::system());
    state.trigger = Trigger::new(trigger, std::time::Instant::now());
    state.refresh_period = driver.refresh_period();
    state.commands = Queue::new(policy, audit::operator_id(), audit::new_session_id());
    // What an earlier session (or `apply`) already did is never run again.
    match driver.done_identities() {
        Ok(done) => {
            for (identity, when) in done {
                state.commands.remember_done(identity, &when);
            }
        }
        Err(e) => notes.push((
            ActivityKind::Error,
            format!("audit log unreadable ({e}); earlier executions not remembered"),
        )),
    }
    for (kind, text) in notes {
        clock.update(&mut state, Msg::Activity { kind, text });
    }
    // What an earlier session left waiting comes back once the first snapshot is here (so it
    // is validated against fresh data).
    let restore = match driver.waiting_proposals(&state.settings.project, state.commands.session())
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "waiting proposals not restored");
            Vec::new()
        }
    };
    let mut restore = (!restore.is_empty()).then_some(restore);

    let mut guard = TerminalGuard::new()?;
    let size = guard.terminal.size()?;
    clock.update(
        &mut state,
        Msg::Resize {
            w: size.width,
            h: size.height,
        },
    );
    driver.start(state.settings.project.clone(), state.epoch);

    let mut events = EventStream::new();
    let mut signals = Signals::new()?;
    let mut minute = tokio::time::interval_at(Instant::now() + CLOCK, CLOCK);
    minute.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut screen = Screen {
        last: None,
        cursor: None,
        force: true,
        last_draw: Instant::now() - FRAME,
        links: Default::default(),
        hyperlinks,
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
        // The app's one timer (the planner's schedule): it decides what happens when it fires.
        let app_due = state.deadline().map(Instant::from_std);
        tokio::select! {
            biased;
            sig = signals.next() => break sig.to_string(),
            _ = super::terminal::PANICKED.notified() => {
                driver.shutdown();
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
            m = driver.next() => msgs.push(m),
            _ = sleep_until_opt(app_due), if app_due.is_some() => msgs.push(Msg::Timer),
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
                    other => match super::links::perform(&other, osc52) {
                        // `o` and `y` are the terminal's; what they did goes to the status line.
                        Some(said) => {
                            for fx in clock.update(&mut state, Msg::Notice(said)) {
                                driver.perform(fx);
                            }
                        }
                        None => driver.perform(other),
                    },
                }
            }
        }
        if state.snapshot.is_some()
            && let Some(commands) = restore.take()
        {
            let msgs = [
                Msg::Activity {
                    kind: ActivityKind::Info,
                    text: format!(
                        "{} proposal(s) left waiting by an earlier session restored",
                        commands.len()
                    ),
                },
                Msg::Propose {
                    commands,
                    source: crate::command::Source::Restored,
                },
            ];
            for msg in msgs {
                for fx in clock.update(&mut state, msg) {
                    driver.perform(fx);
                }
            }
        }
    };
    tracing::info!(reason = %reason, "tui exiting");
    driver.shutdown();
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
        state.mono = std::time::Instant::now();
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
    let links = match state.snapshot.as_deref() {
        Some(snap) if screen.hyperlinks => super::hyperlinks::scan(&buf, snap),
        _ => Default::default(),
    };
    // Cells whose link changed while their text did not: the diff would not send them.
    let relink = if screen.force {
        Vec::new()
    } else {
        super::hyperlinks::changed(&screen.links, &links)
    };
    crossterm::queue!(t.backend_mut(), BeginSynchronizedUpdate)?;
    t.backend_mut().set_links(links.clone());
    t.current_buffer_mut().clone_from(&buf);
    t.flush()?;
    if !relink.is_empty() {
        use ratatui::backend::Backend as _;
        let cells = relink
            .iter()
            .filter_map(|&(x, y)| buf.cell((x, y)).map(|c| (x, y, c)));
        t.backend_mut().draw(cells)?;
    }
    screen.links = links;
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
