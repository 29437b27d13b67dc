//! `update(&mut AppState, Msg) -> Vec<Effect>`: every state change happens here, without IO.

use super::activity::{ActivityKind, pipeline_changes};
use super::commands;
use super::input::InputOutcome;
use super::input::LineInput;
use super::key::{Key, KeyCode};
use super::keymap::{Action, Context};
use super::layout::{Layout, Mode, Pane};
use super::logscan::ScanMsg;
use super::logview::{LogView, text_cols};
use super::metrics;
use super::msg::{Effect, Msg};
use super::palette::{self, PaletteCmd};
use super::pipelines::PipeRow;
use super::state::{AppState, Conn, InputPurpose, Notice, Overlay, View, Watched};

pub fn update(state: &mut AppState, msg: Msg) -> Vec<Effect> {
    let mut fx = Vec::new();
    match msg {
        Msg::Key(k) => on_key(state, k, &mut fx),
        Msg::Resize { w, h } => {
            if (w, h) != (state.width, state.height) {
                state.width = w;
                state.height = h;
                relayout(state);
            }
        }
        Msg::Snapshot { epoch, snapshot } if epoch == state.epoch => {
            if let Some(old) = &state.snapshot {
                for (kind, text) in pipeline_changes(old, &snapshot) {
                    state.activity.push(state.now, kind, text);
                }
            }
            let old = state.snapshot.take();
            super::planner::on_snapshot(state, old.as_deref(), &snapshot);
            if matches!(state.conn, Conn::Error(_)) {
                state
                    .activity
                    .push(state.now, ActivityKind::Info, "connection restored");
            }
            state.conn = Conn::Live;
            polled_ok(state);
            state.metrics = metrics::compute(&snapshot);
            if let View::Log(v) = &mut state.view
                && v.title == format!("job #{}", v.job_id)
                && let Some(j) = snapshot.job(v.job_id)
            {
                // A job looked up for `:log ID`: its name now that it is known.
                v.title = format!("{} ({})", j.name, j.stage);
            }
            state.snapshot = Some(snapshot);
            rebuild_lists(state);
            commands::revalidate(state, &mut fx);
            super::causes::on_snapshot(state, &mut fx);
            state.dirty = true;
        }
        Msg::PollError {
            epoch,
            error,
            attempt,
            retry_in,
        } if epoch == state.epoch => {
            state
                .activity
                .push(state.now, ActivityKind::Error, error.clone());
            // Attempt 0: nothing will retry on its own (the poller stopped).
            state.retry = (attempt > 0).then(|| super::state::Retry {
                attempt,
                at: state.mono + retry_in,
                error: error.clone(),
            });
            if let View::Log(v) = &mut state.view
                && v.index.is_none()
            {
                // The trace could not be fetched (yet): say why instead of "loading".
                v.error = Some(error.clone());
            }
            state.conn = Conn::Error(error);
            state.failed_since_requests = true;
            state.dirty = true;
        }
        Msg::Requests {
            epoch,
            total,
            last_minute,
        } if epoch == state.epoch => {
            state.requests_total = total;
            // The poller reports requests after every refresh, after the error if it failed:
            // a report with no error before it means the last refresh worked.
            if !std::mem::take(&mut state.failed_since_requests)
                && matches!(state.conn, Conn::Error(_))
                && state.snapshot.is_some()
            {
                state.conn = Conn::Live;
                state
                    .activity
                    .push(state.now, ActivityKind::Info, "connection restored");
                state.dirty = true;
            }
            if state.conn == Conn::Live {
                polled_ok(state);
            }
            if let Some(shown) = shown_rate(state.requests_per_min, last_minute) {
                state.requests_per_min = Some(shown);
                state.dirty = true;
            }
        }
        Msg::LookedUp {
            epoch,
            done,
            missing,
        } if epoch == state.epoch => {
            for t in &done {
                state.looking_up.remove(t);
            }
            state.not_in_gitlab.extend(missing);
            // Found targets came with the snapshot before this message; the rest now carry
            // GitLab's own answer instead of "looking up".
            commands::revalidate(state, &mut fx);
            state.dirty = true;
        }
        Msg::Cause(m) => super::causes::on_msg(state, *m),
        Msg::Snapshot { .. }
        | Msg::PollError { .. }
        | Msg::Requests { .. }
        | Msg::LookedUp { .. } => {}
        Msg::LogScan(m) => {
            let lines = state
                .log_view()
                .and_then(|v| v.index.as_ref())
                .map(|i| i.line_count())
                .unwrap_or(0);
            let (rows, cols) = log_dims(state, lines);
            if let View::Log(v) = &mut state.view {
                state.dirty |= match m {
                    ScanMsg::Progress {
                        job_id,
                        seq,
                        done,
                        total,
                    } => v.job_id == job_id && v.scan_progress(seq, done, total),
                    ScanMsg::Done { job_id, seq, line } => {
                        v.job_id == job_id && v.scan_done(seq, line, rows, cols)
                    }
                };
            }
        }
        Msg::JobLog {
            job_id,
            index,
            complete,
        } => {
            let (rows, cols) = log_dims(state, index.line_count());
            if let View::Log(v) = &mut state.view
                && v.job_id == job_id
            {
                v.set_index(index, complete, rows, cols);
                state.dirty = true;
            }
        }
        Msg::Propose { commands, source } => {
            commands::propose(state, commands, source, &mut fx);
        }
        Msg::Executed(report) => commands::executed(state, *report, &mut fx),
        Msg::Activity { kind, text } => {
            state.activity.push(state.now, kind, text);
            state.dirty = true;
        }
        Msg::Plan(m) => {
            if let Some((commands, source)) = super::planner::on_msg(state, m) {
                commands::propose(state, commands, source, &mut fx);
            }
        }
        Msg::Diagnosis(m) => {
            if let Some((commands, source)) = super::diagnosis::on_msg(state, *m) {
                commands::propose(state, commands, source, &mut fx);
            }
        }
        Msg::Tick => state.dirty = true,
        Msg::Notice(text) => notice(state, text),
        Msg::Overview(ev) => super::overview::on_event(state, ev),
        Msg::Timer => {
            super::planner::on_timer(state, &mut fx);
            // Freshness and the retry countdown are drawn from the clock.
            state.dirty = true;
        }
        Msg::Resumed => {
            fx.push(Effect::ForceRedraw);
            state.dirty = true;
        }
    }
    sync_visible(state, &mut fx);
    fx
}

