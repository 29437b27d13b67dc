//! When to plan: pure state, no IO, no clock of its own (the caller passes `now`).
//!
//! - `p` (manual) starts a run at once when none is in flight, else it is refused.
//! - Significant events (a pipeline that newly failed, a new MR) are debounced: a run starts
//!   after `debounce` without further events, or at the latest `4 × debounce` after the first,
//!   so a stream of events cannot postpone planning forever.
//! - An optional interval starts a run when nothing else did for that long.
//! - One run in flight: events during a run are kept and fire after it ends.
//!
//! The UI asks `deadline()` for the next moment `poll` can fire and sets one timer; there is no
//! periodic tick.

use std::time::{Duration, Instant};

use crate::gitlab::models::Status;
use crate::gitlab::snapshot::ProjectSnapshot;

/// Why a run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Manual,
    NewFailedPipeline(u64),
    NewMr(u64),
    Interval,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Manual => f.write_str("requested"),
            Reason::NewFailedPipeline(id) => write!(f, "pipeline {id} failed"),
            Reason::NewMr(iid) => write!(f, "new MR !{iid}"),
            Reason::Interval => f.write_str("interval"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriggerConfig {
    pub debounce: Duration,
    pub interval: Option<Duration>,
}

impl Default for TriggerConfig {
    fn default() -> Self {
        Self {
            debounce: Duration::from_secs(20),
            interval: None,
        }
    }
}

/// What `manual` decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manual {
    /// Start a run now, for these reasons.
    Start(Vec<Reason>),
    /// A run is in flight; nothing started.
    AlreadyRunning,
}

#[derive(Debug, Clone)]
pub struct Trigger {
    cfg: TriggerConfig,
    running: bool,
    pending: Vec<Reason>,
    first_event: Option<Instant>,
    last_event: Option<Instant>,
    /// Set when a run ends, so events from during the run wait for the debounce from then.
    not_before: Option<Instant>,
    next_interval: Option<Instant>,
}

impl Trigger {
    pub fn new(cfg: TriggerConfig, now: Instant) -> Self {
        Self {
            cfg,
            running: false,
            pending: Vec::new(),
            first_event: None,
            last_event: None,
            not_before: None,
            next_interval: cfg.interval.map(|i| now + i),
        }
    }

    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Events waiting for their debounce.
    pub fn pending(&self) -> &[Reason] {
        &self.pending
    }

    /// The operator pressed `p`.
    pub fn manual(&mut self, now: Instant) -> Manual {
        if self.running {
            return Manual::AlreadyRunning;
        }
        let mut reasons = vec![Reason::Manual];
        reasons.append(&mut self.pending);
        self.start(now);
        Manual::Start(reasons)
    }

    /// Records significant events (see `significant_events`).
    pub fn events(&mut self, events: Vec<Reason>, now: Instant) {
        if events.is_empty() {
            return;
        }
        for e in events {
            if !self.pending.contains(&e) {
                self.pending.push(e);
            }
        }
        self.first_event.get_or_insert(now);
        self.last_event = Some(now);
    }

