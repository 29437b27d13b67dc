//! The overview (`0`, and the first screen when several projects are watched): one row per
//! watched project of every instance, what needs attention first. Enter opens the selected
//! project's panes. Fed by the overview pollers (`Msg::Overview`); no request of its own.

use std::collections::BTreeMap;

use crate::gitlab::overview::{ProjectSummary, sort_rows};
use crate::gitlab::overview_poller::OverviewEvent;

use super::activity::ActivityKind;
use super::msg::Effect;
use super::state::{AppState, View, Watched};

/// What the overview pollers told.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    /// Every instance's rows, most attention first.
    pub rows: Vec<ProjectSummary>,
    /// The signed-in user per instance.
    pub users: BTreeMap<usize, String>,
    /// Projects the user is a member of, per instance (`:project` completes from them).
    pub memberships: Vec<Watched>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverviewView {
    pub selected: usize,
}

pub fn on_event(state: &mut AppState, ev: OverviewEvent) {
    match ev {
        OverviewEvent::User { instance, username } => {
            state.overview.users.insert(instance, username);
        }
        OverviewEvent::Rows { instance, rows } => {
            // The selection stays on its project when rows move; before any row, it starts on
            // the project on screen.
            let selected = selected_row(state)
                .map(|r| (r.instance, r.path.clone()))
                .or_else(|| Some((state.settings.instance, state.settings.project.clone())));
            state.overview.rows.retain(|r| r.instance != instance);
            for r in &rows {
                let w = Watched {
                    instance,
                    path: r.path.clone(),
                };
                if r.id != 0 && !state.settings.watched.contains(&w) {
                    state.settings.watched.push(w);
                }
            }
            state.overview.rows.extend(rows);
            sort_rows(&mut state.overview.rows);
            if let (View::Overview(v), Some((i, p))) = (&mut state.view, selected)
                && let Some(at) = state
                    .overview
                    .rows
                    .iter()
                    .position(|r| r.instance == i && r.path.eq_ignore_ascii_case(&p))
            {
                v.selected = at;
            }
        }
        OverviewEvent::Memberships { instance, paths } => {
            state
                .overview
                .memberships
                .retain(|w| w.instance != instance);
            state
                .overview
                .memberships
                .extend(paths.into_iter().map(|path| Watched { instance, path }));
        }
        OverviewEvent::Problem { instance, message } => {
            let name = state
                .settings
                .instances
                .get(instance)
                .cloned()
                .unwrap_or_default();
            state.activity.push(
                state.now,
                ActivityKind::Error,
                format!("overview {name}: {message}"),
            );
        }
    }
    state.dirty = true;
}

pub fn selected_row(state: &AppState) -> Option<&ProjectSummary> {
    match &state.view {
        View::Overview(v) => state.overview.rows.get(v.selected),
        _ => None,
    }
}

/// `0`: the overview, or back to the panes.
pub fn toggle(state: &mut AppState) {
    state.view = match state.view {
        View::Overview(_) => View::Main,
        _ => {
            // Open on the project on screen.
            let at = state
                .overview
                .rows
                .iter()
                .position(|r| {
                    r.instance == state.settings.instance
                        && r.path.eq_ignore_ascii_case(&state.settings.project)
                })
                .unwrap_or(0);
            View::Overview(OverviewView { selected: at })
        }
    };
    state.dirty = true;
}

pub fn move_selection(state: &mut AppState, delta: isize) {
    let n = state.overview.rows.len();
    if let View::Overview(v) = &mut state.view {
        let last = n.saturating_sub(1) as isize;
        v.selected = (v.selected as isize).saturating_add(delta).clamp(0, last) as usize;
        state.dirty = true;
    }
}

/// Enter: the selected project's panes (switching to it when it is not the one on screen).
pub fn open(state: &mut AppState, fx: &mut Vec<Effect>) {
    let Some(row) = selected_row(state) else {
        return;
    };
    let target = Watched {
        instance: row.instance,
        path: row.path.clone(),
    };
    state.view = View::Main;
    state.dirty = true;
    if target.instance == state.settings.instance
        && target.path.eq_ignore_ascii_case(&state.settings.project)
    {
        return;
    }
    super::update::switch_project(state, target, fx);
}

/// Where `:project` completes from: the watched projects (named and listed by groups), then
/// the user's memberships, each once.
pub fn candidates(state: &AppState) -> Vec<Watched> {
    let mut out: Vec<Watched> = state.settings.watched.clone();
    for w in &state.overview.memberships {
        if !out.contains(w) {
            out.push(w.clone());
        }
    }
    out
}

/// How well `wanted` names `path`: a substring beats a subsequence (fuzzy: `acpl` finds
/// `acme/platform`); a shorter path wins among equals. `None`: no match.
pub fn fuzzy_score(path: &str, wanted: &str) -> Option<(u8, usize)> {
    let p = path.to_ascii_lowercase();
    let w = wanted.to_ascii_lowercase();
    if p == w {
        return Some((0, 0));
    }
    if p.rsplit('/').next() == Some(w.as_str()) {
        return Some((1, p.len()));
    }
    if p.contains(&w) {
        return Some((2, p.len()));
    }
    let mut chars = p.chars();
    w.chars()
        .all(|c| chars.any(|x| x == c))
        .then_some((3, p.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_prefers_exact_then_name_then_substring_then_subsequence() {
        assert_eq!(fuzzy_score("acme/web", "acme/web"), Some((0, 0)));
        assert_eq!(fuzzy_score("acme/web", "web"), Some((1, 8)));
        assert_eq!(fuzzy_score("acme/webhooks", "web"), Some((2, 13)));
        assert_eq!(fuzzy_score("acme/platform", "acpl"), Some((3, 13)));
        assert_eq!(fuzzy_score("acme/platform", "zz"), None);
    }
}