/// A refresh worked: the data is fresh as of now and nothing is being retried.
fn polled_ok(state: &mut AppState) {
    // Only a visible change redraws: an idle screen stays byte-for-byte the same.
    let before = state.freshness();
    state.last_contact = Some(state.now);
    state.last_success_mono = Some(state.mono);
    if state.retry.take().is_some() || state.freshness() != before {
        state.dirty = true;
    }
}

/// The request rate to show, when it should change. A count over a sliding minute flickers by
/// one refresh's worth as refreshes cross the window's edge; showing only moves beyond that
/// (a quarter, at least 5) keeps an idle screen unchanged and still shows real shifts (a cold
/// start's burst settling, a 429 pause, a busier project).
fn shown_rate(shown: Option<u32>, measured: u32) -> Option<u32> {
    match shown {
        None => Some(measured),
        Some(s) if s.abs_diff(measured) >= (s / 4).max(5) => Some(measured),
        // Back to zero (polling stopped) is always worth showing.
        Some(s) if measured == 0 && s != 0 => Some(0),
        Some(_) => None,
    }
}

pub(super) fn relayout_pub(state: &mut AppState) {
    relayout(state)
}

fn relayout(state: &mut AppState) {
    state.layout = Layout::compute(state.width, state.height, state.focus)
        .with_plan_banner(state.plan.summary.is_some())
        .with_queue_preview(!state.commands.items().is_empty());
    let l = &state.layout;
    state
        .mrs
        .cursor
        .clamp(state.mrs.rows.len(), l.list_rows(Pane::Mrs));
    state
        .pipelines
        .cursor
        .clamp(state.pipelines.rows.len(), l.list_rows(Pane::Pipelines));
    state
        .pipelines
        .cursor
        .prefer_top(l.list_rows(Pane::Pipelines));
    state
        .queue
        .cursor
        .clamp(state.queue.items.len(), l.list_rows(Pane::Queue));
    let n = state.activity.len();
    state.activity.cursor.clamp(n, l.list_rows(Pane::Activity));
    if let Overlay::Help { scroll } = &mut state.overlay {
        *scroll = (*scroll).min(super::help::max_scroll(&state.keymap, &state.layout));
    }
    let lines = state
        .log_view()
        .and_then(|v| v.index.as_ref())
        .map(|i| i.line_count())
        .unwrap_or(0);
    let (rows, cols) = log_dims(state, lines);
    if let View::Log(v) = &mut state.view {
        if v.follow {
            v.to_bottom(rows, cols);
        } else {
            v.scroll_into_view(rows, cols);
        }
    }
    state.dirty = true;
}

fn rebuild_lists(state: &mut AppState) {
    let snap = state.snapshot.as_deref();
    state.mrs.rebuild(snap, state.layout.list_rows(Pane::Mrs));
    state
        .pipelines
        .rebuild(snap, state.layout.list_rows(Pane::Pipelines));
}

