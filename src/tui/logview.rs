//! Job-log viewer. Only the lines on screen are styled (`LogIndex::styled` per visible line),
//! so the cost of a frame does not depend on the log's size.

use std::borrow::Cow;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

use crate::app::logview::{Entry, LogView, gutter_width};
use crate::app::state::AppState;
use crate::app::symbols;
use crate::app::text;
use crate::diagnose::log::LogIndex;

use super::theme::Theme;
use super::widgets::{centered_lines, pane_block};

/// A line's styled runs with secrets redacted. CI logs print tokens and keys; they must not reach
/// the screen. A secret can straddle a colour change, so the whole line is checked; a line that
/// needed redaction is shown in the default style (its colours are dropped with the secret).
fn redacted_runs(index: &LogIndex, line: usize, theme: &Theme) -> Vec<(String, Style)> {
    let runs = index.styled(line);
    let joined: String = runs.iter().map(|r| r.text.as_str()).collect();
    match crate::redact::redact(&joined) {
        Cow::Borrowed(_) => runs
            .into_iter()
            .map(|r| {
                let style = theme.ansi(&r.style);
                (r.text, style)
            })
            .collect(),
        Cow::Owned(clean) => vec![(clean, Style::default())],
    }
}

/// A log line as display cells: (char, style), tabs expanded, controls dropped, at most
/// `limit` columns (the rest could never be on screen).
fn cells(index: &LogIndex, line: usize, theme: &Theme, limit: usize) -> Vec<(char, Style)> {
    let mut out = Vec::new();
    let mut col = 0;
    'runs: for (text, style) in redacted_runs(index, line, theme) {
        for c in text.chars() {
            if col >= limit {
                break 'runs;
            }
            if c == '\t' {
                let n = 8 - col % 8;
                for _ in 0..n {
                    out.push((' ', style));
                }
                col += n;
            } else if !c.is_control()
                && !matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
            {
                out.push((c, style));
                col += c.width().unwrap_or(0);
            }
        }
    }
    out
}

/// Patches the search style over every occurrence of `query` (smart case).
fn highlight(cells: &mut [(char, Style)], query: &str, style: Style) {
    let smart = query.chars().any(|c| c.is_uppercase());
    let norm = |c: char| {
        if smart {
            c
        } else {
            c.to_lowercase().next().unwrap_or(c)
        }
    };
    let q: Vec<char> = query.chars().map(norm).collect();
    if q.is_empty() || q.len() > cells.len() {
        return;
    }
    let hay: Vec<char> = cells.iter().map(|(c, _)| norm(*c)).collect();
    let mut i = 0;
    while i + q.len() <= hay.len() {
        if hay[i..i + q.len()] == q[..] {
            for cell in &mut cells[i..i + q.len()] {
                cell.1 = cell.1.patch(style);
            }
            i += q.len();
        } else {
            i += 1;
        }
    }
}

/// Splits cells into screen rows of `cols` columns, skipping `left` columns first.
fn rows_of(cells: &[(char, Style)], left: usize, cols: usize, wrap: bool) -> Vec<Line<'static>> {
    let mut rows: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut col = 0; // columns emitted on the current row
    let mut skipped = 0;
    let mut cur = String::new();
    let mut cur_style: Option<Style> = None;
    let flush = |rows: &mut Vec<Vec<Span<'static>>>, cur: &mut String, st: Option<Style>| {
        if !cur.is_empty()
            && let Some(r) = rows.last_mut()
        {
            r.push(Span::styled(std::mem::take(cur), st.unwrap_or_default()));
        }
    };
    for &(c, style) in cells {
        let w = c.width().unwrap_or(0);
        if !wrap && skipped < left {
            skipped += w;
            continue;
        }
        if col + w > cols {
            if !wrap {
                break;
            }
            flush(&mut rows, &mut cur, cur_style);
            rows.push(Vec::new());
            col = 0;
        }
        if cur_style != Some(style) {
            flush(&mut rows, &mut cur, cur_style);
            cur_style = Some(style);
        }
        cur.push(c);
        col += w;
    }
    flush(&mut rows, &mut cur, cur_style);
    rows.into_iter().map(Line::from).collect()
}

