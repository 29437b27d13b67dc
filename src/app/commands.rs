//! The app's side of the command queue (`AppState::commands`): proposals, the operator's
//! decisions, executions. Every transition ends in `settle`, which starts approved items (an
//! `Effect::Execute` each), hands the audit records to the runtime (`Effect::Audit`, written
//! before the next frame) and rebuilds the pane's rows.

use crate::command::executor::ExecReport;
use crate::command::model::Target;
use crate::command::operator::{self, Selection};
use crate::command::queue::{Approval, Edit, QueueError};
use crate::command::{Command, Source, Status};

use super::activity::ActivityKind;
use super::input::LineInput;
use super::key::{Key, KeyCode};
use super::layout::Pane;
use super::msg::{Effect, Shared};
use super::pipelines::PipeRow;
use super::queue;
use super::state::{AppState, InputPurpose, Overlay};

fn notice(state: &mut AppState, text: impl Into<String>, error: bool) {
    state.notice = Some(super::state::Notice {
        text: text.into(),
        error,
    });
}

/// After any change to the queue: run what is approved, audit, refresh the pane.
pub(super) fn settle(state: &mut AppState, fx: &mut Vec<Effect>) {
    let mut runs = Vec::new();
    if let Some(snapshot) = state.snapshot.clone() {
        for id in state.commands.startable() {
            match state.commands.start(id, state.now) {
                Ok(ticket) => {
                    let what = format!("{} {}", ticket.command.kind(), ticket.command.target());
                    state.activity.push(
                        state.now,
                        ActivityKind::Execution,
                        format!("executing {what}"),
                    );
                    runs.push(Effect::Execute {
                        ticket: Box::new(ticket),
                        snapshot: Shared(snapshot.clone()),
                    });
                }
                Err(e) => state
                    .activity
                    .push(state.now, ActivityKind::Error, e.to_string()),
            }
        }
    }
    // The decision is on disk before the execution can write its own record.
    let records = state.commands.drain_records();
    if !records.is_empty() {
        fx.push(Effect::Audit(records));
    }
    fx.extend(runs);
    // The first item brings the preview box (and the last one takes it away).
    super::update::relayout_pub(state);
    let h = state.layout.list_rows(Pane::Queue);
    let mut rows = queue::rows(&state.commands);
    honest_reasons(state, &mut rows);
    state.queue.replace(rows, h);
    state.dirty = true;
}

/// An invalid item whose target is still being looked up says so, and one GitLab does not have
/// carries GitLab's answer, instead of the validator's "not found in the project" (which only
/// means "not in the loaded data").
fn honest_reasons(state: &AppState, rows: &mut [queue::QueueRow]) {
    for row in rows {
        if row.status != crate::command::Status::Invalid {
            continue;
        }
        let Some(target) = state.commands.get(row.id).map(|i| i.command.target()) else {
            continue;
        };
        if state.looking_up.contains(&target) {
            row.reason = Some(format!("looking up {target} in GitLab…"));
        } else if let Some(why) = state.not_in_gitlab.get(&target) {
            row.reason = Some(why.clone());
        }
    }
}

