//! Property test: random key sequences, resizes (down to 40x10, below the minimum) and the
//! runtime's answers (plan results, job logs, execution reports, new snapshots) through
//! `update`, each followed by a real frame. Nothing panics, and every list's selection stays on a
//! row that is drawn: MRs, pipelines, queue and activity in every layout, the log view, the help.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::draw::draw;
use super::theme::Theme;
use crate::app::layout::{Area, Mode, Pane};
use crate::app::logview::text_cols;
use crate::app::planner::PlanMsg;
use crate::app::state::{Overlay, View};
use crate::app::symbols;
use crate::app::{AppState, Effect, Msg, update};
use crate::command::Command;
use crate::command::executor::ExecReport;
use crate::command::queue::Finish;
use crate::diagnose::log::LogIndex;
use crate::llm::provider::Usage;
use crate::plan::run::PlanOutcome;
use crate::testkit::{self, AppBuilder};

const KEYS: &[&str] = &[
    "j",
    "k",
    "g",
    "G",
    "pgdn",
    "pgup",
    "ctrl-f",
    "ctrl-b",
    "up",
    "down",
    "home",
    "end",
    "1",
    "2",
    "3",
    "4",
    "tab",
    "shift-tab",
    "enter",
    "esc",
    "?",
    "/",
    ":",
    "p",
    "d",
    "a",
    "x",
    "e",
    "space",
    "A",
    "y",
    "n",
    "s",
    "S",
    "l",
    "h",
    "left",
    "right",
    "N",
    "f",
    "w",
    "+",
    "-",
    "]",
    "[",
    "z",
    "r",
    "backspace",
    "q",
];

/// Typed text, mostly into the palette or a filter (a `:` or `/` step comes first).
const TEXT: &[&str] = &[
    ":retry\n",
    ":merge\n",
    ":cancel\n",
    ":comment flaky again\n",
    ":label +ci::flaky\n",
    ":log 1002\n",
    ":help\n",
    ":sort title\n",
    ":filter fix\n",
    "/fix\n",
    "/a",
    "merge !1\n",
    "zz\n",
];