fn section_duration(index: &LogIndex, s: usize) -> String {
    let Some(sec) = index.sections().get(s) else {
        return String::new();
    };
    if sec.hide_duration {
        return String::new();
    }
    match (sec.end_line, sec.duration_secs()) {
        (None, _) => " (running)".into(),
        (_, Some(d)) => format!(" ({})", text::duration(d as f64)),
        _ => String::new(),
    }
}

fn title<'a>(state: &AppState, v: &LogView, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(
        format!(
            " Log · {} · job #{} ",
            text::sanitize_line(&v.title),
            v.job_id
        ),
        theme.title(true),
    )];
    if let Some(j) = state.snapshot.as_ref().and_then(|s| s.job(v.job_id)) {
        let c = symbols::job_class(&j.status, j.allow_failure);
        spans.push(Span::styled(
            format!("{} {} ", symbols::symbol(c, theme.ascii), j.status),
            theme.status(c),
        ));
        if let Some(r) = &j.failure_reason {
            spans.push(Span::styled(format!("({r}) "), theme.error()));
        }
    }
    let mode = if v.follow {
        Span::styled("FOLLOWING ", theme.ok())
    } else if v.complete {
        Span::styled("complete ", theme.dim())
    } else if v.index.is_some() {
        Span::styled("PAUSED (f follows) ", theme.warn())
    } else {
        Span::raw("")
    };
    spans.push(mode);
    Line::from(spans)
}

fn footer<'a>(v: &LogView, theme: &Theme) -> Line<'a> {
    let Some(index) = &v.index else {
        return Line::raw("");
    };
    let n = index.line_count();
    let cur = v.current_line().map(|l| l + 1).unwrap_or(0);
    let mut s = format!(" line {cur}/{n} · {} sections", index.sections().len());
    if v.wrap {
        s.push_str(" · wrap");
    } else if v.left > 0 {
        s.push_str(&format!(" · col {}", v.left + 1));
    }
    if let Some(q) = &v.search {
        s.push_str(&format!(" · search \"{}\"", text::sanitize_line(q)));
    }
    s.push(' ');
    Line::from(Span::styled(s, theme.dim()))
}

