//! Scripted message sequences through `update`: navigation, filtering, views, log folding and
//! follow, palette, stale results, and the effects each produces.

use std::sync::Arc;

use super::activity::ActivityKind;
use super::logview::Entry;
use super::pipelines::PipeRow;
use super::state::{Overlay, Watched};
use super::*;
use crate::command::operator::Selection;
use crate::command::{Risk, Status as QueueStatus};
use crate::diagnose::log::LogIndex;
use crate::testkit::{self, AppBuilder, press as key, propose, type_text as typed};

fn state() -> AppState {
    AppBuilder::new().demo(false).build()
}

fn log(text: &str) -> Arc<LogIndex> {
    Arc::new(LogIndex::parse(Arc::new(text.as_bytes().to_vec())))
}

#[test]
fn first_snapshot_goes_live_and_asks_for_details_of_visible_rows() {
    let mut s = AppBuilder::new().host("h").bare();
    assert_eq!(s.conn, Conn::Connecting);
    assert!(
        update(&mut s, Msg::Resize { w: 120, h: 40 }).is_empty(),
        "nothing to ask before data"
    );
    let fx = update(
        &mut s,
        Msg::Snapshot {
            epoch: 0,
            snapshot: Arc::new(testkit::snapshot()),
        },
    );
    assert_eq!(s.conn, Conn::Live);
    assert_eq!(s.mrs.rows, vec![4, 3, 1, 2]);
    assert_eq!(fx.len(), 2, "{fx:?}");
    assert!(fx.contains(&Effect::SetVisible {
        mrs: vec![1, 2, 3, 4],
        pipelines: vec![101, 102, 103, 104, 105, 106]
    }));
    // The failed jobs it holds go to the background diagnosis, newest pipeline first.
    let Some(req) = fx.iter().find_map(|e| match e {
        Effect::DiagnoseInBackground(r) => Some(r),
        _ => None,
    }) else {
        panic!("{fx:?}");
    };
    let jobs: Vec<u64> = req.jobs.iter().map(|j| j.job_id).collect();
    assert_eq!(jobs, [1061, 1002]);
    // The same snapshot again: nothing new to ask for.
    let fx = update(
        &mut s,
        Msg::Snapshot {
            epoch: 0,
            snapshot: Arc::new(testkit::snapshot()),
        },
    );
    assert!(fx.is_empty());
}

#[test]
fn navigation_moves_the_focused_list_and_tab_cycles_panes() {
    let mut s = state();
    key(&mut s, "j");
    key(&mut s, "down");
    assert_eq!(s.mrs.selected_iid(), Some(1));
    key(&mut s, "G");
    assert_eq!(s.mrs.selected_iid(), Some(2));
    key(&mut s, "g");
    assert_eq!(s.mrs.selected_iid(), Some(4));
    key(&mut s, "k");
    assert_eq!(s.mrs.cursor.selected, 0, "clamped at the top");
    key(&mut s, "tab");
    assert_eq!(s.focus, Pane::Pipelines);
    key(&mut s, "j");
    assert_eq!(s.pipelines.cursor.selected, 1);
    assert_eq!(s.mrs.cursor.selected, 0, "other panes keep their place");
    key(&mut s, "shift-tab");
    key(&mut s, "shift-tab");
    assert_eq!(s.focus, Pane::Activity);
    key(&mut s, "3");
    assert_eq!(s.focus, Pane::Queue);
    // ctrl-j is not j: modifiers are respected.
    key(&mut s, "1");
    key(&mut s, "ctrl-j");
    assert_eq!(s.mrs.cursor.selected, 0);
}

#[test]
fn narrow_layout_switches_panes_with_number_keys() {
    let mut s = state();
    update(&mut s, Msg::Resize { w: 70, h: 24 });
    assert_eq!(s.layout.panes.len(), 1);
    key(&mut s, "2");
    assert_eq!(s.layout.panes[0].0, Pane::Pipelines);
    update(&mut s, Msg::Resize { w: 100, h: 30 });
    assert_eq!(
        s.layout.panes.iter().map(|p| p.0).collect::<Vec<_>>(),
        vec![Pane::Mrs, Pane::Pipelines]
    );
    key(&mut s, "4");
    assert_eq!(
        s.layout.panes.iter().map(|p| p.0).collect::<Vec<_>>(),
        vec![Pane::Queue, Pane::Activity]
    );
    update(&mut s, Msg::Resize { w: 40, h: 10 });
    assert!(key(&mut s, "j").is_empty());
    assert_eq!(
        key(&mut s, "q"),
        vec![Effect::Quit],
        "quit works on a too-small screen"
    );
}

#[test]
fn filter_applies_while_typing_esc_restores_enter_keeps() {
    let mut s = state();
    key(&mut s, "/");
    assert!(matches!(s.overlay, Overlay::Input { .. }));
    typed(&mut s, "~backend");
    assert_eq!(s.mrs.rows, vec![4, 1], "applied live");
    key(&mut s, "esc");
    assert_eq!(s.mrs.rows.len(), 4, "Esc restores the previous filter");
    key(&mut s, "/");
    typed(&mut s, "-draft");
    key(&mut s, "enter");
    assert!(matches!(s.overlay, Overlay::None));
    assert_eq!(s.mrs.rows, vec![4, 1, 2]);
    assert!(s.notice.as_ref().unwrap().text.contains("3 rows"));
    // q typed into the filter is text, not quit.
    key(&mut s, "/");
    assert!(!key(&mut s, "q").contains(&Effect::Quit));
    assert_eq!(s.mrs.filter_text, "-draftq");
    key(&mut s, "esc");
    key(&mut s, "esc");
    assert_eq!(s.mrs.filter_text, "", "Esc in the list clears the filter");
    assert_eq!(s.mrs.rows.len(), 4);
}

#[test]
fn sort_keys_cycle_and_reverse() {
    let mut s = state();
    key(&mut s, "s");
    assert_eq!(s.mrs.sort, mrs::MrSort::Created);
    assert_eq!(s.mrs.rows.first(), Some(&3), "youngest first");
    key(&mut s, "S");
    assert_eq!(s.mrs.rows.first(), Some(&4), "oldest first");
}

