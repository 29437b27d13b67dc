//! Small drawing helpers shared by the panes: areas, bordered blocks, columns, padding.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};

use crate::app::layout::Area;
use crate::app::text;

use super::theme::Theme;

pub fn rect(a: Area) -> Rect {
    Rect::new(a.x, a.y, a.w, a.h)
}

/// Draws a bordered block with a title line and returns the inner area.
pub fn pane_block(
    buf: &mut Buffer,
    area: Rect,
    title: Line<'_>,
    focused: bool,
    theme: &Theme,
) -> Rect {
    let block = Block::bordered()
        .border_set(theme.border_set())
        .border_style(theme.border(focused))
        .title(title);
    let inner = block.inner(area);
    block.render(area, buf);
    inner
}

/// Text cut or padded to exactly `w` columns.
pub fn fit(s: &str, w: usize, ascii: bool) -> String {
    let t = text::truncate(s, w, ascii);
    let pad = w.saturating_sub(text::width(&t));
    format!("{t}{}", " ".repeat(pad))
}

/// Right-aligned in `w` columns.
pub fn fit_right(s: &str, w: usize, ascii: bool) -> String {
    let t = text::truncate(s, w, ascii);
    let pad = w.saturating_sub(text::width(&t));
    format!("{}{t}", " ".repeat(pad))
}

/// One table row: the line is drawn, then the whole row gets `row_style` patched on top
/// (the selection highlight keeps each cell's colour).
pub fn put_row(buf: &mut Buffer, area: Rect, y: u16, line: &Line<'_>, row_style: Option<Style>) {
    if y >= area.y + area.height {
        return;
    }
    buf.set_line(area.x, y, line, area.width);
    if let Some(s) = row_style {
        buf.set_style(Rect::new(area.x, y, area.width, 1), s);
    }
}

/// A centred message inside `area`, for empty states.
pub fn centered_lines(buf: &mut Buffer, area: Rect, lines: &[Line<'_>]) {
    if area.height == 0 {
        return;
    }
    let top = area.y + area.height.saturating_sub(lines.len() as u16) / 2;
    for (i, l) in lines.iter().enumerate() {
        let y = top + i as u16;
        if y >= area.y + area.height {
            break;
        }
        let w = l.width() as u16;
        let x = area.x + area.width.saturating_sub(w) / 2;
        buf.set_line(x, y, l, area.width);
    }
}

/// What a pane shows before the first snapshot: loading, or why it cannot load.
pub fn loading(
    state: &crate::app::AppState,
    what: &str,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    match &state.conn {
        crate::app::Conn::Error(e) => centered_lines(
            buf,
            area,
            &[
                Line::styled(format!("cannot load {what}"), theme.error()),
                Line::styled(text::sanitize_line(e).into_owned(), theme.dim()),
                Line::styled("retrying; r retries now, :project switches", theme.dim()),
            ],
        ),
        _ => centered_lines(
            buf,
            area,
            &[Line::styled(format!("loading {what}…"), theme.dim())],
        ),
    }
}

/// Column widths: each column asks for (min, preferred, priority). Columns of the lowest
/// priority are dropped until the minimums fit; spare space grows the flexible column.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub min: usize,
    pub want: usize,
    /// Higher survives longer.
    pub priority: u8,
    pub flex: bool,
}

/// Returns the width of each column (0 = dropped). One space separates shown columns.
pub fn columns(total: usize, cols: &[Col]) -> Vec<usize> {
    let mut shown: Vec<bool> = vec![true; cols.len()];
    loop {
        let n = shown.iter().filter(|s| **s).count();
        let need: usize = cols
            .iter()
            .zip(&shown)
            .filter(|(_, s)| **s)
            .map(|(c, _)| c.min)
            .sum::<usize>()
            + n.saturating_sub(1);
        if need <= total || n <= 1 {
            break;
        }
        // Drop the lowest-priority column still shown (the last one among equals).
        let drop = cols
            .iter()
            .enumerate()
            .filter(|(i, _)| shown[*i])
            .min_by_key(|(i, c)| (c.priority, usize::MAX - i))
            .map(|(i, _)| i);
        match drop {
            Some(i) => shown[i] = false,
            None => break,
        }
    }
    let n = shown.iter().filter(|s| **s).count();
    let mut widths: Vec<usize> = cols
        .iter()
        .zip(&shown)
        .map(|(c, s)| if *s { c.min } else { 0 })
        .collect();
    let mut spare = total.saturating_sub(widths.iter().sum::<usize>() + n.saturating_sub(1));
    // Grow fixed columns towards what they want, then give the rest to the flexible one.
    for (i, c) in cols.iter().enumerate() {
        if shown[i] && !c.flex {
            let add = c.want.saturating_sub(c.min).min(spare);
            widths[i] += add;
            spare -= add;
        }
    }
    if let Some(i) = cols
        .iter()
        .enumerate()
        .position(|(i, c)| c.flex && shown[i])
    {
        widths[i] += spare;
    }
    widths
}

/// Builds a row line from cells and their widths (skipping dropped columns).
pub fn row_line<'a>(cells: Vec<(String, Style)>, widths: &[usize], ascii: bool) -> Line<'a> {
    let mut spans = Vec::new();
    let mut first = true;
    for ((text, style), w) in cells.into_iter().zip(widths) {
        if *w == 0 {
            continue;
        }
        if !first {
            spans.push(Span::raw(" "));
        }
        first = false;
        spans.push(Span::styled(fit(&text, *w, ascii), style));
    }
    Line::from(spans)
}

/// Draws a table's header row (after `indent` columns of row markers) on the first line of
/// `inner` and returns the area left for the rows.
pub fn table_header(
    buf: &mut Buffer,
    inner: Rect,
    indent: &'static str,
    labels: &[&str],
    widths: &[usize],
    theme: &Theme,
) -> Rect {
    let head = row_line(
        labels
            .iter()
            .map(|h| (h.to_string(), Style::new()))
            .collect(),
        widths,
        theme.ascii,
    );
    let mut spans = vec![Span::raw(indent)];
    spans.extend(head.spans);
    put_row(
        buf,
        inner,
        inner.y,
        &Line::from(spans),
        Some(theme.header_row()),
    );
    Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_drop_low_priority_then_grow_flex() {
        let cols = [
            Col {
                min: 4,
                want: 4,
                priority: 9,
                flex: false,
            },
            Col {
                min: 10,
                want: 30,
                priority: 9,
                flex: true,
            },
            Col {
                min: 8,
                want: 12,
                priority: 1,
                flex: false,
            },
            Col {
                min: 6,
                want: 6,
                priority: 5,
                flex: false,
            },
        ];
        assert_eq!(columns(80, &cols), vec![4, 55, 12, 6]);
        assert_eq!(columns(25, &cols), vec![4, 13, 0, 6]);
        assert_eq!(columns(16, &cols), vec![4, 11, 0, 0]);
    }
}
