//! The runtime side of the planner and the diagnoser: background tasks whose results come back
//! as `Msg`s. Planning reads GitLab through a read-only client; nothing here can change GitLab.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::app::diagnosis::DiagMsg;
use crate::app::planner::PlanMsg;
use crate::app::{AppState, Msg};
use crate::diagnose::engine::diagnose_with_planner;
use crate::diagnose::log::LogIndex;
use crate::diagnose::model::JobContext;
use crate::gitlab::ProjectSnapshot;
use crate::gitlab::client::{ClientConfig, GitlabClient};
use crate::plan::fetch::{FetchOptions, ReviewCache, ReviewLimits, fetch_for_plan, fetch_review};
use crate::plan::run::{PlanEvent, PlanInput, Planner};
use crate::plan::settings::PlannerSettings;
use crate::plan::trigger::{Trigger, TriggerConfig, significant_events};

pub struct Ai {
    pub planner: Arc<Planner>,
    trigger: Trigger,
    cancel: Option<CancellationToken>,
    /// Reviewer-routing data kept between runs (group members, statuses, commits).
    review_cache: ReviewCache,
    tx: mpsc::Sender<Msg>,
    pub rx: mpsc::Receiver<Msg>,
}

impl Ai {
    pub fn new(planner: Arc<Planner>, ps: Option<&PlannerSettings>) -> Ai {
        let cfg = match ps {
            Some(p) => TriggerConfig {
                debounce: p.debounce,
                interval: p.interval,
            },
            None => TriggerConfig::default(),
        };
        let (tx, rx) = mpsc::channel(64);
        Ai {
            planner,
            trigger: Trigger::new(cfg, Instant::now().into_std()),
            cancel: None,
            review_cache: ReviewCache::default(),
            tx,
            rx,
        }
    }

    /// A new snapshot: a new failed pipeline or a new MR starts a (debounced) run.
    pub fn snapshot(&mut self, old: Option<&ProjectSnapshot>, new: &ProjectSnapshot) {
        // The first snapshot is the baseline, not news.
        if old.is_some() {
            self.trigger
                .events(significant_events(old, new), Instant::now().into_std());
        }
    }

    /// When the trigger wants to start a run on its own.
    pub fn deadline(&self) -> Option<Instant> {
        self.trigger.deadline().map(Instant::from_std)
    }

    /// The deadline passed: the run number and reasons for the app, if a run is due.
    pub fn due(&mut self, state: &AppState) -> Option<Msg> {
        let now = Instant::now().into_std();
        let reasons = self.trigger.poll(now)?;
        if state.plan.running || state.snapshot.is_none() {
            // Nothing to plan from (a project switch is loading): end this turn at once so the
            // deadline moves on instead of firing again immediately.
            self.trigger.finished(now);
            return None;
        }
        let reasons: Vec<String> = reasons.iter().map(|r| format!("{r:?}")).collect();
        Some(Msg::Plan(PlanMsg::Started {
            run: state.plan.run + 1,
            reasons: reasons.join(", "),
        }))
    }

    /// A run ended (its Finished message reached the app).
    pub fn finished(&mut self) {
        self.trigger.finished(Instant::now().into_std());
        self.cancel = None;
    }