#[test]
fn enter_expands_pipelines_and_opens_job_logs() {
    let mut s = state();
    key(&mut s, "2");
    // 106 (newest) is first; its jobs are known.
    let fx = key(&mut s, "enter");
    assert_eq!(
        s.pipelines.rows[1],
        PipeRow::Stage {
            pipeline: 106,
            stage: "build".into()
        }
    );
    assert!(
        fx.is_empty(),
        "106 was already visible: no new detail request"
    );
    key(&mut s, "j");
    key(&mut s, "j");
    assert_eq!(
        s.pipelines.selected(),
        Some(&PipeRow::Job {
            pipeline: 106,
            job: 1061
        })
    );
    let fx = key(&mut s, "enter");
    assert_eq!(fx, vec![Effect::WatchJobLog(Some(1061))]);
    let v = s.log_view().unwrap();
    assert_eq!(v.title, "compile (build)");
    assert!(!v.follow, "a failed job is not followed");
    assert!(s.contexts().contains(&Context::Log));
    let fx = key(&mut s, "esc");
    assert_eq!(fx, vec![Effect::WatchJobLog(None)]);
    assert!(matches!(s.view, View::Main));
    // h collapses back from a job row.
    key(&mut s, "h");
    assert_eq!(s.pipelines.selected(), Some(&PipeRow::Pipeline(106)));
}

#[test]
fn log_view_folds_sections_and_follows_a_running_job() {
    let mut s = state();
    let fx = update(&mut s, Msg::Key(Key::char(':')));
    assert!(fx.is_empty());
    typed(&mut s, "log 1032");
    let fx = key(&mut s, "enter");
    assert_eq!(fx, vec![Effect::WatchJobLog(Some(1032))]);
    assert!(s.log_view().unwrap().follow, "running job: follow");
    let mut text = String::from(
        "\x1b[0Ksection_start:1:prep\r\x1b[0KPreparing\nstep 1\nstep 2\n\x1b[0Ksection_end:2:prep\r\x1b[0K\n",
    );
    for i in 0..60 {
        text.push_str(&format!("test {i} ok\n"));
    }
    update(
        &mut s,
        Msg::JobLog {
            job_id: 1032,
            index: log(&text),
            complete: false,
        },
    );
    // Logs of other jobs (a late reply for a closed view) are ignored.
    update(
        &mut s,
        Msg::JobLog {
            job_id: 999,
            index: log("x\n"),
            complete: true,
        },
    );
    let v = s.log_view().unwrap();
    assert_eq!(v.current_line(), Some(63));
    key(&mut s, "g");
    key(&mut s, "space");
    assert_eq!(s.log_view().unwrap().entry(0), Some(Entry::Folded(0)));
    assert!(!s.log_view().unwrap().follow, "scrolled to the top: paused");
    key(&mut s, "enter");
    assert_eq!(s.log_view().unwrap().entry(0), Some(Entry::Line(0)));
    key(&mut s, "-");
    assert_eq!(s.log_view().unwrap().entry_count(), 61);
    key(&mut s, "+");
    assert_eq!(s.log_view().unwrap().entry_count(), 64);
    text.push_str("test 60 ok\n");
    update(
        &mut s,
        Msg::JobLog {
            job_id: 1032,
            index: log(&text),
            complete: false,
        },
    );
    assert_eq!(
        s.log_view().unwrap().current_line(),
        Some(0),
        "paused: stays at the top"
    );
    key(&mut s, "f");
    assert!(s.log_view().unwrap().follow);
    assert_eq!(s.log_view().unwrap().current_line(), Some(64));
    // Search through the input overlay.
    key(&mut s, "/");
    typed(&mut s, "test 7 ");
    key(&mut s, "enter");
    assert_eq!(s.log_view().unwrap().current_line(), Some(11));
    key(&mut s, "n");
    assert_eq!(s.log_view().unwrap().current_line(), Some(11));
    key(&mut s, "w");
    assert!(s.log_view().unwrap().wrap);
}

#[test]
fn mr_detail_requests_its_data_and_jumps_to_the_pipeline() {
    let mut s = state();
    update(&mut s, Msg::Resize { w: 80, h: 24 });
    key(&mut s, "j");
    key(&mut s, "j");
    assert_eq!(s.mrs.selected_iid(), Some(1));
    let fx = key(&mut s, "enter");
    assert_eq!(fx, vec![Effect::FetchMrDetail(1)]);
    assert!(matches!(s.view, View::Detail { iid: 1, scroll: 0 }));
    key(&mut s, "j");
    assert!(matches!(s.view, View::Detail { scroll: 1, .. }));
    key(&mut s, "p");
    assert_eq!(s.focus, Pane::Pipelines);
    assert_eq!(s.pipelines.selected(), Some(&PipeRow::Pipeline(101)));
    assert!(s.pipelines.expanded.contains(&101));
}

#[test]
fn palette_commands() {
    let mut s = state();
    key(&mut s, ":");
    typed(&mut s, "readonly");
    let fx = key(&mut s, "enter");
    assert_eq!(fx, vec![Effect::ReadOnly]);
    assert!(s.settings.read_only);
    key(&mut s, ":");
    typed(&mut s, "bogus");
    key(&mut s, "enter");
    assert!(s.notice.as_ref().unwrap().error);
    key(&mut s, ":");
    typed(&mut s, "refresh");
    assert_eq!(key(&mut s, "enter"), vec![Effect::Refresh]);
    key(&mut s, ":");
    typed(&mut s, "project acme/web");
    let fx = key(&mut s, "enter");
    assert_eq!(
        fx,
        vec![Effect::SwitchProject {
            project: "acme/web".into(),
            epoch: 1,
            instance: 0,
        }]
    );
    assert!(s.snapshot.is_none());
    assert_eq!(s.conn, Conn::Connecting);
    // A late snapshot of the old project is dropped.
    update(
        &mut s,
        Msg::Snapshot {
            epoch: 0,
            snapshot: Arc::new(testkit::snapshot()),
        },
    );
    assert!(s.snapshot.is_none());
    key(&mut s, ":");
    typed(&mut s, "q");
    assert_eq!(key(&mut s, "enter"), vec![Effect::Quit]);
}

