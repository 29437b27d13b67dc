//! Merge requests pane: title, author, age, state, pipeline (with a failed one's cause),
//! approvals, reviewers, labels. Columns drop from the right on narrow screens. The churn
//! (+/-) is in the MR detail: GitLab's list has no diff stats, and one request per row to
//! fill a column is not worth it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::causes;
use crate::app::layout::Pane;
use crate::app::state::AppState;
use crate::app::symbols;
use crate::app::text;
use crate::gitlab::MergeRequest;
use crate::gitlab::models::Status;

use super::theme::Theme;
use crate::review::triage::{Signal, TriageConfig};

const TRIAGE: TriageConfig = TriageConfig {
    stale_days: 7,
    draft_days: 14,
    churn_lines: 1000,
    churn_files: 50,
};
use super::widgets::{Col, centered_lines, columns, pane_block, put_row, row_line, table_header};

const COLS: [Col; 9] = [
    Col {
        min: 5,
        want: 5,
        priority: 9,
        flex: false,
    }, // !iid
    Col {
        min: 16,
        want: 24,
        priority: 9,
        flex: true,
    }, // title
    Col {
        min: 8,
        want: 12,
        priority: 6,
        flex: false,
    }, // author
    Col {
        min: 3,
        want: 3,
        priority: 7,
        flex: false,
    }, // age
    Col {
        min: 12,
        want: 18,
        priority: 5,
        flex: false,
    }, // signals: draft/conflict, on author, mine, threads, review::triage labels (stale 12d, …)
    Col {
        min: 9,
        want: 10,
        priority: 8,
        flex: false,
    }, // pipeline (wider while a failed one shows its cause)
    Col {
        min: 4,
        want: 4,
        priority: 6,
        flex: false,
    }, // approvals
    Col {
        min: 8,
        want: 14,
        priority: 3,
        flex: false,
    }, // reviewers
    Col {
        min: 8,
        want: 12,
        priority: 1,
        flex: false,
    }, // labels
];

pub fn title_line<'a>(state: &AppState, focused: bool, theme: &Theme) -> Line<'a> {
    let l = &state.mrs;
    let arrow = match (l.descending, theme.ascii) {
        (true, false) => "↓",
        (false, false) => "↑",
        (true, true) => "v",
        (false, true) => "^",
    };
    let total = state.snapshot.as_ref().map_or(0, |s| s.mrs.len());
    let count = if l.filter_text.is_empty() || l.rows.len() == total {
        l.rows.len().to_string()
    } else {
        format!("{} of {total}", l.rows.len())
    };
    let mut spans = vec![Span::styled(
        format!(" 1 Merge requests ({count}) "),
        theme.title(focused),
    )];
    spans.push(Span::styled(
        format!("sort: {} {arrow} ", l.sort.name()),
        theme.dim(),
    ));
    if !l.filter_text.is_empty() {
        spans.push(Span::styled(
            format!("filter: {} ", text::sanitize_line(&l.filter_text)),
            theme.warn(),
        ));
    }
    if let Some(note) = state.stale_note() {
        spans.push(Span::styled(format!("{note} "), theme.error()));
    }
    Line::from(spans)
}

