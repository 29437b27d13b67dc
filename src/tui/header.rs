//! Header: where we are (project, host, connection, freshness) and how the project is doing
//! (open MRs, running/failed pipelines, success rate, median duration, API rate, planner).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::state::{AppState, Conn, Freshness};
use crate::app::text;

use super::theme::Theme;

/// Spans separated by a divider; whole items are dropped from the end when the line is too
/// narrow, so nothing is cut mid-word.
fn fitted<'a>(
    items: Vec<Vec<Span<'a>>>,
    width: usize,
    sep: &'a str,
    sep_style: Style,
    ascii: bool,
) -> Line<'a> {
    let mut spans: Vec<Span<'a>> = Vec::new();
    let mut used = 0;
    for (i, item) in items.into_iter().enumerate() {
        let w: usize = item.iter().map(|s| s.width()).sum();
        let extra = if i == 0 { 0 } else { sep.chars().count() };
        if used + extra + w > width {
            // Room for a useful part of it (an error message): cut it rather than drop it.
            let room = width.saturating_sub(used + extra);
            if room >= 16 {
                spans.push(Span::styled(sep, sep_style));
                let mut left = room;
                for s in item {
                    if left == 0 {
                        break;
                    }
                    let t = text::truncate(&s.content, left, ascii).into_owned();
                    left = left.saturating_sub(text::width(&t));
                    spans.push(Span::styled(t, s.style));
                }
            }
            break;
        }
        if i > 0 {
            spans.push(Span::styled(sep, sep_style));
        }
        used += extra + w;
        spans.extend(item);
    }
    Line::from(spans)
}