#[test]
fn poll_errors_reach_the_feed_once_and_recovery_is_noted() {
    let mut s = state();
    for _ in 0..3 {
        update(
            &mut s,
            Msg::PollError {
                epoch: 0,
                error: "timeout talking to gitlab.test".into(),
                attempt: 1,
                retry_in: std::time::Duration::from_secs(2),
            },
        );
    }
    assert!(matches!(s.conn, Conn::Error(_)));
    let errors = s
        .activity
        .entries
        .iter()
        .filter(|e| e.kind == ActivityKind::Error)
        .count();
    assert_eq!(errors, 1);
    update(
        &mut s,
        Msg::Snapshot {
            epoch: 0,
            snapshot: Arc::new(testkit::snapshot()),
        },
    );
    assert_eq!(s.conn, Conn::Live);
    assert_eq!(s.activity.entries[0].text, "connection restored");
    // A failed refresh reports its error, then its requests: still failing.
    update(
        &mut s,
        Msg::PollError {
            epoch: 0,
            error: "timeout".into(),
            attempt: 1,
            retry_in: std::time::Duration::from_secs(2),
        },
    );
    update(
        &mut s,
        Msg::Requests {
            epoch: 0,
            total: 9,
            last_minute: 9,
        },
    );
    assert!(matches!(s.conn, Conn::Error(_)));
    // The next refresh works but changes nothing: no snapshot, only requests.
    update(
        &mut s,
        Msg::Requests {
            epoch: 0,
            total: 11,
            last_minute: 11,
        },
    );
    assert_eq!(s.conn, Conn::Live);
}

#[test]
fn a_log_that_cannot_be_fetched_says_why() {
    let mut s = state();
    typed(&mut s, ":log 1061");
    key(&mut s, "enter");
    update(
        &mut s,
        Msg::PollError {
            epoch: 0,
            error: "404 from gitlab.test: job 1061".into(),
            attempt: 1,
            retry_in: std::time::Duration::from_secs(2),
        },
    );
    assert_eq!(
        s.log_view().unwrap().error.as_deref(),
        Some("404 from gitlab.test: job 1061")
    );
}

#[test]
fn request_rate_redraws_only_for_real_changes() {
    let mut s = state();
    let req = |s: &mut AppState, last_minute| {
        s.dirty = false;
        update(
            s,
            Msg::Requests {
                epoch: 0,
                total: 1,
                last_minute,
            },
        );
        (s.requests_per_min, s.dirty)
    };
    assert_eq!(req(&mut s, 55), (Some(55), true), "first figure");
    assert_eq!(
        req(&mut s, 20),
        (Some(20), true),
        "cold start burst settled"
    );
    assert_eq!(
        req(&mut s, 24),
        (Some(20), false),
        "one refresh crossing the window edge"
    );
    assert_eq!(req(&mut s, 16), (Some(20), false));
    assert_eq!(req(&mut s, 40), (Some(40), true), "twice as busy");
    assert_eq!(req(&mut s, 0), (Some(0), true), "polling stopped");
}

fn executes(fx: &[Effect]) -> Vec<u64> {
    fx.iter()
        .filter_map(|f| match f {
            Effect::Execute { ticket: t, .. } => Some(t.item),
            _ => None,
        })
        .collect()
}

fn audited(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|f| match f {
            Effect::Audit(r) => Some(r.iter().map(|r| r.event_name().to_string())),
            _ => None,
        })
        .flatten()
        .collect()
}

fn status(s: &AppState, id: u64) -> QueueStatus {
    s.queue.items.iter().find(|r| r.id == id).unwrap().status
}

#[test]
fn proposals_enter_the_queue_and_the_pane() {
    let mut s = state();
    key(&mut s, "3");
    assert!(
        key(&mut s, "a").is_empty(),
        "empty queue: nothing to approve"
    );
    let fx = propose(&mut s, ":retry", Selection::Job(1002));
    assert_eq!(audited(&fx), vec!["proposal"]);
    assert!(executes(&fx).is_empty(), "nothing runs without approval");
    let row = &s.queue.items[0];
    assert_eq!(row.kind, "retry_job");
    assert_eq!(row.status, QueueStatus::Proposed);
    assert!(row.title.contains("unit"), "{}", row.title);
    assert!(
        s.activity
            .entries
            .iter()
            .any(|e| e.kind == ActivityKind::Proposal)
    );
    // The same command again is a duplicate, not a second row.
    propose(&mut s, ":retry", Selection::Job(1002));
    assert_eq!(s.queue.items.len(), 1);
}

#[test]
fn approve_starts_execution_and_the_report_finishes_it() {
    let mut s = state();
    key(&mut s, "3");
    propose(&mut s, ":retry", Selection::Job(1002));
    // ctrl-a is not approve.
    assert!(key(&mut s, "ctrl-a").is_empty());
    let fx = key(&mut s, "a");
    assert_eq!(executes(&fx), vec![1]);
    assert_eq!(audited(&fx), vec!["decision"]);
    assert_eq!(status(&s, 1), QueueStatus::Executing);
    let Some(Effect::Execute { ticket, .. }) =
        fx.iter().find(|f| matches!(f, Effect::Execute { .. }))
    else {
        unreachable!()
    };
    let fx = update(
        &mut s,
        Msg::Executed(Box::new(crate::command::executor::ExecReport {
            item: 1,
            command: ticket.command.clone(),
            finish: crate::command::queue::Finish::Done("new job 1099 (pending)".into()),
            request: None,
            http_status: Some(201),
            duration: std::time::Duration::from_millis(5),
            audit_error: None,
        })),
    );
    assert!(fx.contains(&Effect::Refresh), "asks for fresh state");
    assert_eq!(status(&s, 1), QueueStatus::Done);
    assert!(
        s.activity
            .entries
            .iter()
            .any(|e| e.kind == ActivityKind::Execution && e.text.contains("done"))
    );
    // Approving again changes nothing.
    assert!(executes(&key(&mut s, "a")).is_empty());
}

