//! Render snapshots (TestBackend + insta) at the layout breakpoints, plus cell-style checks:
//! status colours, selection, NO_COLOR and ASCII variants.

use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use super::draw::draw;
use super::theme::Theme;
use crate::app::activity::ActivityKind;
use crate::app::{AppState, Key, Keymap, Msg, update};
use crate::command::operator::Selection;
use crate::diagnose::log::LogIndex;
use crate::testkit::{self, propose, type_text as typed};

pub(crate) fn state(w: u16, h: u16) -> AppState {
    let mut s = testkit::app_state(w, h);
    update(
        &mut s,
        Msg::Requests {
            epoch: 0,
            total: 40,
            last_minute: 12,
        },
    );
    s.now = "2026-03-01T12:00:05Z".parse().unwrap();
    update(
        &mut s,
        Msg::Activity {
            kind: ActivityKind::Error,
            text: "503 from gitlab.test: service unavailable".into(),
        },
    );
    s.now = testkit::now();
    update(
        &mut s,
        Msg::Activity {
            kind: ActivityKind::Pipeline,
            text: "pipeline #106 on main: running -> failed".into(),
        },
    );
    s
}

fn keys(s: &mut AppState, specs: &[&str]) {
    testkit::press_all(s, specs);
}

pub(crate) fn render(s: &AppState, theme: Theme) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(s.width, s.height)).unwrap();
    t.draw(|f| {
        if let Some(p) = draw(s, &theme, f.buffer_mut()) {
            f.set_cursor_position(p);
        }
    })
    .unwrap();
    t
}

/// The screen as text, one line per row (for app tests that check what an operator sees).
pub(crate) fn render_text(s: &AppState) -> String {
    let t = render(s, Theme::new(false, false));
    let buf = buffer(&t);
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn color() -> Theme {
    Theme::new(true, false)
}

fn buffer(t: &Terminal<TestBackend>) -> &Buffer {
    t.backend().buffer()
}

/// Position of the first cell of `needle` on screen.
fn find(buf: &Buffer, needle: &str) -> (u16, u16) {
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        if let Some(i) = row.find(needle) {
            // Column = display width of the prefix (all test prefixes are single-width).
            let col = row[..i].chars().count() as u16;
            return (col, y);
        }
    }
    panic!("{needle:?} not on screen");
}

fn sample_log() -> Arc<LogIndex> {
    let text = concat!(
        "Running with gitlab-runner 17.4.0 (abc123)\n",
        "\x1b[0Ksection_start:1740830000:prepare_executor\r\x1b[0K\x1b[36;1mPreparing the \"docker\" executor\x1b[0;m\n",
        "Using Docker executor with image rust:1.88 ...\n",
        "\x1b[0Ksection_end:1740830012:prepare_executor\r\x1b[0K\n",
        "\x1b[0Ksection_start:1740830012:step_script[collapsed=true]\r\x1b[0K\x1b[36;1mExecuting \"step_script\"\x1b[0;m\n",
        "\x1b[32;1m$ cargo test\x1b[0;m\n",
        "   Compiling app v0.1.0\n",
        "test cache::tests::invalidates ... \x1b[31mFAILED\x1b[0m\n",
        "\x1b[0Ksection_end:1740830400:step_script\r\x1b[0K\n",
        "\x1b]0;evil title\x07\x1b[2Jerror: test failed, to rerun pass `--lib`\n",
        "\x1b[31;1mERROR: Job failed: exit code 101\x1b[0;m\n",
    );
    Arc::new(LogIndex::parse(Arc::new(text.as_bytes().to_vec())))
}

#[test]
fn main_120x40() {
    let s = state(120, 40);
    insta::assert_snapshot!(render(&s, color()).backend());
}

#[test]
fn main_80x24() {
    let s = state(80, 24);
    insta::assert_snapshot!(render(&s, color()).backend());
}

#[test]
fn narrow_70x24_pipelines_tab() {
    let mut s = state(70, 24);
    keys(&mut s, &["2", "enter"]);
    insta::assert_snapshot!(render(&s, color()).backend());
}

#[test]
fn too_small_40x10() {
    let s = state(40, 10);
    insta::assert_snapshot!(render(&s, color()).backend());
}

#[test]
fn log_viewer_120x40() {
    let mut s = state(120, 40);
    typed(&mut s, ":log 1002\n");
    update(
        &mut s,
        Msg::JobLog {
            job_id: 1002,
            index: sample_log(),
            complete: true,
        },
    );
    typed(&mut s, "/cargo\n");
    let t = render(&s, color());
    let buf = buffer(&t);
    // No escape survives to the screen: the title change and clear-screen were dropped.
    let all: String = buf.content().iter().map(|c| c.symbol()).collect();
    assert!(!all.contains('\x1b') && !all.contains('\x07'));
    // SGR colours are kept: FAILED was red in the log.
    let (x, y) = find(buf, "FAILED");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    insta::assert_snapshot!(t.backend());
}