/// Commands from the planner, rules or the palette.
pub(super) fn propose(
    state: &mut AppState,
    commands: Vec<Command>,
    source: Source,
    fx: &mut Vec<Effect>,
) {
    let Some(snap) = state.snapshot.clone() else {
        state.activity.push(
            state.now,
            ActivityKind::Error,
            format!(
                "{} proposal(s) from {} dropped: no snapshot of the project yet",
                commands.len(),
                source.as_str()
            ),
        );
        return;
    };
    let mut lookups = Vec::new();
    for cmd in commands {
        let target = cmd.target();
        let what = format!("{} {target}", cmd.kind());
        let p = state.commands.propose(cmd, source, &snap, state.now);
        let id = p.id();
        // A target the snapshot does not hold is not "not found" until GitLab says so.
        let unknown = !holds(&snap, target) && !state.not_in_gitlab.contains_key(&target);
        if unknown {
            lookups.push(target);
        }
        let text = match p {
            crate::command::queue::Proposed::Duplicate(_) => {
                format!("{what} from {} is already queued as #{id}", source.as_str())
            }
            crate::command::queue::Proposed::New(..) if unknown => {
                format!(
                    "#{id} {what} from {}: looking up {target} in GitLab",
                    source.as_str()
                )
            }
            crate::command::queue::Proposed::New(_, status) => {
                let why = state
                    .commands
                    .get(id)
                    .and_then(|i| i.reason.clone())
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                format!("#{id} {what} from {}: {status}{why}", source.as_str())
            }
        };
        state.activity.push(state.now, ActivityKind::Proposal, text);
        select(state, id);
    }
    look_up(state, lookups, fx);
    // Reviewers are validated against the members: load them when the snapshot has none (the
    // next snapshot revalidates the proposal).
    let wants_members =
        state.commands.items().iter().any(|i| {
            i.status == Status::Invalid && i.kind() == crate::command::Kind::AssignReviewers
        });
    if wants_members && snap.members.is_empty() && !fx.contains(&Effect::FetchMembers) {
        fx.push(Effect::FetchMembers);
    }
    settle(state, fx);
}

/// Whether the snapshot holds what a command acts on.
fn holds(snap: &crate::gitlab::ProjectSnapshot, target: Target) -> bool {
    match target {
        Target::Project => true,
        Target::Mr(iid) => snap.mrs.contains_key(&iid),
        Target::Job(id) => snap.job(id).is_some(),
        Target::Pipeline(id) => snap.pipelines.contains_key(&id) && snap.jobs.contains_key(&id),
    }
}

/// Asks the driver to fetch targets the snapshot does not hold (each once at a time).
pub(super) fn look_up(state: &mut AppState, targets: Vec<Target>, fx: &mut Vec<Effect>) {
    let new: Vec<Target> = targets
        .into_iter()
        .filter(|t| *t != Target::Project && state.looking_up.insert(*t))
        .collect();
    if !new.is_empty() {
        fx.push(Effect::Lookup(new));
    }
}

fn select(state: &mut AppState, id: u64) {
    super::update::relayout_pub(state);
    let h = state.layout.list_rows(Pane::Queue);
    state.queue.replace(queue::rows(&state.commands), h);
    if let Some(pos) = state.queue.items.iter().position(|r| r.id == id) {
        state.queue.cursor.selected = pos;
        state.queue.cursor.clamp(state.queue.items.len(), h);
    }
}

pub(super) fn executed(state: &mut AppState, report: ExecReport, fx: &mut Vec<Effect>) {
    let kind = match report.finish {
        crate::command::queue::Finish::Done(_) => ActivityKind::Execution,
        _ => ActivityKind::Error,
    };
    state.activity.push(state.now, kind, report.line());
    if let Some(e) = &report.audit_error {
        notice(state, format!("AUDIT LOG NOT WRITTEN: {e}"), true);
    }
    if let Err(e) = state.commands.finish(report.item, report.finish, state.now) {
        state
            .activity
            .push(state.now, ActivityKind::Error, e.to_string());
    }
    settle(state, fx);
    // Show GitLab's new state (the retried job, the merged MR) without waiting for a poll.
    fx.push(Effect::Refresh);
}

/// A new snapshot: items whose target moved on become stale or invalid.
pub(super) fn revalidate(state: &mut AppState, fx: &mut Vec<Effect>) {
    if let Some(snap) = state.snapshot.clone() {
        state.commands.revalidate(&snap, state.now);
        settle(state, fx);
    }
}

fn selected_id(state: &mut AppState) -> Option<u64> {
    let id = state.queue.selected().map(|r| r.id);
    if id.is_none() {
        notice(state, "no command selected", false);
    }
    id
}

