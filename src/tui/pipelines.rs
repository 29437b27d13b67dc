//! Pipelines pane: status, ref, source, age, duration; expanded pipelines show their stages
//! and jobs with status and failure reason.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::causes::{self, Causes};
use crate::app::layout::Pane;
use crate::app::metrics::pipeline_duration;
use crate::app::pipelines::{PipeRow, stage_status, stages};
use crate::app::state::AppState;
use crate::app::symbols;
use crate::app::text;
use crate::gitlab::models::Status;
use crate::gitlab::snapshot::MrRefKind;
use crate::gitlab::{Pipeline, ProjectSnapshot};

use super::theme::Theme;
use super::widgets::{
    Col, centered_lines, columns, fit, pane_block, put_row, row_line, table_header,
};

const COLS: [Col; 7] = [
    Col {
        min: 9,
        want: 11,
        priority: 9,
        flex: false,
    }, // status
    Col {
        min: 5,
        want: 7,
        priority: 9,
        flex: false,
    }, // #id
    Col {
        min: 6,
        want: 20,
        priority: 8,
        flex: true,
    }, // ref (sized to the longest ref shown when causes take the rest)
    Col {
        min: 5,
        want: 6,
        priority: 4,
        flex: false,
    }, // source
    Col {
        min: 3,
        want: 3,
        priority: 6,
        flex: false,
    }, // age
    Col {
        min: 6,
        want: 6,
        priority: 5,
        flex: false,
    }, // duration
    Col {
        min: 16,
        want: 26,
        priority: 4,
        flex: true,
    }, // cause of a failed pipeline (only while one is shown; gitlab.com's 10-digit ids leave less)
];

/// The columns for these rows: the cause column only when a row has a cause, then the ref
/// sized to the longest ref shown and the cause taking what is left.
fn layout(rows: &[(String, Option<String>)]) -> Vec<Col> {
    let mut cols = COLS.to_vec();
    if rows.iter().any(|(_, c)| c.is_some()) {
        let longest = rows
            .iter()
            .map(|(r, _)| r.chars().count())
            .max()
            .unwrap_or(0);
        cols[2].want = longest.clamp(cols[2].min, 24);
        cols[2].flex = false;
        // The source says less than the cause: it goes first when both do not fit.
        cols[3].priority = 3;
    } else {
        cols.pop();
    }
    cols
}

fn source(p: &Pipeline) -> String {
    match p.source.as_deref() {
        Some("merge_request_event") => "mr".into(),
        Some("parent_pipeline") => "child".into(),
        Some("external_pull_request_event") => "ext-pr".into(),
        Some(s) => text::sanitize_line(s).into_owned(),
        None => "-".into(),
    }
}

fn git_ref(p: &Pipeline) -> String {
    let r = p.git_ref.as_deref().unwrap_or("-");
    // MR pipelines run on refs/merge-requests/N/{head,merge,train}: `!N` (with the kind when
    // it is a merged-results or merge-train pipeline) says the same in less space.
    match crate::gitlab::snapshot::mr_ref(Some(r)) {
        Some((n, MrRefKind::Head)) => format!("!{n}"),
        Some((n, kind)) => format!("!{n} {}", kind.as_str()),
        None => text::sanitize_line(r).into_owned(),
    }
}

/// [`ref_cell`] when a few words of the title fit, else the short ref: `!4 Bum…` says less
/// than `!4`.
fn fitted_ref(snap: &ProjectSnapshot, p: &Pipeline, width: usize) -> String {
    let short = git_ref(p);
    if width >= short.chars().count() + 8 {
        ref_cell(snap, p)
    } else {
        short
    }
}

