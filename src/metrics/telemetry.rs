//! What the process did, counted as it happens: polls, planner runs, proposals and decisions,
//! executions, diagnoses. Owned by the process's `Hub` (never a global registry); a scrape
//! registers clones of these families, which share their values.
//!
//! Every label is a word from a closed vocabulary (`labels::word`) or a configured project
//! path: a proposal's kind and risk, never its text or target.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::command::audit::{AuditEvent, AuditRecord};
use crate::command::model::Kind;
use crate::diagnose::model::Diagnosis;
use crate::plan::run::{PlanFailure, PlanOutcome};

use super::labels::{Labels, labels, word};

type CounterF = Counter<f64, AtomicU64>;
type GaugeF = Gauge<f64, AtomicU64>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

/// Poll passes: a delta refresh is one or two requests, a cold start or a slow GitLab seconds.
const POLL_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// Planner runs: the rules in milliseconds, a model in seconds to minutes.
const PLAN_BUCKETS: [f64; 10] = [0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0];

/// Proposals whose risk is remembered for their decision; older ones decide as `unknown`.
const MAX_REMEMBERED: usize = 4096;

fn poll_histogram() -> Histogram {
    Histogram::new(POLL_BUCKETS)
}

fn plan_histogram() -> Histogram {
    Histogram::new(PLAN_BUCKETS)
}

/// The process's own counters.
#[derive(Debug)]
pub struct Telemetry {
    polls: Family<Labels, Counter>,
    poll_seconds: Histograms,
    poll_last_success: Family<Labels, GaugeF>,
    planner_runs: Family<Labels, Counter>,
    planner_tokens: Family<Labels, Counter>,
    planner_cost: Family<Labels, CounterF>,
    planner_seconds: Histograms,
    proposals: Family<Labels, Counter>,
    decisions: Family<Labels, Counter>,
    executions: Family<Labels, Counter>,
    diagnoses: Family<Labels, Counter>,
    /// (session, queue item) -> risk of its proposal, for the decision's `risk` label.
    risk_of: Mutex<BTreeMap<(String, u64), &'static str>>,
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry {
            polls: Family::default(),
            poll_seconds: Family::new_with_constructor(poll_histogram),
            poll_last_success: Family::default(),
            planner_runs: Family::default(),
            planner_tokens: Family::default(),
            planner_cost: Family::default(),
            planner_seconds: Family::new_with_constructor(plan_histogram),
            proposals: Family::default(),
            decisions: Family::default(),
            executions: Family::default(),
            diagnoses: Family::default(),
            risk_of: Mutex::new(BTreeMap::new()),
        }
    }
}

/// A command kind as a label: one of ours, else `other` (a plan file may name anything).
fn kind_label(kind: &str) -> &'static str {
    Kind::from_str(kind).map_or("other", Kind::as_str)
}

impl Telemetry {
    /// One poll pass of `project` ended (`ok`: it reached GitLab and read what it asked for).
    pub fn poll_finished(&self, project: &str, seconds: f64, ok: bool, now_unix: f64) {
        let result = if ok { "ok" } else { "error" };
        self.polls
            .get_or_create(&labels(&[("project", project), ("result", result)]))
            .inc();
        let p = labels(&[("project", project)]);
        self.poll_seconds.get_or_create(&p).observe(seconds);
        if ok {
            self.poll_last_success.get_or_create(&p).set(now_unix);
        }
    }

    /// A planner run ended, `seconds` after it was asked for.
    pub fn plan_finished(&self, result: &Result<PlanOutcome, PlanFailure>, seconds: f64) {
        let (provider, outcome, usage, cost) = match result {
            Ok(o) => (
                o.planner.as_str(),
                if o.cached { "cached" } else { "ok" },
                &o.usage,
                o.cost_usd,
            ),
            Err(f) => (f.planner.as_str(), f.state, &f.usage, f.cost_usd),
        };
        let provider = word(provider);
        self.planner_runs
            .get_or_create(&labels(&[
                ("provider", provider),
                ("outcome", word(outcome)),
            ]))
            .inc();
        let out = usage.output_tokens.saturating_add(usage.thinking_tokens);
        for (direction, n) in [("in", usage.prompt_tokens), ("out", out)] {
            self.planner_tokens
                .get_or_create(&labels(&[("provider", provider), ("direction", direction)]))
                .inc_by(n);
        }
        let p = labels(&[("provider", provider)]);
        if let Some(c) = cost.filter(|c| c.is_finite() && *c >= 0.0) {
            self.planner_cost.get_or_create(&p).inc_by(c);
        }
        self.planner_seconds.get_or_create(&p).observe(seconds);
    }