/// Found on a first day: in wrap mode at 60x20 the counter said `line 53/53` while line 53
/// was below the screen (drawn lines are taller than the app's estimate: redaction markers
/// and section durations are longer than the text they replace or follow).
#[test]
fn wrap_mode_keeps_the_counted_line_on_screen_60x20() {
    let mut s = state(60, 20);
    typed(&mut s, ":log 1002\n");
    let mut text = String::new();
    for i in 0..50 {
        // Each line grows on screen: a short secret becomes a long marker.
        text.push_str(&format!(
            "step {i:02} API_TOKEN=x1 API_TOKEN=x2 API_TOKEN=x3\n"
        ));
    }
    text.push_str("ERROR: Job failed: exit code 1\n");
    update(
        &mut s,
        Msg::JobLog {
            job_id: 1002,
            index: Arc::new(LogIndex::parse(Arc::new(text.into_bytes()))),
            complete: true,
        },
    );
    keys(&mut s, &["w", "G"]);
    let t = render(&s, color());
    let buf = buffer(&t);
    let screen: String = (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                + "\n"
        })
        .collect();
    assert!(screen.contains("line 51/51"), "{screen}");
    assert!(
        screen.contains("ERROR: Job failed: exit code 1"),
        "the counted line is on screen: {screen}"
    );
}

#[test]
fn mr_detail_80x24() {
    let mut s = state(80, 24);
    keys(&mut s, &["j", "j", "enter"]);
    insta::assert_snapshot!(render(&s, color()).backend());
}

/// The detail with its approval rules and threads (unresolved first) on screen.
#[test]
fn mr_detail_threads_and_rules_120x40() {
    let mut s = state(120, 40);
    keys(&mut s, &["j", "j", "enter"]);
    insta::assert_snapshot!(render(&s, color()).backend());
}

#[test]
fn help_overlay_80x24() {
    let mut s = state(80, 24);
    keys(&mut s, &["?"]);
    insta::assert_snapshot!(render(&s, color()).backend());
}

#[test]
fn palette_shows_matching_commands() {
    let mut s = state(80, 24);
    keys(&mut s, &[":", "r"]);
    let t = render(&s, color());
    let buf = buffer(&t);
    find(buf, ":refresh");
    find(buf, ":readonly");
    assert_eq!(
        t.backend().cursor_position(),
        ratatui::layout::Position { x: 2, y: 23 }
    );
}

#[test]
fn generated_help_lists_every_binding() {
    let theme = color();
    let text: Vec<String> = super::help::lines(&Keymap::defaults(), &theme)
        .iter()
        .map(|l| l.to_string())
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}

#[test]
fn status_colours_and_selection() {
    let s = state(120, 40);
    let t = render(&s, color());
    let buf = buffer(&t);
    // Pipelines pane: #106 failed (first row, selected? no: focus is on MRs).
    let (x, y) = find(buf, "✗ failed");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
    let (x, y) = find(buf, "✓ success");
    assert_eq!(buf[(x, y)].fg, Color::Green);
    let (x, y) = find(buf, "● running");
    assert_eq!(buf[(x, y)].fg, Color::Blue);
    // The selected MR row is reversed across the pane, colours kept.
    let (x, y) = find(buf, "Bump serde");
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
    let (x, y) = find(buf, "Fix cache");
    assert!(!buf[(x, y)].modifier.contains(Modifier::REVERSED));
    // The read-write/connection state is text, not only colour.
    find(buf, "● live");
}

#[test]
fn queue_rows_show_risk_and_status() {
    let mut s = state(120, 40);
    propose(&mut s, ":retry", Selection::Job(1061));
    propose(&mut s, ":cancel", Selection::Pipeline(103));
    keys(&mut s, &["3"]);
    update(&mut s, Msg::Key(Key::char('j')));
    update(&mut s, Msg::Key(Key::char('x')));
    update(&mut s, Msg::Key(Key::parse("enter").unwrap()));
    let t = render(&s, color());
    let buf = buffer(&t);
    find(buf, "(1 waiting)");
    let (x, y) = find(buf, "HIGH");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    find(buf, "rejected");
}

#[test]
fn no_color_has_no_colour_but_keeps_symbols_and_words() {
    let s = state(120, 40);
    let t = render(&s, Theme::new(false, false));
    let buf = buffer(&t);
    for c in buf.content() {
        assert_eq!(c.fg, Color::Reset, "{:?}", c);
        assert_eq!(c.bg, Color::Reset, "{:?}", c);
    }
    find(buf, "✗ failed");
    let (x, y) = find(buf, "Bump serde");
    assert!(
        buf[(x, y)].modifier.contains(Modifier::REVERSED),
        "selection still visible"
    );
    // Same text as the colour render.
    let colour = render(&s, color());
    let text = |b: &Buffer| {
        b.content()
            .iter()
            .map(|c| c.symbol().to_string())
            .collect::<String>()
    };
    assert_eq!(text(buf), text(buffer(&colour)));
}

