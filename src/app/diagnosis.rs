//! The diagnosis panel (`d` on a failed job): what the diagnoser concluded, the evidence lines
//! (Enter jumps to one in the log viewer), and the commands it proposes. The work (fetching the
//! trace, rules engine or LLM) happens in the runtime (`Effect::Diagnose`).

use std::sync::Arc;

use crate::command::{Command, Source};
use crate::diagnose::log::LogIndex;
use crate::diagnose::model::{Diagnosis, JobContext};
use crate::gitlab::models::Status;

use super::activity::ActivityKind;
use super::logview::{LogView, text_cols};
use super::msg::{DiagnoseRequest, Effect, Shared};
use super::pipelines::PipeRow;
use super::state::{AppState, View};
use super::update::notice;

#[derive(Debug, Clone)]
pub struct DiagView {
    pub job_id: u64,
    pub title: String,
    /// `None` while the diagnoser works.
    pub result: Option<Result<Diagnosis, String>>,
    /// How it was made ("rules", "gemini …", "rules (gemini failed: …)").
    pub engine: String,
    /// The trace the diagnosis read, for evidence jumps.
    pub index: Option<Arc<LogIndex>>,
    /// Selected evidence line.
    pub selected: usize,
    /// The log view the panel was opened from, restored on Esc.
    pub from_log: Option<Box<LogView>>,
    /// The failure inbox it was opened from, restored on Esc.
    pub from_inbox: Option<super::inbox::InboxView>,
}

#[derive(Debug, Clone)]
pub struct DiagMsg {
    pub job_id: u64,
    pub result: Result<Diagnosis, String>,
    pub engine: String,
    pub index: Option<Arc<LogIndex>>,
}

/// What `d` applies to: a job, or why there is none.
enum DiagTarget {
    Job(u64),
    /// A pipeline (selected, or an MR's) whose failed jobs are not known yet or that did not
    /// fail: the reason.
    Nothing(String),
}

/// The earliest failed job of a failed pipeline, and the other failed jobs' names.
fn pipeline_target(state: &AppState, pipeline: u64) -> DiagTarget {
    let Some(snap) = state.snapshot.as_deref() else {
        return DiagTarget::Nothing("no data from GitLab yet".into());
    };
    let Some(p) = snap.pipeline(pipeline) else {
        return DiagTarget::Nothing(format!("pipeline #{pipeline} is not loaded"));
    };
    if p.status != Status::Failed {
        return DiagTarget::Nothing(format!(
            "pipeline #{pipeline} is {}: only failed pipelines are diagnosed",
            p.status.as_str()
        ));
    }
    if !snap.jobs.contains_key(&pipeline) {
        return DiagTarget::Nothing(format!(
            "the jobs of pipeline #{pipeline} are loading; press d again in a moment"
        ));
    }
    match super::causes::failed_jobs(snap, pipeline).first() {
        Some(j) => DiagTarget::Job(j.id),
        None => DiagTarget::Nothing(format!(
            "pipeline #{pipeline} has no failed job of its own (a downstream pipeline may have failed)"
        )),
    }
}

/// The job `d` applies to: the log on screen, the selected job, the earliest failed job of the
/// selected pipeline, or of the selected MR's pipeline.
fn target_job(state: &AppState) -> DiagTarget {
    use super::layout::Pane;
    const HOW: &str =
        "diagnose: select a failed job, pipeline or MR (or open a job's log), then press d";
    match &state.view {
        View::Log(v) => DiagTarget::Job(v.job_id),
        View::Main if state.focus == Pane::Pipelines => match state.pipelines.selected() {
            Some(PipeRow::Job { job, .. }) => DiagTarget::Job(*job),
            Some(PipeRow::Pipeline(id)) | Some(PipeRow::Stage { pipeline: id, .. }) => {
                pipeline_target(state, *id)
            }
            _ => DiagTarget::Nothing(HOW.into()),
        },
        View::Main if state.focus == Pane::Mrs => {
            let snap = state.snapshot.as_deref();
            let mr = state
                .mrs
                .selected_iid()
                .and_then(|iid| snap.and_then(|s| s.mr(iid)));
            match (mr, snap) {
                (Some(mr), Some(snap)) => match snap.pipeline_for_mr(mr) {
                    Some(p) => pipeline_target(state, p.id),
                    None => DiagTarget::Nothing(format!("!{} has no pipeline", mr.iid)),
                },
                _ => DiagTarget::Nothing(HOW.into()),
            }
        }
        View::Detail { iid, .. } => {
            let snap = state.snapshot.as_deref();
            match snap.and_then(|s| s.mr(*iid).and_then(|mr| s.pipeline_for_mr(mr))) {
                Some(p) => pipeline_target(state, p.id),
                None => DiagTarget::Nothing(format!("!{iid} has no pipeline")),
            }
        }
        _ => DiagTarget::Nothing(HOW.into()),
    }
}

/// `d`: diagnose the selected failed job, or say why not.
pub fn request(state: &mut AppState, fx: &mut Vec<Effect>) {
    match target_job(state) {
        DiagTarget::Job(id) => start(state, id, fx),
        DiagTarget::Nothing(why) => notice(state, why),
    }
}