/// The project `:project wanted` means: a `group/name` as given (on the instance on screen,
/// unless a watched project of another instance has that path); nothing, the watched project
/// after the one on screen; a bare word or a fuzzy one, the best match among the watched
/// projects and then the user's memberships.
pub(super) fn watched_project(state: &AppState, wanted: &str) -> Result<Watched, String> {
    let settings = &state.settings;
    let watched = &settings.watched;
    if wanted.is_empty() {
        if watched.len() < 2 {
            return Err(":project needs a path, e.g. :project group/name".into());
        }
        let i = watched
            .iter()
            .position(|w| {
                w.instance == settings.instance && w.path.eq_ignore_ascii_case(&settings.project)
            })
            .map_or(0, |i| (i + 1) % watched.len());
        return Ok(watched[i].clone());
    }
    let candidates = super::overview::candidates(state);
    if wanted.contains('/') {
        let exact: Vec<&Watched> = candidates
            .iter()
            .filter(|w| w.path.eq_ignore_ascii_case(wanted))
            .collect();
        return Ok(match exact.as_slice() {
            [one] => (*one).clone(),
            _ => exact
                .iter()
                .find(|w| w.instance == settings.instance)
                .map(|w| (*w).clone())
                .unwrap_or(Watched {
                    instance: settings.instance,
                    path: wanted.to_string(),
                }),
        });
    }
    let mut hits: Vec<((u8, usize), &Watched)> = candidates
        .iter()
        .filter_map(|w| super::overview::fuzzy_score(&w.path, wanted).map(|s| (s, w)))
        .collect();
    hits.sort_by_key(|(s, _)| *s);
    let best = hits.first().map(|(s, _)| s.0);
    let top: Vec<&Watched> = hits
        .iter()
        .filter(|(s, _)| Some(s.0) == best)
        .map(|(_, w)| *w)
        .collect();
    let named = |w: &Watched| {
        if settings.instances.len() > 1 {
            format!(
                "{} ({})",
                w.path,
                settings
                    .instances
                    .get(w.instance)
                    .map_or("?", |s| s.as_str())
            )
        } else {
            w.path.clone()
        }
    };
    match top.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!(
            "no watched project matches {wanted:?} (watched: {}); give group/name",
            watched.iter().map(named).collect::<Vec<_>>().join(", ")
        )),
        many => Err(format!(
            "{wanted:?} matches {}: say which",
            many.iter()
                .take(6)
                .map(|w| named(w))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Focuses the MR pane with `iid` selected (its filter cleared when it hides the MR).
pub(super) fn select_mr(state: &mut AppState, iid: u64, fx: &mut Vec<Effect>) {
    focus(state, Pane::Mrs, fx);
    if !state.mrs.rows.contains(&iid) {
        state.mrs.set_filter("");
        rebuild_lists(state);
    }
    if let Some(i) = state.mrs.rows.iter().position(|r| *r == iid) {
        state.mrs.cursor.selected = i;
    }
    relayout(state);
    state.dirty = true;
}

/// Focuses the pipelines pane with pipeline `id` selected (its filter cleared when it hides
/// it); false when the pipeline is not in the list at all.
pub(super) fn select_pipeline(state: &mut AppState, id: u64, fx: &mut Vec<Effect>) -> bool {
    let row = |state: &AppState| {
        state
            .pipelines
            .rows
            .iter()
            .position(|r| *r == super::pipelines::PipeRow::Pipeline(id))
    };
    focus(state, Pane::Pipelines, fx);
    if row(state).is_none() {
        state.pipelines.set_filter("");
    }
    // Rows follow the filter and the expanded pipelines (the caller may have expanded one).
    rebuild_lists(state);
    let Some(i) = row(state) else {
        return false;
    };
    state.pipelines.cursor.selected = i;
    relayout(state);
    state.dirty = true;
    true
}

/// Rows and text columns of the log viewer (inside its border, right of the line numbers).
fn log_dims(state: &AppState, line_count: usize) -> (usize, usize) {
    (
        state.layout.view_rows(),
        text_cols(state.layout.view_cols(), line_count),
    )
}

pub(super) fn notice(state: &mut AppState, text: impl Into<String>) {
    state.notice = Some(Notice {
        text: text.into(),
        error: false,
    });
}

fn error_notice(state: &mut AppState, text: impl Into<String>) {
    state.notice = Some(Notice {
        text: text.into(),
        error: true,
    });
}

fn on_key(state: &mut AppState, key: Key, fx: &mut Vec<Effect>) {
    if state.notice.take().is_some() {
        state.dirty = true;
    }
    if let View::Log(v) = &mut state.view
        && v.notice.take().is_some()
    {
        state.dirty = true;
    }
    match std::mem::replace(&mut state.overlay, Overlay::None) {
        Overlay::Input {
            purpose,
            mut input,
            before,
        } => {
            let outcome = input.handle(key);
            on_input(state, purpose, input, before, outcome, fx);
            state.dirty = true;
            return;
        }
        Overlay::Help { mut scroll } => {
            match state
                .keymap
                .lookup(&[Context::Scroll, Context::Global], key)
            {
                // `q` and Esc go back to where help was opened.
                Some(Action::Help | Action::Back | Action::Quit) => {}
                Some(Action::ForceQuit) => fx.push(Effect::Quit),
                Some(Action::Suspend) => {
                    fx.push(Effect::Suspend);
                    state.overlay = Overlay::Help { scroll };
                }
                Some(
                    a @ (Action::Up
                    | Action::Down
                    | Action::PageUp
                    | Action::PageDown
                    | Action::Top
                    | Action::Bottom),
                ) => {
                    let page = state.layout.view_rows().saturating_sub(2).max(1);
                    scroll = match a {
                        Action::Up => scroll.saturating_sub(1),
                        Action::Down => scroll + 1,
                        Action::PageUp => scroll.saturating_sub(page),
                        Action::PageDown => scroll + page,
                        Action::Top => 0,
                        _ => usize::MAX / 2,
                    };
                    let max = super::help::max_scroll(&state.keymap, &state.layout);
                    state.overlay = Overlay::Help {
                        scroll: scroll.min(max),
                    };
                }
                _ => state.overlay = Overlay::Help { scroll },
            }
            state.dirty = true;
            return;
        }
        Overlay::Details { id, mut scroll } => {
            match state
                .keymap
                .lookup(&[Context::Scroll, Context::Global], key)
            {
                Some(Action::ForceQuit) => fx.push(Effect::Quit),
                Some(Action::Up) => {
                    scroll = scroll.saturating_sub(1);
                    state.overlay = Overlay::Details { id, scroll };
                }
                Some(Action::Down) => {
                    state.overlay = Overlay::Details {
                        id,
                        scroll: scroll + 1,
                    };
                }
                // Enter, Esc, anything else closes it.
                _ => {}
            }
            state.dirty = true;
            return;
        }
        Overlay::Confirm {
            id,
            phrase,
            target,
            mut input,
        } => {
            match input.handle(key) {
                InputOutcome::Submit => {
                    let typed = input.text.clone();
                    commands::confirm(state, id, &typed, fx);
                }
                InputOutcome::Cancel => commands::decline(state, id, fx),
                _ => {
                    state.overlay = Overlay::Confirm {
                        id,
                        phrase,
                        target,
                        input,
                    }
                }
            }
            state.dirty = true;
            return;
        }
        Overlay::QuitConfirm { waiting, .. } => {
            // Only a plain `y` quits; every other key (Enter included) stays.
            if key.code == KeyCode::Char('y') && key.mods.is_empty() {
                fx.push(Effect::Quit);
            } else {
                notice(
                    state,
                    format!("still here: {waiting} proposal(s) waiting in the queue"),
                );
            }
            state.dirty = true;
            return;
        }
        Overlay::Bulk { preview } => {
            // Only a plain `y` approves; every other key (Enter included) is No.
            if key.code == KeyCode::Char('y') && key.mods.is_empty() {
                commands::bulk_approve(state, fx);
            } else {
                notice(
                    state,
                    format!(
                        "bulk approval cancelled ({} marked)",
                        preview.approve.len()
                            + preview.needs_confirmation.len()
                            + preview.skipped.len()
                    ),
                );
            }
            state.dirty = true;
            return;
        }
        Overlay::Edit {
            id,
            mut editor,
            error,
        } => {
            state.dirty = true;
            if key.code == KeyCode::Esc {
                notice(state, "edit discarded");
                return;
            }
            if key.code == KeyCode::Char('s') && key.mods.ctrl {
                let text = editor.lines().join("\n");
                if let Err(e) = commands::edit_save(state, id, text, fx) {
                    state.overlay = Overlay::Edit {
                        id,
                        editor,
                        error: Some(e),
                    };
                }
                return;
            }
            editor.input(commands::editor_input(key));
            state.overlay = Overlay::Edit { id, editor, error };
            return;
        }
        Overlay::None => {}
    }
    if state.layout.mode == Mode::TooSmall {
        // Only what makes sense on a screen that cannot show anything.
        match state.keymap.lookup(&[Context::Global], key) {
            // Nothing can be shown here to ask with; waiting proposals come back after a
            // restart (restored from the audit log).
            Some(Action::Quit | Action::ForceQuit) => fx.push(Effect::Quit),
            Some(Action::Suspend) => fx.push(Effect::Suspend),
            _ => {}
        }
        return;
    }
    let Some(action) = state.keymap.lookup(state.contexts(), key) else {
        return;
    };
    state.dirty = true;
    dispatch(state, action, fx);
}

fn on_input(
    state: &mut AppState,
    purpose: InputPurpose,
    input: LineInput,
    before: String,
    outcome: InputOutcome,
    fx: &mut Vec<Effect>,
) {
    let keep_open = |state: &mut AppState, input: LineInput, before: String| {
        state.overlay = Overlay::Input {
            purpose,
            input,
            before,
        };
    };
    match (purpose, outcome) {
        (_, InputOutcome::Cancel) => {
            if let InputPurpose::Filter(pane) = purpose {
                apply_filter(state, pane, &before);
            }
        }
        (InputPurpose::Filter(pane), InputOutcome::Edited) => {
            apply_filter(state, pane, &input.text);
            keep_open(state, input, before);
        }
        (InputPurpose::Filter(pane), InputOutcome::Submit) => {
            apply_filter(state, pane, &input.text);
            if !input.text.trim().is_empty() {
                let n = match pane {
                    Pane::Pipelines => state.pipelines.rows.len(),
                    _ => state.mrs.rows.len(),
                };
                notice(
                    state,
                    format!("filter \"{}\": {n} rows (Esc clears)", input.text.trim()),
                );
            }
        }
        (InputPurpose::Reject(id), InputOutcome::Submit) => {
            commands::reject(state, id, &input.text, fx)
        }
        (InputPurpose::Palette, InputOutcome::Submit) => match palette::parse(&input.text) {
            Ok(cmd) => run_palette(state, cmd, fx),
            Err(e) => error_notice(state, e),
        },
        (InputPurpose::LogSearch, InputOutcome::Submit) => {
            let q = input.text.trim().to_string();
            let lines = state
                .log_view()
                .and_then(|v| v.index.as_ref())
                .map(|i| i.line_count())
                .unwrap_or(0);
            let (rows, cols) = log_dims(state, lines);
            if let View::Log(v) = &mut state.view {
                if q.is_empty() {
                    v.search = None;
                } else {
                    v.search = Some(q);
                    if let Some(req) = v.find(true, rows, cols) {
                        fx.push(Effect::LogScan(Box::new(req)));
                    }
                }
            }
        }
        (_, _) => keep_open(state, input, before),
    }
}

fn apply_filter(state: &mut AppState, pane: Pane, text: &str) {
    match pane {
        Pane::Pipelines => {
            state.pipelines.set_filter(text);
            state.pipelines.cursor.top();
        }
        _ => {
            state.mrs.set_filter(text);
            state.mrs.cursor.top();
        }
    }
    rebuild_lists(state);
}

fn run_palette(state: &mut AppState, cmd: PaletteCmd, fx: &mut Vec<Effect>) {
    match cmd {
        PaletteCmd::Quit => fx.push(Effect::Quit),
        PaletteCmd::Refresh => {
            fx.push(Effect::Refresh);
            notice(state, "refreshing…");
        }
        PaletteCmd::Help => state.overlay = Overlay::Help { scroll: 0 },
        PaletteCmd::ReadOnly => {
            if state.settings.read_only {
                notice(
                    state,
                    "already read-only: no GitLab change can be made in this session",
                );
            } else {
                state.settings.read_only = true;
                state.commands.set_read_only();
                fx.push(Effect::ReadOnly);
                state.activity.push(
                    state.now,
                    ActivityKind::Info,
                    "read-only turned on for this session",
                );
                notice(
                    state,
                    "read-only: every GitLab change is refused from now on",
                );
            }
        }
        PaletteCmd::Sort(k) => {
            state.mrs.sort = k;
            state.mrs.descending = k.default_descending();
            rebuild_lists(state);
            notice(state, format!("merge requests sorted by {}", k.name()));
        }
        PaletteCmd::Filter(text) => {
            let pane = if state.focus == Pane::Pipelines {
                Pane::Pipelines
            } else {
                Pane::Mrs
            };
            apply_filter(state, pane, &text);
        }
        PaletteCmd::Log(job) => open_log(state, job, fx),
        PaletteCmd::Operator(line) => commands::from_palette(state, &line, fx),
        PaletteCmd::Project(wanted) => {
            let target = match watched_project(state, &wanted) {
                Ok(p) => p,
                Err(why) => {
                    notice(state, why);
                    return;
                }
            };
            if target.instance == state.settings.instance && target.path == state.settings.project {
                notice(state, format!("already on {}", target.path));
                return;
            }
            switch_project(state, target, fx);
        }
    }
}

/// Leaves the project on screen for `target`: everything of the old one goes (snapshot,
/// causes, freshness), and the driver starts a new poller (new epoch) on its instance.
pub(super) fn switch_project(state: &mut AppState, target: Watched, fx: &mut Vec<Effect>) {
    let Watched {
        instance,
        path: project,
    } = target;
    state.epoch += 1;
    let on = match state.settings.instances.get(instance) {
        Some(name) if instance != state.settings.instance => format!(" on {name}"),
        _ => String::new(),
    };
    state.activity.push(
        state.now,
        ActivityKind::Info,
        format!("switching to {project}{on}"),
    );
    if let Some(name) = state.settings.instances.get(instance) {
        state.settings.host = name.clone();
    }
    state.settings.instance = instance;
    state.settings.project = project.clone();
    super::planner::project_switched(state, fx);
    state.snapshot = None;
    state.conn = Conn::Connecting;
    // The new project has not been heard from: neither live nor stale yet.
    state.last_contact = None;
    state.last_success_mono = None;
    state.retry = None;
    state.metrics = Default::default();
    super::causes::clear(state);
    state.pipelines.expanded.clear();
    state.sent_visible = None;
    close_view(state, fx);
    rebuild_lists(state);
    fx.push(Effect::SwitchProject {
        project,
        epoch: state.epoch,
        instance,
    });
}

fn close_view(state: &mut AppState, fx: &mut Vec<Effect>) {
    if let View::Log(v) = &state.view {
        if v.scan.is_some() {
            fx.push(Effect::CancelLogScan);
        }
        fx.push(Effect::WatchJobLog(None));
    }
    state.view = View::Main;
}

fn focus(state: &mut AppState, pane: Pane, fx: &mut Vec<Effect>) {
    close_view(state, fx);
    state.focus = pane;
    relayout(state);
}

fn open_log(state: &mut AppState, job_id: u64, fx: &mut Vec<Effect>) {
    let known = state.snapshot.as_ref().map(|s| s.job(job_id).is_some());
    if known == Some(false) {
        // Beyond the newest pipelines: load the job (name, status, failure reason) and keep it.
        super::commands::look_up(state, vec![crate::command::model::Target::Job(job_id)], fx);
    }
    let job = state.snapshot.as_ref().and_then(|s| s.job(job_id));
    let title = match job {
        Some(j) => format!("{} ({})", j.name, j.stage),
        None => format!("job #{job_id}"),
    };
    let running = job.is_none_or(|j| j.status.is_active());
    state.view = View::Log(Box::new(LogView::new(job_id, title, running)));
    fx.push(Effect::WatchJobLog(Some(job_id)));
}

fn dispatch(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::ForceQuit => fx.push(Effect::Quit),
        // `q` goes back from a view; at the top it quits, asking first when something waits.
        Action::Quit if !matches!(state.view, View::Main) => dispatch(state, Action::Back, fx),
        Action::Quit => {
            let waiting = state.queue.pending();
            let marked = state.queue.marked();
            if waiting + marked > 0 {
                state.overlay = Overlay::QuitConfirm { waiting, marked };
            } else {
                fx.push(Effect::Quit);
            }
        }
        Action::Help => state.overlay = Overlay::Help { scroll: 0 },
        Action::Palette => {
            state.overlay = Overlay::Input {
                purpose: InputPurpose::Palette,
                input: LineInput::default(),
                before: String::new(),
            }
        }
        Action::Refresh => {
            fx.push(Effect::Refresh);
            notice(state, "refreshing…");
        }
        Action::Suspend => fx.push(Effect::Suspend),
        Action::Plan => super::planner::request(state, fx),
        Action::Diagnose => super::diagnosis::request(state, fx),
        Action::Inbox => super::inbox::toggle(state),
        Action::Overview => super::overview::toggle(state),
        Action::OpenUrl => super::links::open(state, fx),
        Action::CopyUrl => super::links::copy(state, fx),
        Action::Jump => super::links::jump(state, fx),
        Action::NextPane | Action::PrevPane => {
            let i = Pane::ALL
                .iter()
                .position(|p| *p == state.focus)
                .unwrap_or(0);
            let n = Pane::ALL.len();
            let next = if action == Action::NextPane {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            focus(state, Pane::ALL[next], fx);
        }
        Action::PaneMrs => focus(state, Pane::Mrs, fx),
        Action::PanePipelines => focus(state, Pane::Pipelines, fx),
        Action::PaneQueue => focus(state, Pane::Queue, fx),
        Action::PaneActivity => focus(state, Pane::Activity, fx),
        Action::Back => {
            if let View::Log(v) = &mut state.view
                && v.cancel_scan()
            {
                // Esc first stops a search in flight; the next one closes the view.
                fx.push(Effect::CancelLogScan);
            } else if let View::Diagnosis(_) = state.view {
                super::diagnosis::close(state, fx);
            } else if !matches!(state.view, View::Main) {
                close_view(state, fx);
            } else if super::planner::cancel(state, fx) {
                notice(state, "planner run cancelled");
            } else if state.focus == Pane::Mrs && !state.mrs.filter_text.is_empty() {
                apply_filter(state, Pane::Mrs, "");
                notice(state, "filter cleared");
            } else if state.focus == Pane::Pipelines && !state.pipelines.filter_text.is_empty() {
                apply_filter(state, Pane::Pipelines, "");
                notice(state, "filter cleared");
            }
        }
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => movement(state, action, fx),
        Action::Open => open(state, fx),
        Action::Filter => match state.focus {
            Pane::Mrs | Pane::Pipelines => {
                let current = if state.focus == Pane::Mrs {
                    state.mrs.filter_text.clone()
                } else {
                    state.pipelines.filter_text.clone()
                };
                state.overlay = Overlay::Input {
                    purpose: InputPurpose::Filter(state.focus),
                    input: LineInput::with_text(&current),
                    before: current,
                };
            }
            _ => notice(state, "only merge requests and pipelines can be filtered"),
        },
        Action::SortNext => {
            state.mrs.sort = state.mrs.sort.next();
            state.mrs.descending = state.mrs.sort.default_descending();
            rebuild_lists(state);
            notice(state, format!("sorted by {}", state.mrs.sort.name()));
        }
        Action::SortReverse => {
            state.mrs.descending = !state.mrs.descending;
            rebuild_lists(state);
            notice(
                state,
                format!(
                    "sorted by {} ({})",
                    state.mrs.sort.name(),
                    if state.mrs.descending {
                        "descending"
                    } else {
                        "ascending"
                    }
                ),
            );
        }
        Action::Expand | Action::Collapse => {
            if state.pipelines.set_expanded(action == Action::Expand) {
                rebuild_lists(state);
            }
        }
        Action::Approve => commands::approve_selected(state, fx),
        Action::Reject => commands::reject_prompt(state),
        Action::EditCommand => commands::edit_open(state),
        Action::Mark => commands::toggle_mark(state, fx),
        Action::BulkApprove => commands::bulk_prompt(state),
        Action::DetailNextFile | Action::DetailPrevFile => {
            let View::Detail { iid, scroll } = state.view else {
                return;
            };
            let lines = state.detail_lines(iid);
            let starts = super::detail::file_starts(&lines);
            let max = lines.len().saturating_sub(state.layout.view_rows());
            let at = scroll.min(max);
            let next = if action == Action::DetailNextFile {
                starts.iter().find(|&&i| i > at).copied()
            } else {
                starts.iter().rev().find(|&&i| i < at).copied()
            };
            match next.map(|i| i.min(max)).filter(|&i| i != at) {
                Some(i) => state.view = View::Detail { iid, scroll: i },
                // Past the last file loaded: the next page, when there is one (asked again
                // on purpose: a page that failed to load is tried once more).
                None if action == Action::DetailNextFile
                    && load_more_diffs(state, iid, true, fx) =>
                {
                    notice(state, "loading more files…");
                }
                None if starts.is_empty() => notice(state, "no diff loaded for this MR"),
                None => notice(state, "no more files that way"),
            }
            state.dirty = true;
        }
        Action::DetailPipeline => {
            let View::Detail { iid, .. } = state.view else {
                return;
            };
            let pid = state
                .snapshot
                .as_ref()
                .and_then(|s| s.mr(iid).and_then(|mr| s.pipeline_for_mr(mr)).map(|p| p.id));
            let Some(pid) = pid else {
                notice(state, format!("!{iid} has no pipeline"));
                return;
            };
            // Expanded: the MR detail asked for its jobs.
            state.pipelines.expanded.insert(pid);
            select_pipeline(state, pid, fx);
        }
        Action::LogSearch => {
            let current = state
                .log_view()
                .and_then(|v| v.search.clone())
                .unwrap_or_default();
            state.overlay = Overlay::Input {
                purpose: InputPurpose::LogSearch,
                input: LineInput::with_text(&current),
                before: current,
            };
        }
        Action::LogToggleSection
        | Action::LogExpandAll
        | Action::LogCollapseAll
        | Action::LogNextMatch
        | Action::LogPrevMatch
        | Action::LogFirstError
        | Action::LogFollow
        | Action::LogWrap
        | Action::LogLeft
        | Action::LogRight
        | Action::LogNextSection
        | Action::LogPrevSection => log_action(state, action, fx),
    }
}

/// Asks for the next page of MR `iid`'s changed files, when there is one; `again`: even if
/// that page was asked for already. Returns whether more files are to come.
fn load_more_diffs(state: &mut AppState, iid: u64, again: bool, fx: &mut Vec<Effect>) -> bool {
    let Some(page) = state
        .snapshot
        .as_deref()
        .and_then(|s| super::detail::next_diff_page(s, iid))
    else {
        return false;
    };
    if again || state.diff_requested != Some((iid, page)) {
        state.diff_requested = Some((iid, page));
        fx.push(Effect::FetchMoreDiffs { iid, page });
    }
    true
}

fn movement(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    let delta = |page: usize| -> isize {
        let page = page.max(1) as isize;
        match action {
            Action::Up => -1,
            Action::Down => 1,
            Action::PageUp => -page,
            Action::PageDown => page,
            _ => 0,
        }
    };
    let detail = match &state.view {
        View::Log(_) => return log_action(state, action, &mut Vec::new()),
        View::Diagnosis(_) => {
            let d = match action {
                Action::Up | Action::PageUp => -1,
                Action::Down | Action::PageDown => 1,
                Action::Top => isize::MIN / 2,
                _ => isize::MAX / 2,
            };
            return super::diagnosis::move_selection(state, d);
        }
        View::Inbox(_) | View::Overview(_) => {
            let d = match action {
                Action::Up => -1,
                Action::Down => 1,
                Action::PageUp => -10,
                Action::PageDown => 10,
                Action::Top => isize::MIN / 2,
                _ => isize::MAX / 2,
            };
            if let View::Overview(_) = state.view {
                return super::overview::move_selection(state, d);
            }
            return super::inbox::move_selection(state, d);
        }
        View::Detail { iid, scroll } => Some((*iid, *scroll)),
        View::Main => None,
    };
    match detail {
        Some((iid, scroll)) => {
            let rows = state.layout.view_rows();
            let len = state.detail_lines(iid).len();
            let max = len.saturating_sub(rows);
            let next = match action {
                Action::Top => 0,
                Action::Bottom => max,
                _ => (scroll.min(max) as isize + delta(rows.saturating_sub(1)))
                    .clamp(0, max as isize) as usize,
            };
            state.view = View::Detail { iid, scroll: next };
            // Scrolled to the end of what is loaded: the next page of files, once.
            if next == max && matches!(action, Action::Down | Action::PageDown | Action::Bottom) {
                load_more_diffs(state, iid, false, fx);
            }
        }
        None => {
            let pane = state.focus;
            let h = state.layout.list_rows(pane);
            let (cursor, len) = match pane {
                Pane::Mrs => (&mut state.mrs.cursor, state.mrs.rows.len()),
                Pane::Pipelines => (&mut state.pipelines.cursor, state.pipelines.rows.len()),
                Pane::Queue => (&mut state.queue.cursor, state.queue.items.len()),
                Pane::Activity => (&mut state.activity.cursor, state.activity.entries.len()),
            };
            match action {
                Action::Top => cursor.top(),
                Action::Bottom => cursor.bottom(len, h),
                _ => cursor.move_by(delta(h.saturating_sub(1)), len, h),
            }
        }
    }
}

fn log_action(state: &mut AppState, action: Action, fx: &mut Vec<Effect>) {
    let lines = state
        .log_view()
        .and_then(|v| v.index.as_ref())
        .map(|i| i.line_count())
        .unwrap_or(0);
    let (rows, cols) = log_dims(state, lines);
    let View::Log(v) = &mut state.view else {
        return;
    };
    let page = rows.saturating_sub(1).max(1) as isize;
    match action {
        Action::Up => v.move_by(-1, rows, cols),
        Action::Down => v.move_by(1, rows, cols),
        Action::PageUp => v.move_by(-page, rows, cols),
        Action::PageDown => v.move_by(page, rows, cols),
        Action::Top => v.to_top(),
        Action::Bottom => v.to_bottom(rows, cols),
        Action::LogToggleSection => v.toggle_section(rows, cols),
        Action::LogExpandAll => v.set_all_folded(false, rows, cols),
        Action::LogCollapseAll => v.set_all_folded(true, rows, cols),
        Action::LogNextMatch | Action::LogPrevMatch | Action::LogFirstError => {
            let req = if action == Action::LogFirstError {
                v.first_error(rows, cols)
            } else {
                v.find(action == Action::LogNextMatch, rows, cols)
            };
            if let Some(req) = req {
                fx.push(Effect::LogScan(Box::new(req)));
            }
        }
        Action::LogFollow => v.toggle_follow(rows, cols),
        Action::LogWrap => {
            v.wrap = !v.wrap;
            v.left = 0;
            v.scroll_into_view(rows, cols);
        }
        Action::LogLeft => v.left = v.left.saturating_sub(8),
        Action::LogRight if !v.wrap => v.left += 8,
        Action::LogNextSection => v.jump_section(true, rows, cols),
        Action::LogPrevSection => v.jump_section(false, rows, cols),
        _ => {}
    }
}

fn open(state: &mut AppState, fx: &mut Vec<Effect>) {
    if let View::Diagnosis(_) = state.view {
        return super::diagnosis::jump(state, fx);
    }
    if let View::Inbox(_) = state.view {
        return super::inbox::open(state, fx);
    }
    if let View::Overview(_) = state.view {
        return super::overview::open(state, fx);
    }
    match state.focus {
        Pane::Mrs => {
            if let Some(iid) = state.mrs.selected_iid() {
                state.view = View::Detail { iid, scroll: 0 };
                fx.push(Effect::FetchMrDetail(iid));
            }
        }
        Pane::Pipelines => match state.pipelines.selected().cloned() {
            Some(PipeRow::Job { job, .. }) => open_log(state, job, fx),
            Some(PipeRow::Pipeline(id)) => {
                let expand = !state.pipelines.expanded.contains(&id);
                state.pipelines.set_expanded(expand);
                rebuild_lists(state);
            }
            Some(PipeRow::Stage { .. }) => {
                state.pipelines.set_expanded(false);
                rebuild_lists(state);
            }
            Some(PipeRow::Loading(_) | PipeRow::Downstream { .. }) | None => {}
        },
        Pane::Queue => commands::details(state),
        Pane::Activity => {
            let sel = state.activity.cursor.selected;
            if let Some(e) = state.activity.entries.get(sel) {
                let text = e.text.clone();
                notice(state, text);
            }
        }
    }
}

/// Tells the poller which MRs and pipelines are on screen, when that changed.
fn sync_visible(state: &mut AppState, fx: &mut Vec<Effect>) {
    let l = &state.layout;
    let mut mrs: Vec<u64> = if l.area_of(Pane::Mrs).is_some() {
        let h = l.list_rows(Pane::Mrs);
        state.mrs.rows[state.mrs.cursor.visible(state.mrs.rows.len(), h)].to_vec()
    } else {
        Vec::new()
    };
    let mut pipelines = if l.area_of(Pane::Pipelines).is_some() {
        state
            .pipelines
            .visible_pipelines(l.list_rows(Pane::Pipelines))
    } else {
        state.pipelines.expanded.iter().copied().collect()
    };
    // The inbox lists every current failure: their jobs are wanted as if on screen.
    if let (View::Inbox(_), Some(s)) = (&state.view, &state.snapshot) {
        pipelines.extend(super::inbox::watched_pipelines(s));
    }
    if let (View::Detail { iid, .. }, Some(s)) = (&state.view, &state.snapshot) {
        mrs.push(*iid);
        if let Some(p) = s.mr(*iid).and_then(|mr| s.pipeline_for_mr(mr)) {
            pipelines.push(p.id);
        }
    }
    mrs.sort_unstable();
    mrs.dedup();
    pipelines.sort_unstable();
    pipelines.dedup();
    if state.snapshot.is_none() {
        return;
    }
    let now = (mrs, pipelines);
    if state.sent_visible.as_ref() != Some(&now) {
        state.sent_visible = Some(now.clone());
        fx.push(Effect::SetVisible {
            mrs: now.0,
            pipelines: now.1,
        });
    }
}