/// The ref cell: `!N` alone says little, so an open MR's pipeline carries the MR's title
/// (`!19 Bump serde to 1.0.203`), whether it ran on the MR's ref or on its source branch
/// (`serde-bump · !19 Bump serde…`). The title is untrusted: sanitized; the cell cuts it.
fn ref_cell(snap: &ProjectSnapshot, p: &Pipeline) -> String {
    let short = git_ref(p);
    let r = p.git_ref.as_deref();
    let (iid, on_mr_ref) = match crate::gitlab::snapshot::mr_ref(r) {
        Some((n, _)) => (Some(n), true),
        None => (
            snap.mrs
                .values()
                .find(|m| r == Some(m.source_branch.as_str()))
                .map(|m| m.iid),
            false,
        ),
    };
    match iid.and_then(|i| snap.mr(i)) {
        Some(mr) => {
            let title = text::sanitize_line(&mr.title);
            if on_mr_ref {
                format!("{short} {title}")
            } else {
                format!("{short} · !{} {title}", mr.iid)
            }
        }
        None => short,
    }
}

fn duration(p: &Pipeline, state: &AppState) -> String {
    match pipeline_duration(p, state.now) {
        Some(d) if p.status.is_active() => text::elapsed(d),
        Some(d) => text::duration(d),
        None => "-".into(),
    }
}

pub fn render(state: &AppState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let focused = state.focus == Pane::Pipelines;
    let t = &state.pipelines;
    let mut title = vec![Span::styled(
        format!(
            " 2 Pipelines ({}) ",
            state.snapshot.as_ref().map_or(0, |s| s.pipelines.len())
        ),
        theme.title(focused),
    )];
    if !t.filter_text.is_empty() {
        title.push(Span::styled(
            format!("filter: {} ", text::sanitize_line(&t.filter_text)),
            theme.warn(),
        ));
    }
    if let Some(note) = state.stale_note() {
        title.push(Span::styled(format!("{note} "), theme.error()));
    }
    let inner = pane_block(buf, area, Line::from(title), focused, theme);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let Some(snap) = state.snapshot.as_deref() else {
        super::widgets::loading(state, "pipelines", theme, inner, buf);
        return;
    };
    let ascii = theme.ascii;
    let g = symbols::glyphs(ascii);
    // The refs and causes of the rows that will be on screen size the columns.
    let list_h = inner.height.saturating_sub(1) as usize;
    let shown: Vec<(String, Option<String>)> = t
        .cursor
        .visible(t.rows.len(), list_h)
        .filter_map(|i| match &t.rows[i] {
            PipeRow::Pipeline(id) => snap.pipeline(*id).map(|p| {
                let cause = (p.status == Status::Failed)
                    .then(|| causes::pipeline_brief(snap, &state.causes, p.id))
                    .flatten();
                (git_ref(p), cause)
            }),
            _ => None,
        })
        .collect();
    // The columns are sized on the short refs (`!19`): an MR title is shown in the room
    // left, never at the cost of another column.
    let titled = t
        .cursor
        .visible(t.rows.len(), list_h)
        .filter_map(|i| match &t.rows[i] {
            PipeRow::Pipeline(id) => snap.pipeline(*id).map(|p| ref_cell(snap, p)),
            _ => None,
        })
        .map(|r| r.chars().count())
        .max()
        .unwrap_or(0);
    let cols = layout(&shown);
    // Two columns of tree markers, then the table.
    // The id column fits the largest id known: gitlab.com pipeline ids have 10-11 digits.
    let mut cols = cols;
    let id_w = snap
        .pipelines
        .keys()
        .max()
        .map_or(0, |id| id.to_string().len() + 1);
    cols[1].min = cols[1].min.max(id_w);
    cols[1].want = cols[1].want.max(id_w);
    let mut widths = columns((inner.width as usize).saturating_sub(3), &cols);
    // A cause column wider than it wants lends the rest to the ref, for MR titles.
    if let (Some(&cause), Some(want)) = (widths.get(6), cols.get(6).map(|c| c.want))
        && cause > want
        && widths[2] < titled
    {
        let lend = (cause - want).min(titled - widths[2]);
        widths[6] -= lend;
        widths[2] += lend;
    }
    let ref_width = widths[2];
    let list = table_header(
        buf,
        inner,
        "   ",
        &["Status", "#", "Ref", "Source", "Age", "Time", "Cause"],
        &widths,
        theme,
    );
    if t.rows.is_empty() {
        let msg = if t.filter_text.is_empty() {
            "no pipelines yet"
        } else {
            "no pipeline matches the filter (Esc clears it)"
        };
        centered_lines(buf, list, &[Line::styled(msg, theme.dim())]);
        return;
    }
    let range = t.cursor.visible(t.rows.len(), list.height as usize);
    for (y, i) in (list.y..).zip(range) {
        let selected = i == t.cursor.selected;
        let marker = Span::styled(if selected { g.selected } else { " " }, theme.accent());
        let line = match &t.rows[i] {
            PipeRow::Pipeline(id) => {
                let Some(p) = snap.pipeline(*id) else {
                    continue;
                };
                let c = symbols::class(&p.status);
                let fold = if t.expanded.contains(id) {
                    g.expanded
                } else {
                    g.collapsed
                };
                let cells = vec![
                    (
                        format!("{} {}", symbols::symbol(c, ascii), p.status),
                        theme.status(c),
                    ),
                    (format!("#{}", p.id), theme.dim()),
                    (fitted_ref(snap, p, ref_width), Style::new()),
                    (source(p), theme.dim()),
                    (text::age(p.created_at, state.now), theme.dim()),
                    (duration(p, state), Style::new()),
                    (
                        (p.status == Status::Failed)
                            .then(|| causes::pipeline_brief(snap, &state.causes, p.id))
                            .flatten()
                            .map(|c| text::sanitize_line(&c).into_owned())
                            .unwrap_or_default(),
                        theme.error(),
                    ),
                ];
                let mut spans = vec![marker, Span::styled(format!("{fold} "), theme.dim())];
                spans.extend(row_line(cells, &widths, ascii).spans);
                Line::from(spans)
            }
            PipeRow::Stage { pipeline, stage } => {
                stage_line(snap, *pipeline, stage, marker, theme, inner.width as usize)
            }
            PipeRow::Job { pipeline, job } => job_line(
                snap,
                &state.causes,
                (*pipeline, *job),
                marker,
                theme,
                inner.width as usize,
            ),
            PipeRow::Loading(_) => Line::from(vec![
                marker,
                Span::styled("     loading jobs…", theme.dim()),
            ]),
            PipeRow::Downstream {
                bridge,
                child,
                depth,
                pipeline,
            } => downstream_line(snap, *pipeline, *bridge, *child, *depth, marker, theme),
        };
        put_row(
            buf,
            list,
            y,
            &line,
            (selected && focused).then(|| theme.selected()),
        );
    }
}

