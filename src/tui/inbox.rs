//! The failure inbox (`F`): current failures grouped by cause, the group with the newest
//! failure first; each group lists its jobs (pipeline, ref, job). Enter diagnoses the selected
//! group's newest job.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::inbox::{InboxView, groups, proposals, unexplained};
use crate::app::state::AppState;
use crate::app::text;

use super::theme::Theme;
use super::widgets::{centered_lines, pane_block, put_row};

/// Jobs listed under a group; the rest are counted.
const JOBS_SHOWN: usize = 4;
/// Queue items listed under a group; the rest are counted.
const PROPOSALS_SHOWN: usize = 3;

pub fn render(state: &AppState, v: &InboxView, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let ascii = state.settings.ascii;
    let Some(snap) = state.snapshot.as_deref() else {
        let inner = pane_block(buf, area, Line::raw(" Failures "), true, theme);
        centered_lines(
            buf,
            inner,
            &[Line::styled("no data from GitLab yet", theme.dim())],
        );
        return;
    };
    let groups = groups(snap, &state.causes);
    let pending = unexplained(snap, &state.causes);
    let jobs: usize = groups.iter().map(|g| g.jobs.len()).sum();
    let mut title = vec![
        Span::styled(
            format!(
                " Failures: {} cause{}, {jobs} job{} ",
                groups.len(),
                if groups.len() == 1 { "" } else { "s" },
                if jobs == 1 { "" } else { "s" }
            ),
            theme.title(true),
        ),
        Span::styled("Enter diagnose  Esc back ", theme.dim()),
    ];
    if pending > 0 {
        title.push(Span::styled(
            format!("{pending} failed pipeline(s) not explained yet "),
            theme.warn(),
        ));
    }
    let inner = pane_block(buf, area, Line::from(title), true, theme);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    if groups.is_empty() {
        let msg = if pending > 0 {
            "the failed pipelines are being diagnosed (their jobs load with the next refresh)"
        } else {
            "no current failure: the newest pipeline of every branch and MR passed or runs"
        };
        centered_lines(buf, inner, &[Line::styled(msg, theme.dim())]);
        return;
    }
    let width = inner.width as usize;
    // Lines of every group, then a window that keeps the selected group's headline on screen.
    let mut lines: Vec<(Line, bool)> = Vec::new();
    let mut starts = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let selected = i == v.selected.min(groups.len() - 1);
        starts.push(lines.len());
        let marker = if selected {
            crate::app::symbols::glyphs(ascii).selected
        } else {
            " "
        };
        let style = if g.infra { theme.warn() } else { theme.error() };
        let mut head = vec![
            Span::styled(marker, theme.accent()),
            Span::styled(
                text::truncate(
                    &text::sanitize_line(&g.headline()),
                    width.saturating_sub(14),
                    ascii,
                )
                .into_owned(),
                style,
            ),
        ];
        if g.infra {
            head.push(Span::styled("  retry may fix it", theme.dim()));
        }
        lines.push((Line::from(head), selected));
        for j in g.jobs.iter().take(JOBS_SHOWN) {
            let row = format!(
                "    #{:<10} {:<12} {}",
                j.pipeline,
                text::truncate(&text::sanitize_line(&j.git_ref), 12, ascii),
                text::sanitize_line(&j.job_name)
            );
            lines.push((
                Line::styled(text::truncate(&row, width, ascii).into_owned(), theme.dim()),
                false,
            ));
        }
        if g.jobs.len() > JOBS_SHOWN {
            lines.push((
                Line::styled(
                    format!("    and {} more", g.jobs.len() - JOBS_SHOWN),
                    theme.dim(),
                ),
                false,
            ));
        }
        // What the planner proposed for these failures; decided in the queue, where the exact
        // requests are shown.
        let items = proposals(g, &state.commands);
        for i in items.iter().take(PROPOSALS_SHOWN) {
            let row = format!(
                "    proposed: {} {}  [{}]",
                i.command.kind().as_str(),
                text::sanitize_line(&i.target_label),
                i.status.as_str()
            );
            lines.push((
                Line::styled(
                    text::truncate(&row, width, ascii).into_owned(),
                    theme.accent(),
                ),
                false,
            ));
        }
        if items.len() > PROPOSALS_SHOWN {
            lines.push((
                Line::styled(
                    format!(
                        "    and {} more proposal(s) in the queue",
                        items.len() - PROPOSALS_SHOWN
                    ),
                    theme.dim(),
                ),
                false,
            ));
        }
    }
    let h = inner.height as usize;
    let sel_start = starts
        .get(v.selected.min(groups.len() - 1))
        .copied()
        .unwrap_or(0);
    let top = sel_start.saturating_sub(h.saturating_sub(1));
    for (y, (line, selected)) in (inner.y..inner.y + inner.height).zip(lines.iter().skip(top)) {
        put_row(buf, inner, y, line, selected.then(|| theme.selected()));
    }
}