    /// Audit records as the session writes them: every proposal and decision passes here.
    pub fn audited(&self, records: &[AuditRecord]) {
        for r in records {
            let kind = kind_label(&r.kind);
            match &r.event {
                AuditEvent::Proposal { risk, status, .. } => {
                    let risk = risk.as_str();
                    self.proposals
                        .get_or_create(&labels(&[
                            ("kind", kind),
                            ("risk", risk),
                            ("status", word(status)),
                        ]))
                        .inc();
                    let mut m = self.risk_of.lock().unwrap_or_else(|p| p.into_inner());
                    m.insert((r.session.clone(), r.item), risk);
                    while m.len() > MAX_REMEMBERED {
                        m.pop_first();
                    }
                }
                AuditEvent::Decision { decision, .. } => {
                    let risk = self
                        .risk_of
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(&(r.session.clone(), r.item))
                        .copied()
                        .unwrap_or("unknown");
                    self.decisions
                        .get_or_create(&labels(&[
                            ("kind", kind),
                            ("risk", risk),
                            ("decision", word(decision)),
                        ]))
                        .inc();
                }
                // Counted from the executor's report (`executed`), which writes these itself.
                AuditEvent::Execution { .. } => {}
            }
        }
    }

    /// A command was executed (or refused before sending): `result` is done, failed or stale.
    pub fn executed(&self, kind: Kind, result: &str) {
        self.executions
            .get_or_create(&labels(&[
                ("kind", kind.as_str()),
                ("result", word(result)),
            ]))
            .inc();
    }

    /// A diagnosis ended: its category, or `error` when none could be made.
    pub fn diagnosed(&self, result: &Result<Diagnosis, String>, engine: &str) {
        let category = match result {
            Ok(d) => d.category.as_str(),
            Err(_) => "error",
        };
        self.diagnoses
            .get_or_create(&labels(&[("category", category), ("engine", word(engine))]))
            .inc();
    }

    /// Registers clones (sharing the values) into a scrape's registry.
    pub fn register(&self, reg: &mut Registry) {
        reg.register(
            "polls",
            "Poll passes by project and result",
            self.polls.clone(),
        );
        reg.register(
            "poll_duration_seconds",
            "Duration of poll passes (the GitLab part)",
            self.poll_seconds.clone(),
        );
        reg.register(
            "poll_last_success_timestamp_seconds",
            "Unix time of the last successful poll pass",
            self.poll_last_success.clone(),
        );
        reg.register(
            "planner_runs",
            "Planner runs by provider and outcome",
            self.planner_runs.clone(),
        );
        reg.register(
            "planner_tokens",
            "Model tokens by provider and direction (in: prompt, out: output and thinking)",
            self.planner_tokens.clone(),
        );
        reg.register(
            "planner_cost_usd",
            "Estimated model cost in US dollars by provider",
            self.planner_cost.clone(),
        );
        reg.register(
            "planner_run_duration_seconds",
            "Planner run latency, from the request to the result",
            self.planner_seconds.clone(),
        );
        reg.register(
            "proposals",
            "Commands proposed, by kind, risk and status (proposed, invalid, rejected by policy)",
            self.proposals.clone(),
        );
        reg.register(
            "decisions",
            "Decisions on proposals, by kind, risk and decision",
            self.decisions.clone(),
        );
        reg.register(
            "executions",
            "Commands executed, by kind and result",
            self.executions.clone(),
        );
        reg.register(
            "diagnoses",
            "Job diagnoses by category and engine",
            self.diagnoses.clone(),
        );
    }
}