    /// Starts run `run`, cancelling any older one. Reads a fresh snapshot (with failed-job
    /// logs, approvals and members) through a read-only client, then asks the planner.
    pub fn start_plan(&mut self, run: u64, mut cc: ClientConfig, project: String) {
        if let Some(c) = self.cancel.take() {
            c.cancel();
        }
        // Mark the trigger running for manual starts too (`due` already did for its own).
        let _ = self.trigger.manual(Instant::now().into_std());
        let token = CancellationToken::new();
        self.cancel = Some(token.clone());
        let planner = self.planner.clone();
        let tx = self.tx.clone();
        let review_cache = self.review_cache.clone();
        cc.read_only = true;
        tokio::spawn(async move {
            let _ = tx.send(Msg::Plan(PlanMsg::Fetching { run })).await;
            let opts = FetchOptions::default();
            let fetched = match GitlabClient::new(cc) {
                Ok(client) => tokio::select! {
                    r = async {
                        let (mut snap, logs) = fetch_for_plan(&client, &project, &opts).await?;
                        let review = fetch_review(&client, &mut snap, &ReviewLimits::default(), &review_cache).await;
                        Ok::<_, crate::gitlab::error::GitlabError>((snap, logs, review))
                    } => r.map_err(|e| e.to_string()),
                    _ = token.cancelled() => Err("cancelled".into()),
                },
                Err(e) => Err(e.to_string()),
            };
            let result = match fetched {
                Ok((snap, logs, review)) => {
                    let (ptx, mut prx) = mpsc::channel(16);
                    let handle_name = planner.name();
                    let handle = crate::plan::run::spawn_plan(
                        planner,
                        PlanInput {
                            review,
                            ..PlanInput::new(Arc::new(snap), logs)
                        },
                        run,
                        ptx,
                    );
                    let mut result = None;
                    loop {
                        tokio::select! {
                            ev = prx.recv() => match ev {
                                Some(PlanEvent::Progress { progress, .. }) => {
                                    let _ = tx.try_send(Msg::Plan(PlanMsg::Progress { run, progress }));
                                }
                                Some(PlanEvent::Finished { result: r, .. }) => { result = Some(r); break; }
                                None => break,
                            },
                            _ = token.cancelled() => { handle.cancel(); }
                        }
                    }
                    match result {
                        Some(r) => r,
                        None => Box::new(Err(failure(handle_name, "cancelled", "the run stopped"))),
                    }
                }
                Err(e) => Box::new(Err(failure(
                    "gitlab",
                    "fetch",
                    &format!("cannot read {project}: {e}"),
                ))),
            };
            let _ = tx.send(Msg::Plan(PlanMsg::Finished { run, result })).await;
        });
    }

    /// Diagnoses `job_id`: the trace on screen or a fresh fetch, then the LLM when the planner
    /// is an LLM (falling back to the rules engine, with a note, when it fails), else the rules.
    pub fn start_diagnosis(
        &self,
        job_id: u64,
        index: Option<Arc<LogIndex>>,
        snapshot: Option<Arc<ProjectSnapshot>>,
        mut cc: ClientConfig,
    ) {
        let tx = self.tx.clone();
        let planner = self.planner.clone();
        cc.read_only = true;
        tokio::spawn(async move {
            let job = snapshot.as_ref().and_then(|s| s.job(job_id)).cloned();
            let ctx = JobContext {
                project: snapshot.as_ref().map(|s| s.path().to_string()),
                job_id: Some(job_id),
                job_name: job.as_ref().map(|j| j.name.clone()),
                stage: job.as_ref().map(|j| j.stage.clone()),
                failure_reason: job.as_ref().and_then(|j| j.failure_reason.clone()),
                allow_failure: job.as_ref().is_some_and(|j| j.allow_failure),
                ..Default::default()
            };
            let index = match index {
                Some(i) => Ok(i),
                None => fetch_trace(cc, snapshot.as_deref(), job_id).await,
            };
            let msg = match index {
                Err(e) => DiagMsg {
                    job_id,
                    result: Err(e),
                    engine: "none".into(),
                    index: None,
                },
                Ok(index) => {
                    let (result, engine) =
                        diagnose_with_planner(&planner, index.clone(), ctx).await;
                    DiagMsg {
                        job_id,
                        result,
                        engine,
                        index: Some(index),
                    }
                }
            };
            let _ = tx.send(Msg::Diagnosis(Box::new(msg))).await;
        });
    }
}

fn failure(planner: &str, state: &'static str, message: &str) -> crate::plan::run::PlanFailure {
    crate::plan::run::PlanFailure {
        planner: planner.to_string(),
        state,
        message: message.to_string(),
        usage: Default::default(),
        cost_usd: None,
    }
}

async fn fetch_trace(
    cc: ClientConfig,
    snap: Option<&ProjectSnapshot>,
    job_id: u64,
) -> Result<Arc<LogIndex>, String> {
    let snap = snap.ok_or("no data from GitLab yet")?;
    let client = GitlabClient::new(cc).map_err(|e| e.to_string())?;
    let bytes = client
        .job_trace(snap.project.id, job_id)
        .await
        .map_err(|e| format!("cannot fetch the log of job #{job_id}: {e}"))?;
    tokio::task::spawn_blocking(move || Arc::new(LogIndex::parse(Arc::new(bytes))))
        .await
        .map_err(|e| format!("log parsing failed: {e}"))
}