fn stage_line<'a>(
    snap: &ProjectSnapshot,
    pipeline: u64,
    stage: &str,
    marker: Span<'a>,
    theme: &Theme,
    width: usize,
) -> Line<'a> {
    let jobs = snap
        .jobs
        .get(&pipeline)
        .map(|j| stages(j))
        .unwrap_or_default();
    let Some((_, js)) = jobs.iter().find(|(s, _)| s == stage) else {
        return Line::from(vec![marker]);
    };
    let c = symbols::class(&stage_status(js));
    let name = fit(
        &text::sanitize_line(stage),
        width.saturating_sub(24).max(4),
        theme.ascii,
    );
    Line::from(vec![
        marker,
        Span::raw("   "),
        Span::styled(
            format!("{} ", symbols::symbol(c, theme.ascii)),
            theme.status(c),
        ),
        Span::styled(name.trim_end().to_string(), theme.bold()),
        Span::styled(
            format!("  {} job{}", js.len(), if js.len() == 1 { "" } else { "s" }),
            theme.dim(),
        ),
    ])
}

/// `↳ trigger:e2e → ✗ failed #9001 child`: a trigger job and the pipeline it started.
fn downstream_line<'a>(
    snap: &ProjectSnapshot,
    root: u64,
    bridge: u64,
    child: u64,
    depth: usize,
    marker: Span<'a>,
    theme: &Theme,
) -> Line<'a> {
    let Some((_, b, d)) = snap
        .downstream_tree(root)
        .into_iter()
        .find(|(_, b, d)| b.id == bridge && d.id == child)
    else {
        return Line::from(vec![marker]);
    };
    let c = symbols::class(&d.status);
    let kind = match d.source.as_deref() {
        Some("parent_pipeline") => "child",
        Some("pipeline") => "multi-project",
        _ => "downstream",
    };
    let arrow = if theme.ascii { "->" } else { "↳" };
    let to = if theme.ascii { "->" } else { "→" };
    Line::from(vec![
        marker,
        Span::raw("   ".repeat(depth)),
        Span::styled(format!("{arrow} "), theme.dim()),
        Span::styled(
            fit(&text::sanitize_line(&b.name), 28, theme.ascii)
                .trim_end()
                .to_string(),
            theme.bold(),
        ),
        Span::styled(format!(" {to} "), theme.dim()),
        Span::styled(
            format!("{} {}", symbols::symbol(c, theme.ascii), d.status),
            theme.status(c),
        ),
        Span::styled(format!(" #{} {kind}", d.id), theme.dim()),
    ])
}