#[test]
fn reject_asks_for_an_optional_reason() {
    let mut s = state();
    key(&mut s, "3");
    propose(&mut s, ":retry", Selection::Job(1002));
    assert!(key(&mut s, "x").is_empty());
    assert!(matches!(s.overlay, Overlay::Input { .. }));
    typed(&mut s, "flaky");
    let fx = key(&mut s, "enter");
    assert_eq!(audited(&fx), vec!["decision"]);
    assert_eq!(status(&s, 1), QueueStatus::Rejected);
    assert!(
        s.queue.items[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("flaky")
    );
    // Esc on the prompt keeps the item.
    propose(&mut s, ":retry", Selection::Job(1061));
    key(&mut s, "G");
    key(&mut s, "x");
    key(&mut s, "esc");
    assert_eq!(status(&s, 2), QueueStatus::Proposed);
}

#[test]
fn high_risk_needs_the_typed_phrase_and_defaults_to_no() {
    let mut s = state();
    key(&mut s, "3");
    propose(&mut s, ":cancel", Selection::Pipeline(103));
    assert_eq!(s.queue.items[0].risk, Risk::High);
    let fx = key(&mut s, "a");
    assert!(executes(&fx).is_empty());
    let Overlay::Confirm { phrase, target, .. } = &s.overlay else {
        panic!("no confirmation dialog: {:?}", s.overlay)
    };
    assert_eq!(phrase, "cancel pipeline 103");
    assert!(target.contains("103"));
    // Enter on an empty answer is No.
    let fx = key(&mut s, "enter");
    assert!(executes(&fx).is_empty());
    assert_eq!(status(&s, 1), QueueStatus::Proposed);
    assert!(matches!(s.overlay, Overlay::None));
    // A wrong phrase is No.
    key(&mut s, "a");
    typed(&mut s, "yes");
    assert!(executes(&key(&mut s, "enter")).is_empty());
    assert_eq!(status(&s, 1), QueueStatus::Proposed);
    // Esc is No.
    key(&mut s, "a");
    key(&mut s, "esc");
    assert_eq!(status(&s, 1), QueueStatus::Proposed);
    // The phrase approves and executes.
    key(&mut s, "a");
    typed(&mut s, "cancel pipeline 103");
    let fx = key(&mut s, "enter");
    assert_eq!(executes(&fx), vec![1]);
}

#[test]
fn read_only_refuses_approval() {
    let mut s = state();
    update(&mut s, Msg::Key(Key::char(':')));
    typed(&mut s, "readonly");
    key(&mut s, "enter");
    key(&mut s, "3");
    propose(&mut s, ":retry", Selection::Job(1002));
    let fx = key(&mut s, "a");
    assert!(executes(&fx).is_empty());
    assert_ne!(status(&s, 1), QueueStatus::Approved);
    assert!(s.notice.as_ref().is_some_and(|n| n.error), "{:?}", s.notice);
}

#[test]
fn mark_and_bulk_approve_list_targets_and_ask() {
    let mut s = state();
    key(&mut s, "3");
    propose(&mut s, ":retry", Selection::Job(1002));
    propose(&mut s, ":retry", Selection::Job(1061));
    propose(&mut s, ":cancel", Selection::Pipeline(103));
    key(&mut s, "g");
    key(&mut s, "space");
    key(&mut s, "space");
    key(&mut s, "space");
    assert_eq!(s.queue.marked(), 3);
    key(&mut s, "A");
    let Overlay::Bulk { preview } = &s.overlay else {
        panic!("no bulk dialog")
    };
    assert_eq!(preview.approve.len(), 2);
    assert_eq!(preview.needs_confirmation.len(), 1);
    // Anything but y is No.
    assert!(executes(&key(&mut s, "enter")).is_empty());
    assert_eq!(status(&s, 1), QueueStatus::Proposed);
    key(&mut s, "A");
    let fx = key(&mut s, "y");
    assert_eq!(executes(&fx), vec![1, 2]);
    assert_eq!(
        status(&s, 3),
        QueueStatus::Proposed,
        "high risk is not bulk-approved"
    );
}

#[test]
fn edit_labels_in_the_editor_revalidates() {
    let mut s = state();
    key(&mut s, "3");
    propose(&mut s, ":label +needs-review", Selection::Mr(1));
    key(&mut s, "e");
    let Overlay::Edit { editor, .. } = &s.overlay else {
        panic!("no editor: {:?}", s.overlay)
    };
    let before = editor.lines().join("\n");
    assert!(before.contains("needs-review"), "{before}");
    // The cursor starts at the end (the remove line); add to the first line.
    key(&mut s, "up");
    key(&mut s, "end");
    typed(&mut s, ", urgent");
    let fx = key(&mut s, "ctrl-s");
    assert!(matches!(s.overlay, Overlay::None), "{:?}", s.overlay);
    assert_eq!(audited(&fx), vec!["decision"]);
    assert!(s.queue.items[0].edited);
    match &s.commands.get(1).unwrap().command {
        crate::command::Command::SetLabels { add, remove, .. } => {
            assert_eq!(add, &vec!["needs-review".to_string(), "urgent".to_string()]);
            assert!(remove.is_empty(), "{remove:?}");
        }
        other => panic!("{other:?}"),
    }
    // A malformed text keeps the editor open with the error.
    key(&mut s, "e");
    key(&mut s, "enter");
    typed(&mut s, "bogus line");
    key(&mut s, "ctrl-s");
    let Overlay::Edit { error, .. } = &s.overlay else {
        panic!("editor closed on a bad edit")
    };
    assert!(error.as_deref().unwrap().contains("bogus"), "{error:?}");
    key(&mut s, "esc");
    // Esc discards.
    key(&mut s, "e");
    typed(&mut s, " +other");
    key(&mut s, "esc");
    assert!(!format!("{:?}", s.commands.get(1).unwrap().command).contains("other"));
    // A retry has nothing to edit.
    propose(&mut s, ":retry", Selection::Job(1002));
    key(&mut s, "G");
    key(&mut s, "e");
    assert!(matches!(s.overlay, Overlay::None));
}

#[test]
fn enter_shows_details_with_the_exact_request() {
    let mut s = state();
    key(&mut s, "3");
    propose(&mut s, ":retry", Selection::Job(1002));
    key(&mut s, "enter");
    assert!(matches!(s.overlay, Overlay::Details { id: 1, .. }));
    let lines = super::commands::detail_lines(&s, 1);
    let all = format!("{lines:?}");
    assert!(
        all.contains("POST") && all.contains("/jobs/1002/retry"),
        "{all}"
    );
    key(&mut s, "esc");
    assert!(matches!(s.overlay, Overlay::None));
}

#[test]
fn palette_operator_command_uses_the_selection() {
    let mut s = state();
    key(&mut s, "2");
    // Select the failed job 1002 row in the expanded pipeline tree.
    s.pipelines.expanded.insert(101);
    let snapshot = s.snapshot.clone().unwrap();
    update(&mut s, Msg::Snapshot { epoch: 0, snapshot });
    let pos = s
        .pipelines
        .rows
        .iter()
        .position(|r| matches!(r, PipeRow::Job { job: 1002, .. }))
        .expect("job row");
    s.pipelines.cursor.selected = pos;
    update(&mut s, Msg::Key(Key::char(':')));
    typed(&mut s, "retry");
    let fx = key(&mut s, "enter");
    assert_eq!(audited(&fx), vec!["proposal"]);
    assert_eq!(s.focus, Pane::Queue);
    assert_eq!(s.queue.items[0].target, "job 1002");
    assert_eq!(s.queue.items[0].source, "operator");
}

#[test]
fn help_overlay_opens_scrolls_and_closes() {
    let mut s = state();
    key(&mut s, "?");
    assert!(matches!(s.overlay, Overlay::Help { scroll: 0 }));
    key(&mut s, "j");
    assert!(matches!(s.overlay, Overlay::Help { scroll: 1 }));
    key(&mut s, "?");
    assert!(matches!(s.overlay, Overlay::None));
    key(&mut s, "?");
    key(&mut s, "esc");
    assert!(matches!(s.overlay, Overlay::None));
}

#[test]
fn suspend_is_ctrl_z_and_resume_forces_a_repaint() {
    let mut s = state();
    assert_eq!(key(&mut s, "ctrl-z"), vec![Effect::Suspend]);
    assert!(key(&mut s, "z").is_empty());
    assert_eq!(update(&mut s, Msg::Resumed), vec![Effect::ForceRedraw]);
}

#[test]
fn palette_retry_in_a_log_view_targets_that_job() {
    let mut s = state();
    update(&mut s, Msg::Key(Key::char(':')));
    typed(&mut s, "log 1061");
    key(&mut s, "enter");
    assert!(matches!(s.view, View::Log(_)));
    update(&mut s, Msg::Key(Key::char(':')));
    typed(&mut s, "retry");
    key(&mut s, "enter");
    assert_eq!(s.queue.items[0].target, "job 1061");
    assert!(matches!(s.view, View::Log(_)), "the log stays open");
    assert!(s.notice.as_ref().unwrap().text.contains("queue"));
}

/// A hung GitLab: the age counts from the last successful poll, and after twice the refresh
/// period the screen says STALE (in words) with the time of its data, whatever the frozen
/// clock says; the retry countdown is shown; a working refresh makes it live again.
#[test]
fn freshness_is_honest_when_gitlab_hangs() {
    use crate::app::state::Freshness;
    use std::time::Duration;
    let mut s = state();
    assert_eq!(s.freshness(), Freshness::Live);
    let t0 = s.mono;
    let stale_at = s
        .deadline()
        .expect("the moment the data turns stale is a deadline");
    assert_eq!(stale_at, t0 + 2 * s.refresh_period);
    // A refresh times out; the poller tries again in 4 s.
    update(
        &mut s,
        Msg::PollError {
            epoch: 0,
            error: "timeout talking to gitlab.test".into(),
            attempt: 2,
            retry_in: Duration::from_secs(4),
        },
    );
    assert_eq!(s.retry_note().as_deref(), Some("retrying (3/4) in 4s"));
    assert_eq!(
        s.deadline(),
        Some(t0 + Duration::from_secs(1)),
        "the countdown ticks"
    );
    s.mono = t0 + Duration::from_secs(3);
    assert_eq!(s.retry_note().as_deref(), Some("retrying (3/4) in 1s"));
    assert_eq!(s.freshness(), Freshness::Live, "not stale yet");
    // The wall clock is frozen (demo --frozen); the monotonic one moves on.
    s.mono = t0 + 2 * s.refresh_period + Duration::from_secs(1);
    update(&mut s, Msg::Timer);
    assert!(matches!(s.freshness(), Freshness::Stale { .. }));
    assert_eq!(s.stale_note().as_deref(), Some("STALE, data from 12:00:00"));
    let text = crate::tui::tests::render_text(&s);
    assert!(text.contains("STALE, data from 12:00:00"), "{text}");
    assert!(
        text.contains("retrying (3/4) now │ ✗ timeout talking to"),
        "{text}"
    );
    // The failed refresh's own request report, then a refresh that works (no change: only its
    // request report): live again.
    for total in [30, 32] {
        update(
            &mut s,
            Msg::Requests {
                epoch: 0,
                total,
                last_minute: 10,
            },
        );
    }
    assert_eq!(s.freshness(), Freshness::Live);
    assert_eq!(s.retry, None);
}

/// The mode is the first thing in the header at every width, and a long error never pushes it
/// out.
#[test]
fn the_mode_is_always_visible() {
    let mut s = state();
    s.settings.read_only = true;
    update(
        &mut s,
        Msg::PollError {
            epoch: 0,
            error: "x".repeat(300),
            attempt: 1,
            retry_in: std::time::Duration::from_secs(2),
        },
    );
    for (w, h) in [(200, 60), (120, 40), (80, 24), (60, 20), (40, 12)] {
        update(&mut s, Msg::Resize { w, h });
        let text = crate::tui::tests::render_text(&s);
        let first = text.lines().next().unwrap_or("");
        assert!(
            first.starts_with(" READ-ONLY │ gitaiops"),
            "{w}x{h}: {first:?}"
        );
    }
}

/// `q` goes back from every view and overlay; at the top it asks first when proposals are
/// waiting (only `y` quits); ctrl-c quits at once.
#[test]
fn q_goes_back_and_asks_before_leaving_waiting_proposals() {
    let mut s = state();
    key(&mut s, "?");
    assert!(key(&mut s, "q").is_empty(), "q closes help");
    assert!(matches!(s.overlay, Overlay::None));
    typed(&mut s, ":log 1061");
    key(&mut s, "enter");
    assert!(matches!(s.view, View::Log(_)));
    let fx = key(&mut s, "q");
    assert!(!fx.contains(&Effect::Quit), "{fx:?}");
    assert!(matches!(s.view, View::Main), "q leaves the log view");
    key(&mut s, "enter");
    assert!(matches!(s.view, View::Detail { .. }));
    assert!(!key(&mut s, "q").contains(&Effect::Quit));
    assert!(matches!(s.view, View::Main), "q leaves the MR detail");
    // Nothing waiting: q quits.
    assert_eq!(key(&mut s, "q"), vec![Effect::Quit]);

    // A proposal waiting: q asks, anything but y stays, y quits.
    typed(&mut s, ":comment hello");
    key(&mut s, "enter");
    assert_eq!(s.queue.pending(), 1);
    assert!(key(&mut s, "q").is_empty());
    assert!(matches!(s.overlay, Overlay::QuitConfirm { waiting: 1, .. }));
    assert!(key(&mut s, "enter").is_empty());
    assert!(matches!(s.overlay, Overlay::None));
    key(&mut s, "q");
    assert_eq!(key(&mut s, "y"), vec![Effect::Quit]);
    assert_eq!(
        key(&mut s, "ctrl-c"),
        vec![Effect::Quit],
        "ctrl-c never asks"
    );
}

/// Bulk approval with only high-risk commands marked says so instead of "approve these 0?".
#[test]
fn bulk_with_only_high_risk_marked_explains_itself() {
    let mut s = state();
    update(
        &mut s,
        Msg::Propose {
            commands: vec![crate::command::Command::CancelPipeline {
                project: "acme/platform".into(),
                pipeline_id: 103,
                rationale: "stuck".into(),
                confidence: None,
                evidence: vec![],
            }],
            source: crate::command::Source::Operator,
        },
    );
    assert_eq!(s.queue.pending(), 1, "{:?}", s.queue.items);
    key(&mut s, "3");
    key(&mut s, "space");
    key(&mut s, "A");
    assert!(matches!(s.overlay, Overlay::None), "no empty bulk dialog");
    assert!(
        s.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("high risk")),
        "{:?}",
        s.notice
    );
}

