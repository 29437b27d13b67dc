//! Prometheus metrics: gitaiops' own (`gitaiops_*`) and GitLab CI series named and labelled as
//! gitlab-ci-pipelines-exporter does, so its dashboards read them unchanged (docs/metrics.md).
//!
//! A `Registry` is built per scrape from what the process already holds — the client's
//! `RequestStats` (the real request counters) and the newest snapshot per project — and dropped
//! after encoding. Nothing is global: two exporters in one process, or a reload, can never
//! register the same series twice. Labels hold only templated endpoints, statuses, project
//! paths, refs, stage and job names: never an id, a token, an MR title or free text.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::gitlab::models::{Pipeline, Status};
use crate::gitlab::snapshot::ProjectSnapshot;
use crate::gitlab::stats::RequestStats;

type Labels = Vec<(String, String)>;
type GaugeF = Gauge<f64, AtomicU64>;
type CounterF = Counter<f64, AtomicU64>;

/// The pipeline statuses gitlab-ci-pipelines-exporter emits one series for each.
const PIPELINE_STATUSES: &[&str] = &[
    "created",
    "waiting_for_resource",
    "preparing",
    "pending",
    "running",
    "success",
    "failed",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
];

/// One GitLab instance's client, as seen at scrape time.
pub struct InstanceView<'a> {
    /// Host name (`gitlab.com`): never a URL with credentials.
    pub instance: &'a str,
    pub stats: &'a RequestStats,
}

/// Poll health of the process, for `gitaiops_poll_*`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PollView {
    /// Seconds of the last completed poll pass, when known.
    pub last_duration_seconds: Option<f64>,
    /// Unix time of the last successful poll.
    pub last_success_unix: Option<f64>,
    pub polls_ok: u64,
    pub polls_failed: u64,
}

/// Everything one scrape renders.
pub struct View<'a> {
    pub instances: Vec<InstanceView<'a>>,
    pub poll: PollView,
    /// Newest snapshot per project path; `None` entries render no CI series.
    pub snapshots: Vec<&'a ProjectSnapshot>,
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

/// The OpenMetrics text of one scrape.
pub fn render(view: &View<'_>) -> String {
    let mut reg = Registry::default();
    self_metrics(&mut reg, view);
    ci_metrics(&mut reg, &view.snapshots);
    let mut out = String::new();
    // Writing into a String cannot fail; an encoding error would be a bug in a metric type.
    if let Err(e) = encode(&mut out, &reg) {
        tracing::warn!(error = %e, "metrics encoding failed");
    }
    out
}

fn self_metrics(reg: &mut Registry, view: &View<'_>) {
    let gl = reg.sub_registry_with_prefix("gitaiops");
    let requests = Family::<Labels, Counter>::default();
    let seconds = Family::<Labels, CounterF>::default();
    let sent = Family::<Labels, Counter>::default();
    let rl_remaining = Family::<Labels, Gauge>::default();
    let rl_limit = Family::<Labels, Gauge>::default();
    for inst in &view.instances {
        sent.get_or_create(&labels(&[("instance", inst.instance)]))
            .inc_by(inst.stats.total());
        for row in inst.stats.by_endpoint() {
            let l = labels(&[
                ("instance", inst.instance),
                ("method", &row.method),
                ("endpoint", &row.endpoint),
                ("status", &row.status),
            ]);
            requests.get_or_create(&l).inc_by(row.count);
            seconds.get_or_create(&l).inc_by(row.seconds);
        }
        let rl = inst.stats.rate_limit();
        let l = labels(&[("instance", inst.instance)]);
        if let Some(v) = rl.remaining {
            rl_remaining
                .get_or_create(&l)
                .set(i64::try_from(v).unwrap_or(i64::MAX));
        }
        if let Some(v) = rl.limit {
            rl_limit
                .get_or_create(&l)
                .set(i64::try_from(v).unwrap_or(i64::MAX));
        }
    }
    gl.register(
        "gitlab_requests",
        "GitLab API requests answered (or failed without an answer), by templated endpoint and status",
        requests,
    );
    gl.register(
        "gitlab_request_seconds",
        "Time spent waiting for GitLab API responses, summed, by templated endpoint and status",
        seconds,
    );
    gl.register(
        "gitlab_requests_sent",
        "GitLab API requests sent, retries included, counted before the answer",
        sent,
    );
    gl.register(
        "gitlab_ratelimit_remaining",
        "RateLimit-Remaining of the newest response that carried it",
        rl_remaining,
    );
    gl.register(
        "gitlab_ratelimit_limit",
        "RateLimit-Limit of the newest response that carried it",
        rl_limit,
    );
    let p = view.poll;
    let ok = Counter::<u64>::default();
    ok.inc_by(p.polls_ok);
    gl.register("polls_ok", "Successful poll passes", ok);
    let failed = Counter::<u64>::default();
    failed.inc_by(p.polls_failed);
    gl.register("polls_failed", "Failed poll passes", failed);
    if let Some(d) = p.last_duration_seconds {
        let g = GaugeF::default();
        g.set(d);
        gl.register("poll_duration_seconds", "Duration of the last poll pass", g);
    }
    if let Some(t) = p.last_success_unix {
        let g = GaugeF::default();
        g.set(t);
        gl.register(
            "poll_last_success_timestamp_seconds",
            "Unix time of the last successful poll",
            g,
        );
    }
}

