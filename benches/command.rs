//! Command pipeline costs: parsing a full plan, validating and risk-rating it against a project
//! snapshot, queue transitions, and one synced audit write.
//!
//! `cargo bench --bench command`

// Test and benchmark code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use divan::{Bencher, black_box};
use gitaiops::command::audit::{AuditLog, AuditRecord};
use gitaiops::command::parse::parse_plan_str;
use gitaiops::command::queue::{Queue, Source};
use gitaiops::command::{Command, Policy, risk, validate};
use gitaiops::gitlab::{Job, Member, MergeRequest, MrState, Pipeline, Project, ProjectSnapshot};
use serde_json::json;

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

/// 200 MRs, 200 pipelines with 8 jobs each, 50 members.
fn snapshot() -> ProjectSnapshot {
    let mut s = ProjectSnapshot {
        host: "bench".into(),
        project: Project {
            id: 1,
            path_with_namespace: "g/app".into(),
            ..Project::default()
        },
        ..ProjectSnapshot::default()
    };
    for i in 1..=200u64 {
        let p: Pipeline = serde_json::from_value(json!({"id": 1000 + i,
            "status": if i % 3 == 0 { "failed" } else { "running" }, "ref": format!("b{i}"),
            "sha": format!("{i:040x}")}))
        .unwrap();
        let jobs: Vec<Job> = (0..8u64)
            .map(|k| {
                serde_json::from_value(
                    json!({"id": 100_000 + i * 10 + k, "name": format!("job{k}"),
                    "stage": "test", "status": if k == 0 { "failed" } else { "success" },
                    "pipeline": {"id": 1000 + i}}),
                )
                .unwrap()
            })
            .collect();
        std::sync::Arc::make_mut(&mut s.jobs).insert(p.id, jobs);
        std::sync::Arc::make_mut(&mut s.pipelines).insert(p.id, p);
        std::sync::Arc::make_mut(&mut s.mrs).insert(
            i,
            MergeRequest {
                id: i,
                iid: i,
                title: format!("MR {i}"),
                state: MrState::Opened,
                sha: Some(format!("{i:040x}")),
                ..MergeRequest::default()
            }
            .into(),
        );
    }
    for m in 0..50u64 {
        std::sync::Arc::make_mut(&mut s.members).push(Member {
            id: m,
            username: format!("user{m}"),
            ..Member::default()
        });
    }
    s
}

/// A plan of 100 commands of every kind.
fn plan_text() -> String {
    let cmds: Vec<serde_json::Value> = (0..100u64)
        .map(|i| match i % 5 {
            0 => json!({"kind": "retry_job", "project": "g/app", "job_id": 100_000 + (i + 3) * 10,
                "rationale": "runner_system_failure", "confidence": 0.8,
                "evidence": ["ERROR: Job failed (system failure)"]}),
            1 => json!({"kind": "comment_mr", "project": "g/app", "mr_iid": i + 1,
                "body": "The pipeline failed on a runner problem; retrying.", "rationale": "r"}),
            2 => json!({"kind": "set_labels", "project": "g/app", "mr_iid": i + 1,
                "add": ["ci::broken"], "remove": ["ci::green"], "rationale": "r"}),
            3 => json!({"kind": "assign_reviewers", "project": "g/app", "mr_iid": i + 1,
                "reviewers": ["user3", "user7"], "rationale": "r"}),
            _ => json!({"kind": "merge_mr", "project": "g/app", "mr_iid": i + 1,
                "sha": format!("{:040x}", i + 1), "rationale": "r"}),
        })
        .collect();
    json!({"summary": "bench", "commands": cmds}).to_string()
}

#[divan::bench]
fn parse_plan_100(b: Bencher) {
    let text = plan_text();
    b.bench(|| parse_plan_str(black_box(&text)).unwrap());
}

#[divan::bench]
fn validate_and_rate_100(b: Bencher) {
    let snap = snapshot();
    let plan = parse_plan_str(&plan_text()).unwrap();
    let cmds: Vec<Command> = plan.commands.into_iter().map(|(_, c)| c).collect();
    b.bench(|| {
        for c in &cmds {
            black_box(validate(c, &snap).is_ok());
            black_box(risk(c, &snap));
        }
    });
}

#[divan::bench]
fn queue_propose_approve_100(b: Bencher) {
    let snap = snapshot();
    let plan = parse_plan_str(&plan_text()).unwrap();
    let cmds: Vec<Command> = plan.commands.into_iter().map(|(_, c)| c).collect();
    let now = jiff::Timestamp::now();
    b.bench(|| {
        let mut q = Queue::new(Policy::default(), "op@host", "s");
        for c in &cmds {
            let id = q.propose(c.clone(), Source::Planner, &snap, now).id();
            let _ = q.approve(id, now);
        }
        black_box(q.drain_records().len())
    });
}

#[divan::bench(sample_count = 50)]
fn audit_append_synced(b: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(&dir.path().join("audit.jsonl")).unwrap();
    let snap = snapshot();
    let plan = parse_plan_str(&plan_text()).unwrap();
    let mut q = Queue::new(Policy::default(), "op@host", "s");
    q.propose(
        plan.commands[1].1.clone(),
        Source::Planner,
        &snap,
        jiff::Timestamp::now(),
    );
    let rec: AuditRecord = q.drain_records().remove(0);
    b.bench(|| log.append(black_box(&rec)).unwrap());
}
