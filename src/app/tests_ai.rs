//! The planner and the diagnosis panel through `update`: one run at a time, results into the
//! queue, rejected items in the feed, `d` only on failed jobs, evidence jumps.

use std::sync::Arc;

use serde_json::json;

use super::diagnosis::DiagMsg;
use super::layout::Pane;
use super::pipelines::PipeRow;
use super::planner::PlanMsg;
use super::*;
use crate::command::{Command, Source};
use crate::diagnose::log::LogIndex;
use crate::diagnose::model::{Category, Diagnosis, Evidence};
use crate::llm::provider::Usage;
use crate::plan::parse::Rejected;
use crate::plan::run::{PlanFailure, PlanOutcome};
use crate::testkit::{AppBuilder, press as key};

fn state() -> AppState {
    AppBuilder::new().provider("rules (offline)").build()
}

fn retry(job_id: u64) -> Command {
    Command::RetryJob {
        project: "acme/platform".into(),
        job_id,
        rationale: "runner lost the connection".into(),
        confidence: Some(0.8),
        evidence: vec![],
    }
}

fn outcome(planner: &str, commands: Vec<Command>) -> PlanOutcome {
    PlanOutcome {
        planner: planner.into(),
        model: "m".into(),
        summary: "Main is red:\nretry the runner failure.".into(),
        commands,
        rejected: vec![Rejected {
            raw: json!({"type": "merge_mr", "mr_iid": 4}),
            reason: "commands[1]: merge_mr of !4 whose pipeline failed".into(),
        }],
        usage: Usage {
            total_tokens: 1234,
            ..Usage::default()
        },
        cost_usd: Some(0.002),
        template_version: "plan-1".into(),
        prompt_hash: "h".into(),
        prompt_tokens_est: 900,
        omitted: vec![],
        reasked: false,
        cached: false,
        salvaged: None,
    }
}

fn feed(s: &AppState) -> Vec<String> {
    s.activity.entries.iter().map(|e| e.text.clone()).collect()
}

#[test]
fn p_starts_one_run_and_a_second_p_while_running_starts_none() {
    let mut s = state();
    let fx = key(&mut s, "p");
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Plan { run: 1, .. })),
        "{fx:?}"
    );
    assert!(s.plan.running);
    assert!(s.planner.state.starts_with("planning"));
    let fx = key(&mut s, "p");
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Plan { .. })),
        "{fx:?}"
    );
    assert!(s.notice.as_ref().unwrap().text.contains("already running"));
    assert_eq!(s.plan.run, 1);
}

#[test]
fn plan_results_are_proposed_into_the_queue_and_rejections_reach_the_feed() {
    let mut s = state();
    key(&mut s, "p");
    update(
        &mut s,
        Msg::Plan(PlanMsg::Finished {
            run: 1,
            result: Box::new(Ok(outcome("gemini", vec![retry(1061)]))),
        }),
    );
    assert!(!s.plan.running);
    assert_eq!(s.planner.state, "idle");
    assert_eq!(s.planner.tokens, 1234);
    assert_eq!(s.plan.cost_usd, Some(0.002));
    // Multi-line model text is one line on screen.
    assert_eq!(
        s.plan.summary.as_deref(),
        Some("Main is red: retry the runner failure.")
    );
    let items = s.commands.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].source, Source::Planner);
    assert_eq!(items[0].status, crate::command::Status::Proposed);
    assert_eq!(s.queue.items.len(), 1);
    let f = feed(&s);
    assert!(
        f.iter()
            .any(|t| t.contains("rejected") && t.contains("merge_mr of !4")),
        "{f:?}"
    );
    // A new p is allowed once the run is over.
    assert!(
        key(&mut s, "p")
            .iter()
            .any(|e| matches!(e, Effect::Plan { run: 2, .. }))
    );
}

