//! The way out of the terminal and across panes: `o` opens the selected MR, pipeline or job in
//! the browser, `y` copies its URL (OSC 52, done by the runtime), `m` jumps between a pipeline
//! or job and its MR. Pure: what to open or copy goes out as an effect.

use super::layout::Pane;
use super::msg::Effect;
use super::pipelines::PipeRow;
use super::state::{AppState, View};
use super::update::{notice, select_mr, select_pipeline};
use crate::gitlab::ProjectSnapshot;

/// The selected thing's name and GitLab page, or why there is none.
pub fn selected_url(state: &AppState) -> Result<(String, String), String> {
    const HOW: &str = "select an MR, pipeline or job first";
    let snap = state.snapshot.as_deref().ok_or("nothing loaded yet")?;
    let (what, url) = match &state.view {
        View::Log(v) => job_url(snap, v.job_id),
        View::Detail { iid, .. } => mr_url(snap, *iid),
        View::Main if state.focus == Pane::Mrs => {
            mr_url(snap, state.mrs.selected_iid().ok_or(HOW)?)
        }
        View::Main if state.focus == Pane::Pipelines => match state.pipelines.selected() {
            Some(PipeRow::Job { job, .. }) => job_url(snap, *job),
            Some(PipeRow::Downstream { child, .. }) => pipeline_url(snap, *child),
            Some(row) => pipeline_url(snap, row.pipeline_id()),
            None => return Err(HOW.into()),
        },
        _ => return Err(HOW.into()),
    };
    let url = url.ok_or_else(|| format!("GitLab sent no web address for {what}"))?;
    // The address comes from the server: only a web page may leave for a browser or the
    // clipboard, never a `file:` or `javascript:` URL.
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://"))
        || url.chars().any(char::is_control)
    {
        return Err(format!(
            "{what}: GitLab's web address is not an http(s) URL"
        ));
    }
    Ok((what, url))
}

fn mr_url(snap: &ProjectSnapshot, iid: u64) -> (String, Option<String>) {
    (
        format!("!{iid}"),
        snap.mr(iid).and_then(|m| m.web_url.clone()),
    )
}

fn pipeline_url(snap: &ProjectSnapshot, id: u64) -> (String, Option<String>) {
    let url = snap
        .pipeline(id)
        .or_else(|| snap.downstream_pipeline(id))
        .and_then(|p| p.web_url.clone());
    (format!("pipeline #{id}"), url)
}

fn job_url(snap: &ProjectSnapshot, id: u64) -> (String, Option<String>) {
    (
        format!("job #{id}"),
        snap.job(id).and_then(|j| j.web_url.clone()),
    )
}

/// `o`: the runtime opens it where there is a display, and says the address otherwise.
pub fn open(state: &mut AppState, fx: &mut Vec<Effect>) {
    match selected_url(state) {
        Ok((what, url)) => fx.push(Effect::OpenUrl { what, url }),
        Err(why) => notice(state, format!("open: {why}")),
    }
}

/// `y`: the runtime writes it to the terminal's clipboard (OSC 52).
pub fn copy(state: &mut AppState, fx: &mut Vec<Effect>) {
    match selected_url(state) {
        Ok((what, url)) => fx.push(Effect::CopyUrl { what, url }),
        Err(why) => notice(state, format!("copy: {why}")),
    }
}

/// `m`: from a pipeline or job to its MR; from an MR to the pipeline that reports on it.
pub fn jump(state: &mut AppState, fx: &mut Vec<Effect>) {
    let Some(snap) = state.snapshot.clone() else {
        notice(state, "jump: nothing loaded yet");
        return;
    };
    let from_mr = match &state.view {
        View::Detail { iid, .. } => Some(*iid),
        View::Main if state.focus == Pane::Mrs => state.mrs.selected_iid(),
        _ => None,
    };
    if let Some(iid) = from_mr {
        let Some(p) = snap.mr(iid).and_then(|mr| snap.pipeline_for_mr(mr)) else {
            notice(state, format!("jump: !{iid} has no pipeline"));
            return;
        };
        let id = p.id;
        if select_pipeline(state, id, fx) {
            notice(state, format!("!{iid} → pipeline #{id}"));
        } else {
            notice(
                state,
                format!("jump: pipeline #{id} of !{iid} is not among the pipelines shown"),
            );
        }
        return;
    }
    let pipeline = match &state.view {
        View::Log(v) => snap.job(v.job_id).and_then(|j| j.pipeline_id()),
        View::Main if state.focus == Pane::Pipelines => {
            state.pipelines.selected().map(PipeRow::pipeline_id)
        }
        _ => None,
    };
    let Some(pid) = pipeline else {
        notice(state, "jump: select a pipeline, job or MR first");
        return;
    };
    match snap.mr_of_pipeline(pid) {
        Some(iid) if snap.mr(iid).is_some() => {
            select_mr(state, iid, fx);
            notice(state, format!("pipeline #{pid} → !{iid}"));
        }
        Some(iid) => notice(state, format!("jump: !{iid} is not open")),
        None => notice(state, format!("jump: pipeline #{pid} is not an MR's")),
    }
}