pub fn render(state: &AppState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let focused = state.focus == Pane::Mrs;
    let inner = pane_block(buf, area, title_line(state, focused, theme), focused, theme);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let Some(snap) = state.snapshot.as_deref() else {
        super::widgets::loading(state, "merge requests", theme, inner, buf);
        return;
    };
    let ascii = theme.ascii;
    // A failed pipeline's cause rides in the pipeline column: it widens while one is shown.
    let cause_of = |mr: &MergeRequest| {
        snap.pipeline_for_mr(mr)
            .filter(|p| p.status == Status::Failed)
            .and_then(|p| causes::pipeline_brief(snap, &state.causes, p.id))
            .filter(|b| b != causes::DIAGNOSING)
    };
    let mut cols = COLS;
    if state
        .mrs
        .rows
        .iter()
        .filter_map(|iid| snap.mr(*iid))
        .any(|mr| cause_of(mr).is_some())
    {
        cols[5].want = 20;
    }
    // The iid column fits the longest iid listed: a 6-digit `!154421` must never be cut.
    let iid_w = state
        .mrs
        .rows
        .iter()
        .map(|i| i.to_string().len() + 1)
        .max()
        .unwrap_or(0);
    cols[0].min = cols[0].min.max(iid_w);
    cols[0].want = cols[0].want.max(iid_w);
    let widths = columns(inner.width as usize - 1, &cols);
    // "✗ test: …" says less than "✗ failed": the cause only where a few words of it fit.
    let cause_fits = widths[5] >= 14;
    let list = table_header(
        buf,
        inner,
        " ",
        &[
            "!iid",
            "Title",
            "Author",
            "Age",
            "Signals",
            "Pipeline",
            "Appr",
            "Reviewers",
            "Labels",
        ],
        &widths,
        theme,
    );
    if state.mrs.rows.is_empty() {
        let msg = if state.mrs.filter_text.is_empty() {
            "no open merge requests"
        } else {
            "no merge request matches the filter (Esc clears it)"
        };
        centered_lines(buf, list, &[Line::styled(msg, theme.dim())]);
        return;
    }
    let g = symbols::glyphs(ascii);
    let range = state
        .mrs
        .cursor
        .visible(state.mrs.rows.len(), list.height as usize);
    for (y, i) in (list.y..).zip(range) {
        let Some(mr) = snap.mr(state.mrs.rows[i]) else {
            continue;
        };
        let selected = i == state.mrs.cursor.selected;
        let mut flags = crate::app::mrs::row_flags(mr, snap);
        let only_ready = flags == ["ready"];
        // Triage signals the other columns and the flags do not already show (pipeline,
        // approvals, reviewers, conflicts, threads), most severe first.
        let signals: Vec<String> = crate::review::triage::triage(mr, snap, state.now, &TRIAGE)
            .iter()
            .filter(|s| {
                !matches!(
                    s,
                    Signal::PipelineFailed { .. }
                        | Signal::ApprovalsMissing { .. }
                        | Signal::NoReviewers
                        | Signal::Conflicts
                        | Signal::UnresolvedThreads
                )
            })
            .map(|s| s.label())
            .collect();
        flags.extend(signals.iter().cloned());
        let (pipe, pipe_style) = match snap.pipeline_for_mr(mr) {
            Some(p) => {
                let c = symbols::class(&p.status);
                // The symbol says failed; the words say why.
                let what = cause_of(mr)
                    .filter(|_| cause_fits)
                    .map(|b| text::sanitize_line(&b).into_owned())
                    .unwrap_or_else(|| p.status.to_string());
                (
                    format!("{} {what}", symbols::symbol(c, ascii)),
                    theme.status(c),
                )
            }
            None => ("-".into(), theme.dim()),
        };
        let (appr, appr_style) = match snap.approvals.get(&mr.iid) {
            Some(a) => (
                format!("{}/{}", a.given(), a.required()),
                if a.satisfied() {
                    theme.ok()
                } else {
                    theme.warn()
                },
            ),
            None => ("-".into(), theme.dim()),
        };
        let reviewers: Vec<String> = mr
            .reviewers
            .iter()
            .map(|r| text::sanitize_line(&r.username).into_owned())
            .collect();
        let labels: Vec<String> = mr
            .labels
            .iter()
            .map(|l| text::sanitize_line(l).into_owned())
            .collect();
        let flag_style = if mr.conflicts() {
            theme.error()
        } else if only_ready && signals.is_empty() {
            theme.ok()
        } else {
            theme.warn()
        };
        let cells = vec![
            (format!("!{}", mr.iid), theme.dim()),
            (
                text::sanitize_line(&mr.title).into_owned(),
                if mr.is_draft() {
                    theme.dim()
                } else {
                    Style::new()
                },
            ),
            (
                text::sanitize_line(mr.author_username()).into_owned(),
                Style::new(),
            ),
            (text::age(mr.created_at, state.now), theme.dim()),
            (flags.join(" "), flag_style),
            (pipe, pipe_style),
            (appr, appr_style),
            (
                if reviewers.is_empty() {
                    "-".into()
                } else {
                    reviewers.join(",")
                },
                Style::new(),
            ),
            (labels.join(","), theme.accent()),
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
