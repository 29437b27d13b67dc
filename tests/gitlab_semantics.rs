//! Real GitLab meanings (not just shapes) against the simulator over loopback HTTP: what a job
//! entity does not carry, and what the app decides from what it does carry.

// Runs against the embedded simulator (the default `sim` feature).
#![cfg(feature = "sim")]
// Test code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gitaiops::command::executor::refresh_target;
use gitaiops::command::validate::validate;
use gitaiops::gitlab::poller::fetch_snapshot;
use gitaiops::gitlab::{DetailedMergeStatus, Job, PipelineQuery, Status};
use gitaiops::plan::fence::Fence;
use gitaiops::plan::snapshot::{ContextOptions, JobLogs, build_context};
use gitaiops::sim::{Edition, SimConfig};
use gitaiops::testkit::{client, manual_config, manual_sim, start_sim};

/// The REST job entity has no `environment` field, so the simulator sends none. Which job
/// deploys comes from GitLab's deployments: the scenario's `eu-central-1` (stage `regions`),
/// whose name and stage say nothing of a deploy, is a deploy because a deployment names it —
/// playing it is high risk and its details say where it deploys. Without a readable answer, a
/// manual job still counts as a deploy; with one, a manual job no deployment names does not.
#[tokio::test]
async fn a_deploy_is_known_from_gitlabs_deployments_not_from_its_name() {
    use gitaiops::command::model::Command;
    use gitaiops::command::risk::{Risk, deploy_reason, risk};
    use gitaiops::gitlab::DeployFact;
    let sim = manual_sim().await;
    let c = client(&sim);
    let path = sim.project_path();
    let p = c.project(&path).await.unwrap();
    let raw = raw_get(&sim, &format!("/projects/{}/jobs?per_page=100", p.id)).await;
    let raw = raw.as_array().unwrap();
    assert!(!raw.is_empty());
    assert!(raw.iter().all(|j| j.get("environment").is_none()));

    let snap = fetch_snapshot(&c, &path, 20, 5).await.unwrap();
    let region = snap
        .all_jobs()
        .find(|j| j.name == "eu-central-1" && j.status == Status::Manual)
        .expect("a manual region job in the newest main pipelines")
        .clone();
    assert!(!region.named_like_deploy(&[]), "its name says nothing");
    assert_eq!(
        snap.deploy_fact(&region),
        DeployFact::Deploys("production/eu-central-1")
    );
    let play: Command = serde_json::from_value(serde_json::json!({"kind": "play_job",
        "project": path, "job_id": region.id, "rationale": "r"}))
    .unwrap();
    assert_eq!(risk(&play, &snap), Risk::High);
    assert_eq!(
        deploy_reason(region.id, &snap, &[]).as_deref(),
        Some("deploys to environment production/eu-central-1")
    );
    // Every job of the snapshot that a deployment names has an environment in the scenario's
    // CI file; the tests and builds have none.
    for j in snap.all_jobs() {
        let deploys = matches!(snap.deploy_fact(j), DeployFact::Deploys(_));
        let named = ["deploy:staging", "production_manual", "eu-central-1"];
        assert_eq!(
            deploys,
            named.contains(&j.name.as_str()),
            "{} ({})",
            j.name,
            j.id
        );
    }
    // No answer (a token that may not read deployments): the manual job counts as a deploy.
    let mut unread = snap.clone();
    unread.deployments = None;
    assert_eq!(risk(&play, &unread), Risk::High);
    // An answer that covers the job and does not name it: a manual job that is not a deploy.
    let mut not_named = snap.clone();
    if let Some(d) = not_named.deployments.as_mut() {
        d.by_job.remove(&region.id);
    }
    assert_eq!(risk(&play, &not_named), Risk::Medium);
    sim.shutdown().await;
}