#[test]
fn rules_results_are_labelled_rules_and_stale_runs_are_dropped() {
    let mut s = state();
    key(&mut s, "p");
    key(&mut s, "p");
    // A result of an older run (cancelled when a newer one started) changes nothing.
    update(
        &mut s,
        Msg::Plan(PlanMsg::Finished {
            run: 0,
            result: Box::new(Ok(outcome("rules", vec![retry(1061)]))),
        }),
    );
    assert!(s.plan.running);
    assert!(s.commands.items().is_empty());
    update(
        &mut s,
        Msg::Plan(PlanMsg::Finished {
            run: 1,
            result: Box::new(Ok(outcome("rules", vec![retry(1061)]))),
        }),
    );
    assert_eq!(s.commands.items()[0].source, Source::Rules);
}

#[test]
fn a_failed_run_shows_its_one_line_reason_in_the_header_state() {
    let mut s = state();
    key(&mut s, "p");
    update(
        &mut s,
        Msg::Plan(PlanMsg::Finished {
            run: 1,
            result: Box::new(Err(PlanFailure {
                planner: "gemini".into(),
                state: "quota",
                message: "429 quota exhausted\nretry in 3600s".into(),
                usage: Usage::default(),
                cost_usd: None,
            })),
        }),
    );
    assert!(!s.plan.running);
    assert_eq!(
        s.planner.state,
        "error: quota (429 quota exhausted retry in 3600s)"
    );
    assert!(s.commands.items().is_empty());
}

fn select_job(s: &mut AppState, pipeline: u64, job: u64) {
    key(s, "2");
    assert_eq!(s.focus, Pane::Pipelines);
    let pos = s
        .pipelines
        .rows
        .iter()
        .position(|r| *r == PipeRow::Pipeline(pipeline))
        .unwrap();
    s.pipelines.cursor.selected = pos;
    key(s, "l");
    let pos = s
        .pipelines
        .rows
        .iter()
        .position(|r| matches!(r, PipeRow::Job { job: j, .. } if *j == job))
        .unwrap();
    s.pipelines.cursor.selected = pos;
}

#[test]
fn d_on_a_job_that_did_not_fail_explains_why_nothing_happens() {
    let mut s = state();
    select_job(&mut s, 101, 1003);
    let fx = key(&mut s, "d");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Diagnose { .. })));
    assert!(matches!(s.view, View::Main));
    let n = s.notice.as_ref().unwrap().text.clone();
    assert!(
        n.contains("lint is success") && n.contains("only failed jobs"),
        "{n}"
    );
    // On a pipeline that did not fail it says so.
    let pos = s
        .pipelines
        .rows
        .iter()
        .position(|r| matches!(r, PipeRow::Pipeline(102)))
        .unwrap();
    s.pipelines.cursor.selected = pos;
    let fx = key(&mut s, "d");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Diagnose { .. })));
    let n = s.notice.as_ref().unwrap().text.clone();
    assert!(n.contains("#102 is success"), "{n}");
}

#[test]
fn d_on_a_failed_pipeline_or_its_mr_diagnoses_the_failed_job() {
    let mut s = state();
    let pos = s
        .pipelines
        .rows
        .iter()
        .position(|r| matches!(r, PipeRow::Pipeline(101)))
        .unwrap();
    s.focus = Pane::Pipelines;
    s.pipelines.cursor.selected = pos;
    let fx = key(&mut s, "d");
    let job = fx.iter().find_map(|e| match e {
        Effect::Diagnose(r) => Some(r.job_id),
        _ => None,
    });
    assert_eq!(job, Some(1002), "{fx:?}");
    assert!(matches!(s.view, View::Diagnosis(_)));
    key(&mut s, "Esc");
    // !1's pipeline is #101: `d` on the MR row diagnoses the same job.
    s.focus = Pane::Mrs;
    s.mrs.cursor.selected = s.mrs.rows.iter().position(|iid| *iid == 1).unwrap();
    let fx = key(&mut s, "d");
    let job = fx.iter().find_map(|e| match e {
        Effect::Diagnose(r) => Some(r.job_id),
        _ => None,
    });
    assert_eq!(job, Some(1002), "{fx:?}");
}

