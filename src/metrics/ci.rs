//! GitLab CI series named and labelled as gitlab-ci-pipelines-exporter (gcpe) names them, from
//! the snapshots we already hold: the newest pipeline per ref and its jobs. The subset and every
//! difference are in docs/metrics.md.
//!
//! Bounded: at most `MAX_REFS` refs per project and `MAX_JOBS` jobs per pipeline are exported
//! (a snapshot holds the newest pipelines only, so refs are few in practice); label values go
//! through `labels::value`.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::gitlab::models::{Job, Pipeline, Status};
use crate::gitlab::snapshot::ProjectSnapshot;

use super::labels::{Labels, labels, word};

type GaugeF = Gauge<f64, AtomicU64>;

/// Single-pipeline answers by id (`GET /projects/:id/pipelines/:id`): the list GitLab pages
/// through has no duration, queued duration or coverage; the exporter reads each finished
/// newest-per-ref pipeline once.
pub type PipelineDetails = BTreeMap<u64, Pipeline>;

/// One project's CI data at scrape time.
#[derive(Clone, Copy)]
pub struct CiSource<'a> {
    pub snapshot: &'a ProjectSnapshot,
    pub details: Option<&'a PipelineDetails>,
}

/// Refs exported per project (newest pipelines first).
pub const MAX_REFS: usize = 200;
/// Jobs exported per pipeline.
pub const MAX_JOBS: usize = 500;