/// A big log is searched off the UI task: `n` hands the scan to the runtime and the screen
/// stays live; progress and the result come back as messages, a stale result is ignored, and
/// Esc stops the search before it closes the view.
#[test]
fn a_big_log_is_searched_off_the_ui_task_and_esc_cancels() {
    use super::logscan::{INLINE_SCAN_LINES, ScanKind, ScanMsg};
    let mut s = state();
    update(&mut s, Msg::Key(Key::char(':')));
    typed(&mut s, "log 1032");
    key(&mut s, "enter");
    let mut text = String::new();
    for i in 0..INLINE_SCAN_LINES + 10 {
        text.push_str(&format!("line {i}\n"));
    }
    text.push_str("the needle\n");
    update(
        &mut s,
        Msg::JobLog {
            job_id: 1032,
            index: log(&text),
            complete: true,
        },
    );
    key(&mut s, "g");
    key(&mut s, "/");
    typed(&mut s, "needle");
    let fx = key(&mut s, "enter");
    let [Effect::LogScan(req)] = fx.as_slice() else {
        panic!("expected one scan, got {fx:?}");
    };
    assert_eq!(req.job_id, 1032);
    assert!(
        matches!(&req.kind, ScanKind::Find { query, start: 0, forward: true } if query == "needle")
    );
    let seq = req.seq;
    assert_eq!(
        s.log_view().unwrap().current_line(),
        Some(0),
        "not moved yet"
    );
    // Keys still work while it runs.
    key(&mut s, "j");
    assert_eq!(s.log_view().unwrap().current_line(), Some(1));
    update(
        &mut s,
        Msg::LogScan(ScanMsg::Progress {
            job_id: 1032,
            seq,
            done: 5,
            total: 10,
        }),
    );
    assert_eq!(
        s.log_view().unwrap().notice.as_deref(),
        Some("searching \"needle\": 50% (Esc cancels)")
    );
    // A result for another scan (or job) changes nothing.
    update(
        &mut s,
        Msg::LogScan(ScanMsg::Done {
            job_id: 1032,
            seq: seq + 7,
            line: Some(3),
        }),
    );
    assert_eq!(s.log_view().unwrap().current_line(), Some(1));
    let target = INLINE_SCAN_LINES + 10;
    update(
        &mut s,
        Msg::LogScan(ScanMsg::Done {
            job_id: 1032,
            seq,
            line: Some(target),
        }),
    );
    let v = s.log_view().unwrap();
    assert_eq!(v.current_line(), Some(target));
    assert_eq!(v.notice.as_deref(), Some("\"needle\": line 20011"));
    assert!(v.scan.is_none());

    // `e` on a big log: Esc stops the scan and keeps the view; the late result is dropped.
    let fx = key(&mut s, "e");
    let [Effect::LogScan(req)] = fx.as_slice() else {
        panic!("expected one scan, got {fx:?}");
    };
    assert_eq!(req.kind, ScanKind::FirstError);
    let seq = req.seq;
    let fx = key(&mut s, "esc");
    assert_eq!(fx, vec![Effect::CancelLogScan]);
    assert!(s.log_view().is_some(), "the first Esc only cancels");
    update(
        &mut s,
        Msg::LogScan(ScanMsg::Done {
            job_id: 1032,
            seq,
            line: Some(0),
        }),
    );
    assert_eq!(s.log_view().unwrap().current_line(), Some(target));
    let fx = key(&mut s, "esc");
    assert_eq!(fx, vec![Effect::WatchJobLog(None)]);

    // Closing the view with a scan in flight stops it too.
    update(&mut s, Msg::Key(Key::char(':')));
    typed(&mut s, "log 1032");
    key(&mut s, "enter");
    update(
        &mut s,
        Msg::JobLog {
            job_id: 1032,
            index: log(&text),
            complete: true,
        },
    );
    assert!(!key(&mut s, "e").is_empty());
    let fx = key(&mut s, "2");
    assert!(fx.contains(&Effect::CancelLogScan), "{fx:?}");
}