fn diagnosis(commands: Vec<Command>) -> Diagnosis {
    Diagnosis {
        category: Category::TestAssertion,
        summary: "1 failing test".into(),
        root_cause: "assertion failed".into(),
        evidence: vec![
            Evidence {
                line: 2,
                text: "test a ... FAILED".into(),
            },
            Evidence {
                line: 4,
                text: "assertion failed".into(),
            },
        ],
        files: vec!["src/a.rs".into()],
        tests: vec!["a".into()],
        fix: "fix a".into(),
        confidence: 0.7,
        infra_or_flaky: !commands.is_empty(),
        commands,
        secrets: Vec::new(),
    }
}

fn trace() -> Arc<LogIndex> {
    let text = "$ cargo test\ntest a ... FAILED\nfailures:\nassertion failed\nerror: test failed\n";
    Arc::new(LogIndex::parse(Arc::new(text.as_bytes().to_vec())))
}

#[test]
fn d_on_a_failed_job_opens_the_panel_and_enter_jumps_to_the_evidence_line() {
    let mut s = state();
    select_job(&mut s, 101, 1002);
    let fx = key(&mut s, "d");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Diagnose(r) if r.job_id == 1002)),
        "{fx:?}"
    );
    assert!(matches!(&s.view, View::Diagnosis(d) if d.result.is_none()));
    update(
        &mut s,
        Msg::Diagnosis(Box::new(DiagMsg {
            job_id: 1002,
            result: Ok(diagnosis(vec![])),
            engine: "rules".into(),
            index: Some(trace()),
        })),
    );
    // No retry for a code failure: the queue stays empty.
    assert!(s.commands.items().is_empty());
    key(&mut s, "j");
    let fx = key(&mut s, "enter");
    assert!(fx.contains(&Effect::WatchJobLog(Some(1002))));
    let View::Log(v) = &s.view else {
        panic!("not in the log viewer: {:?}", s.view);
    };
    // Evidence line 4 (1-based) is viewer line 3 (0-based).
    assert_eq!(v.current_line(), Some(3));
}

#[test]
fn an_infrastructure_diagnosis_proposes_its_retry_into_the_queue() {
    let mut s = state();
    select_job(&mut s, 106, 1061);
    key(&mut s, "d");
    update(
        &mut s,
        Msg::Diagnosis(Box::new(DiagMsg {
            job_id: 1061,
            result: Ok(diagnosis(vec![retry(1061)])),
            engine: "rules".into(),
            index: Some(trace()),
        })),
    );
    let items = s.commands.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].source, Source::Rules);
    // Esc closes the panel back to the panes.
    key(&mut s, "esc");
    assert!(matches!(s.view, View::Main));
}

#[test]
fn a_project_switch_drops_the_running_plan() {
    let mut s = state();
    key(&mut s, "p");
    update(&mut s, Msg::Key(Key::char(':')));
    for c in "project acme/other".chars() {
        update(&mut s, Msg::Key(Key::char(c)));
    }
    key(&mut s, "enter");
    assert_eq!(s.settings.project, "acme/other");
    assert!(!s.plan.running);
    update(
        &mut s,
        Msg::Plan(PlanMsg::Finished {
            run: 1,
            result: Box::new(Ok(outcome("rules", vec![retry(1061)]))),
        }),
    );
    assert!(s.commands.items().is_empty());
    assert!(s.plan.summary.is_none());
}

