//! `:` palette: the matching commands listed above the status bar while typing.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use crate::app::palette::suggestions;

use super::theme::Theme;
use super::widgets::pane_block;

/// Draws the suggestion box just above `status` (the status bar's row).
pub fn render(input: &str, theme: &Theme, status: Rect, buf: &mut Buffer) {
    let items = suggestions(input);
    if items.is_empty() || status.y < 3 {
        return;
    }
    let h = (items.len() as u16 + 2).min(status.y);
    let w = status.width.min(72);
    let area = Rect::new(status.x, status.y - h, w, h);
    Clear.render(area, buf);
    let inner = pane_block(
        buf,
        area,
        Line::from(Span::styled(" commands ", theme.title(true))),
        true,
        theme,
    );
    for (y, (name, arg, desc)) in (inner.y..inner.y + inner.height).zip(items) {
        let line = Line::from(vec![
            Span::styled(format!(" :{name}"), theme.key()),
            Span::raw(if arg.is_empty() {
                String::new()
            } else {
                format!(" {arg}")
            }),
            Span::styled(format!("  {desc}"), theme.dim()),
        ]);
        buf.set_line(inner.x, y, &line, inner.width);
    }
}