fn focused_state() -> AppState {
    let mut s = state();
    update(&mut s, Msg::Resize { w: 120, h: 40 });
    update(
        &mut s,
        Msg::Snapshot {
            epoch: 0,
            snapshot: Arc::new(testkit::snapshot()),
        },
    );
    s
}

fn select_pipeline_row(s: &mut AppState, id: u64) {
    s.pipelines.cursor.selected = s
        .pipelines
        .rows
        .iter()
        .position(|r| *r == PipeRow::Pipeline(id))
        .unwrap();
}

/// `y` and `o` hand the selected item's GitLab page to the runtime; `m` moves between an MR and
/// its pipeline, in both directions.
#[test]
fn copy_open_and_jump_follow_the_selection() {
    let mut s = focused_state();
    key(&mut s, "1");
    let first = s.mrs.selected_iid().unwrap();
    let fx = key(&mut s, "y");
    assert_eq!(
        fx,
        vec![Effect::CopyUrl {
            what: format!("!{first}"),
            url: format!("http://gitlab.test/acme/platform/-/merge_requests/{first}"),
        }]
    );
    // From the MR to the pipeline that reports on it.
    key(&mut s, "m");
    assert_eq!(s.focus, Pane::Pipelines);
    let Some(PipeRow::Pipeline(p)) = s.pipelines.selected().cloned() else {
        panic!("{:?}", s.pipelines.selected())
    };
    assert_eq!(p, 100 + first);
    let fx = key(&mut s, "o");
    assert_eq!(
        fx,
        vec![Effect::OpenUrl {
            what: format!("pipeline #{p}"),
            url: format!("http://gitlab.test/acme/platform/-/pipelines/{p}"),
        }]
    );
    // And back, from another pipeline (!1's, `refs/merge-requests/1/head`) to its MR.
    select_pipeline_row(&mut s, 101);
    key(&mut s, "m");
    assert_eq!(s.focus, Pane::Mrs);
    assert_eq!(s.mrs.selected_iid(), Some(1));
    // A branch pipeline of no MR says so.
    key(&mut s, "2");
    select_pipeline_row(&mut s, 105);
    key(&mut s, "m");
    assert_eq!(s.focus, Pane::Pipelines);
    assert!(s.notice.as_ref().unwrap().text.contains("not an MR's"));
}