fn decision(state: &mut AppState, text: String) {
    state.activity.push(state.now, ActivityKind::Decision, text);
}

fn label(state: &AppState, id: u64) -> String {
    state
        .commands
        .get(id)
        .map(|i| format!("#{id} {} {}", i.kind(), i.target_label))
        .unwrap_or_else(|| format!("#{id}"))
}

fn refused(state: &mut AppState, e: QueueError) {
    let text = e.to_string();
    state
        .activity
        .push(state.now, ActivityKind::Decision, text.clone());
    notice(state, text, true);
}

pub(super) fn approve_selected(state: &mut AppState, fx: &mut Vec<Effect>) {
    if let Some(id) = selected_id(state) {
        approve(state, id, fx);
    }
}

fn approve(state: &mut AppState, id: u64, fx: &mut Vec<Effect>) {
    let what = label(state, id);
    match state.commands.approve(id, state.now) {
        Ok(Approval::Approved) => decision(state, format!("approved {what}")),
        Ok(Approval::Acknowledged) => decision(state, format!("acknowledged {what}")),
        Ok(Approval::NeedsConfirmation { phrase }) => {
            let target = state
                .commands
                .get(id)
                .map(|i| i.target_label.clone())
                .unwrap_or_default();
            state.overlay = Overlay::Confirm {
                id,
                phrase,
                target,
                input: LineInput::default(),
            };
        }
        Err(e) => refused(state, e),
    }
    settle(state, fx);
}

/// Enter on the confirmation dialog: the typed text must be the phrase; anything else is No.
pub(super) fn confirm(state: &mut AppState, id: u64, typed: &str, fx: &mut Vec<Effect>) {
    let what = label(state, id);
    if typed.trim().is_empty() {
        return decline(state, id, fx);
    }
    match state.commands.confirm(id, typed, state.now) {
        Ok(_) => decision(state, format!("approved {what} (confirmed)")),
        Err(e) => refused(state, e),
    }
    settle(state, fx);
}

pub(super) fn decline(state: &mut AppState, id: u64, fx: &mut Vec<Effect>) {
    let what = label(state, id);
    match state.commands.decline_confirmation(id, state.now) {
        Ok(()) => {
            decision(state, format!("not approved {what}: confirmation declined"));
            notice(state, format!("not approved: {what}"), false);
        }
        Err(e) => refused(state, e),
    }
    settle(state, fx);
}

/// `x`: asks for an optional reason first.
pub(super) fn reject_prompt(state: &mut AppState) {
    let Some(id) = selected_id(state) else {
        return;
    };
    match state.commands.get(id).map(|i| i.status) {
        Some(Status::Proposed | Status::Approved) => {
            state.overlay = Overlay::Input {
                purpose: InputPurpose::Reject(id),
                input: LineInput::default(),
                before: String::new(),
            }
        }
        Some(s) => notice(state, format!("{} is already {s}", label(state, id)), false),
        None => {}
    }
}

pub(super) fn reject(state: &mut AppState, id: u64, reason: &str, fx: &mut Vec<Effect>) {
    let what = label(state, id);
    let reason = Some(reason.trim().to_string()).filter(|r| !r.is_empty());
    match state.commands.reject(id, reason.clone(), state.now) {
        Ok(()) => decision(
            state,
            match reason {
                Some(r) => format!("rejected {what}: {r}"),
                None => format!("rejected {what}"),
            },
        ),
        Err(e) => refused(state, e),
    }
    settle(state, fx);
}

pub(super) fn toggle_mark(state: &mut AppState, fx: &mut Vec<Effect>) {
    if let Some(id) = selected_id(state) {
        if let Err(e) = state.commands.toggle_mark(id) {
            notice(state, e.to_string(), true);
        }
        settle(state, fx);
        let h = state.layout.list_rows(Pane::Queue);
        let len = state.queue.items.len();
        state.queue.cursor.move_by(1, len, h);
    }
}