/// The planner's own schedule goes through `update`: a newly failed pipeline is debounced into
/// a deadline, `Msg::Timer` at it starts the run (the one path that starts runs), and a run's
/// end frees the trigger.
#[test]
fn a_new_failure_starts_a_debounced_run_through_the_timer() {
    use std::time::Duration;
    let mut s = state();
    s.trigger = crate::plan::trigger::Trigger::new(
        crate::plan::trigger::TriggerConfig {
            debounce: Duration::from_secs(20),
            interval: None,
        },
        s.mono,
    );
    assert_eq!(
        s.trigger.deadline(),
        None,
        "nothing pending after the baseline"
    );
    let mut snap = crate::testkit::snapshot();
    let running = std::sync::Arc::make_mut(&mut snap.pipelines)
        .values_mut()
        .find(|p| p.status != crate::gitlab::models::Status::Failed)
        .expect("a pipeline that has not failed");
    running.status = crate::gitlab::models::Status::Failed;
    let id = running.id;
    update(
        &mut s,
        Msg::Snapshot {
            epoch: 0,
            snapshot: Arc::new(snap),
        },
    );
    let due = s.trigger.deadline().expect("a debounced run is scheduled");
    assert_eq!(due, s.mono + Duration::from_secs(20));
    // Early: nothing starts.
    assert!(update(&mut s, Msg::Timer).is_empty());
    s.mono = due;
    let fx = update(&mut s, Msg::Timer);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Plan { run: 1, .. })),
        "{fx:?}"
    );
    assert!(s.plan.running);
    assert!(
        feed(&s)
            .iter()
            .any(|t| t.contains(&format!("pipeline {id} failed"))),
        "{:?}",
        feed(&s)
    );
    assert_eq!(
        s.trigger.deadline(),
        None,
        "no planner timer while a run is in flight"
    );
    // `p` during the scheduled run is refused like any second run.
    assert!(
        !key(&mut s, "p")
            .iter()
            .any(|e| matches!(e, Effect::Plan { .. }))
    );
    update(
        &mut s,
        Msg::Plan(PlanMsg::Finished {
            run: 1,
            result: Box::new(Ok(outcome("rules", vec![]))),
        }),
    );
    assert!(!s.plan.running && !s.trigger.is_running());
    assert!(
        key(&mut s, "p")
            .iter()
            .any(|e| matches!(e, Effect::Plan { run: 2, .. }))
    );
}

/// Reviewer proposals are validated against the members: a run on a snapshot without members
/// asks the driver to load them first.
#[test]
fn a_run_without_members_loads_them_first() {
    let mut s = state();
    let mut snap = crate::testkit::snapshot();
    std::sync::Arc::make_mut(&mut snap.members).clear();
    update(
        &mut s,
        Msg::Snapshot {
            epoch: 0,
            snapshot: Arc::new(snap),
        },
    );
    let fx = key(&mut s, "p");
    let members = fx.iter().position(|e| *e == Effect::FetchMembers);
    let plan = fx.iter().position(|e| matches!(e, Effect::Plan { .. }));
    assert!(
        matches!((members, plan), (Some(m), Some(p)) if m < p),
        "{fx:?}"
    );
}

/// A project switch cancels the run in flight and frees the trigger.
#[test]
fn switching_project_cancels_the_run() {
    let mut s = state();
    key(&mut s, "p");
    let mut fx = key(&mut s, ":");
    for c in "project acme/other".chars() {
        fx.extend(update(&mut s, Msg::Key(Key::char(c))));
    }
    fx.extend(key(&mut s, "enter"));
    assert!(fx.contains(&Effect::CancelPlan), "{fx:?}");
    assert!(!s.plan.running && !s.trigger.is_running());
}

