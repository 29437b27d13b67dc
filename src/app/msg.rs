//! What flows into `update` (messages) and out of it (effects). The terminal effects (quit,
//! suspend, redraw) are the TUI's; every other effect is performed by the driver, and carries
//! the data it needs so the driver never reads `AppState`.

use std::sync::Arc;

use crate::command::audit::AuditRecord;
use crate::command::executor::ExecReport;
use crate::command::model::Target;
use crate::command::queue::Ticket;
use crate::command::{Command, Source};
use crate::diagnose::log::LogIndex;
use crate::diagnose::model::JobContext;
use crate::gitlab::ProjectSnapshot;

use super::activity::ActivityKind;
use super::key::Key;

#[derive(Debug, Clone)]
pub enum Msg {
    Key(Key),
    /// The overview of an instance (several projects watched): rows, who I am, memberships.
    Overview(crate::gitlab::overview_poller::OverviewEvent),
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
    /// A refresh failed. `attempt` counts the tries of this failure (1-based); the next try
    /// goes out after `retry_in`.
    PollError {
        epoch: u64,
        error: String,
        attempt: u32,
        retry_in: std::time::Duration,
    },
    Requests {
        epoch: u64,
        total: u64,
        last_minute: u32,
    },
    /// A lookup (`Effect::Lookup`) finished: the snapshot before this holds what was found;
    /// `missing` is what GitLab does not have (or not in a state the snapshot keeps), and why.
    LookedUp {
        epoch: u64,
        done: Vec<Target>,
        missing: Vec<(Target, String)>,
    },
    /// A job's trace, parsed off the UI task.
    JobLog {
        job_id: u64,
        index: Arc<LogIndex>,
        complete: bool,
    },
    /// Progress or result of a log search / first-error scan run off the UI task.
    LogScan(super::logscan::ScanMsg),
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
    /// A background diagnosis of a newly failed job finished (rules only).
    Cause(Box<super::causes::CauseMsg>),
    /// A one-line result for the status line (what `o` or `y` did).
    Notice(String),
    /// Slow clock tick (about once a minute) so ages stay right; `AppState::now` was updated.
    Tick,
    /// `AppState::deadline()` passed (the planner's debounce or interval): `update` decides
    /// whether a run starts. The runtime sets no other timer for the app.
    Timer,
    /// Back from a suspend (Ctrl-Z, fg): the screen must be repainted.
    Resumed,
}

/// Shared data in an effect, compared by identity: effects are compared in tests, and a
/// snapshot or a parsed trace is the same one or not.
#[derive(Clone)]
pub struct Shared<T>(pub Arc<T>);

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared(..)")
    }
}

/// What a diagnosis needs: the job, what is known about it, and the trace when it is on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagnoseRequest {
    pub job_id: u64,
    /// The project's numeric id, to fetch the trace (none before the first snapshot).
    pub project_id: Option<u64>,
    pub ctx: JobContext,
    /// The trace already parsed for the log viewer: not fetched again.
    pub index: Option<Shared<LogIndex>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Terminal: leave.
    Quit,
    /// Terminal: Ctrl-Z.
    Suspend,
    /// Terminal: repaint every cell (after resume or when the screen may be garbled).
    ForceRedraw,
    /// Ask the poller for an immediate refresh.
    Refresh,
    /// Open a GitLab page (an http(s) URL) in the browser, or say it where there is no display.
    OpenUrl {
        what: String,
        url: String,
    },
    /// Put a GitLab page's address on the terminal's clipboard (OSC 52).
    CopyUrl {
        what: String,
        url: String,
    },
    /// The MRs and pipelines on screen: details (approvals, jobs) are fetched only for these.
    SetVisible {
        mrs: Vec<u64>,
        pipelines: Vec<u64>,
    },
    /// The job whose log is on screen (re-fetched while it runs), or none.
    WatchJobLog(Option<u64>),
    FetchMrDetail(u64),
    /// The next page of an MR's changed files (the detail reached the last one loaded).
    FetchMoreDiffs {
        iid: u64,
        page: u32,
    },
    /// Fetch objects a command or a view refers to that the snapshot does not hold (and keep
    /// them), so nothing is called "not found" that GitLab has.
    Lookup(Vec<Target>),
    /// Load the project's members into the snapshot (reviewer proposals are checked against
    /// them).
    FetchMembers,
    /// Stop the current poller and start one for this project (new epoch).
    SwitchProject {
        project: String,
        epoch: u64,
        /// The project's instance (index into the session's clients).
        instance: usize,
    },
    /// Turn read-only on for the rest of the session (every task's client).
    ReadOnly,
    /// Start planner run `run` on `project`, cancelling any older one.
    Plan {
        run: u64,
        project: String,
    },
    /// Stop the run in flight (its request is dropped).
    CancelPlan,
    /// Search a big log (or find its first error) off the UI task, replacing any scan in
    /// flight; progress and result come back as `Msg::LogScan`.
    LogScan(Box<super::logscan::ScanRequest>),
    /// Stop the scan in flight (Esc, or its log view closed).
    CancelLogScan,
    /// Diagnose a failed job (fetching its trace unless it is given).
    Diagnose(Box<DiagnoseRequest>),
    /// Diagnose newly failed jobs in the background with the rules engine (never a model),
    /// each from the tail of its trace; one `Msg::Cause` per job.
    DiagnoseInBackground(Box<super::causes::CauseRequest>),
    /// Append these records to the audit log (fsync'd) before the frame that shows them.
    Audit(Vec<AuditRecord>),
    /// Run an approved command; the executor re-checks it against fresh state, using this
    /// snapshot (the newest) for what it cannot fetch.
    Execute {
        ticket: Box<Ticket>,
        snapshot: Shared<ProjectSnapshot>,
    },
}
