//! `AppState`: everything the screen shows, owned by the UI task and changed only by `update`.

use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::command::queue::BulkPreview;
use crate::command::{Policy, Queue};
use crate::gitlab::ProjectSnapshot;

use super::activity::Activity;
use super::detail::{self, ToneLine};
use super::input::LineInput;
use super::keymap::{Context, Keymap};
use super::layout::{Layout, Pane};
use super::logview::LogView;
use super::metrics::Metrics;
use super::mrs::MrList;
use super::pipelines::PipelineTree;
use super::queue::QueueView;

/// Fixed facts about this session.
#[derive(Debug, Clone)]
pub struct Settings {
    /// GitLab host as shown (`gitlab.example.com`, `127.0.0.1:41233`).
    pub host: String,
    /// Project full path (the one on screen).
    pub project: String,
    /// Every watched project of every instance (`--project a --project b`, and the projects
    /// groups list as the overview learns them): `:project` alone moves to the next,
    /// `:project name` completes from these (and from memberships).
    pub watched: Vec<Watched>,
    /// The instances' names as shown (`gitlab.com`, `corp`), by index.
    pub instances: Vec<String>,
    /// The instance of the project on screen.
    pub instance: usize,
    /// Several projects may be watched (several named, a group, or another instance): the
    /// overview is the first screen.
    pub overview: bool,
    pub read_only: bool,
    pub ascii: bool,
    /// Running against the embedded simulator.
    pub demo: bool,
}

/// A project on an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub instance: usize,
    pub path: String,
}

impl Watched {
    pub fn on_first(path: &str) -> Watched {
        Watched {
            instance: 0,
            path: path.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conn {
    Connecting,
    Live,
    Error(String),
}

/// A failing refresh the poller will try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// Which try failed (1-based); `poller::QUICK_TRIES` quick ones, then a slower backoff.
    pub attempt: u32,
    /// When the next try goes out (monotonic).
    pub at: std::time::Instant,
    pub error: String,
}

/// How fresh what is on screen is, as the header and the panes say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// Nothing arrived yet.
    Connecting,
    /// The last successful poll is recent (within twice the refresh period).
    Live,
    /// The last successful poll is older than twice the refresh period: the data is from then.
    Stale { since: Timestamp },
}

/// What the header says about the planner. The planner itself is wired in by its own module;
/// until it reports, this shows the configured provider with zero tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannerInfo {
    pub provider: String,
    pub state: String,
    pub tokens: u64,
}