#[test]
fn streaming_progress_shows_in_the_header_and_esc_cancels_the_run() {
    use crate::plan::run::Progress;
    let mut s = state();
    let fx = key(&mut s, "p");
    let run = fx
        .iter()
        .find_map(|e| match e {
            Effect::Plan { run, .. } => Some(*run),
            _ => None,
        })
        .unwrap();
    update(
        &mut s,
        Msg::Plan(PlanMsg::Progress {
            run,
            progress: Progress::Streaming {
                tokens: 312,
                per_sec: 18.44,
            },
        }),
    );
    assert_eq!(
        s.planner.state,
        "planning… 312 tokens, 18.4 tok/s (Esc cancels)"
    );
    update(
        &mut s,
        Msg::Plan(PlanMsg::Progress {
            run,
            progress: Progress::ReadingPrompt {
                done: 2048,
                total: 5320,
            },
        }),
    );
    assert_eq!(
        s.planner.state,
        "planning… server reading the prompt 2048/5320 tokens (Esc cancels)"
    );
    let fx = key(&mut s, "esc");
    assert!(!s.plan.running);
    assert!(
        fx.contains(&Effect::CancelPlan),
        "the driver is told to drop the run: {fx:?}"
    );
    assert!(feed(&s).iter().any(|l| l.contains("run cancelled")));
    // Whatever the cancelled run still reports is dropped.
    update(
        &mut s,
        Msg::Plan(PlanMsg::Finished {
            run,
            result: Box::new(Ok(outcome("gemini", vec![retry(30001)]))),
        }),
    );
    assert!(s.commands.items().is_empty());
    // With nothing running, Esc does what it did before.
    let before = s.plan.run;
    key(&mut s, "esc");
    assert_eq!(s.plan.run, before);
}

#[test]
fn refused_items_are_listed_once_even_when_the_reask_refuses_them_again() {
    let mut s = state();
    key(&mut s, "p");
    let mut o = outcome("gemini", vec![retry(1061)]);
    o.rejected = vec![
        Rejected {
            raw: json!({"kind": "merge_mr", "mr_iid": 4, "sha": "abc"}),
            reason: "merge_mr of !4 whose pipeline failed".into(),
        },
        Rejected {
            raw: json!({"kind": "merge_mr", "mr_iid": 4, "sha": "abc"}),
            reason: "first answer: merge_mr of !4 whose pipeline failed".into(),
        },
        Rejected {
            raw: json!({"kind": "retry_job", "job_id": 99}),
            reason: "job 99 was not found in the project".into(),
        },
    ];
    update(
        &mut s,
        Msg::Plan(PlanMsg::Finished {
            run: 1,
            result: Box::new(Ok(o)),
        }),
    );
    let r = &s.plan.rejected;
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(
        (r[0].kind.as_str(), r[0].target.as_str()),
        ("merge_mr", "!4")
    );
    assert_eq!(
        (r[1].kind.as_str(), r[1].target.as_str()),
        ("retry_job", "job 99")
    );
    let f = feed(&s);
    assert_eq!(
        f.iter()
            .filter(|t| t.contains("plan item rejected"))
            .count(),
        2,
        "{f:?}"
    );
    assert!(!f.iter().any(|t| t.contains("first answer")), "{f:?}");
}

#[test]
fn d_on_a_pipeline_with_several_failed_jobs_names_the_others() {
    let mut snap = crate::testkit::snapshot();
    let mut lint = snap.jobs[&101][1].clone();
    lint.status = crate::gitlab::models::Status::Failed;
    // Failed after `unit`: `unit` (the earliest) is diagnosed, `lint` is named.
    lint.finished_at = Some("2026-03-01T11:30:00Z".parse().unwrap());
    std::sync::Arc::make_mut(&mut snap.jobs)
        .get_mut(&101)
        .unwrap()[1] = lint;
    let mut s = AppBuilder::new().snapshot(Arc::new(snap)).build();
    s.focus = Pane::Pipelines;
    s.pipelines.cursor.selected = s
        .pipelines
        .rows
        .iter()
        .position(|r| matches!(r, PipeRow::Pipeline(101)))
        .unwrap();
    key(&mut s, "d");
    let View::Diagnosis(d) = &s.view else {
        panic!("no diagnosis panel");
    };
    assert_eq!(d.job_id, 1002);
    assert!(d.title.ends_with("; 1 more failed: lint"), "{}", d.title);
}