#[derive(Debug, Clone)]
enum Step {
    Key(&'static str),
    Text(&'static str),
    Resize(u16, u16),
    /// A poll with some MRs and pipelines gone (or all back).
    Snapshot(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => proptest::sample::select(KEYS).prop_map(Step::Key),
        2 => proptest::sample::select(TEXT).prop_map(Step::Text),
        1 => (40u16..=200, 10u16..=60).prop_map(|(w, h)| Step::Resize(w, h)),
        1 => (0u8..4).prop_map(Step::Snapshot),
    ]
}

fn note(i: usize) -> Command {
    serde_json::from_value(serde_json::json!({
        "kind": "note", "project": "acme/platform", "text": format!("watch item {i}"),
        "rationale": "proposed by the property test",
    }))
    .unwrap()
}

fn outcome(n: usize) -> PlanOutcome {
    PlanOutcome {
        planner: "rules".into(),
        model: "rules".into(),
        summary: "Main is red: retry the runner failure, and watch the flaky suites.".into(),
        commands: (0..n).map(note).collect(),
        rejected: vec![],
        usage: Usage::default(),
        cost_usd: None,
        template_version: "plan-1".into(),
        prompt_hash: "h".into(),
        prompt_tokens_est: 0,
        omitted: vec![],
        reasked: false,
        cached: false,
        salvaged: None,
    }
}

fn job_log(lines: usize) -> Arc<LogIndex> {
    let mut text = String::new();
    for i in 0..lines {
        if i % 40 == 0 {
            text.push_str(&format!(
                "\x1b[0Ksection_start:{}:part_{i}[collapsed={}]\r\x1b[0KPart {i}\n",
                1_700_000_000 + i,
                i % 80 == 0
            ));
        }
        if i % 17 == 5 {
            text.push_str("error: something failed here, with a line long enough to wrap on a narrow terminal when wrapping is on\n");
        } else {
            text.push_str(&format!("line {i}\n"));
        }
        if i % 40 == 39 {
            text.push_str(&format!(
                "\x1b[0Ksection_end:{}:part_{}\r\x1b[0K\n",
                1_700_000_000 + i,
                i - 39
            ));
        }
    }
    Arc::new(LogIndex::parse(Arc::new(text.into_bytes())))
}

/// The runtime's part, without IO: answers to the effects `update` asked for.
fn answers(fx: Vec<Effect>, plan_size: usize, log_lines: usize) -> Vec<Msg> {
    let mut out = Vec::new();
    for e in fx {
        match e {
            Effect::Plan { run, .. } => out.push(Msg::Plan(PlanMsg::Finished {
                run,
                result: Box::new(Ok(outcome(plan_size))),
            })),
            Effect::WatchJobLog(Some(job_id)) => out.push(Msg::JobLog {
                job_id,
                index: job_log(log_lines),
                complete: log_lines.is_multiple_of(2),
            }),
            Effect::Execute { ticket, .. } => out.push(Msg::Executed(Box::new(ExecReport {
                item: ticket.item,
                command: ticket.command.clone(),
                finish: Finish::Done("201".into()),
                request: None,
                http_status: Some(201),
                duration: Duration::from_millis(5),
                audit_error: None,
            }))),
            _ => {}
        }
    }
    out
}

fn snapshot(variant: u8) -> Arc<crate::gitlab::ProjectSnapshot> {
    let mut s = testkit::snapshot();
    match variant {
        1 => {
            let keep: Vec<u64> = s.mrs.keys().copied().take(1).collect();
            std::sync::Arc::make_mut(&mut s.mrs).retain(|iid, _| keep.contains(iid));
        }
        2 => {
            let keep: Vec<u64> = s.pipelines.keys().copied().take(2).collect();
            std::sync::Arc::make_mut(&mut s.pipelines).retain(|id, _| keep.contains(id));
        }
        3 => {
            std::sync::Arc::make_mut(&mut s.mrs).clear();
            std::sync::Arc::make_mut(&mut s.pipelines).clear();
        }
        _ => {}
    }
    Arc::new(s)
}

fn rect(a: Area) -> Rect {
    Rect::new(a.x, a.y, a.w, a.h)
}

/// Rows of `area`'s first column inside its border holding the selection glyph.
fn marked_rows(buf: &Buffer, area: Area, glyph: &str) -> Vec<u16> {
    let r = rect(area).intersection(buf.area);
    (r.y..r.y + r.height)
        .filter(|&y| buf.cell((r.x + 1, y)).is_some_and(|c| c.symbol() == glyph))
        .collect()
}

fn list_len(s: &AppState, pane: Pane) -> usize {
    match pane {
        Pane::Mrs => s.mrs.rows.len(),
        Pane::Pipelines => s.pipelines.rows.len(),
        Pane::Queue => s.queue.items.len(),
        Pane::Activity => s.activity.len(),
    }
}

fn cursor(s: &AppState, pane: Pane) -> crate::app::list::ListCursor {
    match pane {
        Pane::Mrs => s.mrs.cursor,
        Pane::Pipelines => s.pipelines.cursor,
        Pane::Queue => s.queue.cursor,
        Pane::Activity => s.activity.cursor,
    }
}

fn check(s: &AppState, buf: &Buffer, after: &[Step]) -> Result<(), TestCaseError> {
    let l = &s.layout;
    let ctx = || format!("{}x{} after {:?}", s.width, s.height, after);
    for pane in Pane::ALL {
        let (len, c) = (list_len(s, pane), cursor(s, pane));
        prop_assert!(
            c.selected < len.max(1),
            "{pane:?}: selection {} of {len} ({})",
            c.selected,
            ctx()
        );
    }
    if l.mode == Mode::TooSmall {
        return Ok(());
    }
    let glyph = symbols::glyphs(s.settings.ascii).selected;
    match (&s.view, &s.overlay) {
        // Overlays (dialogs, the palette's suggestions) cover the panes while open.
        (View::Main, Overlay::None) => {
            for (pane, area) in &l.panes {
                let len = list_len(s, *pane);
                // Activity marks its selection only while focused.
                if len == 0 || (*pane == Pane::Activity && s.focus != Pane::Activity) {
                    continue;
                }
                let rows = marked_rows(buf, *area, glyph);
                prop_assert_eq!(
                    rows.len(),
                    1,
                    "{:?}: {} rows, selection {} at offset {}, drawn {:?} ({})",
                    pane,
                    len,
                    cursor(s, *pane).selected,
                    cursor(s, *pane).offset,
                    rows,
                    ctx()
                );
            }
        }
        (View::Log(v), _) => {
            let entries = v.entry_count();
            if entries > 0 {
                let rows = l.view_rows().max(1);
                let cols = text_cols(
                    l.view_cols(),
                    v.index.as_ref().map_or(0, |i| i.line_count()),
                );
                prop_assert!(v.cursor < entries, "log cursor {} of {entries}", v.cursor);
                prop_assert!(
                    v.top <= v.cursor,
                    "log top {} below cursor {}",
                    v.top,
                    v.cursor
                );
                let used: usize = (v.top..=v.cursor).map(|e| v.entry_height(e, cols)).sum();
                prop_assert!(
                    used <= rows || v.top == v.cursor,
                    "log cursor {} below the screen: {used} rows from top {} > {rows} ({})",
                    v.cursor,
                    v.top,
                    ctx()
                );
            }
        }
        _ => {}
    }
    if let Overlay::Help { scroll } = s.overlay {
        // The help's popup: the body less 2 rows, inside its border.
        let inner_h = l.body.h.saturating_sub(2).saturating_sub(2) as usize;
        let lines = super::help::lines(&s.keymap, &Theme::new(false, false)).len();
        prop_assert!(
            scroll <= lines.saturating_sub(inner_h),
            "help scrolled to {scroll} of {lines} lines with {inner_h} on screen ({})",
            ctx()
        );
    }
    Ok(())
}

fn run(
    w: u16,
    h: u16,
    plan_size: usize,
    log_lines: usize,
    steps: &[Step],
) -> Result<(), TestCaseError> {
    let mut s = AppBuilder::new().size(w, h).build();
    let theme = Theme::new(true, false);
    for (i, st) in steps.iter().enumerate() {
        let mut fx = match st {
            Step::Key(k) => testkit::press(&mut s, k),
            Step::Text(t) => {
                testkit::type_text(&mut s, t);
                Vec::new()
            }
            Step::Resize(w, h) => update(&mut s, Msg::Resize { w: *w, h: *h }),
            Step::Snapshot(v) => {
                let epoch = s.epoch;
                update(
                    &mut s,
                    Msg::Snapshot {
                        epoch,
                        snapshot: snapshot(*v),
                    },
                )
            }
        };
        // Answers may ask for more (a plan's proposals, a log's refetch): a few rounds.
        for _ in 0..3 {
            let msgs = answers(std::mem::take(&mut fx), plan_size, log_lines);
            if msgs.is_empty() {
                break;
            }
            for m in msgs {
                fx.extend(update(&mut s, m));
            }
        }
        let mut buf = Buffer::empty(Rect::new(0, 0, s.width, s.height));
        draw(&s, &theme, &mut buf);
        check(&s, &buf, &steps[..=i])?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn keys_at_any_size_never_panic_and_keep_selections_on_screen(
        w in 40u16..=200,
        h in 10u16..=60,
        plan_size in 0usize..30,
        log_lines in 1usize..400,
        steps in proptest::collection::vec(step(), 1..50),
    ) {
        run(w, h, plan_size, log_lines, &steps)?;
    }
}

/// The case from the issue: after `p`, `3`, `G` at 120x40 the queue's last item was below the
/// pane (the one-line plan summary above the queue took a row its list did not count).
#[test]
fn the_plan_banner_does_not_hide_the_queue_selection() {
    let steps = [Step::Key("p"), Step::Key("3"), Step::Key("G")];
    run(120, 40, 12, 10, &steps).unwrap();
}

/// The other case from the issue: with the queue full, a `:merge` made on the MR pane is
/// appended to the queue and selected, and must be on screen when the queue is looked at.
#[test]
fn a_palette_proposal_lands_selected_on_screen() {
    let steps = [
        Step::Key("p"),
        Step::Key("1"),
        Step::Text(":merge\n"),
        Step::Key("3"),
    ];
    run(120, 40, 9, 10, &steps).unwrap();
    run(80, 24, 9, 10, &steps).unwrap();
}

/// `G` in the help used to park the scroll far past the end, so `k` moved nothing on screen.
#[test]
fn help_scrolls_back_from_its_end_at_once() {
    let mut s = AppBuilder::new().size(100, 30).build();
    testkit::press_all(&mut s, &["?", "G"]);
    let max = crate::app::help::max_scroll(&s.keymap, &s.layout);
    assert!(max > 0);
    assert!(matches!(s.overlay, Overlay::Help { scroll } if scroll == max));
    testkit::press(&mut s, "k");
    assert!(matches!(s.overlay, Overlay::Help { scroll } if scroll == max - 1));
    // A taller terminal shows more: the scroll shrinks with it.
    update(&mut s, Msg::Resize { w: 100, h: 200 });
    assert!(matches!(s.overlay, Overlay::Help { scroll: 0 }));
}
