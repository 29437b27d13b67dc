//! What flows into `update` (messages) and out of it (effects for the runtime to perform).

use std::sync::Arc;

use crate::diagnose::log::LogIndex;
use crate::gitlab::ProjectSnapshot;

use super::activity::ActivityKind;
use super::key::Key;
use super::queue::QueueRow;

#[derive(Debug, Clone)]
pub enum Msg {
    Key(Key),
    /// Terminal size changed (bursts are coalesced by the runtime).
    Resize {
        w: u16,
        h: u16,
    },
    /// A poller produced a new snapshot. `epoch` identifies the poller (project switch bumps
    /// it); results from an older epoch are dropped.
    Snapshot {
        epoch: u64,
        snapshot: Arc<ProjectSnapshot>,
    },
    PollError {
        epoch: u64,
        error: String,
    },
    Requests {
        epoch: u64,
        total: u64,
        last_minute: u32,
    },
    /// A job's trace, parsed off the UI task.
    JobLog {
        job_id: u64,
        index: Arc<LogIndex>,
        complete: bool,
    },
    /// The whole proposed-commands queue, from its owner.
    Queue(Vec<QueueRow>),
    /// Something for the activity feed from another part of the program.
    Activity {
        kind: ActivityKind,
        text: String,
    },
    /// A planner run's progress or result.
    Plan(super::planner::PlanMsg),
    /// A diagnosis finished (rules engine or LLM).
    Diagnosis(Box<super::diagnosis::DiagMsg>),
    /// Slow clock tick (about once a minute) so ages stay right; `AppState::now` was updated.
    Tick,
    /// Back from a suspend (Ctrl-Z, fg): the screen must be repainted.
    Resumed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    Suspend,
    /// Ask the poller for an immediate refresh.
    Refresh,
    /// The MRs and pipelines on screen: details (approvals, jobs) are fetched only for these.
    SetVisible {
        mrs: Vec<u64>,
        pipelines: Vec<u64>,
    },
    /// The job whose log is on screen (re-fetched while it runs), or none.
    WatchJobLog(Option<u64>),
    FetchMrDetail(u64),
    /// Stop the current poller and start one for this project (new epoch).
    SwitchProject {
        project: String,
        epoch: u64,
    },
    /// Turn read-only on for the rest of the session.
    ReadOnly,
    /// The operator's decision on a proposed command.
    Decide {
        id: u64,
        approve: bool,
    },
    /// Start planner run `run` (the runtime cancels any older one).
    Plan {
        run: u64,
    },
    /// Diagnose this failed job (fetching its trace if the panel has none).
    Diagnose {
        job_id: u64,
    },
    /// Repaint every cell (after resume or when the screen may be garbled).
    ForceRedraw,
}