pub fn render(state: &AppState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let s = &state.settings;
    let sep = if theme.ascii { " | " } else { " │ " };
    // The mode comes first, in words, so no width and no error message can push it out.
    let policy = state.commands.policy();
    let mut modes: Vec<(&str, Style)> = Vec::new();
    if s.demo {
        modes.push(("DEMO", theme.accent().patch(theme.bold())));
    }
    if s.read_only || policy.read_only {
        modes.push(("READ-ONLY", theme.warn().patch(theme.bold())));
    } else if policy.mode == crate::command::policy::Mode::Suggest {
        modes.push(("SUGGEST", theme.warn().patch(theme.bold())));
    }
    let mut badges: Vec<Span> = Vec::new();
    for (word, style) in &modes {
        badges.push(Span::raw(" "));
        badges.push(Span::styled(*word, *style));
    }
    let retry = state.retry_note();
    let with_retry = |mut v: Vec<Span<'static>>| {
        if let Some(r) = &retry {
            v.push(Span::styled(format!(", {r}"), theme.warn()));
        }
        v
    };
    let conn: Vec<Span> = match state.freshness() {
        Freshness::Connecting => with_retry(vec![Span::styled(
            if theme.ascii {
                "o connecting"
            } else {
                "◌ connecting"
            },
            theme.warn(),
        )]),
        Freshness::Live => with_retry(vec![
            Span::styled(if theme.ascii { "* live" } else { "● live" }, theme.ok()),
            Span::styled(format!(", updated {}", updated(state)), theme.dim()),
        ]),
        Freshness::Stale { .. } => with_retry(vec![Span::styled(
            state.stale_note().unwrap_or_else(|| "STALE".into()),
            theme.error().patch(theme.bold()),
        )]),
    };
    let mut first = Vec::new();
    if !badges.is_empty() {
        first.push(badges);
    }
    first.push(vec![Span::styled(
        if first.is_empty() {
            " gitaiops"
        } else {
            "gitaiops"
        },
        theme.bold(),
    )]);
    first.push(vec![
        Span::styled(
            text::sanitize_line(&s.project).into_owned(),
            theme.accent().patch(theme.bold()),
        ),
        Span::styled(format!(" @ {}", text::sanitize_line(&s.host)), theme.dim()),
        // More projects are watched: say so, and how to reach them.
        Span::styled(
            match s.watched.len() {
                0 | 1 => String::new(),
                n => {
                    let i = s
                        .watched
                        .iter()
                        .position(|p| {
                            p.instance == s.instance && p.path.eq_ignore_ascii_case(&s.project)
                        })
                        .map_or(String::from("-"), |i| (i + 1).to_string());
                    format!(" ({i} of {n}, :project for the next)")
                }
            },
            theme.dim(),
        ),
    ]);
    first.push(conn);
    // The last error goes last: cut to what is left, never in place of the mode.
    if let (Some(r), Conn::Error(_)) = (&state.retry, &state.conn) {
        first.push(vec![Span::styled(
            format!(
                "{} {}",
                if theme.ascii { "x" } else { "✗" },
                text::sanitize_line(&r.error)
            ),
            theme.error(),
        )]);
    }
    // Who the rows are for ("review me", "assigned me"): last, so a narrow screen cuts it
    // before the connection state.
    if let Some(u) = state.snapshot.as_ref().and_then(|snap| snap.user.as_ref()) {
        first.push(vec![Span::styled(
            format!("@{}", text::sanitize_line(&u.username)),
            theme.dim(),
        )]);
    }
    buf.set_line(
        area.x,
        area.y,
        &fitted(first, area.width as usize, sep, theme.dim(), theme.ascii),
        area.width,
    );

    if area.height < 2 {
        return;
    }
    let m = &state.metrics;
    let have = state.snapshot.is_some();
    let num = |n: usize| if have { n.to_string() } else { "-".into() };
    let rate = m
        .success_rate
        .map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "-".into());
    let median = m
        .median_duration
        .map(text::duration)
        .unwrap_or_else(|| "-".into());
    let rpm = state
        .requests_per_min
        .map(|r| r.to_string())
        .unwrap_or_else(|| "-".into());
    let failed_style = if m.failed_pipelines > 0 {
        theme.error()
    } else {
        Style::new()
    };
    let second = vec![
        vec![
            Span::raw(" "),
            Span::styled(num(m.open_mrs), theme.bold()),
            Span::raw(" MRs"),
        ],
        vec![
            Span::styled(num(m.running_pipelines), theme.bold()),
            Span::raw(" running"),
        ],
        vec![
            Span::styled(num(m.failed_pipelines), failed_style),
            Span::raw(" failed"),
        ],
        vec![
            Span::styled(rate, theme.bold()),
            Span::raw(" success"),
            Span::styled(" (last 20)", theme.dim()),
        ],
        vec![Span::raw("median "), Span::styled(median, theme.bold())],
        vec![Span::styled(rpm, theme.bold()), Span::raw(" API req/min")],
        vec![
            Span::raw("planner "),
            Span::styled(
                text::sanitize_line(&state.planner.provider).into_owned(),
                theme.bold(),
            ),
            Span::styled(
                format!(
                    " {}, {} tokens{}",
                    state.planner.state,
                    state.planner.tokens,
                    state
                        .plan
                        .cost_usd
                        .filter(|c| *c > 0.0)
                        .map(|c| format!(", ~${c:.4}"))
                        .unwrap_or_default()
                ),
                if state.planner.state.starts_with("error") {
                    theme.error()
                } else if state.plan.running {
                    theme.warn()
                } else {
                    theme.dim()
                },
            ),
        ],
    ];
    buf.set_line(
        area.x,
        area.y + 1,
        &fitted(second, area.width as usize, sep, theme.dim(), theme.ascii),
        area.width,
    );
}

/// Coarse on purpose: an idle screen stays byte-for-byte identical while polls keep it fresh.
fn updated(state: &AppState) -> String {
    match state.last_contact {
        Some(t) if state.now.as_second() - t.as_second() < 60 => "just now".into(),
        Some(t) => format!("{} ago", text::age(Some(t), state.now)),
        None => "never".into(),
    }
}
