//! Prometheus metrics: gitaiops' own (`gitaiops_*`) and GitLab CI series named and labelled as
//! gitlab-ci-pipelines-exporter names them, so its dashboards read them unchanged
//! (docs/metrics.md).
//!
//! Nothing is global. The process owns one `Hub` (exporter or TUI session): the counters of
//! what it did (`Telemetry`), its GitLab clients (whose `RequestStats` are the real request
//! counters) and the newest snapshot per project. Each scrape builds a fresh `Registry` from
//! them and drops it after encoding, so two hubs in one process, or a reload, can never register
//! a series twice. Labels hold only templated endpoints, statuses, enumerated kinds, project
//! paths, refs, stage and job names: never an id, a token, an MR title or free text.

pub mod ci;
pub mod hub;
pub mod labels;
pub mod telemetry;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::gitlab::stats::{LATENCY_BUCKETS, Latency, RequestStats};

pub use hub::{Hub, listen_addr};
pub use telemetry::Telemetry;

use labels::{Labels, labels};

/// The content type of what `render` returns (OpenMetrics text 1.0.0).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The content type of `classic_text` (Prometheus text 0.0.4).
pub const CLASSIC_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

type CounterF = Counter<f64, std::sync::atomic::AtomicU64>;

/// One GitLab instance's client, as seen at scrape time.
pub struct InstanceView<'a> {
    /// Host name (`gitlab.com`): never a URL with credentials.
    pub instance: &'a str,
    pub stats: &'a RequestStats,
}

/// Everything one scrape renders.
pub struct View<'a> {
    pub instances: Vec<InstanceView<'a>>,
    pub telemetry: &'a Telemetry,
    /// Newest snapshot per watched project, with the pipelines read one by one.
    pub ci: Vec<ci::CiSource<'a>>,
}

/// The OpenMetrics text of one scrape.
pub fn render(view: &View<'_>) -> String {
    let mut reg = Registry::default();
    {
        let own = reg.sub_registry_with_prefix("gitaiops");
        request_metrics(own, &view.instances);
        view.telemetry.register(own);
    }
    ci::register(&mut reg, &view.ci);
    let mut out = String::new();
    // Writing into a String cannot fail; an encoding error would be a bug in a metric type.
    if let Err(e) = encode(&mut out, &reg) {
        tracing::warn!(error = %e, "metrics encoding failed");
    }
    out
}

/// The Prometheus text format 0.0.4 of an OpenMetrics exposition from `render`, for scrapers
/// that do not ask for OpenMetrics (curl, promtool, older agents). The two differ, for what
/// `render` writes, only in three ways: a counter's HELP and TYPE name its samples' `_total`
/// name, there is no `# UNIT`, and there is no `# EOF`. Label and HELP escaping are the same.
pub fn classic_text(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut help: Option<&str> = None;
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            // Held until the TYPE line says whether the name takes `_total`.
            if let Some(h) = help.replace(rest) {
                out.push_str("# HELP ");
                out.push_str(h);
                out.push('\n');
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            let suffix = if kind == "counter" { "_total" } else { "" };
            if let Some(h) = help.take() {
                let text = h.strip_prefix(name).unwrap_or(h);
                out.push_str(&format!("# HELP {name}{suffix}{text}\n"));
            }
            out.push_str(&format!("# TYPE {name}{suffix} {kind}\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The request latency histograms of every instance, from the client's own buckets.
#[derive(Debug)]
struct LatencyFamily(Vec<(Labels, Latency)>);

impl EncodeMetric for LatencyFamily {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (l, lat) in &self.0 {
            // The encoder accumulates the counts; f64::INFINITY is its +Inf.
            let buckets: Vec<(f64, u64)> = LATENCY_BUCKETS
                .iter()
                .copied()
                .chain([f64::INFINITY])
                .zip(lat.buckets)
                .collect();
            encoder
                .encode_family(l)?
                .encode_histogram::<NoLabelSet>(lat.sum, lat.count, &buckets, None)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn request_metrics(reg: &mut Registry, instances: &[InstanceView<'_>]) {
    let requests = Family::<Labels, Counter>::default();
    let seconds = Family::<Labels, CounterF>::default();
    let sent = Family::<Labels, Counter>::default();
    let rl_remaining = Family::<Labels, Gauge>::default();
    let rl_limit = Family::<Labels, Gauge>::default();
    let mut latency = Vec::new();
    for inst in instances {
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
        for lat in inst.stats.latency() {
            let l = labels(&[
                ("instance", inst.instance),
                ("method", &lat.method),
                ("endpoint", &lat.endpoint),
            ]);
            latency.push((l, lat));
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
    reg.register(
        "gitlab_requests",
        "GitLab API requests answered (or failed without an answer), by templated endpoint and status",
        requests,
    );
    reg.register(
        "gitlab_request_seconds",
        "Time spent waiting for GitLab API responses, summed, by templated endpoint and status",
        seconds,
    );
    reg.register(
        "gitlab_request_duration_seconds",
        "GitLab API response latency by templated endpoint",
        LatencyFamily(latency),
    );
    reg.register(
        "gitlab_requests_sent",
        "GitLab API requests sent, retries included, counted before the answer",
        sent,
    );
    reg.register(
        "gitlab_ratelimit_remaining",
        "RateLimit-Remaining of the newest response that carried it",
        rl_remaining,
    );
    reg.register(
        "gitlab_ratelimit_limit",
        "RateLimit-Limit of the newest response that carried it",
        rl_limit,
    );
}

#[cfg(test)]
mod tests;