fn job_line<'a>(
    snap: &ProjectSnapshot,
    causes: &Causes,
    (pipeline, job): (u64, u64),
    marker: Span<'a>,
    theme: &Theme,
    width: usize,
) -> Line<'a> {
    // A downstream pipeline's job is listed under the pipeline above it, one level in.
    let own = snap
        .jobs
        .get(&pipeline)
        .and_then(|js| js.iter().find(|j| j.id == job));
    let (j, indent) = match own {
        Some(j) => (j, "     "),
        None => match snap.job(job) {
            Some(j) => (j, "        "),
            None => return Line::from(vec![marker]),
        },
    };
    let c = symbols::job_class(&j.status, j.allow_failure);
    let name_w = width.saturating_sub(7).clamp(8, 28);
    let mut spans = vec![
        marker,
        Span::raw(indent),
        Span::styled(
            format!("{} ", symbols::symbol(c, theme.ascii)),
            theme.status(c),
        ),
        Span::raw(fit(&text::sanitize_line(&j.name), name_w, theme.ascii)),
        Span::styled(format!(" {:<9}", j.status.as_str()), theme.status(c)),
    ];
    if let Some(d) = j.duration {
        spans.push(Span::styled(
            format!(" {:>6}", text::duration(d)),
            theme.dim(),
        ));
    }
    match (causes.known.get(&j.id), &j.failure_reason) {
        // The cause read in the log says more than GitLab's `script_failure`; on narrow
        // screens, where the pipeline row has no cause column, this is where it shows.
        (Some(k), _) => spans.push(Span::styled(
            format!(" {}", text::sanitize_line(&k.brief)),
            theme.error(),
        )),
        (None, Some(r)) => spans.push(Span::styled(format!(" {r}"), theme.error())),
        (None, None) => {}
    }
    if j.allow_failure && j.status.as_str() == "failed" {
        spans.push(Span::styled(" (allowed to fail)", theme.dim()));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(r: &str) -> Pipeline {
        serde_json::from_value(serde_json::json!({"id": 1, "status": "success", "ref": r})).unwrap()
    }

    #[test]
    fn an_open_mrs_pipeline_carries_its_title_sanitized() {
        let mut snap = crate::testkit::snapshot();
        std::sync::Arc::make_mut(&mut snap.mrs)
            .get_mut(&2)
            .map(std::sync::Arc::make_mut)
            .unwrap()
            .title = "Add \u{1b}[31mheaders\u{202E}".into();
        let title_of = |r: &str| ref_cell(&snap, &on(r));
        assert_eq!(title_of("refs/merge-requests/2/head"), "!2 Add headers");
        assert_eq!(
            title_of("refs/merge-requests/2/merge"),
            "!2 merge Add headers"
        );
        assert_eq!(title_of("feature-2"), "feature-2 · !2 Add headers");
        // Not an open MR, or no MR: the ref alone.
        assert_eq!(title_of("refs/merge-requests/99/head"), "!99");
        assert_eq!(title_of("main"), "main");
    }

    #[test]
    fn mr_refs_read_as_the_mr_with_their_kind() {
        assert_eq!(git_ref(&on("refs/merge-requests/154421/head")), "!154421");
        assert_eq!(
            git_ref(&on("refs/merge-requests/154421/merge")),
            "!154421 merge"
        );
        assert_eq!(git_ref(&on("refs/merge-requests/7/train")), "!7 train");
        assert_eq!(git_ref(&on("main")), "main");
    }
}
