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