/// A web address from the server that is not an http(s) page never reaches a browser or the
/// clipboard.
#[test]
fn only_web_pages_are_opened_or_copied() {
    let mut s = focused_state();
    let mut snap = testkit::snapshot();
    for mr in std::sync::Arc::make_mut(&mut snap.mrs)
        .values_mut()
        .map(std::sync::Arc::make_mut)
    {
        mr.web_url = Some("javascript:alert(1)".into());
    }
    update(
        &mut s,
        Msg::Snapshot {
            epoch: 0,
            snapshot: Arc::new(snap),
        },
    );
    key(&mut s, "1");
    assert!(key(&mut s, "y").is_empty());
    assert!(key(&mut s, "o").is_empty());
    assert!(
        s.notice
            .as_ref()
            .unwrap()
            .text
            .contains("not an http(s) URL"),
        "{:?}",
        s.notice
    );
}

/// Several watched projects: the header says so, `:project` alone moves to the next (wrapping),
/// a bare name completes from the watched ones, and what matches none or several is explained.
#[test]
fn project_switches_among_the_watched_ones() {
    let mut s = focused_state();
    s.settings.watched = vec![
        Watched::on_first("acme/platform"),
        Watched::on_first("acme/web"),
        Watched::on_first("infra/webhooks"),
    ];
    let switch = |s: &mut AppState, line: &str| -> Vec<Effect> {
        key(s, ":");
        typed(s, &format!("{line}\n"));
        Vec::new()
    };
    switch(&mut s, "project");
    assert_eq!(s.settings.project, "acme/web");
    // Nothing is known of it yet: "connecting", never "live, updated just now".
    assert_eq!(s.freshness(), super::state::Freshness::Connecting);
    switch(&mut s, "project hooks");
    assert_eq!(s.settings.project, "infra/webhooks");
    switch(&mut s, "project");
    assert_eq!(s.settings.project, "acme/platform", "wraps around");
    switch(&mut s, "project acme");
    assert_eq!(s.settings.project, "acme/platform", "ambiguous: no switch");
    assert!(s.notice.as_ref().unwrap().text.contains("say which"));
    // A project's own name beats a path that only contains it; a fuzzy subsequence works.
    switch(&mut s, "project web");
    assert_eq!(s.settings.project, "acme/web");
    switch(&mut s, "project inwh");
    assert_eq!(s.settings.project, "infra/webhooks");
    switch(&mut s, "project acme");
    assert_eq!(s.settings.project, "infra/webhooks", "ambiguous: no switch");
    assert!(s.notice.as_ref().unwrap().text.contains("say which"));
    switch(&mut s, "project nothing");
    assert!(
        s.notice
            .as_ref()
            .unwrap()
            .text
            .contains("no watched project")
    );
    switch(&mut s, "project other/thing");
    assert_eq!(s.settings.project, "other/thing");
    // One project watched: `:project` alone asks for a path.
    let mut one = focused_state();
    switch(&mut one, "project");
    assert!(one.notice.as_ref().unwrap().text.contains("needs a path"));
}