pub fn render(state: &AppState, v: &LogView, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let block_title = title(state, v, theme);
    let inner = pane_block(buf, area, block_title, true, theme);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    // Footer on the bottom border.
    let foot = footer(v, theme);
    let fw = (foot.width() as u16).min(area.width.saturating_sub(4));
    buf.set_line(
        area.x + area.width.saturating_sub(fw + 2),
        area.y + area.height - 1,
        &foot,
        fw,
    );

    let Some(index) = v.index.as_deref() else {
        let msg = match &v.error {
            Some(e) => Line::styled(
                format!("could not fetch the log: {}", text::sanitize_line(e)),
                theme.error(),
            ),
            None => Line::styled(
                format!("loading the log of job #{}…", v.job_id),
                theme.dim(),
            ),
        };
        centered_lines(buf, inner, &[msg]);
        return;
    };
    if index.line_count() == 0 {
        centered_lines(buf, inner, &[Line::styled("(empty log)", theme.dim())]);
        return;
    }
    let g = symbols::glyphs(theme.ascii);
    let gutter = gutter_width(index.line_count());
    let digits = gutter - 2;
    let cols = (inner.width as usize).saturating_sub(gutter);
    let bottom = inner.y + inner.height;
    let limit = if v.wrap {
        cols * inner.height as usize
    } else {
        v.left + cols
    };
    let search = v.search.as_deref().filter(|q| !q.is_empty());
    // One entry's number, marker, cells and marker style, as drawn.
    let entry_cells = |e: usize| {
        let entry = v.entry(e)?;
        let drawn = match entry {
            Entry::Line(l) => {
                let starts = v.starts_section(l);
                // A private key's body lines match no single-line rule: the whole block goes.
                let mut c = if v.in_secret_block(l) {
                    "[REDACTED:private-key]"
                        .chars()
                        .map(|ch| (ch, theme.dim()))
                        .collect()
                } else {
                    cells(index, l, theme, limit)
                };
                if let Some(s) = starts {
                    let d = section_duration(index, s);
                    c.extend(d.chars().map(|ch| (ch, theme.dim())));
                }
                (
                    l + 1,
                    if starts.is_some() { g.expanded } else { " " },
                    c,
                    theme.accent(),
                )
            }
            Entry::Folded(s) => {
                let sec = &index.sections()[s];
                let hidden = sec.end_line.unwrap_or(index.line_count().saturating_sub(1)) + 1
                    - sec.start_line;
                let name = if sec.header.is_empty() {
                    &sec.name
                } else {
                    &sec.header
                };
                let label = format!(
                    "{}{} · {hidden} lines",
                    text::sanitize_line(name),
                    section_duration(index, s)
                );
                let c: Vec<(char, Style)> = label
                    .chars()
                    .map(|ch| (ch, theme.accent().patch(theme.bold())))
                    .collect();
                (sec.start_line + 1, g.collapsed, c, theme.accent())
            }
        };
        Some(drawn)
    };
    // The app scrolls by its own estimate of wrapped heights; what is drawn can be taller
    // (redaction markers, section durations), so the first row shown is moved down until
    // the cursor's entry is on screen: the line counter never names a line that is not.
    let mut first = v.top;
    if v.wrap {
        let height = |e: usize| {
            entry_cells(e)
                .map(|(_, _, c, _)| rows_of(&c, 0, cols, true).len())
                .unwrap_or(1)
        };
        while first < v.cursor
            && (first..=v.cursor).map(height).sum::<usize>() > inner.height as usize
        {
            first += 1;
        }
    }
    let mut y = inner.y;
    let mut e = first;
    while y < bottom && e < v.entry_count() {
        let Some((number, marker, mut line_cells, mut marker_style)) = entry_cells(e) else {
            break;
        };
        if let Some(q) = search {
            highlight(&mut line_cells, q, theme.search_match());
        }
        let selected = e == v.cursor;
        let num_style = if selected {
            theme.selected().patch(theme.bold())
        } else {
            theme.dim()
        };
        if selected {
            marker_style = marker_style.patch(theme.bold());
        }
        let rows = rows_of(&line_cells, if v.wrap { 0 } else { v.left }, cols, v.wrap);
        for (k, row) in rows.into_iter().enumerate() {
            if y >= bottom {
                break;
            }
            let gutter_text = if k == 0 {
                format!("{number:>digits$}")
            } else {
                " ".repeat(digits)
            };
            buf.set_span(
                inner.x,
                y,
                &Span::styled(gutter_text, num_style),
                digits as u16,
            );
            if k == 0 {
                buf.set_span(
                    inner.x + digits as u16,
                    y,
                    &Span::styled(marker, marker_style),
                    1,
                );
            }
            buf.set_line(inner.x + gutter as u16, y, &row, cols as u16);
            y += 1;
        }
        e += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_split_and_scroll() {
        let st = Style::new();
        let cells: Vec<(char, Style)> = "abcdefghij".chars().map(|c| (c, st)).collect();
        let text = |rows: Vec<Line>| rows.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        assert_eq!(
            text(rows_of(&cells, 0, 4, true)),
            vec!["abcd", "efgh", "ij"]
        );
        assert_eq!(text(rows_of(&cells, 3, 4, false)), vec!["defg"]);
    }

    #[test]
    fn highlight_is_smart_case() {
        let st = Style::new();
        let hit = Style::new().add_modifier(ratatui::style::Modifier::REVERSED);
        let mut cells: Vec<(char, Style)> = "Error error".chars().map(|c| (c, st)).collect();
        highlight(&mut cells, "error", hit);
        assert_eq!(cells.iter().filter(|c| c.1 == hit).count(), 10);
        let mut cells: Vec<(char, Style)> = "Error error".chars().map(|c| (c, st)).collect();
        highlight(&mut cells, "Error", hit);
        assert_eq!(cells.iter().filter(|c| c.1 == hit).count(), 5);
    }

    #[test]
    fn secrets_in_the_log_never_reach_the_screen() {
        let log = b"\x1b[32mexport GITLAB_TOKEN=glpat-\x1b[1mAbCdEf0123456789xyzQ\x1b[0m\n\x1b[31mplain red\x1b[0m\n";
        let index = LogIndex::parse(std::sync::Arc::new(log.to_vec()));
        let theme = Theme::new(true, false);
        let shown: String = cells(&index, 0, &theme, 200).iter().map(|c| c.0).collect();
        assert!(!shown.contains("AbCdEf0123456789xyzQ"), "{shown}");
        assert!(shown.contains("export GITLAB_TOKEN="), "{shown}");
        // A line with nothing secret keeps its colours.
        let red = cells(&index, 1, &theme, 200);
        assert_ne!(red[0].1, Style::default());
    }
}
