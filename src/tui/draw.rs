//! One frame: header, tabs, panes or a full-screen view, status bar, overlays. Pure with
//! respect to the state: it only reads `AppState` and writes a buffer.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};

use crate::app::layout::{MIN_H, MIN_W, Mode, Pane};
use crate::app::state::{AppState, InputPurpose, Overlay, View};

use super::theme::Theme;
use super::widgets::{centered_lines, rect};
use super::{
    activity, detail, diagnosis, dialogs, header, help, inbox, logview, mrs, overview, palette,
    pipelines, queue, statusbar,
};

/// Draws the whole screen into `buf` (whose area is the terminal). Returns where the
/// terminal cursor should be shown, if anywhere (text input).
pub fn draw(state: &AppState, theme: &Theme, buf: &mut Buffer) -> Option<Position> {
    let l = &state.layout;
    let area = buf.area;
    if l.mode == Mode::TooSmall {
        let lines = [
            Line::styled("Terminal too small", theme.bold()),
            Line::raw(format!(
                "{}x{} here; gitaiops needs {MIN_W}x{MIN_H}.",
                area.width, area.height
            )),
            Line::styled("Enlarge the window, or press q to quit.", theme.dim()),
        ];
        // The mode (READ-ONLY, DEMO, ...) stays visible even here.
        header::render(state, theme, Rect::new(area.x, area.y, area.width, 1), buf);
        let rest = Rect::new(
            area.x,
            area.y + 1,
            area.width,
            area.height.saturating_sub(1),
        );
        centered_lines(buf, rest, &lines);
        return None;
    }
    header::render(state, theme, rect(l.header), buf);
    if let Some(t) = l.tabs {
        tabs(state, theme, rect(t), buf);
    }
    match &state.view {
        View::Main => {
            for (pane, a) in &l.panes {
                let r = rect(*a);
                match pane {
                    Pane::Mrs => mrs::render(state, theme, r, buf),
                    Pane::Pipelines => pipelines::render(state, theme, r, buf),
                    Pane::Queue => queue::render(state, theme, r, buf),
                    Pane::Activity => activity::render(state, theme, r, buf),
                }
            }
            if let Some(b) = l.plan_banner {
                diagnosis::plan_summary(state, theme, rect(b), buf);
            }
            if let Some(p) = l.queue_preview {
                queue::render_preview(state, theme, rect(p), buf);
            }
        }
        View::Log(v) => logview::render(state, v, theme, rect(l.body), buf),
        View::Detail { iid, scroll } => {
            detail::render(state, *iid, *scroll, theme, rect(l.body), buf)
        }
        View::Diagnosis(v) => diagnosis::render(state, v, theme, rect(l.body), buf),
        View::Inbox(v) => inbox::render(state, v, theme, rect(l.body), buf),
        View::Overview(v) => overview::render(state, v, theme, rect(l.body), buf),
    }
    let cursor = statusbar::render(state, theme, rect(l.status), buf);
    match &state.overlay {
        Overlay::Help { scroll } => help::render(&state.keymap, *scroll, theme, rect(l.body), buf),
        Overlay::Input {
            purpose: InputPurpose::Palette,
            input,
            ..
        } => palette::render(&input.text, theme, rect(l.status), buf),
        Overlay::Details { id, scroll } => {
            dialogs::details(state, *id, *scroll, theme, rect(l.body), buf)
        }
        Overlay::Confirm {
            phrase,
            target,
            input,
            ..
        } => return dialogs::confirm(phrase, target, input, theme, rect(l.body), buf),
        Overlay::Bulk { preview } => dialogs::bulk(preview, theme, rect(l.body), buf),
        Overlay::QuitConfirm { waiting, marked } => {
            dialogs::quit_confirm(*waiting, *marked, theme, rect(l.body), buf)
        }
        Overlay::Edit { id, editor, error } => dialogs::editor(
            state,
            *id,
            editor,
            error.as_deref(),
            theme,
            rect(l.body),
            buf,
        ),
        _ => {}
    }
    cursor
}

/// Tab bar for layouts that cannot show every pane: number keys switch; the focused pane is
/// bracketed (not only highlighted) and panes on screen are bold.
fn tabs(state: &AppState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let mut spans = vec![Span::raw(" ")];
    for p in Pane::ALL {
        let label = format!("{} {}", p.number(), p.short());
        let on_screen = state.layout.area_of(p).is_some();
        let (text, style) = if p == state.focus {
            (format!("[{label}]"), theme.selected().patch(theme.bold()))
        } else if on_screen {
            (format!(" {label} "), theme.bold())
        } else {
            (format!(" {label} "), theme.dim())
        };
        spans.push(Span::styled(text, style));
        spans.push(Span::raw(" "));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}