/// The statuses gcpe emits one series for each (value 1 for the current one).
pub const STATUSES: &[&str] = &[
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

/// gcpe's ref name: an MR's pipelines are keyed by the MR's iid (`refs/merge-requests/12/head`
/// is `12`), branches and tags by their name.
pub fn ref_name(r: &str) -> &str {
    r.strip_prefix("refs/merge-requests/")
        .and_then(|rest| rest.split('/').next())
        .filter(|iid| !iid.is_empty() && iid.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or(r)
}

/// gcpe's `kind`: `branch`, `tag` or `merge-request`. The pipeline list does not say whether a
/// ref is a tag; its jobs do (`tag: true`), so a tag pipeline whose jobs were not fetched is
/// called a branch (docs/metrics.md).
pub fn ref_kind(r: &str, p: &Pipeline, jobs: &[Job]) -> &'static str {
    if r.starts_with("refs/merge-requests/") || p.source.as_deref() == Some("merge_request_event") {
        "merge-request"
    } else if jobs.iter().any(|j| j.tag == Some(true)) {
        "tag"
    } else {
        "branch"
    }
}

/// The pipeline a dashboard shows for a ref: the newest by id; at most `MAX_REFS`, newest first.
fn latest_per_ref(snap: &ProjectSnapshot) -> Vec<(&str, &Pipeline)> {
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
    let mut v: Vec<_> = by_ref.into_iter().collect();
    v.sort_by_key(|(_, p)| std::cmp::Reverse(p.id));
    v.truncate(MAX_REFS);
    v
}

/// The series of one status family: every gcpe status with 0, the current one with 1; a
/// status gcpe does not list (GitLab's newer `canceling`) is added as its own series.
fn set_status(family: &Family<Labels, Gauge>, base: &Labels, current: &Status) {
    let cur = word(current.as_str());
    let put = |s: &str, v: i64| {
        let mut l = base.clone();
        l.push(("status".into(), s.into()));
        family.get_or_create(&l).set(v);
    };
    for s in STATUSES {
        put(s, i64::from(*s == cur));
    }
    if !STATUSES.contains(&cur) {
        put(cur, 1);
    }
}

fn unix(t: jiff::Timestamp) -> f64 {
    t.as_millisecond() as f64 / 1e3
}

#[derive(Default)]
struct Families {
    status: Family<Labels, Gauge>,
    id: Family<Labels, GaugeF>,
    duration: Family<Labels, GaugeF>,
    queued: Family<Labels, GaugeF>,
    ts: Family<Labels, GaugeF>,
    // Gauges, not counters: OpenMetrics counters end in `_total`, which would break gcpe's names.
    run_count: Family<Labels, Gauge>,
    coverage: Family<Labels, GaugeF>,
    job_status: Family<Labels, Gauge>,
    job_duration: Family<Labels, GaugeF>,
    job_queued: Family<Labels, GaugeF>,
    job_id: Family<Labels, GaugeF>,
    job_ts: Family<Labels, GaugeF>,
    job_runs: Family<Labels, Gauge>,
}

fn project_series(f: &Families, src: CiSource<'_>) {
    let snap = src.snapshot;
    let project = snap.project.path_with_namespace.as_str();
    // Runs per ref among the pipelines held (gcpe counts the runs it saw since it started).
    let mut runs: BTreeMap<&str, i64> = BTreeMap::new();
    for p in snap.pipelines.values() {
        if let Some(r) = p.git_ref.as_deref() {
            *runs.entry(r).or_default() += 1;
        }
    }
    let no_jobs: Vec<Job> = Vec::new();
    for (r, p) in latest_per_ref(snap) {
        let jobs = snap.jobs.get(&p.id).unwrap_or(&no_jobs);
        let kind = ref_kind(r, p, jobs);
        let source = word(p.source.as_deref().unwrap_or("unknown"));
        let pair = [
            ("project", project),
            ("topics", ""),
            ("ref", ref_name(r)),
            ("kind", kind),
            ("source", source),
            ("variables", ""),
        ];
        let base = labels(&pair);
        set_status(&f.status, &base, &p.status);
        f.id.get_or_create(&base).set(p.id as f64);
        // The single-pipeline answer, when read and still current, has what the list lacks.
        let p = src
            .details
            .and_then(|d| d.get(&p.id))
            .filter(|d| d.status == p.status)
            .unwrap_or(p);
        if let Some(d) = p.duration {
            f.duration.get_or_create(&base).set(d);
        }
        if let Some(d) = p.queued_duration {
            f.queued.get_or_create(&base).set(d);
        }
        if let Some(t) = p.updated_at.or(p.created_at) {
            f.ts.get_or_create(&base).set(unix(t));
        }
        if let Some(c) = p.coverage {
            f.coverage.get_or_create(&base).set(c);
        }
        f.run_count
            .get_or_create(&base)
            .set(runs.get(r).copied().unwrap_or(0));
        // One series per (stage, job name), as gcpe keys jobs: the newest attempt's values and
        // the number of attempts in this pipeline.
        let mut by_name: BTreeMap<(&str, &str), (&Job, i64)> = BTreeMap::new();
        for j in jobs {
            let e = by_name
                .entry((j.stage.as_str(), j.name.as_str()))
                .or_insert((j, 0));
            e.1 += 1;
            if j.id > e.0.id {
                e.0 = j;
            }
        }
        for (j, attempts) in by_name.into_values().take(MAX_JOBS) {
            let reason = j
                .failure_reason
                .as_ref()
                .map(|r| word(r.as_str()))
                .unwrap_or("");
            let mut jpair = pair.to_vec();
            jpair.extend([
                ("stage", j.stage.as_str()),
                ("job_name", j.name.as_str()),
                ("runner_description", ""),
                ("tag_list", ""),
                ("failure_reason", reason),
            ]);
            let jl = labels(&jpair);
            set_status(&f.job_status, &jl, &j.status);
            f.job_id.get_or_create(&jl).set(j.id as f64);
            if let Some(d) = j.duration {
                f.job_duration.get_or_create(&jl).set(d);
            }
            if let Some(d) = j.queued_duration {
                f.job_queued.get_or_create(&jl).set(d);
            }
            if let Some(t) = j.created_at {
                f.job_ts.get_or_create(&jl).set(unix(t));
            }
            f.job_runs.get_or_create(&jl).set(attempts);
        }
    }
}

/// Registers the CI series of `sources` (under `gitlab_ci_`).
pub fn register(reg: &mut Registry, sources: &[CiSource<'_>]) {
    let f = Families::default();
    for src in sources {
        project_series(&f, *src);
    }
    let gl = reg.sub_registry_with_prefix("gitlab_ci");
    gl.register(
        "pipeline_status",
        "Status of the most recent pipeline (1 for the current status)",
        f.status,
    );
    gl.register("pipeline_id", "ID of the most recent pipeline", f.id);
    gl.register(
        "pipeline_duration_seconds",
        "Duration in seconds of the most recent pipeline",
        f.duration,
    );
    gl.register(
        "pipeline_queued_duration_seconds",
        "Duration in seconds the most recent pipeline was queued before starting",
        f.queued,
    );
    gl.register(
        "pipeline_timestamp",
        "Timestamp of the last update of the most recent pipeline",
        f.ts,
    );
    gl.register(
        "pipeline_run_count",
        "Number of executions of a pipeline on the ref (among the pipelines held)",
        f.run_count,
    );
    gl.register(
        "pipeline_coverage",
        "Coverage of the most recent pipeline",
        f.coverage,
    );
    gl.register(
        "pipeline_job_status",
        "Status of the most recent job (1 for the current status)",
        f.job_status,
    );
    gl.register(
        "pipeline_job_duration_seconds",
        "Duration in seconds of the most recent job",
        f.job_duration,
    );
    gl.register(
        "pipeline_job_queued_duration_seconds",
        "Duration in seconds the most recent job was queued before starting",
        f.job_queued,
    );
    gl.register("pipeline_job_id", "ID of the most recent job", f.job_id);
    gl.register(
        "pipeline_job_timestamp",
        "Creation date timestamp of the most recent job",
        f.job_ts,
    );
    gl.register(
        "pipeline_job_run_count",
        "Number of executions of a job (attempts in the most recent pipeline)",
        f.job_runs,
    );
}
