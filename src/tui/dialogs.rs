//! Dialogs over the queue pane: a command's details (the exact requests and preconditions), the
//! high-risk confirmation (type the phrase; default No), the bulk-approval list (y/N) and the
//! editor for comment bodies, labels and reviewers.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use crate::app::commands::detail_lines;
use crate::app::input::LineInput;
use crate::app::state::AppState;
use crate::app::text;
use crate::command::queue::BulkPreview;

use super::theme::Theme;
use super::widgets::pane_block;

fn popup(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2)).max(1);
    let h = h.min(area.height.saturating_sub(2)).max(1);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn frame(buf: &mut Buffer, r: Rect, title: &str, theme: &Theme) -> Rect {
    Clear.render(r, buf);
    pane_block(
        buf,
        r,
        Line::from(Span::styled(format!(" {title} "), theme.title(true))),
        true,
        theme,
    )
}

/// Splits `s` into rows of at most `w` display columns, at spaces where it can (prose reads
/// whole words) and inside a word only when the word alone is wider (payloads, URLs).
fn wrap(s: &str, w: usize) -> Vec<String> {
    let mut out = Vec::new();
    for line in s.lines() {
        if line.is_empty() {
            out.push(String::new());
            continue;
        }
        out.extend(text::wrap(line, w.max(1)));
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

fn put(buf: &mut Buffer, inner: Rect, lines: &[Line<'_>], scroll: usize) {
    let max = lines.len().saturating_sub(inner.height as usize);
    for (y, l) in (inner.y..inner.y + inner.height).zip(lines.iter().skip(scroll.min(max))) {
        buf.set_line(inner.x + 1, y, l, inner.width.saturating_sub(2));
    }
}

pub fn details(
    state: &AppState,
    id: u64,
    scroll: usize,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let r = popup(area, 100, area.height.saturating_sub(2));
    let inner = frame(buf, r, &format!("Command #{id} · Esc closes"), theme);
    let label_w = 13usize;
    let text_w = (inner.width as usize).saturating_sub(label_w + 3);
    let mut lines = Vec::new();
    for (label, value) in detail_lines(state, id) {
        let value = text::sanitize_line(&value).into_owned();
        // Keep the payload's line structure; sanitize each line on its own.
        for (i, piece) in wrap(&value.replace("\\n", "\n"), text_w)
            .into_iter()
            .enumerate()
        {
            let l = if i == 0 { label.as_str() } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!("{l:<label_w$} "), theme.accent()),
                Span::raw(piece),
            ]));
        }
    }
    put(buf, inner, &lines, scroll);
}

/// Returns where the cursor goes (the typed phrase).
pub fn confirm(
    phrase: &str,
    target: &str,
    input: &LineInput,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
) -> Option<Position> {
    let r = popup(area, 72, 9);
    let inner = frame(buf, r, "HIGH RISK: confirm", theme);
    let target = text::sanitize_line(target);
    let shown = text::sanitize_line(&input.text);
    let lines = vec![
        Line::from(vec![
            Span::raw("This changes GitLab: "),
            Span::styled(target.into_owned(), theme.bold()),
        ]),
        Line::from(vec![
            Span::raw("Type "),
            Span::styled(phrase.to_string(), theme.key()),
            Span::raw(" and press Enter to approve."),
        ]),
        Line::styled(
            "Anything else, an empty Enter or Esc: No (stays proposed).",
            theme.dim(),
        ),
        Line::raw(""),
        Line::from(vec![
            Span::styled("> ", theme.error()),
            Span::raw(shown.clone().into_owned()),
        ]),
    ];
    put(buf, inner, &lines, 0);
    let y = inner.y + 4;
    (y < inner.y + inner.height).then(|| {
        let col = input.cursor.min(shown.chars().count()) as u16;
        Position::new(
            (inner.x + 3 + col).min(inner.x + inner.width.saturating_sub(1)),
            y,
        )
    })
}