/// The pipeline a dashboard shows for a ref: the newest by id.
fn latest_per_ref(snap: &ProjectSnapshot) -> BTreeMap<&str, &Pipeline> {
    let mut by_ref: BTreeMap<&str, &Pipeline> = BTreeMap::new();
    for p in snap.pipelines.values() {
        let Some(r) = p.git_ref.as_deref() else {
            continue;
        };
        match by_ref.get(r) {
            Some(old) if old.id >= p.id => {}
            _ => {
                by_ref.insert(r, p);
            }
        }
    }
    by_ref
}

/// gitlab-ci-pipelines-exporter's `kind` label: branch, tag or merge-request.
fn ref_kind(r: &str, p: &Pipeline) -> &'static str {
    if r.starts_with("refs/merge-requests/") || p.source.as_deref() == Some("merge_request_event") {
        "merge-request"
    } else {
        // Tags are not told apart: the pipeline list's `ref` does not say (docs/metrics.md).
        "branch"
    }
}

fn status_str(s: &Status) -> &str {
    s.as_str()
}

fn ci_metrics(reg: &mut Registry, snaps: &[&ProjectSnapshot]) {
    let status = Family::<Labels, Gauge>::default();
    let id = Family::<Labels, GaugeF>::default();
    let duration = Family::<Labels, GaugeF>::default();
    let queued = Family::<Labels, GaugeF>::default();
    let ts = Family::<Labels, GaugeF>::default();
    // Gauges, not counters: the encoder would append `_total` and break the exporter's names.
    let run_count = Family::<Labels, Gauge>::default();
    let coverage = Family::<Labels, GaugeF>::default();
    let job_status = Family::<Labels, Gauge>::default();
    let job_duration = Family::<Labels, GaugeF>::default();
    let job_runs = Family::<Labels, Gauge>::default();
    for snap in snaps {
        let project = snap.project.path_with_namespace.as_str();
        // Runs per ref among the pipelines we hold (the exporter counts since it started).
        let mut runs: BTreeMap<&str, u64> = BTreeMap::new();
        for p in snap.pipelines.values() {
            if let Some(r) = p.git_ref.as_deref() {
                *runs.entry(r).or_default() += 1;
            }
        }
        for (r, p) in latest_per_ref(snap) {
            let kind = ref_kind(r, p);
            let base = [
                ("project", project),
                ("topics", ""),
                ("ref", r),
                ("kind", kind),
                ("source", p.source.as_deref().unwrap_or("")),
                ("variables", ""),
            ];
            let cur = status_str(&p.status);
            for s in PIPELINE_STATUSES {
                let mut l = labels(&base);
                l.push(("status".into(), (*s).into()));
                status.get_or_create(&l).set(i64::from(*s == cur));
            }
            let l = labels(&base);
            id.get_or_create(&l).set(p.id as f64);
            if let Some(d) = p.duration {
                duration.get_or_create(&l).set(d);
            }
            if let Some(d) = p.queued_duration {
                queued.get_or_create(&l).set(d);
            }
            if let Some(t) = p.updated_at.or(p.created_at) {
                ts.get_or_create(&l).set(t.as_second() as f64);
            }
            if let Some(c) = p.coverage {
                coverage.get_or_create(&l).set(c);
            }
            run_count
                .get_or_create(&l)
                .set(i64::try_from(runs.get(r).copied().unwrap_or(0)).unwrap_or(i64::MAX));
            for j in snap.jobs.get(&p.id).map(Vec::as_slice).unwrap_or(&[]) {
                let jbase = [
                    ("project", project),
                    ("topics", ""),
                    ("ref", r),
                    ("kind", kind),
                    ("source", p.source.as_deref().unwrap_or("")),
                    ("variables", ""),
                    ("stage", j.stage.as_str()),
                    ("job_name", j.name.as_str()),
                    ("runner_description", ""),
                    ("tag_list", ""),
                    ("failure_reason", ""),
                ];
                let jcur = status_str(&j.status);
                for s in PIPELINE_STATUSES {
                    let mut l = labels(&jbase);
                    l.push(("status".into(), (*s).into()));
                    job_status.get_or_create(&l).set(i64::from(*s == jcur));
                }
                let l = labels(&jbase);
                if let Some(d) = j.duration {
                    job_duration.get_or_create(&l).set(d);
                }
                job_runs.get_or_create(&l).inc();
            }
        }
    }
    let gl = reg.sub_registry_with_prefix("gitlab_ci");
    gl.register(
        "pipeline_status",
        "Status of the most recent pipeline (1 for the current status)",
        status,
    );
    gl.register("pipeline_id", "ID of the most recent pipeline", id);
    gl.register(
        "pipeline_duration_seconds",
        "Duration in seconds of the most recent pipeline",
        duration,
    );
    gl.register(
        "pipeline_queued_duration_seconds",
        "Duration in seconds the most recent pipeline was queued before starting",
        queued,
    );
    gl.register(
        "pipeline_timestamp",
        "Timestamp of the last update of the most recent pipeline",
        ts,
    );
    gl.register(
        "pipeline_run_count",
        "Number of executions of a pipeline (among the pipelines held)",
        run_count,
    );
    gl.register(
        "pipeline_coverage",
        "Coverage of the most recent pipeline",
        coverage,
    );
    gl.register(
        "pipeline_job_status",
        "Status of the most recent job (1 for the current status)",
        job_status,
    );
    gl.register(
        "pipeline_job_duration_seconds",
        "Duration in seconds of the most recent job",
        job_duration,
    );
    gl.register(
        "pipeline_job_run_count",
        "Number of executions of a job (among the pipelines held)",
        job_runs,
    );
}
