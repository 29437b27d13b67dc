//! Activity feed: poll errors, pipeline transitions, proposals, decisions, executions, newest
//! first, each with its local time.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::layout::Pane;
use crate::app::state::AppState;
use crate::app::symbols;
use crate::app::text;

use super::theme::Theme;
use super::widgets::{centered_lines, fit, pane_block, put_row};

pub fn render(state: &AppState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let focused = state.focus == Pane::Activity;
    let a = &state.activity;
    let title = Line::from(Span::styled(
        format!(" 4 Activity ({}) ", a.len()),
        theme.title(focused),
    ));
    let inner = pane_block(buf, area, title, focused, theme);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    if a.is_empty() {
        centered_lines(buf, inner, &[Line::styled("no activity yet", theme.dim())]);
        return;
    }
    let g = symbols::glyphs(theme.ascii);
    let text_w = (inner.width as usize).saturating_sub(1 + 9 + 9);
    for (y, i) in (inner.y..).zip(a.cursor.visible(a.len(), inner.height as usize)) {
        let e = &a.entries[i];
        let selected = focused && i == a.cursor.selected;
        let time =
            e.at.to_zoned_datetime(state.tz.clone())
                .strftime("%H:%M:%S")
                .to_string();
        let line = Line::from(vec![
            Span::styled(if selected { g.selected } else { " " }, theme.accent()),
            Span::styled(format!("{time} "), theme.dim()),
            Span::styled(format!("{:<8} ", e.kind.label()), theme.activity(e.kind)),
            Span::raw(fit(&text::sanitize_line(&e.text), text_w, theme.ascii)),
        ]);
        put_row(buf, inner, y, &line, selected.then(|| theme.selected()));
    }
}
