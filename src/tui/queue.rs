//! Proposed commands: kind, target, risk, status, rationale. Empty until the planner or the
//! operator proposes something, and it says so.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::keymap::Action;
use crate::app::layout::Pane;
use crate::app::state::AppState;
use crate::app::symbols::{self, StatusClass};
use crate::app::text;
use crate::command::{Risk, Status as QueueStatus};

use super::theme::Theme;
use super::widgets::{Col, columns, pane_block, put_row, row_line, table_header};

// No confidence column: the preview under the queue shows it, and the rationale needs the room.
const COLS: [Col; 5] = [
    Col {
        min: 10,
        want: 15,
        priority: 9,
        flex: false,
    }, // kind
    Col {
        min: 8,
        want: 14,
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
        min: 8,
        want: 9,
        priority: 7,
        flex: false,
    }, // status
    Col {
        min: 12,
        want: 30,
        priority: 6,
        flex: true,
    }, // rationale: all the width left
];

pub fn render(state: &AppState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let focused = state.focus == Pane::Queue;
    let q = &state.queue;
    let title = Line::from(vec![
        Span::styled(
            {
                let mut counts = vec![format!("{} waiting", q.pending())];
                if q.marked() > 0 {
                    counts.push(format!("{} marked", q.marked()));
                }
                if !state.plan.rejected.is_empty() {
                    counts.push(format!("{} refused", state.plan.rejected.len()));
                }
                format!(" 3 Proposed commands ({}) ", counts.join(", "))
            },
            theme.title(focused),
        ),
        Span::styled(format!("planner: {} ", state.planner.provider), theme.dim()),
    ]);
    let inner = pane_block(buf, area, title, focused, theme);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    if q.items.is_empty() && state.plan.rejected.is_empty() {
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
    // The kind column is as wide as the longest kind listed (with its mark and edit flags),
    // so the rationale gets what a fixed width would waste.
    let mut cols = COLS;
    cols[0].want = q
        .items
        .iter()
        .map(|r| r.kind.chars().count() + 1)
        .max()
        .unwrap_or(0)
        .clamp(cols[0].min, 18);
    let widths = columns((inner.width as usize).saturating_sub(1), &cols);
    let list = table_header(
        buf,
        inner,
        " ",
        &["Kind", "Target", "Risk", "Status", "Rationale / reason"],
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
    let mut next_y = list.y;
    for (y, i) in (list.y..).zip(q.cursor.visible(q.items.len(), list.height as usize)) {
        next_y = y + 1;
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
    refused_rows(state, theme, list, next_y, buf);
}

/// The planner's refused items under the selectable ones, dimmed, as many as fit: they
/// cannot be approved, only read.
fn refused_rows(state: &AppState, theme: &Theme, list: Rect, from_y: u16, buf: &mut Buffer) {
    let cross = symbols::symbol(StatusClass::Failed, theme.ascii);
    for (y, r) in (from_y..list.y + list.height).zip(&state.plan.rejected) {
        let text = format!(
            "  {cross} {} {} refused: {}",
            text::sanitize_line(&r.kind),
            text::sanitize_line(&r.target),
            text::sanitize_line(&r.reason)
        );
        buf.set_line(list.x, y, &Line::styled(text, theme.dim()), list.width);
    }
}

/// The selected command in full under the queue: why, what it sends, and each requirement
/// checked against the data on screen now (✓/✗), or what became of it.
pub fn render_preview(state: &AppState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(row) = state.queue.selected() else {
        return;
    };
    let Some(item) = state.commands.items().iter().find(|i| i.id == row.id) else {
        return;
    };
    let title = Line::from(vec![Span::styled(
        format!(
            " #{} {} {} · from {} ",
            row.id,
            text::sanitize_line(&row.kind),
            text::sanitize_line(&row.title),
            row.source
        ),
        theme.title(false),
    )]);
    let inner = pane_block(buf, area, title, false, theme);
    if inner.height == 0 || inner.width < 8 {
        return;
    }
    let label = |s: &'static str| Span::styled(format!("{s:<6}"), theme.bold());
    let mut lines: Vec<Line> = Vec::new();
    let mut why = text::sanitize_line(&row.rationale).into_owned();
    if let Some(c) = row.confidence {
        why = format!("{why} ({:.0}% sure)", c * 100.0);
    }
    lines.push(Line::from(vec![label("why"), Span::raw(why)]));
    let sends = match state.snapshot.as_deref() {
        Some(snap) => match crate::command::request::requests(&item.command, snap) {
            Ok(r) if r.is_empty() => "nothing: a note calls no GitLab API".to_string(),
            Ok(r) => {
                let more = if r.len() > 1 {
                    format!(" (+{} more)", r.len() - 1)
                } else {
                    String::new()
                };
                format!("{}{more}", r[0])
            }
            Err(e) => format!("cannot form the request: {e}"),
        },
        None => "(no project data yet)".to_string(),
    };
    lines.push(Line::from(vec![
        label("sends"),
        Span::styled(text::sanitize_line(&sends).into_owned(), theme.accent()),
    ]));
    let mut now = vec![label("now")];
    match (&row.reason, row.status) {
        (Some(reason), s) if s != QueueStatus::Proposed || state.snapshot.is_none() => {
            now.push(Span::styled(
                format!("{}: {}", s.as_str(), text::sanitize_line(reason)),
                if s == QueueStatus::Done {
                    theme.ok()
                } else {
                    theme.warn()
                },
            ));
        }
        _ => match state.snapshot.as_deref() {
            Some(snap) => {
                let (ok, bad) = (
                    symbols::symbol(StatusClass::Success, theme.ascii),
                    symbols::symbol(StatusClass::Failed, theme.ascii),
                );
                for (i, (holds, what)) in
                    crate::command::request::requirements_now(&item.command, snap)
                        .iter()
                        .enumerate()
                {
                    if i > 0 {
                        now.push(Span::styled(" · ", theme.dim()));
                    }
                    let (g, style) = if *holds {
                        (ok, theme.ok())
                    } else {
                        (bad, theme.error())
                    };
                    now.push(Span::styled(
                        format!("{g} {}", text::sanitize_line(what)),
                        style,
                    ));
                }
            }
            None => now.push(Span::styled("(no project data yet)", theme.dim())),
        },
    }
    lines.push(Line::from(now));
    for (y, l) in (inner.y..inner.y + inner.height).zip(&lines) {
        buf.set_line(inner.x + 1, y, l, inner.width.saturating_sub(2));
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
