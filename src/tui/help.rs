//! `?` overlay: every binding of the active keymap by context, plus the palette commands.
//! Generated, never hand-written, so it cannot drift from what the keys do.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use crate::app::keymap::{Context, Keymap};
use crate::app::palette::COMMANDS;

use super::theme::Theme;
use super::widgets::{fit, pane_block};

pub fn lines(keymap: &Keymap, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for ctx in Context::ALL {
        out.push(Line::styled(
            ctx.title().to_string(),
            theme.accent().patch(theme.bold()),
        ));
        for (action, keys) in keymap.context_bindings(ctx) {
            let keys = if keys.is_empty() {
                "(unbound)".to_string()
            } else {
                keys.iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push(Line::from(vec![
                Span::styled(format!("  {}", fit(&keys, 18, theme.ascii)), theme.key()),
                Span::raw(format!(" {}", action.description())),
            ]));
        }
        out.push(Line::raw(""));
    }
    out.push(Line::styled(
        "Commands (:)",
        theme.accent().patch(theme.bold()),
    ));
    for (name, arg, desc) in COMMANDS {
        let cmd = if arg.is_empty() {
            format!(":{name}")
        } else {
            format!(":{name} {arg}")
        };
        out.push(Line::from(vec![
            Span::styled(format!("  {cmd}"), theme.key()),
            Span::styled(format!("  {desc}"), theme.dim()),
        ]));
    }
    out.push(Line::raw(""));
    out.push(Line::styled(
        "Keys can be changed in the config file under [ui.keymap] (action = \"key\").",
        theme.dim(),
    ));
    out
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
