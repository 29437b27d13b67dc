//! Header figures derived from the snapshot and the request counter.

use jiff::Timestamp;

use crate::gitlab::{Pipeline, ProjectSnapshot, Status};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    pub open_mrs: usize,
    pub running_pipelines: usize,
    pub failed_pipelines: usize,
    /// Success share of the last 20 finished (success or failed) pipelines; `None` when none.
    pub success_rate: Option<f64>,
    /// Over the same 20 pipelines, in seconds.
    pub median_duration: Option<f64>,
}

fn secs_between(a: Timestamp, b: Timestamp) -> f64 {
    (b.as_millisecond() - a.as_millisecond()).max(0) as f64 / 1000.0
}

/// Seconds a pipeline took (or has been going). The list endpoint carries no `duration` nor
/// start/finish times, so for listed pipelines this falls back to creation -> last update
/// (finished) or creation -> now (still active), which includes queueing.
pub fn pipeline_duration(p: &Pipeline, now: Timestamp) -> Option<f64> {
    if let Some(d) = p.duration {
        return Some(d);
    }
    let start = p.started_at.or(p.created_at)?;
    if let Some(f) = p.finished_at {
        return Some(secs_between(start, f));
    }
    if p.status.is_active() {
        Some(secs_between(start, now))
    } else if p.status.is_terminal() {
        p.updated_at.map(|u| secs_between(start, u))
    } else {
        None
    }
}

pub fn compute(snap: &ProjectSnapshot) -> Metrics {
    let finished: Vec<&Pipeline> = snap
        .pipelines
        .values()
        .rev()
        .filter(|p| matches!(p.status, Status::Success | Status::Failed))
        .take(20)
        .collect();
    let success_rate = (!finished.is_empty()).then(|| {
        finished
            .iter()
            .filter(|p| p.status == Status::Success)
            .count() as f64
            / finished.len() as f64
    });
    let mut durations: Vec<f64> = finished
        .iter()
        .filter_map(|p| pipeline_duration(p, Timestamp::UNIX_EPOCH))
        .collect();
    durations.sort_by(|a, b| a.total_cmp(b));
    let median_duration = match durations.len() {
        0 => None,
        n if n % 2 == 1 => Some(durations[n / 2]),
        n => Some((durations[n / 2 - 1] + durations[n / 2]) / 2.0),
    };
    Metrics {
        open_mrs: snap.mrs.len(),
        running_pipelines: snap
            .pipelines
            .values()
            .filter(|p| p.status.is_active())
            .count(),
        failed_pipelines: snap
            .pipelines
            .values()
            .filter(|p| p.status == Status::Failed)
            .count(),
        success_rate,
        median_duration,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;

    #[test]
    fn header_figures() {
        let m = compute(&testkit::snapshot());
        assert_eq!(m.open_mrs, 4);
        assert_eq!(m.running_pipelines, 2);
        assert_eq!(m.failed_pipelines, 2);
        assert_eq!(m.success_rate, Some(0.5));
        // 95, 380, 402, 754 -> (380 + 402) / 2
        assert_eq!(m.median_duration, Some(391.0));
        assert_eq!(compute(&Default::default()), Metrics::default());
    }
}