/// The bulk key: lists every marked target and asks y/N.
pub(super) fn bulk_prompt(state: &mut AppState) {
    let preview = state.commands.bulk_preview();
    if preview.approve.is_empty() && preview.needs_confirmation.is_empty() {
        let why = if preview.skipped.is_empty() {
            "nothing marked: space marks commands for bulk approval".to_string()
        } else {
            format!(
                "none of the {} marked commands can be approved",
                preview.skipped.len()
            )
        };
        notice(state, why, false);
        return;
    }
    if preview.approve.is_empty() {
        // Only high risk marked: bulk approval has nothing to offer ("approve these 0?").
        notice(
            state,
            format!(
                "the {} marked command(s) are high risk: approve each with its own confirmation",
                preview.needs_confirmation.len()
            ),
            false,
        );
        return;
    }
    state.overlay = Overlay::Bulk { preview };
}

/// `y` on the bulk dialog. High-risk items stay proposed and marked: each needs its own
/// confirmation.
pub(super) fn bulk_approve(state: &mut AppState, fx: &mut Vec<Effect>) {
    let results = state.commands.approve_marked(state.now);
    for (id, r) in results {
        let what = label(state, id);
        match r {
            Ok(_) => decision(state, format!("approved {what} (bulk)")),
            Err(e) => decision(state, e.to_string()),
        }
    }
    let left = state.commands.bulk_preview().needs_confirmation.len();
    if left > 0 {
        notice(
            state,
            format!(
                "{left} high-risk command(s) still marked: approve each with its own confirmation"
            ),
            false,
        );
    }
    settle(state, fx);
}

pub(super) fn details(state: &mut AppState) {
    if let Some(id) = selected_id(state) {
        state.overlay = Overlay::Details { id, scroll: 0 };
    }
}

/// The lines of the details dialog: what the queue knows, then `request::details`.
pub fn detail_lines(state: &AppState, id: u64) -> Vec<(String, String)> {
    let Some(item) = state.commands.get(id) else {
        return vec![("".into(), format!("#{id} is no longer in the queue"))];
    };
    let mut out = vec![
        (
            "command".to_string(),
            format!("#{id} {} {}", item.kind(), item.target_label),
        ),
        (
            "status".to_string(),
            match &item.reason {
                Some(r) => format!("{}: {r}", item.status),
                None => item.status.to_string(),
            },
        ),
        ("risk".to_string(), item.risk.to_string()),
        ("source".to_string(), item.source.as_str().to_string()),
    ];
    if let Some(by) = &item.approved_by {
        out.push(("approved by".into(), by.clone()));
    }
    if item.edited() {
        out.push(("edited".into(), "yes (by the operator)".into()));
    }
    match &state.snapshot {
        Some(snap) => out.extend(
            crate::command::request::details(&item.command, snap)
                .into_iter()
                .map(|(l, t)| (l.to_string(), t)),
        ),
        None => out.push(("sends".into(), "unknown until the project is loaded".into())),
    }
    out
}

pub(super) fn edit_open(state: &mut AppState) {
    let Some(id) = selected_id(state) else {
        return;
    };
    let Some(item) = state.commands.get(id) else {
        return;
    };
    match Edit::initial_text(&item.command) {
        Some(text) => {
            let mut editor =
                ratatui_textarea::TextArea::new(text.lines().map(str::to_string).collect());
            // The text reads from its start, wrapped at words: nothing cut mid-word.
            editor.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
            editor.move_cursor(ratatui_textarea::CursorMove::Top);
            editor.move_cursor(ratatui_textarea::CursorMove::Head);
            state.overlay = Overlay::Edit {
                id,
                editor: Box::new(editor),
                error: None,
            };
        }
        None => notice(
            state,
            format!(
                "{} has nothing to edit (comment bodies, labels and reviewers are editable)",
                item.kind()
            ),
            false,
        ),
    }
}

