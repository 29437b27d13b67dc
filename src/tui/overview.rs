//! The overview (`0`): one row per watched project of every instance, the one that needs
//! attention first on top. Columns give way from the right on narrow terminals; the project
//! path always keeps its room.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::overview::OverviewView;
use crate::app::state::AppState;
use crate::app::text;
use crate::gitlab::models::Status;
use crate::gitlab::overview::ProjectSummary;

use super::theme::Theme;
use super::widgets::{centered_lines, pane_block, put_row};

/// A column that is shown when the width allows it.
struct Col {
    title: &'static str,
    width: usize,
    /// Lower goes first when room is short.
    keep: u8,
}

const INSTANCE: Col = Col {
    title: "instance",
    width: 14,
    keep: 1,
};
const MAIN: Col = Col {
    title: "default branch",
    width: 15,
    keep: 9,
};
const RUNNING: Col = Col {
    title: "run",
    width: 4,
    keep: 6,
};
const OPEN: Col = Col {
    title: "MRs",
    width: 4,
    keep: 2,
};
const MINE: Col = Col {
    title: "on me",
    width: 6,
    keep: 8,
};
const READY: Col = Col {
    title: "ready",
    width: 6,
    keep: 7,
};
const DEPLOY: Col = Col {
    title: "last deploy",
    width: 18,
    keep: 3,
};

/// The project column never gets narrower than this while another column could go.
const PROJECT_MIN: usize = 22;

pub fn render(state: &AppState, v: &OverviewView, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let ascii = state.settings.ascii;
    let rows = &state.overview.rows;
    let instances = rows
        .iter()
        .map(|r| r.instance)
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        .max(1);
    let mut title = vec![Span::styled(
        format!(
            " Overview: {} project{}{} ",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            if instances > 1 {
                format!(" on {instances} instances")
            } else {
                String::new()
            }
        ),
        theme.title(true),
    )];
    for (i, user) in &state.overview.users {
        let name = state.settings.instances.get(*i).map_or("?", |s| s.as_str());
        let who = if state.settings.instances.len() > 1 {
            format!("@{user} on {name} ")
        } else {
            format!("@{user} ")
        };
        title.push(Span::styled(
            text::sanitize_line(&who).into_owned(),
            theme.accent(),
        ));
    }
    let inner = pane_block(buf, area, Line::from(title), true, theme);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    if rows.is_empty() {
        centered_lines(
            buf,
            inner,
            &[Line::styled(
                "reading the watched projects from GitLab…",
                theme.dim(),
            )],
        );
        return;
    }
    let width = inner.width as usize;
    let cols = fit_columns(width, state.settings.instances.len() > 1);
    let room = width
        .saturating_sub(2 + cols.iter().map(|c| c.width + 1).sum::<usize>())
        .max(8);
    // The project column takes what its longest path needs; the rest goes to the last column
    // (the last deploy's environment names are long).
    let longest = rows
        .iter()
        .map(|r| unicode_width::UnicodeWidthStr::width(r.path.as_str()))
        .max()
        .unwrap_or(0)
        .max(PROJECT_MIN);
    let project_w = room.min(longest);
    let spare = room - project_w;

    // Column titles.
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| c.width + if i + 1 == cols.len() { spare } else { 0 })
        .collect();
    let mut head = vec![Span::raw("  "), Span::raw(pad("project", project_w))];
    for (c, w) in cols.iter().zip(&widths) {
        head.push(Span::raw(" "));
        head.push(Span::raw(pad(c.title, *w)));
    }
    put_row(
        buf,
        inner,
        inner.y,
        &Line::from(head),
        Some(theme.header_row()),
    );

    let body_h = inner.height.saturating_sub(1) as usize;
    let selected = v.selected.min(rows.len() - 1);
    // The selection is always on screen: the window starts where it must.
    let start = selected.saturating_sub(body_h.saturating_sub(1));
    for (k, r) in rows.iter().enumerate().skip(start).take(body_h) {
        let y = inner.y + 1 + (k - start) as u16;
        let is_sel = k == selected;
        let here = r.instance == state.settings.instance
            && r.path.eq_ignore_ascii_case(&state.settings.project);
        let marker = if is_sel {
            crate::app::symbols::glyphs(ascii).selected
        } else {
            " "
        };
        let mut spans = vec![
            Span::styled(marker, theme.accent()),
            Span::raw(" "),
            Span::styled(
                pad(
                    &text::truncate(&text::sanitize_line(&r.path), project_w, ascii),
                    project_w,
                ),
                if here {
                    theme.accent().patch(theme.bold())
                } else {
                    theme.bold()
                },
            ),
        ];
        for (c, w) in cols.iter().zip(&widths) {
            spans.push(Span::raw(" "));
            let (cell, style) = cell(state, r, c, theme);
            spans.push(Span::styled(
                pad(&text::truncate(&cell, *w, ascii), *w),
                style,
            ));
        }
        put_row(
            buf,
            inner,
            y,
            &Line::from(spans),
            is_sel.then(|| theme.selected()),
        );
    }
}

