//! MR detail view: description (sanitized plain text), pipeline, approvals, reviewers, changed
//! files with +/- counts and recent notes; lines come from `app::detail`.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::state::AppState;

use super::theme::Theme;
use super::widgets::{centered_lines, pane_block};

pub fn render(
    state: &AppState,
    iid: u64,
    scroll: usize,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let title = Line::from(vec![
        Span::styled(format!(" !{iid} merge request "), theme.title(true)),
        Span::styled("Esc back ", theme.dim()),
    ]);
    let inner = pane_block(buf, area, title, true, theme);
    if inner.height == 0 {
        return;
    }
    let lines = state.detail_lines(iid);
    if lines.is_empty() {
        centered_lines(buf, inner, &[Line::styled("loading…", theme.dim())]);
        return;
    }
    let max = lines.len().saturating_sub(inner.height as usize);
    for (y, l) in (inner.y..inner.y + inner.height).zip(lines.iter().skip(scroll.min(max))) {
        let spans: Vec<Span> = l
            .iter()
            .map(|(t, tone)| Span::styled(t.clone(), theme.tone(*tone)))
            .collect();
        buf.set_line(
            inner.x + 1,
            y,
            &Line::from(spans),
            inner.width.saturating_sub(2),
        );
    }
}
