//! The terminal: guard, event loop, one file per pane, theme. Only this module uses ratatui
//! and crossterm.

pub mod activity;
pub mod detail;
pub mod draw;
pub mod filter;
pub mod header;
pub mod help;
pub mod logview;
pub mod mrs;
pub mod palette;
pub mod pipelines;
pub mod queue;
pub mod statusbar;
pub mod theme;
pub mod widgets;

#[cfg(test)]
mod tests;

use std::process::ExitCode;

use crate::cli::{DemoArgs, GlobalArgs};

pub async fn run_live(_global: GlobalArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the TUI is not built yet")
}

pub async fn run_demo(_global: GlobalArgs, _args: DemoArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the TUI is not built yet")
}
