//! The diagnosis panel: category, summary, root cause, evidence (selectable; Enter opens the log
//! at that line), files and tests, fix, confidence, and the commands sent to the queue.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::diagnosis::DiagView;
use crate::app::state::AppState;
use crate::app::text;

use super::theme::Theme;
use super::widgets::{centered_lines, pane_block};

pub fn render(state: &AppState, v: &DiagView, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let ascii = state.settings.ascii;
    let title = Line::from(vec![
        Span::styled(
            format!(
                " diagnosis: {} ",
                text::truncate(&text::sanitize_line(&v.title), 60, ascii)
            ),
            theme.title(true),
        ),
        Span::styled("Enter jump to evidence  Esc back ", theme.dim()),
    ]);
    let inner = pane_block(buf, area, title, true, theme);
    if inner.height == 0 {
        return;
    }
    let d = match &v.result {
        None => {
            centered_lines(
                buf,
                inner,
                &[Line::styled(
                    "diagnosing… (reading the job log)",
                    theme.dim(),
                )],
            );
            return;
        }
        Some(Err(e)) => {
            centered_lines(
                buf,
                inner,
                &[Line::styled(
                    format!("diagnosis failed: {}", text::sanitize_line(e)),
                    theme.error(),
                )],
            );
            return;
        }
        Some(Ok(d)) => d,
    };
    let width = inner.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let mut selected_row = 0;
    let label = |s: &'static str| Span::styled(format!("{s:<12}"), theme.bold());
    let wrapped = |lines: &mut Vec<Line>, head: &'static str, body: &str, style: Style| {
        let body = text::sanitize_line(body);
        for (i, part) in text::wrap(&body, width.saturating_sub(12).max(10))
            .into_iter()
            .enumerate()
        {
            let h = if i == 0 {
                label(head)
            } else {
                Span::raw(" ".repeat(12))
            };
            lines.push(Line::from(vec![h, Span::styled(part, style)]));
        }
    };
    lines.push(Line::from(vec![
        label("Category"),
        Span::styled(
            d.category.label().to_string(),
            theme.accent().patch(theme.bold()),
        ),
        Span::styled(
            format!(
                "   confidence {:.0}%{}   by {}",
                d.confidence * 100.0,
                if d.infra_or_flaky {
                    "   infrastructure/flaky"
                } else {
                    ""
                },
                text::sanitize_line(&v.engine)
            ),
            theme.dim(),
        ),
    ]));
    wrapped(&mut lines, "Summary", &d.summary, Style::new());
    wrapped(&mut lines, "Root cause", &d.root_cause, Style::new());
    if let Some(w) = d.secrets_warning() {
        wrapped(&mut lines, "SECRETS", &w, theme.error());
    }
    if d.evidence.is_empty() {
        lines.push(Line::from(vec![
            label("Evidence"),
            Span::styled("none quoted", theme.dim()),
        ]));
    }
    for (i, e) in d.evidence.iter().enumerate() {
        let head = if i == 0 {
            label("Evidence")
        } else {
            Span::raw(" ".repeat(12))
        };
        let num = format!("{:>6}| ", e.line);
        let room = width.saturating_sub(12 + num.len());
        let quote = text::truncate(&text::sanitize_line(&e.text), room, ascii).into_owned();
        let style = if i == v.selected {
            selected_row = lines.len();
            theme.selected()
        } else {
            Style::new()
        };
        lines.push(Line::from(vec![
            head,
            Span::styled(num, theme.dim().patch(style)),
            Span::styled(quote, style),
        ]));
    }
    if !d.files.is_empty() {
        wrapped(&mut lines, "Files", &d.files.join(", "), theme.accent());
    }
    if !d.tests.is_empty() {
        wrapped(&mut lines, "Tests", &d.tests.join(", "), theme.accent());
    }
    wrapped(&mut lines, "Fix", &d.fix, theme.ok());
    if d.commands.is_empty() {
        lines.push(Line::from(vec![
            label("Proposed"),
            Span::styled(
                "nothing (a retry is proposed only for infrastructure/flaky causes)",
                theme.dim(),
            ),
        ]));
    } else {
        for (i, c) in d.commands.iter().enumerate() {
            let head = if i == 0 {
                label("Proposed")
            } else {
                Span::raw(" ".repeat(12))
            };
            lines.push(Line::from(vec![
                head,
                Span::styled(
                    format!("{} {}", c.kind().as_str(), c.target()),
                    theme.warn(),
                ),
                Span::styled("  → queue (approve there)", theme.dim()),
            ]));
        }
    }
    let h = inner.height as usize;
    let skip = (selected_row + 1).saturating_sub(h);
    for (y, l) in (inner.y..inner.y + inner.height).zip(lines.iter().skip(skip)) {
        buf.set_line(inner.x + 1, y, l, inner.width.saturating_sub(2));
    }
}

/// The last plan's summary, on the row the layout keeps above the queue for it.
pub fn plan_summary(state: &AppState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(summary) = &state.plan.summary else {
        return;
    };
    let line = Line::from(vec![
        Span::styled(" plan: ", theme.bold()),
        Span::styled(
            text::truncate(
                summary,
                area.width.saturating_sub(8) as usize,
                state.settings.ascii,
            )
            .into_owned(),
            theme.accent(),
        ),
    ]);
    buf.set_line(area.x, area.y, &line, area.width);
}