/// The columns that fit `width`, in display order, dropping the least needed first.
fn fit_columns(width: usize, many_instances: bool) -> Vec<&'static Col> {
    let mut cols: Vec<&'static Col> = vec![&MAIN, &RUNNING, &MINE, &READY, &OPEN, &DEPLOY];
    if many_instances {
        cols.insert(0, &INSTANCE);
    }
    loop {
        let used: usize = 2 + cols.iter().map(|c| c.width + 1).sum::<usize>();
        if used + PROJECT_MIN <= width || cols.len() <= 1 {
            return cols;
        }
        let Some(i) = cols
            .iter()
            .enumerate()
            .min_by_key(|(_, c)| c.keep)
            .map(|(i, _)| i)
        else {
            return cols;
        };
        cols.remove(i);
    }
}

fn cell(state: &AppState, r: &ProjectSummary, c: &Col, theme: &Theme) -> (String, Style) {
    let count = |n: u32, style: Style| {
        if n == 0 {
            ("-".to_string(), theme.dim())
        } else {
            (n.to_string(), style)
        }
    };
    match c.title {
        "instance" => (
            state
                .settings
                .instances
                .get(r.instance)
                .cloned()
                .unwrap_or_default(),
            theme.dim(),
        ),
        "default branch" => {
            if r.error.is_some() && r.checked_at.is_none() {
                return ("unreadable".into(), theme.error());
            }
            let branch = text::sanitize_line(&r.default_branch).into_owned();
            match (&r.default_status, r.failing_default) {
                (_, n) if n > 1 => (format!("{branch} {n} failed"), theme.error()),
                (_, 1) => (format!("{branch} failed"), theme.error()),
                (Some(s), _) if s.is_active() => (format!("{branch} running"), theme.warn()),
                (Some(Status::Success), _) => (format!("{branch} passed"), theme.ok()),
                (Some(s), _) => (format!("{branch} {s}"), theme.dim()),
                (None, _) if r.checked_at.is_none() => ("…".into(), theme.dim()),
                (None, _) => (format!("{branch} no pipeline"), theme.dim()),
            }
        }
        "run" => count(r.running, theme.warn()),
        "MRs" => count(r.open_mrs, Style::default()),
        "on me" => count(r.waiting_on_me, theme.accent().patch(theme.bold())),
        "ready" => count(r.ready, theme.ok()),
        "last deploy" => match (&r.error, &r.last_deploy) {
            (Some(e), _) => (text::sanitize_line(e).into_owned(), theme.error()),
            (None, Some(d)) => {
                let style = match d.status.as_str() {
                    "success" => theme.ok(),
                    "failed" | "canceled" => theme.error(),
                    "running" | "created" | "blocked" => theme.warn(),
                    _ => theme.dim(),
                };
                (
                    format!(
                        "{} {} {}",
                        text::sanitize_line(&d.environment),
                        d.status,
                        text::age(d.at, state.now)
                    ),
                    style,
                )
            }
            (None, None) if r.checked_at.is_some() => ("none".into(), theme.dim()),
            (None, None) => ("…".into(), theme.dim()),
        },
        _ => (String::new(), Style::default()),
    }
}

/// `s` padded with spaces to `w` columns (display width).
fn pad(s: &str, w: usize) -> String {
    let used = unicode_width::UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(w.saturating_sub(used)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_give_way_from_the_least_needed() {
        let wide: Vec<&str> = fit_columns(120, true).iter().map(|c| c.title).collect();
        assert_eq!(
            wide,
            [
                "instance",
                "default branch",
                "run",
                "on me",
                "ready",
                "MRs",
                "last deploy"
            ]
        );
        let narrow: Vec<&str> = fit_columns(78, true).iter().map(|c| c.title).collect();
        assert!(!narrow.contains(&"instance") && narrow.contains(&"default branch"));
        assert!(narrow.contains(&"on me"));
        let tiny: Vec<&str> = fit_columns(30, false).iter().map(|c| c.title).collect();
        assert_eq!(tiny, ["default branch"]);
    }
}