/// `n`/`N` in the MR detail scroll to the next and previous file of the diff.
#[test]
fn n_and_shift_n_move_between_the_files_of_a_diff() {
    let mut s = state();
    update(&mut s, Msg::Resize { w: 100, h: 30 });
    let mut snap = testkit::snapshot();
    let body: String = (0..60).map(|i| format!("+l{i}\n")).collect();
    let files: Vec<serde_json::Value> = (0..4)
        .map(|i| serde_json::json!({"old_path": format!("f{i}.rs"), "new_path": format!("f{i}.rs"), "diff": body}))
        .collect();
    std::sync::Arc::make_mut(&mut snap.diffs).insert(
        1,
        serde_json::from_value(serde_json::Value::Array(files)).unwrap(),
    );
    update(
        &mut s,
        Msg::Snapshot {
            epoch: 0,
            snapshot: Arc::new(snap),
        },
    );
    s.view = View::Detail { iid: 1, scroll: 0 };
    let starts = super::detail::file_starts(&s.detail_lines(1));
    assert_eq!(starts.len(), 4);
    key(&mut s, "n");
    assert!(matches!(s.view, View::Detail { iid: 1, scroll } if scroll == starts[0]));
    key(&mut s, "n");
    assert!(matches!(s.view, View::Detail { iid: 1, scroll } if scroll == starts[1]));
    key(&mut s, "N");
    assert!(matches!(s.view, View::Detail { iid: 1, scroll } if scroll == starts[0]));
}

/// Past the last file loaded, `n` asks for the next page of files (once per page on the way,
/// again on purpose), the detail says it is loading, then how many are left once it came.
#[test]
fn n_past_the_last_loaded_file_loads_the_next_page() {
    let mut s = state();
    update(&mut s, Msg::Resize { w: 100, h: 30 });
    let mut snap = testkit::snapshot();
    std::sync::Arc::make_mut(&mut snap.diff_pages).insert(
        1,
        crate::gitlab::DiffPages {
            next_page: Some(2),
            total: Some(45),
        },
    );
    update(
        &mut s,
        Msg::Snapshot {
            epoch: 0,
            snapshot: Arc::new(snap.clone()),
        },
    );
    s.view = View::Detail { iid: 1, scroll: 0 };
    let text = |s: &AppState| {
        s.detail_lines(1)
            .iter()
            .map(|l| l.iter().map(|(t, _)| t.as_str()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(text(&s).contains("Changed files (3 of 45)"), "{}", text(&s));
    assert!(text(&s).contains("42 more file(s): n or scrolling down loads them"));
    let mut fx = Vec::new();
    for _ in 0..6 {
        fx.extend(key(&mut s, "n"));
    }
    let asked: Vec<_> = fx
        .iter()
        .filter(|e| matches!(e, Effect::FetchMoreDiffs { iid: 1, page: 2 }))
        .collect();
    assert!(!asked.is_empty(), "{fx:?}");
    assert!(text(&s).contains("loading more files…"));
    // Scrolling at the end does not ask again for the page on its way.
    let fx = key(&mut s, "G");
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::FetchMoreDiffs { .. })),
        "{fx:?}"
    );
    // The page came: it is no longer loading, and page 3 is next.
    std::sync::Arc::make_mut(&mut snap.diff_pages).insert(
        1,
        crate::gitlab::DiffPages {
            next_page: Some(3),
            total: Some(45),
        },
    );
    update(
        &mut s,
        Msg::Snapshot {
            epoch: 0,
            snapshot: Arc::new(snap),
        },
    );
    assert!(!text(&s).contains("loading more files"));
    let fx = key(&mut s, "G");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::FetchMoreDiffs { iid: 1, page: 3 })),
        "{fx:?}"
    );
}

/// The overview: rows of two instances sorted by attention, Enter switches to the selected
/// project on its own instance (the driver gets the instance), `:project` completes from the
/// rows and from memberships.
#[test]
fn the_overview_sorts_by_attention_and_enter_switches_instance() {
    use crate::gitlab::overview::ProjectSummary;
    use crate::gitlab::overview_poller::OverviewEvent;
    let mut s = focused_state();
    s.settings.instances = vec!["gitlab.test".into(), "corp".into()];
    let mut quiet = ProjectSummary::new(0, "acme/docs");
    quiet.id = 3;
    let mut red = ProjectSummary::new(1, "infra/terraform");
    red.id = 9;
    red.failing_default = 1;
    update(
        &mut s,
        Msg::Overview(OverviewEvent::Rows {
            instance: 0,
            rows: vec![quiet],
        }),
    );
    update(
        &mut s,
        Msg::Overview(OverviewEvent::Rows {
            instance: 1,
            rows: vec![red],
        }),
    );
    update(
        &mut s,
        Msg::Overview(OverviewEvent::Memberships {
            instance: 1,
            paths: vec!["infra/vault-config".into()],
        }),
    );
    let paths: Vec<&str> = s.overview.rows.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["infra/terraform", "acme/docs"]);
    // Listed projects joined the watched ones.
    assert!(s.settings.watched.contains(&Watched {
        instance: 1,
        path: "infra/terraform".into()
    }));
    key(&mut s, "0");
    assert!(matches!(s.view, View::Overview(_)));
    let fx = key(&mut s, "enter");
    assert_eq!(
        fx.iter()
            .find(|e| matches!(e, Effect::SwitchProject { .. }))
            .cloned(),
        Some(Effect::SwitchProject {
            project: "infra/terraform".into(),
            epoch: 1,
            instance: 1,
        })
    );
    assert!(matches!(s.view, View::Main));
    assert_eq!(s.settings.host, "corp");
    // A membership is reached by a fuzzy name.
    key(&mut s, ":");
    typed(&mut s, "project vaultcfg\n");
    assert_eq!(s.settings.project, "infra/vault-config");
    assert_eq!(s.settings.instance, 1);
}
