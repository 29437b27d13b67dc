//! The terminal: guard, event loop, panes, theme, keymap, help.

use std::process::ExitCode;

use crate::cli::{DemoArgs, GlobalArgs};

pub async fn run_live(_global: GlobalArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the TUI is not built yet")
}

pub async fn run_demo(_global: GlobalArgs, _args: DemoArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the TUI is not built yet")
}
