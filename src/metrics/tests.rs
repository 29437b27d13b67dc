use std::time::Duration;

use serde_json::json;

use super::*;
use crate::command::audit::AuditRecord;
use crate::gitlab::models::{Job, Pipeline};
use crate::gitlab::snapshot::ProjectSnapshot;
use crate::plan::run::PlanFailure;
use crate::testkit::openmetrics::{self, Exposition};

fn pipeline(id: u64, status: &str, git_ref: &str, source: &str) -> Pipeline {
    serde_json::from_value(json!({
        "id": id, "iid": id, "project_id": 1, "status": status, "source": source, "ref": git_ref,
        "created_at": "2026-03-01T11:00:00Z", "updated_at": "2026-03-01T11:30:00Z",
        "duration": 120, "queued_duration": 3.5, "coverage": "87.5",
    }))
    .unwrap()
}

fn job(id: u64, stage: &str, name: &str, status: &str, tag: bool) -> Job {
    serde_json::from_value(json!({
        "id": id, "name": name, "stage": stage, "status": status, "tag": tag,
        "created_at": "2026-03-01T11:00:00Z", "duration": 30.25, "queued_duration": 1.0,
        "failure_reason": if status == "failed" { json!("script_failure") } else { json!(null) },
    }))
    .unwrap()
}

fn snapshot(path: &str) -> ProjectSnapshot {
    let mut s = ProjectSnapshot {
        project: serde_json::from_value(json!({"id": 1, "name": "p", "path_with_namespace": path}))
            .unwrap(),
        ..Default::default()
    };
    for p in [
        pipeline(100, "success", "main", "push"),
        pipeline(101, "failed", "main", "push"),
        pipeline(
            102,
            "running",
            "refs/merge-requests/7/head",
            "merge_request_event",
        ),
        pipeline(103, "success", "v1.2.0", "push"),
    ] {
        std::sync::Arc::make_mut(&mut s.pipelines).insert(p.id, p);
    }
    std::sync::Arc::make_mut(&mut s.jobs).insert(
        101,
        vec![
            job(1, "test", "unit", "failed", false),
            job(3, "test", "unit", "failed", false),
            job(2, "build", "compile", "success", false),
        ],
    );
    std::sync::Arc::make_mut(&mut s.jobs)
        .insert(103, vec![job(9, "release", "publish", "success", true)]);
    s
}

fn record(item: u64, kind: &str, event: serde_json::Value) -> AuditRecord {
    let mut v = json!({
        "time": "2026-03-01T12:00:00Z", "session": "s1", "item": item,
        "project": "acme/platform", "kind": kind, "target": "job 11",
    });
    for (k, x) in event.as_object().unwrap() {
        v[k] = x.clone();
    }
    serde_json::from_value(v).unwrap()
}

fn busy_telemetry() -> Telemetry {
    let t = Telemetry::default();
    t.poll_finished("acme/platform", 0.2, true, 1_772_366_400.0);
    t.poll_finished("acme/platform", 0.1, false, 1_772_366_460.0);
    let failure = PlanFailure {
        planner: "gemini".into(),
        state: "timeout",
        message: "Fix the login page for user bob@example.com".into(),
        usage: crate::llm::provider::Usage {
            prompt_tokens: 1000,
            output_tokens: 20,
            thinking_tokens: 5,
            total_tokens: 1025,
            calls: 1,
        },
        cost_usd: Some(0.01),
    };
    t.plan_finished(&Err(failure), 3.0);
    t.audited(&[
        record(
            1,
            "retry_job",
            json!({"event": "proposal", "source": "planner", "risk": "low",
                   "status": "proposed", "command": {"title": "SECRET-TITLE"}}),
        ),
        record(
            1,
            "retry_job",
            json!({"event": "decision", "operator": "alice@host", "decision": "approve",
                   "original": {}, "command": {}}),
        ),
        record(
            2,
            "Delete Everything Now",
            json!({"event": "proposal", "source": "plan file", "risk": "high",
                   "status": "invalid", "command": {}}),
        ),
        record(
            5,
            "comment_mr",
            json!({"event": "decision", "operator": "alice@host", "decision": "reject",
                   "original": {}, "command": {}}),
        ),
    ]);
    t.executed(crate::command::model::Kind::RetryJob, "done");
    t.diagnosed(&Err("cannot fetch the log".into()), "rules");
    t
}

