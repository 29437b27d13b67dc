//! Pure application state and logic: `update(&mut AppState, Msg) -> Vec<Effect>`. No IO, no async,
//! no drawing (the command editor keeps its text in a `ratatui_textarea::TextArea`, which is plain
//! state): the terminal side (`crate::tui`) turns events into `Msg`s, performs the
//! `Effect`s and draws the state.

pub mod activity;
pub mod approvals;
pub mod causes;
pub mod commands;
pub mod detail;
pub mod diagnosis;
pub mod help;
pub mod inbox;
pub mod input;
pub mod key;
pub mod keymap;
pub mod layout;
pub mod links;
pub mod list;
pub mod logscan;
pub mod logview;
pub mod metrics;
pub mod mrs;
pub mod msg;
pub mod overview;
pub mod palette;
pub mod pipelines;
pub mod planner;
pub mod queue;
pub mod state;
pub mod symbols;
pub mod text;
pub mod threads;
mod update;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_ai;

pub use key::{Key, KeyCode, Mods};
pub use keymap::{Action, Context, Keymap};
pub use layout::{Layout, Pane};
pub use msg::{Effect, Msg};
pub use state::{AppState, Conn, PlannerInfo, Settings, View};
pub use update::update;
