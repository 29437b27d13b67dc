//! The planner as the screen sees it: one run at a time, its progress and cost in the header,
//! its summary above the queue, its rejected items in the activity feed. The run itself
//! (snapshot -> prompt -> provider -> strict parse) happens in the runtime (`Effect::Plan`);
//! its commands only ever become proposals in the queue.

use crate::command::{Command, Source};
use crate::plan::run::{PlanFailure, PlanOutcome, Progress};

use super::activity::ActivityKind;
use super::msg::Effect;
use super::state::AppState;
use super::text;

/// Planner state beyond the header's `PlannerInfo`.
#[derive(Debug, Clone, Default)]
pub struct PlanPane {
    /// A run is in flight (the runtime holds its cancellation handle).
    pub running: bool,
    /// Number of the newest run; results of older runs are dropped.
    pub run: u64,
    /// The last plan's summary, shown above the queue.
    pub summary: Option<String>,
    /// Estimated cost of every run in this session (LLM providers with known pricing).
    pub cost_usd: Option<f64>,
}

/// What the runtime reports about a run.
#[derive(Debug, Clone)]
pub enum PlanMsg {
    /// The runtime started a run on its own (debounced significant events, interval).
    Started {
        run: u64,
        reasons: String,
    },
    /// Fetching what the planner reads (snapshot, logs, approvals).
    Fetching {
        run: u64,
    },
    Progress {
        run: u64,
        progress: Progress,
    },
    Finished {
        run: u64,
        result: Box<Result<PlanOutcome, PlanFailure>>,
    },
}

/// `p`: ask for a plan unless one is running.
pub fn request(state: &mut AppState, fx: &mut Vec<Effect>) {
    if state.plan.running {
        super::update::notice(
            state,
            "the planner is already running; its results will arrive in the queue",
        );
        return;
    }
    if state.snapshot.is_none() {
        super::update::notice(state, "no data from GitLab yet: nothing to plan from");
        return;
    }
    state.plan.run += 1;
    start(state, "requested");
    fx.push(Effect::Plan {
        run: state.plan.run,
    });
}

/// Another project: a run in flight planned for the old one, so its result is dropped (the
/// run number moves on) and the summary no longer applies.
pub fn project_switched(state: &mut AppState) {
    if state.plan.running {
        state.plan.run += 1;
        state.plan.running = false;
        state.planner.state = "idle".into();
    }
    state.plan.summary = None;
    // The summary's row goes back to the queue.
    super::update::relayout_pub(state);
}

fn start(state: &mut AppState, why: &str) {
    state.plan.running = true;
    state.planner.state = "planning…".into();
    state.activity.push(
        state.now,
        ActivityKind::Info,
        format!("planner {}: {why}", state.planner.provider),
    );
    state.dirty = true;
}

/// Applies a report; returns the commands to propose into the queue (and their source).
pub fn on_msg(state: &mut AppState, msg: PlanMsg) -> Option<(Vec<Command>, Source)> {
    state.dirty = true;
    match msg {
        PlanMsg::Started { run, reasons } => {
            state.plan.run = state.plan.run.max(run);
            start(state, &format!("started ({reasons})"));
            None
        }
        PlanMsg::Fetching { run } if run == state.plan.run => {
            state.planner.state = "planning… reading GitLab".into();
            None
        }
        PlanMsg::Progress { run, progress } if run == state.plan.run => {
            state.planner.state = match progress {
                Progress::Prompt { tokens, .. } => format!("planning… prompt ~{tokens} tokens"),
                Progress::Asking { attempt: 1 } => "planning… asking".into(),
                Progress::Asking { attempt } => format!("planning… asking (try {attempt})"),
                Progress::Waiting { reason, secs } => {
                    format!("planning… waiting {secs:.0}s ({})", one_line(&reason))
                }
                Progress::Reasking { errors } => format!("planning… re-asking ({errors} errors)"),
                Progress::Cached => "planning… cached answer".into(),
            };
            None
        }
        PlanMsg::Finished { run, result } if run == state.plan.run => {
            state.plan.running = false;
            match *result {
                Ok(o) => Some(finished(state, o)),
                Err(f) => {
                    state.planner.tokens += f.usage.total_tokens;
                    add_cost(state, f.cost_usd);
                    let line = one_line(&f.message);
                    state.planner.state = format!("error: {} ({line})", f.state);
                    state.activity.push(
                        state.now,
                        ActivityKind::Error,
                        format!("planner {}: {}: {line}", f.planner, f.state),
                    );
                    None
                }
            }
        }
        PlanMsg::Fetching { .. } | PlanMsg::Progress { .. } | PlanMsg::Finished { .. } => None,
    }
}

fn finished(state: &mut AppState, o: PlanOutcome) -> (Vec<Command>, Source) {
    state.planner.tokens += o.usage.total_tokens;
    add_cost(state, o.cost_usd);
    state.planner.state = "idle".into();
    let summary = one_line(&o.summary);
    state.plan.summary = Some(summary.clone());
    // The summary takes a row above the queue: its list is one shorter before proposals land.
    super::update::relayout_pub(state);
    state.activity.push(
        state.now,
        ActivityKind::Info,
        format!(
            "plan ({}): {} proposal(s), {} rejected{}: {summary}",
            o.planner,
            o.commands.len(),
            o.rejected.len(),
            if o.cached { ", cached" } else { "" }
        ),
    );
    for r in &o.rejected {
        state.activity.push(
            state.now,
            ActivityKind::Error,
            format!(
                "plan item rejected: {} ({})",
                one_line(&r.reason),
                text::truncate(&one_line(&r.raw.to_string()), 80, state.settings.ascii)
            ),
        );
    }
    let source = if o.planner == "rules" {
        Source::Rules
    } else {
        Source::Planner
    };
    (o.commands, source)
}

fn add_cost(state: &mut AppState, cost: Option<f64>) {
    if let Some(c) = cost {
        state.plan.cost_usd = Some(state.plan.cost_usd.unwrap_or(0.0) + c);
    }
}

fn one_line(s: &str) -> String {
    crate::text::one_line(&crate::redact::redact(s), 1_000)
}