async fn raw_get(sim: &gitaiops::sim::SimHandle, path: &str) -> serde_json::Value {
    let r = reqwest::get(format!("{}/api/v4{path}", sim.base_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "GET {path}");
    r.json().await.unwrap()
}

/// The deployments endpoint as GitLab serves it: newest first on request, filtered by status and
/// environment, each naming its job; DeploymentsFinder's refusals are 400s.
#[tokio::test]
async fn the_deployments_endpoint_follows_gitlab() {
    let sim = manual_sim().await;
    let c = client(&sim);
    let p = c.project(&sim.project_path()).await.unwrap();
    let get = |q: &'static str| {
        let url = format!(
            "{}/api/v4/projects/{}/deployments?{q}",
            sim.base_url(),
            p.id
        );
        async move {
            let r = reqwest::Client::new().get(url).send().await.unwrap();
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().await.unwrap();
            if status == 200 {
                Ok(body)
            } else {
                Err((status, body))
            }
        }
    };
    let all = get("order_by=id&sort=desc&per_page=100").await.unwrap();
    let all = all.as_array().unwrap();
    assert!(all.len() >= 6, "{}", all.len());
    let ids: Vec<u64> = all.iter().map(|d| d["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    for d in all {
        assert!(d["deployable"]["id"].as_u64().is_some());
        assert!(d["environment"]["name"].as_str().is_some());
        assert!(d["iid"].as_u64().is_some());
    }
    let created = get("status=created&per_page=100").await.unwrap();
    let created = created.as_array().unwrap();
    assert!(
        !created.is_empty(),
        "manual deploys wait as `created` deployments"
    );
    assert!(created.iter().all(|d| d["status"] == "created"));
    let eu = get("environment=production%2Feu-central-1&per_page=100")
        .await
        .unwrap();
    assert!(
        eu.as_array()
            .unwrap()
            .iter()
            .all(|d| d["deployable"]["name"] == "eu-central-1")
    );
    for bad in [
        "status=done",
        "finished_after=2026-01-01T00:00:00Z&order_by=finished_at",
        "finished_after=2026-01-01T00:00:00Z&status=success",
    ] {
        let (status, body) = get(bad).await.unwrap_err();
        assert_eq!(status, 400, "{bad}: {body}");
    }
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

/// `gitaiops sim --edition ce`: the approvals answer has CE's four fields, where `approved:
/// false` only means "nobody approved yet"; a green MR that EE would hold for approvals is
/// mergeable there, passes validation (old code refused it: "needs 1 more approval(s)") and
/// merges.
#[tokio::test]
async fn on_ce_a_green_mergeable_mr_without_approvals_merges() {
    let sim = start_sim(SimConfig {
        edition: Edition::Ce,
        ..manual_config()
    })
    .await;
    let c = client(&sim);
    let path = sim.project_path();
    let p = c.project(&path).await.unwrap();
    let raw: serde_json::Value = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!(
            "{}/api/v4/projects/{}/merge_requests/7/approvals",
            sim.base_url(),
            p.id
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut keys: Vec<&str> = raw
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "approved",
            "approved_by",
            "user_can_approve",
            "user_has_approved"
        ]
    );

    let snap = fetch_snapshot(&c, &path, 20, 5).await.unwrap();
    // A green, mergeable MR nobody approved (EE would answer `not_approved` for it).
    let mut pick = None;
    for &iid in snap.mrs.keys() {
        let mr = c.merge_request(p.id, iid).await.unwrap();
        let a = c.mr_approvals(p.id, iid).await.unwrap();
        if mr.detailed_merge_status == Some(DetailedMergeStatus::Mergeable)
            && a.approved == Some(false)
        {
            pick = Some(mr);
            break;
        }
    }
    let mr = pick.expect("a mergeable MR without approvals on CE");
    let (iid, sha) = (mr.iid, mr.sha.clone().unwrap());
    let cmd = gitaiops::command::parse_command(&serde_json::json!({"kind": "merge_mr",
        "project": path, "mr_iid": iid, "sha": sha, "rationale": "green"}))
    .unwrap();
    let fresh = refresh_target(&c, &cmd, &snap).await.unwrap();
    assert_eq!(fresh.approvals[&iid].approved, Some(false));
    assert_eq!(validate(&cmd, &fresh), Ok(()));
    let merged = c.merge_mr(p.id, iid, &sha).await.unwrap();
    assert_eq!(merged.status, 200);
    assert_eq!(
        c.merge_request(p.id, iid).await.unwrap().state,
        gitaiops::gitlab::MrState::Merged
    );
    sim.shutdown().await;
}

/// What current GitLab sends that the simulator used to leave out or say otherwise:
/// `RateLimit-*` on every response, 200 with an empty body for the trace of a job that has
/// not started, and the head sha in a 409 merge refusal.
#[tokio::test]
async fn the_sim_answers_as_current_gitlab_does() {
    let sim = manual_sim().await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let api = format!("{}/api/v4/projects/1", sim.base_url());
    let mut observed = Vec::new();
    for _ in 0..2 {
        let r = http
            .get(format!("{api}/merge_requests"))
            .send()
            .await
            .unwrap();
        let h = |n: &str| {
            r.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .unwrap_or_else(|| panic!("{n} missing"))
        };
        assert_eq!(h("ratelimit-limit"), "2000");
        assert_eq!(h("ratelimit-name"), "throttle_authenticated_api");
        let o: u64 = h("ratelimit-observed").parse().unwrap();
        let rem: u64 = h("ratelimit-remaining").parse().unwrap();
        assert_eq!(o + rem, 2000);
        assert!(h("ratelimit-reset").parse::<u64>().is_ok());
        assert!(h("ratelimit-resettime").ends_with("GMT"));
        observed.push(o);
    }
    assert_eq!(observed[1], observed[0] + 1, "each request is counted");

    let c = client(&sim);
    let snap = fetch_snapshot(&c, &sim.project_path(), 20, 20)
        .await
        .unwrap();
    let waiting = snap
        .all_jobs()
        .find(|j| j.status == Status::Manual || j.status == Status::Created)
        .expect("a job that has not started");
    let r = http
        .get(format!("{api}/jobs/{}/trace", waiting.id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().is_empty());

    let mr = c.merge_request(snap.project.id, 9).await.unwrap();
    let r = http
        .put(format!("{api}/merge_requests/9/merge"))
        .json(&serde_json::json!({"sha": "deadbeef"}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: serde_json::Value = r.json().await.unwrap();
    if status == 409 {
        assert_eq!(
            body["message"],
            format!(
                "SHA does not match HEAD of source branch: {}",
                mr.sha.unwrap()
            )
        );
    } else {
        panic!("{status}: {body}");
    }
    sim.shutdown().await;
}
