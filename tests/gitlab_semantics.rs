//! Real GitLab meanings (not just shapes) against the simulator over loopback HTTP: what a job
//! entity does not carry, and what the app decides from what it does carry.

// Test code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gitaiops::gitlab::{PipelineQuery, Status};
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
