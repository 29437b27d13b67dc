//! Proposed commands: kind, target, risk, status, rationale. Empty until the planner or the
//! operator proposes something, and it says so.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::keymap::Action;
use crate::app::layout::Pane;
use crate::app::state::AppState;
use crate::app::symbols;
use crate::app::text;
use crate::command::{Risk, Status as QueueStatus};

use super::theme::Theme;
use super::widgets::{Col, columns, pane_block, put_row, row_line, table_header};

const COLS: [Col; 6] = [
    Col {
        min: 10,
        want: 15,
        priority: 9,
        flex: false,
    }, // kind
    Col {
        min: 8,
        want: 20,
        priority: 8,
        flex: false,
    }, // target with its title
    Col {
        min: 6,
        want: 6,
        priority: 9,
        flex: false,
    }, // risk
    Col {
        min: 4,
        want: 4,
        priority: 4,
        flex: false,
    }, // confidence
    Col {
        min: 8,
        want: 9,
        priority: 7,
        flex: false,
    }, // status
    Col {
        min: 10,
        want: 30,
        priority: 3,
        flex: true,
    }, // rationale
];

pub fn render(state: &AppState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let focused = state.focus == Pane::Queue;
    let q = &state.queue;
    let title = Line::from(vec![
        Span::styled(
            if q.marked() > 0 {
                format!(
                    " 3 Proposed commands ({} waiting, {} marked) ",
                    q.pending(),
                    q.marked()
                )
            } else {
                format!(" 3 Proposed commands ({} waiting) ", q.pending())
            },
            theme.title(focused),
        ),
        Span::styled(format!("planner: {} ", state.planner.provider), theme.dim()),
    ]);
    let inner = pane_block(buf, area, title, focused, theme);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    if q.items.is_empty() {
        let key = |a| state.keymap.first_key(a).unwrap_or_else(|| a_name(a));
        let lines = [
            Line::styled("No proposed commands.", theme.bold()),
            Line::styled(
                format!(
                    "Proposals from the planner ({}) appear here.",
                    state.planner.provider
                ),
                theme.dim(),
            ),
            Line::styled(
                "Or select a job or MR and type :retry, :merge ...",
                theme.dim(),
            ),
            Line::from(vec![
                Span::styled("Nothing runs without you: ", theme.dim()),
                Span::styled(key(Action::Approve), theme.key()),
                Span::styled(" approves, ", theme.dim()),
                Span::styled(key(Action::Reject), theme.key()),
                Span::styled(" rejects.", theme.dim()),
            ]),
        ];
        for (i, l) in lines.iter().enumerate() {
            if i as u16 >= inner.height {
                break;
            }
            buf.set_line(
                inner.x + 1,
                inner.y + i as u16,
                l,
                inner.width.saturating_sub(1),
            );
        }
        return;
    }
    let ascii = theme.ascii;
    let widths = columns((inner.width as usize).saturating_sub(1), &COLS);
    let list = table_header(
        buf,
        inner,
        " ",
        &[
            "Kind",
            "Target",
            "Risk",
            "Conf",
            "Status",
            "Rationale / reason",
        ],
        &widths,
        theme,
    );
    // The selected item's refusal / failure / result, in full, on the bottom border: the
    // column above is often too narrow for it.
    if let Some(r) = q.selected()
        && let Some(reason) = &r.reason
        && area.height > 2
    {
        let text = format!(
            " #{} {}: {} ",
            r.id,
            r.status.as_str(),
            text::sanitize_line(reason)
        );
        let style = match r.status {
            QueueStatus::Done => theme.ok(),
            QueueStatus::Failed | QueueStatus::Invalid => theme.error(),
            _ => theme.warn(),
        };
        buf.set_line(
            area.x + 2,
            area.y + area.height - 1,
            &Line::styled(text, style),
            area.width.saturating_sub(4),
        );
    }
    let g = symbols::glyphs(ascii);
    for (y, i) in (list.y..).zip(q.cursor.visible(q.items.len(), list.height as usize)) {
        let r = &q.items[i];
        let selected = i == q.cursor.selected;
        let status_style = match r.status {
            QueueStatus::Proposed => theme.warn(),
            QueueStatus::Approved | QueueStatus::Executing => theme.accent(),
            QueueStatus::Done => theme.ok(),
            QueueStatus::Failed | QueueStatus::Invalid => theme.error(),
            QueueStatus::Rejected | QueueStatus::Stale => theme.dim(),
        };
        let mark = if r.marked { "+" } else { "" };
        let edited = if r.edited { "*" } else { "" };
        let conf = r
            .confidence
            .map(|c| format!("{:.0}%", c * 100.0))
            .unwrap_or_else(|| "-".into());
        // Past the proposal, the reason (refusal, failure, result) matters more than the why.
        let why = match (&r.reason, r.status) {
            (Some(reason), _) => (reason.clone(), status_style),
            (None, _) => (r.rationale.clone(), theme.dim()),
        };
        let cells = vec![
            (
                format!("{mark}{}{edited}", text::sanitize_line(&r.kind)),
                theme.bold(),
            ),
            (text::sanitize_line(&r.title).into_owned(), Style::new()),
            (risk_label(r.risk).to_string(), theme.risk(r.risk)),
            (conf, theme.dim()),
            (r.status.as_str().to_string(), status_style),
            (text::sanitize_line(&why.0).into_owned(), why.1),
        ];
        let mut spans = vec![Span::styled(
            if selected { g.selected } else { " " },
            theme.accent(),
        )];
        spans.extend(row_line(cells, &widths, ascii).spans);
        put_row(
            buf,
            list,
            y,
            &Line::from(spans),
            (selected && focused).then(|| theme.selected()),
        );
    }
}

fn a_name(a: Action) -> String {
    a.name().to_string()
}

/// High risk is shouted: it needs the second confirmation.
fn risk_label(r: Risk) -> &'static str {
    match r {
        Risk::High => "HIGH",
        other => other.as_str(),
    }
}