/// Save in the editor: parse, apply through the queue (which revalidates), or keep the editor
/// open with the error.
pub(super) fn edit_save(
    state: &mut AppState,
    id: u64,
    text: String,
    fx: &mut Vec<Effect>,
) -> Result<(), String> {
    let Some(item) = state.commands.get(id) else {
        return Ok(());
    };
    let Some(snap) = state.snapshot.clone() else {
        return Err("no snapshot of the project yet".into());
    };
    let edit = Edit::from_text(&item.command, &text)?;
    let what = label(state, id);
    match state.commands.edit(id, &edit, &snap, state.now) {
        Ok(status) => {
            decision(state, format!("edited {what} -> {status}"));
            settle(state, fx);
            Ok(())
        }
        Err(e) => {
            settle(state, fx);
            Err(e.to_string())
        }
    }
}

/// Keys for the text editor: Esc cancels, Ctrl-S saves, the rest edits.
pub(super) fn editor_input(key: Key) -> ratatui_textarea::Input {
    use ratatui_textarea::Key as T;
    let k = match key.code {
        KeyCode::Char(c) => T::Char(c),
        KeyCode::Enter => T::Enter,
        KeyCode::Backspace => T::Backspace,
        KeyCode::Delete => T::Delete,
        KeyCode::Left => T::Left,
        KeyCode::Right => T::Right,
        KeyCode::Up => T::Up,
        KeyCode::Down => T::Down,
        KeyCode::Home => T::Home,
        KeyCode::End => T::End,
        KeyCode::PageUp => T::PageUp,
        KeyCode::PageDown => T::PageDown,
        KeyCode::Tab => T::Tab,
        KeyCode::Esc => T::Esc,
        _ => T::Null,
    };
    ratatui_textarea::Input {
        key: k,
        ctrl: key.mods.ctrl,
        alt: key.mods.alt,
        shift: key.mods.shift,
    }
}

/// `:retry`, `:merge`, … on the selected MR, pipeline or job.
pub(super) fn from_palette(state: &mut AppState, line: &str, fx: &mut Vec<Effect>) {
    let Some(snap) = state.snapshot.clone() else {
        notice(state, "no snapshot of the project yet", true);
        return;
    };
    let sel = selection(state);
    match operator::from_palette(line, sel, &snap) {
        Ok(cmd) => {
            propose(state, vec![cmd], Source::Operator, fx);
            match state.view {
                super::state::View::Main => {
                    state.focus = Pane::Queue;
                    super::update::relayout_pub(state);
                }
                // Over a log or MR view: stay there, say where the proposal went.
                _ => {
                    let key = state
                        .keymap
                        .first_key(super::keymap::Action::PaneQueue)
                        .unwrap_or_else(|| "pane_queue".into());
                    notice(
                        state,
                        format!("proposed; {key} shows the queue to approve it"),
                        false,
                    );
                }
            }
        }
        Err(e) => notice(state, e, true),
    }
}

fn selection(state: &AppState) -> Selection {
    match &state.view {
        super::state::View::Log(v) => return Selection::Job(v.job_id),
        super::state::View::Detail { iid, .. } => return Selection::Mr(*iid),
        // The palette on the diagnosis panel acts on the diagnosed job (`:retry`).
        super::state::View::Diagnosis(d) => return Selection::Job(d.job_id),
        super::state::View::Inbox(_) | super::state::View::Overview(_) => return Selection::None,
        super::state::View::Main => {}
    }
    match state.focus {
        Pane::Mrs => state
            .mrs
            .selected_iid()
            .map_or(Selection::None, Selection::Mr),
        Pane::Pipelines => match state.pipelines.selected() {
            Some(PipeRow::Job { job, .. }) => Selection::Job(*job),
            Some(r) => Selection::Pipeline(r.pipeline_id()),
            None => Selection::None,
        },
        _ => Selection::None,
    }
}
