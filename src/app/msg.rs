//! What flows into `update` (messages) and out of it (effects for the runtime to perform).

use std::sync::Arc;

use crate::command::audit::AuditRecord;
use crate::command::executor::ExecReport;
use crate::command::queue::Ticket;
use crate::command::{Command, Source};
use crate::diagnose::log::LogIndex;
use crate::gitlab::ProjectSnapshot;

use super::activity::ActivityKind;
use super::key::Key;

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
    /// Commands proposed by the planner or rules: they enter `AppState::commands` (validated
    /// against the current snapshot, checked against policy, de-duplicated).
    Propose {
        commands: Vec<Command>,
        source: Source,
    },
    /// An execution finished (the executor already wrote its audit record).
    Executed(Box<ExecReport>),
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

#[derive(Debug, Clone, PartialEq)]
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
    /// Start planner run `run` (the runtime cancels any older one).
    Plan {
        run: u64,
    },
    /// Diagnose this failed job (fetching its trace if the panel has none).
    Diagnose {
        job_id: u64,
    },
    /// Append these records to the audit log (fsync'd) before the frame that shows them.
    Audit(Vec<AuditRecord>),
    /// Run an approved command: `command::executor::spawn` with the runtime's current client
    /// and `AppState::snapshot` (the latest).
    Execute(Box<Ticket>),
    /// Repaint every cell (after resume or when the screen may be garbled).
    ForceRedraw,
}