#[derive(Debug, Clone)]
pub enum View {
    Main,
    Log(Box<LogView>),
    Detail {
        iid: u64,
        scroll: usize,
    },
    /// The diagnosis panel of a failed job (`d`).
    Diagnosis(Box<super::diagnosis::DiagView>),
    /// Current failures grouped by cause (`F`).
    Inbox(super::inbox::InboxView),
    /// Every watched project, one row each (`0`).
    Overview(super::overview::OverviewView),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputPurpose {
    Palette,
    Filter(Pane),
    LogSearch,
    /// The optional reason for rejecting this queue item.
    Reject(u64),
}

#[derive(Debug, Clone)]
pub enum Overlay {
    None,
    Help {
        scroll: usize,
    },
    Input {
        purpose: InputPurpose,
        input: LineInput,
        /// Text to restore on Esc (a live filter is applied while typing).
        before: String,
    },
    /// A queue item's details: why, evidence, the exact requests and preconditions.
    Details {
        id: u64,
        scroll: usize,
    },
    /// High-risk second confirmation: the operator types `phrase` (`merge !42`); anything
    /// else, Enter on an empty line included, is No.
    Confirm {
        id: u64,
        phrase: String,
        /// The target with its title, shown in the dialog.
        target: String,
        input: LineInput,
    },
    /// Bulk approval: every marked target listed; `y` approves, anything else is No.
    Bulk {
        preview: BulkPreview,
    },
    /// `q` at the top with proposals waiting or marked: `y` quits, anything else stays.
    QuitConfirm {
        waiting: usize,
        marked: usize,
    },
    /// Editing a queue item's editable fields (comment body, labels, reviewers).
    Edit {
        id: u64,
        editor: Box<ratatui_textarea::TextArea<'static>>,
        error: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub settings: Settings,
    /// What the overview pollers told (several projects watched).
    pub overview: super::overview::Overview,
    pub keymap: Keymap,
    pub planner: PlannerInfo,
    /// Planner runs: in flight, summary, cost.
    pub plan: super::planner::PlanPane,
    pub snapshot: Option<Arc<ProjectSnapshot>>,
    /// Poller epoch: bumped on project switch; older results are dropped.
    pub epoch: u64,
    pub conn: Conn,
    /// Last successful poll (a refresh that worked, even without changes), on the app's clock.
    pub last_contact: Option<Timestamp>,
    /// The same moment on the monotonic clock: staleness is decided on it (a frozen demo clock
    /// or a wall-clock jump cannot hide a hung GitLab).
    pub last_success_mono: Option<std::time::Instant>,
    /// The failing refresh the poller will try again, if any.
    pub retry: Option<Retry>,
    /// The poller's refresh period: data older than twice this is stale.
    pub refresh_period: std::time::Duration,
    /// Targets being looked up in GitLab because the snapshot does not hold them.
    pub looking_up: std::collections::BTreeSet<crate::command::model::Target>,
    /// Targets GitLab says it does not have (or not in a state the snapshot keeps), and why.
    pub not_in_gitlab: std::collections::BTreeMap<crate::command::model::Target, String>,
    pub requests_total: u64,
    pub requests_per_min: Option<u32>,
    pub metrics: Metrics,
    /// Wall clock, set by the runtime before each update (tests fix it).
    pub now: Timestamp,
    /// Monotonic clock, set with `now`: the planner's debounce and interval count in it.
    pub mono: std::time::Instant,
    /// When the planner runs on its own (debounced significant events, interval). `update`
    /// owns it: the one path that starts a run is `planner::start`.
    pub trigger: crate::plan::trigger::Trigger,
    pub tz: TimeZone,
    pub width: u16,
    pub height: u16,
    pub layout: Layout,
    pub focus: Pane,
    pub view: View,
    pub overlay: Overlay,
    pub mrs: MrList,
    pub pipelines: PipelineTree,
    pub queue: QueueView,
    /// The command queue: proposals, decisions, executions. `queue` shows it.
    pub commands: Queue,
    /// Background diagnoses of failed jobs (causes on the pipeline and MR rows).
    pub causes: super::causes::Causes,
    pub activity: Activity,
    pub notice: Option<Notice>,
    /// Something visible may have changed since the last draw.
    pub dirty: bool,
    pub(super) sent_visible: Option<(Vec<u64>, Vec<u64>)>,
    /// The page of changed files last asked for (MR iid, page): "loading more files…" until
    /// the snapshot moves past it.
    pub diff_requested: Option<(u64, u32)>,
    /// A poll error arrived since the last request report: the refresh it ended failed.
    pub(super) failed_since_requests: bool,
}

impl AppState {
    pub fn new(
        settings: Settings,
        keymap: Keymap,
        planner: PlannerInfo,
        now: Timestamp,
        tz: TimeZone,
    ) -> AppState {
        let (width, height) = (80, 24);
        let settings_read_only = settings.read_only;
        // Several projects watched: the overview is the first screen.
        let view = if settings.overview {
            View::Overview(Default::default())
        } else {
            View::Main
        };
        AppState {
            overview: Default::default(),
            diff_requested: None,
            settings,
            keymap,
            planner,
            plan: Default::default(),
            snapshot: None,
            epoch: 0,
            conn: Conn::Connecting,
            last_contact: None,
            last_success_mono: None,
            retry: None,
            refresh_period: std::time::Duration::from_secs(12),
            looking_up: Default::default(),
            not_in_gitlab: Default::default(),
            requests_total: 0,
            requests_per_min: None,
            metrics: Metrics::default(),
            now,
            mono: std::time::Instant::now(),
            trigger: crate::plan::trigger::Trigger::new(
                Default::default(),
                std::time::Instant::now(),
            ),
            tz,
            width,
            height,
            layout: Layout::compute(width, height, Pane::Mrs),
            focus: Pane::Mrs,
            view,
            overlay: Overlay::None,
            mrs: MrList::default(),
            pipelines: PipelineTree::default(),
            queue: QueueView::default(),
            // The runtime replaces this with the configured policy and real ids.
            causes: Default::default(),
            commands: Queue::new(
                Policy {
                    read_only: settings_read_only,
                    ..Policy::default()
                },
                "operator",
                "session",
            ),
            activity: Activity::default(),
            notice: None,
            dirty: true,
            sent_visible: None,
            failed_since_requests: false,
        }
    }

