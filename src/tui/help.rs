//! `?` overlay: every binding of the active keymap by context, plus the palette commands.
//! Generated, never hand-written, so it cannot drift from what the keys do.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use crate::app::help::{self, HelpRow};
use crate::app::keymap::Keymap;

use super::theme::Theme;
use super::widgets::{fit, pane_block};

pub fn lines(keymap: &Keymap, theme: &Theme) -> Vec<Line<'static>> {
    help::rows(keymap)
        .into_iter()
        .map(|row| match row {
            HelpRow::Title(t) => Line::styled(t, theme.accent().patch(theme.bold())),
            HelpRow::Binding { keys, action } => Line::from(vec![
                Span::styled(format!("  {}", fit(&keys, 18, theme.ascii)), theme.key()),
                Span::raw(format!(" {action}")),
            ]),
            HelpRow::Command { usage, what } => Line::from(vec![
                Span::styled(format!("  {usage}"), theme.key()),
                Span::styled(format!("  {what}"), theme.dim()),
            ]),
            HelpRow::Hint(t) => Line::styled(t, theme.dim()),
            HelpRow::Blank => Line::raw(""),
        })
        .collect()
}

pub fn render(keymap: &Keymap, scroll: usize, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let w = area.width.saturating_sub(4).min(90);
    let h = area.height.saturating_sub(2);
    let popup = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    Clear.render(popup, buf);
    let title = Line::from(Span::styled(
        " Keys (active keymap) · ? or Esc closes ",
        theme.title(true),
    ));
    let inner = pane_block(buf, popup, title, true, theme);
    let all = lines(keymap, theme);
    let max = all.len().saturating_sub(inner.height as usize);
    for (y, l) in (inner.y..inner.y + inner.height).zip(all.iter().skip(scroll.min(max))) {
        buf.set_line(inner.x + 1, y, l, inner.width.saturating_sub(1));
    }
}