/// Opens the diagnosis panel of `job_id` and asks the driver for the diagnosis (the log on
/// screen is reused).
pub fn start(state: &mut AppState, job_id: u64, fx: &mut Vec<Effect>) {
    let job = state.snapshot.as_ref().and_then(|s| s.job(job_id));
    let title = match job {
        Some(j) if j.status != Status::Failed => {
            notice(
                state,
                format!(
                    "job #{job_id} {} is {}: only failed jobs are diagnosed",
                    j.name,
                    j.status.as_str()
                ),
            );
            return;
        }
        Some(j) => format!("{} ({}) #{job_id}", j.name, j.stage),
        None => format!("job #{job_id}"),
    };
    // The pipeline's other failed jobs are named, so nobody takes the first for the only one.
    let others: Vec<String> = state
        .snapshot
        .as_deref()
        .and_then(|s| {
            let pid = s
                .jobs
                .iter()
                .find(|(_, js)| js.iter().any(|j| j.id == job_id))
                .map(|(p, _)| *p)?;
            Some(
                super::causes::failed_jobs(s, pid)
                    .into_iter()
                    .filter(|j| j.id != job_id)
                    .map(|j| j.name.clone())
                    .collect(),
            )
        })
        .unwrap_or_default();
    let title = match others.len() {
        0 => title,
        n => format!(
            "{title}; {n} more failed: {}",
            others
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let from_inbox = match &state.view {
        View::Inbox(i) => Some(i.clone()),
        _ => None,
    };
    let from_log = match std::mem::replace(&mut state.view, View::Main) {
        View::Log(v) => Some(v),
        other => {
            state.view = other;
            None
        }
    };
    let index = from_log.as_ref().and_then(|v| v.index.clone());
    let snap = state.snapshot.as_deref();
    let job = snap.and_then(|s| s.job(job_id));
    let ctx = JobContext {
        project: snap.map(|s| s.path().to_string()),
        job_id: Some(job_id),
        job_name: job.map(|j| j.name.clone()),
        stage: job.map(|j| j.stage.clone()),
        failure_reason: job.and_then(|j| j.failure_reason.clone()),
        allow_failure: job.is_some_and(|j| j.allow_failure),
        ..Default::default()
    };
    fx.push(Effect::Diagnose(Box::new(DiagnoseRequest {
        job_id,
        project_id: snap.map(|s| s.job_project_id(job_id)),
        ctx,
        index: index.clone().map(Shared),
    })));
    state.view = View::Diagnosis(Box::new(DiagView {
        job_id,
        title,
        result: None,
        engine: String::new(),
        index,
        selected: 0,
        from_log,
        from_inbox,
    }));
    state.dirty = true;
}

/// A finished diagnosis: shown if its panel is still open; its commands go to the queue.
pub fn on_msg(state: &mut AppState, msg: DiagMsg) -> Option<(Vec<Command>, Source)> {
    let proposals = match &msg.result {
        Ok(d) => {
            state.activity.push(
                state.now,
                ActivityKind::Info,
                format!(
                    "diagnosis of job #{} ({}): {} — {}",
                    msg.job_id,
                    msg.engine,
                    d.category.label(),
                    d.summary
                ),
            );
            Some((d.commands.clone(), Source::Rules)).filter(|(c, _)| !c.is_empty())
        }
        Err(e) => {
            state.activity.push(
                state.now,
                ActivityKind::Error,
                format!("diagnosis of job #{} failed: {e}", msg.job_id),
            );
            None
        }
    };
    if let View::Diagnosis(v) = &mut state.view
        && v.job_id == msg.job_id
    {
        v.result = Some(msg.result);
        v.engine = msg.engine;
        if msg.index.is_some() {
            v.index = msg.index;
        }
        v.selected = 0;
    }
    state.dirty = true;
    proposals
}

pub fn evidence_len(v: &DiagView) -> usize {
    match &v.result {
        Some(Ok(d)) => d.evidence.len(),
        _ => 0,
    }
}

/// Up/down through the evidence lines.
pub fn move_selection(state: &mut AppState, delta: isize) {
    if let View::Diagnosis(v) = &mut state.view {
        let n = evidence_len(v);
        if n == 0 {
            return;
        }
        v.selected = (v.selected as isize + delta).clamp(0, n as isize - 1) as usize;
    }
}

/// Enter: open the log at the selected evidence line (1-based in the diagnosis, 0-based in
/// the viewer).
pub fn jump(state: &mut AppState, fx: &mut Vec<Effect>) {
    let View::Diagnosis(v) = &mut state.view else {
        return;
    };
    let line = match &v.result {
        Some(Ok(d)) => d.evidence.get(v.selected).map(|e| e.line),
        _ => None,
    };
    let Some(line) = line else {
        notice(state, "no evidence line to jump to");
        return;
    };
    let Some(index) = v.index.clone() else {
        notice(state, "the log is not loaded");
        return;
    };
    let mut log = match v.from_log.take() {
        Some(l) if l.job_id == v.job_id => l,
        _ => Box::new(LogView::new(v.job_id, v.title.clone(), false)),
    };
    let rows = state.layout.view_rows();
    let cols = text_cols(state.layout.view_cols(), index.line_count());
    if log.index.is_none() {
        log.set_index(index.clone(), true, rows, cols);
    }
    let target = line
        .saturating_sub(1)
        .min(index.line_count().saturating_sub(1));
    log.follow = false;
    log.goto_line(target, rows, cols);
    log.notice = Some(format!("evidence: line {line}"));
    let job_id = log.job_id;
    state.view = View::Log(log);
    state.dirty = true;
    fx.push(Effect::WatchJobLog(Some(job_id)));
}

/// Esc: back to the log it came from, else the main view.
pub fn close(state: &mut AppState, fx: &mut Vec<Effect>) {
    if let View::Diagnosis(v) = std::mem::replace(&mut state.view, View::Main) {
        if let Some(log) = v.from_log {
            let job = log.job_id;
            state.view = View::Log(log);
            fx.push(Effect::WatchJobLog(Some(job)));
        } else if let Some(inbox) = v.from_inbox {
            state.view = View::Inbox(inbox);
        }
    }
    state.dirty = true;
}