    /// The next moment `update` wants a `Msg::Timer`, if any: the planner's schedule, the
    /// moment the data turns stale, and (while a refresh is failing) each second of the
    /// countdown to its next try.
    pub fn deadline(&self) -> Option<std::time::Instant> {
        let stale_at = self
            .last_success_mono
            .map(|t| t + 2 * self.refresh_period)
            .filter(|t| *t > self.mono);
        let retry_tick = self
            .retry
            .as_ref()
            .filter(|r| r.at > self.mono)
            .map(|r| r.at.min(self.mono + std::time::Duration::from_secs(1)));
        [self.trigger.deadline(), stale_at, retry_tick]
            .into_iter()
            .flatten()
            .min()
    }

    pub fn freshness(&self) -> Freshness {
        match (self.last_contact, self.last_success_mono) {
            (Some(since), Some(mono))
                if self.mono.saturating_duration_since(mono) > 2 * self.refresh_period =>
            {
                Freshness::Stale { since }
            }
            (Some(_), Some(_)) => Freshness::Live,
            _ => Freshness::Connecting,
        }
    }

    /// "STALE, data from 09:14:03" for the panes, when the data is stale.
    pub fn stale_note(&self) -> Option<String> {
        match self.freshness() {
            Freshness::Stale { since } => Some(format!(
                "STALE, data from {}",
                since
                    .to_zoned_datetime(self.tz.clone())
                    .strftime("%H:%M:%S")
            )),
            _ => None,
        }
    }

    /// "retrying (2/4) in 3s" while a refresh is failing.
    pub fn retry_note(&self) -> Option<String> {
        let r = self.retry.as_ref()?;
        let secs =
            r.at.saturating_duration_since(self.mono)
                .as_secs_f64()
                .ceil() as u64;
        let tries = crate::gitlab::poller::QUICK_TRIES;
        let when = if secs == 0 {
            "now".to_string()
        } else {
            format!("in {secs}s")
        };
        Some(if r.attempt < tries {
            format!("retrying ({}/{tries}) {when}", r.attempt + 1)
        } else {
            format!("retrying {when}")
        })
    }

    /// Key contexts for the current view, most specific first.
    pub fn contexts(&self) -> &'static [Context] {
        use Context::*;
        match &self.view {
            View::Log(_) => &[Log, Scroll, Global],
            View::Detail { .. } => &[Detail, Scroll, Global],
            View::Diagnosis(_) | View::Inbox(_) | View::Overview(_) => &[List, Scroll, Global],
            View::Main => match self.focus {
                Pane::Mrs => &[Mrs, List, Scroll, Global],
                Pane::Pipelines => &[Pipelines, List, Scroll, Global],
                Pane::Queue => &[Queue, List, Scroll, Global],
                Pane::Activity => &[List, Scroll, Global],
            },
        }
    }

    pub fn detail_lines(&self, iid: u64) -> Vec<ToneLine> {
        match &self.snapshot {
            Some(s) => detail::build(
                s,
                iid,
                // Drawn inside the border with one column of margin each side.
                self.layout.view_cols().saturating_sub(2),
                self.now,
                self.settings.ascii,
                self.diff_loading(iid),
            ),
            None => Vec::new(),
        }
    }

    /// The next page of MR `iid`'s changed files was asked for and has not arrived.
    pub fn diff_loading(&self, iid: u64) -> bool {
        let next = self
            .snapshot
            .as_deref()
            .and_then(|s| detail::next_diff_page(s, iid));
        matches!((self.diff_requested, next), (Some((i, p)), Some(n)) if i == iid && p == n)
    }

    pub fn log_view(&self) -> Option<&LogView> {
        match &self.view {
            View::Log(v) => Some(v),
            _ => None,
        }
    }
}
