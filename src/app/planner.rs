//! The planner as the screen sees it: when it runs (`p`, and `AppState::trigger` for debounced
//! events and the interval — `start` is the one path that begins a run), its progress and cost
//! in the header, its summary above the queue, its rejected items in the activity feed. The run
//! itself (snapshot -> prompt -> provider -> strict parse) happens in the driver
//! (`Effect::Plan`); its commands only ever become proposals in the queue.

use crate::command::{Command, Source};
use crate::gitlab::ProjectSnapshot;
use crate::plan::run::{PlanFailure, PlanOutcome, Progress};
use crate::plan::trigger::{Manual, Reason, significant_events};

use super::activity::ActivityKind;
use super::msg::Effect;
use super::state::AppState;

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
    /// What the last plan proposed that the checks refused, de-duplicated; listed dimmed
    /// under the queue's items (they cannot be approved).
    pub rejected: Vec<RejectedItem>,
}

/// A planner item the checks refused, as the queue pane lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedItem {
    /// The kind the model named (`merge_mr`), or `?` when it named none.
    pub kind: String,
    /// `!42`, `job 11`, `pipeline 7`, or empty.
    pub target: String,
    pub reason: String,
}

/// One row per distinct (kind, target, reason): a corrective re-ask that refuses the same item
/// again (`first answer: …`) does not list it twice.
pub fn rejected_items(rejected: &[crate::plan::parse::Rejected]) -> Vec<RejectedItem> {
    let mut out: Vec<RejectedItem> = Vec::new();
    for r in rejected {
        let field = |k: &str| r.raw.get(k);
        let kind = field("kind")
            .and_then(|v| v.as_str())
            .map(|k| crate::text::one_line(k, 40))
            .unwrap_or_else(|| "?".into());
        let num = |k: &str| field(k).map(|v| crate::text::one_line(&v.to_string(), 24));
        let target = num("mr_iid")
            .map(|n| format!("!{n}"))
            .or_else(|| num("job_id").map(|n| format!("job {n}")))
            .or_else(|| num("pipeline_id").map(|n| format!("pipeline {n}")))
            .unwrap_or_default();
        let reason = one_line(r.reason.strip_prefix("first answer: ").unwrap_or(&r.reason));
        let item = RejectedItem {
            kind,
            target,
            reason,
        };
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// What the driver reports about a run.
#[derive(Debug, Clone)]
pub enum PlanMsg {
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
    if state.plan.running || state.trigger.is_running() {
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
    match state.trigger.manual(state.mono) {
        Manual::Start(reasons) => start(state, &reasons, fx),
        Manual::AlreadyRunning => super::update::notice(
            state,
            "the planner is already running; its results will arrive in the queue",
        ),
    }
}

/// `Msg::Timer`: the trigger's deadline passed; a run starts if one is due and there is
/// something to plan from.
pub fn on_timer(state: &mut AppState, fx: &mut Vec<Effect>) {
    let Some(reasons) = state.trigger.poll(state.mono) else {
        return;
    };
    if state.plan.running || state.snapshot.is_none() {
        // Nothing to plan from (a project switch is loading): end this turn at once so the
        // deadline moves on instead of firing again immediately.
        state.trigger.finished(state.mono);
        return;
    }
    start(state, &reasons, fx);
}

/// New data: significant events (a newly failed pipeline, a new MR) start a debounced run.
/// The first snapshot of a project is the baseline, not news.
pub fn on_snapshot(state: &mut AppState, old: Option<&ProjectSnapshot>, new: &ProjectSnapshot) {
    if old.is_some() {
        state
            .trigger
            .events(significant_events(old, new), state.mono);
    }
}

/// `Esc` while a run is in flight: the driver drops it (and its HTTP request, so a local server
/// stops working on it); whatever it would have reported is dropped with its run number.
pub fn cancel(state: &mut AppState, fx: &mut Vec<Effect>) -> bool {
    if !state.plan.running {
        return false;
    }
    state.plan.run += 1;
    state.plan.running = false;
    state.trigger.finished(state.mono);
    state.planner.state = "idle (last run cancelled)".into();
    state.activity.push(
        state.now,
        ActivityKind::Info,
        format!("planner {}: run cancelled", state.planner.provider),
    );
    fx.push(Effect::CancelPlan);
    state.dirty = true;
    true
}

/// Another project: a run in flight planned for the old one, so it is cancelled, its result
/// dropped (the run number moves on), and the summary no longer applies.
pub fn project_switched(state: &mut AppState, fx: &mut Vec<Effect>) {
    if state.plan.running {
        state.plan.run += 1;
        state.plan.running = false;
        state.planner.state = "idle".into();
        state.trigger.finished(state.mono);
        fx.push(Effect::CancelPlan);
    }
    state.plan.summary = None;
    // The summary's row goes back to the queue.
    super::update::relayout_pub(state);
}

/// The one path that starts a run: numbered, shown, and handed to the driver with what it
/// needs. Reviewer proposals are checked against the members, so they are loaded first when
/// the snapshot has none (one request, while the planner reads the rest).
fn start(state: &mut AppState, reasons: &[Reason], fx: &mut Vec<Effect>) {
    state.plan.run += 1;
    state.plan.running = true;
    state.planner.state = "planning…".into();
    let why = reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    state.activity.push(
        state.now,
        ActivityKind::Info,
        format!("planner {}: {why}", state.planner.provider),
    );
    if state
        .snapshot
        .as_ref()
        .is_some_and(|s| s.members.is_empty())
    {
        fx.push(Effect::FetchMembers);
    }
    fx.push(Effect::Plan {
        run: state.plan.run,
        project: state.settings.project.clone(),
    });
    state.dirty = true;
}

/// Applies a report; returns the commands to propose into the queue (and their source).
pub fn on_msg(state: &mut AppState, msg: PlanMsg) -> Option<(Vec<Command>, Source)> {
    state.dirty = true;
    match msg {
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
                Progress::Context { tokens, .. } => {
                    format!("planning… server context {tokens} tokens")
                }
                Progress::ReadingPrompt { done, total } => {
                    format!(
                        "planning… server reading the prompt {done}/{total} tokens (Esc cancels)"
                    )
                }
                Progress::Streaming { tokens, per_sec } if per_sec > 0.0 => {
                    format!("planning… {tokens} tokens, {per_sec:.1} tok/s (Esc cancels)")
                }
                Progress::Streaming { tokens, .. } => {
                    format!("planning… {tokens} tokens (Esc cancels)")
                }
            };
            None
        }
        PlanMsg::Finished { run, result } if run == state.plan.run => {
            state.plan.running = false;
            state.trigger.finished(state.mono);
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
    state.plan.rejected = rejected_items(&o.rejected);
    state.activity.push(
        state.now,
        ActivityKind::Info,
        format!(
            "plan ({}): {} proposal(s), {} rejected{}: {summary}",
            o.planner,
            o.commands.len(),
            state.plan.rejected.len(),
            if o.cached { ", cached" } else { "" }
        ),
    );
    for r in &state.plan.rejected {
        state.activity.push(
            state.now,
            ActivityKind::Error,
            format!("plan item rejected: {} {}: {}", r.kind, r.target, r.reason),
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