#[test]
fn no_color_log_keeps_text_attributes_only() {
    let mut s = state(120, 40);
    typed(&mut s, ":log 1002\n");
    update(
        &mut s,
        Msg::JobLog {
            job_id: 1002,
            index: sample_log(),
            complete: true,
        },
    );
    keys(&mut s, &["+"]);
    let t = render(&s, Theme::new(false, false));
    let buf = buffer(&t);
    let (x, y) = find(buf, "FAILED");
    assert_eq!(buf[(x, y)].fg, Color::Reset);
    let (x, y) = find(buf, "ERROR: Job failed");
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
}

#[test]
fn ascii_mode_draws_only_ascii() {
    let mut s = state(120, 40);
    s.settings.ascii = true;
    let t = render(&s, Theme::new(true, true));
    let buf = buffer(&t);
    for c in buf.content() {
        assert!(c.symbol().is_ascii(), "{:?}", c.symbol());
    }
    find(buf, "x failed");
    insta::assert_snapshot!(t.backend());
}

#[test]
fn hostile_titles_cannot_reach_the_terminal() {
    let mut snap = testkit::snapshot();
    std::sync::Arc::make_mut(&mut snap.mrs)
        .get_mut(&1)
        .map(std::sync::Arc::make_mut)
        .unwrap()
        .title = "\x1b]52;c;ZXZpbA==\x07\x1b[2Jsteal\u{202E}gpj.exe".into();
    let mut s = state(120, 40);
    update(
        &mut s,
        Msg::Snapshot {
            epoch: 0,
            snapshot: Arc::new(snap),
        },
    );
    let t = render(&s, color());
    for c in buffer(&t).content() {
        assert!(
            !c.symbol()
                .chars()
                .any(|ch| ch.is_control() || ch == '\u{202E}'),
            "{:?}",
            c.symbol()
        );
    }
    find(buffer(&t), "steal");
}

/// A queue with items in several statuses: proposed, rejected (with reason), executing,
/// done, invalid (a retry of a job that is running) and a marked one.
fn queue_state() -> AppState {
    let mut s = state(140, 40);
    propose(&mut s, ":retry", Selection::Job(1061));
    propose(&mut s, ":cancel", Selection::Pipeline(103));
    propose(&mut s, ":retry", Selection::Job(1002));
    propose(&mut s, ":label +needs-review -bug", Selection::Mr(1));
    propose(
        &mut s,
        ":comment Rebased, please take another look",
        Selection::Mr(2),
    );
    keys(&mut s, &["3"]);
    // #2 rejected with a reason.
    keys(&mut s, &["g", "j", "x"]);
    typed(&mut s, "superseded by the new push\n");
    // #3 approved and executing.
    keys(&mut s, &["j", "a"]);
    // #1 approved, executed, done.
    keys(&mut s, &["g", "a"]);
    let command = s.commands.get(1).unwrap().command.clone();
    update(
        &mut s,
        Msg::Executed(Box::new(crate::command::executor::ExecReport {
            item: 1,
            command,
            finish: crate::command::queue::Finish::Done("new job 1062 (pending)".into()),
            request: None,
            http_status: Some(201),
            duration: std::time::Duration::from_millis(40),
            audit_error: None,
        })),
    );
    // #4 marked for bulk approval.
    keys(&mut s, &["G", "k", "space"]);
    // The rejected one selected: its reason shows in full on the pane's bottom border.
    keys(&mut s, &["g", "j"]);
    s
}

#[test]
fn queue_pane_statuses_140x40() {
    let s = queue_state();
    let t = render(&s, color());
    insta::assert_snapshot!(t.backend());
    let buf = buffer(&t);
    find(buf, "new job 1062");
    find(
        buf,
        "#2 rejected: rejected by operator: superseded by the new push",
    );
    assert!(
        s.queue.items[1]
            .reason
            .as_deref()
            .unwrap()
            .contains("superseded by the new push")
    );
    find(buf, "executing");
}

#[test]
fn queue_details_dialog_140x40() {
    let mut s = queue_state();
    keys(&mut s, &["g", "j", "j", "enter"]);
    let t = render(&s, color());
    find(buffer(&t), "/jobs/1002/retry");
    insta::assert_snapshot!(t.backend());
}