    /// The next moment `poll` may start a run, if any (none while a run is in flight).
    pub fn deadline(&self) -> Option<Instant> {
        if self.running {
            return None;
        }
        let debounced = match (self.first_event, self.last_event) {
            (Some(first), Some(last)) if !self.pending.is_empty() => {
                let mut at = (last + self.cfg.debounce).min(first + self.cfg.debounce * 4);
                if let Some(nb) = self.not_before {
                    at = at.max(nb);
                }
                Some(at)
            }
            _ => None,
        };
        match (debounced, self.next_interval) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Starts a run when one is due: returns its reasons.
    pub fn poll(&mut self, now: Instant) -> Option<Vec<Reason>> {
        let due = self.deadline().is_some_and(|d| d <= now);
        if !due {
            return None;
        }
        let mut reasons = std::mem::take(&mut self.pending);
        if reasons.is_empty() {
            reasons.push(Reason::Interval);
        }
        self.start(now);
        Some(reasons)
    }

    /// The run in flight ended (done, failed or cancelled).
    pub fn finished(&mut self, now: Instant) {
        self.running = false;
        self.not_before = Some(now + self.cfg.debounce);
        if !self.pending.is_empty() {
            // Events seen during the run start their debounce window again from here.
            self.first_event = Some(now);
            self.last_event = Some(now);
        }
    }

    fn start(&mut self, now: Instant) {
        self.running = true;
        self.pending.clear();
        self.first_event = None;
        self.last_event = None;
        self.next_interval = self.cfg.interval.map(|i| now + i);
    }
}

/// Events that warrant a new plan between two snapshots of a project: pipelines that newly
/// failed and MRs not seen before. The first snapshot (no `old`) yields none.
pub fn significant_events(old: Option<&ProjectSnapshot>, new: &ProjectSnapshot) -> Vec<Reason> {
    let Some(old) = old else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (id, p) in new.pipelines.iter() {
        let was_failed = old
            .pipelines
            .get(id)
            .is_some_and(|o| o.status == Status::Failed);
        if p.status == Status::Failed && !was_failed {
            out.push(Reason::NewFailedPipeline(*id));
        }
    }
    for iid in new.mrs.keys() {
        if !old.mrs.contains_key(iid) {
            out.push(Reason::NewMr(*iid));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(debounce: u64, interval: Option<u64>) -> TriggerConfig {
        TriggerConfig {
            debounce: Duration::from_secs(debounce),
            interval: interval.map(Duration::from_secs),
        }
    }

    #[test]
    fn manual_starts_once_and_refuses_while_running() {
        let t0 = Instant::now();
        let mut t = Trigger::new(cfg(10, None), t0);
        assert_eq!(t.deadline(), None);
        assert_eq!(t.manual(t0), Manual::Start(vec![Reason::Manual]));
        assert!(t.is_running());
        assert_eq!(t.manual(t0), Manual::AlreadyRunning);
        assert_eq!(t.deadline(), None, "no timer while running");
        t.finished(t0 + Duration::from_secs(1));
        assert!(!t.is_running());
        assert_eq!(t.deadline(), None, "nothing pending");
    }

    #[test]
    fn events_are_debounced_and_capped() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut t = Trigger::new(cfg(10, None), t0);
        t.events(vec![Reason::NewFailedPipeline(1)], t0);
        assert_eq!(t.deadline(), Some(t0 + s(10)));
        assert_eq!(t.poll(t0 + s(9)), None);
        // A second event pushes the deadline back.
        t.events(
            vec![Reason::NewMr(7), Reason::NewFailedPipeline(1)],
            t0 + s(8),
        );
        assert_eq!(t.deadline(), Some(t0 + s(18)));
        // A stream of events cannot postpone past 4 x debounce after the first.
        for i in 1..10 {
            t.events(vec![Reason::NewMr(100 + i)], t0 + s(8 + i * 5));
        }
        assert_eq!(t.deadline(), Some(t0 + s(40)));
        let reasons = t.poll(t0 + s(40)).unwrap();
        assert_eq!(reasons[0], Reason::NewFailedPipeline(1));
        assert_eq!(reasons[1], Reason::NewMr(7));
        assert_eq!(reasons.len(), 11, "duplicates merged");
        assert!(t.is_running());
    }

    #[test]
    fn events_during_a_run_fire_after_it() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut t = Trigger::new(cfg(10, None), t0);
        let _ = t.manual(t0);
        t.events(vec![Reason::NewMr(3)], t0 + s(2));
        assert_eq!(t.poll(t0 + s(100)), None, "one run in flight");
        t.finished(t0 + s(30));
        assert_eq!(t.deadline(), Some(t0 + s(40)));
        assert_eq!(t.poll(t0 + s(40)), Some(vec![Reason::NewMr(3)]));
    }

    #[test]
    fn manual_absorbs_pending_events() {
        let t0 = Instant::now();
        let mut t = Trigger::new(cfg(10, None), t0);
        t.events(vec![Reason::NewMr(3)], t0);
        assert_eq!(
            t.manual(t0),
            Manual::Start(vec![Reason::Manual, Reason::NewMr(3)])
        );
        t.finished(t0 + Duration::from_secs(1));
        assert_eq!(t.deadline(), None);
    }

    #[test]
    fn interval_runs_when_idle_and_resets_on_any_run() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut t = Trigger::new(cfg(10, Some(300)), t0);
        assert_eq!(t.deadline(), Some(t0 + s(300)));
        let _ = t.manual(t0 + s(100));
        t.finished(t0 + s(110));
        assert_eq!(t.deadline(), Some(t0 + s(400)));
        assert_eq!(t.poll(t0 + s(400)), Some(vec![Reason::Interval]));
    }

    #[test]
    fn significant_events_between_snapshots() {
        use crate::plan::snapshot::tests::{mr, pipeline, sample};
        let old = sample();
        assert!(significant_events(None, &old).is_empty());
        assert!(significant_events(Some(&old), &old).is_empty());
        let mut new = old.clone();
        std::sync::Arc::make_mut(&mut new.pipelines)
            .insert(950, pipeline(950, "failed", "main", "f00"));
        std::sync::Arc::make_mut(&mut new.pipelines)
            .insert(951, pipeline(951, "running", "main", "f01"));
        if let Some(p) = std::sync::Arc::make_mut(&mut new.pipelines).get_mut(&902) {
            p.status = Status::Failed;
        }
        std::sync::Arc::make_mut(&mut new.mrs).insert(77, (mr(77, "new", "erin", "abc")).into());
        let ev = significant_events(Some(&old), &new);
        assert_eq!(
            ev,
            vec![
                Reason::NewFailedPipeline(902),
                Reason::NewFailedPipeline(950),
                Reason::NewMr(77)
            ]
        );
    }
}
