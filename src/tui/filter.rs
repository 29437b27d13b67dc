//! The one-line prompt shown in the status bar while typing a filter, a palette command or a
//! log search; returns where the terminal cursor goes.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};

use crate::app::input::LineInput;
use crate::app::layout::Pane;
use crate::app::state::InputPurpose;
use crate::app::text;

use super::theme::Theme;

pub fn prompt(purpose: InputPurpose) -> &'static str {
    match purpose {
        InputPurpose::Palette => ":",
        InputPurpose::Filter(Pane::Pipelines) => "filter pipelines /",
        InputPurpose::Filter(_) => "filter MRs /",
        InputPurpose::LogSearch => "search /",
        InputPurpose::Reject(_) => "reject; reason (optional):",
    }
}

pub fn help(purpose: InputPurpose) -> &'static str {
    match purpose {
        InputPurpose::Palette => "  Enter runs, Esc closes",
        InputPurpose::Filter(_) => "  words, -not, @user, ~label, !iid; Enter keeps, Esc restores",
        InputPurpose::LogSearch => "  Enter searches; n/N next/previous",
        InputPurpose::Reject(_) => "  Enter rejects, Esc keeps it",
    }
}

pub fn render(
    purpose: InputPurpose,
    input: &LineInput,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
) -> Option<Position> {
    let p = prompt(purpose);
    let shown = text::sanitize_line(&input.text);
    let before: String = shown.chars().take(input.cursor).collect();
    let line = Line::from(vec![
        Span::styled(p, theme.key()),
        Span::raw(shown.to_string()),
        Span::styled(help(purpose), theme.dim()),
    ]);
    buf.set_line(area.x, area.y, &line, area.width);
    let x = area.x + (text::width(p) + text::width(&before)) as u16;
    (x < area.x + area.width).then_some(Position { x, y: area.y })
}