fn scrape(snaps: &[&ProjectSnapshot], t: &Telemetry) -> (String, Exposition) {
    let stats = RequestStats::default();
    for (path, status, ms) in [
        (
            "/projects/acme%2Fplatform/pipelines?updated_after=x",
            Some(200),
            12,
        ),
        ("/projects/1/pipelines/101/jobs", Some(200), 40),
        ("/projects/1/merge_requests", None, 30_000),
    ] {
        stats.sent();
        stats.finished("GET", path, status, Duration::from_millis(ms));
    }
    stats.rate_limit_seen(crate::gitlab::stats::RateLimitSeen {
        remaining: Some(1999),
        limit: Some(2000),
    });
    let text = render(&View {
        instances: vec![InstanceView {
            instance: "gitlab.example.com",
            stats: &stats,
        }],
        telemetry: t,
        ci: snaps
            .iter()
            .map(|s| ci::CiSource {
                snapshot: s,
                details: None,
            })
            .collect(),
    });
    let parsed = openmetrics::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, parsed)
}

/// The value of the one sample of `family` whose labels include every pair of `want`.
fn value(e: &Exposition, sample: &str, want: &[(&str, &str)]) -> f64 {
    let fam = e
        .keys()
        .filter(|f| sample.starts_with(f.as_str()))
        .max_by_key(|f| f.len())
        .unwrap_or_else(|| panic!("no family for {sample}"));
    let hits: Vec<f64> = e[fam]
        .samples
        .iter()
        .filter(|s| s.name == sample)
        .filter(|s| {
            want.iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .collect();
    assert_eq!(hits.len(), 1, "{sample} {want:?}: {hits:?}");
    hits[0]
}

#[test]
fn every_family_has_its_name_type_help_and_labels() {
    let snap = snapshot("acme/platform");
    let (_, e) = scrape(&[&snap], &busy_telemetry());
    let pipeline_labels = ["project", "topics", "ref", "kind", "source", "variables"];
    let job_labels = [
        "project",
        "topics",
        "ref",
        "kind",
        "source",
        "variables",
        "stage",
        "job_name",
        "runner_description",
        "tag_list",
        "failure_reason",
    ];
    let expected: &[(&str, &str, &[&str])] = &[
        (
            "gitaiops_gitlab_requests",
            "counter",
            &["instance", "method", "endpoint", "status"],
        ),
        (
            "gitaiops_gitlab_request_seconds",
            "counter",
            &["instance", "method", "endpoint", "status"],
        ),
        (
            "gitaiops_gitlab_request_duration_seconds",
            "histogram",
            &["instance", "method", "endpoint"],
        ),
        ("gitaiops_gitlab_requests_sent", "counter", &["instance"]),
        (
            "gitaiops_gitlab_ratelimit_remaining",
            "gauge",
            &["instance"],
        ),
        ("gitaiops_gitlab_ratelimit_limit", "gauge", &["instance"]),
        ("gitaiops_polls", "counter", &["project", "result"]),
        ("gitaiops_poll_duration_seconds", "histogram", &["project"]),
        (
            "gitaiops_poll_last_success_timestamp_seconds",
            "gauge",
            &["project"],
        ),
        ("gitaiops_planner_runs", "counter", &["provider", "outcome"]),
        (
            "gitaiops_planner_tokens",
            "counter",
            &["provider", "direction"],
        ),
        ("gitaiops_planner_cost_usd", "counter", &["provider"]),
        (
            "gitaiops_planner_run_duration_seconds",
            "histogram",
            &["provider"],
        ),
        ("gitaiops_proposals", "counter", &["kind", "risk", "status"]),
        (
            "gitaiops_decisions",
            "counter",
            &["kind", "risk", "decision"],
        ),
        ("gitaiops_executions", "counter", &["kind", "result"]),
        ("gitaiops_diagnoses", "counter", &["category", "engine"]),
        ("gitlab_ci_pipeline_status", "gauge", &[]),
        ("gitlab_ci_pipeline_id", "gauge", &[]),
        ("gitlab_ci_pipeline_duration_seconds", "gauge", &[]),
        ("gitlab_ci_pipeline_queued_duration_seconds", "gauge", &[]),
        ("gitlab_ci_pipeline_timestamp", "gauge", &[]),
        ("gitlab_ci_pipeline_run_count", "gauge", &[]),
        ("gitlab_ci_pipeline_coverage", "gauge", &[]),
        ("gitlab_ci_pipeline_job_status", "gauge", &[]),
        ("gitlab_ci_pipeline_job_duration_seconds", "gauge", &[]),
        (
            "gitlab_ci_pipeline_job_queued_duration_seconds",
            "gauge",
            &[],
        ),
        ("gitlab_ci_pipeline_job_id", "gauge", &[]),
        ("gitlab_ci_pipeline_job_timestamp", "gauge", &[]),
        ("gitlab_ci_pipeline_job_run_count", "gauge", &[]),
    ];
    for (name, kind, own) in expected {
        let fam = e.get(*name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(&fam.kind, kind, "{name}");
        assert!(fam.help.len() > 10, "{name}: {}", fam.help);
        assert!(!fam.samples.is_empty(), "{name} has no samples");
        let mut want: Vec<&str> = own.to_vec();
        if name.starts_with("gitlab_ci_pipeline_job") {
            want = job_labels.to_vec();
        } else if name.starts_with("gitlab_ci_") {
            want = pipeline_labels.to_vec();
        }
        if name.ends_with("_status") {
            want.push("status");
        }
        want.sort_unstable();
        for s in &fam.samples {
            let mut got: Vec<&str> = s
                .labels
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "le")
                .collect();
            got.sort_unstable();
            assert_eq!(got, want, "{}", s.name);
        }
    }
    assert_eq!(
        e.len(),
        expected.len(),
        "{:?}",
        e.keys().collect::<Vec<_>>()
    );
}

#[test]
fn ci_series_follow_gitlab_ci_pipelines_exporter() {
    let snap = snapshot("acme/platform");
    let (_, e) = scrape(&[&snap], &Telemetry::default());
    let main = [("ref", "main"), ("kind", "branch")];
    // One series per status, 1 for the newest pipeline's (101 failed, not 100's success).
    let statuses: Vec<_> = e["gitlab_ci_pipeline_status"]
        .samples
        .iter()
        .filter(|s| s.labels["ref"] == "main")
        .map(|s| (s.labels["status"].clone(), s.value))
        .collect();
    assert_eq!(statuses.len(), ci::STATUSES.len());
    assert_eq!(
        statuses
            .iter()
            .filter(|(_, v)| *v == 1.0)
            .collect::<Vec<_>>(),
        vec![&("failed".to_string(), 1.0)]
    );
    assert_eq!(value(&e, "gitlab_ci_pipeline_id", &main), 101.0);
    assert_eq!(value(&e, "gitlab_ci_pipeline_run_count", &main), 2.0);
    assert_eq!(
        value(&e, "gitlab_ci_pipeline_duration_seconds", &main),
        120.0
    );
    assert_eq!(
        value(&e, "gitlab_ci_pipeline_queued_duration_seconds", &main),
        3.5
    );
    assert_eq!(value(&e, "gitlab_ci_pipeline_coverage", &main), 87.5);
    assert_eq!(
        value(&e, "gitlab_ci_pipeline_timestamp", &main),
        "2026-03-01T11:30:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_second() as f64
    );
    // MR pipelines are keyed by the MR's iid, tags are told by their jobs.
    assert_eq!(
        value(
            &e,
            "gitlab_ci_pipeline_id",
            &[("ref", "7"), ("kind", "merge-request")]
        ),
        102.0
    );
    assert_eq!(
        value(
            &e,
            "gitlab_ci_pipeline_id",
            &[("ref", "v1.2.0"), ("kind", "tag")]
        ),
        103.0
    );
    // A retried job is one series: the newest attempt (id 3), two runs.
    let unit = [("ref", "main"), ("job_name", "unit"), ("stage", "test")];
    assert_eq!(value(&e, "gitlab_ci_pipeline_job_id", &unit), 3.0);
    assert_eq!(value(&e, "gitlab_ci_pipeline_job_run_count", &unit), 2.0);
    assert_eq!(
        value(
            &e,
            "gitlab_ci_pipeline_job_status",
            &[("job_name", "unit"), ("status", "failed")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &e,
            "gitlab_ci_pipeline_job_status",
            &[
                ("job_name", "unit"),
                ("failure_reason", "script_failure"),
                ("status", "success")
            ]
        ),
        0.0
    );
    assert_eq!(
        value(&e, "gitlab_ci_pipeline_job_duration_seconds", &unit),
        30.25
    );
}

#[test]
fn hostile_project_and_ref_names_are_escaped_and_bounded() {
    let mut snap = snapshot("evil\"group\\x/pro\nject");
    let mut p = pipeline(200, "success", "feat/\u{1b}[31mred\"\\\r", "push");
    p.git_ref = Some(format!(
        "{}{}",
        p.git_ref.clone().unwrap(),
        "x".repeat(5000)
    ));
    std::sync::Arc::make_mut(&mut snap.pipelines).insert(p.id, p);
    std::sync::Arc::make_mut(&mut snap.jobs).insert(
        200,
        vec![job(
            20,
            "te\"st",
            "job\nname \u{7}",
            "definitely_not_a_status Robert'); DROP",
            false,
        )],
    );
    let (text, e) = scrape(&[&snap], &Telemetry::default());
    assert!(!text.contains('\u{1b}') && !text.contains('\r') && !text.contains('\u{7}'));
    assert!(
        text.contains(r#"project="evil\"group\\x/pro\nject""#),
        "{text}"
    );
    let fam = &e["gitlab_ci_pipeline_id"];
    let hostile = fam
        .samples
        .iter()
        .find(|s| s.labels["ref"].starts_with("feat/"))
        .expect("the hostile ref's series");
    assert_eq!(hostile.labels["project"], "evil\"group\\x/pro\nject");
    assert!(hostile.labels["ref"].starts_with("feat/\u{FFFD}[31mred\"\\\u{FFFD}x"));
    assert!(hostile.labels["ref"].len() <= labels::MAX_VALUE_BYTES + 3);
    // A status outside the vocabulary is one `other` series, not the server's text.
    let job = &e["gitlab_ci_pipeline_job_status"];
    let current: Vec<_> = job
        .samples
        .iter()
        .filter(|s| s.value == 1.0)
        .map(|s| s.labels["status"].as_str())
        .collect();
    assert!(current.contains(&"other"), "{current:?}");
    assert!(!text.contains("DROP"));
}

#[test]
fn labels_never_carry_free_text_and_cardinality_is_capped() {
    let mut snap = snapshot("acme/platform");
    for i in 0..(ci::MAX_REFS as u64 + 50) {
        let p = pipeline(1000 + i, "success", &format!("branch-{i}"), "push");
        std::sync::Arc::make_mut(&mut snap.pipelines).insert(p.id, p);
    }
    let t = busy_telemetry();
    let (text, e) = scrape(&[&snap], &t);
    assert_eq!(e["gitlab_ci_pipeline_id"].samples.len(), ci::MAX_REFS);
    // The newest refs are the ones kept.
    assert!(text.contains("ref=\"branch-249\""));
    assert!(!text.contains("ref=\"main\""));
    for secret in [
        "SECRET-TITLE",
        "bob@example.com",
        "Delete Everything",
        "job 11",
    ] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    assert_eq!(
        value(
            &e,
            "gitaiops_proposals_total",
            &[("kind", "other"), ("risk", "high"), ("status", "invalid")]
        ),
        1.0
    );
    // The decision takes its risk from its proposal; an unknown item says so.
    assert_eq!(
        value(
            &e,
            "gitaiops_decisions_total",
            &[
                ("kind", "retry_job"),
                ("risk", "low"),
                ("decision", "approve")
            ]
        ),
        1.0
    );
    assert_eq!(
        value(
            &e,
            "gitaiops_decisions_total",
            &[("kind", "comment_mr"), ("risk", "unknown")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &e,
            "gitaiops_planner_tokens_total",
            &[("provider", "gemini"), ("direction", "out")]
        ),
        25.0
    );
    assert_eq!(
        value(&e, "gitaiops_planner_runs_total", &[("outcome", "timeout")]),
        1.0
    );
    assert_eq!(
        value(&e, "gitaiops_diagnoses_total", &[("category", "error")]),
        1.0
    );
    assert_eq!(
        value(
            &e,
            "gitaiops_polls_total",
            &[("project", "acme/platform"), ("result", "error")]
        ),
        1.0
    );
    // Request metrics: templated endpoints only; the answerless 30 s request lands in the
    // last finite bucket (30 s).
    assert!(!text.contains("acme%2F"));
    assert_eq!(
        value(
            &e,
            "gitaiops_gitlab_requests_total",
            &[
                ("endpoint", "/projects/:id/merge_requests"),
                ("status", "error")
            ]
        ),
        1.0
    );
    assert_eq!(
        value(
            &e,
            "gitaiops_gitlab_request_duration_seconds_bucket",
            &[("endpoint", "/projects/:id/merge_requests"), ("le", "10.0")]
        ),
        0.0
    );
    assert_eq!(
        value(
            &e,
            "gitaiops_gitlab_request_duration_seconds_bucket",
            &[("endpoint", "/projects/:id/merge_requests"), ("le", "30.0")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &e,
            "gitaiops_gitlab_ratelimit_remaining",
            &[("instance", "gitlab.example.com")]
        ),
        1999.0
    );
}

#[test]
fn scrapes_repeat_without_duplicates_and_two_owners_stay_apart() {
    // What a global registry got wrong: every scrape registers afresh, so a second scrape, or
    // a second owner in the same process, can never meet "duplicated timeseries".
    let a = busy_telemetry();
    let b = Telemetry::default();
    let snap = snapshot("acme/platform");
    let (first, _) = scrape(&[&snap], &a);
    let (second, e) = scrape(&[&snap], &a);
    assert_eq!(first.len(), second.len());
    assert_eq!(
        value(&e, "gitaiops_planner_runs_total", &[("provider", "gemini")]),
        1.0,
        "counted once, however often scraped"
    );
    let (_, eb) = scrape(&[], &b);
    // Families without series are left out; b never saw a's planner run nor a's project.
    assert!(!eb.contains_key("gitaiops_planner_runs"));
    assert!(!eb.contains_key("gitlab_ci_pipeline_status"));
    assert!(eb.contains_key("gitaiops_gitlab_requests"));
}

#[test]
fn classic_text_names_counters_by_their_samples() {
    let snap = snapshot("acme/platform");
    let (om, _) = scrape(&[&snap], &busy_telemetry());
    let classic = classic_text(&om);
    assert!(classic.contains("# HELP gitaiops_gitlab_requests_total GitLab API requests"));
    assert!(classic.contains("# TYPE gitaiops_gitlab_requests_total counter\n"));
    assert!(classic.contains("# TYPE gitlab_ci_pipeline_status gauge\n"));
    assert!(!classic.contains("# EOF"));
    // Samples are untouched.
    let samples = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(samples(&om), samples(&classic));
}

#[test]
fn single_pipeline_answers_fill_what_the_list_lacks_while_current() {
    let mut snap = snapshot("acme/platform");
    for p in std::sync::Arc::make_mut(&mut snap.pipelines).values_mut() {
        // As GitLab's list sends them.
        (p.duration, p.queued_duration, p.coverage) = (None, None, None);
    }
    let mut details = ci::PipelineDetails::new();
    details.insert(101, pipeline(101, "failed", "main", "push"));
    // An answer from before the pipeline was retried no longer applies.
    let mut old = pipeline(
        102,
        "failed",
        "refs/merge-requests/7/head",
        "merge_request_event",
    );
    old.duration = Some(999.0);
    details.insert(102, old);
    let text = render(&View {
        instances: Vec::new(),
        telemetry: &Telemetry::default(),
        ci: vec![ci::CiSource {
            snapshot: &snap,
            details: Some(&details),
        }],
    });
    let e = openmetrics::parse(&text).unwrap();
    assert_eq!(
        value(
            &e,
            "gitlab_ci_pipeline_duration_seconds",
            &[("ref", "main")]
        ),
        120.0
    );
    assert_eq!(e["gitlab_ci_pipeline_duration_seconds"].samples.len(), 1);
    assert!(!text.contains("999"));
}
