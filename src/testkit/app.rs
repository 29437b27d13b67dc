//! `AppState` as the runtime holds it after the first poll, and keys typed into `update`.

use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::app::{AppState, Effect, Key, KeyCode, Keymap, Msg, PlannerInfo, Settings, update};
use crate::command::Source;
use crate::command::operator::{Selection, from_palette};
use crate::gitlab::ProjectSnapshot;
#[cfg(feature = "sim")]
use crate::sim::SimHandle;

/// Builds an `AppState`: default keymap, UTC, the terminal size, then the first snapshot.
/// Defaults: `gitlab.test`, `acme/platform`, demo, the rules planner, 120x40, the hand-made
/// snapshot at `NOW`.
#[derive(Clone)]
pub struct AppBuilder {
    settings: Settings,
    provider: String,
    size: (u16, u16),
    snapshot: Option<Arc<ProjectSnapshot>>,
    now: Timestamp,
}

impl Default for AppBuilder {
    fn default() -> Self {
        AppBuilder {
            settings: Settings {
                host: "gitlab.test".into(),
                project: "acme/platform".into(),
                watched: vec![crate::app::state::Watched::on_first("acme/platform")],
                instances: vec!["gitlab.test".into()],
                instance: 0,
                overview: false,
                read_only: false,
                ascii: false,
                demo: true,
            },
            provider: "rules".into(),
            size: (120, 40),
            snapshot: Some(Arc::new(super::snapshot())),
            now: super::now(),
        }
    }
}

impl AppBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Host, project and clock of a running simulator; no snapshot yet (fetch one from it).
    #[cfg(feature = "sim")]
    pub fn for_sim(sim: &SimHandle) -> Self {
        let mut b = Self::default().host(&sim.addr().to_string()).now(sim.now());
        b.settings.project = sim.project_path();
        b.snapshot = None;
        b
    }

    pub fn size(mut self, w: u16, h: u16) -> Self {
        self.size = (w, h);
        self
    }

    pub fn host(mut self, host: &str) -> Self {
        self.settings.host = host.into();
        self
    }

    pub fn demo(mut self, demo: bool) -> Self {
        self.settings.demo = demo;
        self
    }

    pub fn read_only(mut self, read_only: bool) -> Self {
        self.settings.read_only = read_only;
        self
    }

    /// The planner as the header names it (`rules`, `gemini gemini-2.5-flash`).
    pub fn provider(mut self, provider: &str) -> Self {
        self.provider = provider.into();
        self
    }

    pub fn now(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    /// The first snapshot; its project path becomes the settings' project.
    pub fn snapshot(mut self, snap: Arc<ProjectSnapshot>) -> Self {
        self.settings.project = snap.path().to_string();
        self.snapshot = Some(snap);
        self
    }

    /// No snapshot: the state before the first poll answers.
    pub fn without_snapshot(mut self) -> Self {
        self.snapshot = None;
        self
    }

    /// `AppState::new` alone: no size and no snapshot yet, as the runtime starts.
    pub fn bare(self) -> AppState {
        AppState::new(
            self.settings,
            Keymap::defaults(),
            PlannerInfo {
                provider: self.provider,
                state: "idle".into(),
                tokens: 0,
            },
            self.now,
            TimeZone::UTC,
        )
    }

    pub fn build(self) -> AppState {
        let (size, snapshot) = (self.size, self.snapshot.clone());
        let mut s = self.bare();
        let (w, h) = size;
        update(&mut s, Msg::Resize { w, h });
        if let Some(snapshot) = snapshot {
            update(&mut s, Msg::Snapshot { epoch: 0, snapshot });
        }
        s
    }
}

/// The default app at `w` x `h`.
pub fn app_state(w: u16, h: u16) -> AppState {
    AppBuilder::new().size(w, h).build()
}

/// One key, as the keymap spells it (`j`, `ctrl-d`, `enter`), through `update`.
pub fn press(s: &mut AppState, spec: &str) -> Vec<Effect> {
    let key = Key::parse(spec).unwrap_or_else(|e| panic!("key {spec:?}: {e}"));
    update(s, Msg::Key(key))
}

/// Several keys in order; the effects of all of them.
pub fn press_all(s: &mut AppState, specs: &[&str]) -> Vec<Effect> {
    specs.iter().flat_map(|k| press(s, k)).collect()
}

/// Text typed character by character (into the palette, a filter, an editor); `\n` is Enter.
pub fn type_text(s: &mut AppState, text: &str) {
    for c in text.chars() {
        let key = if c == '\n' {
            Key::plain(KeyCode::Enter)
        } else {
            Key::char(c)
        };
        update(s, Msg::Key(key));
    }
}

/// A command typed in the palette (`:retry`) for the selected row, proposed by the operator.
pub fn propose(s: &mut AppState, line: &str, sel: Selection) -> Vec<Effect> {
    let snap = s.snapshot.clone().expect("a snapshot to propose against");
    let cmd = from_palette(line, sel, &snap).unwrap_or_else(|e| panic!("{line}: {e}"));
    update(
        s,
        Msg::Propose {
            commands: vec![cmd],
            source: Source::Operator,
        },
    )
}