pub fn bulk(preview: &BulkPreview, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let n = preview.approve.len() + preview.needs_confirmation.len() + preview.skipped.len();
    let r = popup(area, 90, (n as u16 + 9).min(area.height));
    let inner = frame(buf, r, "Bulk approval", theme);
    let mut lines = vec![Line::styled(
        format!("Approve and run these {}?", preview.approve.len()),
        theme.bold(),
    )];
    for (id, l) in &preview.approve {
        lines.push(Line::raw(format!("  #{id} {}", text::sanitize_line(l))));
    }
    if !preview.needs_confirmation.is_empty() {
        lines.push(Line::styled(
            "High risk, not included (approve each with its own confirmation):",
            theme.warn(),
        ));
        for (id, l) in &preview.needs_confirmation {
            lines.push(Line::raw(format!("  #{id} {}", text::sanitize_line(l))));
        }
    }
    if !preview.skipped.is_empty() {
        lines.push(Line::styled("Skipped:", theme.dim()));
        for (id, l) in &preview.skipped {
            lines.push(Line::styled(
                format!("  #{id} {}", text::sanitize_line(l)),
                theme.dim(),
            ));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("y", theme.key()),
        Span::raw(" approves · any other key: No"),
    ]));
    put(buf, inner, &lines, 0);
}

/// `q` with proposals waiting: quitting leaves them (they come back, restored, next time).
pub fn quit_confirm(waiting: usize, marked: usize, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let r = popup(area, 64, 7.min(area.height));
    let inner = frame(buf, r, "Quit gitaiops?", theme);
    let mut what = format!("{waiting} proposal(s) waiting");
    if marked > 0 {
        what.push_str(&format!(", {marked} marked"));
    }
    let lines = vec![
        Line::styled(what, theme.bold()),
        Line::styled(
            "They are kept in the audit log and restored next time.",
            theme.dim(),
        ),
        Line::raw(""),
        Line::from(vec![
            Span::styled("y", theme.key()),
            Span::raw(" quits · any other key stays"),
        ]),
    ];
    put(buf, inner, &lines, 0);
}

pub fn editor(
    state: &AppState,
    id: u64,
    editor: &ratatui_textarea::TextArea<'static>,
    error: Option<&str>,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let r = popup(area, 90, 16);
    let what = state
        .commands
        .get(id)
        .map(|i| format!("{} {}", i.kind(), i.target_label))
        .unwrap_or_default();
    // The keys first: a long target is what gets cut, never how to save or leave.
    let title = format!(
        "Ctrl-S saves · Esc discards · edit #{id} {}",
        text::sanitize_line(&what)
    );
    let inner = frame(buf, r, &title, theme);
    if inner.height < 3 {
        return;
    }
    let help = match error {
        Some(e) => Line::styled(format!("error: {}", text::sanitize_line(e)), theme.error()),
        None => Line::styled(
            "labels: \"add: a, b\" and \"remove: c\" lines · reviewers: usernames · comment: the body",
            theme.dim(),
        ),
    };
    let text_area = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        height: inner.height - 1,
        ..inner
    };
    editor.render(text_area, buf);
    buf.set_line(
        inner.x + 1,
        inner.y + inner.height - 1,
        &help,
        inner.width.saturating_sub(2),
    );
}

#[cfg(test)]
mod tests {
    use super::wrap;

    /// Found on a first day: popups cut words in half.
    #[test]
    fn popups_wrap_at_words_and_cut_only_what_cannot_fit() {
        assert_eq!(
            wrap("the pipeline for this head succeeded\nsecond", 16),
            vec!["the pipeline for", "this head", "succeeded", "second"]
        );
        assert_eq!(
            wrap("POST /api/v4/projects/1/merge_requests/15/notes", 20),
            vec!["POST", "/api/v4/projects/1/m", "erge_requests/15/not", "es"]
        );
        assert_eq!(wrap("", 10), vec![String::new()]);
    }
}
