//! A planner run as a task: read the project through a read-only client, ask the planner,
//! report progress and the result as `Msg`s. `gitaiops plan` reads the project the same way.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::Msg;
use crate::app::planner::PlanMsg;
use crate::gitlab::client::GitlabClient;
use crate::gitlab::error::GitlabError;
use crate::plan::fetch::{FetchOptions, ReviewCache, ReviewLimits, fetch_for_plan, fetch_review};
use crate::plan::run::{PlanEvent, PlanFailure, PlanInput, Planner, spawn_plan};

/// What a plan is made from: a fresh snapshot with failed-job logs, approvals and members, and
/// the reviewer-routing data (CODEOWNERS, groups, people; `cache` keeps them between runs).
/// `client` should be a read-only view: planning never writes.
pub async fn read_project(
    client: &GitlabClient,
    project: &str,
    cache: &ReviewCache,
) -> Result<PlanInput, GitlabError> {
    let (mut snap, logs) = fetch_for_plan(client, project, &FetchOptions::default()).await?;
    let review = fetch_review(client, &mut snap, &ReviewLimits::default(), cache).await;
    Ok(PlanInput {
        review,
        ..PlanInput::new(Arc::new(snap), logs)
    })
}

/// Runs plan `run` to its end (or until `cancel`), sending `PlanMsg`s; the last is `Finished`.
pub async fn plan_task(
    client: GitlabClient,
    planner: Arc<Planner>,
    cache: ReviewCache,
    project: String,
    run: u64,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) {
    let _ = tx.send(Msg::Plan(PlanMsg::Fetching { run })).await;
    let input = tokio::select! {
        r = read_project(&client, &project, &cache) => r.map_err(|e| e.to_string()),
        _ = cancel.cancelled() => Err("cancelled".into()),
    };
    let result = match input {
        Ok(input) => {
            let (ptx, mut prx) = mpsc::channel(16);
            let name = planner.name();
            let handle = spawn_plan(planner, input, run, ptx);
            let mut result = None;
            loop {
                tokio::select! {
                    ev = prx.recv() => match ev {
                        Some(PlanEvent::Progress { progress, .. }) => {
                            // Progress is advisory: a full channel drops it rather than stall.
                            let _ = tx.try_send(Msg::Plan(PlanMsg::Progress { run, progress }));
                        }
                        Some(PlanEvent::Finished { result: r, .. }) => {
                            result = Some(r);
                            break;
                        }
                        None => break,
                    },
                    _ = cancel.cancelled() => handle.cancel(),
                }
            }
            result.unwrap_or_else(|| Box::new(Err(failure(name, "cancelled", "the run stopped"))))
        }
        Err(e) if e == "cancelled" => Box::new(Err(failure("gitlab", "cancelled", "cancelled"))),
        Err(e) => Box::new(Err(failure(
            "gitlab",
            "fetch",
            &format!("cannot read {project}: {e}"),
        ))),
    };
    let _ = tx.send(Msg::Plan(PlanMsg::Finished { run, result })).await;
}

fn failure(planner: &str, state: &'static str, message: &str) -> PlanFailure {
    PlanFailure {
        planner: planner.to_string(),
        state,
        message: message.to_string(),
        usage: Default::default(),
        cost_usd: None,
    }
}
