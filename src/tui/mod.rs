//! The terminal: guard, event loop, one file per pane, theme. Only this module uses ratatui
//! and crossterm.

pub mod activity;
pub mod detail;
pub mod diagnosis;
pub mod dialogs;
pub mod draw;
pub mod filter;
pub mod header;
pub mod help;
pub mod hyperlinks;
pub mod inbox;
pub mod input;
pub mod links;
pub mod logview;
pub mod mrs;
pub mod overview;
pub mod palette;
pub mod pipelines;
pub mod queue;
pub mod runtime;
pub mod sgr;
pub mod statusbar;
pub mod terminal;
pub mod theme;
pub mod widgets;

#[cfg(test)]
mod props;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_ai;
#[cfg(test)]
mod tests_theme;
