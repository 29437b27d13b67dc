//! Status bar: the input prompt, a notice, or key hints generated from the active keymap
//! (whole hints drop when space runs out; the help key always stays).

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};

use crate::app::keymap::Action;
use crate::app::layout::Pane;
use crate::app::state::{AppState, Overlay, View};
use crate::app::text;

use super::filter;
use super::theme::Theme;

/// The actions worth a hint in the current view, most useful first.
pub fn hint_actions(state: &AppState) -> Vec<Action> {
    use Action::*;
    let mut v = match (&state.view, state.focus) {
        (View::Log(_), _) => vec![
            Back,
            Diagnose,
            LogToggleSection,
            LogSearch,
            LogNextMatch,
            LogFirstError,
            LogFollow,
            LogWrap,
            LogExpandAll,
            LogCollapseAll,
            Top,
            Bottom,
        ],
        (View::Detail { .. }, _) => vec![Back, DetailPipeline, Down, Up],
        (View::Diagnosis(_), _) => vec![Open, Down, Up, Back, PaneQueue],
        (View::Inbox(_), _) => vec![Open, Down, Up, Back, Refresh],
        (View::Overview(_), _) => vec![Open, Down, Up, Back, Palette, Refresh],
        (View::Main, Pane::Mrs) => vec![
            Open,
            Filter,
            SortNext,
            NextPane,
            Plan,
            Refresh,
            Quit,
            Palette,
            SortReverse,
        ],
        (View::Main, Pane::Pipelines) => vec![
            Open, Diagnose, Expand, Collapse, Filter, NextPane, Plan, Refresh, Quit, Palette,
        ],
        (View::Main, Pane::Queue) => vec![
            Approve,
            Reject,
            Open,
            EditCommand,
            Mark,
            BulkApprove,
            Plan,
            NextPane,
            Quit,
            Palette,
        ],
        (View::Main, Pane::Activity) => vec![Open, NextPane, Refresh, Quit, Palette],
    };
    if !v.contains(&Quit) {
        v.push(Quit);
    }
    v
}

pub fn render(state: &AppState, theme: &Theme, area: Rect, buf: &mut Buffer) -> Option<Position> {
    if area.height == 0 {
        return None;
    }
    if let Overlay::Input { purpose, input, .. } = &state.overlay {
        return filter::render(*purpose, input, theme, area, buf);
    }
    let notice = state
        .notice
        .as_ref()
        .map(|n| (n.text.clone(), n.error))
        .or_else(|| {
            state
                .log_view()
                .and_then(|v| v.notice.clone())
                .map(|t| (t, false))
        });
    if let Some((msg, error)) = notice {
        let style = if error { theme.error() } else { theme.warn() };
        let line = Line::from(Span::styled(
            format!(" {}", text::sanitize_line(&msg)),
            style,
        ));
        buf.set_line(area.x, area.y, &line, area.width);
        return None;
    }
    let help = state
        .keymap
        .first_key(Action::Help)
        .map(|k| (k, Action::Help.hint()));
    let help_w = help.as_ref().map_or(0, |(k, h)| k.len() + h.len() + 2);
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for a in hint_actions(state) {
        let Some(k) = state.keymap.first_key(a) else {
            continue;
        };
        let w = k.len() + 1 + a.hint().len() + 2;
        if used + w + help_w > area.width as usize {
            break;
        }
        spans.push(Span::styled(k, theme.key()));
        spans.push(Span::styled(format!(" {}  ", a.hint()), theme.dim()));
        used += w;
    }
    if let Some((k, h)) = help {
        spans.push(Span::styled(k, theme.key()));
        spans.push(Span::styled(format!(" {h}"), theme.dim()));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
    None
}