#[test]
fn queue_high_risk_confirm_dialog_120x40() {
    let mut s = state(120, 40);
    propose(&mut s, ":cancel", Selection::Pipeline(103));
    keys(&mut s, &["3"]);
    keys(&mut s, &["a"]);
    typed(&mut s, "cancel pip");
    let t = render(&s, color());
    find(buffer(&t), "cancel pipeline 103");
    insta::assert_snapshot!(t.backend());
}

#[test]
fn queue_bulk_dialog_120x40() {
    let mut s = state(120, 40);
    propose(&mut s, ":retry", Selection::Job(1061));
    propose(&mut s, ":retry", Selection::Job(1002));
    propose(&mut s, ":cancel", Selection::Pipeline(103));
    keys(&mut s, &["3"]);
    keys(&mut s, &["g", "space", "space", "space", "A"]);
    let t = render(&s, color());
    find(buffer(&t), "Approve and run these 2?");
    insta::assert_snapshot!(t.backend());
}

#[test]
fn queue_editor_120x40() {
    let mut s = state(120, 40);
    propose(&mut s, ":comment Please rebase", Selection::Mr(2));
    keys(&mut s, &["3"]);
    keys(&mut s, &["e"]);
    // The editor opens at the start of the text; End goes to the end of the line.
    keys(&mut s, &["end"]);
    typed(&mut s, " onto main");
    let t = render(&s, color());
    find(buffer(&t), "Please rebase onto main");
    insta::assert_snapshot!(t.backend());
}

/// A long comment opens at its start and wraps at words: the first words are on screen and the
/// last one is not cut.
#[test]
fn the_editor_opens_at_the_start_and_wraps() {
    let mut s = state(80, 24);
    let body = format!(
        "Start here. {}the end",
        "lorem ipsum dolor sit amet ".repeat(12)
    );
    propose(&mut s, &format!(":comment {body}"), Selection::Mr(2));
    keys(&mut s, &["3"]);
    keys(&mut s, &["e"]);
    let t = render(&s, color());
    find(buffer(&t), "Start here. lorem");
    find(buffer(&t), "the end");
}

/// Two instances, five projects: the rows the overview pollers would send.
fn overview_state(w: u16, h: u16) -> AppState {
    use crate::gitlab::models::Status;
    use crate::gitlab::overview::{LastDeploy, ProjectSummary};
    use crate::gitlab::overview_poller::OverviewEvent;
    let mut s = state(w, h);
    s.settings.instances = vec!["gitlab.test".into(), "git.corp.example".into()];
    s.settings.overview = true;
    let checked = Some(s.now);
    let row = |instance: usize, path: &str, f: &dyn Fn(&mut ProjectSummary)| {
        let mut r = ProjectSummary::new(instance, path);
        r.id = 1 + path.len() as u64;
        r.default_branch = "main".into();
        r.default_status = Some(Status::Success);
        r.checked_at = checked;
        f(&mut r);
        r
    };
    let at = |mins: i64| {
        s.now
            .checked_sub(jiff::SignedDuration::from_mins(mins))
            .ok()
    };
    let first = vec![
        row(0, "acme/platform", &|r| {
            r.failing_default = 2;
            r.default_status = Some(Status::Failed);
            r.running = 2;
            r.open_mrs = 18;
            r.waiting_on_me = 3;
            r.ready = 1;
            r.last_deploy = Some(LastDeploy {
                environment: "production/eu-central-1".into(),
                status: "success".into(),
                at: at(150),
            });
        }),
        row(0, "acme/web", &|r| {
            r.open_mrs = 12;
            r.ready = 2;
            r.last_deploy = Some(LastDeploy {
                environment: "staging".into(),
                status: "failed".into(),
                at: at(20),
            });
        }),
        row(0, "acme/docs", &|r| r.open_mrs = 1),
    ];
    let second = vec![
        row(1, "infra/terraform-modules", &|r| {
            r.default_status = Some(Status::Running);
            r.running = 1;
            r.waiting_on_me = 1;
        }),
        row(1, "infra/secrets", &|r| {
            r.error = Some("403 Forbidden: the token may not read this project".into());
        }),
    ];
    for (instance, rows, user) in [(0, first, "dwhitfield"), (1, second, "dana.w")] {
        update(
            &mut s,
            Msg::Overview(OverviewEvent::User {
                instance,
                username: user.into(),
            }),
        );
        update(
            &mut s,
            Msg::Overview(OverviewEvent::Rows { instance, rows }),
        );
    }
    keys(&mut s, &["0"]);
    s
}

#[test]
fn overview_120x40() {
    let s = overview_state(120, 40);
    insta::assert_snapshot!(render(&s, color()).backend());
}

#[test]
fn overview_80x24() {
    let mut s = overview_state(80, 24);
    keys(&mut s, &["j", "j"]);
    insta::assert_snapshot!(render(&s, color()).backend());
}
