//! Render snapshots of the diagnosis panel and of the header's planner state.

use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::draw::draw;
use super::theme::Theme;
use crate::app::diagnosis::DiagMsg;
use crate::app::planner::PlanMsg;
use crate::app::{AppState, Msg, update};
use crate::command::Command;
use crate::diagnose::log::LogIndex;
use crate::diagnose::model::{Category, Diagnosis, Evidence};
use crate::plan::run::Progress;
use crate::testkit::{AppBuilder, press};

fn state(w: u16, h: u16) -> AppState {
    AppBuilder::new()
        .provider("gemini gemini-2.5-flash")
        .size(w, h)
        .build()
}

fn key(s: &mut AppState, k: &str) {
    press(s, k);
}

fn render(s: &AppState) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(s.width, s.height)).unwrap();
    t.draw(|f| {
        draw(s, &Theme::new(false, false), f.buffer_mut());
    })
    .unwrap();
    t
}

fn header(s: &AppState) -> String {
    let t = render(s);
    let buf = t.backend().buffer();
    (0..2)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn header_shows_the_planner_running_then_its_error() {
    let mut s = state(200, 30);
    key(&mut s, "p");
    update(
        &mut s,
        Msg::Plan(PlanMsg::Progress {
            run: 1,
            progress: Progress::Prompt {
                tokens: 5120,
                omitted: 0,
            },
        }),
    );
    let running = header(&s);
    update(
        &mut s,
        Msg::Plan(PlanMsg::Finished {
            run: 1,
            result: Box::new(Err(crate::plan::run::PlanFailure {
                planner: "gemini".into(),
                state: "timeout",
                message: "no answer in 60s".into(),
                usage: crate::llm::provider::Usage {
                    total_tokens: 5400,
                    ..Default::default()
                },
                cost_usd: Some(0.0031),
            })),
        }),
    );
    insta::assert_snapshot!(format!("{running}\n---\n{}", header(&s)));
}

#[test]
fn diagnosis_panel_100x30() {
    let mut s = state(100, 30);
    key(&mut s, "2");
    let pos = s
        .pipelines
        .rows
        .iter()
        .position(|r| *r == crate::app::pipelines::PipeRow::Pipeline(106))
        .unwrap();
    s.pipelines.cursor.selected = pos;
    key(&mut s, "l");
    key(&mut s, "j");
    key(&mut s, "j");
    key(&mut s, "d");
    let text = "$ cargo build\nerror: failed to connect to the runner\nERROR: Job failed (system failure)\n";
    update(
        &mut s,
        Msg::Diagnosis(Box::new(DiagMsg {
            job_id: 1061,
            result: Ok(Diagnosis {
                category: Category::Infrastructure,
                summary: "The runner lost its connection while building.".into(),
                root_cause: "runner_system_failure: the job never reached the code.".into(),
                evidence: vec![
                    Evidence {
                        line: 2,
                        text: "error: failed to connect to the runner".into(),
                    },
                    Evidence {
                        line: 3,
                        text: "ERROR: Job failed (system failure)".into(),
                    },
                ],
                files: vec![],
                tests: vec![],
                fix: "Retry the job; if it fails again, check the runner.".into(),
                confidence: 0.85,
                infra_or_flaky: true,
                secrets: Vec::new(),
                commands: vec![Command::RetryJob {
                    project: "acme/platform".into(),
                    job_id: 1061,
                    rationale: "runner failure".into(),
                    confidence: Some(0.85),
                    evidence: vec![],
                }],
            }),
            engine: "rules".into(),
            index: Some(Arc::new(LogIndex::parse(Arc::new(
                text.as_bytes().to_vec(),
            )))),
        })),
    );
    key(&mut s, "j");
    insta::assert_snapshot!(render(&s).backend());
}

/// A plan with one proposal and two refused items (one refused twice, by the re-ask too).
fn planned(w: u16, h: u16) -> AppState {
    use crate::plan::parse::Rejected;
    use crate::plan::run::PlanOutcome;
    use serde_json::json;
    let mut s = state(w, h);
    key(&mut s, "p");
    let merge = json!({"kind": "merge_mr", "mr_iid": 4, "sha": "abc"});
    let o = PlanOutcome {
        planner: "gemini".into(),
        model: "gemini-2.5-flash".into(),
        summary: "Main is red: retry the runner failure.".into(),
        commands: vec![Command::RetryJob {
            project: "acme/platform".into(),
            job_id: 1061,
            rationale: "The runner lost its connection to the Docker daemon mid-build; a retry \
                        on another runner should pass."
                .into(),
            confidence: Some(0.8),
            evidence: vec!["Cannot connect to the Docker daemon".into()],
        }],
        rejected: vec![
            Rejected {
                raw: merge.clone(),
                reason: "merge_mr of !4 whose pipeline is pending".into(),
            },
            Rejected {
                raw: merge,
                reason: "first answer: merge_mr of !4 whose pipeline is pending".into(),
            },
            Rejected {
                raw: json!({"kind": "play_job", "job_id": 31337}),
                reason: "job 31337 was not found in the project".into(),
            },
        ],
        usage: Default::default(),
        cost_usd: None,
        template_version: "plan-1".into(),
        prompt_hash: "h".into(),
        prompt_tokens_est: 900,
        omitted: vec![],
        reasked: true,
        cached: false,
        salvaged: None,
    };
    update(
        &mut s,
        Msg::Plan(PlanMsg::Finished {
            run: 1,
            result: Box::new(Ok(o)),
        }),
    );
    key(&mut s, "3");
    s
}

fn screen(s: &AppState) -> String {
    let t = render(s);
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_queue_previews_the_selection_and_lists_refused_items_once_120x40() {
    let s = planned(120, 40);
    let text = screen(&s);
    // The preview: why in full, the exact request, each requirement checked now.
    assert!(
        text.contains("why   The runner lost its connection"),
        "{text}"
    );
    assert!(
        text.contains("sends POST /api/v4/projects/1/jobs/1061/retry"),
        "{text}"
    );
    assert!(
        text.contains("now   ✓ job 1061 (compile) is failed or canceled"),
        "{text}"
    );
    // Refused items: listed, dimmed, each once.
    assert_eq!(text.matches("merge_mr !4 refused").count(), 1, "{text}");
    assert!(text.contains("play_job job 31337 refused"), "{text}");
    assert!(text.contains("(1 waiting, 2 refused)"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn the_queue_at_80x24_keeps_the_rationale_readable() {
    let s = planned(80, 24);
    let text = screen(&s);
    assert!(text.contains("The runner lost"), "{text}");
    assert!(text.contains("merge_mr !4 refused"), "{text}");
    insta::assert_snapshot!(text);
}

/// The failure inbox: causes grouped, newest first, the selected group marked, infra causes
/// saying a retry may fix them, and what is not explained yet counted in the title.
#[test]
fn failure_inbox_120x40() {
    let (snap, causes) = crate::app::inbox::tests::scenario();
    let mut s = AppBuilder::new()
        .size(120, 40)
        .snapshot(Arc::new(snap))
        .build();
    s.causes = causes;
    // The planner's retry of one runner failure is shown beside its group.
    let snap = s.snapshot.clone().unwrap();
    let retry: crate::command::model::Command = serde_json::from_value(serde_json::json!({
        "kind": "retry_job", "project": snap.path(), "job_id": 3040, "rationale": "runner died"}))
    .unwrap();
    s.commands
        .propose(retry, crate::command::queue::Source::Rules, &snap, s.now);
    key(&mut s, "F");
    key(&mut s, "j");
    let text = screen(&s);
    assert!(
        text.contains("▌3 pipelines: test: refunds::idempotent_retry"),
        "{text}"
    );
    assert!(
        text.contains("proposed: retry_job job 3040"),
        "{text} {:?}",
        s.commands.items()[0].reason
    );
    assert!(
        text.contains("2 pipelines: infra: runner_system_failure  retry may fix it"),
        "{text}"
    );
    assert!(
        text.contains("2 failed pipeline(s) not explained yet"),
        "{text}"
    );
    insta::assert_snapshot!(text);
    // Esc goes back to the panes.
    key(&mut s, "esc");
    assert!(matches!(s.view, crate::app::state::View::Main));
}

/// The MR list carries a failed pipeline's cause where a few words of it fit, and says
/// "failed" where they would not.
#[test]
fn mr_rows_carry_the_cause_where_it_fits() {
    use crate::app::causes::JobCause;
    use crate::diagnose::brief;
    let d = Diagnosis {
        category: Category::TestAssertion,
        summary: String::new(),
        root_cause: String::new(),
        evidence: Vec::new(),
        files: Vec::new(),
        tests: vec!["cache::tests::invalidates_on_deploy".into()],
        fix: String::new(),
        confidence: 0.7,
        infra_or_flaky: false,
        commands: Vec::new(),
        secrets: Vec::new(),
    };
    for (w, h, want) in [(140, 40, "✗ test: tests::inva"), (80, 24, "✗ failed")] {
        let mut s = state(w, h);
        s.causes.known.insert(
            1002,
            JobCause {
                pipeline: 101,
                job_name: "unit".into(),
                brief: brief::brief(&d, None),
                signature: brief::signature(&d, None),
                diagnosis: Arc::new(d.clone()),
            },
        );
        let text = screen(&s);
        let row = text.lines().find(|l| l.contains("!1 ")).unwrap_or_default();
        assert!(row.contains(want), "{w}x{h}: {row}");
    }
}
