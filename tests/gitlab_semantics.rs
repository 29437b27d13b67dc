//! Real GitLab meanings (not just shapes) against the simulator over loopback HTTP: what a job
//! entity does not carry, and what the app decides from what it does carry.

// Test code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gitaiops::gitlab::poller::fetch_snapshot;
use gitaiops::gitlab::{Job, PipelineQuery, Status};
use gitaiops::plan::fence::Fence;
use gitaiops::plan::snapshot::{ContextOptions, JobLogs, build_context};
use gitaiops::testkit::{client, manual_sim};

/// The REST job entity has no `environment` field, so the simulator sends none; the scenario's
/// production job (Auto DevOps style: `production_manual` in stage `production`) must still be
/// recognised as a deploy.
#[tokio::test]
async fn a_production_job_that_does_not_say_deploy_is_a_deploy() {
    let sim = manual_sim().await;
    let c = client(&sim);
    let p = c.project(&sim.project_path()).await.unwrap();
    let pipelines = c
        .pipelines(p.id, &PipelineQuery::default())
        .await
        .unwrap()
        .items;
    let mut production = Vec::new();
    for pl in pipelines.iter().take(40) {
        for j in c.pipeline_jobs(p.id, pl.id).await.unwrap() {
            assert!(j.environment.is_none(), "job {} has an environment", j.id);
            if j.name == "production_manual" {
                production.push(j);
            }
        }
    }
    assert!(!production.is_empty(), "the scenario has a production job");
    for j in &production {
        assert!(!j.name.contains("deploy") && !j.stage.contains("deploy"));
        assert!(j.deploys(), "{} in {} deploys", j.name, j.stage);
    }
    assert!(
        production.iter().any(|j| j.status == Status::Manual),
        "one waits to be played"
    );
    sim.shutdown().await;
}

/// Since GitLab 17.0 the pipeline list leaves child pipelines out unless asked with
/// `source=parent_pipeline`; a pipeline that fails in a child shows no failed job of its own.
/// The one-shot snapshot (`status`, `plan`) follows the trigger job to the child and holds its
/// failed job, and the planner's context names it.
#[tokio::test]
async fn a_failure_in_a_child_pipeline_reaches_the_snapshot_and_the_planner() {
    let sim = manual_sim().await;
    let c = client(&sim);
    let p = c.project(&sim.project_path()).await.unwrap();
    let listed = c
        .pipelines(p.id, &PipelineQuery::latest(100))
        .await
        .unwrap()
        .items;
    assert!(
        listed
            .iter()
            .all(|pl| pl.source.as_deref() != Some("parent_pipeline")),
        "child pipelines are left out of the list"
    );

    let snap = fetch_snapshot(&c, &sim.project_path(), 20, 5)
        .await
        .unwrap();
    let (parent, bridge, child) = snap
        .pipelines
        .keys()
        .flat_map(|&id| snap.downstream(id).map(move |(b, d)| (id, b, d)))
        .find(|(_, _, d)| d.status == Status::Failed)
        .expect("a failed child pipeline behind a trigger job");
    assert_eq!(snap.pipelines[&parent].status, Status::Failed);
    assert_eq!(child.source.as_deref(), Some("parent_pipeline"));
    assert!(
        !listed.iter().any(|pl| pl.id == child.id),
        "the child is known only through its bridge"
    );
    // The parent's own jobs hold no blocking failure: the failure is downstream.
    assert!(
        !snap.jobs[&parent]
            .iter()
            .any(|j| j.status == Status::Failed && !j.allow_failure),
        "{:?}",
        snap.jobs[&parent]
    );
    let failed: Vec<&Job> = snap.jobs[&child.id]
        .iter()
        .filter(|j| j.status == Status::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "{:?}", snap.jobs[&child.id]);
    assert_eq!(failed[0].name, "e2e:firefox");
    assert_eq!(bridge.name, "trigger:e2e");
    // In `status --json` too: the snapshot serializes its bridges and the child's jobs.
    let json = serde_json::to_value(&snap).unwrap();
    assert_eq!(
        json["bridges"][parent.to_string()][0]["downstream_pipeline"]["id"],
        child.id
    );
    assert!(json["jobs"][child.id.to_string()].is_array());

    let ctx = build_context(
        &snap,
        &JobLogs::new(),
        jiff::Timestamp::now(),
        &Fence::with_nonce("c0ffee12"),
        &ContextOptions::default(),
    );
    let line = format!(
        "job {} (downstream pipeline {}, source parent_pipeline) failed",
        failed[0].id, child.id
    );
    assert!(ctx.text.contains(&line), "{line} not in\n{}", ctx.text);
    sim.shutdown().await;
}
